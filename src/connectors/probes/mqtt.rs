//! MQTT 3.1.1 on rumqttc: CONNECT with the credentials, over TLS (mqtts)
//! verified against the system store or `tls_ca` when the config says
//! `tls`, with `tls_cert`/`tls_key` as client certificate; without TLS only
//! to a loopback host unless the config opts in.

use super::{connect_tcp, flag, get, plaintext_guard, port, typed_failure, verified_tls};
use crate::connectors::{Class, Outcome};
use crate::model::ConfigDoc;
use crate::net::ServerIdentity;
use std::time::Duration;

pub async fn probe(doc: &ConfigDoc) -> Outcome {
    use rumqttc::{ConnectReturnCode, ConnectionError, Event, Packet};
    let host = get(doc, "host");
    let tls = flag(doc, "tls");
    let port = port(doc, if tls { 8883 } else { 1883 });
    let has_password = !get(doc, "password").is_empty();
    if !tls {
        if let Some(refused) = plaintext_guard(doc, host, has_password) {
            return refused;
        }
    }
    // Typed DNS/refused classification first.
    if let Err(o) = connect_tcp(host, port).await {
        return o;
    }
    let client_id = if get(doc, "client_id").is_empty() {
        "authcfg"
    } else {
        get(doc, "client_id")
    };
    let mut opts =
        rumqttc::MqttOptions::new(format!("{client_id}-{}", std::process::id()), host, port);
    opts.set_keep_alive(Duration::from_secs(30));
    if !get(doc, "username").is_empty() {
        opts.set_credentials(get(doc, "username"), get(doc, "password"));
    }
    let t = if tls {
        let t = match verified_tls(doc) {
            Ok(t) => t,
            Err(o) => return o,
        };
        opts.set_transport(rumqttc::Transport::tls_with_config(
            rumqttc::TlsConfiguration::Rustls(t.config.clone()),
        ));
        Some(t)
    } else {
        None
    };
    let identity = match &t {
        Some(t) => t.identity().unwrap_or(ServerIdentity::Verified),
        None => ServerIdentity::Plaintext,
    };
    let (client, mut events) = rumqttc::AsyncClient::new(opts, 10);
    let outcome = match events.poll().await {
        Ok(Event::Incoming(Packet::ConnAck(ack))) if ack.code == ConnectReturnCode::Success => {
            Outcome::ok("CONNACK accepted").with_identity(match &t {
                Some(t) => t.identity().unwrap_or(identity),
                None => identity,
            })
        }
        Ok(other) => Outcome::fail(
            Class::Protocol,
            format!("unexpected first packet: {other:?}"),
        ),
        Err(ConnectionError::ConnectionRefused(code)) => match code {
            ConnectReturnCode::BadUserNamePassword => {
                Outcome::fail(Class::Auth, "bad user name or password")
            }
            ConnectReturnCode::NotAuthorized => Outcome::fail(Class::Auth, "not authorized"),
            other => Outcome::fail(
                Class::Protocol,
                format!("connection refused by the broker: {other:?}"),
            ),
        },
        Err(e) => typed_failure(&e, t.as_ref()).unwrap_or_else(|| super::text_failure(&e)),
    };
    let _ = client.disconnect().await;
    outcome
}
