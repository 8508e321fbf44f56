//! AMQP 0-9-1 (RabbitMQ and friends) on amqprs: PLAIN over AMQPS when the
//! config says `tls` (verified against the system store or `tls_ca`, client
//! certificate from `tls_cert`/`tls_key`), plain AMQP otherwise, and then
//! only to a loopback host unless the config opts in.
//!
//! amqprs reports errors as text; the TLS verifier's record and a reachability
//! check before the handshake keep TLS, DNS and refused connections typed.
//! Login failures are recognized by the AMQP reply code in that text.

use super::{connect_tcp, flag, get, plaintext_guard, port, verified_tls};
use crate::connectors::{Class, Outcome};
use crate::model::ConfigDoc;
use crate::net::ServerIdentity;

pub async fn probe(doc: &ConfigDoc) -> Outcome {
    use amqprs::connection::{Connection, OpenConnectionArguments};
    let host = get(doc, "host");
    let tls = flag(doc, "tls");
    let port = port(doc, if tls { 5671 } else { 5672 });
    if !tls {
        if let Some(refused) = plaintext_guard(doc, host, true) {
            return refused;
        }
    }
    // Typed DNS/refused/timeout classification before amqprs' text errors.
    if let Err(o) = connect_tcp(host, port).await {
        return o;
    }
    let mut args =
        OpenConnectionArguments::new(host, port, get(doc, "username"), get(doc, "password"));
    let vhost = if get(doc, "vhost").is_empty() {
        "/"
    } else {
        get(doc, "vhost")
    };
    args.virtual_host(vhost);
    let t = if tls {
        let t = match verified_tls(doc) {
            Ok(t) => t,
            Err(o) => return o,
        };
        args.tls_adaptor(amqprs::tls::TlsAdaptor::new(
            tokio_rustls::TlsConnector::from(t.config.clone()),
            host.to_string(),
        ));
        Some(t)
    } else {
        None
    };
    let identity = || match &t {
        Some(t) => t.identity().unwrap_or(ServerIdentity::Verified),
        None => ServerIdentity::Plaintext,
    };
    match Connection::open(&args).await {
        Ok(conn) => {
            let name = conn.connection_name().to_string();
            let _ = conn.close().await;
            Outcome::ok(format!(
                "AMQP{} connection opened on vhost {vhost} ({name})",
                if tls { "S" } else { "" }
            ))
            .with_identity(identity())
        }
        Err(e) => {
            if let Some(f) = t.as_ref().and_then(|t| t.failure()) {
                return Outcome::tls(&f);
            }
            let text = e.to_string();
            if text.contains("ACCESS_REFUSED") || text.contains("403") {
                Outcome::fail(Class::Auth, text)
            } else if text.contains("reset by peer")
                || text.contains("peer shutdown")
                    && t.as_ref().is_some_and(|t| t.identity().is_some())
            {
                // RabbitMQ drops the socket after a failed login unless the
                // client asked for a Connection.Close with the reason
                // (amqprs does not): over TLS that is a clean shutdown after
                // a completed handshake.
                Outcome::fail(
                    Class::Auth,
                    format!("the broker closed the connection during login ({text})"),
                )
            } else if text.contains("NOT_ALLOWED") || text.contains("530") {
                Outcome::fail(Class::Permission, text)
            } else {
                Outcome::fail(crate::connectors::classify_io(&text, false), text)
            }
            .with_identity(identity())
        }
    }
}
