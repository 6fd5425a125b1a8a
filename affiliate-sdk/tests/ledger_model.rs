//! The ledger's decisions against a reference model of money: random streams of
//! conversions over a 3-level tree, status moves (approve, pay by hand, reject,
//! reverse after payment), payout runs (some with a minimum, some up to a time), and
//! payouts paid or failed, interleaved: a conversion set `paid` by hand while a payout
//! holds its commission, a payout failing after its orders were rejected or reversed.
//! After every step the ledger's own invariants hold, no entry is held by two live
//! payouts, every conversion's status agrees with its entries (`check_agreement`), and
//! the balances equal the model's running sums.

mod common;

use std::collections::{BTreeMap, HashMap};

use affiliate_sdk::ledger::{
    Entry, EntryId, EntryKind, EntryState, PayoutDraft, PayoutRequest, PayoutStatus,
    apply_payout_status, apply_refund, apply_status, balances, check_agreement, check_invariants,
    entries_of, orders_paid, plan_payouts,
};
use affiliate_sdk::{Code, Conversion, Currency, Money, Refund, Status};
use common::ledger::{
    Money4, Op, PARTNERS, conversion, model_refund, model_status, model_traffic, op, traffic_day,
};
use proptest::prelude::*;

#[derive(Debug)]
struct Payout {
    id: String,
    amount: u64,
    partner: Code,
    currency: Currency,
    status: PayoutStatus,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]
    #[test]
    fn balances_follow_the_model_and_no_entry_is_paid_twice(ops in proptest::collection::vec(op(), 1..120)) {
        let currencies = [Currency::new("USD").unwrap(), Currency::new("EUR").unwrap()];
        let mut entries: Vec<Entry> = Vec::new();
        let mut statuses: Vec<Status> = Vec::new();
        let mut convs: Vec<Conversion> = Vec::new();
        // The reference of each day of traffic written.
        let mut days: Vec<String> = Vec::new();
        let mut payouts: Vec<Payout> = Vec::new();
        let mut model: HashMap<(Code, Currency), Money4> = HashMap::new();
        // Which live payout holds each entry (an entry in two would be paid twice).
        let mut holder: HashMap<EntryId, String> = HashMap::new();
        for (step, op) in ops.into_iter().enumerate() {
            let now = 1_700_000_000 + step as u64 * 60;
            match op {
                Op::Convert { partner, cents, currency } => {
                    let c = conversion(statuses.len(), partner, cents, currencies[currency], now);
                    for e in entries_of(&c) {
                        model.entry((e.partner, e.currency)).or_default().pending += i128::from(e.amount_minor);
                        entries.push(e);
                    }
                    statuses.push(Status::Pending);
                    convs.push(c);
                }
                Op::Status { order, to } => {
                    let Some(from) = statuses.get(order).copied() else { continue };
                    let to = [Status::Approved, Status::Paid, Status::Rejected, Status::Reversed][to];
                    if !from.can_become(to) { continue; }
                    let id = format!("O-{order}");
                    // The model first, from the entries as they were.
                    let before: Vec<Entry> = entries.iter().filter(|e| e.id.order_id == id).cloned().collect();
                    let mut mine = before.clone();
                    let clawbacks = match apply_status(&mut mine, to, now) {
                        Ok(c) => c,
                        Err(e) => {
                            // Only `paid` by hand while a payout holds a commission.
                            prop_assert_eq!(to, Status::Paid);
                            prop_assert_eq!(e.code(), "conflict");
                            prop_assert!(before.iter().any(|e| e.state == EntryState::InPayout));
                            continue;
                        }
                    };
                    model_status(&mut model, &before, to);
                    entries.retain(|e| e.id.order_id != id);
                    entries.extend(mine);
                    entries.extend(clawbacks);
                    statuses[order] = to;
                    convs[order].status = to;
                }
                Op::Payout { currency, min, up_to_step, partner } => {
                    let req = PayoutRequest {
                        currency: Some(currencies[currency]),
                        up_to: up_to_step.map(|s| 1_700_000_000 + s as u64 * 60),
                        min_minor: min,
                        partner: partner.map(|p| Code::new(PARTNERS[p]).unwrap()),
                    };
                    let drafts: Vec<PayoutDraft> = plan_payouts(&entries, &req);
                    for d in drafts {
                        prop_assert!(d.amount_minor > 0 && d.amount_minor >= min);
                        prop_assert_eq!(d.currency, currencies[currency]);
                        let id = format!("po_{}", payouts.len());
                        for e in entries.iter_mut().filter(|e| d.entries.contains(&e.id)) {
                            prop_assert_eq!(e.state, EntryState::Payable);
                            e.state = EntryState::InPayout;
                            e.payout = Some(id.clone());
                            let key = e.id.clone();
                            prop_assert!(holder.insert(key, id.clone()).is_none(), "an entry in two payouts");
                        }
                        let m = model.entry((d.partner, d.currency)).or_default();
                        m.due -= i128::from(d.amount_minor);
                        m.in_payout += i128::from(d.amount_minor);
                        payouts.push(Payout { id, amount: d.amount_minor, partner: d.partner, currency: d.currency, status: PayoutStatus::Pending });
                    }
                }
                // Idempotency keys are the stores' (tests/ledger_stores.rs).
                Op::Replay { .. } => continue,
                Op::Traffic { partner, cents, currency, payable } => {
                    let written = traffic_day(days.len(), partner, cents, currencies[currency], payable, now);
                    days.push(written[0].id.reference.clone());
                    model_traffic(&mut model, &written);
                    entries.extend(written);
                }
                Op::TrafficMove { day, reject } => {
                    let Some(reference) = days.get(day) else { continue };
                    let mine = |e: &Entry| !e.id.of_order() && e.id.reference == *reference;
                    let before: Vec<Entry> = entries.iter().filter(|e| mine(e)).cloned().collect();
                    let mut moved = before.clone();
                    let to = if reject { Status::Rejected } else { Status::Approved };
                    let clawbacks = apply_status(&mut moved, to, now).unwrap();
                    // Approval moves only what is pending: a rejected day stays rejected.
                    model_status(&mut model, &before, to);
                    entries.retain(|e| !mine(e));
                    entries.extend(moved);
                    entries.extend(clawbacks);
                }
                Op::Adjust { partner, cents, currency, allow_negative } => {
                    let a = common::ledger::adjustment(partner, cents, currencies[currency], allow_negative);
                    let b = balances(&entries).get(&(a.partner, a.currency())).copied().unwrap_or_default();
                    match a.check_balance(&b) {
                        Ok(()) => {
                            entries.push(a.entry(&format!("adj-{step}"), now));
                            model.entry((a.partner, a.currency())).or_default().due += i128::from(cents);
                        }
                        Err(e) => {
                            prop_assert_eq!(e.code(), "conflict");
                            prop_assert!(cents < 0 && !allow_negative && b.payable - b.clawback + i128::from(cents) < 0);
                        }
                    }
                }
                Op::Refund { order, permille } => {
                    let Some(c) = convs.get(order) else { continue };
                    let mut c = c.clone();
                    c.status = statuses[order];
                    let id = c.order_id.clone();
                    let before: Vec<Entry> = entries.iter().filter(|e| e.id.order_id == id).cloned().collect();
                    let remaining = c.amount.minor() - c.refunded_minor();
                    let amount = if permille >= 1000 { remaining } else { (remaining * u64::from(permille) / 1000).max(1) };
                    let refund = Refund { id: format!("R-{step}"), amount: Money::from_minor(amount, c.amount.currency()), at: now };
                    let (new, changed) = match apply_refund(&c, &before, &refund, now) {
                        Ok(v) => v,
                        Err(e) => {
                            prop_assert!(remaining == 0 || !matches!(c.status, Status::Pending | Status::Approved | Status::Paid), "{}", e);
                            continue;
                        }
                    };
                    if new.status == Status::Reversed {
                        model_status(&mut model, &before, Status::Reversed);
                    } else {
                        let added: Vec<Entry> = changed.iter().filter(|e| e.id.kind == EntryKind::Refund).cloned().collect();
                        // Each level's share, as the contract states it.
                        for a in &added {
                            let commission = before.iter().find(|e| e.id.level == a.id.level && e.id.kind == EntryKind::Commission).unwrap();
                            let expected = common::ledger::share(commission.amount_minor, c.amount.minor(), c.refunded_minor() + amount)
                                - common::ledger::share(commission.amount_minor, c.amount.minor(), c.refunded_minor());
                            prop_assert_eq!(a.amount_minor, expected);
                        }
                        model_refund(&mut model, &added);
                    }
                    for e in changed {
                        entries.retain(|x| x.id != e.id);
                        entries.push(e);
                    }
                    statuses[order] = new.status;
                    convs[order] = new;
                    // Never more given back than earned, per level.
                    for e in entries.iter().filter(|e| e.id.order_id == id && e.id.kind == EntryKind::Commission) {
                        let back: u64 = entries.iter().filter(|x| x.id.order_id == id && x.id.level == e.id.level && x.id.kind == EntryKind::Refund && x.state != EntryState::Void).map(|x| x.amount_minor).sum();
                        prop_assert!(back <= e.amount_minor || e.state == EntryState::Void);
                    }
                }
                Op::Settle { payout, paid } => {
                    let Some(p) = payouts.get_mut(payout) else { continue };
                    let to = if paid { PayoutStatus::Paid } else { PayoutStatus::Failed };
                    let before = entries.clone();
                    let r = apply_payout_status(&mut entries, &p.id, p.status, to);
                    if p.status != PayoutStatus::Pending {
                        prop_assert!(r.is_err());
                        prop_assert_eq!(&entries, &before, "a refused move changed entries");
                        continue;
                    }
                    r.unwrap();
                    let m = model.entry((p.partner, p.currency)).or_default();
                    m.in_payout -= i128::from(p.amount);
                    if paid {
                        m.paid += i128::from(p.amount);
                        // The paid-payout rule: an approved conversion whose commissions
                        // are now all paid reads `paid` (the stores' `set_payout_status`).
                        for order in orders_paid(&entries) {
                            let i: usize = order.trim_start_matches("O-").parse().unwrap();
                            if statuses[i] == Status::Approved { statuses[i] = Status::Paid; }
                        }
                    } else {
                        m.due += i128::from(p.amount);
                        holder.retain(|_, h| *h != p.id);
                    }
                    p.status = to;
                }
            }
            // After every step: the invariants, and the balances equal the model.
            let live: Vec<(String, u64)> = payouts.iter().filter(|p| p.status != PayoutStatus::Failed).map(|p| (p.id.clone(), p.amount)).collect();
            if let Err(e) = check_invariants(&entries, &live) { prop_assert!(false, "{}", e); }
            for (order, status) in statuses.iter().enumerate() {
                let id = format!("O-{order}");
                let mine: Vec<Entry> = entries.iter().filter(|e| e.id.order_id == id).cloned().collect();
                if let Err(e) = check_agreement(*status, &mine) { prop_assert!(false, "step {}: {}", step, e); }
            }
            let got = balances(&entries);
            let mut want: BTreeMap<(Code, Currency), Money4> = BTreeMap::new();
            for (k, v) in &model { if *v != Money4::default() { want.insert(*k, *v); } }
            for ((partner, currency), b) in &got {
                let m = model.get(&(*partner, *currency)).copied().unwrap_or_default();
                prop_assert_eq!(b.pending, m.pending, "pending of {} {}", partner, currency.code());
                prop_assert_eq!(b.payable - b.clawback, m.due, "due of {} {}", partner, currency.code());
                prop_assert_eq!(b.in_payout, m.in_payout, "in payout of {} {}", partner, currency.code());
                prop_assert_eq!(b.paid, m.paid, "paid of {} {}", partner, currency.code());
                prop_assert!(b.pending >= 0 && b.payable >= 0 && b.clawback >= 0 && b.in_payout >= 0 && b.paid >= 0);
            }
            for k in want.keys() { prop_assert!(got.contains_key(k), "{:?} missing from the balances", k); }
        }
    }
}

