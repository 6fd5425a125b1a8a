//! `SledStore` reads a report's conversions through its day index; a database written
//! before the index existed is indexed when it is opened.
#![cfg(feature = "sled")]

mod common;

use affiliate_sdk::store::{ConversionReads, LedgerReads};
use std::sync::Arc;

use affiliate_sdk::store::day_of;
use affiliate_sdk::{ManualConversion, SledStore, Store};
use common::conformance::{DAY, T0, tracker};
use common::copy_dir;

#[test]
fn a_database_from_before_the_day_index_is_indexed_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let store: Arc<dyn Store> = Arc::new(SledStore::open(&path).unwrap());
        let (t, clock) = tracker(store.clone());
        for (i, days) in [0u64, 1, 1, 3].into_iter().enumerate() {
            clock.set_secs(T0 + days * DAY);
            t.manual(&{
                let mut v = ManualConversion::default();
                v.order_id = format!("o-{i}");
                v.amount = "10.00".into();
                v.currency = "USD".into();
                v.kind = "sale".into();
                v.campaign = "haircare".into();
                v.partner = "solo".into();
                v
            })
            .unwrap();
        }
        assert_eq!(store.conversions(0, u32::MAX).unwrap().len(), 4);
    }
    // What a database of an earlier version looks like: no index, no marker.
    {
        let db = sled::open(&path).unwrap();
        assert!(db.drop_tree("conversions-by-day").unwrap());
        assert!(db.remove("conversions-by-day:v1").unwrap().is_some());
        db.flush().unwrap();
    }
    let store = SledStore::open(&path).unwrap();
    let day = day_of(T0);
    let ids = |from: u32, to: u32| {
        let mut v: Vec<String> = store
            .conversions(from, to)
            .unwrap()
            .into_iter()
            .map(|c| c.order_id)
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids(day, day), ["o-0"]);
    assert_eq!(ids(day + 1, day + 1), ["o-1", "o-2"]);
    assert_eq!(ids(day + 2, day + 3), ["o-3"]);
    assert_eq!(ids(0, u32::MAX).len(), 4);
}

/// A database written by the release before the program was stored (a fixture made
/// by `tests/fixtures/sled-before-program.rs.txt` at that release: one click, one
/// sale with a customer id) opens, keeps its data, and stores a program.
#[test]
fn a_database_from_before_the_program_was_stored_opens_and_takes_a_program() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sled-before-program");
    copy_dir(&fixture, &path);
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&path).unwrap());
    let old = store.conversion("OLD-1").unwrap().expect("the old sale");
    assert_eq!(
        (old.amount.to_string(), old.link.partner.as_str()),
        ("49.90".into(), "abc123")
    );
    assert_eq!(old.customer_id.as_deref(), Some("cust-1"));
    let counted: u64 = store
        .counters(0, u32::MAX, None)
        .unwrap()
        .values()
        .map(|c| c.clicks)
        .sum();
    assert_eq!(counted, 1);
    assert_eq!(store.program_version().unwrap(), 0);
    // The ledger, which that release did not keep, is built from its conversions.
    let entries = store
        .ledger_entries(&affiliate_sdk::ledger::EntryFilter::default())
        .unwrap();
    let got: Vec<(String, u64, affiliate_sdk::ledger::EntryState)> = entries
        .iter()
        .map(|e| (e.partner.to_string(), e.amount_minor, e.state))
        .collect();
    assert_eq!(
        got,
        [(
            "abc123".into(),
            499,
            affiliate_sdk::ledger::EntryState::Pending
        )]
    );
    // And the balances it sums as it writes, from those entries.
    let sums = store
        .balances(&affiliate_sdk::ledger::EntryFilter::default())
        .unwrap();
    assert_eq!(sums, affiliate_sdk::ledger::balances(&entries));
    assert_eq!(sums.values().next().unwrap().pending, 499);

    let signer =
        affiliate_sdk::LinkSigner::new(common::vector_keyring(), "https://t.shop.example/go")
            .unwrap();
    let t = affiliate_sdk::Tracker::open(signer.clone(), store.clone()).unwrap();
    assert!(t.partners().is_empty(), "that release kept no program");
    let mut hair = affiliate_sdk::CampaignSpec::new("haircare", "https://shop.example/hair", "USD");
    hair.sale_percent = Some("10".into());
    t.add_campaign(&hair).unwrap();
    t.add_partner(&affiliate_sdk::PartnerSpec::new("abc123"))
        .unwrap();
    drop(t);
    drop(store);
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&path).unwrap());
    let t = affiliate_sdk::Tracker::open(signer, store).unwrap();
    assert!(t.partner("abc123").is_some() && t.campaign("haircare").is_some());
    assert_eq!(t.conversion("OLD-1").unwrap().order_id, "OLD-1");
}

/// A directory another process (or another store in this one) holds is refused with an
/// error that names it and says what to use instead.
#[test]
fn a_directory_in_use_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let _first = affiliate_sdk::SledStore::open(dir.path()).unwrap();
    let e = affiliate_sdk::SledStore::open(dir.path()).unwrap_err();
    assert_eq!(e.code(), "store_unavailable");
    let m = e.to_string();
    assert!(
        m.contains(&dir.path().display().to_string()) && m.contains("use PostgresStore"),
        "{m}"
    );
}

/// A database written before the ledger (no entries, no sums, no markers) gets each
/// conversion's entries and the sums when it is opened, through the core's sequence
/// over the transactional port: the balances are what they were.
#[test]
fn a_database_from_before_the_ledger_gets_its_entries_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let orders = 2_500; // more than one batch of the backfill
    let before = {
        let store: Arc<dyn Store> = Arc::new(SledStore::open(&path).unwrap());
        let (t, _) = tracker(store.clone());
        for i in 0..orders {
            let mut v = ManualConversion::default();
            v.order_id = format!("o-{i}");
            v.amount = "10.00".into();
            v.currency = "USD".into();
            v.kind = "sale".into();
            v.campaign = "haircare".into();
            v.partner = "solo".into();
            t.manual(&v).unwrap();
        }
        let balances = store
            .balances(&affiliate_sdk::ledger::EntryFilter::default())
            .unwrap();
        assert!(!balances.is_empty());
        balances
    };
    {
        let db = sled::open(&path).unwrap();
        for tree in ["ledger", "ledger-sums"] {
            assert!(db.drop_tree(tree).unwrap(), "{tree}");
        }
        for marker in ["ledger:v1", "ledger-sums:v1"] {
            assert!(db.remove(marker).unwrap().is_some(), "{marker}");
        }
        db.flush().unwrap();
    }
    {
        let store = SledStore::open(&path).unwrap();
        assert!(
            store
                .balances(&affiliate_sdk::ledger::EntryFilter::default())
                .unwrap()
                == before
        );
        let entries = store
            .ledger_entries(&affiliate_sdk::ledger::EntryFilter::default())
            .unwrap();
        assert_eq!(entries.len(), orders);
    }
    // Once: opening again changes nothing.
    let store = SledStore::open(&path).unwrap();
    assert!(
        store
            .balances(&affiliate_sdk::ledger::EntryFilter::default())
            .unwrap()
            == before
    );
}
