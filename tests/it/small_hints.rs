//! Hints that name a command that works (issue 20, item 8): each is run as
//! it is printed.

use crate::support::*;

fn hint_of(stderr: &[u8]) -> String {
    let err = String::from_utf8_lossy(stderr);
    let h = err
        .lines()
        .find_map(|l| l.strip_prefix("hint: "))
        .unwrap_or_else(|| panic!("no hint: {err}"));
    h.to_string()
}

/// The command between the last pair of backticks of a hint, split as a
/// shell would (single quotes only).
fn command_in(hint: &str) -> Vec<String> {
    let cmd = hint.rsplit('`').nth(1).expect("a `command` in the hint");
    let mut out = vec![];
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in cmd.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    assert_eq!(out.first().map(String::as_str), Some("authcfg"), "{hint}");
    out.remove(0);
    out
}

#[test]
fn an_import_refusing_a_startup_variable_names_a_command_that_exists() {
    let t = T::new();
    t.init();
    let refused = t
        .cmd()
        .args(["import", "-"])
        .write_stdin(
            r#"[{"type":"env_vars","name":"tools","config":{"EDITOR_HOME":"/opt","LD_PRELOAD":"/opt/x.so"}}]"#,
        )
        .assert()
        .code(2);
    let hint = hint_of(&refused.get_output().stderr);
    assert!(!hint.contains("pass --allow-startup-vars"), "{hint}");
    // Import the rest, then run the hinted command.
    t.cmd()
        .args(["import", "-"])
        .write_stdin(r#"[{"type":"env_vars","name":"tools","config":{"EDITOR_HOME":"/opt"}}]"#)
        .assert()
        .success();
    let args = command_in(&hint);
    assert!(args.contains(&"--allow-startup-vars".to_string()), "{hint}");
    t.cmd()
        .args(&args)
        .write_stdin("/opt/x.so")
        .assert()
        .success();
    let env: serde_json::Value =
        serde_json::from_str(&t.stdout(&["export", "tools", "--format", "json"])).unwrap();
    assert_eq!(env["LD_PRELOAD"], "/opt/x.so");
    assert_eq!(env["EDITOR_HOME"], "/opt");
}

#[test]
fn a_refused_origin_is_added_to_the_allowed_ones_not_put_in_their_place() {
    let t = T::new();
    t.init();
    let e = echo::start("hint-key", "hint-tok", "u", "p");
    t.add(
        "bearer",
        "api",
        &[&format!("test_url={}/bearer", e.a)],
        Some(("token", "hint-tok")),
    )
    .success();
    let http = |url: String| {
        t.cmd()
            .args(["http", "api", &url, "--fail"])
            .output()
            .unwrap()
    };
    assert!(http(format!("{}/bearer", e.a)).status.success());
    let refused = http(format!("{}/landing", e.b));
    assert!(!refused.status.success());
    let hint = hint_of(&refused.stderr);
    t.cmd().args(command_in(&hint)).assert().success();
    // Both origins now: the one it had and the one added.
    assert!(http(format!("{}/landing", e.b)).status.success(), "{hint}");
    let again = http(format!("{}/bearer", e.a));
    assert!(
        again.status.success(),
        "the origin it had was replaced: {hint}\n{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

#[test]
fn import_hints_fit_what_is_wrong_with_the_file() {
    let t = T::new();
    t.init();
    let import = |json: &str| {
        let out = t
            .cmd()
            .args(["import", "-"])
            .write_stdin(json.to_string())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        hint_of(&out.stderr)
    };
    // Cut short: not about comments.
    let h = import(r#"[{"type":"bearer_token","name":"a","config":{"token":"#);
    assert!(h.contains("cut short"), "{h}");
    assert!(!h.contains("comments"), "{h}");
    // A comment: about comments.
    let h = import("[ // the seed's style\n{\"type\":\"no_auth\",\"name\":\"b\"}]");
    assert!(h.contains("no comments"), "{h}");
    // An entry missing a field: add it to the entry, not a flag.
    let h = import(r#"[{"type":"basic_auth","name":"c","config":{"username":"u"}}]"#);
    assert!(h.contains("\"password\""), "{h}");
    assert!(h.contains("\"config\""), "{h}");
    assert!(!h.contains("--secret-stdin"), "{h}");
    t.cmd().args(["show", "c"]).assert().code(3);
}
