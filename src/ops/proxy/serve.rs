//! The proxy itself: hyper's HTTP/1 server on 127.0.0.1 for the child,
//! CONNECT answered by terminating TLS with a certificate of the per-run CA
//! (`ca`), every request read whole by hyper, checked for placeholders
//! (`Placeholders::found`), refused or rewritten, and sent upstream with
//! hyper's HTTP/1 client over a verified TLS connection (`net::Tls`).
//!
//! Order of the checks for one request (each refusal is an `Event`):
//! 1. the Host header names the target (the CONNECT target, or the
//!    absolute URL's authority): else 421, nothing sent;
//! 2. an upgrade (WebSocket, h2c) carrying a placeholder: 403; any other
//!    upgrade: 501 (the proxy forwards single requests only);
//! 3. a compressed request body (`Content-Encoding`): 415, it cannot be
//!    searched for placeholders;
//! 4. every placeholder found (any form) must be allowed at the origin
//!    (`Placeholders::allowed`): else 403, nothing sent;
//! 5. no placeholder: sent unchanged (`--deny-other`: only to an origin a
//!    config allows);
//! 6. placeholders: replaced by the real values in the request line, the
//!    headers (Basic credentials decoded and encoded again) and the body
//!    (JSON-escaped in JSON, form-encoded in a form), `Range` and
//!    `Accept-Encoding` dropped; the answer's headers and body redacted
//!    (`Redactor::stream`), a compressed or partial answer withheld.

use super::ca::Ca;
use super::{Event, Options, Placeholders};
use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::request::Parts;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Out = Response<UnsyncBoxBody<Bytes, BoxError>>;

/// The largest request body the proxy reads (it reads a body whole before
/// anything is sent, to find placeholders in it).
const MAX_BODY: usize = 64 << 20;

/// What a real value is percent-encoded with in a request line: all but
/// RFC 3986's unreserved characters (servers compare `-._~` unencoded).
const UNRESERVED_KEPT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) struct Shared {
    pub ph: Placeholders,
    pub ca: Ca,
    pub opts: Options,
    pub notify: super::Notify,
    pub pool: Pool,
    /// The proxy's own address: never an upstream.
    pub me: SocketAddr,
    /// The `Proxy-Authorization` every request to the proxy carries.
    pub auth: String,
}

impl Shared {
    fn event(&self, e: Event) {
        (self.notify)(e);
    }
}

/// Where a request goes: the CONNECT target (https) or an absolute http
/// URL's authority.
#[derive(Clone)]
struct Target {
    https: bool,
    host: String,
    port: u16,
}

impl Target {
    fn url(&self, path_and_query: &str) -> Option<url::Url> {
        let scheme = if self.https { "https" } else { "http" };
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        url::Url::parse(&format!("{scheme}://{host}:{}{path_and_query}", self.port)).ok()
    }

    /// Whether a Host header names this target (port optional when it is
    /// the scheme's default).
    fn is_named_by(&self, host_header: &str) -> bool {
        let Some(u) = self.url("/") else {
            return false;
        };
        let scheme = if self.https { "https" } else { "http" };
        match url::Url::parse(&format!("{scheme}://{}/", host_header.trim())) {
            Ok(h) => {
                h.host_str().map(str::to_ascii_lowercase)
                    == u.host_str().map(str::to_ascii_lowercase)
                    && h.port_or_known_default() == u.port_or_known_default()
                    && h.path() == "/"
                    && h.username().is_empty()
            }
            Err(_) => false,
        }
    }
}

