//! Proving that credentials work: protocol probes and the classification of
//! their failures in the seed's troubleshooting terms (docs/ARCHITECTURE.md, "Connectors").
//!
//! Every probe runs on the command's one runtime (`net::runtime`), bounded
//! by a timeout that covers the whole probe, name resolution included. A
//! probe never prints or prompts: it returns an `Outcome` whose `Class` is
//! decided from typed errors (rustls' certificate errors through the
//! verifier's record, io error kinds, protocol codes), and which says
//! whether the server's identity was verified.

pub mod hostkey;
pub mod probes;
pub mod rotate;

pub use crate::catalog::{HttpAuth, ProbeKind};

use crate::net::{ServerIdentity, TlsFailure};
use serde::Serialize;
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Ok,
    Dns,
    Refused,
    Timeout,
    /// The certificate does not chain to a trusted CA.
    TlsUntrusted,
    /// A trusted certificate for another host name.
    TlsNameMismatch,
    TlsExpired,
    /// The server wants a client certificate, or refused ours.
    TlsClientCert,
    /// TLS is required and the server does not offer it.
    TlsNotOffered,
    /// Any other TLS failure.
    Tls,
    /// The server asked for a password-revealing authentication over a
    /// connection whose server identity is not verified; nothing was sent.
    CleartextRefused,
    /// The config would send a password in the clear to a host that is not
    /// loopback; nothing was sent.
    PlaintextRefused,
    /// First contact with an SSH server whose key is neither pinned nor in
    /// known_hosts; nothing was sent.
    HostKeyUnknown,
    /// The SSH server's key differs from the one on record; nothing was sent.
    HostKeyChanged,
    /// The URL may not receive a credential (plain http to a remote host).
    UrlRefused,
    /// The server redirected to another origin; the credential was not sent
    /// there.
    CrossOriginRedirect,
    Auth,
    Permission,
    Protocol,
    Config,
    /// There is nothing to probe (no test URL, no probe for this type): not
    /// a failure. The detail names the field that would make it testable.
    NotTestable,
}

