//! Where a secret may go: a URL receives a credential only over https, or
//! over plain http to a loopback host; a request carrying a credential never
//! follows a redirect to another origin. Checked at the moment of use, so a
//! URL changed with `edit` (or returned by a server) is held to the same rule
//! as one typed at `add`.

use std::fmt;
use std::net::IpAddr;

/// `localhost`, 127.0.0.0/8 and ::1: traffic that never leaves the machine.
pub fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Why a URL may not receive a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlRefusal {
    NotAUrl(String),
    /// Neither https nor http.
    Scheme(String),
    /// Plain http to a host that is not loopback.
    CleartextToRemote {
        origin: String,
    },
}

impl fmt::Display for UrlRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlRefusal::NotAUrl(e) => write!(f, "not a URL ({e})"),
            UrlRefusal::Scheme(s) => write!(f, "the scheme {s}: is not https"),
            UrlRefusal::CleartextToRemote { origin } => write!(
                f,
                "{origin} is plain http to a host that is not loopback: a credential sent there travels in the clear"
            ),
        }
    }
}

impl std::error::Error for UrlRefusal {}

/// The rule for any URL that will receive a credential: https, or http on
/// a loopback host.
pub fn check_secret_url(raw: &str) -> Result<url::Url, UrlRefusal> {
    let url = url::Url::parse(raw).map_err(|e| UrlRefusal::NotAUrl(e.to_string()))?;
    check_parsed(&url)?;
    Ok(url)
}

pub fn check_parsed(url: &url::Url) -> Result<(), UrlRefusal> {
    match url.scheme() {
        "https" if url.host_str().is_some() => Ok(()),
        "http" if url.host_str().is_some_and(is_loopback_host) => Ok(()),
        "http" => Err(UrlRefusal::CleartextToRemote {
            origin: origin(url),
        }),
        "https" => Err(UrlRefusal::NotAUrl("no host".into())),
        other => Err(UrlRefusal::Scheme(other.to_string())),
    }
}

/// scheme://host:port, with nothing of the path or query (which may carry
/// a key): safe to show.
pub fn origin(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

pub fn same_origin(a: &url::Url, b: &url::Url) -> bool {
    a.origin() == b.origin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "LOCALHOST",
            "127.0.0.1",
            "127.9.9.9",
            "::1",
            "[::1]",
        ] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in [
            "example.com",
            "localhost.example.com",
            "0.0.0.0",
            "::",
            "128.0.0.1",
        ] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn secret_urls() {
        assert!(check_secret_url("https://api.example.com/x?k=1").is_ok());
        assert!(check_secret_url("http://127.0.0.1:8080/cb").is_ok());
        assert!(check_secret_url("http://[::1]:8080/cb").is_ok());
        assert!(check_secret_url("http://localhost/cb").is_ok());
        assert_eq!(
            check_secret_url("http://api.example.com/me?key=s3cr3t"),
            Err(UrlRefusal::CleartextToRemote {
                origin: "http://api.example.com".into()
            })
        );
        assert!(matches!(
            check_secret_url("ftp://127.0.0.1/"),
            Err(UrlRefusal::Scheme(_))
        ));
        assert!(matches!(
            check_secret_url("not a url"),
            Err(UrlRefusal::NotAUrl(_))
        ));
        // The refusal never repeats the path or query.
        let e = check_secret_url("http://h.example/p?key=s3cr3t").unwrap_err();
        assert!(!e.to_string().contains("s3cr3t"));
    }

    #[test]
    fn origins() {
        let a = url::Url::parse("https://a.example/x").unwrap();
        let a2 = url::Url::parse("https://a.example:443/y?z").unwrap();
        let b = url::Url::parse("https://b.example/x").unwrap();
        let a_http = url::Url::parse("http://a.example/x").unwrap();
        let a_port = url::Url::parse("https://a.example:8443/x").unwrap();
        assert!(same_origin(&a, &a2));
        assert!(!same_origin(&a, &b));
        assert!(!same_origin(&a, &a_http));
        assert!(!same_origin(&a, &a_port));
    }
}
