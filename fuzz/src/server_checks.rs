//! The fuzz checks of the server's own parsers, the config file and the listings'
//! query strings. The fuzz binaries call them; `affiliate-server/tests/fuzz_regressions.rs`
//! includes this file and replays `fuzz/regressions/<target>/` through [`run`].

use std::path::Path;
use std::sync::Arc;

use affiliate_sdk::{Link, MemoryStore};

/// The server's targets by name, for the regression replay.
pub const TARGETS: [&str; 2] = ["config_parse", "api_query"];

/// Runs server target `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "config_parse" => config_parse(data),
        "api_query" => api_query(data),
        other => panic!("no server fuzz target {other}"),
    }
}

/// A config file: parsed and validated (keys, campaigns, partners, URLs) without a
/// panic; what loads builds its tracker, and every campaign and partner it names
/// gives a link the tracker's click accepts.
pub fn config_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = affiliate_server::config::Config::parse(Path::new("fuzz.toml"), text) {
        let tracker = config
            .tracker(Arc::new(MemoryStore::new()))
            .expect("a validated config builds its tracker");
        let signer = config
            .signer()
            .expect("a validated config builds its signer");
        for c in tracker.campaigns().iter().take(4) {
            for p in tracker.partners().iter().take(4) {
                let url = signer.build_link(&Link::new(c.code(), p.code));
                tracker.click(&url, None).expect("a configured link clicks");
                // A bot lands on the campaign's destination without a token.
                match tracker.visit(&url, None, Some("curl/8.5.0")) {
                    Ok(affiliate_sdk::Landing::Bot { location, .. }) => {
                        assert_eq!(location, c.destination());
                    }
                    other => panic!("a bot's visit: {other:?}"),
                }
            }
        }
        tracker
            .prune_clicks(config.click_retention_days)
            .expect("a validated retention prunes");
    }
}

/// A query string of the API's listings, read by each listing's `StrictQuery`: read,
/// or refused as `malformed` (an unknown parameter, one given twice, a bad value);
/// what reads gives a page size in its range.
pub fn api_query(data: &[u8]) {
    use affiliate_server::http::{ApiError, StrictQuery};
    use affiliate_server::routes::params::{
        AdsParams, ConversionFilters, ConversionParams, DayRange, Filters, LedgerFilters, Page,
        PageSize, PartnerParams, PayoutFilters, StatsFilters, StatsParams, TrafficFilters,
    };
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(uri) = format!("/v1/list?{query}").parse::<axum::http::Uri>() else {
        return;
    };
    let refused = |e: ApiError| assert_eq!(e.code(), "malformed", "{query:?}");
    let in_range = |got: Result<usize, ApiError>, max: usize| match got {
        Ok(limit) => assert!((1..=max).contains(&limit), "{query:?}: {limit}"),
        Err(e) => refused(e),
    };
    match StrictQuery::<StatsParams>::parse(&uri) {
        Ok(StrictQuery(p)) => in_range(p.query().map(|q| q.1), 10_000),
        Err(e) => refused(e),
    }
    match StrictQuery::<ConversionParams>::parse(&uri) {
        Ok(StrictQuery(p)) => in_range(p.query().map(|q| q.1), 1_000),
        Err(e) => refused(e),
    }
    match StrictQuery::<PartnerParams>::parse(&uri) {
        Ok(StrictQuery(p)) => in_range(p.query().map(|q| q.1), 1_000),
        Err(e) => refused(e),
    }
    match StrictQuery::<Page>::parse(&uri) {
        Ok(StrictQuery(p)) => in_range(p.limit(), 1_000),
        Err(e) => refused(e),
    }
    if let Err(e) = StrictQuery::<StatsFilters>::parse(&uri).and_then(|q| q.0.query()) {
        refused(e);
    }
    if let Err(e) = StrictQuery::<ConversionFilters>::parse(&uri).and_then(|q| q.0.query()) {
        refused(e);
    }
    // The traffic listing's filters: what parses is listed (nothing here) or refused
    // with a typed error.
    match StrictQuery::<TrafficFilters>::parse(&uri) {
        Ok(StrictQuery(f)) => {
            let t = affiliate_sdk::Tracker::new(
                affiliate_sdk::LinkSigner::new(
                    affiliate_sdk::Keyring::generate().expect("a keyring"),
                    "https://t.example/go",
                )
                .expect("a signer"),
                std::sync::Arc::new(affiliate_sdk::MemoryStore::new()),
            );
            match t.traffic(f.partner.as_deref(), f.from.as_deref(), f.to.as_deref()) {
                Ok(list) => assert!(list.is_empty()),
                Err(e) => assert_eq!(e.code(), "malformed", "{query:?}"),
            }
        }
        Err(e) => refused(e),
    }
    for r in [
        StrictQuery::<LedgerFilters>::parse(&uri).map(|_| ()),
        StrictQuery::<PayoutFilters>::parse(&uri).map(|_| ()),
        StrictQuery::<AdsParams>::parse(&uri).map(|_| ()),
        StrictQuery::<DayRange>::parse(&uri).map(|_| ()),
    ] {
        if let Err(e) = r {
            refused(e);
        }
    }
}
