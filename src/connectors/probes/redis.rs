//! Redis (and Valkey, KeyDB...): AUTH then PING on redis' multiplexed
//! connection, over a stream opened here: plain TCP, or TLS (rediss) verified
//! against the system store or `tls_ca`, with `tls_cert`/`tls_key` when the
//! server asks for a client certificate.

use super::{
    connect_tcp, flag, get, plaintext_guard, port, text_failure, typed_failure, verified_tls,
};
use crate::connectors::{Class, Outcome};
use crate::model::ConfigDoc;
use crate::net::ServerIdentity;
use redis::aio::MultiplexedConnection;

pub struct Session {
    pub con: MultiplexedConnection,
    pub identity: ServerIdentity,
}

pub async fn connect(doc: &ConfigDoc) -> Result<Session, Outcome> {
    let host = get(doc, "host");
    let port = port(doc, 6379);
    let tls = flag(doc, "tls");
    let info = redis::RedisConnectionInfo {
        db: get(doc, "database").parse().unwrap_or(0),
        username: Some(get(doc, "username").to_string()).filter(|s| !s.is_empty()),
        password: Some(get(doc, "password").to_string()).filter(|s| !s.is_empty()),
        protocol: redis::ProtocolVersion::RESP2,
    };
    if !tls {
        if let Some(refused) = plaintext_guard(doc, host, info.password.is_some()) {
            return Err(refused);
        }
    }
    let tcp = connect_tcp(host, port).await?;
    if tls {
        let t = verified_tls(doc)?;
        let stream = t.connect(host, tcp).await.map_err(|f| Outcome::tls(&f))?;
        let (con, driver) = MultiplexedConnection::new(&info, stream)
            .await
            .map_err(|e| failure(&e, Some(&t)))?;
        tokio::spawn(driver);
        Ok(Session {
            con,
            identity: t.identity().unwrap_or(ServerIdentity::Verified),
        })
    } else {
        let (con, driver) = MultiplexedConnection::new(&info, tcp)
            .await
            .map_err(|e| failure(&e, None))?;
        tokio::spawn(driver);
        Ok(Session {
            con,
            identity: ServerIdentity::Plaintext,
        })
    }
}

pub fn failure(e: &redis::RedisError, tls: Option<&crate::net::Tls>) -> Outcome {
    let text = e.to_string();
    if e.kind() == redis::ErrorKind::AuthenticationFailed
        || matches!(e.code(), Some("WRONGPASS" | "NOAUTH"))
    {
        Outcome::fail(Class::Auth, text)
    } else if e.code() == Some("NOPERM") {
        Outcome::fail(Class::Permission, text)
    } else if e.is_timeout() {
        Outcome::fail(Class::Timeout, text)
    } else if e.is_connection_refusal() {
        Outcome::fail(Class::Refused, text)
    } else {
        typed_failure(e, tls).unwrap_or_else(|| text_failure(e))
    }
}

pub async fn probe(doc: &ConfigDoc) -> Outcome {
    let mut s = match connect(doc).await {
        Ok(s) => s,
        Err(o) => return o,
    };
    match redis::cmd("PING").query_async::<String>(&mut s.con).await {
        Ok(pong) => Outcome::ok(format!("PING -> {pong}")),
        Err(e) => failure(&e, None),
    }
    .with_identity(s.identity)
}
