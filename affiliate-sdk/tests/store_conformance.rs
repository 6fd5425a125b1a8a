//! The store conformance suite, run against every store built here.

mod common;

store_conformance!(memory, |limits| (
    std::sync::Arc::new(affiliate_sdk::MemoryStore::with_limits(limits))
        as std::sync::Arc<dyn affiliate_sdk::Store>,
    ()
));

store_conformance!(sled, |limits| {
    let dir = tempfile::tempdir().unwrap();
    let store = affiliate_sdk::SledStore::open_with(dir.path(), limits).unwrap();
    (
        std::sync::Arc::new(store) as std::sync::Arc<dyn affiliate_sdk::Store>,
        dir,
    )
});

// Against the database in `AFFILIATE_TEST_POSTGRES_URL` (`./scripts/test` starts a
// throwaway cluster and sets it), each test in a schema of its own.
#[cfg(feature = "postgres")]
store_conformance!(postgres, |limits| {
    let (store, schema) = common::fresh_pg_store(limits);
    (
        std::sync::Arc::new(store) as std::sync::Arc<dyn affiliate_sdk::Store>,
        schema,
    )
});
