//! The store conformance suite, run against every store built here.

mod common;

store_conformance!(memory, || (
    std::sync::Arc::new(affiliate_sdk::MemoryStore::new())
        as std::sync::Arc<dyn affiliate_sdk::Store>,
    ()
));

store_conformance!(sled, || {
    let dir = tempfile::tempdir().unwrap();
    let store = affiliate_sdk::SledStore::open(dir.path()).unwrap();
    (
        std::sync::Arc::new(store) as std::sync::Arc<dyn affiliate_sdk::Store>,
        dir,
    )
});
