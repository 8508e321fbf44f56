//! AWS sessions (issue 22, item 2): the real AWS CLI v2 (Debian's
//! `awscli`, /usr/bin/aws) against moto's S3/IAM/STS with signatures
//! checked (`tests/peer/aws.py`). The long-lived key may only call STS, so
//! an `aws s3 ls` that works used a session. Through `credential_process`,
//! through `exec` (session keys in the child's environment, the long-lived
//! secret nowhere in it) and through `exec --aws-endpoint` (the container
//! credentials endpoint). STS calls are counted at the peer: concurrent
//! callers make one, an expired session is renewed once.

use crate::support::services::Aws;
use crate::support::*;
use std::process::{Command, Output};

/// Debian's AWS CLI v2 (not the pip v1 shim some machines put first on PATH).
const AWS_CLI: &str = "/usr/bin/aws";

/// An AWS config `name` on the peer (S3 connector): AssumeRole of the
/// peer's role, or GetSessionToken without one.
fn add_aws(t: &T, aws: &Aws, name: &str, role: bool, extra: &[&str]) {
    let mut c = t.cmd();
    // The key may not use S3 itself, so `add`'s S3 probe (which signs with
    // the long-lived key) would fail: not tested at `add`.
    c.args(["add", "connector", "s3", "--name", name, "--no-test"])
        .args(["--set", &format!("access_key_id={}", aws.access_key_id)])
        .args(["--set", &format!("bucket={}", aws.bucket)])
        .args(["--set", &format!("endpoint={}", aws.endpoint)])
        .args(["--set", "path_style=true"]);
    if role {
        c.args(["--set", &format!("role_arn={}", aws.role_arn)])
            .args(["--set", "external_id=ext-42"]);
    }
    for e in extra {
        c.args(["--set", e]);
    }
    c.args(["--secret-stdin", "secret_access_key"])
        .write_stdin(aws.secret_access_key.clone())
        .assert()
        .success();
}

/// The AWS CLI with this test's environment, no credentials of its own,
/// and `config` as its config file.
fn aws_cli(t: &T, config: Option<&std::path::Path>) -> Command {
    let mut c = Command::new(AWS_CLI);
    t.apply(&mut c);
    for k in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    ] {
        c.env_remove(k);
    }
    c.env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            t.dir.path().join("no-credentials"),
        )
        .env(
            "AWS_CONFIG_FILE",
            config
                .map(|p| p.to_path_buf())
                .unwrap_or_else(|| t.dir.path().join("no-config")),
        );
    c
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn process_json(t: &T, name: &str) -> serde_json::Value {
    serde_json::from_str(&t.stdout(&["aws", "credential-process", name])).unwrap()
}

