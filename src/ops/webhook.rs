//! Webhook signatures (`authcfg webhook verify|sign`): a connector that
//! receives events holds its signing secret, and a request is checked with
//! the service's own documented scheme. Never prints; `cli::webhook`
//! renders.
//!
//! | service | header(s) | signed text | MAC |
//! |---|---|---|---|
//! | GitHub | `X-Hub-Signature-256: sha256=HEX` | body | HMAC-SHA256 |
//! | Stripe | `Stripe-Signature: t=T,v1=HEX[,v1=...]` | `T.body` | HMAC-SHA256, T within the tolerance |
//! | Slack | `X-Slack-Signature: v0=HEX`, `X-Slack-Request-Timestamp: T` | `v0:T:body` | HMAC-SHA256, T within the tolerance |
//! | Shopify | `X-Shopify-Hmac-Sha256: BASE64` | body | HMAC-SHA256 |
//! | Twilio | `X-Twilio-Signature: BASE64` | URL + each POST parameter's name and value, sorted (URL only, with the body's SHA-256 in `bodySHA256`, for a JSON body) | HMAC-SHA1 with the auth token |
//! | generic (`webhook-hmac`) | the config's header, prefix and encoding | body, or `T.body` with a timestamp header | HMAC-SHA256/512/1 |
//!
//! Signatures are compared in constant time (`hmac`'s `verify_slice`); a
//! timestamp further than the tolerance from now (either way) is refused
//! after the signature was checked, so a forged request is always told
//! as a mismatch. Messages name headers, never their values or the secret.

use super::credential::{secret_field, CredentialError};
use crate::error::{usage, Exit, UserError};
use crate::model::{ConfigDoc, Kind};
use base64::Engine;
use hmac::{Hmac, Mac};
use zeroize::Zeroizing;

/// How far from now a signed timestamp may be, by default (Stripe's and
/// Slack's own libraries use five minutes).
pub const DEFAULT_TOLERANCE: u64 = 300;

/// The largest webhook body read.
pub const MAX_BODY: u64 = crate::input::MAX_INPUT;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    GitHub,
    Stripe,
    Slack,
    Shopify,
    Twilio,
    Hmac,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::GitHub => "GitHub",
            Service::Stripe => "Stripe",
            Service::Slack => "Slack",
            Service::Shopify => "Shopify",
            Service::Twilio => "Twilio",
            Service::Hmac => "HMAC",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    Sha1,
    Sha256,
    Sha512,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Hex,
    Base64,
}

/// A config's signing scheme and secret.
pub struct Scheme {
    pub service: Service,
    secret: Zeroizing<String>,
    alg: Alg,
    /// The header carrying the signature.
    pub header: String,
    encoding: Encoding,
    prefix: String,
    /// The header carrying the timestamp, for schemes that sign one in
    /// a header of its own (Slack, generic).
    timestamp_header: Option<String>,
}

impl std::fmt::Debug for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scheme({}, {}, ****)", self.service.name(), self.header)
    }
}

/// A request to check: its headers (as received), body and, for Twilio,
/// the URL the service called.
#[derive(Debug, Default)]
pub struct Request {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub url: Option<String>,
}

/// Why a request does not verify. Never holds a value from the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejected {
    /// The signature (or timestamp) header is absent.
    Missing(String),
    /// A header appears more than once.
    Repeated(String),
    /// A header is not in the service's form.
    Malformed { header: String, why: &'static str },
    /// No signature in the header is the request's.
    Mismatch(String),
    /// The signature is right but its timestamp is too far from now.
    Stale { age: i64, tolerance: u64 },
    /// Twilio's body hash (`bodySHA256` in the URL) is not the body's.
    BodyHash,
}

impl From<Rejected> for UserError {
    fn from(r: Rejected) -> UserError {
        let fail = |m: String| UserError::new(Exit::TestFailed, m);
        match r {
            Rejected::Missing(h) => fail(format!("the request has no {h} header"))
                .hint("give the request's headers with --header 'NAME: VALUE', or the whole request with --raw"),
            Rejected::Repeated(h) => fail(format!("the request has more than one {h} header")),
            Rejected::Malformed { header, why } => fail(format!("the {header} header {why}")),
            Rejected::Mismatch(h) => fail(format!(
                "the signature in {h} does not match: wrong secret, or the body or signed fields were changed"
            ))
            .hint("the body must be given byte for byte as received"),
            Rejected::Stale { age, tolerance } => fail(format!(
                "the signature is valid but its timestamp is {} s {} now (tolerance {tolerance} s): refused as a possible replay",
                age.unsigned_abs(),
                if age >= 0 { "before" } else { "after" }
            ))
            .hint("a larger --tolerance accepts older requests"),
            Rejected::BodyHash => fail(
                "the body's SHA-256 is not the bodySHA256 the signed URL names".to_string(),
            ),
        }
    }
}

