//! Bad input gets a clear message, the documented exit code, and leaves the
//! store exactly as it was.

use crate::support::*;
use predicates::prelude::*;
use predicates::str::contains;

fn store_with_one() -> T {
    let t = T::new();
    t.init();
    t.add(
        "api-key",
        "good",
        &[],
        Some(("api_key", "good-key-planted-123")),
    )
    .success();
    t
}

#[test]
fn malformed_names() {
    let t = store_with_one();
    let before = t.snapshot();
    let long = "n".repeat(10 * 1024);
    for name in [
        "..",
        "a/../b",
        "/abs",
        "trailing/",
        "a//b",
        "ctl\u{1}x",
        "tab\tx",
        ".hidden",
        long.as_str(),
        "",
    ] {
        t.cmd()
            .args([
                "add",
                "custom",
                "bearer",
                "--name",
                name,
                "--secret-stdin",
                "token",
            ])
            .write_stdin("tok")
            .assert()
            .code(2)
            .stderr(contains("invalid config name"))
            .stderr(contains("hint:"));
        t.cmd().args(["show", name]).assert().code(2);
    }
    assert_eq!(before, t.snapshot(), "store changed");
}

#[test]
fn malformed_values() {
    let t = store_with_one();
    let before = t.snapshot();
    let cases: Vec<(Vec<&str>, Vec<u8>, &str)> = vec![
        (vec!["--set", "api_key=line1\nline2"], vec![], "line break"),
        (
            vec!["--secret-stdin", "api_key"],
            b"nul\0inside".to_vec(),
            "NUL",
        ),
        (
            vec!["--secret-stdin", "api_key"],
            vec![0xff, 0xfe, b'x'],
            "UTF-8",
        ),
        (
            vec!["--secret-stdin", "api_key"],
            vec![b'k'; 1024 * 1024],
            "limit",
        ),
        (
            vec!["--secret-stdin", "api_key", "--set", "location=body"],
            b"k".to_vec(),
            "not one of header, query, cookie",
        ),
        (
            vec!["--secret-stdin", "api_key", "--set", "test_url=not a url"],
            b"k".to_vec(),
            "not an absolute",
        ),
        (
            vec!["--secret-stdin", "api_key", "--set", "noequals"],
            b"k".to_vec(),
            "FIELD=VALUE",
        ),
    ];
    for (args, stdin, msg) in cases {
        t.cmd()
            .args(["add", "custom", "api-key", "--name", "bad"])
            .args(&args)
            .write_stdin(stdin)
            .assert()
            .code(2)
            .stderr(contains(msg));
    }
    // Missing required field without a terminal names the flag.
    t.cmd()
        .args([
            "add",
            "custom",
            "basic",
            "--name",
            "bad",
            "--set",
            "username=u",
        ])
        .assert()
        .code(2)
        .stderr(contains("missing required field 'password'"))
        .stderr(contains("--secret-stdin password"));
    t.cmd()
        .args(["add", "custom", "basic", "--set", "username=u"])
        .assert()
        .code(2)
        .stderr(contains("--name"));
    assert_eq!(before, t.snapshot(), "store changed");

    // Quotes and other printable oddities are values like any other.
    let odd = r#"it's "quoted" $HOME `x` \n"#;
    t.add("bearer", "odd", &[], Some(("token", odd))).success();
    let json: serde_json::Value =
        serde_json::from_str(&t.stdout(&["show", "odd", "--json", "--reveal"])).unwrap();
    assert_eq!(json["config"]["token"], odd);
}

#[test]
fn unknown_type_field_and_duplicates() {
    let t = store_with_one();
    let before = t.snapshot();
    t.cmd()
        .args(["add", "custom", "api_keyy", "--name", "x"])
        .assert()
        .code(2)
        .stderr(contains("unknown custom auth type"))
        .stderr(contains("did you mean"));
    t.cmd()
        .args([
            "add", "custom", "bearer", "--name", "x", "--set", "tokn=abc",
        ])
        .assert()
        .code(2)
        .stderr(contains("unknown field 'tokn'"))
        .stderr(contains("did you mean 'token'"));
    t.cmd()
        .args([
            "add",
            "custom",
            "api-key",
            "--name",
            "good",
            "--secret-stdin",
            "api_key",
        ])
        .write_stdin("other-key")
        .assert()
        .code(2)
        .stderr(contains("already exists"))
        .stderr(contains("--force"));
    assert_eq!(before, t.snapshot(), "store changed");
    t.cmd()
        .args([
            "add",
            "custom",
            "api-key",
            "--name",
            "good",
            "--force",
            "--secret-stdin",
            "api_key",
        ])
        .write_stdin("replaced-key-planted-456")
        .assert()
        .success();
    assert!(t
        .stdout(&["show", "good", "--reveal"])
        .contains("replaced-key-planted-456"));
    t.cmd()
        .args(["show", "missing"])
        .assert()
        .code(3)
        .stderr(contains("authcfg list"));
    t.cmd()
        .args(["edit", "missing", "--set", "a=b"])
        .assert()
        .code(3);
    t.cmd().args(["frobnicate"]).assert().code(2);
}

