//! Native connectors against the real services: right credentials pass,
//! a wrong password is "authentication failed" (exit 4), a closed port is
//! "connection refused", a silent listener is a "timeout" within --timeout.
//! Every address is on loopback.

use crate::support::services::*;
use crate::support::*;
use predicates::prelude::*;
use predicates::str::contains;
use std::time::{Duration, Instant};

/// Proves one connector end to end. `sets(port)` gives the non-secret fields
/// for a service on `port`.
fn prove(
    t: &T,
    connector: &str,
    port: u16,
    sets: &dyn Fn(u16) -> Vec<String>,
    secret_field: &str,
    good: &str,
    bad: &str,
) {
    let name = format!("ok-{connector}");
    let add = |name: &str, port: u16, secret: &str, extra: &[&str]| {
        let mut c = t.cmd();
        c.args([
            "add",
            "connector",
            connector,
            "--name",
            name,
            "--secret-stdin",
            secret_field,
        ]);
        for s in sets(port) {
            c.args(["--set", &s]);
        }
        c.args(extra).write_stdin(secret.to_string());
        c.assert()
    };
    add(&name, port, good, &[])
        .success()
        .stderr(contains("Connection test passed"));
    t.cmd()
        .args(["test", &name])
        .assert()
        .success()
        .stdout(contains("passed"));
    let list: serde_json::Value = serde_json::from_str(&t.stdout(&["list", "--json"])).unwrap();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["status"], "Active", "{connector}");

    let bad_name = format!("bad-{connector}");
    add(&bad_name, port, bad, &[])
        .code(4)
        .stderr(contains("authentication failed"))
        .stderr(contains("nothing was saved"));
    t.cmd().args(["show", &bad_name]).assert().code(3);

    add(&bad_name, closed_port(), good, &[])
        .code(4)
        .stderr(contains("connection refused"));

    let (_hold, silent) = silent_listener();
    let started = Instant::now();
    add(&bad_name, silent, good, &["--timeout", "2"])
        .code(4)
        .stderr(contains("timeout"));
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{connector}: timeout took {:?}",
        started.elapsed()
    );

    // A wrong password saved with --no-test shows up as Error after `test`.
    add(&bad_name, port, bad, &["--no-test"]).success();
    t.cmd()
        .args(["test", &bad_name])
        .assert()
        .code(4)
        .stdout(contains("authentication failed"));
    let list: serde_json::Value = serde_json::from_str(&t.stdout(&["list", "--json"])).unwrap();
    let row = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == bad_name.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["status"], "Error");
    t.cmd()
        .args(["remove", &bad_name, "--yes"])
        .assert()
        .success();
    // No secret in the audit trail.
    assert_clean(
        "audit",
        &std::fs::read(t.store.join("audit.jsonl")).unwrap(),
        &[good, bad],
    );
}

fn host_port(extra: &[&str]) -> impl Fn(u16) -> Vec<String> {
    let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    move |port| {
        let mut v = vec!["host=127.0.0.1".to_string(), format!("port={port}")];
        v.extend(extra.iter().cloned());
        v
    }
}

#[test]
fn postgres_with_scram_password() {
    let t = T::new();
    t.init();
    let role = PgRole::create("pg-Right-pw-1");
    let sets = host_port(&[
        "database=postgres",
        &format!("username={}", role.0),
        "sslmode=disable",
    ]);
    prove(
        &t,
        "postgres",
        5432,
        &sets,
        "password",
        "pg-Right-pw-1",
        "pg-wrong-pw",
    );
    // libpq's own variables: psql connects with what `exec` hands it.
    let out = t
        .cmd()
        .args([
            "exec",
            "ok-postgres",
            "--",
            "psql",
            "-XAtc",
            "select current_user",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), role.0);
    let env: serde_json::Value =
        serde_json::from_str(&t.stdout(&["export", "ok-postgres", "--format", "json"])).unwrap();
    assert_eq!(env["PGUSER"], role.0.as_str());
    assert_eq!(
        env["DATABASE_URL"],
        format!(
            "postgresql://{}:pg-Right-pw-1@127.0.0.1:5432/postgres?sslmode=disable",
            role.0
        )
    );
}

