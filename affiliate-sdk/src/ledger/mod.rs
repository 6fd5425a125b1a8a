//! The commission ledger: what each partner is owed, at every level, from the moment a
//! conversion is recorded until it is paid, and what is clawed back when a paid
//! conversion is reversed. Pure decisions over entries; a store keeps the entries and
//! applies these functions inside its own atomic write.
//!
//! * Every commission of a conversion is an entry: order id, level (0 = the referring
//!   partner, 1 = its parent, …), beneficiary, amount, currency. A day's paid clicks and
//!   impressions of a partner in a campaign are entries of no order (`traffic`, see
//!   [`traffic_entries`]), and so are the merchant's adjustments.
//! * An entry is `pending` while its conversion is pending, `payable` once it is
//!   approved, `in_payout` while a payout holds it, `paid` once that payout is marked
//!   paid (or the conversion is set `paid` by hand), and `void` when its conversion is
//!   rejected, or reversed before it was paid.
//! * Reversing a conversion whose entry is in a payout or paid writes a *clawback*
//!   entry of the same amount, owed back; the beneficiary's next payout nets it out.
//! * A payout takes, per partner and currency, the payable entries approved on or
//!   before a day and the outstanding clawbacks, and is made only when their net is
//!   positive and at least the minimum. Marked `failed`, its entries are payable again.
//!
//! A balance row counts, per beneficiary and currency: `pending`, `payable` (gross),
//! `in_payout` and `paid` (net of the clawbacks they settled), and `clawback` (owed back,
//! not yet netted). What the next payout would pay is `payable - clawback`.

use serde::{Deserialize, Serialize};

use crate::code::Code;
use crate::error::{Error, Result};
use crate::money::Currency;
use crate::records::{Conversion, Status};

mod adjustment;
mod balance;
mod payout;
mod refund;
mod traffic;

pub use adjustment::{
    Adjustment, AdjustmentKind, AdjustmentNote, AdjustmentRequest, MAX_MEMO_CHARS, adjustment_id,
};
pub use balance::{Balance, balances, check_invariants};
pub use payout::{
    Payout, PayoutDraft, PayoutFilter, PayoutRequest, PayoutRunSpec, PayoutStatus, SkipReason,
    Skipped, apply_payout_status, cancel_unmoved_clawbacks, check_idempotency_key, key_reused,
    make_payouts, newest_first, orders_paid, payout_orders, plan_payouts, settle, skipped,
};
pub use refund::{apply_refund, clawed_back};
pub use traffic::{traffic_entries, traffic_ids, traffic_minor};

/// The deepest beneficiary level: a plan has at most 16 override levels above the
/// referring partner's.
pub const MAX_LEVEL: u8 = 16;

/// A commission, or the clawback of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// What the beneficiary earns.
    Commission,
    /// What it owes back after a paid conversion was reversed.
    Clawback,
    /// What it gives back of a commission when part of the order is refunded (one per
    /// refund and level; the entry's `reference` is the refund id).
    Refund,
    /// Money the merchant adds by hand (a bonus, a correction): no order; the
    /// `reference` is the adjustment's id.
    Adjustment,
    /// Money the merchant takes back by hand (a negative correction).
    Deduction,
    /// A day's paid clicks and impressions of one partner in one campaign: no order;
    /// the `reference` is `YYYY-MM-DD/campaign/partner`.
    Traffic,
}

impl EntryKind {
    /// `commission`, `clawback`, `refund`, `adjustment`, `deduction` or `traffic`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Commission => "commission",
            EntryKind::Clawback => "clawback",
            EntryKind::Refund => "refund",
            EntryKind::Adjustment => "adjustment",
            EntryKind::Deduction => "deduction",
            EntryKind::Traffic => "traffic",
        }
    }

    /// Every kind.
    pub const ALL: [EntryKind; 6] = [
        EntryKind::Commission,
        EntryKind::Clawback,
        EntryKind::Refund,
        EntryKind::Adjustment,
        EntryKind::Deduction,
        EntryKind::Traffic,
    ];

    /// Whether it is what a beneficiary earns from a conversion or a day's traffic
    /// (what a reversal claws back).
    #[must_use]
    pub fn is_earning(self) -> bool {
        matches!(self, EntryKind::Commission | EntryKind::Traffic)
    }

    /// Whether it subtracts from what the beneficiary is owed.
    #[must_use]
    pub fn is_negative(self) -> bool {
        !matches!(
            self,
            EntryKind::Commission | EntryKind::Adjustment | EntryKind::Traffic
        )
    }

    /// Whether it is an adjustment made by hand (of an empty order id).
    #[must_use]
    pub fn is_adjustment(self) -> bool {
        matches!(self, EntryKind::Adjustment | EntryKind::Deduction)
    }
}

/// Where an entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// Its conversion is pending.
    Pending,
    /// Approved and not in a payout (a clawback: owed back, not yet netted).
    Payable,
    /// Held by a payout that is not yet paid or failed.
    InPayout,
    /// Paid (a clawback: netted by a paid payout).
    Paid,
    /// Its conversion was rejected, or reversed before it was paid.
    Void,
}

