//! TLS probes against real peers with the run's CA: redis-server on a TLS
//! port (rediss, with and without client certificates), Mosquitto with a
//! TLS listener (mqtts), nats-server with TLS, and tansu, a Kafka-protocol
//! broker with SASL/SCRAM users, over TLS and without. For each: the right
//! CA passes and the server counts as verified; no CA means "certificate not
//! trusted"; a certificate for another name means "name mismatch"; a wrong
//! password is "authentication failed". Passwords that would travel in the
//! clear to a host that is not loopback are not sent at all.

use crate::support::pki::{s, Pki};
use crate::support::tls_services::*;
use crate::support::*;
use crate::tls_postgres::{add, passed, refused, text};

/// The three trust cases and the wrong password, for one connector whose
/// sets are built by `sets(host, extra)`.
pub fn trust_cases(
    t: &T,
    connector: &str,
    sets: &dyn Fn(&str, &[String]) -> Vec<String>,
    ca: &str,
    good: &str,
) {
    let ca = format!("tls_ca={ca}");
    let o = add(
        t,
        connector,
        &format!("{connector}-ok"),
        &sets("localhost", std::slice::from_ref(&ca)),
        Some(("password", good)),
    );
    let out = passed(&o, connector);
    assert!(!out.contains("NOT verified"), "{out}");
    let rows: serde_json::Value =
        serde_json::from_str(&t.stdout(&["test", &format!("{connector}-ok"), "--json"])).unwrap();
    assert_eq!(rows[0]["server_identity"], "verified", "{rows}");

    let o = add(
        t,
        connector,
        &format!("{connector}-bad"),
        &sets("localhost", std::slice::from_ref(&ca)),
        Some(("password", "wrong-Pw-0")),
    );
    refused(t, &o, &format!("{connector}-bad"), "authentication failed");

    let o = add(
        t,
        connector,
        &format!("{connector}-noca"),
        &sets("localhost", &[]),
        Some(("password", good)),
    );
    refused(
        t,
        &o,
        &format!("{connector}-noca"),
        "TLS: certificate not trusted",
    );

    let o = add(
        t,
        connector,
        &format!("{connector}-ip"),
        &sets("127.0.0.1", &[ca]),
        Some(("password", good)),
    );
    refused(t, &o, &format!("{connector}-ip"), "TLS: name mismatch");
}

#[test]
fn rediss_verified_and_client_certificates() {
    let t = T::new();
    t.init();
    let pki = Pki::new("redis");
    let server = pki.server("redis", &["localhost"]);
    let redis = redis_tls(&server, &pki.ca, "redis-Tls-pw1", false);
    let port = redis.port;
    let sets = move |host: &str, extra: &[String]| {
        let mut v = vec![
            format!("host={host}"),
            format!("port={port}"),
            "tls=true".to_string(),
        ];
        v.extend(extra.iter().cloned());
        v
    };
    trust_cases(&t, "redis", &sets, &s(&pki.ca), "redis-Tls-pw1");

    // Client certificates required: without one, the server refuses the
    // handshake; with one from the CA, the login goes through.
    let strict = redis_tls(&server, &pki.ca, "redis-Tls-pw1", true);
    let sp = strict.port;
    let ca = format!("tls_ca={}", s(&pki.ca));
    let base = |extra: &[String]| {
        let mut v = vec![
            "host=localhost".to_string(),
            format!("port={sp}"),
            "tls=true".into(),
            ca.clone(),
        ];
        v.extend(extra.iter().cloned());
        v
    };
    let o = add(
        &t,
        "redis",
        "nocert",
        &base(&[]),
        Some(("password", "redis-Tls-pw1")),
    );
    refused(
        &t,
        &o,
        "nocert",
        "TLS: client certificate required or refused",
    );
    let client = pki.client("redis-client", "authcfg");
    let o = add(
        &t,
        "redis",
        "mtls",
        &base(&[
            format!("tls_cert={}", s(&client.cert)),
            format!("tls_key={}", s(&client.key)),
        ]),
        Some(("password", "redis-Tls-pw1")),
    );
    passed(&o, "mtls");
}

