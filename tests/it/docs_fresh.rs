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

/// `man authcfg` has EXIT STATUS, ENVIRONMENT, FILES and EXAMPLES, from
/// the same source as `--help` (and not `-h`, which stays short); the
/// README's exit codes are the man page's, entry for entry.
#[test]
fn man_page_and_help_share_the_reference_sections() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let man = std::fs::read_to_string(root.join("man/authcfg.1")).unwrap();
    for s in ["EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES"] {
        assert!(
            man.contains(&format!(".SH \"{s}\"\n")) || man.contains(&format!(".SH {s}\n")),
            "{s} missing"
        );
    }
    assert!(
        !man.contains(".SH EXTRA"),
        "clap's EXTRA duplicates the sections"
    );
    let unescape = |t: &str| t.replace("\\-", "-").replace("\\*(Aq", "'");
    let section = |title: &str| -> Vec<(String, String)> {
        let body = man
            .split(&format!(".SH \"{title}\"\n"))
            .nth(1)
            .or_else(|| man.split(&format!(".SH {title}\n")).nth(1))
            .unwrap()
            .split("\n.SH")
            .next()
            .unwrap();
        body.split(".TP\n")
            .skip(1)
            .map(|e| {
                let mut l = e.lines();
                let term = l.next().unwrap();
                let term = term.trim_start_matches("\\fB").trim_end_matches("\\fR");
                (unescape(term), unescape(l.next().unwrap()))
            })
            .collect()
    };
    let exits = section("EXIT STATUS");
    let codes: Vec<&str> = exits.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(codes, ["0", "1", "2", "3", "4", "5", "6", "exec"]);
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let listed: Vec<&str> = readme
        .split("## Exit codes\n")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("- `"))
        .collect();
    let expected: Vec<String> = exits.iter().map(|(c, m)| format!("- `{c}`: {m}")).collect();
    assert_eq!(
        listed, expected,
        "README's exit codes differ from `man authcfg`"
    );
    let env: Vec<String> = section("ENVIRONMENT").into_iter().map(|(k, _)| k).collect();
    for v in [
        "AUTHCFG_HOME",
        "AUTHCFG_IDENTITY",
        "AUTHCFG_PASSPHRASE",
        "AUTHCFG_KEYRING",
    ] {
        assert!(
            env.iter().any(|k| k == v),
            "{v} not in ENVIRONMENT: {env:?}"
        );
    }

    // --help has the same sections in words; -h does not.
    let help = |flag: &str| {
        let out = std::process::Command::new(BIN).arg(flag).output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let long = help("--help");
    for h in ["Exit status:", "Environment:", "Files:", "Examples:"] {
        assert!(long.contains(&format!("\n{h}\n")), "{h} not in --help");
    }
    for (term, _) in &exits {
        assert!(
            long.contains(&format!("\n  {term}\n")),
            "{term} not in --help"
        );
    }
    let short = help("-h");
    assert!(!short.contains("Exit status:"), "{short}");

    // The codes are the ones the program exits with.
    let t = T::new();
    t.init();
    t.cmd().args(["list", "--bogus"]).assert().code(2);
    t.cmd().args(["show", "nope"]).assert().code(3);
    let mut locked = T::bare();
    locked.env("AUTHCFG_PASSPHRASE", "passphrase-for-exit-5");
    locked
        .cmd()
        .args(["init", "--passphrase"])
        .assert()
        .success();
    locked.extra_env.retain(|(k, _)| k != "AUTHCFG_PASSPHRASE");
    locked.cmd().arg("list").assert().code(5);
    locked.cmd().arg("status").assert().code(5);
}
