//! HTTP probes: a GET of a URL with a credential attached, through the
//! shared client of `net::http` (URL policy checked now, TLS verified,
//! same-origin redirects only). The credential is always the credential
//! model's (`ops::credential`): `ops::probe` builds it, for the catalog's
//! HTTP connectors and the custom auth types alike.

use crate::connectors::{Class, Outcome};
use crate::net::http::{self as nethttp, HttpFailure, Redirects};
use crate::net::{Tls, TlsOptions, Verify};
use std::time::Duration;

/// GETs `url` with what `attach` adds (the credential; an error is a
/// config failure and nothing is sent), and classifies the answer: 2xx passes, 401 is authentication, 403 permission. `secrets` are
/// scrubbed from any detail text.
pub async fn get_with_secret(
    url: &str,
    tls: &TlsOptions,
    timeout: Duration,
    attach: impl FnOnce(reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, String>,
    secrets: &[&str],
) -> Outcome {
    let mut o = get_inner(url, tls, timeout, attach).await;
    for s in secrets.iter().filter(|s| s.len() >= 3) {
        o.detail = o.detail.replace(s, "****");
    }
    o
}

async fn get_inner(
    url: &str,
    tls: &TlsOptions,
    timeout: Duration,
    attach: impl FnOnce(reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, String>,
) -> Outcome {
    let parsed = match crate::net::check_secret_url(url) {
        Ok(u) => u,
        Err(r) => return Outcome::fail(Class::UrlRefused, format!("not sent: {r}")),
    };
    let t = match Tls::new(Verify::Full, tls) {
        Ok(t) => t,
        Err(f) => return Outcome::tls(&f),
    };
    let client = match nethttp::client(&t, timeout, Redirects::SameOrigin) {
        Ok(c) => c,
        Err(f) => return Outcome::fail(Class::Config, f.to_string()),
    };
    let req = match attach(client.get(parsed.clone())) {
        Ok(r) => r,
        Err(why) => return Outcome::fail(Class::Config, why),
    };
    match nethttp::send(&t, &parsed, req).await {
        Ok(answer) => {
            let status = answer.response.status().as_u16();
            match status {
                200..=299 => Outcome::ok(format!("HTTP {status}")),
                401 => Outcome::fail(Class::Auth, "HTTP 401 Unauthorized"),
                403 => Outcome::fail(Class::Permission, "HTTP 403 Forbidden"),
                s => Outcome::fail(Class::Protocol, format!("HTTP {s}")),
            }
            .with_identity(answer.identity)
        }
        Err(f) => failure(f),
    }
}

pub fn failure(f: HttpFailure) -> Outcome {
    let text = f.to_string();
    match f {
        HttpFailure::NotAllowed(_) => Outcome::fail(Class::UrlRefused, text),
        HttpFailure::CrossOriginRedirect { .. } => Outcome::fail(Class::CrossOriginRedirect, text),
        HttpFailure::Redirect(_) => Outcome::fail(Class::Protocol, text),
        HttpFailure::Tls(t) => Outcome::tls(&t),
        HttpFailure::Timeout => Outcome::fail(Class::Timeout, text),
        HttpFailure::ConnectionRefused => Outcome::fail(Class::Refused, text),
        HttpFailure::Dns(_) => Outcome::fail(Class::Dns, text),
        // `net::http::classify` has read every type in the chain already.
        HttpFailure::Other(m) => Outcome::fail(Class::Protocol, m),
    }
}
