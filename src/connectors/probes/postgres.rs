//! PostgreSQL: libpq's sslmode semantics on tokio-postgres, the server
//! verified by the system store or `sslrootcert`, a client certificate from
//! `sslcert`/`sslkey`, and the wire guard (`pgwire`) that keeps the password
//! from a server that asks for it in a revealing form over a connection
//! whose server is not verified.

use super::pgwire::{self, AuthMethod, AuthPolicy, Guard};
use super::{connect_tcp, get, port, typed_failure};
use crate::connectors::{Class, Outcome};
use crate::model::ConfigDoc;
use crate::net::{ServerIdentity, Tls, TlsFailure, TlsOptions, Verify};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::config::SslMode;
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};

/// Why a connection failed, typed.
#[derive(Debug)]
pub enum PgFailure {
    /// DNS, refused, timeout... already classified.
    Reach(Outcome),
    Tls(TlsFailure),
    /// The server asked for a method the policy refuses; nothing was sent.
    AuthRefused {
        method: AuthMethod,
        identity: ServerIdentity,
        from_config: bool,
    },
    /// The server wants a password and the config has none.
    NoPassword(AuthMethod),
    Config(String),
    Server(tokio_postgres::Error),
}

impl PgFailure {
    /// The server's own message for rotation errors.
    pub fn message(&self) -> String {
        match self {
            PgFailure::Reach(o) => o.detail.clone(),
            PgFailure::Tls(t) => t.to_string(),
            PgFailure::AuthRefused { method, .. } => pgwire::Refused(*method).to_string(),
            PgFailure::NoPassword(_) => {
                "the server asks for a password and the config has none".into()
            }
            PgFailure::Config(m) => m.clone(),
            PgFailure::Server(e) => e
                .as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or_else(|| crate::net::chain(e)),
        }
    }

    pub fn outcome(self) -> Outcome {
        use tokio_postgres::error::SqlState;
        match self {
            PgFailure::Reach(o) => o,
            PgFailure::Tls(t) => Outcome::tls(&t),
            PgFailure::AuthRefused {
                method,
                identity,
                from_config,
            } => {
                let why = if from_config {
                    "require_auth does not list it".to_string()
                } else {
                    format!("{} would reveal the password to this server", method.name())
                };
                Outcome::fail(
                    if method.reveals_password() {
                        Class::CleartextRefused
                    } else {
                        Class::Auth
                    },
                    format!(
                        "the server asked for {} authentication and {why}; no password was sent",
                        method.name()
                    ),
                )
                .with_identity(identity)
            }
            PgFailure::NoPassword(m) => Outcome::fail(
                Class::Auth,
                format!(
                    "the server asks for a password ({}) and the config has none",
                    m.name()
                ),
            ),
            PgFailure::Config(m) => Outcome::fail(Class::Config, m),
            PgFailure::Server(e) => {
                let text = crate::net::chain(&e);
                match e.code() {
                    Some(c)
                        if *c == SqlState::INVALID_PASSWORD
                            || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
                    {
                        Outcome::fail(Class::Auth, text)
                    }
                    Some(c) if *c == SqlState::INSUFFICIENT_PRIVILEGE => {
                        Outcome::fail(Class::Permission, text)
                    }
                    Some(_) => Outcome::fail(Class::Protocol, text),
                    None => typed_failure(&e, None)
                        .unwrap_or_else(|| Outcome::fail(Class::Protocol, text)),
                }
            }
        }
    }
}

type RustlsConnect = <tokio_postgres_rustls::MakeRustlsConnect as MakeTlsConnect<
    Guard<tokio::net::TcpStream>,
>>::TlsConnect;

/// tokio-postgres' rustls connector with a guard on the decrypted stream.
struct GuardedTls {
    inner: RustlsConnect,
    policy: AuthPolicy,
    seen: pgwire::Shared,
}

