//! The everyday conveniences of issue 20: a closed pipe never panics,
//! `test` tells "not testable" from a failure, config names get a
//! did-you-mean, plain `authcfg` helps, `.env` files import, `status`,
//! man pages that document exit codes and the environment.

use crate::support::*;
use std::io::Read;
use std::process::Stdio;

/// A store with something for every printing command to print: configs
/// with and without a probe, a hand-out in the usage log, a project file.
fn printing_store() -> T {
    let t = T::new();
    t.init();
    t.add(
        "api-key",
        "prod/stripe",
        &[],
        Some(("api_key", "sk-stripe-1")),
    )
    .success();
    t.add("bearer", "prod/gh", &[], Some(("token", "gh-token-1")))
        .success();
    t.add(
        "totp",
        "mfa/acme",
        &[],
        Some((
            "otpauth_uri",
            "otpauth://totp/ACME:a?secret=JBSWY3DPEHPK3PXP",
        )),
    )
    .success();
    // A hand-out with a label: `show` prints "Used by".
    t.cmd()
        .args(["token", "prod/gh", "--as", "ci-job"])
        .assert()
        .success();
    std::fs::write(
        t.home.join(".authcfg.toml"),
        "[env]\nGH_TOKEN = \"authcfg://prod/gh/token\"\n",
    )
    .unwrap();
    t
}

/// Every command that prints, with arguments that make it print.
const PRINTING: &[&[&str]] = &[
    &["--help"],
    &["-h"],
    &["--version"],
    &["help"],
    &["help", "list"],
    &["list", "--help"],
    &["list"],
    &["ls", "--json"],
    &["show", "prod/gh"],
    &["show", "prod/gh", "--json"],
    &["show", "prod/stripe", "--reveal"],
    &["connectors"],
    &["connectors", "postgres"],
    &["connectors", "--json"],
    &["providers"],
    &["providers", "google"],
    &["providers", "--json"],
    &["log"],
    &["log", "--json"],
    &["doctor"],
    &["doctor", "--json"],
    &["status"],
    &["status", "--json"],
    &["export", "prod/stripe"],
    &["export", "prod/stripe", "-f", "json"],
    &["export", "prod/stripe", "-f", "dotenv"],
    &["export", "prod/stripe", "-f", "seed"],
    &["test", "--all"],
    &["test", "--all", "--json"],
    &["history", "prod/stripe"],
    &["recipients", "list"],
    &["token", "prod/gh"],
    &["header", "prod/gh"],
    &["otp", "mfa/acme"],
    &["key", "show"],
    &["conflicts"],
    &["project", "check"],
    &["hook", "bash"],
    &["hook", "zsh"],
    &["completions", "bash"],
    &["completions", "zsh", "--static"],
    &["completions", "fish", "--static"],
    &["completions", "elvish", "--static"],
];

/// What a command does with stdout to /dev/null: its own exit code and
/// error lines, which a closed pipe must not change into something else.
fn normal_exit(t: &T, args: &[&str]) -> i32 {
    let out = t
        .std_cmd()
        .args(args)
        .current_dir(&t.home)
        .stdout(Stdio::null())
        .output()
        .unwrap();
    out.status.code().unwrap()
}

fn check(args: &[&str], how: &str, normal: i32, out: std::process::Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{args:?} ({how}): {stderr}"
    );
    let code = out.status.code();
    assert!(
        code == Some(0) || code == Some(normal),
        "{args:?} ({how}): exit {code:?} (normally {normal}): {stderr}"
    );
    if normal == 0 {
        assert!(!stderr.contains("error"), "{args:?} ({how}): {stderr}");
    }
}

