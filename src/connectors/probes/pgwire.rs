//! A guard on the PostgreSQL wire, between tokio-postgres and the server:
//! it reads the server's messages as they arrive and, when the server asks
//! for an authentication method the policy does not accept (cleartext or
//! MD5 over a connection whose server is not verified, unless the config
//! opts in as libpq's `require_auth` does), fails the read before
//! tokio-postgres sees the request. tokio-postgres then never writes the
//! password. tokio-postgres has no hook of its own for this (its
//! channel-binding requirement would also refuse plain SCRAM).

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// An authentication method as libpq's `require_auth` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// No authentication (trust).
    None,
    /// Cleartext password.
    Password,
    Md5,
    ScramSha256,
    /// Kerberos, SSPI, or anything else tokio-postgres cannot do.
    Other,
}

impl AuthMethod {
    pub fn name(self) -> &'static str {
        match self {
            AuthMethod::None => "none",
            AuthMethod::Password => "password",
            AuthMethod::Md5 => "md5",
            AuthMethod::ScramSha256 => "scram-sha-256",
            AuthMethod::Other => "another method",
        }
    }

    /// Whether answering this request gives the server the password or a
    /// password equivalent.
    pub fn reveals_password(self) -> bool {
        matches!(self, AuthMethod::Password | AuthMethod::Md5)
    }

    fn from_code(code: u32) -> Option<AuthMethod> {
        match code {
            0 => None, // AuthenticationOk
            3 => Some(AuthMethod::Password),
            5 => Some(AuthMethod::Md5),
            10 => Some(AuthMethod::ScramSha256),
            // 11/12 are SASL continue/final: part of SCRAM.
            11 | 12 => None,
            _ => Some(AuthMethod::Other),
        }
    }
}

/// Which methods a connection accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthPolicy {
    pub allowed: Vec<AuthMethod>,
    /// Whether the list came from the config (`require_auth`) or from the
    /// default for an unverified connection.
    pub from_config: bool,
}

impl AuthPolicy {
    /// libpq's `require_auth` syntax: a comma-separated list of methods, or
    /// of `!method`s to exclude. Empty: everything over a verified
    /// connection, only what reveals nothing otherwise.
    pub fn parse(require_auth: &str, verified: bool) -> Result<AuthPolicy, String> {
        let all = [
            AuthMethod::None,
            AuthMethod::Password,
            AuthMethod::Md5,
            AuthMethod::ScramSha256,
        ];
        let spec = require_auth.trim();
        if spec.is_empty() {
            let allowed = if verified {
                all.to_vec()
            } else {
                vec![AuthMethod::None, AuthMethod::ScramSha256]
            };
            return Ok(AuthPolicy {
                allowed,
                from_config: false,
            });
        }
        let items: Vec<&str> = spec.split(',').map(str::trim).collect();
        let negated = items[0].starts_with('!');
        let mut named = vec![];
        for it in &items {
            if it.starts_with('!') != negated {
                return Err("require_auth: negated and plain methods cannot be mixed".into());
            }
            let name = it.trim_start_matches('!');
            let m = all
                .into_iter()
                .find(|m| m.name() == name)
                .ok_or_else(|| {
                    format!(
                        "require_auth: unknown method '{name}' (known: none, password, md5, scram-sha-256)"
                    )
                })?;
            named.push(m);
        }
        let allowed = if negated {
            all.into_iter().filter(|m| !named.contains(m)).collect()
        } else {
            named
        };
        Ok(AuthPolicy {
            allowed,
            from_config: true,
        })
    }

    pub fn accepts(&self, m: AuthMethod) -> bool {
        self.allowed.contains(&m)
    }
}

/// What the guard saw, shared with the probe.
#[derive(Debug, Default)]
pub struct Observed {
    /// The first authentication request of the server.
    pub asked: Option<AuthMethod>,
    /// A request the policy refused (nothing was answered).
    pub refused: Option<AuthMethod>,
    /// The server answered 'N' to the TLS request.
    pub no_tls: bool,
    /// The server answered 'S': the session is encrypted.
    pub tls: bool,
}

pub type Shared = Arc<Mutex<Observed>>;

