//! Protocol probes, one file per protocol: each speaks the service's real
//! protocol through a well-kept client crate, authenticates with the
//! config's credentials only where the trust rules allow it, and classifies
//! what went wrong from typed errors.
//!
//! The trust rules, in one place:
//! - TLS is verified (system store, or the config's CA file) unless the
//!   config chose an unverified mode (PostgreSQL/MySQL `require`/`prefer`).
//! - A password-revealing mechanism that the server chooses (PostgreSQL
//!   cleartext/MD5, MySQL clear-password or caching_sha2 full
//!   authentication, SASL PLAIN) is used only when the server is verified,
//!   or when the config opts in.
//! - Protocols that always send the password (Redis AUTH, MQTT CONNECT,
//!   AMQP PLAIN, NATS user/password or token) send it without TLS only to a
//!   loopback host, or when the config opts in.

mod amqp;
pub(crate) mod http;
mod kafka;
mod mqtt;
mod mysql;
mod nats;
pub mod pgwire;
pub mod postgres;
pub mod redis;
pub mod s3;
mod ssh;
mod tcp;

pub use mysql::{connect as mysql_connect, MyConn, MyFailure};

use super::{Class, Outcome, ProbeKind, ProbeSettings};
use crate::catalog::connectors::Connector;
use crate::model::ConfigDoc;
use crate::net::{Tls, TlsFailure, TlsOptions};

pub async fn run(connector: &Connector, doc: &ConfigDoc, settings: &ProbeSettings) -> Outcome {
    match connector.probe {
        ProbeKind::Postgres => postgres::probe(doc).await,
        ProbeKind::Mysql => mysql::probe(doc).await,
        ProbeKind::Redis => redis::probe(doc).await,
        ProbeKind::Amqp => amqp::probe(doc).await,
        ProbeKind::Mqtt => mqtt::probe(doc).await,
        ProbeKind::Nats => nats::probe(doc, settings.timeout).await,
        ProbeKind::Kafka => kafka::probe(doc).await,
        ProbeKind::S3 => s3::probe(doc, settings.timeout).await,
        ProbeKind::Sftp => ssh::probe(doc, settings).await,
        // Probed with the credential model's request credential, which lives
        // above this layer (`ops::probe`).
        ProbeKind::Http => Outcome::fail(
            Class::Config,
            "an HTTP connector is probed by `authcfg test` with its credential",
        ),
        ProbeKind::Tcp => tcp::probe(doc).await,
        ProbeKind::None => Outcome::not_testable(
            connector
                .note
                .clone()
                .unwrap_or_else(|| "no probe for this connector".into()),
        ),
    }
}

pub(crate) fn get<'a>(doc: &'a ConfigDoc, f: &str) -> &'a str {
    doc.get(f).unwrap_or_default()
}

pub(crate) fn flag(doc: &ConfigDoc, f: &str) -> bool {
    get(doc, f) == "true"
}

pub(crate) fn port(doc: &ConfigDoc, default: u16) -> u16 {
    get(doc, "port").parse().unwrap_or(default)
}

/// `tls_ca`, `tls_cert`, `tls_key`.
pub(crate) fn tls_options(doc: &ConfigDoc) -> TlsOptions {
    TlsOptions::from_fields(doc.get("tls_ca"), doc.get("tls_cert"), doc.get("tls_key"))
}

/// A verified TLS config from the config's own fields.
pub(crate) fn verified_tls(doc: &ConfigDoc) -> Result<Tls, Outcome> {
    Tls::new(crate::net::Verify::Full, &tls_options(doc)).map_err(|f| Outcome::tls(&f))
}

/// The class of an io error, by kind.
pub(crate) fn io_class(e: &std::io::Error) -> Option<Class> {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => Some(Class::Refused),
        K::TimedOut | K::WouldBlock => Some(Class::Timeout),
        _ => None,
    }
}

/// Resolves `host` (failures are DNS), then connects to its addresses in
/// turn (failures are the last connect error's class).
pub(crate) async fn connect_tcp(host: &str, port: u16) -> Result<tokio::net::TcpStream, Outcome> {
    let addrs: Vec<std::net::SocketAddr> = match tokio::net::lookup_host((host, port)).await {
        Ok(a) => a.collect(),
        Err(e) => {
            return Err(Outcome::fail(
                Class::Dns,
                format!("cannot resolve {host}: {e}"),
            ))
        }
    };
    if addrs.is_empty() {
        return Err(Outcome::fail(Class::Dns, format!("{host} has no address")));
    }
    let mut last = None;
    for a in addrs {
        match tokio::net::TcpStream::connect(a).await {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = Some((a, e)),
        }
    }
    let (a, e) = last.expect("at least one address was tried");
    Err(Outcome::fail(
        io_class(&e).unwrap_or(Class::Protocol),
        format!("{a}: {e}"),
    ))
}

/// What the error chain says in types: the TLS verifier's record, a rustls
/// error, an io error kind. None when only text is left.
pub(crate) fn typed_failure(
    e: &(dyn std::error::Error + 'static),
    tls: Option<&Tls>,
) -> Option<Outcome> {
    if let Some(f) = tls.and_then(|t| t.failure()) {
        return Some(Outcome::tls(&f));
    }
    if let Some(f) = TlsFailure::find_in(e) {
        return Some(Outcome::tls(&f));
    }
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(c) = io_class(io) {
                return Some(Outcome::fail(c, crate::net::chain(e)));
            }
        }
        cur = err.source();
    }
    None
}

/// The last resort, after a crate's own error kinds and `typed_failure`:
/// what `net::reach` finds in the chain's types, else a protocol failure.
pub(crate) fn text_failure(e: &(dyn std::error::Error + 'static)) -> Outcome {
    Outcome::fail(Class::from(crate::net::reach(e)), crate::net::chain(e))
}

/// For protocols that always send the password as it is: without TLS, only
/// to a loopback host, unless the config opts in.
pub(crate) fn plaintext_guard(doc: &ConfigDoc, host: &str, sends_secret: bool) -> Option<Outcome> {
    if !sends_secret || crate::net::is_loopback_host(host) || flag(doc, "allow_cleartext_password")
    {
        return None;
    }
    Some(Outcome::fail(
        Class::PlaintextRefused,
        format!(
            "{host} is not a loopback host and the connection has no TLS: the password would travel in the clear; nothing was sent"
        ),
    ))
}
