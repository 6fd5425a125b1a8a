//! What a `SledStore` leaves on disk: an erased customer's id is in no file, and the
//! space of pruned clicks is used again.
#![cfg(feature = "sled")]

mod common;

use std::path::Path;
use std::sync::Arc;

use affiliate_sdk::{SledStore, Store};
use common::conformance::{DAY, sales_of_customer, tracker};
use common::copy_dir;

/// Every file under `dir`, read whole.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            // (sled replaces its snapshot files as it goes: one may be gone by now.)
            out.push((path.display().to_string(), bytes));
        }
    }
    out
}

fn holds(dir: &Path, needle: &[u8]) -> Vec<String> {
    files(dir)
        .into_iter()
        .filter(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle))
        .map(|(name, _)| name)
        .collect()
}

#[test]
fn an_erased_customer_id_is_in_no_file_of_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    const ID: &str = "cust-erase-7c1e40";
    {
        let store: Arc<dyn Store> = Arc::new(SledStore::open(&path).unwrap());
        let (t, clock) = tracker(store.clone());
        sales_of_customer(&t, &clock, ID, &["s1", "s2", "s3"]);
        store.flush().unwrap();
        assert!(!holds(&path, ID.as_bytes()).is_empty(), "written");
        let erased = t.erase_customer(ID).unwrap();
        assert_eq!((erased.conversions, erased.bindings), (3, 1));
        assert!(erased.events >= 3, "{erased:?}");
        // sled's log still holds the earlier versions until the store is next opened.
        assert!(erased.rewrite_pending);
        clock.advance_secs(DAY);
    }
    // Opened again: the database is rewritten into a fresh directory.
    // The money journal beside the directory was emptied by the erasure itself.
    let journal = dir.path().join("db.journal");
    assert_eq!(std::fs::metadata(&journal).unwrap().len(), 0);
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&path).unwrap());
    let left = holds(dir.path(), ID.as_bytes());
    assert!(left.is_empty(), "the id is still in {left:?}");
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["db", "db.journal"],
        "only the database directory and its journal are left"
    );
    // Everything else is there, and the outbox goes on after its last event.
    let (t, clock) = tracker(store.clone());
    for order in ["s1", "s2", "s3"] {
        let c = t.conversion(order).unwrap();
        assert_eq!((c.customer_id, c.link.partner.as_str()), (None, "abc123"));
    }
    let before: Vec<u64> = store
        .outbox(1000)
        .unwrap()
        .iter()
        .map(|(n, _)| *n)
        .collect();
    assert!(!before.is_empty());
    clock.advance_secs(DAY);
    t.manual(&{
        let mut v = affiliate_sdk::ManualConversion::default();
        v.order_id = "after".into();
        v.amount = "1.00".into();
        v.currency = "USD".into();
        v.kind = "sale".into();
        v.campaign = "haircare".into();
        v.partner = "solo".into();
        v
    })
    .unwrap();
    let after = store.outbox(1000).unwrap();
    assert_eq!(after.len(), before.len() + 1);
    assert!(after.last().unwrap().0 > *before.last().unwrap());
    assert_eq!(
        t.erase_customer(ID).unwrap(),
        affiliate_sdk::store::Erased::default()
    );
}

#[test]
fn the_space_of_pruned_clicks_is_given_back_when_the_store_is_next_opened() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
    let (t, clock) = tracker(store.clone());
    let size = || {
        store.flush().unwrap();
        files(dir.path())
            .iter()
            .map(|(_, b)| b.len() as u64)
            .sum::<u64>()
    };
    let click_many = |n: usize| {
        for i in 0..n {
            let url = t
                .signer()
                .build("haircare", "abc123", None, Some(&format!("s{}", i % 50)))
                .unwrap();
            t.click(&url, None).unwrap();
            if i % 1000 == 0 {
                clock.advance_secs(1);
            }
        }
    };
    const N: usize = 40_000;
    let empty = size();
    click_many(N);
    let full = size();
    let q = affiliate_sdk::StatsQuery::new(&[affiliate_sdk::Dimension::Sid]);
    let stats = t.stats(&q).unwrap();
    // 60 days on, the clicks are past a retention of 30 days (and every window).
    clock.advance_secs(60 * DAY);
    assert_eq!(t.prune_clicks(30).unwrap(), N);
    assert_eq!(t.stats(&q).unwrap(), stats, "the reports stay");
    // Opened again (the server's next start): the database is rewritten without them.
    drop(t);
    drop(store);
    let took = std::time::Instant::now();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(dir.path()).unwrap());
    let took = took.elapsed();
    let after = {
        store.flush().unwrap();
        files(dir.path())
            .iter()
            .map(|(_, b)| b.len() as u64)
            .sum::<u64>()
    };
    println!(
        "sled files: {} KiB empty, {} KiB with {N} clicks, {} KiB after pruning them and \
         opening again (rewritten in {took:?})",
        empty / 1024,
        full / 1024,
        after / 1024
    );
    assert!(
        after < empty + (full - empty) / 4,
        "{after} bytes after pruning, {full} before: the space was not given back"
    );
    let (t, _) = tracker(store);
    assert_eq!(
        t.stats(&q).unwrap(),
        stats,
        "the reports stay after the rewrite"
    );
}

#[test]
fn a_rewrite_cut_short_at_any_step_is_finished_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let beside = |s: &str| dir.path().join(format!("db{s}"));
    {
        let store: Arc<dyn Store> = Arc::new(SledStore::open(&path).unwrap());
        let (t, clock) = tracker(store.clone());
        sales_of_customer(&t, &clock, "cust-cut", &["k1"]);
        assert!(t.erase_customer("cust-cut").unwrap().rewrite_pending);
    }
    assert!(beside(".compact").exists());
    // Cut short after the old directory was moved aside and the copy made, before it
    // was moved in.
    std::fs::rename(&path, beside(".old")).unwrap();
    copy_dir(&beside(".old"), &beside(".compacting"));
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&path).unwrap());
    assert!(!beside(".old").exists() && !beside(".compacting").exists());
    assert!(!beside(".compact").exists());
    assert_eq!(store.conversion("k1").unwrap().unwrap().customer_id, None);
    drop(store);
    // Cut short while copying: a partial copy is thrown away and made again.
    std::fs::File::create(beside(".compact")).unwrap();
    std::fs::create_dir_all(beside(".compacting")).unwrap();
    std::fs::write(beside(".compacting").join("db"), b"half a copy").unwrap();
    let store: Arc<dyn Store> = Arc::new(SledStore::open(&path).unwrap());
    assert!(!beside(".compacting").exists() && !beside(".compact").exists());
    assert_eq!(store.conversion("k1").unwrap().unwrap().order_id, "k1");
}
