//! The native connector catalog (`catalog/connectors.toml`): each connector's
//! form (fields from a shared template plus its own), its probe and the
//! environment variables it exports.

use super::kind::{HttpAuth, ProbeKind};
use crate::catalog::FieldSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpCheck {
    /// URL template.
    pub url: String,
    pub auth: HttpAuth,
    /// Basic: user and password templates.
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default, rename = "pass")]
    pub password: Option<String>,
    /// Bearer/header/query: the field holding the secret.
    #[serde(default)]
    pub secret: Option<String>,
    /// Header or query parameter name.
    #[serde(default)]
    pub header: Option<String>,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Connector {
    pub id: String,
    pub title: String,
    pub family: String,
    pub template: String,
    /// Checked against the known kinds when build.rs compiles the catalog.
    pub probe: ProbeKind,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// An AWS service: programs get STS session credentials, never the
    /// long-lived keys (`ops::aws`, docs/ARCHITECTURE.md, "AWS sessions").
    #[serde(default)]
    pub sts: bool,
    #[serde(default)]
    pub defaults: BTreeMap<String, String>,
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
    #[serde(default)]
    pub http: Option<HttpCheck>,
    pub env: BTreeMap<String, String>,
    /// The resolved form: template fields, own fields, defaults applied
    /// (by build.rs).
    pub form: Vec<FieldSpec>,
}

mod compiled {
    include!(concat!(env!("OUT_DIR"), "/connectors.rs"));
}

fn parse(json: &str) -> Connector {
    serde_json::from_str(json).expect("catalog/connectors.toml is checked by the catalog tests")
}

/// How many connectors the catalog has (no parsing: `--help` says it).
pub fn count() -> usize {
    compiled::CONNECTORS.len()
}

pub fn all() -> &'static [Connector] {
    static C: OnceLock<Vec<Connector>> = OnceLock::new();
    C.get_or_init(|| {
        compiled::CONNECTORS
            .iter()
            .map(|(_, _, json)| parse(json))
            .collect()
    })
}

/// By id or alias. Parses only that connector's entry (the hot path).
pub fn find(name: &str) -> Option<&'static Connector> {
    static ONE: OnceLock<std::sync::Mutex<BTreeMap<&'static str, &'static Connector>>> =
        OnceLock::new();
    let n = name.to_ascii_lowercase();
    let (id, _, json) = compiled::CONNECTORS
        .iter()
        .find(|(id, aliases, _)| *id == n || aliases.contains(&n.as_str()))?;
    let mut cache = ONE.get_or_init(Default::default).lock().ok()?;
    Some(
        *cache
            .entry(id)
            .or_insert_with(|| Box::leak(Box::new(parse(json)))),
    )
}

/// Defaults that depend on the host, for a new config: a database on a
/// loopback host (a local development server) defaults to sslmode=prefer,
/// so a server without TLS stays usable; any other host keeps the
/// catalog's verify-full. Fields the user gave are left alone.
pub fn host_defaults(connector: &Connector, values: &mut BTreeMap<String, crate::secret::Secret>) {
    let has = |f: &str| connector.form.iter().any(|s| s.name == f);
    if !has("sslmode") || values.contains_key("sslmode") {
        return;
    }
    let host = values
        .get("host")
        .map(|h| h.expose().to_string())
        .or_else(|| {
            connector
                .form
                .iter()
                .find(|f| f.name == "host")
                .and_then(|f| f.default.clone())
        })
        .unwrap_or_default();
    if crate::net::is_loopback_host(&host) {
        values.insert("sslmode".into(), crate::secret::Secret::new("prefer"));
    }
}

