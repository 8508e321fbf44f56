//! MySQL protocol over TLS against a private MariaDB with the run's CA:
//! authcfg's own handshake (probes/mysql.rs) upgrades to TLS and verifies
//! the server by CA and name; `require` is encrypted but said to be
//! unverified; an account that requires X509 logs in with a client
//! certificate. (Requests for the password itself are in impostors.rs.)

use crate::support::pki::{s, Pki};
use crate::support::tls_services::MariaTls;
use crate::support::*;
use crate::tls_postgres::{add, passed, refused};

#[test]
fn mariadb_tls_trust_and_client_certificates() {
    let t = T::new();
    t.init();
    let pki = Pki::new("maria");
    let server = pki.server("maria", &["localhost"]);
    let db = MariaTls::start(&server, &pki.ca);
    db.sql("CREATE USER 'app'@'%' IDENTIFIED BY 'maria-Tls-pw1'; GRANT SELECT ON mysql.* TO 'app'@'%';");
    db.sql("CREATE USER 'x509user'@'%' REQUIRE X509; GRANT SELECT ON mysql.* TO 'x509user'@'%';");
    let port = db.port;
    let sets = |host: &str, user: &str, extra: &[String]| {
        let mut v = vec![
            format!("host={host}"),
            format!("port={port}"),
            "database=mysql".to_string(),
            format!("username={user}"),
        ];
        v.extend(extra.iter().cloned());
        v
    };
    let ca = format!("tls_ca={}", s(&pki.ca));
    let full = "sslmode=verify-full".to_string();
    let o = add(
        &t,
        "mariadb",
        "ok",
        &sets("localhost", "app", &[full.clone(), ca.clone()]),
        Some(("password", "maria-Tls-pw1")),
    );
    assert!(!passed(&o, "ok").contains("NOT verified"));
    let o = add(
        &t,
        "mariadb",
        "bad",
        &sets("localhost", "app", &[full.clone(), ca.clone()]),
        Some(("password", "maria-wrong")),
    );
    refused(&t, &o, "bad", "authentication failed");
    let o = add(
        &t,
        "mariadb",
        "noca",
        &sets("localhost", "app", std::slice::from_ref(&full)),
        Some(("password", "maria-Tls-pw1")),
    );
    refused(&t, &o, "noca", "TLS: certificate not trusted");
    let o = add(
        &t,
        "mariadb",
        "ip",
        &sets("127.0.0.1", "app", &[full.clone(), ca.clone()]),
        Some(("password", "maria-Tls-pw1")),
    );
    refused(&t, &o, "ip", "TLS: name mismatch");
    // require: encrypted, not verified, and said so.
    let o = add(
        &t,
        "mariadb",
        "req",
        &sets("127.0.0.1", "app", &["sslmode=require".into()]),
        Some(("password", "maria-Tls-pw1")),
    );
    assert!(passed(&o, "req").contains("NOT verified (TLS without certificate check)"));
    // A client certificate from the CA for a REQUIRE X509 account.
    let client = pki.client("maria-client", "x509user");
    let cert = [
        full.clone(),
        ca.clone(),
        format!("tls_cert={}", s(&client.cert)),
        format!("tls_key={}", s(&client.key)),
    ];
    let o = add(
        &t,
        "mariadb",
        "x509",
        &sets("localhost", "x509user", &cert),
        None,
    );
    passed(&o, "x509");
    let o = add(
        &t,
        "mariadb",
        "x509-missing",
        &sets("localhost", "x509user", &[full, ca]),
        None,
    );
    refused(&t, &o, "x509-missing", "authentication failed");
}
