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
pub mod tls;

pub use policy::{check_secret_url, is_loopback_host, UrlRefusal};
pub use tls::{ServerIdentity, Tls, TlsFailure, TlsOptions, Verify};

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
