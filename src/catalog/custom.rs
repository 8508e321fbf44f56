//! The custom auth types (`catalog/custom.toml`).

use super::FieldSpec;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomType {
    /// CLI name: `authcfg add custom <id>`.
    pub id: String,
    /// The seed document's JSON `type`.
    pub seed: String,
    pub title: String,
    pub about: String,
    /// Fields are any environment-variable names the user sets.
    #[serde(default)]
    pub free_form: bool,
    #[serde(default)]
    pub fields: Vec<FieldSpec>,
}

#[derive(Deserialize)]
struct File {
    types: Vec<CustomType>,
}

pub fn all() -> &'static [CustomType] {
    static TYPES: OnceLock<Vec<CustomType>> = OnceLock::new();
    TYPES.get_or_init(|| {
        serde_json::from_str::<File>(include_str!(concat!(env!("OUT_DIR"), "/custom.json")))
            .expect("catalog/custom.toml is checked by the catalog tests")
            .types
    })
}

/// By CLI id or seed type (`api-key` or `api_key`).
pub fn find(name: &str) -> Option<&'static CustomType> {
    all().iter().find(|t| t.id == name || t.seed == name)
}

/// A custom type as the code knows it: parsed once from the type id a
/// config holds (the seed's name, or the CLI id accepted as an alias:
/// `basic_auth` or `basic`), so that no caller compares type strings
/// (docs/ARCHITECTURE.md, "Credential model").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// `no_auth` (`none`).
    None,
    /// `api_key` (`api-key`).
    ApiKey,
    /// `bearer_token` (`bearer`).
    Bearer,
    /// `basic_auth` (`basic`).
    Basic,
    /// `oauth2`: the manual OAuth 2.0 type.
    OAuth2,
    /// `env_vars` (`env`): free-form variables, no request credential.
    Env,
    /// `totp`: a one-time-password seed (`crate::otp`), no request credential.
    Totp,
}

impl Auth {
    /// The custom type of a config's type id, by seed name or CLI id.
    pub fn parse(type_id: &str) -> Option<Auth> {
        find(type_id).and_then(CustomType::auth)
    }

    /// The seed's name of the type (what new configs store).
    pub fn seed(self) -> &'static str {
        match self {
            Auth::None => "no_auth",
            Auth::ApiKey => "api_key",
            Auth::Bearer => "bearer_token",
            Auth::Basic => "basic_auth",
            Auth::OAuth2 => "oauth2",
            Auth::Env => "env_vars",
            Auth::Totp => "totp",
        }
    }
}

impl CustomType {
    /// The one place a catalog entry's seed name becomes the enum.
    pub fn auth(&self) -> Option<Auth> {
        [
            Auth::None,
            Auth::ApiKey,
            Auth::Bearer,
            Auth::Basic,
            Auth::OAuth2,
            Auth::Env,
            Auth::Totp,
        ]
        .into_iter()
        .find(|a| a.seed() == self.seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn catalog_is_consistent() {
        let mut ids = HashSet::new();
        for t in all() {
            assert!(ids.insert(t.id.clone()), "duplicate {}", t.id);
            assert!(ids.insert(t.seed.clone()) || t.seed == t.id);
            let mut names = HashSet::new();
            for f in &t.fields {
                assert!(
                    names.insert(&f.name),
                    "{}: duplicate field {}",
                    t.id,
                    f.name
                );
                if let Some(d) = &f.default {
                    f.validate(d).unwrap();
                }
            }
        }
        for seed in ["no_auth", "api_key", "bearer_token", "basic_auth", "oauth2"] {
            assert!(find(seed).is_some(), "{seed}");
        }
    }

    #[test]
    fn every_type_parses_by_seed_and_cli_id() {
        for t in all() {
            let a = t.auth().unwrap_or_else(|| panic!("{} has no Auth", t.seed));
            assert_eq!(Auth::parse(&t.seed), Some(a));
            assert_eq!(Auth::parse(&t.id), Some(a));
            assert_eq!(a.seed(), t.seed);
        }
        assert_eq!(Auth::parse("basic"), Some(Auth::Basic));
        assert_eq!(Auth::parse("bearer"), Some(Auth::Bearer));
        assert_eq!(Auth::parse("api-key"), Some(Auth::ApiKey));
        assert_eq!(Auth::parse("Basic"), None);
        assert_eq!(Auth::parse("github"), None);
    }
}
