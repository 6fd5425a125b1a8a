//! Payouts: a run takes, per partner and currency, the payable entries and the
//! outstanding clawbacks and holds them in one payout; marked `paid`, they are paid;
//! marked `failed`, they are payable again. A run is made under an idempotency key, so
//! a retried request answers the payouts the first one made.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Entry, EntryId, EntryKind, EntryState};
use crate::code::Code;
use crate::error::{Error, Result};
use crate::money::{Currency, Money};

/// What a payout run asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PayoutRequest {
    /// The currency paid.
    pub currency: Option<Currency>,
    /// Only entries payable on or before this time (Unix seconds); all when `None`.
    pub up_to: Option<u64>,
    /// A partner's net below this (minor units) waits for the next run.
    pub min_minor: u64,
    /// Only this partner.
    pub partner: Option<Code>,
}

/// A payout run as the API and the bindings take it: decimal and date strings, checked
/// by [`Tracker::payout_request`](crate::Tracker::payout_request).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = PayoutRequest, description = "A payout run."))]
pub struct PayoutRunSpec {
    /// The currency paid (ISO 4217), required.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::formats::Currency))]
    pub currency: String,
    /// Only commissions payable on or before this UTC day, `YYYY-MM-DD` (inclusive);
    /// all when absent. Clawbacks are always netted.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::formats::Day>, nullable = false))]
    pub up_to: Option<String>,
    /// A partner's net below this decimal amount waits for a later run; default 0.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::formats::Amount>, nullable = false))]
    pub min_amount: Option<String>,
    /// Only this partner.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::formats::CodeText>, nullable = false))]
    pub partner: Option<String>,
}

/// A payout about to be made: one partner, one currency, the entries it settles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutDraft {
    /// The beneficiary.
    pub partner: Code,
    /// The currency.
    pub currency: Currency,
    /// Commissions minus clawbacks, positive.
    pub amount_minor: u64,
    /// The entries it takes.
    pub entries: Vec<EntryId>,
}

/// What a run takes per partner: the net of the entries it takes, their ids, the
/// currency. By partner code.
fn tally(entries: &[Entry], req: &PayoutRequest) -> BTreeMap<Code, (i128, Vec<EntryId>, Currency)> {
    let mut by_partner: BTreeMap<Code, (i128, Vec<EntryId>, Currency)> = BTreeMap::new();
    let candidate = |e: &Entry| {
        e.state == EntryState::Payable
            && req.currency.is_none_or(|c| c == e.currency)
            && req.partner.is_none_or(|p| p == e.partner)
    };
    let in_time = |e: &Entry| {
        req.up_to
            .is_none_or(|t| e.payable_at.is_some_and(|at| at <= t))
    };
    // Commissions payable but later than `up_to`: their refunds wait with them.
    let left: Vec<(&str, u8)> = entries
        .iter()
        .filter(|e| e.id.kind == EntryKind::Commission && candidate(e) && !in_time(e))
        .map(|e| (e.id.order_id.as_str(), e.id.level))
        .collect();
    for e in entries {
        let takes = candidate(e)
            && match e.id.kind {
                EntryKind::Commission => in_time(e),
                EntryKind::Clawback => true,
                EntryKind::Refund => !left.contains(&(e.id.order_id.as_str(), e.id.level)),
                EntryKind::Adjustment => in_time(e),
                EntryKind::Deduction => true,
                EntryKind::Traffic => in_time(e),
            };
        if takes {
            let slot = by_partner
                .entry(e.partner)
                .or_insert((0, Vec::new(), e.currency));
            slot.0 += e.signed_minor();
            slot.1.push(e.id.clone());
        }
    }
    by_partner
}

/// The payouts a run makes over `entries` (every entry of the currency): per partner,
/// its payable commissions (payable on or before `up_to`) and every outstanding
/// clawback and refund (a refund waits while its commission is payable and left for a
/// later run), when their net is positive and at least `min_minor`. By partner code.
#[must_use]
pub fn plan_payouts(entries: &[Entry], req: &PayoutRequest) -> Vec<PayoutDraft> {
    tally(entries, req)
        .into_iter()
        .filter_map(|(partner, (net, ids, currency))| {
            let amount = u64::try_from(net)
                .ok()
                .filter(|n| *n > 0 && *n >= req.min_minor)?;
            Some(PayoutDraft {
                partner,
                currency: req.currency.unwrap_or(currency),
                amount_minor: amount,
                entries: ids,
            })
        })
        .collect()
}

/// Why a run made no payout for a partner that has payable entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Its net is positive but below the run's `min_amount`.
    BelowMinimum,
    /// What it owes back (clawbacks, refunds) is at least what it has earned.
    OwesBack,
    /// Its net is more than one payout can hold.
    TooLarge,
}

/// A partner a run passed over, with its net in the run and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The partner.
    pub partner: Code,
    /// The currency.
    pub currency: Currency,
    /// The net of what the run would have taken, minor units (negative: owed back).
    pub net_minor: i128,
    /// Why.
    pub reason: SkipReason,
}