#[test]
fn mariadb_user() {
    let t = T::new();
    t.init();
    let user = MariaUser::create("maria-Right-pw");
    let sets = host_port(&[
        "database=test",
        &format!("username={}", user.0),
        "sslmode=disable",
    ]);
    prove(
        &t,
        "mariadb",
        3306,
        &sets,
        "password",
        "maria-Right-pw",
        "maria-wrong",
    );
}

#[test]
fn redis_acl_user() {
    let t = T::new();
    t.init();
    let user = RedisUser::create("redis-Right-pw");
    let sets = host_port(&[&format!("username={}", user.0)]);
    prove(
        &t,
        "redis",
        6379,
        &sets,
        "password",
        "redis-Right-pw",
        "redis-wrong",
    );
    let env: serde_json::Value =
        serde_json::from_str(&t.stdout(&["export", "ok-redis", "--format", "json"])).unwrap();
    assert_eq!(
        env["REDIS_URL"],
        format!("redis://{}:redis-Right-pw@127.0.0.1:6379/0", user.0)
    );
}

#[test]
fn rabbitmq_user() {
    let t = T::new();
    t.init();
    let user = RabbitUser::create("rabbit-Right-pw");
    let sets = host_port(&[&format!("username={}", user.0)]);
    prove(
        &t,
        "rabbitmq",
        5672,
        &sets,
        "password",
        "rabbit-Right-pw",
        "rabbit-wrong",
    );
}

