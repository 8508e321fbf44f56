//! Credential rotation against the real servers (new password works, old one
//! fails, config updated), a rotation the server refuses, and history /
//! rollback of an API key.

use crate::support::services::*;
use crate::support::*;
use predicates::str::contains;
use std::process::Command;

fn revealed(t: &T, name: &str) -> serde_json::Value {
    serde_json::from_str(&t.stdout(&["show", name, "--json", "--reveal"])).unwrap()
}

fn psql_works(user: &str, password: &str) -> bool {
    Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            user,
            "-d",
            "postgres",
            "-XAtc",
            "select 1",
        ])
        .env("PGPASSWORD", password)
        .env_remove("PGSERVICE")
        .output()
        .unwrap()
        .status
        .success()
}

fn mariadb_works(user: &str, password: &str) -> bool {
    Command::new("mariadb")
        .args([
            "-h",
            "127.0.0.1",
            "-u",
            user,
            &format!("-p{password}"),
            "-e",
            "select 1",
        ])
        .output()
        .unwrap()
        .status
        .success()
}

fn redis_works(user: &str, password: &str) -> bool {
    // The default user needs no password here, so PING would pass anyway:
    // ask AUTH itself.
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "AUTH", user, password])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "OK"
}

fn add_db(t: &T, connector: &str, name: &str, sets: &[String], password: &str) {
    let mut c = t.cmd();
    c.args([
        "add",
        "connector",
        connector,
        "--name",
        name,
        "--secret-stdin",
        "password",
    ]);
    for s in sets {
        c.args(["--set", s]);
    }
    c.write_stdin(password.to_string()).assert().success();
}

#[test]
fn postgres_two_phase_rotation_and_refusal() {
    let t = T::new();
    t.init();
    let role = PgRole::create("pg-old-pw");
    let sets = vec![
        "host=127.0.0.1".into(),
        "database=postgres".into(),
        format!("username={}", role.0),
        "sslmode=disable".into(),
    ];
    add_db(&t, "postgres", "db", &sets, "pg-old-pw");
    // --dry-run changes nothing.
    t.cmd()
        .args(["rotate", "db", "--dry-run"])
        .assert()
        .success()
        .stdout(contains("Plan"));
    assert!(psql_works(&role.0, "pg-old-pw"));
    t.cmd()
        .args(["rotate", "db"])
        .assert()
        .success()
        .stderr(contains("fresh connection"));
    let new = revealed(&t, "db")["config"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new, "pg-old-pw");
    assert_eq!(new.len(), 32);
    assert!(psql_works(&role.0, &new), "new password works");
    assert!(!psql_works(&role.0, "pg-old-pw"), "old password fails");
    t.cmd().args(["test", "db"]).assert().success();
    // The old value is in the history, masked unless --reveal.
    let hist = t.stdout(&["history", "db"]);
    assert!(!hist.contains("pg-old-pw") && hist.contains("rotate"));
    assert!(t
        .stdout(&["history", "db", "--reveal"])
        .contains("pg-old-pw"));

    // A rotation the server refuses: a role without CREATEROLE as --admin.
    let weak = PgRole::create("weak-pw");
    add_db(
        &t,
        "postgres",
        "weak",
        &[
            "host=127.0.0.1".into(),
            "database=postgres".into(),
            format!("username={}", weak.0),
            "sslmode=disable".into(),
        ],
        "weak-pw",
    );
    let before = revealed(&t, "db");
    t.cmd()
        .args(["rotate", "db", "--admin", "weak"])
        .assert()
        .code(1)
        .stderr(contains("the server refused"))
        .stderr(contains("permission denied"))
        .stderr(contains("the old password still works and is saved"));
    assert_eq!(
        before["config"],
        revealed(&t, "db")["config"],
        "config unchanged"
    );
    assert!(psql_works(&role.0, &new), "the saved password still works");
    let log = t.stdout(&["log", "db", "--json"]);
    assert!(log.contains("\"rotate\""));
    assert_clean(
        "audit",
        &std::fs::read(t.store.join("audit.jsonl")).unwrap(),
        &[&new, "pg-old-pw"],
    );
}

