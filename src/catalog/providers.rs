//! The OAuth2 provider catalog (`catalog/providers.toml`).

use crate::catalog::FieldSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    pub name: String,
    #[serde(default)]
    pub default: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub allowed: Vec<String>,
    /// A valid value for catalog checks and help text.
    #[serde(default)]
    pub example: Option<String>,
    #[serde(default)]
    pub help: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provider {
    pub id: String,
    pub title: String,
    pub authorization_url: String,
    pub token_url: String,
    #[serde(default)]
    pub device_url: Option<String>,
    #[serde(default)]
    pub revocation_url: Option<String>,
    #[serde(default)]
    pub userinfo_url: Option<String>,
    #[serde(default)]
    pub introspection_url: Option<String>,
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default = "yes")]
    pub pkce: bool,
    pub auth_method: String,
    #[serde(default)]
    pub extra_params: BTreeMap<String, String>,
    #[serde(default)]
    pub params: Vec<Param>,
    /// Origins of the provider's APIs (`{param}` filled from the config):
    /// where `authcfg http` and the MCP server send its access token by
    /// default (a config's `allowed_origins` replaces them).
    #[serde(default)]
    pub api_origins: Vec<String>,
    /// Where to register an OAuth client for this provider.
    #[serde(default)]
    pub console: Option<String>,
    /// How many days a refresh token lasts after it is issued, where the
    /// provider documents it; a config's `refresh_token_days` overrides it.
    #[serde(default)]
    pub refresh_token_days: Option<u32>,
    /// The git host (URL template) whose HTTPS remotes take this provider's tokens
    /// (`authcfg git setup NAME` with no HOST), and the user name to send.
    #[serde(default)]
    pub git_url: Option<String>,
    #[serde(default)]
    pub git_username: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct File {
    fields: Vec<FieldSpec>,
    providers: Vec<Provider>,
}

fn file() -> &'static File {
    static F: OnceLock<File> = OnceLock::new();
    F.get_or_init(|| {
        serde_json::from_str(include_str!(concat!(env!("OUT_DIR"), "/providers.json")))
            .expect("catalog/providers.toml is checked by the catalog tests")
    })
}

pub fn all() -> &'static [Provider] {
    &file().providers
}

/// Fields every OAuth2 config stores.
pub fn fields() -> &'static [FieldSpec] {
    &file().fields
}

pub fn find(id: &str) -> Option<&'static Provider> {
    all().iter().find(|p| p.id == id)
}

/// Fills `{param}` placeholders. Unknown or missing values are errors naming
/// the parameter.
pub fn fill(template: &str, values: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .ok_or_else(|| format!("unclosed '{{' in {template}"))?;
        let key = &rest[start + 1..start + end];
        let value = values
            .get(key)
            .ok_or_else(|| format!("missing parameter '{key}'"))?;
        out.push_str(value.trim_end_matches('/'));
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_provider_is_well_formed() {
        assert!(all().len() >= 20, "at least 20 providers");
        let mut ids = HashSet::new();
        for p in all() {
            assert!(ids.insert(&p.id), "duplicate provider {}", p.id);
            assert!(
                ["client_secret_basic", "client_secret_post", "none"]
                    .contains(&p.auth_method.as_str()),
                "{}: auth_method",
                p.id
            );
            let mut values = BTreeMap::new();
            for param in &p.params {
                let v = param
                    .default
                    .clone()
                    .or(param.example.clone())
                    .unwrap_or_else(|| {
                        panic!(
                            "{}: param {} needs a default or an example",
                            p.id, param.name
                        )
                    });
                if !param.allowed.is_empty() {
                    assert!(
                        param.allowed.contains(&v),
                        "{}: default of {} not allowed",
                        p.id,
                        param.name
                    );
                }
                values.insert(param.name.clone(), v);
            }
            let urls = [
                Some(&p.authorization_url),
                Some(&p.token_url),
                p.device_url.as_ref(),
                p.revocation_url.as_ref(),
                p.userinfo_url.as_ref(),
                p.introspection_url.as_ref(),
                p.issuer.as_ref(),
                p.console.as_ref(),
            ];
            for u in urls.into_iter().flatten() {
                let filled = fill(u, &values).unwrap_or_else(|e| panic!("{}: {u}: {e}", p.id));
                let parsed =
                    url::Url::parse(&filled).unwrap_or_else(|e| panic!("{}: {filled}: {e}", p.id));
                assert_eq!(parsed.scheme(), "https", "{}: {filled}", p.id);
                assert!(
                    parsed.host_str().is_some_and(|h| h.contains('.')),
                    "{}: {filled}",
                    p.id
                );
            }
        }
        let google = find("google").unwrap();
        assert_eq!(
            google.extra_params.get("access_type").map(String::as_str),
            Some("offline")
        );
        let ms = find("microsoft").unwrap();
        assert_eq!(ms.params[0].name, "tenant");
    }
}
