//! Every input under `fuzz/regressions/{config_parse,api_query}/` (the server's fuzz targets)
//! replayed through the check the fuzz target runs, so it stays fixed. The core's
//! targets are replayed by `affiliate-sdk/tests/fuzz_regressions.rs`.

#[path = "../../fuzz/src/replay.rs"]
mod replay;
#[path = "../../fuzz/src/server_checks.rs"]
#[allow(dead_code)]
mod server_checks;

#[test]
fn every_committed_config_regression_and_seed_passes_its_check() {
    let fuzz = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let regressions = replay::replay(
        &fuzz.join("regressions"),
        &server_checks::TARGETS,
        server_checks::run,
    );
    // Every target has seeds; they pass their checks too.
    let seeds = replay::replay(
        &fuzz.join("seeds"),
        &server_checks::TARGETS,
        server_checks::run,
    );
    assert!(seeds >= server_checks::TARGETS.len(), "{seeds} seeds");
    let replayed = regressions + seeds;
    assert!(replayed >= 1, "the config target has seeds");
    println!("replayed {replayed} config inputs");
}
