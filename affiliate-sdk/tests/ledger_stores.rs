//! The ledger in every store against the reference model: random streams of
//! conversions over a 3-level tree, status moves (reversals after payment included),
//! payout runs under idempotency keys, replays of a key (same payouts) and reuses of a
//! key with another request (`conflict`, nothing changed), payouts paid and failed. After
//! every step: the balances the store reports equal the model and the sums of its own
//! entries, the ledger's invariants hold, no entry is in two live payouts, and a
//! conversion reads `paid` exactly when its entries are all paid. Then runs made at
//! once by several threads on one store: no entry in two payouts, one key one set.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use affiliate_sdk::ledger::{
    EntryFilter, EntryId, EntryKind, EntryState, PayoutFilter, PayoutRequest, PayoutStatus,
    balances, check_agreement, check_invariants,
};
use affiliate_sdk::store::{Inserted, PayoutsMade, StatusChange};
use affiliate_sdk::{
    Adjusted, Code, Currency, MemoryStore, Money, Refund, Refunded, SledStore, Status, Store,
    StoreWrites,
};
use common::ledger::{
    Money4, Op, PARTNERS, conversion, model_refund, model_status, model_traffic, op, share,
    traffic_day,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

const T: u64 = 1_700_000_000;

struct Run {
    key: String,
    req: PayoutRequest,
    ids: Vec<String>,
}

fn usd_eur() -> [Currency; 2] {
    [Currency::new("USD").unwrap(), Currency::new("EUR").unwrap()]
}

/// Drives `ops` through `store` and checks it against the model after every step.
fn drive(store: &dyn Store, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let currencies = usd_eur();
    let mut statuses: Vec<Status> = Vec::new();
    let mut runs: Vec<Run> = Vec::new();
    // Every payout made: id, partner, currency, amount, status as the model knows it.
    let mut payouts: Vec<(String, Code, Currency, u64, PayoutStatus)> = Vec::new();
    let mut model: HashMap<(Code, Currency), Money4> = HashMap::new();
    // The reference of each day of traffic written.
    let mut days: Vec<String> = Vec::new();
    for (step, op) in ops.into_iter().enumerate() {
        let now = T + step as u64 * 60;
        match op {
            Op::Convert {
                partner,
                cents,
                currency,
            } => {
                let c = conversion(statuses.len(), partner, cents, currencies[currency], now);
                prop_assert_eq!(
                    store.insert_conversion(&c, None, None).unwrap(),
                    Inserted::New
                );
                for k in &c.commissions {
                    if k.amount.minor() > 0 {
                        model
                            .entry((k.partner, currencies[currency]))
                            .or_default()
                            .pending += i128::from(k.amount.minor());
                    }
                }
                statuses.push(Status::Pending);
            }
            Op::Status { order, to } => {
                let Some(from) = statuses.get(order).copied() else {
                    continue;
                };
                let to = [
                    Status::Approved,
                    Status::Paid,
                    Status::Rejected,
                    Status::Reversed,
                ][to];
                let id = format!("O-{order}");
                let before = store
                    .ledger_entries(&EntryFilter {
                        order_id: Some(id.clone()),
                        ..EntryFilter::default()
                    })
                    .unwrap();
                if !from.can_become(to) {
                    continue;
                }
                let changed = match store.set_status(&id, from, to, now) {
                    Ok(c) => c,
                    Err(e) => {
                        // Only `paid` by hand while a payout holds a commission.
                        prop_assert_eq!(to, Status::Paid);
                        prop_assert_eq!(e.code(), "conflict");
                        prop_assert!(before.iter().any(|e| e.state == EntryState::InPayout));
                        let after = store
                            .ledger_entries(&EntryFilter {
                                order_id: Some(id.clone()),
                                ..EntryFilter::default()
                            })
                            .unwrap();
                        prop_assert_eq!(&after, &before, "a refused change moved entries");
                        continue;
                    }
                };
                prop_assert!(
                    matches!(changed, StatusChange::Changed(_)),
                    "{} {:?} -> {:?}: {:?}",
                    id,
                    from,
                    to,
                    changed
                );
                model_status(&mut model, &before, to);
                statuses[order] = to;
            }
            Op::Payout {
                currency,
                min,
                up_to_step,
                partner,
            } => {
                let req = PayoutRequest {
                    currency: Some(currencies[currency]),
                    up_to: up_to_step.map(|s| T + s as u64 * 60),
                    min_minor: min,
                    partner: partner.map(|p| Code::new(PARTNERS[p]).unwrap()),
                };
                let key = format!("run-{}", runs.len());
                let PayoutsMade::Created(made) = store.create_payouts(&key, &req, now).unwrap()
                else {
                    return Err(TestCaseError::fail("a new key replayed"));
                };
                for p in &made {
                    prop_assert!(p.amount_minor > 0 && p.amount_minor >= min);
                    prop_assert_eq!(p.currency, currencies[currency]);
                    prop_assert_eq!(p.status, PayoutStatus::Pending);
                    let m = model.entry((p.partner, p.currency)).or_default();
                    m.due -= i128::from(p.amount_minor);
                    m.in_payout += i128::from(p.amount_minor);
                    payouts.push((
                        p.id.clone(),
                        p.partner,
                        p.currency,
                        p.amount_minor,
                        PayoutStatus::Pending,
                    ));
                }
                runs.push(Run {
                    key,
                    req,
                    ids: made.iter().map(|p| p.id.clone()).collect(),
                });
            }
            Op::Replay { run, other_request } => {
                let Some(r) = runs.get(run) else { continue };
                if other_request {
                    let other = PayoutRequest {
                        min_minor: r.req.min_minor + 1,
                        ..r.req.clone()
                    };
                    let e = store.create_payouts(&r.key, &other, now).unwrap_err();
                    prop_assert_eq!(e.code(), "conflict");
                } else {
                    let PayoutsMade::Replayed(again) =
                        store.create_payouts(&r.key, &r.req, now).unwrap()
                    else {
                        return Err(TestCaseError::fail("a used key made payouts again"));
                    };
                    let ids: Vec<String> = again.iter().map(|p| p.id.clone()).collect();
                    prop_assert_eq!(&ids, &r.ids);
                }
            }
            Op::Traffic {
                partner,
                cents,
                currency,
                payable,
            } => {
                let day = traffic_day(
                    days.len(),
                    partner,
                    cents,
                    currencies[currency],
                    payable,
                    now,
                );
                days.push(day[0].id.reference.clone());
                let days_written = [day.clone(), day.clone()];
                // The same day twice in one write, then again: written once.
                prop_assert_eq!(store.write_traffic(&days_written).unwrap(), day.len());
                prop_assert_eq!(store.write_traffic(&days_written[..1]).unwrap(), 0);
                model_traffic(&mut model, &day);
            }
            Op::TrafficMove { day, reject } => {
                let Some(reference) = days.get(day) else {
                    continue;
                };
                let before: Vec<_> = store
                    .ledger_entries(&EntryFilter {
                        order_id: Some(String::new()),
                        ..EntryFilter::default()
                    })
                    .unwrap()
                    .into_iter()
                    .filter(|e| e.id.reference == *reference)
                    .collect();
                if reject {
                    let now_entries = store.reject_traffic(reference, now).unwrap().unwrap();
                    prop_assert!(now_entries.iter().all(|e| matches!(
                        e.state,
                        EntryState::Void | EntryState::InPayout | EntryState::Paid
                    ) || e.id.kind == EntryKind::Clawback));
                    model_status(&mut model, &before, Status::Rejected);
                } else {
                    let pending = before
                        .iter()
                        .filter(|e| e.state == EntryState::Pending)
                        .count();
                    prop_assert_eq!(
                        store
                            .approve_traffic(std::slice::from_ref(reference), now)
                            .unwrap(),
                        pending
                    );
                    model_status(&mut model, &before, Status::Approved);
                }
            }
            Op::Adjust {
                partner,
                cents,
                currency,
                allow_negative,
            } => {
                let a = common::ledger::adjustment(
                    partner,
                    cents,
                    currencies[currency],
                    allow_negative,
                );
                let key = format!("adj-{step}");
                let before = store
                    .balances(&EntryFilter::default())
                    .unwrap()
                    .get(&(a.partner, a.currency()))
                    .copied()
                    .unwrap_or_default();
                match store.adjust(&key, &a, now) {
                    Ok(Adjusted::Created(e)) => {
                        prop_assert_eq!(e.signed_minor(), i128::from(cents));
                        model.entry((a.partner, a.currency())).or_default().due +=
                            i128::from(cents);
                        // The same key and request: a replay; another request: refused.
                        prop_assert!(matches!(
                            store.adjust(&key, &a, now).unwrap(),
                            Adjusted::Replayed(_)
                        ));
                        let other = common::ledger::adjustment(
                            partner,
                            cents + 1,
                            currencies[currency],
                            true,
                        );
                        prop_assert_eq!(
                            store.adjust(&key, &other, now).unwrap_err().code(),
                            "conflict"
                        );
                    }
                    Ok(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
                    Err(e) => {
                        prop_assert_eq!(e.code(), "conflict");
                        prop_assert!(
                            cents < 0
                                && !allow_negative
                                && before.payable - before.clawback + i128::from(cents) < 0
                        );
                    }
                }
            }
            Op::Refund { order, permille } => {
                if order >= statuses.len() {
                    continue;
                }
                let id = format!("O-{order}");
                let c = store.conversion(&id).unwrap().unwrap();
                let before = store
                    .ledger_entries(&EntryFilter {
                        order_id: Some(id.clone()),
                        ..EntryFilter::default()
                    })
                    .unwrap();
                let remaining = c.amount.minor() - c.refunded_minor();
                let amount = if permille >= 1000 {
                    remaining
                } else {
                    (remaining * u64::from(permille) / 1000).max(1)
                };
                let refund = Refund {
                    id: format!("R-{step}"),
                    amount: Money::from_minor(amount, c.amount.currency()),
                    at: now,
                };
                let new = match store.refund(&id, &refund, now) {
                    Ok(Refunded::Created(new)) => new,
                    Ok(other) => return Err(TestCaseError::fail(format!("{other:?}"))),
                    Err(e) => {
                        prop_assert!(
                            remaining == 0
                                || !matches!(
                                    c.status,
                                    Status::Pending | Status::Approved | Status::Paid
                                ),
                            "{}",
                            e
                        );
                        continue;
                    }
                };
                // A replay changes nothing.
                prop_assert!(matches!(
                    store.refund(&id, &refund, now).unwrap(),
                    Refunded::Replayed(_)
                ));
                if new.status == Status::Reversed {
                    model_status(&mut model, &before, Status::Reversed);
                } else {
                    let after = store
                        .ledger_entries(&EntryFilter {
                            order_id: Some(id.clone()),
                            ..EntryFilter::default()
                        })
                        .unwrap();
                    let added: Vec<_> = after
                        .into_iter()
                        .filter(|e| e.id.reference == refund.id)
                        .collect();
                    for a in &added {
                        let k = c
                            .commissions
                            .iter()
                            .find(|k| k.level == a.id.level)
                            .unwrap();
                        let want =
                            share(
                                k.amount.minor(),
                                c.amount.minor(),
                                c.refunded_minor() + amount,
                            ) - share(k.amount.minor(), c.amount.minor(), c.refunded_minor());
                        prop_assert_eq!(a.amount_minor, want);
                    }
                    model_refund(&mut model, &added);
                }
                statuses[order] = new.status;
            }
            Op::Settle { payout, paid } => {
                let Some(p) = payouts.get_mut(payout) else {
                    continue;
                };
                let to = if paid {
                    PayoutStatus::Paid
                } else {
                    PayoutStatus::Failed
                };
                let r = store.set_payout_status(&p.0, to, now);
                if p.4 != PayoutStatus::Pending {
                    prop_assert_eq!(r.unwrap_err().code(), "invalid_transition");
                    continue;
                }
                let got = r.unwrap().expect("a payout made is found");
                prop_assert_eq!(got.status, to);
                let m = model.entry((p.1, p.2)).or_default();
                m.in_payout -= i128::from(p.3);
                if paid {
                    m.paid += i128::from(p.3)
                } else {
                    m.due += i128::from(p.3)
                }
                p.4 = to;
                // Conversions whose entries are now all paid read `paid`.
                for (order, status) in statuses.iter_mut().enumerate() {
                    let now_status = store
                        .conversion(&format!("O-{order}"))
                        .unwrap()
                        .unwrap()
                        .status;
                    if *status == Status::Approved && now_status == Status::Paid {
                        *status = Status::Paid;
                    }
                    prop_assert_eq!(*status, now_status, "O-{} changed behind the model", order);
                }
            }
        }
        check(store, &model, &payouts, &statuses)?;
    }
    prop_assert!(
        store
            .set_payout_status("po_missing", PayoutStatus::Paid, T)
            .unwrap()
            .is_none()
    );
    Ok(())
}

fn check(
    store: &dyn Store,
    model: &HashMap<(Code, Currency), Money4>,
    payouts: &[(String, Code, Currency, u64, PayoutStatus)],
    statuses: &[Status],
) -> Result<(), TestCaseError> {
    let entries = store.ledger_entries(&EntryFilter::default()).unwrap();
    let stored = store.payouts(&PayoutFilter::default()).unwrap();
    prop_assert_eq!(stored.len(), payouts.len());
    let live: Vec<(String, u64)> = stored
        .iter()
        .filter(|p| p.status != PayoutStatus::Failed)
        .map(|p| (p.id.clone(), p.amount_minor))
        .collect();
    if let Err(e) = check_invariants(&entries, &live) {
        prop_assert!(false, "{}", e);
    }
    // No entry in two live payouts (a failed one gave its entries back).
    let mut held: HashSet<&EntryId> = HashSet::new();
    for p in stored.iter().filter(|p| p.status != PayoutStatus::Failed) {
        for id in &p.entries {
            prop_assert!(held.insert(id), "{:?} in two payouts", id);
        }
    }
    // The balances the store keeps equal the sums of its entries and the model.
    let got = store.balances(&EntryFilter::default()).unwrap();
    prop_assert_eq!(&got, &balances(&entries));
    let want: BTreeMap<(Code, Currency), Money4> = model
        .iter()
        .filter(|(_, v)| **v != Money4::default())
        .map(|(k, v)| (*k, *v))
        .collect();
    for ((partner, currency), b) in &got {
        let m = model
            .get(&(*partner, *currency))
            .copied()
            .unwrap_or_default();
        prop_assert_eq!(
            (b.pending, b.payable - b.clawback, b.in_payout, b.paid),
            (m.pending, m.due, m.in_payout, m.paid),
            "{} {}",
            partner,
            currency.code()
        );
    }
    for k in want.keys() {
        prop_assert!(got.contains_key(k), "{:?} missing from the balances", k);
    }
    // A conversion reads `paid` exactly when its commissions are all paid or void, and
    // its status agrees with its entries.
    for (order, status) in statuses.iter().enumerate() {
        let id = format!("O-{order}");
        let all: Vec<_> = entries
            .iter()
            .filter(|e| e.id.order_id == id)
            .cloned()
            .collect();
        if let Err(e) = check_agreement(*status, &all) {
            prop_assert!(false, "{}", e);
        }
        let mine: Vec<_> = entries
            .iter()
            .filter(|e| e.id.order_id == id && e.id.kind == EntryKind::Commission)
            .collect();
        let all_paid = !mine.is_empty()
            && mine
                .iter()
                .all(|e| matches!(e.state, EntryState::Paid | EntryState::Void))
            && mine.iter().any(|e| e.state == EntryState::Paid);
        if *status == Status::Approved {
            prop_assert!(!all_paid, "{} is approved with every entry paid", id);
        }
    }
    Ok(())
}

/// Two payout runs at once with different keys, and two with one key, on one store
/// full of payable entries: no entry twice, and one key makes one set.
fn concurrent_runs(store: Arc<dyn Store>) {
    let usd = usd_eur()[0];
    for i in 0..60 {
        let c = conversion(i, i % 3, 10_000 + i as u64, usd, T);
        store.insert_conversion(&c, None, None).unwrap();
        store
            .set_status(&c.order_id, Status::Pending, Status::Approved, T)
            .unwrap();
    }
    let before = store.balances(&EntryFilter::default()).unwrap();
    let due: i128 = before.values().map(|b| b.payable).sum();
    let run = |key: &'static str, partner: Option<&'static str>| {
        let store = store.clone();
        std::thread::spawn(move || {
            let req = PayoutRequest {
                currency: Some(usd),
                partner: partner.map(|p| Code::new(p).unwrap()),
                ..PayoutRequest::default()
            };
            store.create_payouts(key, &req, T + 60).unwrap()
        })
    };
    // c's own run and an all-partner run race for c's entries; two runs share a key.
    let threads = [run("only-c", Some("c")), run("all", None), run("all", None)];
    let made: Vec<PayoutsMade> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let (a, b) = (made[1].payouts(), made[2].payouts());
    assert_eq!(a, b, "one key, one set of payouts");
    assert_eq!(
        made.iter()
            .filter(|m| matches!(m, PayoutsMade::Created(_)))
            .count(),
        2
    );
    let mut seen = HashSet::new();
    let mut total = 0;
    for p in made[0].payouts().iter().chain(a) {
        total += i128::from(p.amount_minor);
        for id in &p.entries {
            assert!(seen.insert(id.clone()), "{id:?} in two payouts");
        }
    }
    assert_eq!(total, due, "every payable entry paid out once");
    let after = store.balances(&EntryFilter::default()).unwrap();
    assert_eq!(after.values().map(|b| b.in_payout).sum::<i128>(), due);
    assert_eq!(after.values().map(|b| b.payable).sum::<i128>(), 0);
    // Paid: every conversion reads `paid`; a refund of one is clawed back.
    for p in made[0].payouts().iter().chain(a) {
        let paid = store
            .set_payout_status(&p.id, PayoutStatus::Paid, T + 120)
            .unwrap()
            .unwrap();
        assert_eq!((paid.status, paid.updated), (PayoutStatus::Paid, T + 120));
    }
    for i in 0..60 {
        assert_eq!(
            store.conversion(&format!("O-{i}")).unwrap().unwrap().status,
            Status::Paid,
            "O-{i}"
        );
    }
    let e = store
        .set_payout_status(&a[0].id, PayoutStatus::Failed, T + 180)
        .unwrap_err();
    assert_eq!(e.code(), "invalid_transition");
    store
        .set_status("O-0", Status::Paid, Status::Reversed, T + 180)
        .unwrap();
    let owed: i128 = store
        .balances(&EntryFilter::default())
        .unwrap()
        .values()
        .map(|b| b.clawback)
        .sum();
    assert_eq!(owed, 1000 + 100 + 50, "O-0's three commissions owed back");
}

/// Through the tracker: every bad payout input is a typed error and changes nothing;
/// `up_to` and `min_amount` hold back what they should.
fn tracker_payouts(store: Arc<dyn Store>) {
    use affiliate_sdk::ManualConversion;
    use affiliate_sdk::ledger::PayoutRunSpec;
    let (t, clock) = common::conformance::tracker(store.clone());
    let sale =
        |id: &str, amount: &str| ManualConversion::sale(id, amount, "USD", "haircare", "abc123");
    t.manual(&sale("P-1", "100.00")).unwrap();
    t.manual(&sale("P-2", "20.00")).unwrap();
    t.set_status("P-1", Status::Approved).unwrap();
    clock.advance_secs(2 * 86_400);
    t.set_status("P-2", Status::Approved).unwrap();
    let spec = |f: &dyn Fn(&mut PayoutRunSpec)| {
        let mut s = PayoutRunSpec {
            currency: "USD".into(),
            ..PayoutRunSpec::default()
        };
        f(&mut s);
        s
    };
    let before = t.balances(None, None).unwrap();
    let bad: Vec<(&str, PayoutRunSpec, &str)> = vec![
        ("k1", spec(&|s| s.currency = "XYZ".into()), "malformed"),
        ("k1", spec(&|s| s.currency = String::new()), "malformed"),
        (
            "k1",
            spec(&|s| s.min_amount = Some("-1.00".into())),
            "malformed",
        ),
        (
            "k1",
            spec(&|s| s.min_amount = Some("1,00".into())),
            "malformed",
        ),
        (
            "k1",
            spec(&|s| s.min_amount = Some("1.001".into())),
            "malformed",
        ),
        (
            "k1",
            spec(&|s| s.up_to = Some("2026-13-01".into())),
            "malformed",
        ),
        (
            "k1",
            spec(&|s| s.partner = Some("nobody".into())),
            "unknown_partner",
        ),
        ("k1", spec(&|s| s.partner = Some("a b".into())), "malformed"),
        ("", spec(&|_| {}), "malformed"),
        ("k\u{7f}", spec(&|_| {}), "malformed"),
    ];
    for (key, spec, code) in &bad {
        assert_eq!(
            t.create_payouts(key, spec).unwrap_err().code(),
            *code,
            "{key:?} {spec:?}"
        );
    }
    assert!(
        t.payouts(None, None, None).unwrap().is_empty(),
        "a refused run made nothing"
    );
    assert_eq!(t.balances(None, None).unwrap(), before);
    // Up to the first day: P-1's commissions only (P-2 was approved two days later).
    let day0 = affiliate_sdk::format_time(common::conformance::T0)[..10].to_owned();
    let first = spec(&|s| s.up_to = Some(day0.clone()));
    let made = t.create_payouts("k1", &first).unwrap();
    let amounts: Vec<(String, String)> = made
        .payouts()
        .iter()
        .map(|p| (p.partner.to_string(), p.amount().to_string()))
        .collect();
    assert_eq!(
        amounts,
        [
            ("abc123".into(), "10.00".into()),
            ("boss".into(), "0.50".into()),
            ("mid".into(), "1.00".into())
        ]
    );
    // The key again with another body: conflict, nothing changed.
    let after_run = t.balances(None, None).unwrap();
    assert_eq!(
        t.create_payouts("k1", &spec(&|_| {})).unwrap_err().code(),
        "conflict"
    );
    assert_eq!(t.balances(None, None).unwrap(), after_run);
    // A minimum holds back the small ones.
    let made = t
        .create_payouts("k2", &spec(&|s| s.min_amount = Some("1.00".into())))
        .unwrap();
    let partners: Vec<String> = made
        .payouts()
        .iter()
        .map(|p| p.partner.to_string())
        .collect();
    assert_eq!(partners, ["abc123"], "mid's 0.20 and boss's 0.10 wait");
    // Status moves.
    let id = made.payouts()[0].id.clone();
    assert_eq!(
        t.set_payout_status(&id, "pending").unwrap_err().code(),
        "invalid_transition"
    );
    assert_eq!(
        t.set_payout_status(&id, "lost").unwrap_err().code(),
        "malformed"
    );
    assert_eq!(
        t.set_payout_status("po_000000000000000000000000", "paid")
            .unwrap_err()
            .code(),
        "not_found"
    );
    assert_eq!(
        t.set_payout_status("../etc", "paid").unwrap_err().code(),
        "not_found"
    );
    assert_eq!(t.payout("po_nope").unwrap_err().code(), "not_found");
    assert_eq!(
        t.set_payout_status(&id, "failed").unwrap().status,
        PayoutStatus::Failed
    );
    assert_eq!(
        t.set_payout_status(&id, "paid").unwrap_err().code(),
        "invalid_transition"
    );
    assert_eq!(t.payout(&id).unwrap().status, PayoutStatus::Failed);
    assert_eq!(t.balances(Some("abc123"), None).unwrap()[0].2.payable, 200);
    assert_eq!(t.payouts(None, None, Some("failed")).unwrap().len(), 1);
    assert_eq!(
        t.payouts(Some("abc123"), Some("USD"), None).unwrap().len(),
        2
    );
    assert_eq!(
        t.payouts(None, None, Some("lost")).unwrap_err().code(),
        "malformed"
    );
    let csv = t.payouts_csv(None, None, None).unwrap();
    assert!(
        csv.starts_with(
            "id,partner,name,payout_details,currency,amount,entries,status,created,updated\r\n"
        ),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 5);
}

fn sled() -> (Arc<dyn Store>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path()).unwrap();
    (Arc::new(store), dir)
}

#[cfg(feature = "postgres")]
fn postgres() -> Arc<dyn Store> {
    Arc::new(common::fresh_pg_store(&affiliate_sdk::store::StoreLimits::default()).0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]
    #[test]
    fn memory_follows_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        drive(&MemoryStore::new(), ops)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]
    #[test]
    fn sled_follows_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        let (store, _dir) = sled();
        drive(store.as_ref(), ops)?;
    }
}

#[cfg(feature = "postgres")]
proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]
    #[test]
    fn postgres_follows_the_model(ops in proptest::collection::vec(op(), 1..80)) {
        drive(postgres().as_ref(), ops)?;
    }
}

#[test]
fn memory_tracker_payouts() {
    tracker_payouts(Arc::new(MemoryStore::new()));
}

#[test]
fn sled_tracker_payouts() {
    let (store, _dir) = sled();
    tracker_payouts(store);
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_tracker_payouts() {
    tracker_payouts(postgres());
}

#[test]
fn memory_runs_at_once() {
    concurrent_runs(Arc::new(MemoryStore::new()));
}

#[test]
fn sled_runs_at_once() {
    let (store, _dir) = sled();
    concurrent_runs(store);
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_runs_at_once() {
    concurrent_runs(postgres());
}
