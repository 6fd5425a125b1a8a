//! Shared helpers for the public-API tests.
#![allow(dead_code)]

pub mod conformance;
pub mod ledger;
pub mod ordering;

use affiliate_sdk::{ClickId, Code, Keyring, Link, Sid, TokenClaims};
use proptest::prelude::*;

pub const VECTORS: &str = include_str!("../vectors/signing.json");

/// Copies directory `from` into `to`, recursively (a store's files, as a backup or a
/// crash would leave them).
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub fn vectors() -> serde_json::Value {
    serde_json::from_str(VECTORS).expect("signing.json is valid JSON")
}

/// The keyring of the known-answer vectors (k1 current, k2 verifying).
pub fn vector_keyring() -> Keyring {
    let v = vectors();
    let keys = v["keys"].as_object().unwrap();
    Keyring::from_base64(
        keys.iter().map(|(k, t)| (k.as_str(), t.as_str().unwrap())),
        v["current"].as_str().unwrap(),
    )
    .unwrap()
}

pub fn code() -> impl Strategy<Value = Code> {
    "[A-Za-z0-9_-]{1,64}".prop_map(|s| Code::new(&s).unwrap())
}

pub fn sid() -> impl Strategy<Value = Sid> {
    "[A-Za-z0-9._~-]{1,64}".prop_map(|s| Sid::new(&s).unwrap())
}

pub fn link() -> impl Strategy<Value = Link> {
    (
        code(),
        code(),
        proptest::option::of(code()),
        proptest::option::of(sid()),
    )
        .prop_map(|(campaign, partner, ad, sid)| Link {
            campaign,
            partner,
            ad,
            sid,
        })
}

pub fn claims() -> impl Strategy<Value = TokenClaims> {
    (
        any::<[u8; 16]>(),
        link(),
        1_600_000_000u64..2_000_000_000,
        0u64..400 * 86_400,
    )
        .prop_map(|(id, link, iat, window)| {
            TokenClaims::new(ClickId::from_bytes(id), link, iat, window)
        })
}

/// Every copy of `s` with exactly one character at a position in `positions` replaced
/// by another printable ASCII character, space or tab, with the position and the
/// replacement.
pub fn single_char_mutations(
    s: &str,
    positions: std::ops::Range<usize>,
) -> impl Iterator<Item = (usize, char, String)> + '_ {
    let chars: Vec<char> = s.chars().collect();
    positions.flat_map(move |i| {
        let chars = chars.clone();
        let original = chars[i];
        (0x20u8..0x7f)
            .map(char::from)
            .chain(['\t'])
            .filter(move |&r| r != original)
            .map(move |r| {
                let mut m = chars.clone();
                m[i] = r;
                (i, r, m.into_iter().collect())
            })
    })
}

/// Creates an empty schema of its own in the database at `url` and returns its name.
#[cfg(feature = "postgres")]
#[allow(dead_code)]
pub fn fresh_pg_schema(url: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!(
        "t_{}_{}_{}",
        std::process::id(),
        nanos,
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap();
    schema
}

/// A `PostgresStore` in a schema of its own in the database at
/// `AFFILIATE_TEST_POSTGRES_URL` (`./scripts/test` starts a cluster and sets it).
#[cfg(feature = "postgres")]
#[allow(dead_code)]
pub fn fresh_pg_store(
    limits: &affiliate_sdk::store::StoreLimits,
) -> (affiliate_sdk::PostgresStore, String) {
    let url = std::env::var("AFFILIATE_TEST_POSTGRES_URL").expect(
        "AFFILIATE_TEST_POSTGRES_URL must name a database for the PostgresStore tests \
         (./scripts/test starts one with scripts/pg-cluster)",
    );
    let schema = fresh_pg_schema(&url);
    let store = affiliate_sdk::PostgresStore::open_with(
        &format!("{url}?options=-c%20search_path%3D{schema}"),
        None,
        limits,
    )
    .unwrap();
    (store, schema)
}