/// Field names a template refers to.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut out = vec![];
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let spec = &rest[start + 1..start + end];
        out.push(spec.split('|').next().unwrap_or("").to_string());
        rest = &rest[start + end + 1..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn catalog_is_consistent() {
        let all = all();
        assert!(
            all.len() >= 100,
            "at least 100 connectors, got {}",
            all.len()
        );
        let mut names = HashSet::new();
        for c in all {
            for n in std::iter::once(&c.id).chain(&c.aliases) {
                assert!(names.insert(n.clone()), "duplicate connector name {n}");
            }
            assert!(
                ["database", "message_broker", "file_storage", "enterprise"]
                    .contains(&c.family.as_str()),
                "{}",
                c.id
            );
            let mut fields = HashSet::new();
            for f in &c.form {
                assert!(
                    fields.insert(f.name.clone()),
                    "{}: duplicate field {}",
                    c.id,
                    f.name
                );
                if let Some(d) = &f.default {
                    f.validate(d).unwrap_or_else(|e| {
                        panic!("{}: default of {}: {}", c.id, f.name, e.message)
                    });
                }
            }
            for d in c.defaults.keys() {
                assert!(
                    fields.contains(d),
                    "{}: default for unknown field {d}",
                    c.id
                );
            }
            for (var, template) in &c.env {
                assert!(
                    crate::env_names::is_env_name(var)
                        && var.chars().all(|ch| !ch.is_ascii_lowercase()),
                    "{}: env name {var}",
                    c.id
                );
                for p in placeholders(template) {
                    assert!(
                        fields.contains(&p),
                        "{}: env {var} uses unknown field {p}",
                        c.id
                    );
                }
            }
            if c.probe == ProbeKind::Http {
                let h = c
                    .http
                    .as_ref()
                    .unwrap_or_else(|| panic!("{}: http probe without http check", c.id));
                for t in [Some(&h.url), h.user.as_ref(), h.password.as_ref()]
                    .into_iter()
                    .flatten()
                {
                    for p in placeholders(t) {
                        assert!(fields.contains(&p), "{}: http uses unknown field {p}", c.id);
                    }
                }
                if let Some(s) = &h.secret {
                    assert!(fields.contains(s), "{}: http secret field {s}", c.id);
                }
            }
            assert!(
                c.form.iter().all(|f| !f.secret || f.name != "host"),
                "{}",
                c.id
            );
        }
        let pg = find("postgresql").unwrap();
        let port = pg.form.iter().find(|f| f.name == "port").unwrap();
        assert_eq!(port.default.as_deref(), Some("5432"));
        let ssl = pg.form.iter().find(|f| f.name == "sslmode").unwrap();
        assert_eq!(
            ssl.allowed,
            ["disable", "prefer", "require", "verify-ca", "verify-full"]
        );
        assert_eq!(ssl.default.as_deref(), Some("verify-full"));
        for f in ["sslrootcert", "sslcert", "sslkey", "require_auth"] {
            assert!(pg.form.iter().any(|x| x.name == f), "postgres: {f}");
        }
        // Every TLS-capable template takes a CA file and a client certificate.
        for id in [
            "mysql",
            "redis",
            "rabbitmq",
            "mosquitto",
            "nats",
            "kafka",
            "elasticsearch",
        ] {
            let c = find(id).unwrap();
            for f in ["tls_ca", "tls_cert", "tls_key"] {
                assert!(c.form.iter().any(|x| x.name == f), "{id}: {f}");
            }
        }
        assert!(find("sftp")
            .unwrap()
            .form
            .iter()
            .any(|x| x.name == "host_key"));
        let kafka = find("kafka").unwrap();
        let proto = kafka
            .form
            .iter()
            .find(|f| f.name == "security_protocol")
            .unwrap();
        assert_eq!(
            proto.allowed,
            ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
        );
        let mech = kafka
            .form
            .iter()
            .find(|f| f.name == "sasl_mechanism")
            .unwrap();
        assert_eq!(mech.allowed, ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]);
        let s3 = find("s3").unwrap();
        let names: Vec<&str> = s3.form.iter().map(|f| f.name.as_str()).collect();
        assert!(names.starts_with(&["access_key_id", "secret_access_key", "region", "bucket"]));
    }
}
