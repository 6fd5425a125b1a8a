//! What a `PostgresStore` keeps: an erased customer's id is in no row of any table,
//! and pruned clicks' rows are gone.
#![cfg(feature = "postgres")]

mod common;

use std::sync::Arc;

use affiliate_sdk::Store;
use common::conformance::{DAY, sales_of_customer, tracker};

/// The tables of `schema` whose rows, as text, contain `needle`, with how many.
fn tables_holding(schema: &str, needle: &str) -> Vec<(String, i64)> {
    let url = std::env::var("AFFILIATE_TEST_POSTGRES_URL").unwrap();
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let tables: Vec<String> = c
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
            &[&schema],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(tables.len() > 10, "{tables:?}");
    tables
        .into_iter()
        .filter_map(|t| {
            // bytea columns print as hex: look for the id's hex too.
            let hex: String = needle.bytes().map(|b| format!("{b:02x}")).collect();
            let n: i64 = c
                .query_one(
                    &format!(
                        "SELECT count(*) FROM {schema}.{t} r
                         WHERE strpos(r::text, $1) > 0 OR strpos(r::text, $2) > 0"
                    ),
                    &[&needle, &hex],
                )
                .unwrap()
                .get(0);
            (n > 0).then_some((t, n))
        })
        .collect()
}

#[test]
fn an_erased_customer_id_is_in_no_row_and_pruned_clicks_are_gone() {
    const ID: &str = "cust-erase-pg-51d0";
    let (store, schema) = common::fresh_pg_store(&Default::default());
    let store: Arc<dyn Store> = Arc::new(store);
    let (t, clock) = tracker(store.clone());
    sales_of_customer(&t, &clock, ID, &["p1", "p2", "p3"]);
    store.flush().unwrap();
    let before = tables_holding(&schema, ID);
    for table in [
        "affiliate_conversions",
        "affiliate_customers",
        "affiliate_outbox",
        "affiliate_deliveries",
    ] {
        assert!(
            before.iter().any(|(t, _)| t == table),
            "{table} not in {before:?}"
        );
    }
    let erased = t.erase_customer(ID).unwrap();
    assert_eq!(
        (erased.conversions, erased.bindings, erased.rewrite_pending),
        (3, 1, false)
    );
    assert_eq!(tables_holding(&schema, ID), Vec::<(String, i64)>::new());

    // Pruning: the click's row goes, the reports stay.
    let url = std::env::var("AFFILIATE_TEST_POSTGRES_URL").unwrap();
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let clicks = |c: &mut postgres::Client| -> i64 {
        c.query_one(
            &format!("SELECT count(*) FROM {schema}.affiliate_clicks"),
            &[],
        )
        .unwrap()
        .get(0)
    };
    assert_eq!(clicks(&mut c), 1);
    let q = affiliate_sdk::StatsQuery::new(&[affiliate_sdk::Dimension::Partner]);
    let stats = t.stats(&q).unwrap();
    clock.advance_secs(40 * DAY);
    assert_eq!(t.prune_clicks(30).unwrap(), 1);
    assert_eq!(clicks(&mut c), 0);
    assert_eq!(t.stats(&q).unwrap(), stats);
}