/// The error a refused read carries (found again by downcasting).
#[derive(Debug)]
pub struct Refused(pub AuthMethod);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the server asked for {} authentication, which is not allowed on this connection; nothing was sent",
            self.0.name()
        )
    }
}

impl std::error::Error for Refused {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Before the server's one-byte answer to SSLRequest.
    SslAnswer,
    /// Parsing backend messages.
    Messages,
    /// Authentication is over (or the stream carries TLS records): pass
    /// bytes through.
    Through,
}

pub struct Guard<S> {
    inner: S,
    policy: AuthPolicy,
    seen: Shared,
    mode: Mode,
    /// Header of the message being read: type, length, and for 'R' the
    /// 4-byte method code.
    head: [u8; 9],
    head_len: usize,
    /// Body bytes of the current message still to pass.
    skip: usize,
}

impl<S> Guard<S> {
    /// `ssl_request`: tokio-postgres will send SSLRequest first, so the
    /// first byte from the server is its answer to it.
    pub fn new(inner: S, policy: AuthPolicy, seen: Shared, ssl_request: bool) -> Guard<S> {
        Guard {
            inner,
            policy,
            seen,
            mode: if ssl_request {
                Mode::SslAnswer
            } else {
                Mode::Messages
            },
            head: [0; 9],
            head_len: 0,
            skip: 0,
        }
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    fn note(&self, f: impl FnOnce(&mut Observed)) {
        if let Ok(mut o) = self.seen.lock() {
            f(&mut o)
        }
    }

    /// Scans bytes the server sent; Err when they carry a refused request.
    fn scan(&mut self, mut bytes: &[u8]) -> Result<(), Refused> {
        while !bytes.is_empty() {
            match self.mode {
                Mode::Through => return Ok(()),
                Mode::SslAnswer => {
                    match bytes[0] {
                        b'S' => {
                            self.note(|o| o.tls = true);
                            // TLS records follow; a guard on the TLS stream
                            // reads the messages inside.
                            self.mode = Mode::Through;
                        }
                        b'N' => {
                            self.note(|o| o.no_tls = true);
                            self.mode = Mode::Messages;
                        }
                        // An ErrorResponse (old servers): messages.
                        _ => {
                            self.mode = Mode::Messages;
                            continue;
                        }
                    }
                    bytes = &bytes[1..];
                }
                Mode::Messages => {
                    if self.skip > 0 {
                        let n = self.skip.min(bytes.len());
                        self.skip -= n;
                        bytes = &bytes[n..];
                        continue;
                    }
                    let want = if self.head_len >= 1 && self.head[0] == b'R' {
                        9
                    } else {
                        5
                    };
                    let n = (want - self.head_len).min(bytes.len());
                    self.head[self.head_len..self.head_len + n].copy_from_slice(&bytes[..n]);
                    self.head_len += n;
                    bytes = &bytes[n..];
                    if self.head_len < 5 {
                        continue;
                    }
                    let len = u32::from_be_bytes([
                        self.head[1],
                        self.head[2],
                        self.head[3],
                        self.head[4],
                    ]) as usize;
                    let body = len.saturating_sub(4);
                    if self.head[0] == b'R' && body >= 4 {
                        if self.head_len < 9 {
                            continue;
                        }
                        let code = u32::from_be_bytes([
                            self.head[5],
                            self.head[6],
                            self.head[7],
                            self.head[8],
                        ]);
                        self.head_len = 0;
                        self.skip = body - 4;
                        self.check(code)?;
                    } else {
                        self.head_len = 0;
                        self.skip = body;
                    }
                }
            }
        }
        Ok(())
    }

    fn check(&mut self, code: u32) -> Result<(), Refused> {
        let asked_before = self.seen.lock().map(|o| o.asked).unwrap_or(None);
        match AuthMethod::from_code(code) {
            Some(m) => {
                if asked_before.is_none() {
                    self.note(|o| o.asked = Some(m));
                }
                if !self.policy.accepts(m) && m != AuthMethod::Other {
                    self.note(|o| o.refused = Some(m));
                    self.mode = Mode::Through;
                    return Err(Refused(m));
                }
            }
            None if code == 0 => {
                // AuthenticationOk. Without any request first, the server
                // trusted us without authentication.
                if asked_before.is_none() {
                    self.note(|o| o.asked = Some(AuthMethod::None));
                    if !self.policy.accepts(AuthMethod::None) {
                        self.note(|o| o.refused = Some(AuthMethod::None));
                        self.mode = Mode::Through;
                        return Err(Refused(AuthMethod::None));
                    }
                }
                self.mode = Mode::Through;
            }
            None => {}
        }
        Ok(())
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guard<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let start = buf.filled().len();
        match Pin::new(&mut self.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let fresh = buf.filled()[start..].to_vec();
                match self.scan(&fresh) {
                    Ok(()) => Poll::Ready(Ok(())),
                    Err(refused) => {
                        // The request never reaches tokio-postgres.
                        buf.set_filled(start);
                        Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::PermissionDenied,
                            refused,
                        )))
                    }
                }
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guard<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(t: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![t];
        v.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    fn guard(policy: &str, verified: bool, ssl: bool) -> Guard<()> {
        Guard::new(
            (),
            AuthPolicy::parse(policy, verified).unwrap(),
            Shared::default(),
            ssl,
        )
    }

    #[test]
    fn policy_syntax() {
        use AuthMethod::*;
        assert_eq!(
            AuthPolicy::parse("", false).unwrap().allowed,
            [None, ScramSha256]
        );
        assert_eq!(AuthPolicy::parse("", true).unwrap().allowed.len(), 4);
        assert_eq!(
            AuthPolicy::parse("password,md5", false).unwrap().allowed,
            [Password, Md5]
        );
        assert_eq!(
            AuthPolicy::parse("!password", false).unwrap().allowed,
            [None, Md5, ScramSha256]
        );
        assert!(AuthPolicy::parse("password,!md5", false).is_err());
        assert!(AuthPolicy::parse("kerberos", false).is_err());
    }

    #[test]
    fn refuses_cleartext_split_across_reads() {
        let mut g = guard("", false, true);
        let mut wire = vec![b'N'];
        wire.extend(msg(b'R', &3u32.to_be_bytes()));
        // Byte by byte: the request is recognized wherever reads split it.
        let mut result = Ok(());
        for b in &wire {
            result = g.scan(std::slice::from_ref(b));
            if result.is_err() {
                break;
            }
        }
        assert!(matches!(result, Err(Refused(AuthMethod::Password))));
        let seen = g.seen.lock().unwrap();
        assert!(seen.no_tls);
        assert_eq!(seen.refused, Some(AuthMethod::Password));
    }

    #[test]
    fn refuses_md5_after_other_messages_but_accepts_scram() {
        let mut g = guard("", false, false);
        let mut wire = msg(b'N', b"SNOTICE\0\0");
        let mut md5 = 5u32.to_be_bytes().to_vec();
        md5.extend_from_slice(b"salt");
        wire.extend(msg(b'R', &md5));
        assert!(matches!(g.scan(&wire), Err(Refused(AuthMethod::Md5))));

        let mut g = guard("", false, false);
        let mut sasl = 10u32.to_be_bytes().to_vec();
        sasl.extend_from_slice(b"SCRAM-SHA-256\0\0");
        let mut wire = msg(b'R', &sasl);
        wire.extend(msg(b'R', &11u32.to_be_bytes()));
        wire.extend(msg(b'R', &0u32.to_be_bytes()));
        wire.extend(msg(b'Z', b"I"));
        assert!(g.scan(&wire).is_ok());
    }

    #[test]
    fn opt_in_and_verified_connections_allow_cleartext() {
        let wire = msg(b'R', &3u32.to_be_bytes());
        assert!(guard("password", false, false).scan(&wire).is_ok());
        assert!(guard("", true, false).scan(&wire).is_ok());
        assert!(guard("scram-sha-256", true, false).scan(&wire).is_err());
    }

    #[test]
    fn tls_answer_switches_to_pass_through() {
        let mut g = guard("", false, true);
        // 'S' then TLS records that would look like a cleartext request.
        let mut wire = vec![b'S'];
        wire.extend(msg(b'R', &3u32.to_be_bytes()));
        assert!(g.scan(&wire).is_ok());
        assert!(g.seen.lock().unwrap().tls);
    }
}
