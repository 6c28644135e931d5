//! Replays the seed corpus and every input that once failed a harness
//! (`seeds/<target>/` and `regressions/<target>/`) on every `cargo test`,
//! so a fixed crash stays fixed without the fuzzer.

use std::path::Path;

#[test]
fn every_seed_and_regression_input_passes_its_harness() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut replayed = 0;
    for folder in ["seeds", "regressions"] {
        for target in connector_fuzz::TARGETS {
            let dir = root.join(folder).join(target);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries {
                let path = entry.expect("a directory entry").path();
                let data = std::fs::read(&path).expect("an input file");
                assert!(connector_fuzz::run(target, &data), "no harness {target}");
                replayed += 1;
            }
        }
    }
    assert!(
        replayed >= connector_fuzz::TARGETS.len(),
        "no inputs replayed"
    );
}

#[test]
fn an_unknown_harness_is_refused() {
    assert!(!connector_fuzz::run("no_such_target", b""));
}