/// What verified.
#[derive(Debug, Clone)]
pub struct Verified {
    pub service: Service,
    pub header: String,
    /// The signed timestamp, for schemes that sign one.
    pub timestamp: Option<i64>,
}

/// The ids of connectors that have a webhook scheme, for messages.
pub const CONNECTORS: &[&str] = &[
    "github",
    "stripe",
    "slack",
    "shopify",
    "twilio",
    "webhook-hmac",
];

impl Scheme {
    /// The scheme of a config: its connector's, with the secret field the
    /// catalog gives it (`catalog/connectors.toml`). An empty secret is
    /// `CredentialError::Empty`, as for every credential.
    pub fn of(doc: &ConfigDoc) -> Result<Scheme, UserError> {
        let id = (doc.meta.kind == Kind::Connector)
            .then(|| crate::catalog::connectors::find(&doc.meta.type_id))
            .flatten()
            .map(|c| c.id.as_str());
        let secret = |f: &str| secret_field(doc, f).map_err(UserError::from);
        let fixed =
            |service, secret, alg, header: &str, encoding, prefix: &str, ts: Option<&str>| Scheme {
                service,
                secret,
                alg,
                header: header.into(),
                encoding,
                prefix: prefix.into(),
                timestamp_header: ts.map(Into::into),
            };
        Ok(match id {
            Some("github") => fixed(
                Service::GitHub,
                secret("webhook_secret")?,
                Alg::Sha256,
                "X-Hub-Signature-256",
                Encoding::Hex,
                "sha256=",
                None,
            ),
            Some("stripe") => fixed(
                Service::Stripe,
                secret("webhook_secret")?,
                Alg::Sha256,
                "Stripe-Signature",
                Encoding::Hex,
                "",
                None,
            ),
            Some("slack") => fixed(
                Service::Slack,
                secret("signing_secret")?,
                Alg::Sha256,
                "X-Slack-Signature",
                Encoding::Hex,
                "v0=",
                Some("X-Slack-Request-Timestamp"),
            ),
            Some("shopify") => fixed(
                Service::Shopify,
                secret("webhook_secret")?,
                Alg::Sha256,
                "X-Shopify-Hmac-Sha256",
                Encoding::Base64,
                "",
                None,
            ),
            Some("twilio") => {
                // Twilio signs with the account's auth token.
                let key = match secret_field(doc, "webhook_secret") {
                    Ok(k) => k,
                    Err(CredentialError::Empty { .. }) => secret("auth_token")?,
                    Err(e) => return Err(e.into()),
                };
                fixed(
                    Service::Twilio,
                    key,
                    Alg::Sha1,
                    "X-Twilio-Signature",
                    Encoding::Base64,
                    "",
                    None,
                )
            }
            Some("webhook-hmac") => {
                let text = |f: &str| doc.get(f).map(str::trim).unwrap_or_default();
                let alg = match text("algorithm") {
                    "" | "sha256" => Alg::Sha256,
                    "sha512" => Alg::Sha512,
                    "sha1" => Alg::Sha1,
                    _ => return Err(invalid(doc, "algorithm", "must be sha256, sha512 or sha1")),
                };
                let encoding = match text("encoding") {
                    "" | "hex" => Encoding::Hex,
                    "base64" => Encoding::Base64,
                    _ => return Err(invalid(doc, "encoding", "must be hex or base64")),
                };
                let header = match text("signature_header") {
                    "" => "X-Signature",
                    h => h,
                };
                let ts = Some(text("timestamp_header")).filter(|h| !h.is_empty());
                for h in std::iter::once(header).chain(ts) {
                    if http::HeaderName::from_bytes(h.as_bytes()).is_err() {
                        return Err(invalid(doc, "signature_header", "is not a valid HTTP header name"));
                    }
                }
                fixed(
                    Service::Hmac,
                    secret("secret")?,
                    alg,
                    header,
                    encoding,
                    doc.get("signature_prefix").unwrap_or_default(),
                    ts,
                )
            }
            _ => {
                return Err(usage(format!(
                    "'{}' ({}) has no webhook signing scheme",
                    doc.meta.name, doc.meta.type_id
                ))
                .hint(format!(
                    "webhook secrets are kept by the connectors {} (`authcfg add connector webhook-hmac` for any other HMAC scheme)",
                    CONNECTORS.join(", ")
                )))
            }
        })
    }

