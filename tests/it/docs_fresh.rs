//! The committed completions/ and man/ match the clap tree.

use crate::support::*;

#[test]
fn committed_completions_and_man_pages_are_fresh() {
    let dir = tempfile::tempdir().unwrap();
    let ok = std::process::Command::new(BIN)
        .args(["generate-docs", "--out"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(ok.success());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["completions", "man"] {
        let mut fresh: Vec<_> = std::fs::read_dir(dir.path().join(sub))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        let mut committed: Vec<_> = std::fs::read_dir(root.join(sub))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        fresh.sort();
        committed.sort();
        assert_eq!(
            fresh, committed,
            "{sub}/ files differ: run `cargo run -- generate-docs` and commit"
        );
        for f in fresh {
            let a = std::fs::read(dir.path().join(sub).join(&f)).unwrap();
            let b = std::fs::read(root.join(sub).join(&f)).unwrap();
            assert!(
                a == b,
                "{sub}/{} is stale: run `cargo run -- generate-docs` and commit",
                f.to_string_lossy()
            );
        }
    }
    // And `completions SHELL` prints the same as the committed file (the
    // dynamic registration).
    let out = std::process::Command::new(BIN)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert_eq!(
        out.stdout,
        std::fs::read(root.join("completions/authcfg.bash")).unwrap()
    );
}