/// The identity of an entry: the order, the level, commission or clawback.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntryId {
    /// The conversion's order id.
    pub order_id: String,
    /// 0 for the referring partner, 1 for its parent, ….
    pub level: u8,
    /// Commission, clawback or refund.
    pub kind: EntryKind,
    /// What tells apart entries of one order, level and kind: a refund's id; empty
    /// otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reference: String,
}

impl EntryId {
    /// Whether it belongs to an order (a conversion's entries); adjustments and traffic
    /// do not.
    #[must_use]
    pub fn of_order(&self) -> bool {
        !self.order_id.is_empty()
    }

    /// What the entry's group is called: entries of one group and level settle
    /// together (an order's commission, its refunds and clawback; a day's traffic and
    /// its clawback). The order id, or the reference of an entry of no order.
    #[must_use]
    pub fn group(&self) -> &str {
        if self.of_order() {
            &self.order_id
        } else {
            &self.reference
        }
    }
}

/// One ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Which entry.
    pub id: EntryId,
    /// Who earns it (or owes it back).
    pub partner: Code,
    /// The currency.
    pub currency: Currency,
    /// The amount in minor units, always positive; a clawback subtracts it.
    pub amount_minor: u64,
    /// Where it stands.
    pub state: EntryState,
    /// When it became payable (its conversion approved, or the clawback written),
    /// Unix seconds.
    pub payable_at: Option<u64>,
    /// The payout that holds or paid it.
    pub payout: Option<String>,
    /// An adjustment's kind, memo and when it was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<AdjustmentNote>,
}

impl Entry {
    /// The amount as it counts toward what is owed: negative for a clawback.
    #[must_use]
    pub fn signed_minor(&self) -> i128 {
        if self.id.kind.is_negative() {
            -i128::from(self.amount_minor)
        } else {
            i128::from(self.amount_minor)
        }
    }
}

/// Which ledger entries a read wants; every filter set must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryFilter {
    /// Only this beneficiary's.
    pub partner: Option<Code>,
    /// Only in this currency.
    pub currency: Option<Currency>,
    /// Only this order's.
    pub order_id: Option<String>,
}

impl EntryFilter {
    /// Whether `e` passes.
    #[must_use]
    pub fn matches(&self, e: &Entry) -> bool {
        self.partner.is_none_or(|p| e.partner == p)
            && self.currency.is_none_or(|c| e.currency == c)
            && self.order_id.as_ref().is_none_or(|o| *o == e.id.order_id)
    }
}

/// The entries of a newly recorded conversion, in the state its status gives them.
#[must_use]
pub fn entries_of(conversion: &Conversion) -> Vec<Entry> {
    let state = match conversion.status {
        Status::Pending => EntryState::Pending,
        Status::Approved => EntryState::Payable,
        Status::Paid => EntryState::Paid,
        Status::Rejected | Status::Reversed => EntryState::Void,
    };
    conversion
        .commissions
        .iter()
        .filter(|c| c.amount.minor() > 0)
        .map(|c| Entry {
            id: EntryId {
                order_id: conversion.order_id.clone(),
                level: c.level,
                kind: EntryKind::Commission,
                reference: String::new(),
            },
            partner: c.partner,
            currency: c.amount.currency(),
            amount_minor: c.amount.minor(),
            state,
            payable_at: (state != EntryState::Pending).then_some(conversion.converted_at),
            payout: None,
            note: None,
        })
        .collect()
}

/// Moves a conversion's entries (`entries`: all of that order's, clawbacks and refunds
/// included) for its status change to `to` at `now`; returns the clawbacks to add.
///
/// * approved: pending entries (commissions, refunds) become payable;
/// * paid (by hand): payable commissions and refunds become paid, outside any payout.
///   Refused (`conflict`, nothing changed) while a pending payout holds a commission:
///   that payout pays it, or, failed, would make it payable again and pay it twice;
/// * rejected or reversed, per level: what no payout has moved yet (pending or
///   payable, commission and refunds) becomes void; what payouts moved (held or paid)
///   stays, and its net is settled: owed back by one clawback when positive (the
///   commission went out), or kept as that much of the commission when negative (a
///   refund was netted before the commission went out).
///
/// The conversion's status and its entries move together: after a change this
/// function allowed, [`check_agreement`] holds.
pub fn apply_status(entries: &mut [Entry], to: Status, now: u64) -> Result<Vec<Entry>> {
    if to == Status::Paid
        && let Some(held) = entries
            .iter()
            .find(|e| e.id.kind == EntryKind::Commission && e.state == EntryState::InPayout)
    {
        return Err(Error::Exists(format!(
            "order {:?} has commission in payout {} (pending): mark that payout paid or \
             failed before setting the conversion paid by hand",
            held.id.order_id,
            held.payout.as_deref().unwrap_or("?")
        )));
    }
    match to {
        Status::Pending => Ok(Vec::new()),
        Status::Approved | Status::Paid => {
            for e in entries
                .iter_mut()
                .filter(|e| e.id.kind != EntryKind::Clawback)
            {
                match (to, e.state) {
                    (Status::Approved, EntryState::Pending) => {
                        e.state = EntryState::Payable;
                        e.payable_at = Some(now);
                    }
                    (Status::Paid, EntryState::Payable) => e.state = EntryState::Paid,
                    _ => {}
                }
            }
            Ok(Vec::new())
        }
        Status::Rejected | Status::Reversed => Ok(reverse(entries, now)),
    }
}