fn full(b: impl Into<Bytes>) -> UnsyncBoxBody<Bytes, BoxError> {
    Full::new(b.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

fn text(status: StatusCode, msg: &str) -> Out {
    let mut r = Response::new(full(format!("authcfg: {msg}\n")));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

pub(super) async fn run(
    listener: tokio::net::TcpListener,
    sh: Arc<Shared>,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    crate::net::serve::http1(listener, stop, true, move |req| outer(req, sh.clone())).await
}

/// Whether the request carries this run's proxy credential (constant
/// time).
fn authorized(req: &Request<Incoming>, sh: &Shared) -> bool {
    use subtle::ConstantTimeEq;
    let mut ok = false;
    for v in req.headers().get_all(header::PROXY_AUTHORIZATION) {
        let v = v.as_bytes();
        if v.len() == sh.auth.len() && bool::from(v.ct_eq(sh.auth.as_bytes())) {
            ok = true;
        }
    }
    ok
}

/// A request to the proxy: CONNECT, or an absolute http:// URL.
async fn outer(req: Request<Incoming>, sh: Arc<Shared>) -> Out {
    if !authorized(&req, &sh) {
        let mut r = text(
            StatusCode::PROXY_AUTHENTICATION_REQUIRED,
            "this proxy serves the command authcfg started, with the credential in its proxy variables",
        );
        r.headers_mut().insert(
            header::PROXY_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"authcfg\""),
        );
        return r;
    }
    if req.method() == Method::CONNECT {
        let Some(auth) = req.uri().authority().cloned() else {
            return text(StatusCode::BAD_REQUEST, "CONNECT needs host:port");
        };
        let Some(port) = auth.port_u16() else {
            return text(StatusCode::BAD_REQUEST, "CONNECT needs host:port");
        };
        let target = Target {
            https: true,
            host: auth
                .host()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            port,
        };
        let Some(url) = target.url("/") else {
            return text(StatusCode::BAD_REQUEST, "not a host");
        };
        // A placeholder in the host name would leave in the DNS query.
        let found = sh.ph.found(auth.as_str().as_bytes());
        if !found.is_empty() {
            return refuse(
                &sh,
                &found,
                "CONNECT",
                &url,
                "a placeholder in the host name (it would leave in a DNS query)".into(),
            );
        }
        if sh.opts.deny_other && !sh.ph.any_allows(&url) {
            return refuse(
                &sh,
                &[],
                "CONNECT",
                &url,
                "no config allows this origin (--deny-other)".into(),
            );
        }
        let config = match sh.ca.server_config(&target.host) {
            Ok(c) => c,
            Err(e) => return text(StatusCode::BAD_GATEWAY, &format!("{e}")),
        };
        tokio::spawn(async move {
            let Ok(up) = hyper::upgrade::on(req).await else {
                return;
            };
            // The child speaks TLS to the proxy (the per-run CA's
            // certificate for the target); anything else ends here.
            let Ok(tls) = tokio_rustls::TlsAcceptor::from(config)
                .accept(TokioIo::new(up))
                .await
            else {
                return;
            };
            let svc = hyper::service::service_fn(move |r| {
                let (sh, target) = (sh.clone(), target.clone());
                async move { Ok::<_, std::convert::Infallible>(inner(r, target, sh).await) }
            });
            // No `with_upgrades`: nothing is tunnelled past hyper.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), svc)
                .await;
        });
        return Response::new(full(Bytes::new()));
    }
    let uri = req.uri().clone();
    match (uri.scheme_str(), uri.authority()) {
        (Some("http"), Some(a)) => {
            let target = Target {
                https: false,
                host: a
                    .host()
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
                port: a.port_u16().unwrap_or(80),
            };
            inner(req, target, sh).await
        }
        _ => text(
            StatusCode::BAD_REQUEST,
            "the proxy takes CONNECT host:port and absolute http:// URLs",
        ),
    }
}

fn refuse(sh: &Shared, found: &[usize], method: &str, url: &url::Url, why: String) -> Out {
    let mut configs: Vec<String> = found
        .iter()
        .map(|&i| sh.ph.items[i].config.clone())
        .collect();
    configs.dedup();
    let origin = crate::net::policy::origin(url);
    sh.event(Event::Refused {
        configs,
        method: method.to_string(),
        origin,
        why: why.clone(),
    });
    text(StatusCode::FORBIDDEN, &why)
}

fn is_upgrade(parts: &Parts) -> bool {
    parts.headers.contains_key(header::UPGRADE)
        || parts.headers.get_all(header::CONNECTION).iter().any(|v| {
            v.to_str()
                .unwrap_or("")
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
        })
}

/// One request of the child, to `target`.
async fn inner(req: Request<Incoming>, target: Target, sh: Arc<Shared>) -> Out {
    let (mut parts, body) = req.into_parts();
    let pq = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let Some(url) = target.url(&pq) else {
        return text(StatusCode::BAD_REQUEST, "not a URL");
    };
    let method = parts.method.to_string();
    // Everything the request says, for the search: the request line, the
    // headers, the body.
    let mut scan: Vec<u8> = format!("{method} {url}\n").into_bytes();
    for (k, v) in &parts.headers {
        scan.extend_from_slice(k.as_str().as_bytes());
        scan.extend_from_slice(b": ");
        scan.extend_from_slice(v.as_bytes());
        scan.push(b'\n');
    }
    let head_found = sh.ph.found(&scan);
    // 1. The Host header names the target: a server behind one address
    //    (a CDN, a virtual host) would otherwise route the request to
    //    another site than the one checked.
    let hosts: Vec<&HeaderValue> = parts.headers.get_all(header::HOST).iter().collect();
    if hosts.len() > 1
        || hosts
            .first()
            .is_some_and(|h| !target.is_named_by(h.to_str().unwrap_or("\u{0}")))
    {
        let mut r = refuse(
            &sh,
            &head_found,
            &method,
            &url,
            "the Host header does not name the host the request goes to".into(),
        );
        *r.status_mut() = StatusCode::MISDIRECTED_REQUEST;
        return r;
    }
    // 2. Upgrades: the proxy sees single requests only.
    if is_upgrade(&parts) {
        if !head_found.is_empty() {
            return refuse(
                &sh,
                &head_found,
                &method,
                &url,
                "an upgrade (WebSocket, h2c) carrying a placeholder".into(),
            );
        }
        return text(
            StatusCode::NOT_IMPLEMENTED,
            "the placeholder proxy does not forward upgrades (WebSocket, h2c)",
        );
    }
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(c) => c.to_bytes(),
        Err(_) => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                "a request body over 64 MiB (or one that could not be read) is not forwarded",
            )
        }
    };
    // 3. A compressed body cannot be searched for placeholders.
    if compressed(&parts.headers) && !body.is_empty() {
        let mut r = refuse(
            &sh,
            &head_found,
            &method,
            &url,
            "a compressed request body (Content-Encoding) cannot be checked for placeholders"
                .into(),
        );
        *r.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
        return r;
    }
    scan.extend_from_slice(&body);
    let found = sh.ph.found(&scan);
    // A real value, which the child was never given, is not sent where no
    // config allows it: the child learned it (an answer's reason phrase, a
    // value the upstream stored and gave back) and tries to pass it on
    // (red team 3, P1).
    if sh.ph.real_found(&scan) && !sh.ph.any_allows(&url) {
        return refuse(
            &sh,
            &found,
            &method,
            &url,
            "a secret's real value, to an origin no config allows".into(),
        );
    }
    drop(scan);
    if found.is_empty() {
        // 5. Nothing of authcfg's in it.
        if sh.opts.deny_other && !sh.ph.any_allows(&url) {
            return refuse(
                &sh,
                &[],
                &method,
                &url,
                "no config allows this origin (--deny-other)".into(),
            );
        }
        // An origin a config allows may answer with a secret it holds (a
        // value stored earlier through a placeholder): its answers are
        // redacted whether or not this request carried one (red team 3,
        // P6).
        if sh.ph.any_allows(&url) {
            identity_only(&mut parts);
            let head = parts.method == Method::HEAD;
            return match forward(&sh, parts, body, &target, sh.ph.trust_for(&url)).await {
                Ok(resp) => answer(&sh, resp, head),
                Err(e) => text(StatusCode::BAD_GATEWAY, &sh.ph.redactor.text(&e)),
            };
        }
        return match forward(&sh, parts, body, &target, sh.ph.trust_for(&url)).await {
            Ok(resp) => resp.map(|b| b.boxed_unsync()),
            Err(e) => text(StatusCode::BAD_GATEWAY, &e),
        };
    }
    // 4. Every placeholder must be allowed here.
    let denied: Vec<(usize, String)> = found
        .iter()
        .filter_map(|&i| sh.ph.allowed(i, &url).err().map(|e| (i, e)))
        .collect();
    if let Some((_, why)) = denied.first() {
        let who: Vec<usize> = denied.iter().map(|(i, _)| *i).collect();
        return refuse(&sh, &who, &method, &url, why.clone());
    }
    // 6. Real values in, answer redacted.
    let body = match substitute(&sh.ph, &found, &mut parts, body) {
        Ok(b) => b,
        Err(e) => return refuse(&sh, &found, &method, &url, e),
    };
    identity_only(&mut parts);
    let tls = sh.ph.tls_of(found[0]);
    let head = parts.method == Method::HEAD;
    let resp = match forward(&sh, parts, body, &target, tls).await {
        Ok(r) => r,
        Err(e) => return text(StatusCode::BAD_GATEWAY, &sh.ph.redactor.text(&e)),
    };
    let origin = crate::net::policy::origin(&url);
    let mut configs: Vec<&str> = found
        .iter()
        .map(|&i| sh.ph.items[i].config.as_str())
        .collect();
    configs.dedup();
    for c in configs {
        sh.event(Event::Reached {
            config: c.to_string(),
            origin: origin.clone(),
        });
    }
    answer(&sh, resp, head)
}

