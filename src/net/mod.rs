//! Network trust, shared by every part of authcfg that sends a credential:
//! which TLS servers are trusted (`tls`), which URLs may receive a secret and
//! which redirects may be followed (`policy`), the HTTP client built on both
//! (`http`), and the one async runtime a command uses (`runtime`).
//!
//! Nothing here prints or prompts; failures are typed so that callers can
//! classify them without reading error text.

pub mod http;
pub mod policy;
pub mod runtime;
pub mod serve;
pub mod tls;

pub use policy::{check_secret_url, is_loopback_host, UrlRefusal};
pub use tls::{ServerIdentity, Tls, TlsFailure, TlsOptions, Verify};

/// Why a request got no answer, from the types in the error's chain: the
/// TLS verifier's record or a rustls error, a name that did not resolve
/// (`DnsFailure`), an io error's kind or raw OS error. The one
/// classification of network failures; no message text is read.
pub fn reach(e: &(dyn std::error::Error + 'static)) -> crate::error::Reach {
    use crate::error::Reach;
    use std::io::ErrorKind as K;
    if TlsFailure::find_in(e).is_some() {
        return Reach::Tls;
    }
    let mut cur = Some(e);
    while let Some(err) = cur {
        if err.is::<DnsFailure>() {
            return Reach::Dns;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            match io.kind() {
                K::ConnectionRefused => return Reach::Refused,
                K::TimedOut | K::WouldBlock => return Reach::Timeout,
                _ => {}
            }
            // EAGAIN/ETIMEDOUT as some clients hand them on (a socket read
            // timeout), ECONNREFUSED likewise. (Windows socket errors are
            // mapped to kinds by std.)
            #[cfg(unix)]
            match io.raw_os_error() {
                Some(libc::EAGAIN | libc::ETIMEDOUT) => return Reach::Timeout,
                Some(libc::ECONNREFUSED) => return Reach::Refused,
                _ => {}
            }
            if let Some(inner) = io.get_ref() {
                let inner: &(dyn std::error::Error + 'static) = inner;
                if let r @ (Reach::Timeout | Reach::Refused | Reach::Dns) = reach(inner) {
                    return r;
                }
            }
        }
        cur = err.source();
    }
    Reach::Other
}

/// A host name that did not resolve. Typed, so that callers tell a name
/// lookup failure from others by type (`reach`), not by message.
#[derive(Debug)]
pub struct DnsFailure {
    pub host: String,
    pub source: std::io::Error,
}

impl std::fmt::Display for DnsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot resolve {}", crate::text::escape(&self.host, 300))
    }
}

impl std::error::Error for DnsFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// The system resolver for reqwest (getaddrinfo on a blocking thread, as
/// reqwest's own default), failing with a `DnsFailure`: reqwest keeps its
/// default resolver's error type private.
pub struct Resolver;

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map(|a| a.collect::<Vec<_>>());
            match found {
                Ok(addrs) => {
                    let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
                    Ok(addrs)
                }
                Err(source) => Err(Box::new(DnsFailure { host, source }) as _),
            }
        })
    }
}

/// The whole error chain on one line.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text = format!("{text}: {s_text}");
        }
        source = s.source();
    }
    text
}
