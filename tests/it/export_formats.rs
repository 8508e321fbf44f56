//! export formats round-trip through the real consumers: bash, zsh, dash and
//! fish `eval`, docker-style env files, GitHub's $GITHUB_ENV rules.

use crate::support::*;
use predicates::prelude::*;
use predicates::str::contains;
use std::collections::BTreeMap;

/// Values that break naive quoting.
fn nasty() -> Vec<(&'static str, &'static str)> {
    vec![
        ("SPACES", "a value with  spaces "),
        ("SQUOTE", "it's"),
        ("DQUOTE", "say \"hi\""),
        ("BOTHQ", "'\"'\"'"),
        ("DOLLAR", "$HOME ${PATH} $(id) $1"),
        ("BACKTICK", "`id` and `uname`"),
        ("BACKSLASH", "C:\\path\\n\\t\\\\"),
        ("NEWLINES", "line1\nline2\n\nline4"),
        ("TAB", "a\tb"),
        ("DASH", "-n -e --help"),
        ("EQUALS", "a=b=c=="),
        ("UNICODE", "héllo wörld ✓ 日本語 🎉"),
        ("EMPTY", ""),
        ("GLOB", "* ? [a-z] ~"),
        ("SEMI", "a; echo pwned & | > <"),
        ("TRAILNL", "ends with newline\n"),
        ("PERCENT", "100% %0A %25"),
        ("CR", "carriage\rreturn"),
    ]
}

fn env_store(t: &T, name: &str, values: &[(&str, &str)]) {
    let config: serde_json::Map<String, serde_json::Value> = values
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect();
    let item = serde_json::json!({"type": "env_vars", "name": name, "config": config});
    t.cmd()
        .args(["import", "-"])
        .write_stdin(item.to_string())
        .assert()
        .success();
}