impl Class {
    /// The audit trail's outcome of a test of this class.
    pub fn audit_outcome(self) -> &'static str {
        match self {
            Class::Ok => "ok",
            Class::NotTestable => "not testable",
            _ => "failed",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Class::Ok => "passed",
            Class::Dns => "DNS lookup failed",
            Class::Refused => "connection refused",
            Class::Timeout => "timeout",
            Class::TlsUntrusted => "TLS: certificate not trusted",
            Class::TlsNameMismatch => "TLS: name mismatch",
            Class::TlsExpired => "TLS: certificate expired or not yet valid",
            Class::TlsClientCert => "TLS: client certificate required or refused",
            Class::TlsNotOffered => "TLS: not offered by the server",
            Class::Tls => "TLS error",
            Class::CleartextRefused => {
                "server asked for a cleartext password over an unverified connection"
            }
            Class::PlaintextRefused => "password not sent: no verified TLS to a remote host",
            Class::HostKeyUnknown => "SSH host key unknown",
            Class::HostKeyChanged => "SSH host key changed",
            Class::UrlRefused => "URL may not receive credentials",
            Class::CrossOriginRedirect => "redirect to another origin not followed",
            Class::Auth => "authentication failed",
            Class::Permission => "permission denied",
            Class::Protocol => "unexpected answer",
            Class::Config => "incomplete config",
            Class::NotTestable => "not testable",
        }
    }

    /// The seed's troubleshooting remedies, and what to do about each trust
    /// failure.
    pub fn remedy(self) -> &'static str {
        match self {
            Class::Ok => "",
            Class::Dns => "check the host name and your DNS settings",
            Class::Refused => "check network connectivity and firewall rules, and that the service listens on that host and port",
            Class::Timeout => "check network connectivity and firewall rules; the service did not answer in time",
            Class::TlsUntrusted => "give the CA certificate that signed the server's certificate (--set sslrootcert=PATH for PostgreSQL, --set tls_ca=PATH otherwise) or add it to the system trust store; a self-signed server certificate cannot be verified",
            Class::TlsNameMismatch => "connect with a host name the certificate names (see the detail), or have the certificate reissued for this name",
            Class::TlsExpired => "the server's certificate must be renewed (or this machine's clock is wrong)",
            Class::TlsClientCert => "set the client certificate and key the server accepts (sslcert/sslkey for PostgreSQL, tls_cert/tls_key otherwise)",
            Class::TlsNotOffered => "enable TLS on the server, or for a loopback host choose a mode without TLS (sslmode=prefer or disable, tls=false)",
            Class::Tls => "check the TLS/SSL mode and the server's certificate",
            Class::CleartextRefused => "verify the server (sslmode=verify-full with its CA in sslrootcert/tls_ca) or have it use SCRAM; to send the password anyway, opt in with --set require_auth=password,md5 (PostgreSQL) or --set allow_cleartext_password=true",
            Class::PlaintextRefused => "use TLS (tls=true, or security_protocol=SASL_SSL) or a SCRAM mechanism; to send the password in the clear anyway, opt in with --set allow_cleartext_password=true",
            Class::HostKeyUnknown => "compare the fingerprint with the one the server's administrator gives you (ssh-keygen -lf on the server's host key), then answer yes at the prompt or pass --trust-host-key SHA256:...",
            Class::HostKeyChanged => "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED. Someone could be intercepting the connection, or the host key was just replaced. Verify the new fingerprint with the server's administrator; only then remove the old key (ssh-keygen -R HOST, or --unset host_key) and trust the new one",
            Class::UrlRefused => "use an https URL (plain http is allowed only on 127.0.0.1, ::1 or localhost)",
            Class::CrossOriginRedirect => "if the other origin is meant to receive the credential, set the URL to it directly",
            Class::Auth => "verify credentials with the source system",
            Class::Permission => "request additional scopes or permissions for this account",
            Class::Protocol => "check that the host and port belong to the right kind of service",
            Class::Config => "complete the config's fields",
            Class::NotTestable => "",
        }
    }

    pub fn from_tls(f: &TlsFailure) -> Class {
        match f {
            TlsFailure::NotTrusted => Class::TlsUntrusted,
            TlsFailure::NameMismatch { .. } => Class::TlsNameMismatch,
            TlsFailure::Expired | TlsFailure::NotYetValid | TlsFailure::Revoked => {
                Class::TlsExpired
            }
            TlsFailure::ClientCertRequired | TlsFailure::ClientCertRejected => Class::TlsClientCert,
            TlsFailure::NotOffered => Class::TlsNotOffered,
            TlsFailure::Config(_) => Class::Config,
            TlsFailure::WrongPurpose | TlsFailure::Handshake(_) => Class::Tls,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub class: Class,
    pub detail: String,
    /// Whether the server's identity was verified (None: not applicable,
    /// e.g. nothing was reached).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<ServerIdentity>,
    /// An SSH host key seen for the first time and accepted by the caller's
    /// trust decision: the config should pin it.
    #[serde(skip)]
    pub host_key_to_pin: Option<String>,
    /// The fingerprint of an SSH host key seen for the first time and not
    /// accepted: what the caller shows when it asks the user.
    #[serde(skip)]
    pub unknown_host_key: Option<String>,
}

impl Outcome {
    pub fn ok(detail: impl Into<String>) -> Outcome {
        Outcome {
            class: Class::Ok,
            detail: detail.into(),
            identity: None,
            host_key_to_pin: None,
            unknown_host_key: None,
        }
    }
    pub fn fail(class: Class, detail: impl Into<String>) -> Outcome {
        Outcome {
            class,
            detail: detail.into(),
            identity: None,
            host_key_to_pin: None,
            unknown_host_key: None,
        }
    }
    /// Nothing to probe; `detail` says which field would change that.
    pub fn not_testable(detail: impl Into<String>) -> Outcome {
        Outcome::fail(Class::NotTestable, detail)
    }
    pub fn tls(f: &TlsFailure) -> Outcome {
        Outcome::fail(Class::from_tls(f), f.to_string())
    }
    pub fn with_identity(mut self, identity: ServerIdentity) -> Outcome {
        self.identity = Some(identity);
        self
    }
    pub fn passed(&self) -> bool {
        self.class == Class::Ok
    }
    /// A probe that ran and failed (not one that had nothing to probe).
    pub fn failed(&self) -> bool {
        !matches!(self.class, Class::Ok | Class::NotTestable)
    }
    /// The audit trail's outcome of a test, the same from every entry point
    /// (`authcfg test`, MCP `test_config`).
    pub fn audit_outcome(&self) -> &'static str {
        Class::audit_outcome(self.class)
    }

    /// The detail, plus a plain statement when the server's identity was
    /// not verified: outside text (a server's error message is in it),
    /// shown escaped wherever it goes (docs/ARCHITECTURE.md, "Outside text").
    pub fn summary(&self) -> crate::text::Outside {
        match self.identity {
            Some(id) if !id.verified() => format!("{}; {}", self.detail, id.describe()).into(),
            _ => self.detail.as_str().into(),
        }
    }

    /// What `list`'s Status column and `show` remember of this result.
    pub fn record(&self) -> crate::model::TestRecord {
        crate::model::TestRecord {
            at: crate::model::now(),
            ok: self.passed(),
            class: serde_json::to_value(self.class)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            detail: self.summary(),
        }
    }
}

pub use crate::net::chain;