/// The partners of `entries` (payable entries as they stand) that a run under `req`
/// would pass over, and why: by partner code.
#[must_use]
pub fn skipped(entries: &[Entry], req: &PayoutRequest) -> Vec<Skipped> {
    tally(entries, req)
        .into_iter()
        .filter_map(|(partner, (net, _, currency))| {
            let reason = if net <= 0 {
                SkipReason::OwesBack
            } else if u64::try_from(net).is_err() {
                SkipReason::TooLarge
            } else if net < i128::from(req.min_minor) {
                SkipReason::BelowMinimum
            } else {
                return None;
            };
            Some(Skipped {
                partner,
                currency,
                net_minor: net,
                reason,
            })
        })
        .collect()
}

/// A payout's lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PayoutStatus {
    /// Made; its entries are held.
    Pending,
    /// The money went out: its entries are paid.
    Paid,
    /// It did not: its entries are payable again.
    Failed,
}

impl std::str::FromStr for PayoutStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<PayoutStatus> {
        match s {
            "pending" => Ok(PayoutStatus::Pending),
            "paid" => Ok(PayoutStatus::Paid),
            "failed" => Ok(PayoutStatus::Failed),
            _ => Err(Error::malformed(
                "status",
                "expected \"paid\" or \"failed\"",
            )),
        }
    }
}

/// Moves a payout's entries (`entries`: those it holds, and the other entries of their
/// orders) for its status change `from` → `to`. Only a pending payout moves: to `paid`
/// (its entries paid) or `failed` (its entries payable again, outside any payout;
/// then [`cancel_unmoved_clawbacks`], so that a commission whose conversion was
/// rejected or reversed meanwhile is void again rather than payable and owed back).
/// Anything else is `invalid_transition` and changes nothing.
pub fn apply_payout_status(
    entries: &mut [Entry],
    payout: &str,
    from: PayoutStatus,
    to: PayoutStatus,
) -> Result<()> {
    let name = |s: PayoutStatus| match s {
        PayoutStatus::Pending => "pending",
        PayoutStatus::Paid => "paid",
        PayoutStatus::Failed => "failed",
    };
    if from != PayoutStatus::Pending || to == PayoutStatus::Pending {
        return Err(Error::InvalidTransition {
            from: name(from),
            to: name(to),
        });
    }
    for e in entries
        .iter_mut()
        .filter(|e| e.payout.as_deref() == Some(payout) && e.state == EntryState::InPayout)
    {
        if to == PayoutStatus::Paid {
            e.state = EntryState::Paid;
        } else {
            e.state = EntryState::Payable;
            e.payout = None;
        }
    }
    if to == PayoutStatus::Failed {
        cancel_unmoved_clawbacks(entries);
    }
    Ok(())
}

/// Voids, per order and level, what a failed payout left netting to zero with nothing
/// moved: a commission whose conversion was rejected or reversed while a payout held
/// it, and the clawback (and refunds) that settled it. Nothing was paid, nothing is
/// owed back. (Where another payout already netted part of it, everything stays and
/// settles.)
pub fn cancel_unmoved_clawbacks(entries: &mut [Entry]) {
    let unmoved = |e: &Entry| matches!(e.state, EntryState::Payable | EntryState::Pending);
    let mut groups: BTreeMap<(String, u8), (i128, bool, bool)> = BTreeMap::new();
    // Adjustments stand alone: nothing to net with. An order's entries, or a day's
    // traffic, settle by level.
    for e in entries
        .iter()
        .filter(|e| e.state != EntryState::Void && !e.id.kind.is_adjustment())
    {
        let g = groups
            .entry((e.id.group().to_owned(), e.id.level))
            .or_insert((0, true, false));
        g.0 += e.signed_minor();
        g.1 &= unmoved(e);
        g.2 |= e.id.kind.is_negative();
    }
    for e in entries
        .iter_mut()
        .filter(|e| e.state != EntryState::Void && !e.id.kind.is_adjustment())
    {
        if groups
            .get(&(e.id.group().to_owned(), e.id.level))
            .is_some_and(|&(net, all_unmoved, negative)| net == 0 && all_unmoved && negative)
        {
            e.state = EntryState::Void;
        }
    }
}

impl PayoutStatus {
    /// `pending`, `paid` or `failed`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::Pending => "pending",
            PayoutStatus::Paid => "paid",
            PayoutStatus::Failed => "failed",
        }
    }
}

impl PayoutRequest {
    /// What identifies this request under an idempotency key: a replay with the same
    /// key must carry the same request.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        let text = format!(
            "{}\n{:?}\n{}\n{}",
            self.currency.map_or("", |c| c.code()),
            self.up_to,
            self.min_minor,
            self.partner.as_ref().map_or("", |p| p.as_str()),
        );
        hex(&Sha256::digest(text.as_bytes())[..16])
    }
}

/// Lower-case hexadecimal of `bytes` (payout and adjustment ids, fingerprints).
pub(super) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Checks an `Idempotency-Key`: 1 to 255 visible ASCII characters.
pub fn check_idempotency_key(key: &str) -> Result<()> {
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::malformed(
            "idempotency_key",
            "expected 1 to 255 visible ASCII characters",
        ));
    }
    Ok(())
}