/// `authcfg show NAME | head -c 1` and the like: every command that prints
/// stops quietly when its reader goes away (exit 0, or the exit code it
/// has anyway), never a panic ("failed printing to stdout: Broken pipe",
/// exit 101) or an error about the pipe. Each command runs once with a
/// pipe whose reader is gone before it starts (every write fails), then
/// repeatedly with a reader that takes one byte and leaves, as `head -c 1`
/// does (the reader leaves while the command writes).
#[test]
fn a_closed_pipe_never_panics_any_command() {
    let t = printing_store();
    for args in PRINTING {
        let normal = normal_exit(&t, args);
        assert_ne!(normal, 101, "{args:?} panics even without a pipe");

        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = t
            .std_cmd()
            .args(*args)
            .current_dir(&t.home)
            .stdout(writer)
            .output()
            .unwrap();
        check(args, "reader gone before the start", normal, out);

        for _ in 0..8 {
            let mut child = t
                .std_cmd()
                .args(*args)
                .current_dir(&t.home)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdout = child.stdout.take().unwrap();
            let mut one = [0u8; 1];
            let _ = stdout.read(&mut one).unwrap();
            drop(stdout);
            let out = child.wait_with_output().unwrap();
            check(args, "head -c 1", normal, out);
        }
    }
}

