//! PostgreSQL over TLS against a private server (ssl=on) whose certificate
//! the run's own CA signed for "localhost": verify-full with the CA passes;
//! without it the certificate is not trusted; by IP address the name does
//! not match; verify-ca accepts the chain and says the name went unchecked;
//! cleartext and MD5 are refused where the server is not verified unless
//! require_auth opts in; a client certificate authenticates.

use crate::support::pki::{s, Pki};
use crate::support::tls_services::PgServer;
use crate::support::*;
use std::process::Output;

pub fn add(
    t: &T,
    connector: &str,
    name: &str,
    sets: &[String],
    secret: Option<(&str, &str)>,
) -> Output {
    let mut c = t.cmd();
    c.args([
        "add",
        "connector",
        connector,
        "--name",
        name,
        "--timeout",
        "8",
    ]);
    for x in sets {
        c.args(["--set", x]);
    }
    if let Some((field, value)) = secret {
        c.args(["--secret-stdin", field])
            .write_stdin(value.to_string());
    }
    c.output().unwrap()
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Exit 4, the class label in the message, and nothing saved.
pub fn refused(t: &T, o: &Output, name: &str, label: &str) {
    assert_eq!(o.status.code(), Some(4), "{name}: {}", text(o));
    assert!(
        text(o).contains(label),
        "{name}: expected '{label}' in:\n{}",
        text(o)
    );
    assert!(text(o).contains("nothing was saved"), "{}", text(o));
    t.cmd().args(["show", name]).assert().code(3);
}

pub fn passed(o: &Output, name: &str) -> String {
    assert!(o.status.success(), "{name}: {}", text(o));
    assert!(text(o).contains("Connection test passed"), "{}", text(o));
    text(o)
}

fn pg_sets(host: &str, port: u16, user: &str, extra: &[String]) -> Vec<String> {
    let mut v = vec![
        format!("host={host}"),
        format!("port={port}"),
        "database=postgres".to_string(),
        format!("username={user}"),
    ];
    v.extend(extra.iter().cloned());
    v
}

#[test]
fn postgres_tls_trust_names_and_password_forms() {
    let t = T::new();
    t.init();
    let pki = Pki::new("pg");
    let other = Pki::new("other");
    let server = pki.server("pg", &["localhost"]);
    let pg = PgServer::start(&server, &pki.ca);
    pg.psql("CREATE ROLE scramuser LOGIN PASSWORD 'pg-Scram-pw1'");
    pg.psql("CREATE ROLE clearuser LOGIN PASSWORD 'pg-Clear-pw1'");
    pg.psql("SET password_encryption = 'md5'; CREATE ROLE md5user LOGIN PASSWORD 'pg-Md5-pw1'");
    pg.psql("CREATE ROLE certuser LOGIN");
    let ca = format!("sslrootcert={}", s(&pki.ca));
    let full = "sslmode=verify-full".to_string();

    // The right CA: verified, and `test` does not add a warning.
    let o = add(
        &t,
        "postgres",
        "ok",
        &pg_sets(
            "localhost",
            pg.port,
            "scramuser",
            &[full.clone(), ca.clone()],
        ),
        Some(("password", "pg-Scram-pw1")),
    );
    assert!(!passed(&o, "ok").contains("NOT verified"));
    let rows: serde_json::Value =
        serde_json::from_str(&t.stdout(&["test", "ok", "--json"])).unwrap();
    assert_eq!(rows[0]["server_identity"], "verified", "{rows}");

    // A wrong password over the verified connection is an authentication failure.
    let o = add(
        &t,
        "postgres",
        "bad",
        &pg_sets(
            "localhost",
            pg.port,
            "scramuser",
            &[full.clone(), ca.clone()],
        ),
        Some(("password", "pg-wrong")),
    );
    refused(&t, &o, "bad", "authentication failed");

    // No CA given: the system store does not know the run's CA.
    let o = add(
        &t,
        "postgres",
        "untrusted",
        &pg_sets(
            "localhost",
            pg.port,
            "scramuser",
            std::slice::from_ref(&full),
        ),
        Some(("password", "pg-Scram-pw1")),
    );
    refused(&t, &o, "untrusted", "TLS: certificate not trusted");
    // Another CA's certificate file: not trusted either.
    let o = add(
        &t,
        "postgres",
        "other-ca",
        &pg_sets(
            "localhost",
            pg.port,
            "scramuser",
            &[full.clone(), format!("sslrootcert={}", s(&other.ca))],
        ),
        Some(("password", "pg-Scram-pw1")),
    );
    refused(&t, &o, "other-ca", "TLS: certificate not trusted");

    // The certificate names localhost, not 127.0.0.1.
    let o = add(
        &t,
        "postgres",
        "wrong-name",
        &pg_sets(
            "127.0.0.1",
            pg.port,
            "scramuser",
            &[full.clone(), ca.clone()],
        ),
        Some(("password", "pg-Scram-pw1")),
    );
    refused(&t, &o, "wrong-name", "TLS: name mismatch");
    assert!(
        text(&o).contains("localhost, not 127.0.0.1"),
        "{}",
        text(&o)
    );

    // verify-ca checks the chain only, and says so.
    let o = add(
        &t,
        "postgres",
        "ca-only",
        &pg_sets(
            "127.0.0.1",
            pg.port,
            "scramuser",
            &["sslmode=verify-ca".into(), ca.clone()],
        ),
        Some(("password", "pg-Scram-pw1")),
    );
    assert!(passed(&o, "ca-only").contains("host name NOT checked"));

    // A server that wants the cleartext password, over TLS it has not
    // proven (require): refused before anything is sent.
    let o = add(
        &t,
        "postgres",
        "clear-require",
        &pg_sets(
            "127.0.0.1",
            pg.port,
            "clearuser",
            &["sslmode=require".into()],
        ),
        Some(("password", "pg-Clear-pw1")),
    );
    refused(
        &t,
        &o,
        "clear-require",
        "server asked for a cleartext password over an unverified connection",
    );
    // ... and on a verified connection the same server gets it.
    let o = add(
        &t,
        "postgres",
        "clear-verified",
        &pg_sets(
            "localhost",
            pg.port,
            "clearuser",
            &[full.clone(), ca.clone()],
        ),
        Some(("password", "pg-Clear-pw1")),
    );
    passed(&o, "clear-verified");
    // ... or where the config opts in, as libpq's require_auth does.
    let o = add(
        &t,
        "postgres",
        "clear-optin",
        &pg_sets(
            "127.0.0.1",
            pg.port,
            "clearuser",
            &["sslmode=require".into(), "require_auth=password".into()],
        ),
        Some(("password", "pg-Clear-pw1")),
    );
    assert!(passed(&o, "clear-optin").contains("NOT verified (TLS without certificate check)"));

    // MD5 without TLS: refused (the hash is as good as the password).
    let o = add(
        &t,
        "postgres",
        "md5-plain",
        &pg_sets("127.0.0.1", pg.port, "md5user", &["sslmode=disable".into()]),
        Some(("password", "pg-Md5-pw1")),
    );
    refused(
        &t,
        &o,
        "md5-plain",
        "server asked for a cleartext password over an unverified connection",
    );
    assert!(text(&o).contains("md5"), "{}", text(&o));

    // The refused attempts never reached authentication on the server.
    let log = pg.log();
    for user in ["clearuser", "md5user"] {
        assert!(
            !log.contains(&format!(
                "password authentication failed for user \"{user}\""
            )),
            "{log}"
        );
    }
    assert!(
        log.contains("connection authorized: user=clearuser"),
        "the opt-in logins did reach it:\n{log}"
    );

    // A client certificate from the CA authenticates certuser.
    let client = pki.client("certuser", "certuser");
    let o = add(
        &t,
        "postgres",
        "mtls",
        &pg_sets(
            "localhost",
            pg.port,
            "certuser",
            &[
                full.clone(),
                ca.clone(),
                format!("sslcert={}", s(&client.cert)),
                format!("sslkey={}", s(&client.key)),
            ],
        ),
        None,
    );
    passed(&o, "mtls");
    let o = add(
        &t,
        "postgres",
        "mtls-missing",
        &pg_sets("localhost", pg.port, "certuser", &[full, ca]),
        None,
    );
    refused(&t, &o, "mtls-missing", "authentication failed");

    // No secret anywhere it should not be.
    assert_clean(
        "audit",
        &std::fs::read(t.store.join("audit.jsonl")).unwrap(),
        &["pg-Scram-pw1", "pg-Clear-pw1", "pg-Md5-pw1", "pg-wrong"],
    );
}

#[test]
fn postgres_defaults_verify_full_for_remote_hosts_and_prefer_on_loopback() {
    let t = T::new();
    t.init();
    // Saved without a test; the sslmode that was stored.
    let sslmode = |name: &str, sets: &[&str]| -> String {
        let mut c = t.cmd();
        c.args(["add", "connector", "postgres", "--name", name, "--no-test"]);
        for x in sets.iter().chain(&["database=d", "username=u"]) {
            c.args(["--set", x]);
        }
        c.assert().success();
        let shown: serde_json::Value =
            serde_json::from_str(&t.stdout(&["show", name, "--json"])).unwrap();
        shown["config"]["sslmode"].as_str().unwrap().to_string()
    };
    assert_eq!(
        sslmode("remote", &["host=db.example.invalid"]),
        "verify-full"
    );
    assert_eq!(sslmode("local", &["host=127.0.0.1"]), "prefer");
    assert_eq!(sslmode("local6", &["host=::1"]), "prefer");
    // Explicit choices are kept.
    assert_eq!(
        sslmode("local-full", &["host=localhost", "sslmode=verify-full"]),
        "verify-full"
    );

    // The machine's PostgreSQL (no TLS, SCRAM for authcfg_pw members) works
    // out of the box on loopback, and `add` says the server is not verified.
    let role = crate::support::services::PgRole::create("pg-Local-pw2");
    let o = add(
        &t,
        "postgres",
        "dev",
        &pg_sets("127.0.0.1", 5432, &role.0, &[]),
        Some(("password", "pg-Local-pw2")),
    );
    assert!(passed(&o, "dev").contains("server identity NOT verified"));
}
