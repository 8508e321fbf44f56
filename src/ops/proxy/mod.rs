//! `authcfg exec --placeholders`: the child gets placeholders instead of
//! secrets, and a proxy on 127.0.0.1 that authcfg runs for the child's
//! lifetime puts the real values back, only in requests to the origins the
//! configs allow (docs/SECURITY.md, "Placeholders and the exec proxy";
//! docs/ARCHITECTURE.md, "The exec proxy").
//!
//! - Which variables leave, and which of them are secret: `export::vars_for`
//!   (so `handout::may_leave`), decided before this module is asked.
//! - Where a placeholder may go: `ops::http::check_origin` over the config's
//!   `allowed_origins`, and `net::policy::check_parsed` (https, or http on
//!   loopback), the rules `authcfg http` follows.
//! - Where a placeholder is found: a `Redactor` whose secrets are the
//!   placeholders, so every form it decodes (base64 of a Basic header,
//!   percent-encoding, JSON escapes) is found in the request line, the
//!   headers and the body.
//! - What comes back: the real values are redacted from the answers of the
//!   requests they went into (`Redactor::stream`).
//!
//! Nothing here prints: refusals and the origins reached are `Event`s the
//! caller records (audit trail, usage log) and reports.

pub mod ca;
mod serve;

use super::http::{allowed_origins, check_origin, OriginRule};
use super::redact::Redactor;
use crate::error::{usage, UserError};
use crate::export::Var;
use crate::model::ConfigDoc;
use crate::secret::Secret;
use crate::store::names::env_stem;
use std::sync::Arc;

/// Prefixes programs check a key's shape by; a placeholder keeps the one
/// its value starts with (longest first).
const KNOWN_PREFIXES: &[&str] = &[
    "github_pat_",
    "sk_live_",
    "sk_test_",
    "rk_live_",
    "rk_test_",
    "pk_live_",
    "pk_test_",
    "sk-proj-",
    "sk-ant-",
    "glpat-",
    "xoxb-",
    "xoxp-",
    "ghp_",
    "gho_",
    "ghs_",
    "ghu_",
    "ghr_",
    "npm_",
    "sk-",
];

/// The label a placeholder is found by in the detector.
fn label(i: usize) -> String {
    format!("ph#{i}")
}

/// One placeholder: what stands for `config`'s `field` in the child.
pub struct Placeholder {
    pub config: String,
    pub field: String,
    pub value: String,
    real: Secret,
    doc: usize,
}

/// The placeholders of one run and what the proxy needs to decide for them.
pub struct Placeholders {
    items: Vec<Placeholder>,
    docs: Vec<(ConfigDoc, Vec<OriginRule>)>,
    /// Finds placeholders, in any form (labels `ph#i`).
    detector: Redactor,
    /// The real values of every config handed out (the answers' redactor).
    redactor: Arc<Redactor>,
}

impl std::fmt::Debug for Placeholders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Placeholders({})", self.items.len())
    }
}

fn random_tail() -> String {
    use rand::Rng;
    const ABC: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..24)
        .map(|_| ABC[rng.random_range(0..ABC.len())] as char)
        .collect()
}

/// `authcfg-ph-<config>-<field>-<random>`, after the known prefix the real
/// value starts with, if any. Config and field names are kept to letters,
/// digits and `_` (`env_stem`, lower-cased), so a placeholder needs no
/// escaping in a URL, a header, JSON or a form.
fn placeholder_for(config: &str, field: &str, real: &str) -> String {
    let prefix = KNOWN_PREFIXES
        .iter()
        .find(|p| real.starts_with(*p) && real.len() > p.len())
        .copied()
        .unwrap_or("");
    format!(
        "{prefix}authcfg-ph-{}-{}-{}",
        env_stem(config).to_ascii_lowercase(),
        env_stem(field).to_ascii_lowercase(),
        random_tail()
    )
}