#[test]
fn a_reversal_after_payment_is_clawed_back_by_the_next_payout() {
    let usd = Currency::new("USD").unwrap();
    let mut entries = Vec::new();
    for (i, cents) in [(0, 10_000u64), (1, 20_000)] {
        entries.extend(entries_of(&conversion(i, 0, cents, usd, 1_700_000_000)));
    }
    // Approve both, pay them out.
    for order in ["O-0", "O-1"] {
        let mut mine: Vec<Entry> = entries
            .iter()
            .filter(|e| e.id.order_id == order)
            .cloned()
            .collect();
        assert!(
            apply_status(&mut mine, Status::Approved, 1_700_000_100)
                .unwrap()
                .is_empty()
        );
        entries.retain(|e| e.id.order_id != order);
        entries.extend(mine);
    }
    let req = PayoutRequest {
        currency: Some(usd),
        ..PayoutRequest::default()
    };
    let drafts = plan_payouts(&entries, &req);
    // c earns 10 % (30.00), b 10 % of that (3.00), a 5 % (1.50).
    let amounts: Vec<(String, u64)> = drafts
        .iter()
        .map(|d| (d.partner.to_string(), d.amount_minor))
        .collect();
    assert_eq!(
        amounts,
        [("a".into(), 150), ("b".into(), 300), ("c".into(), 3000)]
    );
    for (n, d) in drafts.iter().enumerate() {
        for e in entries.iter_mut().filter(|e| d.entries.contains(&e.id)) {
            e.state = EntryState::InPayout;
            e.payout = Some(format!("po_{n}"));
        }
        apply_payout_status(
            &mut entries,
            &format!("po_{n}"),
            PayoutStatus::Pending,
            PayoutStatus::Paid,
        )
        .unwrap();
    }
    // O-1 is refunded: each beneficiary owes its share back.
    let mut mine: Vec<Entry> = entries
        .iter()
        .filter(|e| e.id.order_id == "O-1")
        .cloned()
        .collect();
    let clawbacks = apply_status(&mut mine, Status::Reversed, 1_700_000_200).unwrap();
    assert_eq!(clawbacks.len(), 3);
    entries.retain(|e| e.id.order_id != "O-1");
    entries.extend(mine);
    entries.extend(clawbacks);
    let c = Code::new("c").unwrap();
    let b = balances(&entries)[&(c, usd)];
    assert_eq!((b.paid, b.clawback, b.payable), (3000, 2000, 0));
    // A new sale of 100.00 (10.00 for c): the next payout nets the 20.00 owed back, so
    // nothing is paid yet (net negative).
    let mut new = entries_of(&conversion(2, 0, 10_000, usd, 1_700_000_300));
    apply_status(&mut new, Status::Approved, 1_700_000_300).unwrap();
    entries.extend(new);
    let only_c = PayoutRequest {
        currency: Some(usd),
        partner: Some(c),
        ..PayoutRequest::default()
    };
    assert!(plan_payouts(&entries, &only_c).is_empty());
    // A bigger sale brings c above what it owes: paid the difference.
    let mut big = entries_of(&conversion(3, 0, 300_000, usd, 1_700_000_400));
    apply_status(&mut big, Status::Approved, 1_700_000_400).unwrap();
    entries.extend(big);
    let d = &plan_payouts(&entries, &only_c)[0];
    assert_eq!(d.amount_minor, 1000 + 30_000 - 2000);
    // A second reversal of the same paid order writes no second clawback.
    let mut again: Vec<Entry> = entries
        .iter()
        .filter(|e| e.id.order_id == "O-1")
        .cloned()
        .collect();
    assert!(
        apply_status(&mut again, Status::Reversed, 1_700_000_500)
            .unwrap()
            .is_empty()
    );
}

