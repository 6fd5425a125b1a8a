//! Every input under `fuzz/regressions/config_parse/` (the server's one fuzz target)
//! replayed through the check the fuzz target runs, so it stays fixed. The core's
//! targets are replayed by `affiliate-sdk/tests/fuzz_regressions.rs`.

#[path = "../../fuzz/src/server_checks.rs"]
#[allow(dead_code)]
mod server_checks;

use std::path::Path;

#[test]
fn every_committed_config_regression_and_seed_passes_its_check() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut replayed = 0;
    for target in server_checks::TARGETS {
        for dir in ["regressions", "seeds"] {
            let Ok(entries) = std::fs::read_dir(fuzz.join(dir).join(target)) else {
                assert_eq!(dir, "regressions", "every target has seeds");
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                {
                    continue;
                }
                let data = std::fs::read(&path).unwrap();
                let outcome = std::panic::catch_unwind(|| server_checks::run(target, &data));
                assert!(outcome.is_ok(), "{} fails its check again", path.display());
                replayed += 1;
            }
        }
    }
    assert!(replayed >= 1, "the config target has seeds");
    println!("replayed {replayed} config inputs");
}