/// Turns the variables `exec` would hand out into the child's: every
/// secret variable's real values replaced by placeholders. `docs` are the
/// configs the variables came from. A secret variable that still holds a
/// real value in some form afterwards (a template that encoded it) is
/// refused rather than handed out.
pub fn prepare(docs: &[ConfigDoc], vars: Vec<Var>) -> Result<(Vec<Var>, Placeholders), UserError> {
    let mut items: Vec<Placeholder> = vec![];
    let mut kept: Vec<(ConfigDoc, Vec<OriginRule>)> = vec![];
    let mut redactor = Redactor::new();
    for d in docs {
        redactor.add_doc(d);
    }
    let mut out = Vec::with_capacity(vars.len());
    for mut v in vars {
        if !v.secret {
            out.push(v);
            continue;
        }
        let Some(d) = docs.iter().find(|d| d.meta.name == v.config) else {
            out.push(v);
            continue;
        };
        let doc_at = match kept.iter().position(|(k, _)| k.meta.name == d.meta.name) {
            Some(i) => i,
            None => {
                kept.push((d.clone(), allowed_origins(d)?));
                kept.len() - 1
            }
        };
        // The config's secret fields whose values the variable holds
        // (the catalog says which are secret; unknown fields count as
        // secret), replaced in one pass, longest first, so that a value
        // inside another, or inside a placeholder, is never replaced.
        let mut fields: Vec<(&String, &Secret)> = d
            .fields
            .iter()
            .filter(|(f, s)| {
                s.expose().len() >= super::redact::MIN_LEN
                    && crate::catalog::is_secret(d.meta.kind, &d.meta.type_id, f)
                    && v.value.expose().contains(s.expose())
            })
            .collect();
        fields.sort_by_key(|(_, s)| std::cmp::Reverse(s.expose().len()));
        let mut with = Vec::with_capacity(fields.len());
        for (field, real) in &fields {
            let ph = match items
                .iter()
                .find(|p| p.config == d.meta.name && &p.field == *field)
            {
                Some(p) => p.value.clone(),
                None => {
                    let p = Placeholder {
                        config: d.meta.name.clone(),
                        field: (*field).clone(),
                        value: placeholder_for(&d.meta.name, field, real.expose()),
                        real: (*real).clone(),
                        doc: doc_at,
                    };
                    let ph = p.value.clone();
                    items.push(p);
                    ph
                }
            };
            with.push(ph);
        }
        let value = if fields.is_empty() {
            v.value.expose().to_string()
        } else {
            aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                .build(fields.iter().map(|(_, s)| s.expose()))
                .expect("literal patterns build")
                .replace_all(v.value.expose(), &with)
        };
        if redactor.finds(value.as_bytes()) {
            return Err(usage(format!(
                "the variable {} of '{}' holds a secret in a form a placeholder cannot stand in for",
                v.name, v.config
            ))
            .hint("run without --placeholders, or hand the field out on its own (a project file's reference)"));
        }
        v.value = Secret::new(value);
        out.push(v);
    }
    let mut detector = Redactor::new();
    for (i, p) in items.iter().enumerate() {
        detector.add_labelled(&p.value, &label(i));
    }
    detector.prepare();
    redactor.prepare();
    Ok((
        out,
        Placeholders {
            items,
            docs: kept,
            detector,
            redactor: Arc::new(redactor),
        },
    ))
}

impl Placeholders {
    pub fn items(&self) -> &[Placeholder] {
        &self.items
    }

    /// The placeholders `bytes` hold, in any form, by index.
    /// Whether `bytes` hold a real value of a config handed out (in any
    /// form the redactor knows): the child should never have one.
    fn real_found(&self, bytes: &[u8]) -> bool {
        !self.redactor.labels_in(bytes).is_empty()
    }

    /// Whether a header name (lower case) holds a real value.
    fn name_leaks(&self, name: &str) -> bool {
        self.real_found(name.as_bytes())
            || self.items.iter().any(|p| {
                let r = p.real.expose();
                r.len() >= crate::redact::MIN_LEN && name.contains(&r.to_ascii_lowercase())
            })
    }

    fn found(&self, bytes: &[u8]) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .detector
            .labels_in(bytes)
            .into_iter()
            .filter_map(|l| l.strip_prefix("ph#")?.parse().ok())
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Whether `url`'s origin is allowed for placeholder `i` (its config's
    /// allowed origins and the URL policy): the message says why not.
    fn allowed(&self, i: usize, url: &url::Url) -> Result<(), String> {
        let (doc, rules) = &self.docs[self.items[i].doc];
        crate::net::policy::check_parsed(url).map_err(|r| format!("not sent: {r}"))?;
        check_origin(doc, url, rules).map_err(|e| e.message)
    }

    /// Whether any config allows `url`'s origin.
    fn any_allows(&self, url: &url::Url) -> bool {
        self.docs
            .iter()
            .any(|(d, rules)| check_origin(d, url, rules).is_ok())
    }

    /// The trust for a request without placeholders: the CA file of a
    /// config that allows the origin, if any (no client certificate: that
    /// is a credential too), else the system store.
    fn trust_for(&self, url: &url::Url) -> crate::net::TlsOptions {
        let ca = self
            .docs
            .iter()
            .find(|(d, rules)| check_origin(d, url, rules).is_ok())
            .and_then(|(d, _)| d.get("tls_ca"));
        crate::net::TlsOptions::from_fields(ca, None, None)
    }

    fn tls_of(&self, i: usize) -> crate::net::TlsOptions {
        let d = &self.docs[self.items[i].doc].0;
        crate::net::TlsOptions::from_fields(d.get("tls_ca"), d.get("tls_cert"), d.get("tls_key"))
    }
}

/// What the proxy did that the caller records and reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A request was not sent: placeholders of `configs` (empty: none
    /// recognised, as for a compressed body) to `origin`.
    Refused {
        configs: Vec<String>,
        method: String,
        origin: String,
        why: String,
    },
    /// Real values of `config` went to `origin`.
    Reached { config: String, origin: String },
}

