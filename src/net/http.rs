//! The HTTP client for requests that carry a credential: TLS verified as
//! `tls` says, redirects followed only within the first URL's origin (or not
//! at all), and the URL checked against the policy before anything is sent.
//! A later `authcfg http` command sends credentials with the same client.

use super::policy::{self, UrlRefusal};
use super::tls::{ServerIdentity, Tls, TlsFailure};
use std::time::Duration;

/// Which redirects a request with a credential may follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirects {
    /// None (token and management endpoints: a redirect is an error).
    Never,
    /// Up to five hops within the origin of the first URL, each hop itself
    /// allowed by the URL policy. A redirect elsewhere is not followed.
    SameOrigin,
}

const MAX_HOPS: usize = 5;

pub fn client(
    tls: &Tls,
    timeout: Duration,
    redirects: Redirects,
) -> Result<reqwest::Client, HttpFailure> {
    let policy = match redirects {
        Redirects::Never => reqwest::redirect::Policy::none(),
        Redirects::SameOrigin => reqwest::redirect::Policy::custom(|attempt| {
            let first = attempt.previous().first().cloned();
            let hops = attempt.previous().len();
            match first {
                Some(first)
                    if hops <= MAX_HOPS
                        && policy::same_origin(&first, attempt.url())
                        && policy::check_parsed(attempt.url()).is_ok() =>
                {
                    attempt.follow()
                }
                // Returned to the caller as the 3xx response it is.
                _ => attempt.stop(),
            }
        }),
    };
    reqwest::Client::builder()
        .use_preconfigured_tls((*tls.config).clone())
        .dns_resolver(std::sync::Arc::new(super::Resolver))
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(policy)
        .user_agent(concat!("authcfg/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| HttpFailure::Other(e.to_string()))
}

/// Why a request carrying a credential did not produce an answer.
#[derive(Debug)]
pub enum HttpFailure {
    /// The URL may not receive a credential; nothing was sent.
    NotAllowed(UrlRefusal),
    /// The server answered with a redirect to another origin; it was not
    /// followed, so the credential went nowhere else.
    CrossOriginRedirect {
        from: String,
        to: String,
    },
    /// More same-origin redirects than allowed, or one without a Location.
    Redirect(String),
    Tls(TlsFailure),
    Timeout,
    ConnectionRefused,
    Dns(String),
    Other(String),
}

impl std::fmt::Display for HttpFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpFailure::NotAllowed(r) => write!(f, "not sent: {r}"),
            HttpFailure::CrossOriginRedirect { from, to } => write!(
                f,
                "{from} redirected to another origin ({to}); not followed, the credential was not sent there"
            ),
            HttpFailure::Redirect(m) => f.write_str(m),
            HttpFailure::Tls(t) => write!(f, "{t}"),
            HttpFailure::Timeout => f.write_str("no answer in time"),
            HttpFailure::ConnectionRefused => f.write_str("connection refused"),
            HttpFailure::Dns(m) => write!(f, "name lookup failed: {m}"),
            HttpFailure::Other(m) => f.write_str(m),
        }
    }
}

/// A response, and what is known of the server's identity.
pub struct Answer {
    pub response: reqwest::Response,
    pub identity: ServerIdentity,
}

/// Sends `req` (built on a client from `client()` for `url`) after checking
/// `url` against the policy. A cross-origin redirect comes back as
/// `CrossOriginRedirect`; every other status as an `Answer`.
pub async fn send(
    tls: &Tls,
    url: &url::Url,
    req: reqwest::RequestBuilder,
) -> Result<Answer, HttpFailure> {
    policy::check_parsed(url).map_err(HttpFailure::NotAllowed)?;
    deliver(tls, url, req).await
}