#[test]
fn plaintext_passwords_to_remote_hosts_are_not_sent() {
    // Nothing listens and nothing is resolved: the refusal comes first.
    let t = T::new();
    t.init();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("redis", vec!["host=cache.example.invalid", "port=6379"]),
        (
            "mosquitto",
            vec!["host=mqtt.example.invalid", "port=1883", "username=u"],
        ),
        ("rabbitmq", vec!["host=mq.example.invalid", "username=u"]),
        (
            "nats",
            vec!["servers=nats://nats.example.invalid:4222", "username=u"],
        ),
        (
            "kafka",
            vec![
                "bootstrap_servers=kafka.example.invalid:9092",
                "security_protocol=SASL_PLAINTEXT",
                "sasl_mechanism=PLAIN",
                "username=u",
            ],
        ),
    ];
    for (connector, sets) in cases {
        let sets: Vec<String> = sets.into_iter().map(String::from).collect();
        let o = add(
            &t,
            connector,
            "remote",
            &sets,
            Some(("password", "plain-Pw-9")),
        );
        refused(&t, &o, "remote", "password not sent");
        // With TLS asked for, the same config goes on to name resolution.
        if connector != "kafka" && connector != "nats" {
            let mut tls = sets.clone();
            tls.push("tls=true".into());
            let o = add(
                &t,
                connector,
                "remote",
                &tls,
                Some(("password", "plain-Pw-9")),
            );
            assert!(
                text(&o).contains("DNS lookup failed"),
                "{connector}: {}",
                text(&o)
            );
        }
    }
    // Kafka's SASL PLAIN is refused without TLS even on loopback; SCRAM is
    // fine without it (it reveals nothing).
    let o = add(
        &t,
        "kafka",
        "local-plain",
        &[
            format!(
                "bootstrap_servers=127.0.0.1:{}",
                crate::support::services::closed_port()
            ),
            "security_protocol=SASL_PLAINTEXT".into(),
            "sasl_mechanism=PLAIN".into(),
            "username=u".into(),
        ],
        Some(("password", "plain-Pw-9")),
    );
    refused(&t, &o, "local-plain", "password not sent");
}

#[test]
fn mqtts_with_mosquitto() {
    let t = T::new();
    t.init();
    let pki = Pki::new("mqtt");
    let server = pki.server("mqtt", &["localhost"]);
    let broker = mosquitto_tls(&server, "mqttuser", "mqtt-Tls-pw1");
    let port = broker.port;
    let sets = move |host: &str, extra: &[String]| {
        let mut v = vec![
            format!("host={host}"),
            format!("port={port}"),
            "tls=true".to_string(),
            "username=mqttuser".into(),
        ];
        v.extend(extra.iter().cloned());
        v
    };
    trust_cases(&t, "mosquitto", &sets, &s(&pki.ca), "mqtt-Tls-pw1");
}

#[test]
fn nats_with_tls() {
    let t = T::new();
    t.init();
    let pki = Pki::new("nats");
    let server = pki.server("nats", &["localhost"]);
    let nats = nats_tls(&server, "natsuser", "nats-Tls-pw1");
    let port = nats.port;
    let sets = move |host: &str, extra: &[String]| {
        let mut v = vec![
            format!("servers=nats://{host}:{port}"),
            "tls=true".to_string(),
            "username=natsuser".into(),
        ];
        v.extend(extra.iter().cloned());
        v
    };
    trust_cases(&t, "nats", &sets, &s(&pki.ca), "nats-Tls-pw1");
}

#[test]
fn kafka_sasl_scram_and_tls_with_tansu() {
    let t = T::new();
    t.init();
    let users = [
        ("alice", "kafka-Scram256-pw", "scram256"),
        ("bob", "kafka-Scram512-pw", "scram512"),
    ];
    // Without TLS: SCRAM-SHA-256 and -512 log in, a wrong password does not.
    let broker = Tansu::start(&users, None);
    let sets = |mech: &str, user: &str| {
        vec![
            format!("bootstrap_servers=127.0.0.1:{}", broker.port),
            "security_protocol=SASL_PLAINTEXT".to_string(),
            format!("sasl_mechanism={mech}"),
            format!("username={user}"),
        ]
    };
    let o = add(
        &t,
        "kafka",
        "k256",
        &sets("SCRAM-SHA-256", "alice"),
        Some(("password", "kafka-Scram256-pw")),
    );
    assert!(passed(&o, "k256").contains("SASL SCRAM-SHA-256 accepted"));
    let o = add(
        &t,
        "kafka",
        "k512",
        &sets("SCRAM-SHA-512", "bob"),
        Some(("password", "kafka-Scram512-pw")),
    );
    assert!(passed(&o, "k512").contains("SASL SCRAM-SHA-512 accepted"));
    let o = add(
        &t,
        "kafka",
        "kbad",
        &sets("SCRAM-SHA-256", "alice"),
        Some(("password", "kafka-wrong")),
    );
    refused(&t, &o, "kbad", "authentication failed");
    // PLAIN without TLS is not sent; opted in, tansu (SCRAM only) refuses it.
    let o = add(
        &t,
        "kafka",
        "kplain",
        &sets("PLAIN", "alice"),
        Some(("password", "kafka-Scram256-pw")),
    );
    refused(&t, &o, "kplain", "password not sent");
    drop(broker);

    // SASL_SSL: TLS with a certificate from the run's CA for localhost, in
    // front of the broker (which names the TLS address in its metadata).
    let pki = Pki::new("kafka");
    let server = pki.server("kafka", &["localhost"]);
    let port = crate::support::services::closed_port();
    let broker = Tansu::start(&users, Some(format!("localhost:{port}")));
    let _front = tls_front(&server, port, broker.port);
    let sets = move |host: &str, extra: &[String]| {
        let mut v = vec![
            format!("bootstrap_servers={host}:{port}"),
            "security_protocol=SASL_SSL".to_string(),
            "sasl_mechanism=SCRAM-SHA-256".into(),
            "username=alice".into(),
        ];
        v.extend(extra.iter().cloned());
        v
    };
    trust_cases(&t, "kafka", &sets, &s(&pki.ca), "kafka-Scram256-pw");
}
