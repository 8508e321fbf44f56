//! AMQPS against a private RabbitMQ node (TLS only, the run's CA), and
//! password rotation through its management API over https: the config's
//! `tls` is honoured, the server verified, and the management URL checked
//! when it is used.

use crate::support::pki::{s, Pki};
use crate::support::tls_services::RabbitTls;
use crate::support::*;
use crate::tls_brokers::trust_cases;
use crate::tls_postgres::{add, passed};

#[test]
fn amqps_and_rotation_over_the_https_management_api() {
    let t = T::new();
    t.init();
    let pki = Pki::new("amqp");
    let server = pki.server("amqp", &["localhost"]);
    let mq = RabbitTls::start(&server, "tlsadmin", "amqp-Tls-pw1");
    let port = mq.port;
    let sets = move |host: &str, extra: &[String]| {
        let mut v = vec![
            format!("host={host}"),
            format!("port={port}"),
            "tls=true".to_string(),
            "username=tlsadmin".into(),
        ];
        v.extend(extra.iter().cloned());
        v
    };
    trust_cases(&t, "rabbitmq", &sets, &s(&pki.ca), "amqp-Tls-pw1");

    // Rotation: the new password is set over https (verified with the same
    // CA), proven over AMQPS, then saved.
    let ca = format!("tls_ca={}", s(&pki.ca));
    let mgmt = format!("management_url=https://localhost:{}", mq.mgmt_port);
    let o = add(
        &t,
        "rabbitmq",
        "mq",
        &sets("localhost", &[ca.clone(), mgmt]),
        Some(("password", "amqp-Tls-pw1")),
    );
    passed(&o, "mq");
    t.cmd().args(["rotate", "mq"]).assert().success();
    let doc: serde_json::Value =
        serde_json::from_str(&t.stdout(&["show", "mq", "--json", "--reveal"])).unwrap();
    let new = doc["config"]["password"].as_str().unwrap().to_string();
    assert_ne!(new, "amqp-Tls-pw1");
    let o = add(
        &t,
        "rabbitmq",
        "mq-new",
        &sets("localhost", std::slice::from_ref(&ca)),
        Some(("password", &new)),
    );
    passed(&o, "mq-new");
    let o = add(
        &t,
        "rabbitmq",
        "mq-old",
        &sets("localhost", std::slice::from_ref(&ca)),
        Some(("password", "amqp-Tls-pw1")),
    );
    assert_eq!(o.status.code(), Some(4));

    // A management URL edited to plain http on another host: the rotation
    // stops before sending the admin's credentials or a new password.
    t.cmd()
        .args([
            "edit",
            "mq",
            "--set",
            "management_url=http://mq.example.invalid:15672",
        ])
        .assert()
        .success();
    let out = t.cmd().args(["rotate", "mq"]).output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not sent"), "{err}");
    assert_clean("rotate errors", &out.stderr, &[&new]);
    let doc: serde_json::Value =
        serde_json::from_str(&t.stdout(&["show", "mq", "--json", "--reveal"])).unwrap();
    assert_eq!(doc["config"]["password"], new.as_str(), "unchanged");
}
