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
}