/// The class of a network failure, from `net::reach` (typed).
impl From<crate::error::Reach> for Class {
    fn from(r: crate::error::Reach) -> Class {
        use crate::error::Reach;
        match r {
            Reach::Timeout => Class::Timeout,
            Reach::Refused => Class::Refused,
            Reach::Dns => Class::Dns,
            Reach::Tls => Class::Tls,
            Reach::Other => Class::Protocol,
        }
    }
}

/// Default per-probe timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Default number of probes `test --all` runs at once: enough to hide
/// network latency and a few dead hosts (100 configs, 50 of them silent:
/// two rounds of the timeout), few enough not to take a third of a default
/// PostgreSQL's 100 connection slots or many of this machine's threads.
pub const DEFAULT_JOBS: usize = 32;

/// What a probe needs besides the config: the limit for the whole probe,
/// where the user's SSH known_hosts is, and a host key the user vouched for
/// (`--trust-host-key`, or a yes at the prompt).
#[derive(Debug, Clone)]
pub struct ProbeSettings {
    pub timeout: Duration,
    pub known_hosts: Option<PathBuf>,
    pub trust_host_key: Option<String>,
}

impl ProbeSettings {
    pub fn new(timeout: Duration) -> ProbeSettings {
        ProbeSettings {
            timeout,
            known_hosts: None,
            trust_host_key: None,
        }
    }
}

/// Runs the connector's protocol probe on the command's runtime, bounded by
/// `timeout` as a whole.
pub fn probe(doc: &crate::model::ConfigDoc, timeout: Duration) -> Outcome {
    probe_with(doc, &ProbeSettings::new(timeout))
}

pub fn probe_with(doc: &crate::model::ConfigDoc, settings: &ProbeSettings) -> Outcome {
    crate::net::runtime::block_on(probe_async(doc, settings))
}

/// The probe as a future, for callers already on the runtime.
pub async fn probe_async(doc: &crate::model::ConfigDoc, settings: &ProbeSettings) -> Outcome {
    let fut = async {
        match crate::catalog::connectors::find(&doc.meta.type_id) {
            Some(c) => probes::run(c, doc, settings).await,
            None => Outcome::fail(
                Class::Config,
                format!("unknown connector '{}'", doc.meta.type_id),
            ),
        }
    };
    timed(settings.timeout, fut).await
}

/// `f`, or a timeout outcome when the whole of it takes longer than `limit`.
pub async fn timed(limit: Duration, f: impl std::future::Future<Output = Outcome>) -> Outcome {
    match tokio::time::timeout(limit, f).await {
        Ok(o) => o,
        Err(_) => Outcome::fail(
            Class::Timeout,
            format!("no answer within {} s", limit.as_secs()),
        ),
    }
}

/// Runs `f` over `items` with at most `jobs` at a time, and returns the
/// results in the items' order with how long each took. Each worker is a
/// thread (some probes, such as OAuth refreshes, are synchronous); the
/// asynchronous ones all share the command's runtime.
pub fn run_bounded<T, R, F>(items: Vec<T>, jobs: usize, f: F) -> Vec<(R, Duration)>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    run_bounded_with_progress(items, jobs, f, &|_, _| {})
}

/// `run_bounded`, telling `progress(done, total)` as each item finishes.
pub fn run_bounded_with_progress<T, R, F>(
    items: Vec<T>,
    jobs: usize,
    f: F,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Vec<(R, Duration)>
where
    T: Send,
    R: Send,
    F: Fn(T) -> R + Sync,
{
    let n = items.len();
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let queue = std::sync::Mutex::new(items.into_iter().enumerate().collect::<Vec<_>>());
    let results = std::sync::Mutex::new(Vec::with_capacity(n));
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, n.max(1)) {
            s.spawn(|| loop {
                let next = queue.lock().ok().and_then(|mut q| {
                    if q.is_empty() {
                        None
                    } else {
                        Some(q.remove(0))
                    }
                });
                let Some((i, item)) = next else { break };
                let started = Instant::now();
                let r = f(item);
                if let Ok(mut out) = results.lock() {
                    out.push((i, r, started.elapsed()));
                }
                let done = finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(done, n);
            });
        }
    });
    let mut out = results.into_inner().unwrap_or_default();
    out.sort_by_key(|(i, ..)| *i);
    out.into_iter().map(|(_, r, d)| (r, d)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_bounded_keeps_order_and_bounds_concurrency() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let now = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let out = run_bounded((0..40).collect(), 4, |i: usize| {
            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(n, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(5));
            now.fetch_sub(1, Ordering::SeqCst);
            i * 2
        });
        let values: Vec<usize> = out.into_iter().map(|(v, _)| v).collect();
        assert_eq!(values, (0..40).map(|i| i * 2).collect::<Vec<_>>());
        let peak = peak.load(Ordering::SeqCst);
        assert!((2..=4).contains(&peak), "peak {peak}");
    }
}
