//! Partial refunds: what each beneficiary gives back when part of an order's amount is
//! refunded, and the full refund that reverses the conversion.
//!
//! Each level's clawback is proportional and rounded down, cumulatively: after refunds
//! totalling `R` of an order of amount `A`, a commission `c` has given back
//! `floor(c × R / A)` minor units, so a refund's entry is the difference that refund
//! makes. The clawbacks of an order therefore never exceed what it earned, and a refund
//! reaching the whole amount returns exactly what remains (the conversion is then
//! `reversed`, [`apply_status`](super::apply_status)).

use super::{Entry, EntryId, EntryKind, EntryState, apply_status};
use crate::error::{Error, Result};
use crate::money::format_minor;
pub use crate::records::clawed_back;
use crate::records::{Conversion, Refund, Status};

/// Applies `refund` at `now` to `conversion` and its entries (`entries`: all of that
/// order's): returns the conversion as it now reads (the refund added; `reversed` when
/// the refunds reach the whole amount) and the entries to write (the refund's entries,
/// one per level that gives something back, in the state of the commission: pending
/// while it is pending, otherwise owed back; on a full refund, the entries the reversal
/// moves and its clawbacks).
///
/// Refused, changing nothing: a refund of a rejected or reversed conversion, or of one
/// with nothing to refund (`invalid_transition`), in another currency or above what
/// remains (`malformed`). The refund id is checked by the caller (a replay).
pub fn apply_refund(
    conversion: &Conversion,
    entries: &[Entry],
    refund: &Refund,
    now: u64,
) -> Result<(Conversion, Vec<Entry>)> {
    if !matches!(
        conversion.status,
        Status::Pending | Status::Approved | Status::Paid
    ) {
        return Err(Error::InvalidTransition {
            from: conversion.status.as_str(),
            to: "refunded",
        });
    }
    let amount = conversion.amount;
    if refund.amount.currency() != amount.currency() {
        return Err(Error::malformed(
            "amount",
            format!("the order is in {}", amount.currency().code()),
        ));
    }
    let before = conversion.refunded_minor();
    let remaining = amount.minor().saturating_sub(before);
    if remaining == 0 {
        return Err(Error::InvalidTransition {
            from: conversion.status.as_str(),
            to: "refunded",
        });
    }
    if refund.amount.minor() == 0 || refund.amount.minor() > remaining {
        return Err(Error::malformed(
            "amount",
            format!(
                "expected more than 0 and at most the {} that remains of the order",
                format_minor(u128::from(remaining), amount.currency().exponent())
            ),
        ));
    }
    let after = before + refund.amount.minor();
    let mut c = conversion.clone();
    c.refunds.push(refund.clone());
    let mut mine: Vec<Entry> = entries.to_vec();
    if after >= amount.minor() {
        // The whole amount: the conversion is reversed, and the reversal returns
        // exactly what remains of every level.
        c.status = Status::Reversed;
        let clawbacks = apply_status(&mut mine, Status::Reversed, now)?;
        mine.extend(clawbacks);
        return Ok((c, mine));
    }
    let mut out = Vec::new();
    for e in entries
        .iter()
        .filter(|e| e.id.kind == EntryKind::Commission && e.state != EntryState::Void)
    {
        let share = clawed_back(e.amount_minor, amount.minor(), after)
            - clawed_back(e.amount_minor, amount.minor(), before);
        if share == 0 {
            continue;
        }
        let pending = e.state == EntryState::Pending;
        out.push(Entry {
            id: EntryId {
                order_id: e.id.order_id.clone(),
                level: e.id.level,
                kind: EntryKind::Refund,
                reference: refund.id.clone(),
            },
            partner: e.partner,
            currency: e.currency,
            amount_minor: share,
            state: if pending {
                EntryState::Pending
            } else {
                EntryState::Payable
            },
            payable_at: (!pending).then_some(now),
            payout: None,
            note: None,
        });
    }
    Ok((c, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clawbacks_round_down_and_a_full_refund_returns_everything() {
        // 10.00 commission of a 100.00 order: 30.00 refunded gives back 3.00.
        assert_eq!(clawed_back(1000, 10_000, 3000), 300);
        assert_eq!(clawed_back(200, 10_000, 3000), 60);
        // Odd amounts round down, cumulatively: 0.33 of 1.00 of a 0.10 commission.
        assert_eq!(clawed_back(10, 100, 33), 3);
        assert_eq!(clawed_back(10, 100, 66) - clawed_back(10, 100, 33), 3);
        assert_eq!(clawed_back(10, 100, 100) - clawed_back(10, 100, 66), 4);
        assert_eq!(clawed_back(7, 10_000, 9_999), 6);
        assert_eq!(clawed_back(7, 10_000, 10_000), 7);
        assert_eq!(clawed_back(u64::MAX, u64::MAX, u64::MAX - 1), u64::MAX - 1);
    }
}