/// The README's first command (an API key without `test_url`), then `test
/// --all`: "not testable", its own status, exit 0, naming the field that
/// would make it testable and the config's own name (never a literal
/// `NAME`). A probe that ran and failed is still a failure (exit 4), and a
/// connector with no probe is saved without `--no-test`.
#[test]
fn test_tells_not_testable_from_a_failure() {
    let t = T::new();
    t.init();
    t.add("api-key", "prod/stripe", &[], Some(("api_key", "sk-1")))
        .success();
    t.add("env", "dev/env", &["FOO=bar"], None).success();

    let out = t.cmd().args(["test", "--all"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("not testable"), "{stdout}");
    assert!(
        stderr.contains(
            "prod/stripe: not testable — no test_url to request (set one with \
             `authcfg edit prod/stripe --set test_url=https://...`)"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("dev/env: not testable"), "{stderr}");
    assert!(
        !stdout.contains("NAME") && !stderr.contains("NAME"),
        "{stdout}\n{stderr}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&t.stdout(&["test", "prod/stripe", "--json"])).unwrap();
    assert_eq!(json[0]["result"], "not testable", "{json}");
    assert_eq!(json[0]["class"], "not_testable", "{json}");
    assert_eq!(json[0]["ok"], false, "{json}");

    // `list` shows it, and filters on it.
    let list = t.stdout(&["list"]);
    let row = list.lines().find(|l| l.contains("prod/stripe")).unwrap();
    assert!(
        row.contains("Not testable") && !row.contains("Error"),
        "{list}"
    );
    let json: serde_json::Value = serde_json::from_str(&t.stdout(&["list", "--json"])).unwrap();
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "Not testable"),
        "{json}"
    );
    let only = t.stdout(&["list", "--status", "not-testable", "--json"]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&only)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2,
        "{only}"
    );
    assert!(t.stdout(&["show", "prod/stripe"]).contains("Not testable"));

    // With a test_url that fails, it is a failure again: exit 4, Error.
    let port = services::closed_port();
    t.cmd()
        .args(["edit", "prod/stripe", "--set"])
        .arg(format!("test_url=http://127.0.0.1:{port}/v1"))
        .assert()
        .success();
    let out = t.cmd().args(["test", "--all"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("prod/stripe: connection refused"),
        "{stderr}"
    );
    assert!(!stderr.contains("NAME"), "{stderr}");
    let list = t.stdout(&["list"]);
    let row = list.lines().find(|l| l.contains("prod/stripe")).unwrap();
    assert!(row.contains("Error"), "{list}");

    // A connector with no probe is saved without --no-test, and says why.
    t.cmd()
        .args(["add", "connector", "snowflake", "--name", "wh"])
        .args(["--set", "account=org-acct", "--set", "username=u"])
        .args(["--secret-stdin", "password"])
        .write_stdin("pw")
        .assert()
        .success()
        .stderr(predicates::str::contains("Not tested: Snowflake"));
    let list = t.stdout(&["list"]);
    let row = list.lines().find(|l| l.contains("wh")).unwrap();
    assert!(row.contains("Not testable"), "{list}");
}

/// An unknown config name gets a did-you-mean of the store's nearest
/// names (a typo, or the name without its group), as fields and types do,
/// from every command that names a config; the store is unchanged.
#[test]
fn unknown_config_names_get_a_did_you_mean() {
    let t = T::new();
    t.init();
    for name in ["prod/stripe", "dev/stripe", "prod/github"] {
        t.add("api-key", name, &[], Some(("api_key", "k")))
            .success();
    }
    let before = t.snapshot();
    let hint = |args: &[&str]| {
        let out = t.cmd().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        stderr
            .lines()
            .find(|l| l.starts_with("hint: "))
            .unwrap_or_else(|| panic!("{args:?}: no hint in {stderr}"))
            .to_string()
    };
    for args in [
        &["show", "prod/strpe"][..],
        &["token", "prod/strpe"],
        &["export", "prod/strpe"],
        &["test", "prod/strpe"],
        &["edit", "prod/strpe", "--set", "key_name=X"],
        &["remove", "prod/strpe", "--yes"],
        &["history", "prod/strpe"],
    ] {
        assert_eq!(
            hint(args),
            "hint: did you mean 'prod/stripe'? (`authcfg list` shows every config)",
            "{args:?}"
        );
    }
    // Without its group: every config of that name.
    assert_eq!(
        hint(&["show", "stripe"]),
        "hint: did you mean 'dev/stripe' or 'prod/stripe'? (`authcfg list` shows every config)"
    );
    // Nothing near: the list.
    assert_eq!(
        hint(&["show", "zzzzzzzzzz"]),
        "hint: run `authcfg list` to see the configs in this store"
    );
    assert_eq!(t.snapshot(), before, "a wrong name changed the store");
}

/// Plain `authcfg` (with or without AUTHCFG_HOME) prints a short help at a
/// terminal and exits 0, the hidden `generate-docs` unnamed; `--help`
/// counts the catalog's connectors; a usage line never shows `--store
/// <DIR>` as if it had to be given because AUTHCFG_HOME is set.
#[test]
fn plain_authcfg_helps_and_help_tells_the_truth() {
    let t = T::new();
    // At a terminal, as a person types it.
    let mut cmd = t.std_cmd();
    cmd.env("COLUMNS", "100");
    let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).unwrap();
    let seen = p.exp_eof().unwrap();
    assert!(seen.contains("First commands:"), "{seen}");
    assert!(seen.contains("  init      Create the store"), "{seen}");
    assert!(seen.contains("`authcfg --help` lists all"), "{seen}");
    assert!(
        !seen.contains("generate-docs") && !seen.contains("error"),
        "{seen}"
    );
    assert!(seen.lines().count() < 25, "not short: {seen}");
    assert!(
        matches!(
            p.process().wait().unwrap(),
            rexpect::process::WaitStatus::Exited(_, 0)
        ),
        "{seen}"
    );
    // Piped, and without AUTHCFG_HOME: the same text on stdout, exit 0.
    for home in [true, false] {
        let mut c = t.cmd();
        if !home {
            c.env_remove("AUTHCFG_HOME");
        }
        let out = c.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}");
        assert!(stdout.starts_with("authcfg "), "{stdout}");
        assert!(!stdout.contains("generate-docs"), "{stdout}");
        assert!(out.stderr.is_empty());
    }

    // The catalog's real size, not "100+".
    let catalog = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog/connectors.toml"),
    )
    .unwrap();
    let n = catalog.matches("\n[[connectors]]").count();
    assert!(n > 100);
    let help = t.stdout(&["--help"]);
    assert!(
        help.contains(&format!("The native connector catalog ({n} services)")),
        "{help}"
    );
    assert!(
        !help.contains("100+") && !help.contains("generate-docs"),
        "{help}"
    );
    let listed: serde_json::Value =
        serde_json::from_str(&t.stdout(&["connectors", "--json"])).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), n);

    // AUTHCFG_HOME set (T sets it): usage lines do not show --store.
    let out = t.cmd().arg("show").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Usage: authcfg show <NAME>"), "{stderr}");
    assert!(!stderr.contains("--store"), "{stderr}");
    // And AUTHCFG_HOME still selects the store; --store still wins.
    t.init();
    assert!(t.store.join("authcfg.toml").exists());
    let other = t.dir.path().join("other");
    let out = t
        .cmd()
        .arg("--store")
        .arg(&other)
        .arg("list")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("other"));
}

