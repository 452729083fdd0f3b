//! Replays every input kept for the fuzz targets through the same checks
//! the fuzzers run (handlers/src/fuzz_checks.rs): the seeds under
//! `fuzz/seeds/<target>/` and each input that once crashed a target, kept
//! under `fuzz/regressions/<target>/` with a name that says what it found.

use handlers::fuzz_checks::{run, TARGETS};
use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut files = vec![];
    for kind in ["seeds", "regressions"] {
        let Ok(dir) = std::fs::read_dir(fuzz.join(kind).join(target)) else {
            continue;
        };
        files.extend(dir.map(|e| e.expect("a readable folder").path()));
    }
    files.sort();
    files
}

#[test]
fn every_kept_input_passes_its_fuzz_check() {
    for target in TARGETS {
        let files = inputs(target);
        assert!(!files.is_empty(), "no seeds for the {target} target");
        for file in files {
            let data = std::fs::read(&file).expect("a readable input");
            eprintln!("{target}: {}", file.display());
            run(target, &data);
        }
    }
}

/// The checks must be able to fail: a property that cannot fail is no check.
#[test]
#[should_panic(expected = "a cursor the server never issued was accepted")]
fn the_cursor_check_rejects_an_accepted_forgery() {
    use domain::cursor::CursorCodec;
    use domain::model::EventPageKey;
    let key = EventPageKey {
        last_seen: "2026-11-25T12:00:00Z".parse().unwrap(),
        id: "0123456789abcdef0123456789abcdef".parse().unwrap(),
    };
    // A cursor made with the fuzz checks' own key is accepted, and the check says so.
    let genuine = CursorCodec::new(b"fuzz-key".to_vec()).encode("q", &key);
    run("cursor", format!("q\0{genuine}").as_bytes());
}
