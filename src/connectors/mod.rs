//! Proving that credentials work: protocol probes and the classification of
//! their failures in the seed's troubleshooting terms (DESIGN §5).

pub mod catalog;
pub mod http;
pub mod probes;
pub mod rotate;
pub mod tls;

use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Ok,
    Dns,
    Refused,
    Timeout,
    Tls,
    Auth,
    Permission,
    Protocol,
    Config,
}

impl Class {
    pub fn label(self) -> &'static str {
        match self {
            Class::Ok => "passed",
            Class::Dns => "DNS lookup failed",
            Class::Refused => "connection refused",
            Class::Timeout => "timeout",
            Class::Tls => "TLS error",
            Class::Auth => "authentication failed",
            Class::Permission => "permission denied",
            Class::Protocol => "unexpected answer",
            Class::Config => "not testable",
        }
    }

    /// The seed's troubleshooting remedies.
    pub fn remedy(self) -> &'static str {
        match self {
            Class::Ok => "",
            Class::Dns => "check the host name and your DNS settings",
            Class::Refused => "check network connectivity and firewall rules, and that the service listens on that host and port",
            Class::Timeout => "check network connectivity and firewall rules; the service did not answer in time",
            Class::Tls => "check the TLS/SSL mode and the server's certificate",
            Class::Auth => "verify credentials with the source system",
            Class::Permission => "request additional scopes or permissions for this account",
            Class::Protocol => "check that the host and port belong to the right kind of service",
            Class::Config => "complete the config (see `authcfg show NAME`)",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub class: Class,
    pub detail: String,
}

impl Outcome {
    pub fn ok(detail: impl Into<String>) -> Outcome {
        Outcome {
            class: Class::Ok,
            detail: detail.into(),
        }
    }
    pub fn fail(class: Class, detail: impl Into<String>) -> Outcome {
        Outcome {
            class,
            detail: detail.into(),
        }
    }
    pub fn passed(&self) -> bool {
        self.class == Class::Ok
    }

    /// What `list`'s Status column and `show` remember of this result.
    pub fn record(&self) -> crate::model::TestRecord {
        crate::model::TestRecord {
            at: crate::model::now(),
            ok: self.passed(),
            class: format!("{:?}", self.class).to_lowercase(),
            detail: self.detail.clone(),
        }
    }
}

/// The HTTP client every HTTP-based probe uses.
pub fn http_client(timeout: Duration) -> Result<reqwest::blocking::Client, Outcome> {
    reqwest::blocking::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::limited(5))
        .user_agent(concat!("authcfg/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Outcome::fail(Class::Config, e.to_string()))
}

/// 2xx passes, 401 is authentication, 403 permission. Errors are described
/// without their URL (a query-string key would be in it).
pub fn http_outcome(result: reqwest::Result<reqwest::blocking::Response>) -> Outcome {
    match result {
        Ok(resp) => match resp.status().as_u16() {
            s @ 200..=299 => Outcome::ok(format!("HTTP {s}")),
            401 => Outcome::fail(Class::Auth, "HTTP 401 Unauthorized"),
            403 => Outcome::fail(Class::Permission, "HTTP 403 Forbidden"),
            s => Outcome::fail(Class::Protocol, format!("HTTP {s}")),
        },
        Err(e) => classify_reqwest(&e.without_url()),
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

pub fn describe_reqwest(e: &reqwest::Error) -> String {
    chain(e)
}

/// Classifies a network failure from its error chain.
pub fn classify_io(text: &str, is_timeout: bool) -> Class {
    let t = text.to_lowercase();
    // EAGAIN is how a socket read timeout surfaces through some clients.
    if is_timeout
        || t.contains("timed out")
        || t.contains("timeout")
        || t.contains("temporarily unavailable")
        || t.contains("os error 11)")
    {
        Class::Timeout
    } else if t.contains("connection refused") {
        Class::Refused
    } else if t.contains("dns")
        || t.contains("lookup")
        || t.contains("name or service not known")
        || t.contains("no address")
    {
        Class::Dns
    } else if t.contains("certificate")
        || t.contains("tls")
        || t.contains("ssl")
        || t.contains("handshake")
    {
        Class::Tls
    } else {
        Class::Protocol
    }
}

pub fn classify_reqwest(e: &reqwest::Error) -> Outcome {
    let text = describe_reqwest(e);
    Outcome::fail(classify_io(&text, e.is_timeout()), text)
}

/// Default per-probe timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs the connector's protocol probe.
pub fn probe(doc: &crate::model::ConfigDoc, timeout: Duration) -> Outcome {
    match catalog::find(&doc.meta.type_id) {
        Some(c) => probes::run(c, doc, timeout),
        None => Outcome::fail(
            Class::Config,
            format!("unknown connector '{}'", doc.meta.type_id),
        ),
    }
}
