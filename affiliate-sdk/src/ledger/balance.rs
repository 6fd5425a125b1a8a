//! Balances: what each beneficiary has at every stage, summed from its entries, and the
//! ledger's invariants over a whole store.

use std::collections::BTreeMap;

use super::{Entry, EntryKind, EntryState};
use crate::code::Code;
use crate::money::Currency;

/// What a partner has at every stage, in one currency (minor units; see the module
/// documentation for what each counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Balance {
    /// Commissions of pending conversions.
    pub pending: i128,
    /// Commissions approved and not in a payout.
    pub payable: i128,
    /// Held by pending payouts, net of the clawbacks they settle.
    pub in_payout: i128,
    /// Paid, net of the clawbacks paid payouts settled.
    pub paid: i128,
    /// Owed back, not yet netted by a payout.
    pub clawback: i128,
}

/// Balances per beneficiary and currency, by partner code then currency; a
/// beneficiary whose every amount is zero (its entries all void) has no row.
#[must_use]
pub fn balances<'a>(
    entries: impl IntoIterator<Item = &'a Entry>,
) -> BTreeMap<(Code, Currency), Balance> {
    let mut out: BTreeMap<(Code, Currency), Balance> = BTreeMap::new();
    for e in entries {
        out.entry((e.partner, e.currency))
            .or_default()
            .add(&Balance::of_entry(e), 1);
    }
    out.retain(|_, b| !b.is_zero());
    out
}

impl Balance {
    /// What one entry counts for its beneficiary.
    #[must_use]
    pub fn of_entry(e: &Entry) -> Balance {
        Balance::of_parts(e.id.kind, e.state, e.signed_minor())
    }

    /// What entries of one kind and state count, `v` their signed sum (negative for
    /// clawbacks).
    #[must_use]
    pub fn of_parts(kind: EntryKind, state: EntryState, v: i128) -> Balance {
        let mut b = Balance::default();
        match (kind, state) {
            (_, EntryState::Void) => {}
            (
                EntryKind::Commission | EntryKind::Adjustment | EntryKind::Traffic,
                EntryState::Payable,
            ) => {
                b.payable = v;
            }
            (EntryKind::Clawback, EntryState::Pending) | (_, EntryState::Payable) => {
                b.clawback = -v;
            }
            (_, EntryState::Pending) => b.pending = v,
            (_, EntryState::InPayout) => b.in_payout = v,
            (_, EntryState::Paid) => b.paid = v,
        }
        b
    }

    /// Adds `sign` (1 or -1) times `other`, field by field.
    pub fn add(&mut self, other: &Balance, sign: i128) {
        self.pending += sign * other.pending;
        self.payable += sign * other.payable;
        self.in_payout += sign * other.in_payout;
        self.paid += sign * other.paid;
        self.clawback += sign * other.clawback;
    }

    /// Whether every amount is zero.
    #[must_use]
    pub fn is_zero(&self) -> bool {
        *self == Balance::default()
    }
}

/// Checks the ledger's invariants over every entry of a store: each entry's payout
/// matches its state, no entry id twice, and each payout's amount is the net of the
/// entries it holds or paid. Returns the first violation.
pub fn check_invariants(
    entries: &[Entry],
    payouts: &[(String, u64)],
) -> std::result::Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    let mut held: BTreeMap<&str, i128> = BTreeMap::new();
    for e in entries {
        if !seen.insert(&e.id) {
            return Err(format!("entry {:?} twice", e.id));
        }
        match (e.state, &e.payout) {
            (EntryState::InPayout, None) => return Err(format!("{:?} in no payout", e.id)),
            (EntryState::Pending | EntryState::Payable | EntryState::Void, Some(p)) => {
                return Err(format!("{:?} is {:?} but held by {p}", e.id, e.state));
            }
            _ => {}
        }
        if let Some(p) = &e.payout {
            *held.entry(p.as_str()).or_default() += e.signed_minor();
        }
    }
    for (id, amount) in payouts {
        let sum = held.get(id.as_str()).copied().unwrap_or(0);
        if sum != i128::from(*amount) {
            return Err(format!("payout {id} is {amount} but holds {sum}"));
        }
    }
    Ok(())
}
