//! What authcfg prints to a terminal: text it did not write itself (noted
//! failed attempts, edited audit records, file names in the store) is
//! escaped, one record per line.

use crate::support::*;

/// Characters a terminal acts on or that reorder a line.
fn assert_inert(what: &str, text: &str) {
    for c in text.chars() {
        assert!(
            c == '\n'
                || !(c.is_control()
                    || ('\u{2066}'..='\u{2069}').contains(&c)
                    || ('\u{202A}'..='\u{202E}').contains(&c)),
            "{what} holds U+{:04X}:\n{text:?}",
            c as u32
        );
    }
}

/// Red team A9: `access.jsonl` is written without a key; its notes are
/// folded into the trail by the next command that unlocks, and `log`
/// printed them raw: a note could clear the line, print a forged record on
/// a line of its own and set the terminal's title.
#[test]
fn log_escapes_noted_attempts_and_edited_records() {
    let t = T::new();
    t.init();
    t.add("bearer", "prod/db", &[], Some(("token", "tok")))
        .success();
    let forged = "2031-01-01T00:00:00Z  remove   prod/db                  ok     root";
    let note = serde_json::json!({
        "time": "2026-01-01T00:00:00Z\u{1b}[2K",
        "user": format!("alice\u{1b}[2K\r{forged}\u{1b}]0;pwned\u{7}"),
        "pid": 1,
        "reason": format!("x\u{1b}[31mRED\u{1b}[0m\n{forged}\u{202E}gpj.exe"),
    });
    std::fs::write(t.store.join("access.jsonl"), format!("{note}\n")).unwrap();
    std::fs::set_permissions(
        t.store.join("access.jsonl"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    t.cmd().arg("list").assert().success();
    assert!(!t.store.join("access.jsonl").exists(), "folded");

    // The folded note is stored escaped.
    let trail = std::fs::read_to_string(t.store.join("audit.jsonl")).unwrap();
    let records: Vec<serde_json::Value> = trail
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let folded = records
        .iter()
        .find(|r| r["action"] == "unlock")
        .expect("the note is in the trail");
    let detail = folded["detail"].as_str().unwrap();
    assert_inert("the folded detail", detail);
    assert!(detail.contains("alice\\u{1b}[2K\\r2031-01-01"), "{detail}");

    // A record edited in place (the MAC breaks, but `log` reads without
    // the key) is printed escaped too.
    let mut edited = records.clone();
    let last = &mut edited[1];
    last["config"] = format!("prod/db\u{1b}[2K\r{forged}").into();
    last["detail"] = format!("ok\u{9b}31m\n{forged}\u{2067}").into();
    let text: String = edited.iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(t.store.join("audit.jsonl"), text).unwrap();

    let out = t.stdout(&["log"]);
    assert_inert("log", &out);
    assert_eq!(
        out.lines().count(),
        edited.len(),
        "one line per record, no forged one:\n{out}"
    );
    assert!(!out.lines().any(|l| l.starts_with("2031-01-01")), "{out}");
    assert!(out.contains("\\u{202e}gpj.exe"), "{out}");
    assert!(out.contains("\\u{9b}31m\\n"), "{out}");
}

/// `authcfg log | head -1`: the reader goes away after the first bytes.
/// The command stops quietly (exit 0), as ripgrep does, instead of
/// panicking with "failed printing to stdout: Broken pipe" (exit 101) or
/// failing with an error (exit 1).
#[test]
fn a_closed_pipe_on_stdout_ends_the_command_quietly() {
    use std::io::Read;
    let t = T::new();
    t.init();
    // More output than a pipe holds (64 KiB), so the writer is still
    // writing when the reader leaves.
    let items: Vec<String> = (0..1500)
        .map(|i| {
            format!(r#"{{"type":"bearer_token","name":"team/service-{i:05}","config":{{"token":"t{i}"}}}}"#)
        })
        .collect();
    t.cmd()
        .args(["import", "-"])
        .write_stdin(format!("[{}]", items.join(",")))
        .assert()
        .success();
    for args in [
        &["log"][..],
        &["log", "--json"],
        &["list"],
        &["list", "--json"],
    ] {
        let mut child = t
            .std_cmd()
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 512];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

/// `doctor` names what does not belong in the store (a file planted in its
/// root, a `staging` that is not a directory, files under `configs/` that
/// `list` never shows), escaped: a file name cannot drive the terminal.
#[test]
fn doctor_names_stray_files_escaped() {
    let t = T::new();
    t.init();
    t.add("bearer", "prod/db", &[], Some(("token", "tok")))
        .success();
    t.cmd()
        .arg("doctor")
        .assert()
        .success()
        .stdout(predicates::str::contains("stray files            none"));

    let s = &t.store;
    std::fs::write(s.join("evil\u{1b}]0;pwned\u{7}\rFAKE ok"), "").unwrap();
    std::fs::write(s.join("staging"), "").unwrap();
    std::fs::write(s.join("configs/notes.txt"), "").unwrap();
    std::fs::write(s.join("configs/prod/db.age.bak"), "").unwrap();
    std::fs::write(s.join("configs/prod\u{a0}db.age"), "").unwrap();
    std::fs::write(s.join("configs/a\u{1b}[2Kb.age"), "").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", s.join("configs/link.age")).unwrap();
    // A store kept in git is not stray.
    std::fs::create_dir(s.join(".git")).unwrap();

    let out = t.cmd().arg("doctor").output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_inert("doctor", &stdout);
    let stray = stdout
        .lines()
        .find(|l| l.contains("stray files"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(stray.starts_with("FAIL"), "{stray}");
    for expected in [
        "evil\\u{1b}]0;pwned\\u{7}\\rFAKE ok (unknown)",
        "staging (not a directory)",
        "configs/notes.txt (not a config file: no .age)",
        "configs/prod/db.age.bak (not a config file: no .age)",
        "configs/prod\\u{a0}db.age (not a valid config name)",
        "configs/a\\u{1b}[2Kb.age (not a valid config name)",
        "configs/link.age (a symbolic link)",
    ] {
        assert!(stray.contains(expected), "{expected} not in {stray}");
    }
    assert!(!stray.contains(".git"), "{stray}");
    assert!(!stray.contains("configs/prod/db.age "), "{stray}");
    // JSON names them too.
    let json: serde_json::Value =
        serde_json::from_slice(&t.cmd().args(["doctor", "--json"]).output().unwrap().stdout)
            .unwrap();
    let stray = json
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "stray files")
        .unwrap();
    assert_eq!(stray["ok"], false);
    assert!(stray["detail"]
        .as_str()
        .unwrap()
        .contains("configs/notes.txt"));
}
