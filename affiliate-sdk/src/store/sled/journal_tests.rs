//! The money journal end to end: a store whose sled files lost every money write
//! since they were copied gets them all back from the journal.

use std::sync::Arc;

use super::super::SledStore;
use super::TX_TREES;
use crate::{
    CampaignSpec, Keyring, LinkSigner, ManualConversion, PartnerSpec, RefundRequest, Status,
    Tracker,
};

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every key and value of the money trees.
fn money_trees(store: &SledStore) -> Vec<Vec<(Vec<u8>, Vec<u8>)>> {
    TX_TREES
        .iter()
        .map(|name| {
            store
                .db
                .open_tree(name)
                .unwrap()
                .iter()
                .map(|kv| {
                    let (k, v) = kv.unwrap();
                    (k.to_vec(), v.to_vec())
                })
                .collect()
        })
        .collect()
}

#[test]
fn money_writes_sled_lost_are_replayed_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let (live, copy) = (dir.path().join("live"), dir.path().join("copy"));
    let store = Arc::new(SledStore::open(&live).unwrap());
    let tracker = Tracker::new(
        LinkSigner::new(Keyring::generate().unwrap(), "https://t.example/go").unwrap(),
        store.clone(),
    );
    let mut campaign = CampaignSpec::new("haircare", "https://shop.example/", "USD");
    campaign.sale_percent = Some("10".into());
    tracker.add_campaign(&campaign).unwrap();
    tracker.add_partner(&PartnerSpec::new("abc123")).unwrap();
    // sled's files as they are now: none of the money writes below.
    store.db.flush().unwrap();
    copy_dir(&live, &copy);
    for i in 0..50 {
        let mut m = ManualConversion::default();
        (m.order_id, m.amount, m.currency, m.kind) = (
            format!("A-{i}"),
            "49.90".into(),
            "USD".into(),
            "sale".into(),
        );
        (m.campaign, m.partner) = ("haircare".into(), "abc123".into());
        tracker.manual(&m).unwrap();
    }
    tracker.set_status("A-1", Status::Approved).unwrap();
    tracker
        .refund("A-2", &RefundRequest::new("R-1", "10.00"))
        .unwrap();
    let want = money_trees(&store);
    assert!(want[0].len() >= 50, "{} conversions", want[0].len());
    // The journal as it is now (every write acknowledged), beside the old files.
    std::fs::copy(super::path_of(&live), super::path_of(&copy)).unwrap();
    let reopened = SledStore::open(&copy).unwrap();
    assert_eq!(money_trees(&reopened), want);
    // Replayed once: the journal is empty, and opening again changes nothing.
    assert_eq!(std::fs::metadata(super::path_of(&copy)).unwrap().len(), 0);
    drop(reopened);
    assert_eq!(money_trees(&SledStore::open(&copy).unwrap()), want);
}