/// Whether a message says it is compressed (a Content-Encoding other than
/// identity): its body cannot be searched.
fn compressed(headers: &http::HeaderMap) -> bool {
    headers.get_all(header::CONTENT_ENCODING).iter().any(|v| {
        !v.to_str()
            .unwrap_or("x")
            .trim()
            .eq_ignore_ascii_case("identity")
    })
}

/// A request whose answer is redacted asks for it whole and uncompressed.
fn identity_only(parts: &mut Parts) {
    for h in ["range", "if-range", "request-range", "accept-encoding"] {
        parts.headers.remove(h);
    }
    parts.headers.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
}

/// The answer to a request that carried real values: headers and body
/// redacted; a compressed or partial answer withheld (a secret in it could
/// not be recognised).
fn answer(sh: &Shared, resp: Response<Tail>, head: bool) -> Out {
    let (mut parts, body) = resp.into_parts();
    // hyper keeps the upstream's reason phrase as an extension and writes
    // it back: it is not redacted, so it goes (red team 3, P1).
    parts.extensions = http::Extensions::new();
    // A transfer coding other than chunked (gzip) hides what the body
    // holds; hyper frames the answer itself (red team 3, P4).
    let coded = parts
        .headers
        .get_all(header::TRANSFER_ENCODING)
        .iter()
        .any(|v| {
            v.to_str()
                .unwrap_or("x")
                .split(',')
                .any(|t| !t.trim().eq_ignore_ascii_case("chunked"))
        });
    if coded {
        return text(
            StatusCode::BAD_GATEWAY,
            "the answer has a transfer coding other than chunked; it cannot be checked for secrets, so it is withheld",
        );
    }
    parts.headers.remove(header::TRANSFER_ENCODING);
    // A header whose name holds a secret (names are lower-cased, so the
    // secret's lower case too) is dropped (red team 3, P5).
    let leaks: Vec<HeaderName> = parts
        .headers
        .keys()
        .filter(|n| sh.ph.name_leaks(n.as_str()))
        .cloned()
        .collect();
    for n in leaks {
        parts.headers.remove(&n);
    }
    if compressed(&parts.headers) {
        return text(
            StatusCode::BAD_GATEWAY,
            "the answer is compressed although the proxy asked for none; it cannot be checked for secrets, so it is withheld",
        );
    }
    if parts.status == StatusCode::PARTIAL_CONTENT
        || parts.headers.contains_key(header::CONTENT_RANGE)
    {
        return text(
            StatusCode::BAD_GATEWAY,
            "the answer is a part of a larger one; it is withheld",
        );
    }
    let r = &sh.ph.redactor;
    let names: Vec<HeaderName> = parts.headers.keys().cloned().collect();
    for name in names {
        let values: Vec<HeaderValue> = parts.headers.get_all(&name).iter().cloned().collect();
        let cleaned: Vec<HeaderValue> = values
            .iter()
            .map(|v| {
                let s = String::from_utf8_lossy(v.as_bytes());
                let c = r.text(&s);
                if c == s {
                    v.clone()
                } else {
                    HeaderValue::from_str(&c)
                        .unwrap_or_else(|_| HeaderValue::from_static("[REDACTED]"))
                }
            })
            .collect();
        if cleaned != values {
            parts.headers.remove(&name);
            for v in cleaned {
                parts.headers.append(name.clone(), v);
            }
        }
    }
    let no_body =
        head || parts.status == StatusCode::NO_CONTENT || parts.status == StatusCode::NOT_MODIFIED;
    if !no_body {
        // The redacted body's length is not the upstream's.
        parts.headers.remove(header::CONTENT_LENGTH);
    }
    let body = Redacting {
        inner: body,
        stream: sh.ph.redactor.stream(),
        done: false,
    };
    Response::from_parts(parts, body.boxed_unsync())
}