/// Runs `script` in `shell` with authcfg's environment, returns the
/// environment the shell exported (from `env -0`).
fn shell_env(t: &T, shell: &str, script: &str) -> BTreeMap<String, String> {
    let out = t
        .std_cmd_for(shell)
        .arg("-c")
        .arg(script)
        .output()
        .unwrap_or_else(|e| panic!("{shell}: {e} (apt install {shell})"));
    assert!(
        out.status.success(),
        "{shell}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .split(|&b| b == 0)
        .filter_map(|kv| {
            let s = String::from_utf8(kv.to_vec()).ok()?;
            let (k, v) = s.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

trait ShellCmd {
    fn std_cmd_for(&self, program: &str) -> std::process::Command;
}
impl ShellCmd for T {
    fn std_cmd_for(&self, program: &str) -> std::process::Command {
        let mut c = self.std_cmd();
        let bin_dir = std::path::Path::new(BIN).parent().unwrap().to_path_buf();
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = std::process::Command::new(program);
        for (k, v) in c.get_envs() {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        let _ = &mut c;
        cmd.env("PATH", path);
        cmd
    }
}

#[test]
fn eval_round_trips_in_bash_zsh_dash_and_fish() {
    let t = T::new();
    t.init();
    let values = nasty();
    env_store(&t, "app", &values);
    let posix = r#"eval "$(authcfg export app --format env)" && env -0"#;
    for shell in ["bash", "zsh", "dash", "sh"] {
        let env = shell_env(&t, shell, posix);
        for (k, v) in &values {
            assert_eq!(env.get(*k).map(String::as_str), Some(*v), "{shell}: {k}");
        }
    }
    let env = shell_env(
        &t,
        "fish",
        "authcfg export app --format fish | source; and env -0",
    );
    for (k, v) in &values {
        assert_eq!(env.get(*k).map(String::as_str), Some(*v), "fish: {k}");
    }
}

/// `docker --env-file` (opts/envfile.go): lines split on \n with a trailing
/// \r dropped; leading whitespace trimmed; `#` lines skipped; the value is
/// everything after the first `=`, literally.
fn docker_env_file(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line).trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (k, v) = line.split_once('=').expect("docker requires VAR=VAL here");
        assert!(
            !k.contains(char::is_whitespace),
            "variable '{k}' contains whitespaces"
        );
        out.insert(k.to_string(), v.to_string());
    }
    out
}

#[test]
fn dotenv_matches_docker_env_file_or_refuses() {
    let t = T::new();
    t.init();
    let representable: Vec<_> = nasty()
        .into_iter()
        .filter(|(_, v)| !v.contains(['\n', '\r']))
        .collect();
    env_store(&t, "app", &representable);
    for format in ["dotenv", "gitlab"] {
        let text = t.stdout(&["export", "app", "--format", format]);
        let parsed = docker_env_file(&text);
        for (k, v) in &representable {
            assert_eq!(
                parsed.get(*k).map(String::as_str),
                Some(*v),
                "{format}: {k}"
            );
        }
        assert_eq!(parsed.len(), representable.len());
    }
    env_store(
        &t,
        "multi",
        &[("PEM", "-----BEGIN-----\nabc\n-----END-----")],
    );
    t.cmd()
        .args(["export", "multi", "--format", "dotenv"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("PEM contains a line break"))
        .stderr(contains("--format env"));
}

/// $GITHUB_ENV as the runner reads it: `NAME=value`, or `NAME<<DELIM`
/// followed by lines up to a line equal to DELIM.
fn parse_github_env(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = vec![];
            loop {
                let l = lines.next().expect("heredoc not terminated");
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(name.to_string(), value.join("\n"));
        } else {
            let (k, v) = line.split_once('=').unwrap();
            out.insert(k.to_string(), v.to_string());
        }
    }
    out
}

fn unescape_gh(s: &str) -> String {
    s.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%")
}

#[test]
fn github_format_masks_every_secret_line_and_cannot_be_broken_out_of() {
    let mut t = T::new();
    t.init();
    let mut values: Vec<_> = nasty().into_iter().filter(|(k, _)| *k != "CR").collect();
    // Values that try to end a heredoc early or inject a variable.
    values.push(("BREAKOUT", "x\nEOF\nghadelimiter_0000\nINJECTED=1\n"));
    values.push(("LOOKSLIKEDELIM", "NAME<<EOF"));
    env_store(&t, "app", &values);
    let file = t.dir.path().join("github_env");
    std::fs::write(&file, "EXISTING=kept\n").unwrap();
    t.env("GITHUB_ENV", file.to_str().unwrap());
    let stdout = t.stdout(&["export", "app", "--format", "github"]);
    let written = std::fs::read_to_string(&file).unwrap();
    let parsed = parse_github_env(&written);
    assert_eq!(parsed["EXISTING"], "kept", "appended, not overwritten");
    assert!(!parsed.contains_key("INJECTED"));
    for (k, v) in &values {
        assert_eq!(parsed.get(*k).map(String::as_str), Some(*v), "{k}");
    }
    let masks: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("::add-mask::"))
        .map(unescape_gh)
        .collect();
    for (k, v) in &values {
        for line in v.split(['\n', '\r']).filter(|l| !l.trim().is_empty()) {
            assert!(
                masks.iter().any(|m| m == line),
                "{k}: line {line:?} not masked"
            );
        }
    }
    assert!(
        stdout.lines().all(|l| l.starts_with("::add-mask::")),
        "values go to the file, not stdout"
    );
    // Without $GITHUB_ENV: what would be appended is printed.
    t.extra_env.retain(|(k, _)| k != "GITHUB_ENV");
    let out = t
        .cmd()
        .args(["export", "app", "--format", "github"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("GITHUB_ENV is not set"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("SQUOTE<<ghadelimiter_"));
    // The runner reads the file line by line, where a lone CR ends a line too.
    env_store(&t, "cr", &[("CR", "carriage\rreturn")]);
    t.cmd()
        .args(["export", "cr", "--format", "github"])
        .assert()
        .code(2)
        .stderr(contains("carriage return"));
}

#[test]
fn names_prefixes_and_collisions() {
    let t = T::new();
    t.init();
    t.add("api-key", "prod/stripe", &[], Some(("api_key", "k1")))
        .success();
    t.add("bearer", "google/marketing", &[], Some(("token", "t1")))
        .success();
    let json: serde_json::Value = serde_json::from_str(&t.stdout(&[
        "export",
        "prod/stripe",
        "google/marketing",
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(json["PROD_STRIPE_API_KEY"], "k1");
    assert_eq!(json["PROD_STRIPE_LOCATION"], "header");
    assert_eq!(json["GOOGLE_MARKETING_TOKEN"], "t1");
    let json: serde_json::Value = serde_json::from_str(&t.stdout(&[
        "export",
        "prod/stripe",
        "--format",
        "json",
        "--prefix",
        "CI_",
    ]))
    .unwrap();
    assert_eq!(json["CI_PROD_STRIPE_API_KEY"], "k1");
    env_store(&t, "e1", &[("SHARED", "one")]);
    env_store(&t, "e2", &[("SHARED", "two")]);
    t.cmd()
        .args(["export", "e1", "e2"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("both 'e1' and 'e2' export SHARED"));
    let json: serde_json::Value = serde_json::from_str(&t.stdout(&[
        "export", "e1", "e2", "--format", "json", "--prefix", "e2:B_",
    ]))
    .unwrap();
    assert_eq!(
        (json["SHARED"].as_str(), json["B_SHARED"].as_str()),
        (Some("one"), Some("two"))
    );
    t.cmd()
        .args(["export", "e1", "--prefix", "9bad"])
        .assert()
        .code(2);
    t.cmd().args(["export", "nope"]).assert().code(3);
    // seed format: the seed's shape with values.
    let seed: serde_json::Value =
        serde_json::from_str(&t.stdout(&["export", "prod/stripe", "--format", "seed"])).unwrap();
    assert_eq!(seed["type"], "api_key");
    assert_eq!(seed["config"]["api_key"], "k1");
    // powershell quoting
    env_store(&t, "ps", &[("Q", "it's ‘x’")]);
    assert_eq!(
        t.stdout(&["export", "ps", "--format", "powershell"]),
        "$env:Q = 'it''s ‘‘x’’'\n"
    );
    // Each read is audited, without values.
    let log = std::fs::read_to_string(t.store.join("audit.jsonl")).unwrap();
    assert!(log.contains("\"action\":\"export\""));
    assert!(!log.contains("\"k1\""));
}

/// Red team A54: an existing $GITHUB_ENV that is a symbolic link was
/// followed (the secrets went wherever it pointed), and one that other
/// users can read got secrets appended without a word.
#[test]
fn github_env_is_not_followed_through_a_symlink_and_a_readable_one_is_warned_about() {
    use std::os::unix::fs::PermissionsExt;
    let mut t = T::new();
    t.init();
    t.add("bearer", "gh", &[], Some(("token", "tok-gh-planted-54")))
        .success();
    let target = t.dir.path().join("elsewhere");
    std::fs::write(&target, "").unwrap();
    let link = t.dir.path().join("github_env_link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    t.env("GITHUB_ENV", link.to_str().unwrap());
    t.cmd()
        .args(["export", "gh", "--format", "github"])
        .assert()
        .code(2)
        .stderr(contains("symbolic link"));
    assert_eq!(
        std::fs::read_to_string(&target).unwrap(),
        "",
        "nothing written through the link"
    );

    // The runner creates the file itself, with its own mode: a readable
    // one is used, with a warning.
    let readable = t.dir.path().join("github_env");
    std::fs::write(&readable, "").unwrap();
    std::fs::set_permissions(&readable, std::fs::Permissions::from_mode(0o644)).unwrap();
    t.env("GITHUB_ENV", readable.to_str().unwrap());
    t.cmd()
        .args(["export", "gh", "--format", "github"])
        .assert()
        .success()
        .stderr(contains("warning: $GITHUB_ENV"))
        .stderr(contains("read by other users (mode 0644)"));
    assert!(std::fs::read_to_string(&readable)
        .unwrap()
        .contains("tok-gh-planted-54"));
    // A private one: no warning.
    std::fs::set_permissions(&readable, std::fs::Permissions::from_mode(0o600)).unwrap();
    t.cmd()
        .args(["export", "gh", "--format", "github"])
        .assert()
        .success()
        .stderr(contains("warning").not());
}