    /// The signed parts of `req` at `timestamp` (for schemes that sign one).
    fn signed<'a>(
        &self,
        req: &'a Request,
        ts: Option<&'a str>,
    ) -> Result<Vec<SignedPart<'a>>, Rejected> {
        use SignedPart::{Bytes, Owned};
        Ok(match (self.service, ts) {
            (Service::Stripe, Some(t)) | (Service::Hmac, Some(t)) => {
                vec![Bytes(t.as_bytes()), Bytes(b"."), Bytes(&req.body)]
            }
            (Service::Slack, Some(t)) => {
                vec![
                    Bytes(b"v0:"),
                    Bytes(t.as_bytes()),
                    Bytes(b":"),
                    Bytes(&req.body),
                ]
            }
            (Service::Twilio, _) => {
                let url = req.url.as_deref().unwrap_or_default();
                let mut parts = vec![Bytes(url.as_bytes())];
                let body_hash = url::Url::parse(url).ok().and_then(|u| {
                    u.query_pairs()
                        .find(|(k, _)| k == "bodySHA256")
                        .map(|(_, v)| v.into_owned())
                });
                match body_hash {
                    // A JSON body: the URL is signed, and names the body's hash.
                    Some(h) => {
                        use sha2::Digest;
                        let actual = hex::encode(sha2::Sha256::digest(&req.body));
                        // Public values (the body and the URL): no need
                        // for a constant-time comparison.
                        if actual != h.to_ascii_lowercase() {
                            return Err(Rejected::BodyHash);
                        }
                    }
                    None => {
                        let mut params: Vec<(String, String)> =
                            url::form_urlencoded::parse(&req.body)
                                .into_owned()
                                .collect();
                        params.sort();
                        params.dedup();
                        for (k, v) in params {
                            parts.push(Owned(k.into_bytes()));
                            parts.push(Owned(v.into_bytes()));
                        }
                    }
                }
                parts
            }
            _ => vec![Bytes(&req.body)],
        })
    }

    /// Checks `req`'s signature, then its timestamp against `tolerance`
    /// seconds around `now` (Unix time).
    pub fn verify(&self, req: &Request, now: i64, tolerance: u64) -> Result<Verified, Rejected> {
        let value =
            one_header(req, &self.header)?.ok_or_else(|| Rejected::Missing(self.header.clone()))?;
        let (timestamp, signatures): (Option<String>, Vec<&str>) =
            match self.service {
                Service::Stripe => {
                    let mut t = None;
                    let mut v1 = vec![];
                    for item in value.split(',') {
                        match item.trim().split_once('=') {
                            Some(("t", v)) => t = Some(v.to_string()),
                            Some(("v1", v)) => v1.push(v),
                            _ => {}
                        }
                    }
                    let t = t.ok_or(Rejected::Malformed {
                        header: self.header.clone(),
                        why: "has no timestamp (t=)",
                    })?;
                    if v1.is_empty() {
                        return Err(Rejected::Malformed {
                            header: self.header.clone(),
                            why: "has no v1 signature",
                        });
                    }
                    (Some(t), v1)
                }
                _ => {
                    let sig = value.trim().strip_prefix(self.prefix.as_str()).ok_or(
                        Rejected::Malformed {
                            header: self.header.clone(),
                            why: "does not start with the scheme's prefix",
                        },
                    )?;
                    let t = match &self.timestamp_header {
                        Some(h) => Some(
                            one_header(req, h)?
                                .ok_or_else(|| Rejected::Missing(h.clone()))?
                                .trim()
                                .to_string(),
                        ),
                        None => None,
                    };
                    (t, vec![sig])
                }
            };
        let ts_value = match &timestamp {
            Some(t) => Some(t.parse::<i64>().map_err(|_| {
                Rejected::Malformed {
                    header: self
                        .timestamp_header
                        .clone()
                        .unwrap_or_else(|| self.header.clone()),
                    why: "holds a timestamp that is not a whole number of seconds",
                }
            })?),
            None => None,
        };
        let parts = self.signed(req, timestamp.as_deref())?;
        let good = signatures.iter().any(|s| match self.decode(s.trim()) {
            Some(bytes) => verify_mac(self.alg, self.secret.as_bytes(), &parts, &bytes),
            None => false,
        });
        if !good {
            return Err(Rejected::Mismatch(self.header.clone()));
        }
        if let Some(t) = ts_value {
            let age = now.saturating_sub(t);
            if age.unsigned_abs() > tolerance {
                return Err(Rejected::Stale { age, tolerance });
            }
        }
        Ok(Verified {
            service: self.service,
            header: self.header.clone(),
            timestamp: ts_value,
        })
    }

    /// The headers a request with `body` (and, for Twilio, `url`) gets from
    /// the service at `now`, for tests of a receiver.
    pub fn sign(
        &self,
        body: &[u8],
        url: Option<&str>,
        now: i64,
    ) -> Result<Vec<(String, String)>, UserError> {
        if self.service == Service::Twilio && url.is_none() {
            return Err(needs_url());
        }
        let req = Request {
            headers: vec![],
            body: body.to_vec(),
            url: url.map(Into::into),
        };
        let t = now.to_string();
        let ts = matches!(self.service, Service::Stripe | Service::Slack)
            || self.timestamp_header.is_some();
        let parts = self
            .signed(&req, ts.then_some(t.as_str()))
            .map_err(UserError::from)?;
        let mac = compute_mac(self.alg, self.secret.as_bytes(), &parts);
        let sig = match self.encoding {
            Encoding::Hex => hex::encode(mac),
            Encoding::Base64 => base64::engine::general_purpose::STANDARD.encode(mac),
        };
        let mut out = vec![];
        match self.service {
            Service::Stripe => out.push((self.header.clone(), format!("t={t},v1={sig}"))),
            _ => {
                if let Some(h) = &self.timestamp_header {
                    out.push((h.clone(), t.clone()));
                }
                out.push((self.header.clone(), format!("{}{sig}", self.prefix)));
            }
        }
        Ok(out)
    }

    /// Whether the scheme signs the URL (Twilio): `verify` needs it.
    pub fn needs_url(&self) -> bool {
        self.service == Service::Twilio
    }

    fn decode(&self, s: &str) -> Option<Vec<u8>> {
        match self.encoding {
            Encoding::Hex => hex::decode(s).ok(),
            Encoding::Base64 => base64::engine::general_purpose::STANDARD.decode(s).ok(),
        }
    }
}