/// How the proxy treats destinations that get no placeholder.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Refuse every request to an origin no config allows.
    pub deny_other: bool,
}

/// Where the proxy tells what it did (called on the proxy's threads).
pub type Notify = Box<dyn Fn(Event) + Send + Sync>;

/// A running proxy: its address and the CA the child must trust.
pub struct Proxy {
    pub addr: std::net::SocketAddr,
    ca_pem: String,
    /// The run's proxy credential (in the proxy URL the child is given).
    token: zeroize::Zeroizing<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Proxy {
    /// Starts the proxy on 127.0.0.1 (a free port) on the command's
    /// runtime. The CA's key is made now and kept only in memory.
    pub fn start(ph: Placeholders, opts: Options, notify: Notify) -> anyhow::Result<Proxy> {
        let ca = ca::Ca::new()?;
        let ca_pem = ca.pem().to_string();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let listener = crate::net::runtime::block_on(tokio::net::TcpListener::bind(
            std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        ))?;
        let addr = listener.local_addr()?;
        // Who may use the proxy: whoever holds this run's token, which only
        // the child's environment carries (another local user can connect
        // to 127.0.0.1, and can read a placeholder off a command line:
        // red team 3, P3).
        let token = random_tail();
        let shared = Arc::new(serve::Shared {
            ph,
            ca,
            opts,
            notify,
            pool: Default::default(),
            me: addr,
            auth: format!(
                "Basic {}",
                base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    format!("authcfg:{token}")
                )
            ),
        });
        crate::net::runtime::runtime().spawn(serve::run(listener, shared, stop_rx));
        Ok(Proxy {
            addr,
            ca_pem,
            token: zeroize::Zeroizing::new(token),
            stop: Some(stop_tx),
        })
    }

    /// The per-run CA certificate (PEM): public, for the child's trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The variables that send the child's requests through the proxy and
    /// make it trust the per-run CA (its file: `ca_file`).
    pub fn child_env(&self, ca_file: &std::path::Path) -> Vec<(&'static str, String)> {
        let url = format!("http://authcfg:{}@{}", self.token.as_str(), self.addr);
        let ca = ca_file.display().to_string();
        let mut v: Vec<(&'static str, String)> =
            PROXY_VARS.iter().map(|k| (*k, url.clone())).collect();
        v.extend(CA_VARS.iter().map(|k| (*k, ca.clone())));
        v
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Proxy variables, both cases (curl reads only the lower-case
/// `http_proxy`).
pub const PROXY_VARS: &[&str] = &[
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
];

/// Removed from the child's environment: an entry there (`localhost`,
/// `127.0.0.1`) would send the child straight to a loopback origin,
/// around the proxy.
pub const NO_PROXY_VARS: &[&str] = &["no_proxy", "NO_PROXY"];

/// The trust settings of the clients tested (OpenSSL, Python requests,
/// curl, Node, git).
pub const CA_VARS: &[&str] = &[
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "GIT_SSL_CAINFO",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    fn doc(name: &str, fields: &[(&str, &str)]) -> ConfigDoc {
        let mut d = ConfigDoc::new(name, Kind::Custom, "api_key");
        for (k, v) in fields {
            d.fields.insert(k.to_string(), Secret::new(v.to_string()));
        }
        d
    }

    #[test]
    fn placeholders_keep_known_prefixes_and_stand_for_the_value() {
        let d = doc(
            "svc/pay",
            &[
                ("api_key", "sk_live_Real0Value1234"),
                ("test_url", "https://api.example.com/v1"),
            ],
        );
        let vars = crate::export::vars_for(&d);
        let (out, ph) = prepare(std::slice::from_ref(&d), vars).unwrap();
        let key = out.iter().find(|v| v.secret).unwrap();
        let p = key.value.expose();
        assert!(p.starts_with("sk_live_authcfg-ph-svc_pay-api_key-"), "{p}");
        assert!(!p.contains("Real0Value"));
        assert_eq!(ph.items().len(), 1);
        // Found in its forms; allowed only at the config's origin.
        use base64::Engine;
        let b = base64::engine::general_purpose::STANDARD.encode(format!("u:{p}"));
        assert_eq!(ph.found(format!("Basic {b}").as_bytes()), vec![0]);
        assert!(ph
            .allowed(0, &url::Url::parse("https://api.example.com/x").unwrap())
            .is_ok());
        assert!(ph
            .allowed(0, &url::Url::parse("https://evil.example.net/x").unwrap())
            .is_err());
        // Two runs never share a placeholder.
        let (out2, _) = prepare(std::slice::from_ref(&d), crate::export::vars_for(&d)).unwrap();
        assert_ne!(out2.iter().find(|v| v.secret).unwrap().value.expose(), p);
    }
}