/// `import --format dotenv`: a `.env` file's variables become one `env`
/// config, values exactly as written (quotes, comments, `export`, a
/// multi-line value, a single-quoted `$`); a file named `.env` needs no
/// --format. Bad input: an error with the file and line (never the
/// line's text, which may be a secret), exit 2, the store unchanged.
#[test]
fn dotenv_files_import_with_clear_errors() {
    let t = T::new();
    t.init();
    let dir = t.dir.path().join("proj");
    std::fs::create_dir(&dir).unwrap();
    let env = dir.join(".env");
    std::fs::write(
        &env,
        "\u{feff}# the app's settings\nexport DB_USER=app\nDB_PASSWORD=\"s3cr et#x\"\n\
         API_KEY=abc123 # trailing comment\nMULTI=\"line1\nline2\"\nRAW='p$ss\\n'\n\n",
    )
    .unwrap();
    t.cmd()
        .arg("import")
        .arg(&env)
        .args(["--name", "proj/env"])
        .assert()
        .success()
        .stderr("Imported 1 config(s)\n");
    let json: serde_json::Value =
        serde_json::from_str(&t.stdout(&["export", "proj/env", "-f", "json"])).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"DB_USER": "app", "DB_PASSWORD": "s3cr et#x", "API_KEY": "abc123",
            "MULTI": "line1\nline2", "RAW": "p$ss\\n"})
    );
    let list = t.stdout(&["list"]);
    assert!(list.contains("Environment variables"), "{list}");

    let before = t.snapshot();
    let fail = |name: &str, text: &str, extra: &[&str]| -> String {
        let f = dir.join(name);
        std::fs::write(&f, text).unwrap();
        let out = t.cmd().arg("import").arg(&f).args(extra).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(!stderr.contains("topsecret"), "{name}: leaked: {stderr}");
        stderr
    };
    let file = |name: &str| dir.join(name).display().to_string();
    let e = fail("a.env", "A=1\n# c\nPASSWORD topsecret\n", &["-n", "x"]);
    assert!(
        e.starts_with(&format!("error: {}:3: not a KEY=value line", file("a.env"))),
        "{e}"
    );
    let e = fail("b.env", "A=1\nB=topsecret$HOME\n", &["-n", "x"]);
    assert!(
        e.starts_with(&format!("error: {}:2: B's value has a $", file("b.env"))),
        "{e}"
    );
    assert!(e.contains("single quotes"), "{e}");
    let e = fail(
        "c.env",
        "A=1\n\nLD_PRELOAD=/tmp/topsecret.so\n",
        &["-n", "x"],
    );
    assert!(
        e.starts_with(&format!("error: {}:3: 'x' sets LD_PRELOAD", file("c.env"))),
        "{e}"
    );
    let e = fail("d.env", "# nothing\n", &["-n", "x"]);
    assert!(e.contains("has no variables"), "{e}");
    let e = fail("e.env", "A=\"topsecret\n", &["-n", "x"]);
    assert!(
        e.starts_with(&format!("error: {}:1: not a KEY=value line", file("e.env"))),
        "{e}"
    );
    let e = fail("f.env", "A=1\n", &[]);
    assert!(e.contains("--format dotenv needs --name NAME"), "{e}");
    let e = fail("g.txt", "A=topsecret\n", &["--format", "dotenv"]);
    assert!(e.contains("needs --name"), "{e}");
    // Not named .env and no --format: JSON, which it is not.
    let e = fail("h.txt", "A=topsecret\n", &[]);
    assert!(e.contains("is not valid JSON"), "{e}");
    assert_eq!(t.snapshot(), before, "a refused import changed the store");
}

