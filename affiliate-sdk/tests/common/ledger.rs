//! What the ledger tests share: a 3-level partner tree, conversions over it, and the
//! reference model of money they check balances against.

use std::collections::HashMap;

use affiliate_sdk::ledger::{Entry, EntryKind, EntryState};
use affiliate_sdk::{
    Channel, Code, Commission, Conversion, Currency, Evidence, Kind, Link, Money, Status,
};
use proptest::prelude::*;

/// The tree: c (level 0) under b under a; overrides 10 % and 5 %.
pub const PARTNERS: [&str; 3] = ["c", "b", "a"];

/// PARTNERS[partner]'s `base` at level 0 and its ancestors' overrides above it: 10 %
/// and 5 % of it, rounded down.
fn chain(partner: usize, base: u64, currency: Currency) -> Vec<Commission> {
    let code = |s: &str| Code::new(s).unwrap();
    let mut out = vec![Commission {
        partner: code(PARTNERS[partner]),
        level: 0,
        amount: Money::from_minor(base, currency),
    }];
    for (level, pct) in (1u8..).zip([10u64, 5]) {
        let Some(up) = PARTNERS.get(partner + usize::from(level)) else {
            break;
        };
        out.push(Commission {
            partner: code(up),
            level,
            amount: Money::from_minor(base * pct / 100, currency),
        });
    }
    out
}

pub fn conversion(
    order: usize,
    partner: usize,
    cents: u64,
    currency: Currency,
    at: u64,
) -> Conversion {
    let code = |s: &str| Code::new(s).unwrap();
    // A sale credited to PARTNERS[partner] at 10 %; its ancestors earn overrides.
    let commissions = chain(partner, cents / 10, currency);
    Conversion {
        order_id: format!("O-{order}"),
        kind: Kind::Sale,
        amount: Money::from_minor(cents, currency),
        link: Link::new(code("haircare"), code(PARTNERS[partner])),
        click_id: None,
        evidence: Evidence::Coupon,
        customer_id: None,
        status: Status::Pending,
        converted_at: at,
        commissions,
        channel: Channel::default(),
        duplicate: false,
        replaced: false,
        withheld: false,
        refunds: Vec::new(),
    }
}

/// The model: per partner and currency, money by where it stands.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Money4 {
    pub pending: i128,
    pub due: i128,
    pub in_payout: i128,
    pub paid: i128,
}

/// Moves the model for an order's status change to `to`, from its entries as they
/// were before it.
pub fn model_status(model: &mut HashMap<(Code, Currency), Money4>, before: &[Entry], to: Status) {
    match to {
        Status::Pending => {}
        Status::Approved | Status::Paid => {
            for e in before.iter().filter(|e| e.id.kind != EntryKind::Clawback) {
                let m = model.entry((e.partner, e.currency)).or_default();
                let x = e.signed_minor();
                match (to, e.state) {
                    (Status::Approved, EntryState::Pending) => {
                        m.pending -= x;
                        m.due += x;
                    }
                    (Status::Paid, EntryState::Payable) => {
                        m.due -= x;
                        m.paid += x;
                    }
                    _ => {}
                }
            }
        }
        Status::Rejected | Status::Reversed => {
            let levels: Vec<u8> = before
                .iter()
                .filter(|e| e.id.kind.is_earning())
                .map(|e| e.id.level)
                .collect();
            for level in levels {
                let mine: Vec<&Entry> = before.iter().filter(|e| e.id.level == level).collect();
                if mine.iter().any(|e| e.id.kind == EntryKind::Clawback) {
                    continue;
                }
                let (partner, currency) = (mine[0].partner, mine[0].currency);
                let m = model.entry((partner, currency)).or_default();
                let mut moved = 0;
                for e in &mine {
                    match e.state {
                        // Not yet moved by a payout: no longer counted.
                        EntryState::Pending => m.pending -= e.signed_minor(),
                        EntryState::Payable => m.due -= e.signed_minor(),
                        EntryState::InPayout | EntryState::Paid => moved += e.signed_minor(),
                        EntryState::Void => {}
                    }
                }
                // What payouts moved is settled: owed back, or kept when refunds went
                // out before the commission did.
                m.due -= moved;
            }
        }
    }
}

/// Moves the model for refund entries newly written (`added`).
pub fn model_refund(model: &mut HashMap<(Code, Currency), Money4>, added: &[Entry]) {
    for e in added {
        let m = model.entry((e.partner, e.currency)).or_default();
        match e.state {
            EntryState::Pending => m.pending += e.signed_minor(),
            _ => m.due += e.signed_minor(),
        }
    }
}

/// What a level's commission `c` has given back once `refunded` of `amount` is
/// refunded, as the contract states it (independent of the crate's own).
pub fn share(c: u64, amount: u64, refunded: u64) -> u64 {
    if refunded >= amount {
        c
    } else {
        (u128::from(c) * u128::from(refunded) / u128::from(amount)) as u64
    }
}