/// `send` without the URL policy, for requests that carry no secret (an S3
/// request carries a signature bound to itself). Redirects are treated the
/// same way.
pub async fn deliver(
    tls: &Tls,
    url: &url::Url,
    req: reqwest::RequestBuilder,
) -> Result<Answer, HttpFailure> {
    let response = req.send().await.map_err(|e| classify(tls, &e))?;
    if response.status().is_redirection() {
        let from = policy::origin(url);
        let to = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| response.url().join(l).ok());
        return Err(match to {
            Some(to) if !policy::same_origin(url, &to) => HttpFailure::CrossOriginRedirect {
                from,
                to: policy::origin(&to),
            },
            Some(_) => HttpFailure::Redirect(format!(
                "{from} redirected more than {MAX_HOPS} times, or to a URL that may not receive a credential"
            )),
            None => HttpFailure::Redirect(format!("{from} answered a redirect without a Location")),
        });
    }
    let identity = if response.url().scheme() == "https" {
        tls.identity().unwrap_or(ServerIdentity::Verified)
    } else {
        ServerIdentity::Plaintext
    };
    Ok(Answer { response, identity })
}

/// Reads the body of `response` into `out`, at most `max` bytes: whether
/// more followed (then left unread). The one capped read of an answer
/// (docs/ARCHITECTURE.md, "Where each policy lives"): a server cannot make
/// authcfg hold more than the caller allows.
pub async fn read_capped(
    tls: &Tls,
    response: &mut reqwest::Response,
    max: usize,
    out: &mut Vec<u8>,
) -> Result<bool, HttpFailure> {
    loop {
        match response.chunk().await {
            Ok(Some(c)) => {
                if out.len() + c.len() > max {
                    let room = max - out.len();
                    out.extend_from_slice(&c[..room]);
                    return Ok(true);
                }
                out.extend_from_slice(&c);
            }
            Ok(None) => return Ok(false),
            Err(e) => return Err(classify(tls, &e)),
        }
    }
}

/// Typed classification of a reqwest failure: the TLS verifier's record,
/// rustls and io errors in the chain, the resolver's `DnsFailure`.
pub fn classify(tls: &Tls, e: &reqwest::Error) -> HttpFailure {
    if let Some(t) = tls.failure().or_else(|| TlsFailure::find_in(e)) {
        return HttpFailure::Tls(t);
    }
    if e.is_timeout() {
        return HttpFailure::Timeout;
    }
    use crate::error::Reach;
    let text = || super::chain(&e.without_url_ref());
    match super::reach(e) {
        Reach::Refused => HttpFailure::ConnectionRefused,
        Reach::Timeout => HttpFailure::Timeout,
        Reach::Dns => HttpFailure::Dns(text()),
        Reach::Tls | Reach::Other => HttpFailure::Other(text()),
    }
}

trait WithoutUrlRef {
    fn without_url_ref(&self) -> WithoutUrl<'_>;
}

impl WithoutUrlRef for reqwest::Error {
    fn without_url_ref(&self) -> WithoutUrl<'_> {
        WithoutUrl(self)
    }
}

/// Displays a reqwest error and its sources without the URL (whose query
/// may carry a key).
struct WithoutUrl<'a>(&'a reqwest::Error);

impl std::fmt::Debug for WithoutUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::fmt::Display for WithoutUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0.to_string();
        match self.0.url() {
            Some(u) => f.write_str(
                &s.replace(&format!(" ({u})"), "")
                    .replace(u.as_str(), "<url>"),
            ),
            None => f.write_str(&s),
        }
    }
}

impl std::error::Error for WithoutUrl<'_> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name that does not resolve is a DNS failure by type (the
    /// resolver's `DnsFailure`), a closed port a refused connection (its
    /// io error kind): no message is read.
    #[test]
    fn failures_are_classified_by_type() {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let _in = rt.enter();
        let tls = Tls::system();
        let c = client(&tls, Duration::from_secs(5), Redirects::Never).unwrap();
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let e = rt
            .block_on(c.get("https://no-such-host.invalid/").send())
            .unwrap_err();
        assert!(matches!(classify(&tls, &e), HttpFailure::Dns(_)), "{e:?}");
        let e = rt
            .block_on(c.get(format!("https://127.0.0.1:{port}/")).send())
            .unwrap_err();
        assert!(
            matches!(classify(&tls, &e), HttpFailure::ConnectionRefused),
            "{e:?}"
        );
    }
}