/// The red-team cases, step by step: `paid` by hand while a payout holds the
/// commission is refused (it would be paid again after that payout fails), and a
/// payout failing after its order was reversed leaves nothing payable.
#[test]
fn hand_paid_in_a_payout_is_refused_and_a_failed_payout_reopens_only_approved_orders() {
    let usd = Currency::new("USD").unwrap();
    let mut entries = entries_of(&conversion(0, 0, 10_000, usd, 1_700_000_000));
    entries.extend(entries_of(&conversion(1, 0, 20_000, usd, 1_700_000_000)));
    let approve = |entries: &mut Vec<Entry>, order: &str, to: Status| {
        let mut mine: Vec<Entry> = entries
            .iter()
            .filter(|e| e.id.order_id == order)
            .cloned()
            .collect();
        let claw = apply_status(&mut mine, to, 1_700_000_100)?;
        entries.retain(|e| e.id.order_id != order);
        entries.extend(mine);
        entries.extend(claw);
        Ok::<(), affiliate_sdk::Error>(())
    };
    approve(&mut entries, "O-0", Status::Approved).unwrap();
    approve(&mut entries, "O-1", Status::Approved).unwrap();
    let c = Code::new("c").unwrap();
    let req = PayoutRequest {
        currency: Some(usd),
        partner: Some(c),
        ..PayoutRequest::default()
    };
    let d = &plan_payouts(&entries, &req)[0];
    assert_eq!(d.amount_minor, 3000);
    for e in entries.iter_mut().filter(|e| d.entries.contains(&e.id)) {
        e.state = EntryState::InPayout;
        e.payout = Some("po_0".into());
    }
    // O-0 paid by hand while po_0 holds it: refused, nothing changed.
    let before = entries.clone();
    let e = approve(&mut entries, "O-0", Status::Paid).unwrap_err();
    assert_eq!(e.code(), "conflict");
    assert!(e.to_string().contains("po_0"), "{e}");
    assert_eq!(entries, before);
    // O-1 reversed while held: a clawback; then po_0 fails.
    approve(&mut entries, "O-1", Status::Reversed).unwrap();
    apply_payout_status(
        &mut entries,
        "po_0",
        PayoutStatus::Pending,
        PayoutStatus::Failed,
    )
    .unwrap();
    let o1: Vec<&Entry> = entries.iter().filter(|e| e.id.order_id == "O-1").collect();
    assert!(o1.iter().all(|e| e.state == EntryState::Void), "{o1:?}");
    check_agreement(
        Status::Reversed,
        &entries
            .iter()
            .filter(|e| e.id.order_id == "O-1")
            .cloned()
            .collect::<Vec<_>>(),
    )
    .unwrap();
    // The next payout pays O-0's 10.00 once, and nothing of O-1.
    let d = &plan_payouts(&entries, &req)[0];
    assert_eq!(d.amount_minor, 1000);
    assert!(d.entries.iter().all(|id| id.order_id == "O-0"));
}