/// A step of a random ledger stream.
#[derive(Debug, Clone)]
pub enum Op {
    Convert {
        partner: usize,
        cents: u64,
        currency: usize,
    },
    Status {
        order: usize,
        to: usize,
    },
    Payout {
        currency: usize,
        min: u64,
        up_to_step: Option<usize>,
        partner: Option<usize>,
    },
    Replay {
        run: usize,
        other_request: bool,
    },
    Settle {
        payout: usize,
        paid: bool,
    },
    /// A refund of `permille` thousandths of what remains of an order (all of it at
    /// 1000 or more).
    Refund {
        order: usize,
        permille: u16,
    },
    /// A day's traffic earnings of `cents` for a partner (its ancestors' overrides
    /// 10 % and 5 % of it), written pending or payable, and written again (nothing
    /// more).
    Traffic {
        partner: usize,
        cents: u64,
        currency: usize,
        payable: bool,
    },
    /// The `day`-th day of traffic approved, or rejected.
    TrafficMove {
        day: usize,
        reject: bool,
    },
    /// An adjustment of `cents` (negative: taken back) for a partner.
    Adjust {
        partner: usize,
        cents: i64,
        currency: usize,
        allow_negative: bool,
    },
}

/// The entries of the `n`-th [`Op::Traffic`] day, as `ledger::traffic_entries` writes
/// them: the partner's `cents` at level 0 and 10 % and 5 % of it above.
pub fn traffic_day(
    n: usize,
    partner: usize,
    cents: u64,
    currency: Currency,
    payable: bool,
    at: u64,
) -> Vec<Entry> {
    let commissions = chain(partner, cents, currency);
    let (state, payable_at) = if payable {
        (EntryState::Payable, Some(at))
    } else {
        (EntryState::Pending, None)
    };
    affiliate_sdk::ledger::traffic_entries(
        &traffic_reference(n, partner),
        &commissions,
        state,
        payable_at,
    )
}

/// The reference of the `n`-th traffic day.
pub fn traffic_reference(n: usize, partner: usize) -> String {
    format!("2026-01-01/d{n}/{}", PARTNERS[partner])
}

/// Moves the model for a traffic day newly written.
pub fn model_traffic(model: &mut HashMap<(Code, Currency), Money4>, written: &[Entry]) {
    for e in written {
        let m = model.entry((e.partner, e.currency)).or_default();
        match e.state {
            EntryState::Pending => m.pending += e.signed_minor(),
            _ => m.due += e.signed_minor(),
        }
    }
}

/// The checked adjustment of an [`Op::Adjust`].
pub fn adjustment(
    partner: usize,
    cents: i64,
    currency: Currency,
    allow_negative: bool,
) -> affiliate_sdk::ledger::Adjustment {
    affiliate_sdk::ledger::Adjustment {
        partner: Code::new(PARTNERS[partner]).unwrap(),
        amount: Money::from_minor(cents.unsigned_abs(), currency),
        negative: cents < 0,
        memo: "model".into(),
        kind: affiliate_sdk::ledger::AdjustmentKind::Correction,
        allow_negative,
    }
}

/// A random step: conversions, status moves, payout runs, replays of a run's key
/// (or its reuse with another request), payouts paid or failed, refunds, adjustments,
/// days of traffic earnings written, approved and rejected.
pub fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..3usize, 1..50_000u64, 0..2usize)
            .prop_map(|(partner, cents, currency)| Op::Convert { partner, cents, currency }),
        5 => (0..30usize, 0..4usize).prop_map(|(order, to)| Op::Status { order, to }),
        2 => (0..2usize, prop_oneof![Just(0u64), 0..20_000u64], proptest::option::of(0..60usize), prop_oneof![3 => Just(None), 1 => (0..3usize).prop_map(Some)])
            .prop_map(|(currency, min, up_to_step, partner)| Op::Payout { currency, min, up_to_step, partner }),
        1 => (0..8usize, any::<bool>()).prop_map(|(run, other_request)| Op::Replay { run, other_request }),
        3 => (0..12usize, any::<bool>()).prop_map(|(payout, paid)| Op::Settle { payout, paid }),
        3 => (0..30usize, prop_oneof![3 => 1..1000u16, 1 => Just(1000u16)])
            .prop_map(|(order, permille)| Op::Refund { order, permille }),
        2 => (0..3usize, prop_oneof![1..5_000i64, -5_000..-1i64], 0..2usize, any::<bool>())
            .prop_map(|(partner, cents, currency, allow_negative)| Op::Adjust { partner, cents, currency, allow_negative }),
        2 => (0..3usize, 1..10_000u64, 0..2usize, any::<bool>())
            .prop_map(|(partner, cents, currency, payable)| Op::Traffic { partner, cents, currency, payable }),
        2 => (0..8usize, any::<bool>()).prop_map(|(day, reject)| Op::TrafficMove { day, reject }),
    ]
}