/// `found` placeholders replaced by their real values, in the form each
/// place needs.
fn substitute(
    ph: &Placeholders,
    found: &[usize],
    parts: &mut Parts,
    body: Bytes,
) -> Result<Bytes, String> {
    use base64::Engine;
    let pats: Vec<&str> = found.iter().map(|&i| ph.items[i].value.as_str()).collect();
    let ac = aho_corasick::AhoCorasick::new(&pats).map_err(|e| e.to_string())?;
    let reals: Vec<&str> = found.iter().map(|&i| ph.items[i].real.expose()).collect();
    let with =
        |enc: &dyn Fn(&str) -> String| -> Vec<String> { reals.iter().map(|r| enc(r)).collect() };
    // The request line: percent-encoded.
    let pq = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let enc = with(&|r| percent_encoding::utf8_percent_encode(r, UNRESERVED_KEPT).to_string());
    let pq = ac.replace_all(pq, &enc);
    parts.uri = pq
        .parse()
        .map_err(|_| "the request line could not be rewritten".to_string())?;
    // Headers: as they are; a Basic credential decoded and encoded again.
    let raw = with(&|r| r.to_string());
    let b64 = base64::engine::general_purpose::STANDARD;
    let names: Vec<HeaderName> = parts.headers.keys().cloned().collect();
    for name in names {
        let values: Vec<HeaderValue> = parts.headers.get_all(&name).iter().cloned().collect();
        let mut changed = false;
        let mut out = Vec::with_capacity(values.len());
        for v in values {
            let mut bytes = v.as_bytes().to_vec();
            if bytes.len() > 6 && bytes[..6].eq_ignore_ascii_case(b"basic ") {
                if let Ok(dec) = b64.decode(bytes[6..].trim_ascii()) {
                    if ac.is_match(&dec) {
                        let dec = ac.replace_all_bytes(&dec, &raw);
                        bytes = [b"Basic ".as_slice(), b64.encode(dec).as_bytes()].concat();
                    }
                }
            }
            if ac.is_match(&bytes) {
                bytes = ac.replace_all_bytes(&bytes, &raw);
            }
            if bytes != v.as_bytes() {
                changed = true;
                let mut hv = HeaderValue::from_bytes(&bytes).map_err(|_| {
                    "a secret cannot be carried in a header (control characters)".to_string()
                })?;
                hv.set_sensitive(true);
                out.push(hv);
            } else {
                out.push(v);
            }
        }
        if changed {
            parts.headers.remove(&name);
            for v in out {
                parts.headers.append(name.clone(), v);
            }
        }
    }
    // The body: by its type.
    if body.is_empty() || !ac.is_match(&body) {
        return Ok(body);
    }
    let ctype = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let reps = if ctype.contains("json") {
        with(&|r| {
            let q = serde_json::to_string(r).expect("a string serialises");
            q[1..q.len() - 1].to_string()
        })
    } else if ctype.starts_with("application/x-www-form-urlencoded") {
        with(&|r| url::form_urlencoded::byte_serialize(r.as_bytes()).collect())
    } else {
        raw.clone()
    };
    Ok(Bytes::from(ac.replace_all_bytes(&body, &reps)))
}