/// `authcfg status`: the store, the key source, locked or not, and the
/// configs that need attention, in words and in JSON; it never prompts
/// (at a terminal, a passphrase store says the next command will ask) and
/// a look is not a failed unlock in the trail.
#[test]
fn status_says_store_key_lock_and_attention() {
    let t = T::new();
    // No store yet: exit 1, and how to make one.
    let out = t.cmd().arg("status").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("`authcfg init` makes one"), "{text}");

    t.init();
    t.add("api-key", "prod/stripe", &[], Some(("api_key", "k1")))
        .success();
    let port = services::closed_port();
    let url = format!("test_url=http://127.0.0.1:{port}/");
    t.add("api-key", "prod/broken", &[&url], Some(("api_key", "k2")))
        .success();
    t.add("bearer", "dev/new", &[], Some(("token", "k3")))
        .success();
    t.cmd()
        .args(["test", "prod/stripe", "prod/broken"])
        .assert()
        .code(4);
    let out = t.cmd().arg("status").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(&format!("Store:     {} (admin)", t.store.display())),
        "{text}"
    );
    assert!(
        text.contains("Key:       environment (AUTHCFG_IDENTITY), unlocked"),
        "{text}"
    );
    assert!(
        text.contains("Configs:   3: 1 in Error, 1 untested, 1 not testable"),
        "{text}"
    );
    assert!(
        text.contains("Error:     prod/broken (`authcfg test prod/broken` says why)"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&t.stdout(&["status", "--json"])).unwrap();
    assert_eq!(json["locked"], false);
    assert_eq!(json["role"], "admin");
    assert_eq!(json["key_source"], "environment (AUTHCFG_IDENTITY)");
    assert_eq!(json["configs"]["total"], 3);
    assert_eq!(json["configs"]["error"], serde_json::json!(["prod/broken"]));
    assert_eq!(json["configs"]["untested"], 1);
    assert_eq!(json["configs"]["not_testable"], 1);
    assert_eq!(json["configs"]["expiring"], serde_json::json!([]));

    // A passphrase store without the passphrase: locked, exit 5, no
    // prompt, nothing noted as a failed unlock.
    let mut p = T::bare();
    p.env("AUTHCFG_PASSPHRASE", "a-long-passphrase-1");
    p.cmd().args(["init", "--passphrase"]).assert().success();
    p.extra_env.retain(|(k, _)| k != "AUTHCFG_PASSPHRASE");
    let before = p.store_files();
    let out = p.cmd().arg("status").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(5), "{text}");
    assert!(text.contains("Key:       locked: no master key"), "{text}");
    assert!(text.contains("AUTHCFG_PASSPHRASE is not set"), "{text}");
    let json: serde_json::Value =
        serde_json::from_slice(&p.cmd().args(["status", "--json"]).output().unwrap().stdout)
            .unwrap();
    assert_eq!(json["locked"], true, "{json}");
    assert!(json.get("configs").is_none(), "{json}");
    // At a terminal: it says the next command asks, and asks nothing.
    let mut cmd = p.std_cmd();
    cmd.arg("status");
    let mut s = rexpect::session::spawn_command(cmd, Some(30_000)).unwrap();
    let seen = s.exp_eof().unwrap();
    assert!(
        seen.contains("the next command that opens the store asks for it"),
        "{seen}"
    );
    assert!(!seen.contains("Passphrase for"), "{seen}");
    assert_eq!(p.store_files(), before, "status changed the store");
    // With the passphrase: unlocked, from the passphrase file.
    p.env("AUTHCFG_PASSPHRASE", "a-long-passphrase-1");
    let text = p.stdout(&["status"]);
    assert!(
        text.contains("Key:       passphrase-protected identity file, unlocked"),
        "{text}"
    );
    assert!(text.contains("Configs:   none yet"), "{text}");
}

