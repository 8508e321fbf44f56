//! `authcfg http` and the MCP `http_request` tool: an HTTP request with a
//! config's credential attached by authcfg, so the caller (a script, an
//! agent) acts with the secret without ever holding it.
//!
//! Before anything is sent (docs/SECURITY.md, "An agent using authcfg mcp"):
//! - the URL must be https, or http to a loopback host (`net::policy`);
//! - its origin must be one of the config's allowed origins
//!   (`allowed_origins`, scheme://host[:port] with `*.` wildcards; default:
//!   the origin of its test URL or base URL, or the provider catalog's API
//!   origins for OAuth2 providers);
//! - the caller's headers may not carry a credential of their own
//!   (Authorization, Cookie, Proxy-Authorization, Host, the config's own key
//!   header, SigV4's headers), nor the API key's query parameter, so the
//!   auth authcfg attaches cannot be overridden or duplicated;
//! - nor choose a part or a form of the answer (Range, If-Range,
//!   Request-Range, Accept-Charset, Accept-Encoding): redaction
//!   (`ops::redact`) must see a secret whole to recognise it, so a partial
//!   or compressed answer is not shown either.
//!
//! Redirects are followed only within the first URL's origin (`net::http`);
//! one to another origin is not followed and the credential goes nowhere
//! else.

use super::credential::Credential;
use crate::error::{failure, usage, UserError};
use crate::model::{ConfigDoc, Kind};
use crate::net::http::{self as nethttp, HttpFailure, Redirects};
use crate::net::{ServerIdentity, Tls, TlsOptions, Verify};
use crate::redact::Redactor;
use std::time::Duration;

/// What the caller asks for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// What came back, already redacted.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    #[serde(skip)]
    pub body: Vec<u8>,
    /// The body was longer than the limit and was cut.
    pub truncated: bool,
    #[serde(skip)]
    pub identity: ServerIdentity,
}

impl Response {
    /// `{status, headers: {name: value}, body | body_base64, truncated}`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut headers = serde_json::Map::new();
        for (k, v) in &self.headers {
            match headers.get_mut(k) {
                Some(serde_json::Value::String(prev)) => {
                    prev.push_str(", ");
                    prev.push_str(v);
                }
                _ => {
                    headers.insert(k.clone(), serde_json::Value::String(v.clone()));
                }
            }
        }
        let mut o = serde_json::json!({
            "status": self.status,
            "reason": self.reason,
            "headers": headers,
            "truncated": self.truncated,
        });
        match std::str::from_utf8(&self.body) {
            Ok(text) => o["body"] = text.into(),
            Err(_) => {
                use base64::Engine;
                o["body_base64"] = base64::engine::general_purpose::STANDARD
                    .encode(&self.body)
                    .into()
            }
        }
        o
    }
}

/// A checked request, ready to go: nothing has been sent yet.
pub struct Plan {
    url: url::Url,
    method: reqwest::Method,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    auth: Credential,
    extra: Vec<(String, String)>,
    tls: TlsOptions,
    pub origin: String,
}

impl Plan {
    pub fn method(&self) -> &str {
        self.method.as_str()
    }
}

/// One allowed origin: scheme, host (or `*.suffix`), port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginRule {
    scheme: String,
    host: String,
    wildcard: bool,
    port: u16,
}

impl std::fmt::Display for OriginRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let default = default_port(&self.scheme);
        let star = if self.wildcard { "*." } else { "" };
        write!(f, "{}://{star}{}", self.scheme, self.host)?;
        if Some(self.port) != default {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "https" => Some(443),
        "http" => Some(80),
        _ => None,
    }
}