#[test]
fn aws_cli_lists_a_bucket_through_credential_process() {
    let t = T::new();
    t.init();
    let aws = Aws::start();
    add_aws(&t, &aws, "prod-aws", true, &[]);
    // The long-lived key itself may not use S3 (the peer's policy).
    let cfg = t.dir.path().join("aws-config");
    std::fs::write(
        &cfg,
        format!(
            "[profile authcfg]\nregion = us-east-1\ncredential_process = {BIN} aws credential-process prod-aws\n"
        ),
    )
    .unwrap();
    let o = aws_cli(&t, Some(&cfg))
        .args(["--profile", "authcfg", "--endpoint-url", &aws.endpoint])
        .args(["s3", "ls"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&aws.bucket),
        "{}",
        text(&o)
    );
    assert_clean("the AWS CLI's output", &o.stdout, &[&aws.secret_access_key]);
    assert_clean("the AWS CLI's output", &o.stderr, &[&aws.secret_access_key]);
    // The object, read with the session (moto miscomputes the signature
    // of the CLI's ListObjectsV2 query, `s3 ls s3://BUCKET`, for any key).
    let o = aws_cli(&t, Some(&cfg))
        .args(["--profile", "authcfg", "--endpoint-url", &aws.endpoint])
        .args(["s3", "cp", &format!("s3://{}/hello.txt", aws.bucket), "-"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "hello", "{}", text(&o));
    // One AssumeRole with the config's settings, none more for the next use.
    let calls = aws.sts_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["Action"], "AssumeRole");
    assert_eq!(calls[0]["RoleArn"], aws.role_arn.as_str());
    assert_eq!(calls[0]["ExternalId"], "ext-42");
    assert_eq!(calls[0]["RoleSessionName"], "authcfg-prod-aws");
    assert_eq!(calls[0]["DurationSeconds"], "3600");
    let j = process_json(&t, "prod-aws");
    assert_eq!(j["Version"], 1);
    let id = j["AccessKeyId"].as_str().unwrap();
    assert!(id.starts_with("ASIA"), "{j}");
    assert_ne!(id, aws.access_key_id);
    assert_ne!(j["SecretAccessKey"], aws.secret_access_key.as_str());
    assert!(!j["SessionToken"].as_str().unwrap().is_empty());
    let exp = j["Expiration"].as_str().unwrap();
    assert!(exp.ends_with('Z') && exp.len() == 20, "{exp}");
    assert_eq!(aws.sts_calls().len(), 1, "the cached session was used");
    // The use is recorded with its consumer.
    let show = t.stdout(&["show", "prod-aws"]);
    assert!(show.contains("aws:prod-aws"), "{show}");
    assert!(
        !show.contains(j["SecretAccessKey"].as_str().unwrap()),
        "{show}"
    );
}

#[test]
fn exec_and_export_hand_out_only_the_session() {
    let t = T::new();
    t.init();
    let aws = Aws::start();
    add_aws(&t, &aws, "app-aws", true, &[]);
    let o = t
        .std_cmd()
        .args(["exec", "app-aws", "--", "env"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let env = String::from_utf8_lossy(&o.stdout).to_string();
    assert_clean(
        "the child's environment",
        &o.stdout,
        &[&aws.secret_access_key],
    );
    let var = |k: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("{k} not in the child's environment:\n{env}"))
            .to_string()
    };
    assert!(var("AWS_ACCESS_KEY_ID").starts_with("ASIA"), "{env}");
    assert_ne!(var("AWS_ACCESS_KEY_ID"), aws.access_key_id);
    assert!(!var("AWS_SESSION_TOKEN").is_empty());
    assert!(!env.contains(&aws.access_key_id), "{env}");
    // The AWS CLI in the child lists the bucket with those keys.
    let mut c = t.std_cmd();
    c.args([
        "exec",
        "app-aws",
        "--",
        AWS_CLI,
        "--endpoint-url",
        &aws.endpoint,
    ])
    .args(["s3", "ls"])
    .env("AWS_EC2_METADATA_DISABLED", "true")
    .env("AWS_CONFIG_FILE", t.dir.path().join("no-config"))
    .env(
        "AWS_SHARED_CREDENTIALS_FILE",
        t.dir.path().join("no-credentials"),
    );
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&aws.bucket),
        "{}",
        text(&o)
    );
    // `export` hands out the same session, and no way names the long-lived
    // secret for a program.
    let j: serde_json::Value =
        serde_json::from_str(&t.stdout(&["export", "app-aws", "--format", "json"])).unwrap();
    assert_eq!(
        j["AWS_ACCESS_KEY_ID"].as_str().unwrap(),
        var("AWS_ACCESS_KEY_ID")
    );
    assert_eq!(
        j["AWS_SESSION_TOKEN"].as_str().unwrap(),
        var("AWS_SESSION_TOKEN")
    );
    assert_clean(
        "export",
        j.to_string().as_bytes(),
        &[&aws.secret_access_key],
    );
    let o = t
        .cmd()
        .args(["inject", "-i", "-"])
        .write_stdin("k={{ authcfg://app-aws/secret_access_key }}\n")
        .output()
        .unwrap();
    assert!(!o.status.success(), "{}", text(&o));
    assert_clean("inject", &o.stdout, &[&aws.secret_access_key]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("never reaches a program"),
        "{}",
        text(&o)
    );
    assert_eq!(
        aws.sts_calls().len(),
        1,
        "exec, exec and export share one session"
    );
}

