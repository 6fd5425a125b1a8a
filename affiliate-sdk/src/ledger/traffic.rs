//! Traffic earnings: a campaign's paid clicks (`click_flat`) and impressions
//! (`impression_per_mille`) of one partner on one UTC day become ledger entries once the
//! day is over, one per beneficiary level, of kind [`EntryKind::Traffic`], under the
//! reference `YYYY-MM-DD/campaign/partner` and no order id.
//!
//! * The referring partner's amount is the day's click commission plus its impression
//!   commission rounded to minor units (half away from zero); each ancestor's override
//!   is its percentage of that amount, rounded the same way, as for a conversion.
//! * The entries are pending until the campaign's `approve_after_days` have passed since
//!   the end of the day (payable at once when it is 0), then payable.
//! * Rejected before a payout took them, they are void; after, a clawback of what went
//!   out is owed back — the same rules as a conversion's entries
//!   ([`apply_status`](super::apply_status)).

use super::{Entry, EntryId, EntryKind, EntryState};
use crate::records::Commission;

/// The referring partner's traffic earnings of a day, in minor units: the click
/// commission and the impression commission (in thousandths of a minor unit) rounded
/// half away from zero.
#[must_use]
pub fn traffic_minor(click_minor: u64, impression_milli: u64) -> u64 {
    click_minor.saturating_add(impression_milli.saturating_add(500) / 1000)
}

/// The entries of a day's traffic under `reference`, one per commission with an amount
/// (`commissions`: the referring partner's at level 0 and its ancestors' overrides), in
/// `state`; `payable_at` is when a payable entry became payable.
#[must_use]
pub fn traffic_entries(
    reference: &str,
    commissions: &[Commission],
    state: EntryState,
    payable_at: Option<u64>,
) -> Vec<Entry> {
    commissions
        .iter()
        .filter(|c| c.amount.minor() > 0)
        .map(|c| Entry {
            id: EntryId {
                order_id: String::new(),
                level: c.level,
                kind: EntryKind::Traffic,
                reference: reference.to_owned(),
            },
            partner: c.partner,
            currency: c.amount.currency(),
            amount_minor: c.amount.minor(),
            state,
            payable_at: payable_at.filter(|_| state == EntryState::Payable),
            payout: None,
            note: None,
        })
        .collect()
}

/// The ids a day's traffic entries under `reference` may have: its earnings and their
/// clawbacks, at every level an override plan can reach.
#[must_use]
pub fn traffic_ids(reference: &str) -> Vec<EntryId> {
    (0..=super::MAX_LEVEL)
        .flat_map(|level| {
            [EntryKind::Traffic, EntryKind::Clawback].map(|kind| EntryId {
                order_id: String::new(),
                level,
                kind,
                reference: reference.to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::Code;
    use crate::money::Money;

    #[test]
    fn impressions_round_half_away_from_zero_and_add_to_clicks() {
        assert_eq!(traffic_minor(4000, 0), 4000);
        assert_eq!(traffic_minor(0, 499), 0);
        assert_eq!(traffic_minor(0, 500), 1);
        assert_eq!(traffic_minor(10, 2_500), 13);
        assert_eq!(traffic_minor(u64::MAX, u64::MAX), u64::MAX);
    }

    #[test]
    fn one_entry_per_level_with_an_amount() {
        let usd = |minor| Money::from_minor(minor, crate::money::Currency::new("USD").unwrap());
        let c = |p: &str, level, minor| Commission {
            partner: Code::new(p).unwrap(),
            level,
            amount: usd(minor),
        };
        let entries = traffic_entries(
            "2026-12-01/cpc/p",
            &[c("p", 0, 4000), c("q", 1, 800), c("r", 2, 0)],
            EntryState::Pending,
            Some(5),
        );
        assert_eq!(entries.len(), 2);
        assert!(entries.iter().all(|e| e.id.kind == EntryKind::Traffic
            && e.id.order_id.is_empty()
            && e.id.reference == "2026-12-01/cpc/p"
            && e.payable_at.is_none()));
        assert_eq!(
            (entries[1].partner.as_str(), entries[1].amount_minor),
            ("q", 800)
        );
        assert_eq!(
            traffic_ids("x").len(),
            2 * (usize::from(crate::ledger::MAX_LEVEL) + 1)
        );
    }

    #[test]
    fn a_failed_payout_voids_a_rejected_days_earning_and_clawback_and_no_other_days() {
        use crate::ledger::{PayoutStatus, apply_payout_status, apply_status};
        use crate::records::Status;
        let usd = crate::money::Currency::new("USD").unwrap();
        let c = |minor| Commission {
            partner: Code::new("p").unwrap(),
            level: 0,
            amount: Money::from_minor(minor, usd),
        };
        let mut day1 = traffic_entries("2026-12-01/cpc/p", &[c(100)], EntryState::Payable, Some(1));
        let day2 = traffic_entries("2026-12-02/cpc/p", &[c(100)], EntryState::Payable, Some(1));
        // Day 1 in a payout, then rejected: a clawback of what went out.
        day1[0].state = EntryState::InPayout;
        day1[0].payout = Some("po_1".into());
        let clawbacks = apply_status(&mut day1, Status::Rejected, 2).unwrap();
        assert_eq!(clawbacks.len(), 1);
        assert_eq!(clawbacks[0].id.reference, "2026-12-01/cpc/p");
        let mut all: Vec<Entry> = day1.into_iter().chain(clawbacks).chain(day2).collect();
        // The payout fails: nothing went out, nothing is owed back for day 1; day 2
        // stays payable.
        apply_payout_status(
            &mut all,
            "po_1",
            PayoutStatus::Pending,
            PayoutStatus::Failed,
        )
        .unwrap();
        let states: Vec<(&str, EntryKind, EntryState)> = all
            .iter()
            .map(|e| (&e.id.reference[..10], e.id.kind, e.state))
            .collect();
        assert_eq!(
            states,
            [
                ("2026-12-01", EntryKind::Traffic, EntryState::Void),
                ("2026-12-01", EntryKind::Clawback, EntryState::Void),
                ("2026-12-02", EntryKind::Traffic, EntryState::Payable),
            ]
        );
    }
}