/// Sends one request upstream on a connection of its own: TLS verified
/// with the trust store (and the config's CA, `tls`), or plain http (to
/// loopback only when it carries real values: `Placeholders::allowed`).
async fn forward(
    sh: &Arc<Shared>,
    mut parts: Parts,
    body: Bytes,
    target: &Target,
    tls: crate::net::TlsOptions,
) -> Result<Response<Tail>, String> {
    for h in [
        "proxy-connection",
        "proxy-authorization",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        // The body is read whole already.
        "expect",
    ] {
        parts.headers.remove(h);
    }
    let pq = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    parts.uri = pq.parse().map_err(|_| "bad path".to_string())?;
    // Host is always the target's authority as checked, never the child's
    // bytes: a Host that the check reads as the target (`%6cocalhost`,
    // `127.1`, `host?x`) can name another site at a virtual host (red
    // team 3, P2).
    {
        let default = if target.https { 443 } else { 80 };
        let host = if target.host.contains(':') {
            format!("[{}]", target.host)
        } else {
            target.host.to_ascii_lowercase()
        };
        let h = if target.port == default {
            host
        } else {
            format!("{host}:{}", target.port)
        };
        parts.headers.insert(
            header::HOST,
            HeaderValue::from_str(&h).map_err(|e| e.to_string())?,
        );
    }
    if !body.is_empty() || !matches!(parts.method, Method::GET | Method::HEAD) {
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    let key: PoolKey = (
        target.https,
        target.host.clone(),
        target.port,
        tls.ca_file.clone(),
        tls.client_cert.clone(),
        tls.client_key.clone(),
    );
    let request = |parts: &Parts| {
        let mut r = Request::new(Full::new(body.clone()));
        *r.method_mut() = parts.method.clone();
        *r.uri_mut() = parts.uri.clone();
        *r.headers_mut() = parts.headers.clone();
        r
    };
    // A kept connection first; one the server closed meanwhile fails
    // before any answer, and the request goes once more on a new one.
    if let Some(mut sender) = sh.take(&key).await {
        if let Ok(resp) = sender.send_request(request(&parts)).await {
            return Ok(resp.map(|b| Tail::new(b, sh, key, sender)));
        }
    }
    let mut sender = connect(sh, target, &tls).await?;
    let resp = sender
        .send_request(request(&parts))
        .await
        .map_err(|e| e.to_string())?;
    Ok(resp.map(|b| Tail::new(b, sh, key, sender)))
}

/// A new connection to `target` (TLS verified as `tls` says).
async fn connect(
    sh: &Shared,
    target: &Target,
    tls: &crate::net::TlsOptions,
) -> Result<Sender, String> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(|e| format!("cannot resolve {}: {e}", target.host))?
        .collect();
    // Never to the proxy itself (a loop).
    if addrs.contains(&sh.me) {
        return Err("the request names the proxy itself".into());
    }
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(&addrs[..]))
        .await
        .map_err(|_| format!("{}:{}: connection timed out", target.host, target.port))?
        .map_err(|e| format!("{}:{}: {e}", target.host, target.port))?;
    let _ = tcp.set_nodelay(true);
    if target.https {
        let t = crate::net::Tls::new(crate::net::Verify::Full, tls).map_err(|e| e.to_string())?;
        let s = t
            .connect(&target.host, tcp)
            .await
            .map_err(|e| format!("{}: {e}", target.host))?;
        handshake(s).await
    } else {
        handshake(tcp).await
    }
}