/// TOTP: `add custom totp` from an otpauth:// URI (at a terminal, asked
/// hidden), `authcfg otp NAME` gives RFC 6238's codes for every test
/// vector and algorithm, the use is in the audit trail, `test` calls it
/// not testable, and a bad URI is refused without being echoed.
#[test]
fn totp_codes_from_otpauth_uris() {
    let t = T::new();
    t.init();
    let seeds = [
        ("SHA1", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
        ("SHA256", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"),
        (
            "SHA512",
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA",
        ),
    ];
    let vectors: [(u64, [&str; 3]); 6] = [
        (59, ["94287082", "46119246", "90693936"]),
        (1111111109, ["07081804", "68084774", "25091201"]),
        (1111111111, ["14050471", "67062674", "99943326"]),
        (1234567890, ["89005924", "91819424", "93441116"]),
        (2000000000, ["69279037", "90698825", "38618901"]),
        (20000000000, ["65353130", "77737706", "47863826"]),
    ];
    for (alg, secret) in seeds {
        t.add(
            "totp",
            &format!("rfc/{alg}"),
            &[],
            Some((
                "otpauth_uri",
                &format!(
                    "otpauth://totp/RFC:{alg}?secret={secret}&issuer=RFC&algorithm={alg}&digits=8"
                ),
            )),
        )
        .success();
    }
    for (at, codes) in vectors {
        for (i, (alg, _)) in seeds.iter().enumerate() {
            let out = t.stdout(&["otp", &format!("rfc/{alg}"), "--at", &at.to_string()]);
            assert_eq!(out, format!("{}\n", codes[i]), "{alg} at {at}");
        }
    }
    // The use is recorded like any hand-out.
    let log = t.stdout(&["log", "rfc/SHA1"]);
    assert!(log.contains("otp"), "{log}");

    // At a terminal: the URI is asked for hidden, then saved.
    let uri = "otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME";
    let mut cmd = t.std_cmd();
    cmd.args(["add", "custom", "totp", "--name", "acme/alice"]);
    let mut p = rexpect::session::spawn_command(cmd, Some(30_000)).unwrap();
    p.exp_string("otpauth").unwrap();
    p.send_line(uri).unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("Added 'acme/alice'"), "{rest}");
    assert!(!rest.contains("JBSWY3DPEHPK3PXP"), "echoed: {rest}");
    let code = t.stdout(&["otp", "acme/alice"]);
    assert!(
        code.trim().len() == 6 && code.trim().chars().all(|c| c.is_ascii_digit()),
        "{code}"
    );
    // The same URI's code at a fixed moment (SHA1, 6 digits, 30 s).
    assert_eq!(t.stdout(&["otp", "acme/alice", "--at", "59"]), "996554\n");

    // Not testable, exit 0.
    let out = t.cmd().args(["test", "acme/alice"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("`authcfg otp acme/alice` prints the current code"));

    // Bad input: refused, never echoed, store unchanged.
    let before = t.snapshot();
    for bad in [
        "https://example.com/?secret=TOPSECRETAAAAAAA",
        "otpauth://hotp/x?secret=TOPSECRETAAAAAAA&counter=1",
        "otpauth://totp/x?secret=TOPSECRET*1",
        "otpauth://totp/x?secret=TOPSECRETAAAAAAA&digits=12",
    ] {
        let out = t
            .cmd()
            .args(["add", "custom", "totp", "--name", "bad/one"])
            .args(["--secret-stdin", "otpauth_uri"])
            .write_stdin(bad)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("otpauth_uri: the value"), "{stderr}");
        assert!(!stderr.contains("TOPSECRET"), "{stderr}");
    }
    assert_eq!(t.snapshot(), before);
    // `otp` on another type says so.
    t.add("api-key", "prod/k", &[], Some(("api_key", "k")))
        .success();
    t.cmd()
        .args(["otp", "prod/k"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("'prod/k' is not a TOTP config"));
}