pub fn needs_url() -> UserError {
    usage("Twilio signs the URL it called: give it with --url")
        .hint("the full URL as configured at Twilio, with its query string, e.g. --url 'https://example.com/sms?x=1'")
}

fn invalid(doc: &ConfigDoc, field: &'static str, why: &'static str) -> UserError {
    CredentialError::Invalid {
        config: doc.meta.name.clone(),
        field,
        why,
    }
    .into()
}

enum SignedPart<'a> {
    Bytes(&'a [u8]),
    Owned(Vec<u8>),
}

impl SignedPart<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            SignedPart::Bytes(b) => b,
            SignedPart::Owned(b) => b,
        }
    }
}

fn one_header<'a>(req: &'a Request, name: &str) -> Result<Option<&'a str>, Rejected> {
    let mut found = req
        .headers
        .iter()
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str());
    let first = found.next();
    if found.next().is_some() {
        return Err(Rejected::Repeated(name.to_string()));
    }
    Ok(first)
}

fn compute_mac(alg: Alg, key: &[u8], parts: &[SignedPart]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[SignedPart]) -> Vec<u8> {
        let mut m =
            <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
        for p in parts {
            m.update(p.bytes());
        }
        m.finalize().into_bytes().to_vec()
    }
    match alg {
        Alg::Sha1 => run::<Hmac<sha1::Sha1>>(key, parts),
        Alg::Sha256 => run::<Hmac<sha2::Sha256>>(key, parts),
        Alg::Sha512 => run::<Hmac<sha2::Sha512>>(key, parts),
    }
}

/// Constant time: `hmac`'s `verify_slice`.
fn verify_mac(alg: Alg, key: &[u8], parts: &[SignedPart], expected: &[u8]) -> bool {
    fn run<M: Mac + hmac::digest::KeyInit>(
        key: &[u8],
        parts: &[SignedPart],
        expected: &[u8],
    ) -> bool {
        let mut m =
            <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
        for p in parts {
            m.update(p.bytes());
        }
        m.verify_slice(expected).is_ok()
    }
    match alg {
        Alg::Sha1 => run::<Hmac<sha1::Sha1>>(key, parts, expected),
        Alg::Sha256 => run::<Hmac<sha2::Sha256>>(key, parts, expected),
        Alg::Sha512 => run::<Hmac<sha2::Sha512>>(key, parts, expected),
    }
}

