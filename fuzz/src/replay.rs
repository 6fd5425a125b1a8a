//! Replays committed fuzz inputs through their checks, for the regression tests of the
//! core (`affiliate-sdk/tests/fuzz_regressions.rs`) and of the server
//! (`affiliate-server/tests/fuzz_regressions.rs`), which include this file.

use std::path::Path;

/// Runs `check(target, input)` on every file under `dir/<target>/` for each of
/// `targets` (dot files skipped; a missing directory has nothing to replay), and fails
/// naming the file whose check panics. Returns how many inputs were replayed.
pub fn replay(dir: &Path, targets: &[&str], check: impl Fn(&str, &[u8])) -> usize {
    let mut replayed = 0;
    for target in targets {
        let Ok(entries) = std::fs::read_dir(dir.join(target)) else {
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
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(target, &data)));
            assert!(outcome.is_ok(), "{} fails its check again", path.display());
            replayed += 1;
        }
    }
    replayed
}