/// A vhost the broker refuses is a permission failure (AMQP reply code
/// 530), not a refused login, even when the broker's message carries
/// "403": classified by the reply code, not by words in the text.
#[test]
fn rabbitmq_vhost_refusal_is_read_by_its_reply_code() {
    let t = T::new();
    t.init();
    let user = RabbitUser::create("rabbit-Right-pw");
    t.cmd()
        .args(["add", "connector", "rabbitmq", "--name", "vh", "--no-test"])
        .args(["--set", "host=127.0.0.1", "--set", "port=5672"])
        .args(["--set", &format!("username={}", user.0)])
        .args(["--set", "vhost=no-such-vhost-403"])
        .args(["--secret-stdin", "password"])
        .write_stdin("rabbit-Right-pw")
        .assert()
        .success();
    let out = t.cmd().args(["test", "vh", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["class"], "permission", "{rows}");
}

#[test]
fn mqtt_mosquitto_with_password_file() {
    let t = T::new();
    t.init();
    let broker = mosquitto("mqttuser", "mqtt-Right-pw");
    let sets = host_port(&["username=mqttuser"]);
    prove(
        &t,
        "mosquitto",
        broker.port,
        &sets,
        "password",
        "mqtt-Right-pw",
        "mqtt-wrong",
    );
}

#[test]
fn nats_with_user_and_password() {
    let t = T::new();
    t.init();
    let server = nats("natsuser", "nats-Right-pw");
    let sets = |port: u16| {
        vec![
            format!("servers=nats://127.0.0.1:{port}"),
            "username=natsuser".to_string(),
        ]
    };
    prove(
        &t,
        "nats",
        server.port,
        &sets,
        "password",
        "nats-Right-pw",
        "nats-wrong",
    );
}

#[test]
fn s3_sigv4_against_a_server_that_checks_signatures() {
    let t = T::new();
    t.init();
    let s3 = S3::start();
    let (ak, bucket) = (s3.access_key_id.clone(), s3.bucket.clone());
    let sets = move |port: u16| {
        vec![
            format!("access_key_id={ak}"),
            format!("bucket={bucket}"),
            format!("endpoint=http://127.0.0.1:{port}"),
            "path_style=true".to_string(),
        ]
    };
    let port: u16 = s3.endpoint.rsplit(':').next().unwrap().parse().unwrap();
    // Differs from the real secret in its last character, whatever that is.
    let (head, last) = s3
        .secret_access_key
        .split_at(s3.secret_access_key.len() - 1);
    let wrong = format!("{head}{}", if last == "x" { "y" } else { "x" });
    prove(
        &t,
        "s3",
        port,
        &sets,
        "secret_access_key",
        &s3.secret_access_key,
        &wrong,
    );
    let env: serde_json::Value =
        serde_json::from_str(&t.stdout(&["export", "ok-s3", "--format", "json"])).unwrap();
    // An AWS config hands out an STS session, never its long-lived keys
    // (aws_sessions.rs covers it with the AWS CLI).
    assert_ne!(env["AWS_ACCESS_KEY_ID"], s3.access_key_id.as_str());
    assert_ne!(env["AWS_SECRET_ACCESS_KEY"], s3.secret_access_key.as_str());
    assert!(
        !env["AWS_SESSION_TOKEN"].as_str().unwrap().is_empty(),
        "{env}"
    );
    assert!(!env.to_string().contains(&s3.secret_access_key), "{env}");
    assert_eq!(env["AWS_REGION"], "us-east-1");
}

#[test]
fn sftp_with_password_and_with_key() {
    let t = T::new();
    t.init();
    let keydir = tempfile::tempdir().unwrap();
    let key = keydir.path().join("id_ed25519");
    assert!(std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .unwrap()
        .success());
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let server = sshd("authcfgsftp", "sftp-Right-pw", &public);
    // The server's host key is known (ssh_host_keys.rs covers first contact).
    let host_pub = std::fs::read_to_string(server.dir.path().join("host_ed25519.pub")).unwrap();
    let mut parts = host_pub.split_whitespace();
    std::fs::create_dir_all(t.home.join(".ssh")).unwrap();
    std::fs::write(
        t.home.join(".ssh/known_hosts"),
        format!(
            "[127.0.0.1]:{} {} {}\n",
            server.port,
            parts.next().unwrap(),
            parts.next().unwrap()
        ),
    )
    .unwrap();
    let sets = host_port(&["username=authcfgsftp"]);
    prove(
        &t,
        "sftp",
        server.port,
        &sets,
        "password",
        "sftp-Right-pw",
        "sftp-wrong",
    );
    // Key authentication, the key read from stdin.
    t.cmd()
        .args([
            "add",
            "connector",
            "sftp",
            "--name",
            "sftp-key",
            "--set",
            "host=127.0.0.1",
        ])
        .args([
            "--set",
            &format!("port={}", server.port),
            "--set",
            "username=authcfgsftp",
            "--secret-stdin",
            "private_key",
        ])
        .write_stdin(std::fs::read_to_string(&key).unwrap())
        .assert()
        .success()
        .stderr(contains("SFTP subsystem available"));
}

#[test]
fn kafka_probe_classifies_a_closed_port() {
    // Against a real broker: tls_brokers.rs (tansu); here the refused
    // connection's classification.
    let t = T::new();
    t.init();
    t.cmd()
        .args([
            "add",
            "connector",
            "kafka",
            "--name",
            "k",
            "--set",
            &format!("bootstrap_servers=127.0.0.1:{}", closed_port()),
        ])
        .args([
            "--set",
            "security_protocol=SASL_PLAINTEXT",
            "--set",
            "sasl_mechanism=SCRAM-SHA-256",
            "--set",
            "username=u",
            "--secret-stdin",
            "password",
            "--timeout",
            "3",
        ])
        .write_stdin("kafka-pw")
        .assert()
        .code(4)
        .stderr(contains("connection refused"));
}

#[test]
fn http_custom_types_api_key_bearer_basic() {
    let t = T::new();
    t.init();
    let web = nginx("key-Right-123", "tok-Right-456", "alice", "basic-Right-789");
    let base = format!("http://127.0.0.1:{}", web.port);
    let add = |name: &str, ty: &str, sets: &[String], field: &str, value: &str| {
        let mut c = t.cmd();
        c.args(["add", "custom", ty, "--name", name, "--secret-stdin", field]);
        for s in sets {
            c.args(["--set", s]);
        }
        c.write_stdin(value.to_string()).assert().success();
    };
    let cases: Vec<(&str, &str, Vec<String>, &str)> = vec![
        (
            "hdr",
            "api-key",
            vec![
                format!("test_url={base}/header"),
                "key_name=X-API-Key".into(),
            ],
            "api_key",
        ),
        (
            "pfx",
            "api-key",
            vec![
                format!("test_url={base}/prefixed"),
                "key_name=Authorization".into(),
                "prefix=Token ".into(),
            ],
            "api_key",
        ),
        (
            "qry",
            "api-key",
            vec![
                format!("test_url={base}/query"),
                "key_name=api_key".into(),
                "location=query".into(),
            ],
            "api_key",
        ),
        (
            "ck",
            "api-key",
            vec![
                format!("test_url={base}/cookie"),
                "key_name=session".into(),
                "location=cookie".into(),
            ],
            "api_key",
        ),
        (
            "brr",
            "bearer",
            vec![format!("test_url={base}/bearer")],
            "token",
        ),
        (
            "bsc",
            "basic",
            vec![format!("test_url={base}/basic"), "username=alice".into()],
            "password",
        ),
    ];
    for (name, ty, sets, field) in &cases {
        let good = match *ty {
            "bearer" => "tok-Right-456",
            "basic" => "basic-Right-789",
            _ => "key-Right-123",
        };
        add(name, ty, sets, field, good);
        add(&format!("{name}-bad"), ty, sets, field, "wrong-value");
    }
    let out = t.cmd().args(["test", "--all", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for (name, ..) in &cases {
        let ok = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == *name)
            .unwrap();
        assert_eq!(ok["ok"], true, "{name}: {ok}");
        let bad = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == format!("{name}-bad"))
            .unwrap();
        assert_eq!(bad["result"], "authentication failed", "{name}");
    }
    add(
        "forbidden",
        "bearer",
        &[format!("test_url={base}/forbidden")],
        "token",
        "x",
    );
    t.cmd()
        .args(["test", "forbidden"])
        .assert()
        .code(4)
        .stdout(contains("permission denied"));
    assert_clean(
        "test output",
        &out.stdout,
        &["key-Right-123", "tok-Right-456", "basic-Right-789"],
    );
    assert_clean(
        "test errors",
        &out.stderr,
        &["key-Right-123", "tok-Right-456", "basic-Right-789"],
    );
}

/// The catalog's HTTP connectors are probed with the credential model's
/// request credential, as the custom types are (`ops::probe`; the catalog
/// gives only the URL and the place): a header connector (GitLab's
/// `PRIVATE-TOKEN`) and a Basic one (Elasticsearch), right, wrong, closed
/// and silent; a token of blanks is a config failure and nothing is sent
/// (the connector's own probe sent it).
#[test]
fn catalog_http_connectors_are_probed_with_the_credential_model() {
    let t = T::new();
    t.init();
    let web = nginx("key-Right-123", "tok-Right-456", "alice", "basic-Right-789");
    let base = |port: u16| vec![format!("base_url=http://127.0.0.1:{port}")];
    prove(
        &t,
        "gitlab",
        web.port,
        &base,
        "token",
        "key-Right-123",
        "key-Wrong",
    );
    let userpass = |port: u16| {
        vec![
            format!("base_url=http://127.0.0.1:{port}"),
            "username=alice".to_string(),
        ]
    };
    prove(
        &t,
        "elasticsearch",
        web.port,
        &userpass,
        "password",
        "basic-Right-789",
        "basic-Wrong",
    );
    t.cmd()
        .args(["add", "connector", "gitlab", "--name", "blank", "--no-test"])
        .args(["--set", &format!("base_url=http://127.0.0.1:{}", web.port)])
        .args(["--secret-stdin", "token"])
        .write_stdin("   ")
        .assert()
        .success();
    t.cmd()
        .args(["test", "blank"])
        .assert()
        .code(4)
        .stdout(contains("config"))
        .stdout(contains("authentication failed").not());
}

#[test]
fn catalog_listing_and_bad_input() {
    let t = T::new();
    t.init();
    let out = t.stdout(&["connectors"]);
    assert!(out.lines().count() >= 100, "{} lines", out.lines().count());
    let all: serde_json::Value =
        serde_json::from_str(&t.stdout(&["connectors", "--json"])).unwrap();
    assert!(all.as_array().unwrap().len() >= 100);
    let pg = t.stdout(&["connectors", "postgresql"]);
    assert!(
        pg.contains("sslmode")
            && pg.contains("5432")
            && pg.contains("verify-full")
            && pg.contains("PGPASSWORD")
    );
    let before = t.snapshot();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "--set",
                "port=70000",
                "--set",
                "database=d",
                "--set",
                "username=u",
            ],
            "not a port number",
        ),
        (
            vec![
                "--set",
                "sslmode=maybe",
                "--set",
                "database=d",
                "--set",
                "username=u",
            ],
            "not one of disable, prefer, require, verify-ca, verify-full",
        ),
        (
            vec!["--set", "username=u"],
            "missing required field 'database'",
        ),
        (
            vec![
                "--set",
                "database=d",
                "--set",
                "username=u",
                "--set",
                "colour=blue",
            ],
            "unknown field 'colour'",
        ),
    ];
    for (args, msg) in cases {
        t.cmd()
            .args(["add", "connector", "postgres", "--name", "x", "--no-test"])
            .args(&args)
            .assert()
            .code(2)
            .stderr(contains(msg));
    }
    t.cmd()
        .args(["add", "connector", "postgress", "--name", "x"])
        .assert()
        .code(2)
        .stderr(contains("did you mean 'postgres'"));
    assert_eq!(before, t.snapshot(), "nothing saved");
}