impl OriginRule {
    /// `https://api.example.com`, `https://*.example.com:8443`,
    /// `http://127.0.0.1:8080` (a trailing `/` is accepted; a path is not).
    pub fn parse(raw: &str) -> Result<OriginRule, String> {
        let raw = raw.trim();
        let (scheme, rest) = raw
            .split_once("://")
            .ok_or_else(|| format!("'{raw}' is not scheme://host[:port]"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "https" && scheme != "http" {
            return Err(format!("'{raw}': only https and http origins"));
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(format!("'{raw}' has more than scheme://host[:port]"));
        }
        let (wildcard, rest) = match rest.strip_prefix("*.") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        if rest.contains('*') {
            return Err(format!(
                "'{raw}': a wildcard stands only for whole labels at the start (*.example.com)"
            ));
        }
        let probe = format!("{scheme}://{rest}/");
        let u = url::Url::parse(&probe).map_err(|e| format!("'{raw}': {e}"))?;
        let host = u
            .host_str()
            .ok_or_else(|| format!("'{raw}' has no host"))?
            .to_string();
        if wildcard && (host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[')) {
            return Err(format!("'{raw}': no wildcard for an IP address"));
        }
        if wildcard && !host.contains('.') {
            return Err(format!(
                "'{raw}': a wildcard needs a domain of at least two labels"
            ));
        }
        Ok(OriginRule {
            port: u
                .port_or_known_default()
                .ok_or_else(|| format!("'{raw}' has no port"))?,
            scheme,
            host,
            wildcard,
        })
    }

    pub fn of_url(u: &url::Url) -> Option<OriginRule> {
        Some(OriginRule {
            scheme: u.scheme().to_string(),
            host: u.host_str()?.to_ascii_lowercase(),
            wildcard: false,
            port: u.port_or_known_default()?,
        })
    }

    pub fn matches(&self, u: &url::Url) -> bool {
        let Some(host) = u.host_str() else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        u.scheme() == self.scheme
            && u.port_or_known_default() == Some(self.port)
            && if self.wildcard {
                host.len() > self.host.len() + 1
                    && host.ends_with(&self.host)
                    && host.as_bytes()[host.len() - self.host.len() - 1] == b'.'
            } else {
                host == self.host
            }
    }
}

/// The one origin rule: `url`'s origin must be one of `rules` (a
/// config's [`allowed_origins`]). `http`, MCP `http_request` and git
/// (`ops::git_credential`) ask it.
pub fn check_origin(
    doc: &ConfigDoc,
    url: &url::Url,
    rules: &[OriginRule],
) -> Result<(), UserError> {
    if rules.iter().any(|r| r.matches(url)) {
        return Ok(());
    }
    let name = &doc.meta.name;
    let origin = crate::net::policy::origin(url);
    let list = if rules.is_empty() {
        "none".to_string()
    } else {
        rules
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(failure(format!(
        "not sent: {origin} is not an allowed origin of '{name}' (allowed: {list})"
    ))
    .hint({
        // Added to the origins it has (configured or by default), not in
        // their place.
        let mut keep: Vec<String> = rules.iter().map(ToString::to_string).collect();
        keep.push(origin.to_string());
        format!(
            "if '{name}' belongs there, allow it too: `authcfg edit {name} --set {}`",
            crate::export::formats::sh_quote(&format!("allowed_origins={}", keep.join(",")))
        )
    }))
}

/// The configured origins of a config (`allowed_origins`), or its defaults.
pub fn allowed_origins(doc: &ConfigDoc) -> Result<Vec<OriginRule>, UserError> {
    if let Some(list) = doc.get("allowed_origins").filter(|l| !l.trim().is_empty()) {
        return list
            .split([',', ' ', '\n', '\t'])
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                OriginRule::parse(s).map_err(|e| {
                    usage(format!("'{}': allowed_origins: {e}", doc.meta.name)).hint(format!(
                        "fix it with `authcfg edit {} --set allowed_origins=https://api.example.com`",
                        doc.meta.name
                    ))
                })
            })
            .collect();
    }
    let mut out = vec![];
    let mut push_url = |raw: &str| {
        if let Some(r) = url::Url::parse(raw)
            .ok()
            .as_ref()
            .and_then(OriginRule::of_url)
        {
            if !out.contains(&r) {
                out.push(r);
            }
        }
    };
    match doc.meta.kind {
        Kind::Custom => {
            if let Some(u) = doc.get("test_url") {
                push_url(u);
            }
        }
        Kind::Oauth2 => {
            if let Some(p) = crate::catalog::providers::find(&doc.meta.type_id) {
                // The provider's parameters (tenant, domain, base_url...),
                // with their defaults.
                let values: std::collections::BTreeMap<String, String> = p
                    .params
                    .iter()
                    .filter_map(|param| {
                        let v = doc
                            .get(&param.name)
                            .filter(|v| !v.is_empty())
                            .map(str::to_string)
                            .or_else(|| param.default.clone())?;
                        Some((param.name.clone(), v))
                    })
                    .collect();
                for o in &p.api_origins {
                    if let Ok(filled) = crate::catalog::providers::fill(o, &values) {
                        push_url(&filled);
                    }
                }
            }
            if let Some(u) = doc.get("userinfo_url") {
                push_url(u);
            }
        }
        Kind::Connector => match crate::catalog::connectors::find(&doc.meta.type_id) {
            Some(c) if c.probe == crate::connectors::ProbeKind::S3 => {
                let endpoint = doc.get("endpoint").unwrap_or_default();
                if endpoint.is_empty() {
                    let region = doc.get("region").unwrap_or("us-east-1");
                    for o in [
                        format!("https://s3.{region}.amazonaws.com"),
                        format!("https://*.s3.{region}.amazonaws.com"),
                    ] {
                        if let Ok(r) = OriginRule::parse(&o) {
                            out.push(r);
                        }
                    }
                } else {
                    push_url(endpoint);
                }
            }
            Some(c) => {
                if let Some(h) = &c.http {
                    push_url(&doc.render(&h.url));
                }
                for f in ["base_url", "url", "endpoint", "management_url"] {
                    if let Some(u) = doc.get(f).filter(|u| !u.is_empty()) {
                        push_url(u);
                    }
                }
            }
            None => {}
        },
    }
    Ok(out)
}

fn refused(name: &str, what: String) -> UserError {
    usage(what).hint(format!(
        "authcfg attaches '{name}''s credential itself; send the request without it"
    ))
}

/// Checks everything about `req` for `doc` without sending anything.
pub fn plan(doc: &ConfigDoc, req: &Request) -> Result<Plan, UserError> {
    let name = &doc.meta.name;
    let url = url::Url::parse(req.url.trim()).map_err(|e| usage(format!("not a URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refused(
            name,
            "the URL carries a user name or password".into(),
        ));
    }
    crate::net::policy::check_parsed(&url).map_err(|r| {
        failure(format!("not sent: {r}"))
            .hint("credentials go only to https URLs, or plain http on a loopback host")
    })?;
    check_origin(doc, &url, &allowed_origins(doc)?)?;
    let origin = crate::net::policy::origin(&url);
    let auth = Credential::of(doc)?;
    let method_raw = if req.method.is_empty() {
        if req.body.is_some() {
            "POST"
        } else {
            "GET"
        }
    } else {
        req.method.as_str()
    };
    let method = reqwest::Method::from_bytes(method_raw.to_ascii_uppercase().as_bytes())
        .map_err(|_| usage(format!("'{method_raw}' is not an HTTP method")))?;
    let own_header = auth.own_header().map(str::to_ascii_lowercase);
    let mut headers = vec![];
    for (k, v) in &req.headers {
        let lk = k.trim().to_ascii_lowercase();
        if reqwest::header::HeaderName::from_bytes(lk.as_bytes()).is_err()
            || reqwest::header::HeaderValue::from_str(v.trim()).is_err()
        {
            return Err(usage(format!("'{}' is not a valid header", k.trim())));
        }
        if super::credential::RESERVED.contains(&lk.as_str())
            || own_header.as_deref() == Some(lk.as_str())
        {
            return Err(refused(
                name,
                format!("the header {} may not be set by the caller", k.trim()),
            ));
        }
        if super::credential::FRAMING.contains(&lk.as_str()) {
            return Err(usage(format!(
                "the header {} is set by authcfg from the request itself",
                k.trim()
            )));
        }
        headers.push((lk, v.trim().to_string()));
    }
    if let Some(key) = auth.query_name() {
        if url.query_pairs().any(|(k, _)| k == key) {
            return Err(refused(
                name,
                format!("the URL already has the query parameter {key}"),
            ));
        }
    }
    let mut extra = vec![];
    if let Some(h) = (doc.meta.kind == Kind::Connector)
        .then(|| crate::catalog::connectors::find(&doc.meta.type_id))
        .flatten()
        .and_then(|c| c.http.as_ref())
    {
        for (k, v) in &h.headers {
            if !headers.iter().any(|(x, _)| x.eq_ignore_ascii_case(k)) {
                extra.push((k.clone(), v.clone()));
            }
        }
    }
    Ok(Plan {
        url,
        method,
        headers,
        body: req.body.clone().unwrap_or_default(),
        auth,
        extra,
        tls: TlsOptions::from_fields(doc.get("tls_ca"), doc.get("tls_cert"), doc.get("tls_key")),
        origin,
    })
}

/// The largest `--max-body` accepted (`authcfg http`, `authcfg mcp`): a
/// body is held in memory and redacted whole before any of it is shown, so
/// a caller's limit may not let an endless answer take the machine's
/// memory (docs/SECURITY.md, "The network").
pub const MAX_BODY_CEILING: usize = 256 * 1024 * 1024;

/// A `--max-body` value: above 0 and at most [`MAX_BODY_CEILING`].
pub fn parse_max_body(s: &str) -> Result<usize, String> {
    let n: usize = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number of bytes"))?;
    if n == 0 || n > MAX_BODY_CEILING {
        return Err(format!(
            "must be from 1 to {MAX_BODY_CEILING} bytes (256 MiB: the body is held and redacted in memory)"
        ));
    }
    Ok(n)
}

/// Limits of one request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub max_body: usize,
}

/// Sends a planned request. Failures carry no secret (the URL of a
/// query-key request is never shown, only its origin).
pub async fn perform(plan: &Plan, limits: Limits, redactor: &Redactor) -> anyhow::Result<Response> {
    perform_with(plan, limits, redactor, None).await
}

/// The TLS setup a client was made for.
type ClientKey = (
    bool,
    Option<std::path::PathBuf>,
    Option<std::path::PathBuf>,
    Option<std::path::PathBuf>,
    Duration,
);

/// HTTP clients kept by a long-running caller (the MCP server), one per TLS
/// setup and timeout, so that calls reuse connections. A client holds no
/// credential: each request carries its own.
#[derive(Default)]
pub struct Clients(std::sync::Mutex<std::collections::HashMap<ClientKey, (Tls, reqwest::Client)>>);

fn new_client(plan: &Plan, timeout: Duration) -> anyhow::Result<(Tls, reqwest::Client)> {
    // Plain http goes only to loopback (checked in `plan`) and its
    // redirects stay within the origin: no trust store needed.
    let tls = if plan.url.scheme() == "http" && plan.tls.client_cert.is_none() {
        Tls::no_roots()
    } else {
        Tls::new(Verify::Full, &plan.tls).map_err(|t| failure(format!("{}: {t}", plan.origin)))?
    };
    let client = nethttp::client(&tls, timeout, Redirects::SameOrigin)
        .map_err(|f| failure(f.to_string()))?;
    Ok((tls, client))
}

/// `perform`, reusing a client from `clients` when given.
pub async fn perform_with(
    plan: &Plan,
    limits: Limits,
    redactor: &Redactor,
    clients: Option<&Clients>,
) -> anyhow::Result<Response> {
    let (tls, client) = match clients {
        None => new_client(plan, limits.timeout)?,
        Some(c) => {
            let key = (
                plan.url.scheme() == "http",
                plan.tls.ca_file.clone(),
                plan.tls.client_cert.clone(),
                plan.tls.client_key.clone(),
                limits.timeout,
            );
            let mut map = c.0.lock().expect("clients lock");
            match map.get(&key) {
                Some(x) => x.clone(),
                None => {
                    let x = new_client(plan, limits.timeout)?;
                    map.insert(key, x.clone());
                    x
                }
            }
        }
    };
    let mut req = client.request(plan.method.clone(), plan.url.clone());
    for (k, v) in plan.headers.iter().chain(plan.extra.iter()) {
        req = req.header(k.as_str(), v.as_str());
    }
    if !plan.body.is_empty() || plan.method != reqwest::Method::GET {
        req = req.body(plan.body.clone());
    }
    let mut request = req.build().map_err(|e| {
        failure(format!(
            "{}: {}",
            plan.origin,
            crate::net::chain(&e.without_url())
        ))
    })?;
    // The credential, by the one rule (ops::credential); SigV4 signs the
    // headers set so far, the final URL and the body.
    plan.auth.apply(&mut request).map_err(UserError::from)?;
    request.headers_mut().insert(
        reqwest::header::ACCEPT_ENCODING,
        reqwest::header::HeaderValue::from_static("identity"),
    );
    let url = request.url().clone();
    let req = reqwest::RequestBuilder::from_parts(client, request);
    let answer = match nethttp::send(&tls, &url, req).await {
        Ok(a) => a,
        Err(f) => {
            let text = redactor.text(&f.to_string());
            let e = match f {
                HttpFailure::CrossOriginRedirect { .. } => failure(text).hint(
                    "the credential was not sent to the other origin; request that URL with a config allowed there",
                ),
                HttpFailure::NotAllowed(_) => failure(text),
                _ => failure(format!("{}: {text}", plan.origin)),
            };
            return Err(e.into());
        }
    };
    let mut resp = answer.response;
    let status = resp.status();
    // An encoded body (gzip, br, ...) sent although identity was asked for
    // cannot be scanned for secrets: it is not handed back.
    let encoded = resp.headers().get_all("content-encoding").iter().any(|v| {
        !v.to_str()
            .unwrap_or("x")
            .trim()
            .eq_ignore_ascii_case("identity")
    });
    if encoded {
        return Err(failure(format!(
            "{}: the answer is compressed (Content-Encoding) although authcfg asked for none; it cannot be checked for secrets, so it is not shown",
            plan.origin
        ))
        .hint("the server ignores Accept-Encoding: identity; ask it for an uncompressed answer")
        .into());
    }
    // A part of the answer (206, Content-Range) was not asked for: a
    // secret cut at its edge could not be recognised, so it is not shown.
    if status == reqwest::StatusCode::PARTIAL_CONTENT
        || resp.headers().contains_key("content-range")
    {
        return Err(failure(format!(
            "{}: the answer is a part of a larger one (206 Partial Content or Content-Range); a secret cut at its edge could not be recognised, so it is not shown",
            plan.origin
        ))
        .hint("authcfg never asks for a range; request the whole resource")
        .into());
    }
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                redactor.text(k.as_str()),
                redactor.text(&String::from_utf8_lossy(v.as_bytes())),
            )
        })
        .collect();
    // Read past the limit by the longest a secret's encoding can be, so
    // that a secret the limit would cut in two is seen whole and cut away,
    // not half shown.
    let want = limits.max_body.saturating_add(redactor.slack());
    let mut body = Vec::new();
    let more = match nethttp::read_capped(&tls, &mut resp, want, &mut body).await {
        Ok(more) => more,
        Err(f) => {
            return Err(failure(format!(
                "{}: reading the answer: {}",
                plan.origin,
                redactor.text(&f.to_string())
            ))
            .into());
        }
    };
    let truncated = more || body.len() > limits.max_body;
    Ok(Response {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("").to_string(),
        headers,
        body: redactor.limited(&body, limits.max_body),
        truncated,
        identity: answer.identity,
    })
}