#[test]
fn concurrent_callers_make_one_sts_call_and_an_expired_session_is_renewed_once() {
    let t = T::new();
    t.init();
    let aws = Aws::start();
    add_aws(&t, &aws, "ci-aws", true, &[]);
    let burst = |n: usize| -> Vec<String> {
        let children: Vec<_> = (0..n)
            .map(|_| {
                t.std_cmd()
                    .args(["aws", "credential-process", "ci-aws"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        children
            .into_iter()
            .map(|c| {
                let o = c.wait_with_output().unwrap();
                assert!(o.status.success(), "{}", text(&o));
                let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
                j["AccessKeyId"].as_str().unwrap().to_string()
            })
            .collect()
    };
    let first = burst(6);
    assert!(first.iter().all(|k| *k == first[0]), "{first:?}");
    assert_eq!(aws.sts_calls().len(), 1, "six callers, one AssumeRole");
    // The cached session ends: the next callers renew it once.
    t.cmd()
        .args([
            "edit",
            "ci-aws",
            "--set",
            "sts_expires=2020-01-01T00:00:00Z",
        ])
        .assert()
        .success();
    let second = burst(4);
    assert!(second.iter().all(|k| *k == second[0]), "{second:?}");
    assert_ne!(second[0], first[0]);
    assert_eq!(aws.sts_calls().len(), 2, "renewed once");
    // A session made from other settings is not used after an edit.
    t.cmd()
        .args(["edit", "ci-aws", "--set", "external_id=ext-43"])
        .assert()
        .success();
    let third = burst(2);
    assert_ne!(third[0], second[0]);
    let calls = aws.sts_calls();
    assert_eq!(calls.len(), 3, "{calls:?}");
    assert_eq!(calls[2]["ExternalId"], "ext-43");
}

#[test]
fn get_session_token_with_mfa_from_the_flag_or_the_stored_device() {
    let t = T::new();
    t.init();
    let aws = Aws::start();
    add_aws(
        &t,
        &aws,
        "mfa-aws",
        false,
        &[
            "mfa_serial=arn:aws:iam::123456789012:mfa/authcfg",
            "session_duration=15m",
        ],
    );
    // No code and no device: a usage error that says how, and no STS call.
    let o = t
        .cmd()
        .args(["aws", "credential-process", "mfa-aws"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--mfa-code"),
        "{}",
        text(&o)
    );
    assert!(aws.sts_calls().is_empty());
    let o = t
        .cmd()
        .args(["aws", "session", "mfa-aws", "--mfa-code", "123456"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("session of 'mfa-aws' until "));
    let calls = aws.sts_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["Action"], "GetSessionToken");
    assert_eq!(
        calls[0]["SerialNumber"],
        "arn:aws:iam::123456789012:mfa/authcfg"
    );
    assert_eq!(calls[0]["TokenCode"], "123456");
    assert_eq!(calls[0]["DurationSeconds"], "900");
    // credential_process uses that session without asking again.
    let j = process_json(&t, "mfa-aws");
    assert_eq!(j["Version"], 1);
    assert_eq!(aws.sts_calls().len(), 1);
    // With the device stored, authcfg computes the code itself.
    let uri = "otpauth://totp/aws:authcfg?secret=JBSWY3DPEHPK3PXP&issuer=aws";
    t.cmd()
        .args(["edit", "mfa-aws", "--secret-stdin", "mfa_totp"])
        .write_stdin(uri)
        .assert()
        .success();
    t.cmd()
        .args(["aws", "session", "mfa-aws", "--renew"])
        .assert()
        .success();
    let calls = aws.sts_calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    let code = calls[1]["TokenCode"].as_str().unwrap();
    assert!(
        code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()),
        "{code}"
    );
    // A config of another type is refused the way a usage error is.
    t.add("bearer", "tok", &[], Some(("token", "abc")))
        .success();
    t.cmd()
        .args(["aws", "credential-process", "tok"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not an AWS config"));
}

#[test]
fn the_container_endpoint_serves_the_sdk_and_refuses_other_tokens() {
    let t = T::new();
    t.init();
    let aws = Aws::start();
    add_aws(&t, &aws, "svc-aws", true, &[]);
    let no_config = t.dir.path().join("no-config");
    let script = format!(
        "env > \"$OUT/env\"; \
         {AWS_CLI} --endpoint-url {ep} s3 cp s3://{bucket}/hello.txt - > \"$OUT/ls\" 2>&1 || echo fail >> \"$OUT/ls\"; \
         curl -s -o /dev/null -w '%{{http_code}}' \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\" > \"$OUT/none\"; \
         curl -s -o /dev/null -w '%{{http_code}}' -H \"Authorization: not-the-token\" \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\" > \"$OUT/wrong\"; \
         curl -s -H \"Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN\" \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\" > \"$OUT/right\"",
        ep = aws.endpoint,
        bucket = aws.bucket
    );
    let out = tempfile::tempdir().unwrap();
    let o = t
        .std_cmd()
        .args([
            "exec",
            "--aws-endpoint",
            "svc-aws",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .env("OUT", out.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", &no_config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &no_config)
        // Inherited keys must not shadow the endpoint.
        .env("AWS_ACCESS_KEY_ID", "AKIAINHERITED")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let read = |f: &str| std::fs::read_to_string(out.path().join(f)).unwrap();
    let env = read("env");
    assert_clean(
        "the child's environment",
        env.as_bytes(),
        &[&aws.secret_access_key],
    );
    for k in [
        "AWS_ACCESS_KEY_ID=",
        "AWS_SECRET_ACCESS_KEY=",
        "AWS_SESSION_TOKEN=",
    ] {
        assert!(!env.lines().any(|l| l.starts_with(k)), "{k} in\n{env}");
    }
    let uri = env
        .lines()
        .find_map(|l| l.strip_prefix("AWS_CONTAINER_CREDENTIALS_FULL_URI="))
        .unwrap();
    assert!(uri.starts_with("http://127.0.0.1:"), "{uri}");
    assert_eq!(read("ls"), "hello");
    assert_eq!(read("none"), "401");
    assert_eq!(read("wrong"), "403");
    let j: serde_json::Value = serde_json::from_str(&read("right")).unwrap();
    assert!(
        j["AccessKeyId"].as_str().unwrap().starts_with("ASIA"),
        "{j}"
    );
    assert!(!j["Token"].as_str().unwrap().is_empty());
    assert!(j["Expiration"].as_str().unwrap().ends_with('Z'));
    // One session for the CLI and the direct request.
    assert_eq!(aws.sts_calls().len(), 1);
    // The endpoint is gone with the command.
    let port: u16 = uri
        .trim_start_matches("http://127.0.0.1:")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
    let show = t.stdout(&["show", "svc-aws"]);
    assert!(show.contains("aws:svc-aws"), "{show}");
}

#[test]
fn the_container_endpoint_renews_an_ended_session_for_a_running_child() {
    let t = T::new();
    t.init();
    let aws = Aws::start();
    add_aws(&t, &aws, "job-aws", true, &[]);
    let out = tempfile::tempdir().unwrap();
    // The child asks, waits (bounded) for the test's signal, asks again.
    let script = "ask() { curl -s -H \"Authorization: $AWS_CONTAINER_AUTHORIZATION_TOKEN\" \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\"; }; \
         ask > \"$OUT/first.tmp\" && mv \"$OUT/first.tmp\" \"$OUT/first\"; \
         i=0; while [ ! -e \"$OUT/go\" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; \
         ask > \"$OUT/second\"";
    let mut child = t
        .std_cmd()
        .args([
            "exec",
            "--aws-endpoint",
            "job-aws",
            "--",
            "sh",
            "-c",
            script,
        ])
        .env("OUT", out.path())
        .spawn()
        .unwrap();
    let first = out.path().join("first");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !first.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the child's first request"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The session ends while the child runs.
    t.cmd()
        .args([
            "edit",
            "job-aws",
            "--set",
            "sts_expires=2020-01-01T00:00:00Z",
        ])
        .assert()
        .success();
    std::fs::write(out.path().join("go"), "").unwrap();
    assert!(child.wait().unwrap().success());
    let read = |f: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out.path().join(f)).unwrap()).unwrap()
    };
    let (a, b) = (read("first"), read("second"));
    assert_ne!(a["AccessKeyId"], b["AccessKeyId"], "{a} {b}");
    assert!(b["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    assert_eq!(aws.sts_calls().len(), 2, "exec's session, then one renewal");
}

/// A fake STS on loopback (red team, F3/F4): answers each request with the
/// next of `answers` (a body, sent with status 200), then closes. Returns
/// its URL and how many requests it has had.
fn fake_sts(answers: Vec<Vec<u8>>) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = seen.clone();
    std::thread::spawn(move || {
        for body in answers {
            let Ok((s, _)) = listener.accept() else {
                return;
            };
            let mut r = BufReader::new(s);
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut req = vec![0u8; len];
            let _ = r.read_exact(&mut req);
            count.fetch_add(1, Ordering::SeqCst);
            let mut s = r.into_inner();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            // authcfg stops reading an answer too large: a failed write is expected.
            let _ = s
                .write_all(head.as_bytes())
                .and_then(|_| s.write_all(&body));
        }
    });
    (url, seen)
}

fn sts_answer(key_id: &str, expiration: &str, padding: usize) -> Vec<u8> {
    format!(
        "<GetSessionTokenResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetSessionTokenResult><Credentials><AccessKeyId>{key_id}</AccessKeyId><SecretAccessKey>sess-secret</SecretAccessKey><SessionToken>sess-token</SessionToken><Expiration>{expiration}</Expiration></Credentials></GetSessionTokenResult><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></GetSessionTokenResponse>",
        "r".repeat(padding)
    )
    .into_bytes()
}

/// An STS answer is read up to 64 KiB: a larger one (here a valid session
/// padded to 8 MiB) is refused and nothing is kept. An `Expiration` not
/// later than now is refused (naming STS); one far in the future is cut
/// to the requested length and 5 minutes.
#[test]
fn an_oversized_or_ill_timed_sts_answer_is_not_kept() {
    let t = T::new();
    t.init();
    let (url, seen) = fake_sts(vec![
        sts_answer("ASIAHUGE", "2099-01-01T00:00:00Z", 8 << 20),
        sts_answer("ASIAPAST", "2001-01-01T00:00:00Z", 0),
        sts_answer("ASIAFAR", "2099-01-01T00:00:00Z", 0),
    ]);
    t.cmd()
        .args(["add", "connector", "s3", "--name", "fake-aws", "--no-test"])
        .args(["--set", "access_key_id=AKIAFAKE"])
        .args(["--set", "bucket=b"])
        .args(["--set", &format!("endpoint={url}")])
        .args(["--secret-stdin", "secret_access_key"])
        .write_stdin("long-lived-secret")
        .assert()
        .success();
    let call = || {
        t.cmd()
            .args(["aws", "credential-process", "fake-aws"])
            .output()
            .unwrap()
    };
    let o = call();
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("the STS answer is too large"),
        "{}",
        text(&o)
    );
    let o = call();
    assert!(!o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("STS at") && err.contains("not later than now"),
        "{}",
        text(&o)
    );
    // Neither session was kept: the next call asks STS again.
    let before = time::OffsetDateTime::now_utc();
    let j = process_json(&t, "fake-aws");
    assert_eq!(j["AccessKeyId"], "ASIAFAR");
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 3);
    let exp = time::OffsetDateTime::parse(
        j["Expiration"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let latest = before + time::Duration::seconds(3600 + 300 + 60);
    assert!(
        exp <= latest && exp > before,
        "{exp} not cut to about an hour"
    );
    // The cut session is cached: no fourth call.
    assert_eq!(process_json(&t, "fake-aws")["AccessKeyId"], "ASIAFAR");
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 3);
}