/// The TLS stream inside the guard, keeping its channel binding (SCRAM-PLUS).
pub struct GuardedStream<T>(Guard<T>);

impl<T: tokio_postgres::tls::TlsStream + Unpin> tokio_postgres::tls::TlsStream
    for GuardedStream<T>
{
    fn channel_binding(&self) -> ChannelBinding {
        self.0.get_ref().channel_binding()
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for GuardedStream<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncWrite for GuardedStream<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, data)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

type Raw = Guard<tokio::net::TcpStream>;
type Inner = <RustlsConnect as TlsConnect<Raw>>::Stream;

impl TlsConnect<Raw> for GuardedTls {
    type Stream = GuardedStream<Inner>;
    type Error = <RustlsConnect as TlsConnect<Raw>>::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Stream, Self::Error>> + Send>>;

    fn connect(self, stream: Raw) -> Self::Future {
        let GuardedTls {
            inner,
            policy,
            seen,
        } = self;
        Box::pin(async move {
            let tls = inner.connect(stream).await?;
            Ok(GuardedStream(Guard::new(tls, policy, seen, false)))
        })
    }
}

/// An open session and whom it reached.
pub struct Session {
    pub client: tokio_postgres::Client,
    pub identity: ServerIdentity,
}

/// The config's sslmode: how the server is verified (None: no TLS) and
/// tokio-postgres' mode.
fn ssl_modes(doc: &ConfigDoc) -> Result<(Option<Verify>, SslMode), PgFailure> {
    let mode = match get(doc, "sslmode") {
        "" | "verify-full" => Some(Verify::Full),
        "verify-ca" => Some(Verify::CaOnly),
        "require" | "prefer" => Some(Verify::Nothing),
        "disable" => None,
        other => return Err(PgFailure::Config(format!("unknown sslmode '{other}'"))),
    };
    let ssl_mode = match get(doc, "sslmode") {
        "disable" => SslMode::Disable,
        "prefer" => SslMode::Prefer,
        _ => SslMode::Require,
    };
    Ok((mode, ssl_mode))
}

/// Asks the server to cancel the statement `token`'s session is running: a
/// cancel request (process id and secret key, no credential) on a new
/// connection, over TLS as the config's sslmode says.
pub async fn cancel(doc: &ConfigDoc, token: &tokio_postgres::CancelToken) -> Result<(), PgFailure> {
    let host = get(doc, "host");
    let (mode, _) = ssl_modes(doc)?;
    let tcp = connect_tcp(host, port(doc, 5432))
        .await
        .map_err(PgFailure::Reach)?;
    match mode {
        None => token.cancel_query_raw(tcp, tokio_postgres::NoTls).await,
        Some(verify) => {
            let opts = TlsOptions::from_fields(
                doc.get("sslrootcert"),
                doc.get("sslcert"),
                doc.get("sslkey"),
            );
            let tls = Tls::new(verify, &opts).map_err(PgFailure::Tls)?;
            let mut make = tokio_postgres_rustls::MakeRustlsConnect::new((*tls.config).clone());
            let connect = <tokio_postgres_rustls::MakeRustlsConnect as MakeTlsConnect<
                tokio::net::TcpStream,
            >>::make_tls_connect(&mut make, host)
            .map_err(|e| match e {})?;
            token.cancel_query_raw(tcp, connect).await
        }
    }
    .map_err(PgFailure::Server)
}

/// Connects as libpq would with the config's sslmode, sslrootcert,
/// sslcert/sslkey and require_auth.
pub async fn connect(doc: &ConfigDoc) -> Result<Session, PgFailure> {
    let host = get(doc, "host");
    let (mode, ssl_mode) = ssl_modes(doc)?;
    // Password-revealing methods only where the server is verified, unless
    // the config says otherwise.
    let policy = AuthPolicy::parse(get(doc, "require_auth"), mode == Some(Verify::Full))
        .map_err(PgFailure::Config)?;
    let mut cfg = tokio_postgres::Config::new();
    cfg.host(host)
        .port(port(doc, 5432))
        .user(get(doc, "username"))
        .dbname(get(doc, "database"))
        .application_name("authcfg")
        .ssl_mode(ssl_mode);
    if !get(doc, "password").is_empty() {
        cfg.password(get(doc, "password"));
    }
    let tcp = connect_tcp(host, port(doc, 5432))
        .await
        .map_err(PgFailure::Reach)?;
    let seen = pgwire::Shared::default();
    let raw = Guard::new(
        tcp,
        policy.clone(),
        seen.clone(),
        ssl_mode != SslMode::Disable,
    );
    let mut tls_used = None;
    let result = match mode {
        None => cfg
            .connect_raw(raw, tokio_postgres::NoTls)
            .await
            .map(|(client, conn)| {
                tokio::spawn(conn);
                client
            }),
        Some(verify) => {
            let opts = TlsOptions::from_fields(
                doc.get("sslrootcert"),
                doc.get("sslcert"),
                doc.get("sslkey"),
            );
            let tls = Tls::new(verify, &opts).map_err(PgFailure::Tls)?;
            let mut make = tokio_postgres_rustls::MakeRustlsConnect::new((*tls.config).clone());
            let inner = <tokio_postgres_rustls::MakeRustlsConnect as MakeTlsConnect<Raw>>::make_tls_connect(&mut make, host)
                .map_err(|e| match e {})?;
            tls_used = Some(tls);
            cfg.connect_raw(
                raw,
                GuardedTls {
                    inner,
                    policy: policy.clone(),
                    seen: seen.clone(),
                },
            )
            .await
            .map(|(client, conn)| {
                tokio::spawn(conn);
                client
            })
        }
    };
    let observed = seen
        .lock()
        .map(|o| (o.asked, o.refused, o.no_tls, o.tls))
        .unwrap_or_default();
    let (asked, refused, no_tls, encrypted) = observed;
    let identity = match (&tls_used, encrypted) {
        (Some(t), true) => t.identity().unwrap_or(ServerIdentity::Unverified),
        _ => ServerIdentity::Plaintext,
    };
    match result {
        Ok(client) => Ok(Session { client, identity }),
        Err(e) => {
            if let Some(method) = refused {
                return Err(PgFailure::AuthRefused {
                    method,
                    identity,
                    from_config: policy.from_config,
                });
            }
            if let Some(f) = tls_used.as_ref().and_then(|t| t.failure()) {
                return Err(PgFailure::Tls(f));
            }
            if no_tls && ssl_mode == SslMode::Require {
                return Err(PgFailure::Tls(TlsFailure::NotOffered));
            }
            if let Some(f) = TlsFailure::find_in(&e) {
                return Err(PgFailure::Tls(f));
            }
            if e.code().is_none() && get(doc, "password").is_empty() {
                if let Some(m) = asked.filter(|m| *m != AuthMethod::None) {
                    return Err(PgFailure::NoPassword(m));
                }
            }
            Err(PgFailure::Server(e))
        }
    }
}

pub async fn probe(doc: &ConfigDoc) -> Outcome {
    let session = match connect(doc).await {
        Ok(s) => s,
        Err(f) => return f.outcome(),
    };
    let identity = session.identity;
    let client = session.client;
    let result = async {
        client.simple_query("SELECT 1").await?;
        let version = client
            .simple_query("SHOW server_version")
            .await
            .ok()
            .and_then(|r| {
                r.into_iter().find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
                    _ => None,
                })
            })
            .unwrap_or_default();
        Ok::<_, tokio_postgres::Error>(format!("SELECT 1 ok, server {version}"))
    }
    .await;
    match result {
        Ok(detail) => Outcome::ok(detail),
        Err(e) => PgFailure::Server(e).outcome(),
    }
    .with_identity(identity)
}
