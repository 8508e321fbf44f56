//! `authcfg webhook verify|sign`: each service's documented scheme through
//! the real binary. GitHub's published test vector; Slack's documented
//! example; round trips sign → verify for every scheme (headers as
//! arguments and as a raw request); a wrong secret, a changed body and an
//! old timestamp exit 4; bad usage exits 2; no secret in any output.

use crate::support::*;
use predicates::str::contains;

const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const GITHUB_SIG: &str = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

/// A connector config with `secret` in `secret_field` (from stdin, never argv).
fn add(t: &T, connector: &str, name: &str, sets: &[&str], secret_field: &str, secret: &str) {
    let mut c = t.cmd();
    c.args(["add", "connector", connector, "--name", name, "--no-test"]);
    for s in sets {
        c.args(["--set", s]);
    }
    c.args(["--secret-stdin", secret_field])
        .write_stdin(secret.to_string())
        .assert()
        .success();
}

/// Sets another secret field of `name` from stdin.
fn set_secret(t: &T, name: &str, field: &str, secret: &str) {
    t.cmd()
        .args(["edit", name, "--secret-stdin", field])
        .write_stdin(secret.to_string())
        .assert()
        .success();
}

fn sign(t: &T, name: &str, body: &str, extra: &[&str]) -> Vec<String> {
    let out = t
        .cmd()
        .args(["webhook", "sign", name])
        .args(extra)
        .write_stdin(body.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sign {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn verify(
    t: &T,
    name: &str,
    headers: &[String],
    body: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut c = t.cmd();
    c.args(["webhook", "verify", name]);
    for h in headers {
        c.args(["--header", h]);
    }
    c.args(extra)
        .write_stdin(body.to_string())
        .output()
        .unwrap()
}

fn code(o: &std::process::Output) -> i32 {
    o.status.code().unwrap()
}

#[test]
fn github_published_test_vector() {
    let t = T::new();
    t.init();
    add(&t, "github", "gh", &[], "token", "ghp_not-used-here");
    set_secret(&t, "gh", "webhook_secret", GITHUB_SECRET);
    let h = format!("X-Hub-Signature-256: {GITHUB_SIG}");
    let ok = verify(&t, "gh", std::slice::from_ref(&h), "Hello, World!", &[]);
    assert_eq!(code(&ok), 0, "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout)
        .contains("verified: GitHub signature in X-Hub-Signature-256"));
    // Header names in any case, as HTTP has them.
    let lower = format!("x-hub-signature-256: {GITHUB_SIG}");
    assert_eq!(code(&verify(&t, "gh", &[lower], "Hello, World!", &[])), 0);
    // `sign` gives the published signature.
    assert_eq!(sign(&t, "gh", "Hello, World!", &[]), vec![h.clone()]);
    // A changed body, no header, a mangled header: exit 4.
    let tampered = verify(&t, "gh", std::slice::from_ref(&h), "Hello, World?", &[]);
    assert_eq!(code(&tampered), 4);
    assert!(String::from_utf8_lossy(&tampered.stderr).contains("does not match"));
    let none = verify(&t, "gh", &[], "Hello, World!", &[]);
    assert_eq!(code(&none), 4);
    assert!(String::from_utf8_lossy(&none.stderr).contains("has no X-Hub-Signature-256 header"));
    let twice = verify(&t, "gh", &[h.clone(), h.clone()], "Hello, World!", &[]);
    assert_eq!(code(&twice), 4);
    assert_eq!(
        code(&verify(
            &t,
            "gh",
            &["X-Hub-Signature-256: 757107ea".into()],
            "Hello, World!",
            &[]
        )),
        4
    );
    // The wrong secret: exit 4.
    add(&t, "github", "gh2", &[], "token", "ghp_x");
    set_secret(&t, "gh2", "webhook_secret", "another secret");
    assert_eq!(
        code(&verify(
            &t,
            "gh2",
            std::slice::from_ref(&h),
            "Hello, World!",
            &[]
        )),
        4
    );
    // The whole request on stdin (--raw), CRLF as sent.
    let raw = format!(
        "POST /payload HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/json\r\n{h}\r\nContent-Length: 13\r\n\r\nHello, World!"
    );
    let o = t
        .cmd()
        .args(["webhook", "verify", "gh", "--raw"])
        .write_stdin(raw.clone())
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let o = t
        .cmd()
        .args(["webhook", "verify", "gh", "--raw"])
        .write_stdin(raw.replace("Hello, World!", "Hello, World?"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 4);
    // No secret in any output, nor in the audit trail.
    for o in [&ok, &tampered, &none] {
        assert_clean("output", &o.stdout, &[GITHUB_SECRET]);
        assert_clean("errors", &o.stderr, &[GITHUB_SECRET]);
    }
    assert_clean(
        "audit",
        &std::fs::read(t.store.join("audit.jsonl")).unwrap(),
        &[GITHUB_SECRET],
    );
    // The use is recorded with its consumer.
    t.cmd()
        .args(["show", "gh"])
        .assert()
        .success()
        .stdout(contains("webhook:verify"))
        .stdout(contains("webhook:sign"));
    // The env mapping hands the secret to a receiver under its usual name.
    let env: serde_json::Value =
        serde_json::from_str(&t.stdout(&["export", "gh", "--format", "json"])).unwrap();
    assert_eq!(env["GITHUB_WEBHOOK_SECRET"], GITHUB_SECRET);
}

/// Slack's documented example ("Verifying requests from Slack"), signed in
/// 2018: valid with a tolerance that reaches back to it, refused as a
/// replay with the default five minutes.
#[test]
fn slack_documented_example() {
    let t = T::new();
    t.init();
    add(&t, "slack", "sl", &[], "token", "xoxb-not-used");
    set_secret(
        &t,
        "sl",
        "signing_secret",
        "8f742231b10e8888abcd99yyyzzz85a5",
    );
    let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    let headers = vec![
        "X-Slack-Request-Timestamp: 1531420618".to_string(),
        "X-Slack-Signature: v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
            .to_string(),
    ];
    let old = verify(&t, "sl", &headers, body, &[]);
    assert_eq!(code(&old), 4);
    assert!(String::from_utf8_lossy(&old.stderr).contains("refused as a possible replay"));
    let ok = verify(&t, "sl", &headers, body, &["--tolerance", "4000000000"]);
    assert_eq!(code(&ok), 0, "{}", String::from_utf8_lossy(&ok.stderr));
    // A changed body is a mismatch, whatever the tolerance.
    let bad = verify(
        &t,
        "sl",
        &headers,
        &body.replace("foobar", "foobaz"),
        &["--tolerance", "4000000000"],
    );
    assert_eq!(code(&bad), 4);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("does not match"));
}

/// Every scheme: sign → verify through the binary, then a changed body, a
/// wrong secret and (where a timestamp is signed) an old one fail with 4.
#[test]
fn round_trips_for_every_scheme() {
    let t = T::new();
    t.init();
    let body = "{\"id\":\"evt_1\",\"amount\":4200}";
    let form = "To=%2B15005550006&From=%2B15005550001&Body=Hello+there&MessageSid=SM1";
    let twilio_url = "https://example.com/twilio/sms?tenant=7";
    // (connector, sets, main secret field and value, signing field and
    // value, body, extra arguments, whether a timestamp is signed)
    type Case<'a> = (
        &'a str,
        Vec<&'a str>,
        (&'a str, &'a str),
        Option<(&'a str, &'a str)>,
        &'a str,
        Vec<&'a str>,
        bool,
    );
    let cases: Vec<Case> = vec![
        (
            "stripe",
            vec![],
            ("api_key", "sk_test_x"),
            Some(("webhook_secret", "whsec_round-trip-1")),
            body,
            vec![],
            true,
        ),
        (
            "slack",
            vec![],
            ("token", "xoxb-x"),
            Some(("signing_secret", "slack-signing-round-trip")),
            form,
            vec![],
            true,
        ),
        (
            "shopify",
            vec!["shop=demo"],
            ("token", "shpat_x"),
            Some(("webhook_secret", "shopify-round-trip")),
            body,
            vec![],
            false,
        ),
        // Twilio signs with the auth token itself.
        (
            "twilio",
            vec!["account_sid=AC123"],
            ("auth_token", "twilio-auth-token-round-trip"),
            None,
            form,
            vec!["--url", twilio_url],
            false,
        ),
        (
            "github",
            vec![],
            ("token", "ghp_x"),
            Some(("webhook_secret", "github-round-trip")),
            body,
            vec![],
            false,
        ),
        (
            "webhook-hmac",
            vec![
                "algorithm=sha512",
                "encoding=base64",
                "signature_header=X-Acme-Signature",
                "signature_prefix=v1,",
            ],
            ("secret", "hmac-round-trip-512"),
            None,
            body,
            vec![],
            false,
        ),
        (
            "webhook-hmac",
            vec!["timestamp_header=X-Acme-Timestamp"],
            ("secret", "hmac-round-trip-ts"),
            None,
            body,
            vec![],
            true,
        ),
    ];
    let mut secrets = vec![];
    for (i, (connector, sets, (field, value), signing, body, extra, timestamped)) in
        cases.iter().enumerate()
    {
        let name = format!("{connector}-{i}");
        add(&t, connector, &name, sets, field, value);
        secrets.push(*value);
        if let Some((f, v)) = signing {
            set_secret(&t, &name, f, v);
            secrets.push(*v);
        }
        let headers = sign(&t, &name, body, extra);
        assert!(!headers.is_empty(), "{name}");
        let ok = verify(&t, &name, &headers, body, extra);
        assert_eq!(
            code(&ok),
            0,
            "{name}: {}",
            String::from_utf8_lossy(&ok.stderr)
        );
        // As a raw request.
        let mut raw = "POST /hook HTTP/1.1\r\nHost: example.com\r\n".to_string();
        for h in &headers {
            raw.push_str(h);
            raw.push_str("\r\n");
        }
        raw.push_str("\r\n");
        raw.push_str(body);
        let o = t
            .cmd()
            .args(["webhook", "verify", &name, "--raw"])
            .args(extra)
            .write_stdin(raw)
            .output()
            .unwrap();
        assert_eq!(
            code(&o),
            0,
            "{name} raw: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        // A changed body.
        let tampered = verify(&t, &name, &headers, &body.replacen('1', "2", 1), extra);
        assert_eq!(code(&tampered), 4, "{name} tampered");
        // The wrong secret (the same config type, another secret).
        let other = format!("{name}-other");
        add(
            &t,
            connector,
            &other,
            sets,
            field,
            &format!("{value}-wrong"),
        );
        if let Some((f, v)) = signing {
            set_secret(&t, &other, f, &format!("{v}-wrong"));
        }
        assert_eq!(
            code(&verify(&t, &other, &headers, body, extra)),
            4,
            "{name} wrong secret"
        );
        if *timestamped {
            // Ten minutes old: refused with the default tolerance, accepted
            // with a larger one.
            let then = (time_now() - 600).to_string();
            let mut e = extra.clone();
            e.extend(["--timestamp", &then]);
            let old = sign(&t, &name, body, &e);
            let o = verify(&t, &name, &old, body, extra);
            assert_eq!(code(&o), 4, "{name} old");
            // 600 s when signed, a second or two more by the time it is
            // verified on a busy machine.
            let said = String::from_utf8_lossy(&o.stderr).into_owned();
            assert!(
                ["600", "601", "602"]
                    .iter()
                    .any(|n| said.contains(&format!("{n} s before now"))),
                "{name}: {said}"
            );
            let mut e = extra.clone();
            e.extend(["--tolerance", "700"]);
            assert_eq!(
                code(&verify(&t, &name, &old, body, &e)),
                0,
                "{name} tolerance"
            );
        }
        for o in [&ok, &tampered] {
            assert_clean("output", &o.stdout, &secrets);
            assert_clean("errors", &o.stderr, &secrets);
        }
    }
    // Twilio without the URL it signs: usage, exit 2.
    let o = verify(
        &t,
        "twilio-3",
        &["X-Twilio-Signature: abc=".into()],
        form,
        &[],
    );
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--url"));
    // Twilio's URL is signed: another query fails.
    let headers = sign(&t, "twilio-3", form, &["--url", twilio_url]);
    let o = verify(
        &t,
        "twilio-3",
        &headers,
        form,
        &["--url", "https://example.com/twilio/sms?tenant=8"],
    );
    assert_eq!(code(&o), 4);
}

fn time_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn bad_usage_exits_2() {
    let t = T::new();
    t.init();
    // A config with no webhook scheme.
    t.add("bearer_token", "api", &[], Some(("token", "tok-1")))
        .success();
    t.cmd()
        .args(["webhook", "verify", "api", "-H", "X-Signature: 00"])
        .write_stdin("x")
        .assert()
        .code(2)
        .stderr(contains("has no webhook signing scheme"));
    // A GitHub config without its webhook secret.
    add(&t, "github", "gh", &[], "token", "ghp_x");
    t.cmd()
        .args(["webhook", "sign", "gh"])
        .write_stdin("x")
        .assert()
        .code(2)
        .stderr(contains("'gh' has no webhook_secret yet"));
    // A header argument without a colon; a raw request cut short.
    t.cmd()
        .args(["webhook", "verify", "gh", "-H", "X-Hub-Signature-256"])
        .write_stdin("x")
        .assert()
        .code(2);
    t.cmd()
        .args(["webhook", "verify", "gh", "--raw"])
        .write_stdin("POST / HTTP/1.1\r\nHost: x\r\n")
        .assert()
        .code(2);
    // No such config.
    t.cmd()
        .args(["webhook", "verify", "nope", "-H", "X: y"])
        .write_stdin("x")
        .assert()
        .code(3);
}

/// At a terminal, `verify` and `sign` refuse at once (exit 2) instead of
/// waiting for a body that will never come.
#[test]
fn a_terminal_on_stdin_is_refused_not_waited_on() {
    let t = T::new();
    t.init();
    add(&t, "github", "gh", &[], "token", "ghp_x");
    set_secret(&t, "gh", "webhook_secret", GITHUB_SECRET);
    for args in [
        vec![
            "webhook",
            "verify",
            "gh",
            "-H",
            "X-Hub-Signature-256: sha256=00",
        ],
        vec!["webhook", "sign", "gh"],
    ] {
        let mut cmd = t.std_cmd();
        cmd.args(&args);
        let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
        let rest = p.exp_eof().unwrap();
        assert!(rest.contains("which is a terminal"), "{rest}");
        assert!(matches!(
            p.process().wait().unwrap(),
            rexpect::process::WaitStatus::Exited(_, 2)
        ));
    }
}