async fn handshake<I>(io: I) -> Result<Sender, String>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    Ok(sender)
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// Upstream connections are kept per target and TLS setup.
pub(super) type PoolKey = (
    bool,
    String,
    u16,
    Option<std::path::PathBuf>,
    Option<std::path::PathBuf>,
    Option<std::path::PathBuf>,
);

/// Kept connections: per key, up to `POOL_PER_KEY` idle ones.
pub(super) type Pool = std::sync::Mutex<std::collections::HashMap<PoolKey, Vec<Sender>>>;

const POOL_PER_KEY: usize = 8;

impl Shared {
    /// An idle kept connection to `key`, ready for a request.
    async fn take(&self, key: &PoolKey) -> Option<Sender> {
        loop {
            let mut s = self.pool.lock().expect("pool lock").get_mut(key)?.pop()?;
            if s.is_closed() {
                continue;
            }
            // Ready once its last answer was read to the end.
            if let Ok(Ok(())) = tokio::time::timeout(Duration::from_millis(50), s.ready()).await {
                return Some(s);
            }
        }
    }

    fn put(&self, key: PoolKey, s: Sender) {
        if s.is_closed() {
            return;
        }
        let mut pool = self.pool.lock().expect("pool lock");
        let idle = pool.entry(key).or_default();
        if idle.len() < POOL_PER_KEY {
            idle.push(s);
        }
    }
}

