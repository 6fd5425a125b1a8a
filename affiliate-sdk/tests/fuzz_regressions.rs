//! Every input under `fuzz/regressions/<target>/` of a core target (a crash or a case
//! worth keeping, found by fuzzing) replayed through the same check the fuzz target
//! runs, so it stays fixed. See fuzz/README.md. The server's target, `config_parse`,
//! is replayed by `affiliate-server/tests/fuzz_regressions.rs`.

#[path = "../../fuzz/src/checks.rs"]
#[allow(dead_code)]
mod checks;
#[path = "../../fuzz/src/replay.rs"]
mod replay;

use std::path::Path;

#[test]
fn every_committed_fuzz_regression_passes_its_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions");
    let replayed = replay::replay(&root, &checks::TARGETS, checks::run);
    // Directories other than the targets' are mistakes (a renamed target).
    for entry in std::fs::read_dir(&root).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            !entry.path().is_dir()
                || checks::TARGETS.contains(&name.as_str())
                || checks::SERVER_TARGETS.contains(&name.as_str()),
            "fuzz/regressions/{name} is no target"
        );
    }
    println!("replayed {replayed} fuzz regressions");
}

/// The committed seeds pass their checks too (they are the campaigns' starting points).
#[test]
fn every_seed_passes_its_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds");
    let mut n = 0;
    for target in checks::TARGETS {
        let entries = std::fs::read_dir(root.join(target)).expect("every target has seeds");
        for entry in entries {
            checks::run(target, &std::fs::read(entry.unwrap().path()).unwrap());
            n += 1;
        }
    }
    assert!(n >= 2 * checks::TARGETS.len());
    // Every fuzz target is replayed by one of the two suites.
    let mut targets: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    targets.sort();
    let mut known: Vec<String> = checks::TARGETS
        .iter()
        .chain(&checks::SERVER_TARGETS)
        .map(|t| (*t).to_owned())
        .collect();
    known.sort();
    assert_eq!(targets, known, "fuzz/seeds has a directory per target");
}

/// The `valid` token seed is a token the fuzz keyring accepts, so the campaign starts
/// from the accepting path (a change of the token format must re-sign it).
#[test]
fn the_valid_token_seed_verifies() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/token_verify/valid");
    let data = std::fs::read(path).unwrap();
    let token = std::str::from_utf8(&data[8..]).unwrap();
    let ring = affiliate_sdk::Keyring::from_base64(
        [("k1", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")],
        "k1",
    )
    .unwrap();
    let verified = ring.verify_token(token, 1_700_000_000);
    assert!(verified.is_ok(), "{verified:?}");
}