fn is_moved(e: &Entry) -> bool {
    matches!(e.state, EntryState::InPayout | EntryState::Paid)
}

/// The reversal of [`apply_status`], level by level.
fn reverse(entries: &mut [Entry], now: u64) -> Vec<Entry> {
    let mut levels: Vec<u8> = entries
        .iter()
        .filter(|e| e.id.kind.is_earning())
        .map(|e| e.id.level)
        .collect();
    levels.sort_unstable();
    levels.dedup();
    let mut clawbacks = Vec::new();
    for level in levels {
        let at_level = |e: &Entry| e.id.level == level;
        // Reversed once already (a clawback): nothing more moves.
        if entries
            .iter()
            .any(|e| at_level(e) && e.id.kind == EntryKind::Clawback)
        {
            continue;
        }
        let moved: i128 = entries
            .iter()
            .filter(|e| at_level(e) && is_moved(e))
            .map(Entry::signed_minor)
            .sum();
        for e in entries
            .iter_mut()
            .filter(|e| at_level(e) && matches!(e.state, EntryState::Pending | EntryState::Payable))
        {
            e.state = EntryState::Void;
        }
        let Some(commission) = entries
            .iter_mut()
            .find(|e| at_level(e) && e.id.kind.is_earning())
        else {
            continue;
        };
        if moved > 0 {
            // A commission's clawback has no reference; a day's traffic keeps its own.
            let reference = if commission.id.of_order() {
                String::new()
            } else {
                commission.id.reference.clone()
            };
            clawbacks.push(Entry {
                id: EntryId {
                    kind: EntryKind::Clawback,
                    reference,
                    ..commission.id.clone()
                },
                partner: commission.partner,
                currency: commission.currency,
                amount_minor: u64::try_from(moved).unwrap_or(u64::MAX),
                state: EntryState::Payable,
                payable_at: Some(now),
                payout: None,
                note: None,
            });
        } else if moved < 0 && commission.state == EntryState::Void {
            // Refunds netted while the commission was not yet paid: it is paid as much.
            commission.amount_minor = u64::try_from(-moved).unwrap_or(u64::MAX);
            commission.state = EntryState::Payable;
            commission.payable_at = Some(now);
        }
    }
    clawbacks
}

/// Whether a conversion's `status` and its entries (`entries`: all of that order's)
/// agree, as [`apply_status`], refunds and the payout moves keep them:
///
/// * pending: every commission and refund pending;
/// * approved: none pending or void, at least one commission not yet paid (all paid
///   reads `paid`);
/// * paid: every commission paid, no refund pending or void;
/// * rejected or reversed: per level, nothing pending, and what is not void nets to
///   zero and holds something a payout moved (otherwise it is all void).
///
/// Returns what disagrees. The ledger tests check it after every step.
pub fn check_agreement(status: Status, entries: &[Entry]) -> std::result::Result<(), String> {
    let live = |e: &&Entry| e.state != EntryState::Void;
    let commissions: Vec<&Entry> = entries
        .iter()
        .filter(|e| e.id.kind == EntryKind::Commission)
        .collect();
    let all_paid = commissions.iter().all(|e| e.state == EntryState::Paid);
    let wrong = |e: &Entry| {
        format!(
            "order {:?} is {} but its level {} {} is {:?}",
            e.id.order_id,
            status.as_str(),
            e.id.level,
            e.id.kind.as_str(),
            e.state
        )
    };
    for e in entries {
        let ok = match (status, e.id.kind) {
            (Status::Pending, _) => e.state == EntryState::Pending,
            (Status::Approved, EntryKind::Commission) => {
                !matches!(e.state, EntryState::Pending | EntryState::Void) && !all_paid
            }
            (Status::Paid, EntryKind::Commission) => e.state == EntryState::Paid,
            (Status::Approved | Status::Paid, _) => {
                !matches!(e.state, EntryState::Pending | EntryState::Void)
            }
            (Status::Rejected | Status::Reversed, _) => e.state != EntryState::Pending,
        };
        if !ok {
            return Err(wrong(e));
        }
    }
    if matches!(status, Status::Rejected | Status::Reversed) {
        for c in &commissions {
            let level: Vec<&Entry> = entries
                .iter()
                .filter(|e| e.id.level == c.id.level)
                .filter(live)
                .collect();
            let net: i128 = level.iter().map(|e| e.signed_minor()).sum();
            if net != 0 || (!level.is_empty() && !level.iter().any(|e| is_moved(e))) {
                return Err(format!(
                    "order {:?} is {} but level {} nets {net} over {} entries not void",
                    c.id.order_id,
                    status.as_str(),
                    c.id.level,
                    level.len()
                ));
            }
        }
    }
    Ok(())
}
