//! PostgresStore's own tests (the conformance suite runs in `tests/`): TLS and
//! batches whose commit answer was lost.

use super::*;
use crate::store::{ClickRecord, ClickSink, LedgerReads, ProgramRecords};
use crate::{Code, Currency, Link};
use r2d2_postgres::postgres::Client;

/// Whether the server sees the connection as TLS.
fn over_tls(c: &mut Client) -> bool {
    c.query_one(
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        &[],
    )
    .unwrap()
    .get(0)
}

/// `sslmode=require` is TLS with the server's certificate verified; anything else
/// is plain TCP. The test cluster (scripts/pg-cluster) accepts both, with a
/// certificate for 127.0.0.1 from a throwaway CA in `$AFFILIATE_TEST_PG_DIR/tls`.
#[test]
fn tls_is_used_for_sslmode_require_and_the_certificate_is_verified() {
    let url = std::env::var("AFFILIATE_TEST_POSTGRES_URL")
        .expect("AFFILIATE_TEST_POSTGRES_URL must name a database (./scripts/test starts one)");
    let dir = std::env::var("AFFILIATE_TEST_PG_DIR")
        .expect("AFFILIATE_TEST_PG_DIR must name the cluster's directory");
    let ca = std::fs::read_to_string(format!("{dir}/tls/ca.pem")).unwrap();
    let tls_url = format!("{url}?sslmode=require");

    let store = PostgresStore::open_with_ca(&tls_url, Some(&ca)).unwrap();
    assert!(over_tls(&mut store.inner.pool.get().unwrap()));
    // The store works over it (the conformance suite covers the rest).
    assert_eq!(store.conversion("no-such-order").unwrap(), None);

    // `prefer` (the default) and `disable` stay plain; with a CA they are refused
    // (the CA would be ignored and the connection silently in the clear).
    for plain in [
        url.clone(),
        format!("{url}?sslmode=prefer"),
        format!("{url}?sslmode=disable"),
    ] {
        let store = PostgresStore::open(&plain).unwrap();
        assert!(!over_tls(&mut store.inner.pool.get().unwrap()), "{plain}");
        let err = PostgresStore::open_with_ca(&plain, Some(&ca)).unwrap_err();
        assert_eq!(err.code(), "malformed", "{err}");
        assert!(err.to_string().contains("sslmode=require"), "{err}");
    }

    // Public roots do not vouch for the test CA's certificate: refused, not
    // downgraded to plain.
    let err = PostgresStore::open(&tls_url).unwrap_err();
    assert_eq!(err.code(), "store_unavailable", "{err}");
    assert!(err.to_string().contains("certificate"), "{err}");

    // A CA that is not PEM, or PEM without a certificate, is malformed input.
    for bad in [
        "not a certificate",
        "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n",
    ] {
        let err = PostgresStore::open_with_ca(&tls_url, Some(bad)).unwrap_err();
        assert_eq!(err.code(), "malformed", "{err}");
    }
}

/// What the conformance suite cannot reach: a click batch whose commit went
/// through but whose answer was lost. Written again, it must count once.
#[test]
fn a_batch_written_again_after_a_lost_answer_counts_once() {
    let url = std::env::var("AFFILIATE_TEST_POSTGRES_URL")
        .expect("AFFILIATE_TEST_POSTGRES_URL must name a database (./scripts/test starts one)");
    let schema = format!("batch_once_{}", std::process::id());
    let mut admin = Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
        ))
        .unwrap();
    let store = PostgresStore::open(&format!("{url}?options=-c%20search_path%3D{schema}")).unwrap();
    let link = Link::new(Code::new("c").unwrap(), Code::new("p").unwrap());
    for i in 1..=3u8 {
        store
            .record_click(&ClickRecord {
                click_id: crate::ClickId::from_bytes([i; 16]),
                link,
                at: 1_700_000_000,
                unique: true,
                currency: Currency::new("USD").unwrap(),
                commission_minor: 5,
                paid_cap: 0,
            })
            .unwrap();
    }
    let inner = &store.inner;
    let lost = inner.buffer.write_out(|batch| {
        inner.attempt(|c| write_batch(c, batch))?;
        Err(Error::Store(
            "the commit went through; its answer was lost".into(),
        ))
    });
    assert!(lost.is_err());
    store.flush().unwrap();

    let stored = admin
        .query_one(
            &format!(
                "SELECT sum(clicks)::int8, sum(click_commission)::int8 FROM {schema}.affiliate_counters"
            ),
            &[],
        )
        .unwrap();
    assert_eq!(
        (stored.get::<_, i64>(0), stored.get::<_, i64>(1)),
        (3, 15),
        "the batch was applied once"
    );
    let rows: i64 = admin
        .query_one(
            &format!("SELECT count(*) FROM {schema}.affiliate_batches"),
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(rows, 1);
    let day = crate::store::day_of(1_700_000_000);
    let read = store.counters(day, day, None).unwrap();
    assert_eq!(read.values().map(|c| c.clicks).sum::<u64>(), 3);
    drop(store);
    admin
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
}