#[test]
fn mariadb_and_redis_rotation() {
    let t = T::new();
    t.init();
    let m = MariaUser::create("maria-old-pw");
    add_db(
        &t,
        "mariadb",
        "maria",
        &[
            "host=127.0.0.1".into(),
            "database=test".into(),
            format!("username={}", m.0),
            "sslmode=disable".into(),
        ],
        "maria-old-pw",
    );
    t.cmd().args(["rotate", "maria"]).assert().success();
    let new = revealed(&t, "maria")["config"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(mariadb_works(&m.0, &new));
    assert!(!mariadb_works(&m.0, "maria-old-pw"));

    let r = RedisUser::create("redis-old-pw");
    add_db(
        &t,
        "redis",
        "cache",
        &["host=127.0.0.1".into(), format!("username={}", r.0)],
        "redis-old-pw",
    );
    t.cmd()
        .args(["rotate", "cache", "--length", "40", "--charset", "hex"])
        .assert()
        .success();
    let new = revealed(&t, "cache")["config"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(new.len(), 40);
    assert!(new.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(redis_works(&r.0, &new));
    assert!(!redis_works(&r.0, "redis-old-pw"));
}

#[test]
fn api_key_history_and_rollback() {
    let t = T::new();
    t.init();
    t.add("api-key", "stripe", &[], Some(("api_key", "sk_v1_planted")))
        .success();
    t.cmd()
        .args(["rotate", "stripe"])
        .assert()
        .code(2)
        .stderr(contains("--value-stdin"));
    t.cmd()
        .args(["rotate", "stripe", "--value-stdin"])
        .write_stdin("sk_v2_planted")
        .assert()
        .success();
    t.cmd()
        .args(["rotate", "stripe", "--value-stdin"])
        .write_stdin("sk_v3_planted")
        .assert()
        .success();
    assert_eq!(revealed(&t, "stripe")["config"]["api_key"], "sk_v3_planted");
    let hist = t.stdout(&["history", "stripe"]);
    assert_clean(
        "history",
        hist.as_bytes(),
        &["sk_v1_planted", "sk_v2_planted"],
    );
    let rows: serde_json::Value =
        serde_json::from_str(&t.stdout(&["history", "stripe", "--json", "--reveal"])).unwrap();
    assert_eq!(rows[0]["fields"]["api_key"], "sk_v2_planted");
    assert_eq!(rows[1]["fields"]["api_key"], "sk_v1_planted");
    t.cmd()
        .args(["rollback", "stripe", "--to", "2"])
        .assert()
        .success();
    assert_eq!(revealed(&t, "stripe")["config"]["api_key"], "sk_v1_planted");
    t.cmd().args(["rollback", "stripe"]).assert().success();
    assert_eq!(revealed(&t, "stripe")["config"]["api_key"], "sk_v3_planted");
    t.cmd()
        .args(["rollback", "stripe", "--to", "9"])
        .assert()
        .code(2);
    // Bounded: at most 5 previous values.
    for i in 0..8 {
        t.cmd()
            .args(["rotate", "stripe", "--generate"])
            .assert()
            .success();
        let _ = i;
    }
    let rows: serde_json::Value =
        serde_json::from_str(&t.stdout(&["history", "stripe", "--json"])).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 5);
    assert_clean(
        "audit",
        &std::fs::read(t.store.join("audit.jsonl")).unwrap(),
        &["sk_v1_planted", "sk_v2_planted", "sk_v3_planted"],
    );
}

#[test]
fn rabbitmq_rotation_through_the_management_api() {
    let t = T::new();
    t.init();
    let user = RabbitUser::create("rabbit-old-pw");
    let amqp_works = |pw: &str| {
        let mut c = t.cmd();
        c.args([
            "add",
            "connector",
            "rabbitmq",
            "--name",
            "probe",
            "--force",
            "--set",
            "host=127.0.0.1",
        ]);
        c.args([
            "--set",
            &format!("username={}", user.0),
            "--secret-stdin",
            "password",
        ])
        .write_stdin(pw.to_string());
        c.output().unwrap().status.success()
    };
    // A plain user may not change passwords through the management API.
    add_db(
        &t,
        "rabbitmq",
        "mq",
        &["host=127.0.0.1".into(), format!("username={}", user.0)],
        "rabbit-old-pw",
    );
    t.cmd()
        .args(["rotate", "mq"])
        .assert()
        .code(1)
        .stderr(contains("not authorized"));
    assert!(
        amqp_works("rabbit-old-pw"),
        "old password still works after a refused rotation"
    );
    // With the administrator tag it rotates its own password.
    assert!(Command::new("rabbitmqctl")
        .args(["-q", "set_user_tags", &user.0, "administrator"])
        .status()
        .unwrap()
        .success());
    t.cmd().args(["rotate", "mq"]).assert().success();
    let new = revealed(&t, "mq")["config"]["password"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(amqp_works(&new));
    assert!(!amqp_works("rabbit-old-pw"));
}
