//! `SledStore`'s money journal end to end: a store whose sled files lost every money
//! write since they were copied gets them all back from `<dir>.journal`.
#![cfg(feature = "sled")]

mod common;

use std::path::Path;
use std::sync::Arc;

use affiliate_sdk::ledger::EntryFilter;
use affiliate_sdk::store::{ClickSink, ConversionReads, LedgerReads, Outbox};
use affiliate_sdk::{
    CampaignSpec, Keyring, LinkSigner, ManualConversion, PartnerSpec, RefundRequest, SledStore,
    Status, Tracker,
};
use common::copy_dir;

fn journal(dir: &Path) -> std::path::PathBuf {
    let mut name = dir.as_os_str().to_owned();
    name.push(".journal");
    name.into()
}

/// What the money writes below leave: the records, every ledger entry, the outbox.
fn money(store: &SledStore) -> (Vec<String>, String, String) {
    let records = (0..50)
        .map(|i| {
            let c = store
                .conversion(&format!("A-{i}"))
                .unwrap()
                .expect("recorded");
            serde_json::to_string(&c).unwrap()
        })
        .collect();
    let entries = store.ledger_entries(&EntryFilter::default()).unwrap();
    let outbox = store.outbox(10_000).unwrap();
    (records, format!("{entries:?}"), format!("{outbox:?}"))
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
    store.flush().unwrap();
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
    let want = money(&store);
    assert!(want.1.contains("A-49") && want.2.contains("A-49"));
    // The journal as it is now (every write acknowledged), beside the old files.
    std::fs::copy(journal(&live), journal(&copy)).unwrap();
    let reopened = SledStore::open(&copy).unwrap();
    assert_eq!(money(&reopened), want);
    // Applied once: the journal is empty, and opening again changes nothing.
    assert_eq!(std::fs::metadata(journal(&copy)).unwrap().len(), 0);
    drop(reopened);
    assert_eq!(money(&SledStore::open(&copy).unwrap()), want);
}