/// An upstream answer's body; at its end the connection is kept for the
/// next request to the same target.
pub(super) struct Tail {
    inner: Incoming,
    back: Option<(Arc<Shared>, PoolKey, Sender)>,
}

impl Tail {
    fn new(inner: Incoming, sh: &Arc<Shared>, key: PoolKey, s: Sender) -> Tail {
        Tail {
            inner,
            back: Some((sh.clone(), key, s)),
        }
    }
}

impl Body for Tail {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        let r = Pin::new(&mut this.inner).poll_frame(cx);
        match r {
            Poll::Ready(None) => {
                if let Some((sh, key, s)) = this.back.take() {
                    sh.put(key, s);
                }
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => {
                this.back = None;
                Poll::Ready(Some(Err(e.into())))
            }
            Poll::Ready(Some(Ok(f))) => Poll::Ready(Some(Ok(f))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// An answer's body through the streaming redactor; trailers dropped
/// (they are not redacted).
struct Redacting {
    inner: Tail,
    stream: crate::ops::redact::Stream,
    done: bool,
}

impl Body for Redacting {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(f))) => {
                    if let Ok(d) = f.into_data() {
                        let out = this.stream.push(&d);
                        if !out.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                        }
                    }
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => {
                    this.done = true;
                    let out = this.stream.finish();
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                    }
                    return Poll::Ready(None);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ConfigDoc, Kind};
    use crate::secret::Secret;

    /// The real value goes in the form each place needs: a value with a
    /// quote, a backslash, `&`, `=` and a space stays itself once the
    /// server decodes the JSON, the form, the URL or the Basic header.
    #[test]
    fn real_values_are_encoded_for_where_they_go() {
        use base64::Engine;
        let real = r#"p"w\d&x=1 y%"#;
        let mut d = ConfigDoc::new("c", Kind::Custom, "api_key");
        d.fields.insert("api_key".into(), Secret::new(real));
        d.fields
            .insert("test_url".into(), Secret::new("https://api.example.com/"));
        let (vars, ph) =
            super::super::prepare(std::slice::from_ref(&d), crate::export::vars_for(&d)).unwrap();
        let p = vars
            .iter()
            .find(|v| v.secret)
            .unwrap()
            .value
            .expose()
            .to_string();
        let b64 = base64::engine::general_purpose::STANDARD;
        let make = |ctype: &str, body: String| {
            let req = Request::builder()
                .uri(format!("/x?k={p}"))
                .header("content-type", ctype)
                .header(
                    "authorization",
                    format!("Basic {}", b64.encode(format!("u:{p}"))),
                )
                .body(())
                .unwrap();
            (req.into_parts().0, Bytes::from(body))
        };
        let (mut parts, body) = make("application/json", format!("{{\"k\":\"{p}\"}}"));
        let out = substitute(&ph, &[0], &mut parts, body).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["k"], real);
        let q: Vec<(String, String)> =
            url::form_urlencoded::parse(parts.uri.query().unwrap().as_bytes())
                .into_owned()
                .collect();
        assert_eq!(q, [("k".to_string(), real.to_string())]);
        let auth = parts.headers["authorization"].to_str().unwrap();
        let dec = b64.decode(auth.strip_prefix("Basic ").unwrap()).unwrap();
        assert_eq!(dec, format!("u:{real}").as_bytes());
        let (mut parts, body) = make("application/x-www-form-urlencoded", format!("a=1&k={p}"));
        let out = substitute(&ph, &[0], &mut parts, body).unwrap();
        let f: Vec<(String, String)> = url::form_urlencoded::parse(&out).into_owned().collect();
        assert_eq!(f[1], ("k".to_string(), real.to_string()));
    }
}