#[test]
fn damaged_files_are_named_and_isolated() {
    let t = store_with_one();
    t.add(
        "bearer",
        "truncated",
        &[],
        Some(("token", "tok-trunc-planted")),
    )
    .success();
    t.add(
        "bearer",
        "flipped",
        &[],
        Some(("token", "tok-flip-planted")),
    )
    .success();
    let trunc = t.store.join("configs/truncated.age");
    let data = std::fs::read(&trunc).unwrap();
    std::fs::write(&trunc, &data[..data.len() - 20]).unwrap();
    let flip = t.store.join("configs/flipped.age");
    let mut data = std::fs::read(&flip).unwrap();
    let n = data.len();
    data[n - 5] ^= 0x01;
    std::fs::write(&flip, &data).unwrap();

    for name in ["truncated", "flipped"] {
        t.cmd()
            .args(["show", name])
            .assert()
            .code(1)
            .stderr(contains(format!("configs/{name}.age")))
            .stderr(contains("damaged"))
            .stderr(contains("other configs are not affected"));
        t.cmd().args(["export", name]).assert().code(1);
    }
    // The others still list and show.
    let list = t.stdout(&["list"]);
    assert!(list.contains("good"));
    assert!(t
        .stdout(&["show", "good", "--reveal"])
        .contains("good-key-planted-123"));
    t.cmd()
        .arg("doctor")
        .assert()
        .code(1)
        .stdout(contains("2 of 3 unreadable"));
}

#[test]
fn newer_store_format_is_refused_untouched() {
    let t = store_with_one();
    let header = t.store.join("authcfg.toml");
    let text = std::fs::read_to_string(&header)
        .unwrap()
        .replace("format = 2", "format = 99");
    std::fs::write(&header, &text).unwrap();
    let before = t.snapshot();
    t.cmd()
        .args(["list"])
        .assert()
        .code(1)
        .stderr(contains("store format 99 is newer"))
        .stderr(contains("upgrade authcfg"));
    t.cmd()
        .args(["add", "custom", "none", "--name", "x"])
        .assert()
        .code(1);
    assert_eq!(before, t.snapshot());
}

#[test]
fn wrong_identity_exits_5_and_changes_nothing() {
    let t = store_with_one();
    let before = t.snapshot();
    let mut other = T::new();
    other.store = t.store.clone();
    other.cmd().args(["show", "good"]).assert().code(5);
    other
        .cmd()
        .args([
            "add",
            "custom",
            "bearer",
            "--name",
            "n",
            "--secret-stdin",
            "token",
        ])
        .write_stdin("x")
        .assert()
        .code(5);
    // Nothing changed but the note of two failed access attempts, which
    // the owner's next command moves into the keyed audit trail.
    let access = std::fs::read_to_string(t.store.join("access.jsonl")).unwrap();
    assert_eq!(access.lines().count(), 2, "{access}");
    let after: Vec<_> = t
        .snapshot()
        .into_iter()
        .filter(|(p, _)| !p.ends_with("access.jsonl"))
        .collect();
    assert_eq!(before, after);
    t.cmd().args(["list"]).assert().success();
    assert!(!t.store.join("access.jsonl").exists());
    let log: serde_json::Value = serde_json::from_str(&t.stdout(&["log", "--json"])).unwrap();
    let failed = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "unlock" && r["outcome"] == "failed")
        .count();
    assert_eq!(failed, 2);
    t.cmd().args(["log", "--verify"]).assert().success();
}

/// An import file's mistakes are named as the file's: cut short, comments,
/// an unknown key of an entry, a missing field (the fix is in the file,
/// not a flag); nothing is imported.
#[test]
fn an_import_file_s_mistakes_are_named_as_the_file_s() {
    let t = T::new();
    t.init();
    let before = t.snapshot();
    let cases = [
        (
            r#"[{"name":"a","type":"api-key","config":{"api_key":"x"}"#,
            "ends before its JSON does",
            "cut short",
        ),
        (
            "[// a comment\n{}]",
            "is not valid JSON",
            "JSON has no comments",
        ),
        (
            r#"[{"name":"a","type":"basic","fields":{"username":"u"}}]"#,
            "unknown key \"fields\"",
            "\"config\"",
        ),
        (
            r#"[{"name":"a","type":"basic","config":{"password":"p"}}]"#,
            "missing required field 'username'",
            "add \"username\"",
        ),
    ];
    for (i, (text, msg, hint)) in cases.iter().enumerate() {
        let file = t.dir.path().join(format!("in{i}.json"));
        std::fs::write(&file, text).unwrap();
        t.cmd()
            .arg("import")
            .arg(&file)
            .assert()
            .code(2)
            .stderr(contains(*msg))
            .stderr(contains(*hint))
            .stderr(contains("--secret-stdin").not())
            .stderr(contains("--set").not());
    }
    assert_eq!(before, t.snapshot(), "store changed");
}