#[test]
fn test_all_runs_probes_concurrently() {
    let t = T::new();
    t.init();
    let role = PgRole::create("conc-pw");
    let ruser = RedisUser::create("conc-redis");
    // Each probe waits the full --timeout on a silent listener; 20 of them in
    // parallel must take about one timeout, not twenty.
    let (_hold, silent) = silent_listener();
    for i in 0..10 {
        t.cmd()
            .args([
                "add",
                "connector",
                "postgres",
                "--name",
                &format!("pg{i}"),
                "--no-test",
                "--set",
                "host=127.0.0.1",
            ])
            .args([
                "--set",
                "database=postgres",
                "--set",
                &format!("username={}", role.0),
                "--set",
                "sslmode=disable",
                "--secret-stdin",
                "password",
            ])
            .write_stdin("conc-pw")
            .assert()
            .success();
        t.cmd()
            .args([
                "add",
                "connector",
                "redis",
                "--name",
                &format!("slow{i}"),
                "--no-test",
                "--set",
                "host=127.0.0.1",
            ])
            .args([
                "--set",
                &format!("port={silent}"),
                "--set",
                &format!("username={}", ruser.0),
                "--secret-stdin",
                "password",
            ])
            .write_stdin("conc-redis")
            .assert()
            .success();
    }
    let started = Instant::now();
    let out = t
        .cmd()
        .args(["test", "--all", "--json", "--timeout", "2"])
        .output()
        .unwrap();
    let wall = started.elapsed();
    assert_eq!(out.status.code(), Some(4));
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 20);
    let sum: u64 = rows.iter().map(|r| r["latency_ms"].as_u64().unwrap()).sum();
    assert!(rows.iter().filter(|r| r["ok"] == true).count() == 10);
    assert!(rows.iter().filter(|r| r["result"] == "timeout").count() == 10);
    eprintln!(
        "test --all: 20 probes, wall {} ms, sum of probe latencies {sum} ms",
        wall.as_millis()
    );
    assert!(
        wall.as_millis() * 4 < sum as u128,
        "wall {wall:?} vs sum {sum} ms: not concurrent"
    );
}