/// A database made by an earlier release (schema version 3: before the program was
/// stored) opens, migrates to the current version and keeps its conversions.
#[test]
fn an_older_schema_migrates_and_keeps_its_data() {
    use crate::records::{Channel, Commission, Evidence, Kind, Status};
    let url = std::env::var("AFFILIATE_TEST_POSTGRES_URL")
        .expect("AFFILIATE_TEST_POSTGRES_URL must name a database (./scripts/test starts one)");
    let schema = format!("old_{}", std::process::id());
    let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    c.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path = {schema}"
    ))
    .unwrap();
    // What release 3 made: its migrations and its version rows.
    c.batch_execute("CREATE TABLE affiliate_schema (version INTEGER NOT NULL)")
        .unwrap();
    for (i, sql) in schema::MIGRATIONS[..3].iter().enumerate() {
        c.batch_execute(sql).unwrap();
        c.execute(
            "INSERT INTO affiliate_schema (version) VALUES ($1)",
            &[&i32::try_from(i + 1).unwrap()],
        )
        .unwrap();
    }
    let link = Link::new(Code::new("haircare").unwrap(), Code::new("abc123").unwrap());
    let old = Conversion {
        order_id: "OLD-1".into(),
        kind: Kind::Sale,
        amount: crate::Money::parse("49.90", "USD").unwrap(),
        link,
        click_id: None,
        evidence: Evidence::Coupon,
        customer_id: None,
        status: Status::Approved,
        converted_at: 1_700_000_000,
        commissions: vec![Commission {
            partner: link.partner,
            level: 0,
            amount: crate::Money::parse("4.99", "USD").unwrap(),
        }],
        channel: Channel::default(),
        duplicate: false,
        replaced: false,
        withheld: false,
        refunds: Vec::new(),
    };
    c.execute(
        "INSERT INTO affiliate_conversions (order_id, day, status, record) VALUES ($1, $2, $3, $4)",
        &[
            &old.order_id,
            &i32::try_from(crate::store::day_of(old.converted_at)).unwrap(),
            &old.status.as_str(),
            &serde_json::to_string(&old).unwrap(),
        ],
    )
    .unwrap();

    let store = PostgresStore::open(&format!("{url}?options=-c%20search_path%3D{schema}")).unwrap();
    let version: i32 = c
        .query_one("SELECT max(version) FROM affiliate_schema", &[])
        .unwrap()
        .get(0);
    assert_eq!(version, i32::try_from(schema::MIGRATIONS.len()).unwrap());
    assert_eq!(store.conversion("OLD-1").unwrap(), Some(old));
    // The ledger, which that release did not keep, is built in the migration.
    let entries = store
        .ledger_entries(&crate::ledger::EntryFilter::default())
        .unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].amount_minor, entries[0].state),
        (499, crate::ledger::EntryState::Payable)
    );
    assert_eq!(store.program_version().unwrap(), 0);
    assert!(
        store
            .put_record(
                crate::store::RecordKind::Partner,
                "abc123",
                r#"{"code":"abc123"}"#,
                true
            )
            .unwrap()
    );
    assert_eq!(store.program_version().unwrap(), 1);
    c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .unwrap();
}