/// A `--header 'NAME: VALUE'` argument.
pub fn parse_header_arg(arg: &str) -> Result<(String, String), UserError> {
    let (k, v) = arg.split_once(':').ok_or_else(|| {
        usage("a --header is NAME: VALUE").hint("e.g. --header 'X-Hub-Signature-256: sha256=...'")
    })?;
    let k = k.trim();
    if http::HeaderName::from_bytes(k.as_bytes()).is_err() {
        return Err(usage("a --header's name is not a valid HTTP header name"));
    }
    Ok((k.to_string(), v.trim().to_string()))
}

/// A raw HTTP/1.x request as received (`--raw`): request line, headers,
/// blank line, body (up to `Content-Length` when it is given). A chunked
/// body is refused: give the body as received after de-chunking, with
/// the headers as arguments.
pub fn parse_raw(input: &[u8]) -> Result<Request, UserError> {
    let mut headers = vec![httparse::EMPTY_HEADER; 128];
    let mut parsed = httparse::Request::new(&mut headers);
    let end = match parsed.parse(input) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return Err(usage(
                "the raw request ends before its blank line after the headers",
            ))
        }
        Err(e) => return Err(usage(format!("the raw request is not HTTP/1.x: {e}"))),
    };
    let mut out = Request::default();
    for h in parsed.headers.iter() {
        let value = std::str::from_utf8(h.value)
            .map_err(|_| usage(format!("the raw request's {} header is not UTF-8", h.name)))?;
        out.headers.push((h.name.to_string(), value.to_string()));
    }
    let body = &input[end..];
    if out.headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && !v.trim().eq_ignore_ascii_case("identity")
    }) {
        return Err(
            usage("the raw request's body is chunked (Transfer-Encoding)")
                .hint("give the decoded body on stdin and the headers with --header"),
        );
    }
    let len = match one_header(&out, "content-length").map_err(UserError::from)? {
        Some(v) => Some(
            v.trim()
                .parse::<usize>()
                .map_err(|_| usage("the raw request's Content-Length is not a number"))?,
        ),
        None => None,
    };
    out.body = match len {
        Some(n) if n > body.len() => {
            return Err(usage(format!(
                "the raw request's body has {} bytes, fewer than its Content-Length ({n})",
                body.len()
            )))
        }
        // More than the request says is not the request: a body whose
        // signed part is followed by other bytes is refused, not cut
        // (red team 3, W2); a final line break a file adds is allowed.
        Some(n) if !matches!(&body[n..], b"" | b"\n" | b"\r\n") => {
            return Err(usage(format!(
                "the raw request has {} bytes after its Content-Length ({n})",
                body.len() - n
            ))
            .hint("give the request exactly as it was received"))
        }
        Some(n) => body[..n].to_vec(),
        None => body.to_vec(),
    };
    Ok(out)
}

/// Reads `name` for a webhook use (`action`: `webhook-verify`,
/// `webhook-sign`) and records it: the audit trail, and the usage log with
/// the consumer `webhook:verify`/`webhook:sign` when no label, CI job or
/// project names one.
fn scheme_for_use(s: &super::Session, name: &str, action: &str) -> anyhow::Result<Scheme> {
    use crate::store::usage::{Consumer, ConsumerKind};
    let mut used = super::handout::read_for_use(s, &[name.to_string()], action)?;
    let scheme = Scheme::of(&used.docs[0])?;
    let c = super::handout::consumer(s.settings, None, &[name]);
    used.consumer = Some(if c.kind == ConsumerKind::Direct {
        Consumer::label(&action.replacen('-', ":", 1))
    } else {
        c
    });
    used.record(s)?;
    Ok(scheme)
}

/// `authcfg webhook verify`: checks `req` with `name`'s scheme.
pub fn verify(
    s: &super::Session,
    name: &str,
    req: &Request,
    now: i64,
    tolerance: u64,
) -> anyhow::Result<Verified> {
    let scheme = scheme_for_use(s, name, "webhook-verify")?;
    if scheme.needs_url() && req.url.is_none() {
        return Err(needs_url().into());
    }
    Ok(scheme
        .verify(req, now, tolerance)
        .map_err(UserError::from)?)
}

