//! The fuzz check of the server's own parser, the config file. The fuzz binary calls
//! it; `affiliate-server/tests/fuzz_regressions.rs` includes this file and replays
//! `fuzz/regressions/config_parse/` through [`run`].

use std::path::Path;
use std::sync::Arc;

use affiliate_sdk::{Link, MemoryStore};

/// The server's targets by name, for the regression replay.
pub const TARGETS: [&str; 1] = ["config_parse"];

/// Runs server target `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "config_parse" => config_parse(data),
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
