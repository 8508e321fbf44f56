//! NATS on async-nats: user/password or token, over TLS when the config
//! says `tls` or a server URL is `tls://` (verified against the system store
//! or `tls_ca`, client certificate from `tls_cert`/`tls_key`); a server that
//! requires TLS gets it with the same verification. Without TLS the
//! credentials go only to loopback hosts unless the config opts in. Servers
//! the cluster advertises are not contacted: only the configured ones.

use super::{flag, get, plaintext_guard, verified_tls};
use crate::connectors::{Class, Outcome};
use crate::model::ConfigDoc;
use crate::net::ServerIdentity;
use std::time::Duration;

pub async fn probe(doc: &ConfigDoc, timeout: Duration) -> Outcome {
    use async_nats::ConnectErrorKind as K;
    let servers: Vec<String> = get(doc, "servers")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let mut parsed = vec![];
    for s in &servers {
        match s.parse::<async_nats::ServerAddr>() {
            Ok(a) => parsed.push(a),
            Err(e) => return Outcome::fail(Class::Config, format!("server {s}: {e}")),
        }
    }
    let tls = flag(doc, "tls") || parsed.iter().any(|a| a.tls_required());
    let sends_secret = !get(doc, "token").is_empty() || !get(doc, "password").is_empty();
    if !tls {
        for a in &parsed {
            if let Some(refused) = plaintext_guard(doc, a.host(), sends_secret) {
                return refused;
            }
        }
    }
    let mut opts = if !get(doc, "token").is_empty() {
        async_nats::ConnectOptions::with_token(get(doc, "token").to_string())
    } else if !get(doc, "username").is_empty() {
        async_nats::ConnectOptions::with_user_and_password(
            get(doc, "username").to_string(),
            get(doc, "password").to_string(),
        )
    } else {
        async_nats::ConnectOptions::new()
    };
    // Whether or not TLS is required here, a server that asks for TLS gets
    // it verified with the config's trust.
    let t = match verified_tls(doc) {
        Ok(t) => t,
        Err(o) => return o,
    };
    opts = opts
        .tls_client_config((*t.config).clone())
        .require_tls(tls)
        .ignore_discovered_servers()
        .connection_timeout(timeout);
    let result = opts.connect(parsed).await;
    let identity = t.identity().unwrap_or(ServerIdentity::Plaintext);
    match result {
        Ok(client) => {
            let ok = client.flush().await.is_ok();
            let info = client.server_info();
            if ok {
                Outcome::ok(format!(
                    "connected to {} {}",
                    info.server_name, info.version
                ))
                .with_identity(identity)
            } else {
                Outcome::fail(
                    Class::Protocol,
                    "connected but the server did not answer a flush",
                )
            }
        }
        Err(e) => {
            if let Some(f) = t.failure() {
                return Outcome::tls(&f);
            }
            let text = e.to_string();
            match e.kind() {
                K::AuthorizationViolation | K::Authentication => Outcome::fail(Class::Auth, text),
                K::TimedOut => Outcome::fail(Class::Timeout, text),
                K::Dns => Outcome::fail(Class::Dns, text),
                K::Tls if tls && t.identity().is_none() => Outcome::fail(
                    Class::TlsNotOffered,
                    format!("{text} (the server did not complete a TLS handshake)"),
                ),
                K::Tls => Outcome::fail(Class::Tls, text),
                _ => super::typed_failure(&e, Some(&t)).unwrap_or_else(|| super::text_failure(&e)),
            }
        }
    }
}