/// The redactor for one config (its secrets in every form).
pub fn redactor_for(doc: &ConfigDoc) -> Redactor {
    let mut r = Redactor::new();
    r.add_doc(doc);
    r
}

/// The method a request will use, for records.
pub fn method_label(req: &Request) -> String {
    match (req.method.is_empty(), req.body.is_some()) {
        (false, _) => req.method.to_ascii_uppercase(),
        (true, true) => "POST".into(),
        (true, false) => "GET".into(),
    }
}

/// `authcfg http NAME URL`: read (refreshing an OAuth token first), check,
/// record the use, send. The audit record is written before anything is
/// sent; a refused request is recorded as refused with the origin only.
pub fn request(
    s: &super::Session,
    name: &str,
    req: &Request,
    limits: Limits,
    action: &str,
) -> anyhow::Result<Response> {
    let used = super::handout::read_for_use(s, &[name.to_string()], action)?;
    let doc = &used.docs[0];
    let plan = match plan(doc, req) {
        Ok(p) => p,
        Err(e) => {
            let origin = url::Url::parse(req.url.trim())
                .map(|u| crate::net::policy::origin(&u))
                .unwrap_or_else(|_| "an invalid URL".into());
            s.audit(
                action,
                Some(name),
                "refused",
                Some(&format!("{} {origin}", method_label(req))),
            );
            return Err(e.into());
        }
    };
    used.record(s)?;
    let redactor = redactor_for(doc);
    crate::net::runtime::block_on(perform(&plan, limits, &redactor))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    fn doc(kind: Kind, ty: &str, fields: &[(&str, &str)]) -> ConfigDoc {
        let mut d = ConfigDoc::new("c", kind, ty);
        for (k, v) in fields {
            d.fields
                .insert(k.to_string(), crate::secret::Secret::new(v.to_string()));
        }
        d
    }

    fn shown(d: &ConfigDoc) -> Vec<String> {
        allowed_origins(d)
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn default_origins_by_kind() {
        let d = doc(
            Kind::Custom,
            "api_key",
            &[("test_url", "https://api.example.com:8443/v1/me?x=1")],
        );
        assert_eq!(shown(&d), ["https://api.example.com:8443"]);
        assert!(shown(&doc(Kind::Custom, "api_key", &[])).is_empty());
        // Providers: the catalog's API origins (parameters filled), and
        // the userinfo endpoint.
        let gh = doc(Kind::Oauth2, "github", &[]);
        assert!(shown(&gh).contains(&"https://api.github.com".to_string()));
        let gl = doc(
            Kind::Oauth2,
            "gitlab",
            &[("base_url", "https://gitlab.example.org")],
        );
        assert!(shown(&gl).contains(&"https://gitlab.example.org".to_string()));
        let ms = doc(Kind::Oauth2, "microsoft", &[("tenant", "common")]);
        assert!(shown(&ms).contains(&"https://graph.microsoft.com".to_string()));
        // S3: the endpoint, or AWS's regional origins.
        let s3 = doc(Kind::Connector, "s3", &[("region", "eu-west-1")]);
        assert_eq!(
            shown(&s3),
            [
                "https://s3.eu-west-1.amazonaws.com",
                "https://*.s3.eu-west-1.amazonaws.com"
            ]
        );
        let minio = doc(
            Kind::Connector,
            "s3",
            &[("endpoint", "http://127.0.0.1:9000")],
        );
        assert_eq!(shown(&minio), ["http://127.0.0.1:9000"]);
        // The field replaces the defaults; a bad entry is an error.
        let set = doc(
            Kind::Custom,
            "bearer_token",
            &[
                ("test_url", "https://a.example.com/"),
                (
                    "allowed_origins",
                    "https://b.example.com, https://*.c.example.com",
                ),
            ],
        );
        assert_eq!(
            shown(&set),
            ["https://b.example.com", "https://*.c.example.com"]
        );
        let bad = doc(
            Kind::Custom,
            "bearer_token",
            &[("allowed_origins", "b.example.com")],
        );
        assert!(allowed_origins(&bad).is_err());
    }

    #[test]
    fn every_provider_has_valid_api_origins() {
        for p in crate::catalog::providers::all() {
            assert!(!p.api_origins.is_empty(), "{}", p.id);
            for o in &p.api_origins {
                let filled = o
                    .replace("{base_url}", "https://x.example.com")
                    .replace("{domain}", "x.example.com")
                    .replace("{shop}", "x")
                    .replace("{tenant}", "common");
                assert!(OriginRule::parse(&filled).is_ok(), "{}: {o}", p.id);
            }
        }
    }

    #[test]
    fn caller_headers_cannot_carry_credentials() {
        let d = doc(
            Kind::Custom,
            "api_key",
            &[
                ("test_url", "https://api.example.com/"),
                ("api_key", "k-123456"),
                ("key_name", "X-Key"),
            ],
        );
        let req = |h: &str| Request {
            method: String::new(),
            url: "https://api.example.com/x".into(),
            headers: vec![(h.into(), "v".into())],
            body: None,
        };
        for h in [
            "Authorization",
            "x-key",
            "COOKIE",
            "host",
            "Proxy-Authorization",
            "Range",
            "if-range",
            "Request-Range",
            "Accept-Charset",
        ] {
            assert!(plan(&d, &req(h)).is_err(), "{h}");
        }
        for h in [
            "Content-Length",
            "transfer-encoding",
            "Connection",
            "Upgrade",
        ] {
            let e = plan(&d, &req(h)).err().unwrap();
            assert!(e.message.contains("is set by authcfg"), "{h}");
        }
        assert!(plan(&d, &req("Accept")).is_ok());
        let p = plan(&d, &req("Accept")).unwrap();
        assert_eq!(p.method(), "GET");
        // Refused before anything else: another origin.
        let mut other = req("Accept");
        other.url = "https://api.example.com.evil.net/".into();
        let e = plan(&d, &other).err().unwrap();
        assert!(
            e.message.contains("is not an allowed origin"),
            "{}",
            e.message
        );
    }

    #[test]
    fn origin_rules() {
        let r = OriginRule::parse("https://api.example.com").unwrap();
        assert!(r.matches(&u("https://api.example.com/v1?x")));
        assert!(r.matches(&u("https://API.example.com:443/")));
        assert!(!r.matches(&u("https://api.example.com:8443/")));
        assert!(!r.matches(&u("http://api.example.com/")));
        assert!(!r.matches(&u("https://api.example.com.evil.net/")));
        assert!(!r.matches(&u("https://xapi.example.com/")));
        let w = OriginRule::parse("https://*.example.com").unwrap();
        assert!(w.matches(&u("https://a.example.com/")));
        assert!(w.matches(&u("https://a.b.example.com/")));
        assert!(!w.matches(&u("https://example.com/")));
        assert!(!w.matches(&u("https://aexample.com/")));
        assert!(!w.matches(&u("https://a.example.com.evil.net/")));
        let l = OriginRule::parse("http://127.0.0.1:8080/").unwrap();
        assert!(l.matches(&u("http://127.0.0.1:8080/x")));
        assert!(!l.matches(&u("http://127.0.0.1:8081/x")));
        assert_eq!(l.to_string(), "http://127.0.0.1:8080");
        assert_eq!(w.to_string(), "https://*.example.com");
        for bad in [
            "api.example.com",
            "ftp://x.example.com",
            "https://x.example.com/path",
            "https://a*.example.com",
            "https://*.com",
            "https://*.127.0.0.1",
            "https://user@x.example.com",
        ] {
            assert!(OriginRule::parse(bad).is_err(), "{bad}");
        }
    }
}