/// `authcfg webhook sign`: the headers `name`'s service would send.
pub fn sign(
    s: &super::Session,
    name: &str,
    body: &[u8],
    url: Option<&str>,
    now: i64,
) -> anyhow::Result<Vec<(String, String)>> {
    let scheme = scheme_for_use(s, name, "webhook-sign")?;
    Ok(scheme.sign(body, url, now)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn doc(ty: &str, fields: &[(&str, &str)]) -> ConfigDoc {
        let mut d = ConfigDoc::new("hook", Kind::Connector, ty);
        for (k, v) in fields {
            d.fields.insert(k.to_string(), Secret::new(v.to_string()));
        }
        d
    }

    fn req(headers: &[(&str, &str)], body: &str) -> Request {
        Request {
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
            url: None,
        }
    }

    /// GitHub's published example (docs.github.com, "Validating webhook
    /// deliveries").
    #[test]
    fn github_test_vector() {
        let s = Scheme::of(&doc(
            "github",
            &[("webhook_secret", "It's a Secret to Everybody")],
        ))
        .unwrap();
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        let r = req(&[("x-hub-signature-256", sig)], "Hello, World!");
        assert!(s.verify(&r, 0, 300).is_ok());
        assert_eq!(
            s.sign(b"Hello, World!", None, 0).unwrap(),
            vec![("X-Hub-Signature-256".to_string(), sig.to_string())]
        );
        let r = req(&[("X-Hub-Signature-256", sig)], "Hello, World?");
        assert_eq!(
            s.verify(&r, 0, 300).unwrap_err(),
            Rejected::Mismatch("X-Hub-Signature-256".into())
        );
    }

    /// Slack's documented example ("Verifying requests from Slack").
    #[test]
    fn slack_documented_example() {
        let s = Scheme::of(&doc(
            "slack",
            &[("signing_secret", "8f742231b10e8888abcd99yyyzzz85a5")],
        ))
        .unwrap();
        let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let r = req(
            &[
                ("X-Slack-Request-Timestamp", "1531420618"),
                (
                    "X-Slack-Signature",
                    "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
                ),
            ],
            body,
        );
        assert!(s.verify(&r, 1531420618 + 10, 300).is_ok());
        assert!(matches!(
            s.verify(&r, 1531420618 + 301, 300),
            Err(Rejected::Stale { age: 301, .. })
        ));
    }

    #[test]
    fn stripe_accepts_any_v1_and_refuses_old() {
        let s = Scheme::of(&doc("stripe", &[("webhook_secret", "whsec_test")])).unwrap();
        let h = s.sign(b"{}", None, 1000).unwrap();
        let (name, value) = &h[0];
        let r = req(&[(name, &format!("{value},v1=00,v0=ff"))], "{}");
        assert!(s.verify(&r, 1000, 300).is_ok());
        let r2 = req(&[(name, &format!("v1=00,{value}"))], "{}");
        assert!(s.verify(&r2, 1200, 300).is_ok());
        assert!(matches!(
            s.verify(&r, 1301, 300),
            Err(Rejected::Stale { .. })
        ));
        let r = req(&[(name, "t=1000,v1=00")], "{}");
        assert!(matches!(
            s.verify(&r, 1000, 300),
            Err(Rejected::Mismatch(_))
        ));
    }

    #[test]
    fn twilio_signs_url_and_sorted_params() {
        let d = doc("twilio", &[("account_sid", "AC1"), ("auth_token", "12345")]);
        let s = Scheme::of(&d).unwrap();
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let body = "Digits=1234&To=%2B18005551212&From=%2B14158675310&Caller=%2B14158675310&CallSid=CA1234567890ABCDE";
        // Twilio's documented example: signature of this URL and these
        // parameters with the auth token 12345.
        let mut r = req(
            &[("X-Twilio-Signature", "GvWf1cFY/Q7PnoempGyD5oXAezc=")],
            body,
        );
        r.url = Some(url.into());
        assert!(
            s.verify(&r, 0, 300).is_ok(),
            "{:?}",
            s.sign(body.as_bytes(), Some(url), 0)
        );
        r.body = b"Digits=1235".to_vec();
        assert!(s.verify(&r, 0, 300).is_err());
    }

    #[test]
    fn raw_requests_parse() {
        let raw = b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello\n";
        let r = parse_raw(raw).unwrap();
        assert_eq!(r.body, b"hello");
        assert_eq!(one_header(&r, "x-a").unwrap(), Some("b"));
        assert!(parse_raw(b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nshort").is_err());
        // Bytes after the body are not part of what was signed: refused.
        assert!(
            parse_raw(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello{\"evil\":true}").is_err()
        );
        assert!(parse_raw(b"POST / HTTP/1.1\r\nX: y\r\n").is_err());
    }
}