/// A payout: one partner, one currency, the entries it settles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    /// `po_` and 24 hexadecimal digits, derived from the run's key, the partner and
    /// the currency.
    pub id: String,
    /// The beneficiary.
    pub partner: Code,
    /// The currency.
    pub currency: Currency,
    /// Commissions minus clawbacks, minor units, positive.
    pub amount_minor: u64,
    /// The entries it holds (or paid).
    pub entries: Vec<EntryId>,
    /// Where it stands.
    pub status: PayoutStatus,
    /// When it was made, Unix seconds.
    pub created: u64,
    /// When its status last changed, Unix seconds.
    pub updated: u64,
}

impl Payout {
    /// The amount as money.
    #[must_use]
    pub fn amount(&self) -> Money {
        Money::from_minor(self.amount_minor, self.currency)
    }
}

/// Which payouts a read wants; every filter set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayoutFilter {
    /// Only this partner's.
    pub partner: Option<Code>,
    /// Only in this currency.
    pub currency: Option<Currency>,
    /// Only in this status.
    pub status: Option<PayoutStatus>,
}

impl PayoutFilter {
    /// Whether `p` passes.
    #[must_use]
    pub fn matches(&self, p: &Payout) -> bool {
        self.partner.is_none_or(|x| p.partner == x)
            && self.currency.is_none_or(|c| p.currency == c)
            && self.status.is_none_or(|s| p.status == s)
    }
}

/// The payouts a run under `key` makes at `now` over `entries` (the candidates as they
/// are now; only payable ones are taken), and the entries it changes (held by their
/// payout). Payout ids are derived from the key, so a run replayed after a crash that
/// lost its answer makes the same ids.
#[must_use]
pub fn make_payouts(
    entries: &[Entry],
    req: &PayoutRequest,
    key: &str,
    now: u64,
) -> (Vec<Payout>, Vec<Entry>) {
    let drafts = plan_payouts(entries, req);
    let by_id: BTreeMap<&EntryId, &Entry> = entries.iter().map(|e| (&e.id, e)).collect();
    let mut payouts = Vec::with_capacity(drafts.len());
    let mut held = Vec::new();
    for d in drafts {
        let seed = format!("{key}\0{}\0{}", d.partner, d.currency.code());
        let id = format!("po_{}", hex(&Sha256::digest(seed.as_bytes())[..12]));
        for eid in &d.entries {
            if let Some(e) = by_id.get(eid) {
                let mut e = (*e).clone();
                e.state = EntryState::InPayout;
                e.payout = Some(id.clone());
                held.push(e);
            }
        }
        payouts.push(Payout {
            id,
            partner: d.partner,
            currency: d.currency,
            amount_minor: d.amount_minor,
            entries: d.entries,
            status: PayoutStatus::Pending,
            created: now,
            updated: now,
        });
    }
    (payouts, held)
}

/// Moves `payout` to `to` at `at` with its entries (`entries`: every entry of the
/// orders it holds entries of): see [`apply_payout_status`]. Returns the orders whose
/// conversions now read `paid` ([`orders_paid`]; none when it failed). Nothing
/// changes when the move is refused.
pub fn settle(
    payout: &mut Payout,
    entries: &mut [Entry],
    to: PayoutStatus,
    at: u64,
) -> Result<Vec<String>> {
    apply_payout_status(entries, &payout.id, payout.status, to)?;
    payout.status = to;
    payout.updated = at;
    Ok(if to == PayoutStatus::Paid {
        orders_paid(entries)
    } else {
        Vec::new()
    })
}

/// The order ids of a payout's entries, each once, in order.
#[must_use]
pub fn payout_orders(payout: &Payout) -> Vec<String> {
    let mut out: Vec<String> = payout
        .entries
        .iter()
        .filter(|e| e.of_order())
        .map(|e| e.order_id.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Orders payouts for listing: newest first, then by partner.
pub fn newest_first(payouts: &mut [Payout]) {
    payouts.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then_with(|| a.partner.cmp(&b.partner))
    });
}

/// The error of an idempotency key used before with another request.
#[must_use]
pub fn key_reused(key: &str) -> Error {
    Error::Exists(format!(
        "the Idempotency-Key {key:?} was used with another request"
    ))
}

/// The orders of `entries` (every entry of those orders) whose commissions are all
/// paid or void, one at least paid: their conversions read `paid`.
#[must_use]
pub fn orders_paid(entries: &[Entry]) -> Vec<String> {
    let mut orders: BTreeMap<&str, (bool, bool)> = BTreeMap::new();
    for e in entries
        .iter()
        .filter(|e| e.id.kind == EntryKind::Commission)
    {
        let slot = orders
            .entry(e.id.order_id.as_str())
            .or_insert((true, false));
        slot.0 &= matches!(e.state, EntryState::Paid | EntryState::Void);
        slot.1 |= e.state == EntryState::Paid;
    }
    orders
        .into_iter()
        .filter(|(_, (all, one))| *all && *one)
        .map(|(o, _)| o.to_owned())
        .collect()
}
