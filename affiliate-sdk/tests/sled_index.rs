//! `SledStore` reads a report's conversions through its day index; a database written
//! before the index existed is indexed when it is opened.
#![cfg(feature = "sled")]

mod common;

use std::sync::Arc;

use affiliate_sdk::store::day_of;
use affiliate_sdk::{ManualConversion, SledStore, Store};
use common::conformance::{DAY, T0, tracker};

#[test]
fn a_database_from_before_the_day_index_is_indexed_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let store: Arc<dyn Store> = Arc::new(SledStore::open(&path).unwrap());
        let (t, clock) = tracker(store.clone());
        for (i, days) in [0u64, 1, 1, 3].into_iter().enumerate() {
            clock.set_secs(T0 + days * DAY);
            t.manual(&ManualConversion {
                order_id: format!("o-{i}"),
                amount: "10.00".into(),
                currency: "USD".into(),
                kind: "sale".into(),
                campaign: "haircare".into(),
                partner: "solo".into(),
                ..Default::default()
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
