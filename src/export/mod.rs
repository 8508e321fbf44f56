//! Turning configs into environment variables and the formats programs read
//! them in (DESIGN §6).

pub mod formats;

use crate::catalog;
use crate::error::usage;
use crate::model::{ConfigDoc, Kind};
use crate::secret::Secret;
use crate::store::names::env_stem;

#[derive(Debug, Clone)]
pub struct Var {
    pub name: String,
    pub value: Secret,
    pub secret: bool,
    /// The config it came from.
    pub config: String,
}

/// The variables one config exports, before any prefix.
pub fn vars_for(doc: &ConfigDoc) -> Vec<Var> {
    let m = &doc.meta;
    if m.kind == Kind::Connector {
        return connector_vars(doc);
    }
    let free_form = matches!(catalog::spec_for(m.kind, &m.type_id), Some((_, true)));
    let stem = env_stem(&m.name);
    doc.fields
        .iter()
        .filter(|(_, v)| free_form || !v.is_empty())
        .filter(|(k, _)| catalog::is_exported(m.kind, &m.type_id, k))
        .map(|(k, v)| Var {
            name: if free_form {
                k.clone()
            } else {
                format!("{stem}_{}", env_stem(k))
            },
            value: v.clone(),
            secret: catalog::is_secret(m.kind, &m.type_id, k),
            config: m.name.clone(),
        })
        .collect()
}

/// `--prefix P` for every config, or `--prefix NAME:P` for one.
pub fn apply_prefixes(vars: &mut [Var], prefixes: &[String]) {
    for v in vars.iter_mut() {
        let specific = prefixes.iter().find_map(|p| {
            p.split_once(':')
                .filter(|(n, _)| *n == v.config)
                .map(|(_, p)| p.to_string())
        });
        let general = prefixes.iter().find(|p| !p.contains(':')).cloned();
        if let Some(p) = specific.or(general) {
            v.name = format!("{p}{}", v.name);
        }
    }
}

/// Refuses two configs exporting the same variable, and names that no shell
/// could assign.
pub fn check_names(vars: &[Var]) -> Result<(), crate::error::UserError> {
    let mut seen: std::collections::HashMap<&str, &str> = Default::default();
    for v in vars {
        if !crate::cli::form::is_env_name(&v.name) {
            return Err(usage(format!("'{}' is not a valid variable name", v.name))
                .hint("use a --prefix made of letters, digits and '_'"));
        }
        if let Some(other) = seen.insert(&v.name, &v.config) {
            if other != v.config {
                return Err(usage(format!(
                    "both '{other}' and '{}' export {}",
                    v.config, v.name
                ))
                .hint(format!("give one a prefix: --prefix '{}:OTHER_'", v.config)));
            }
        }
    }
    Ok(())
}

/// A connector exports under its ecosystem's own names (catalog `env`);
/// variables that render empty are left out.
fn connector_vars(doc: &ConfigDoc) -> Vec<Var> {
    use crate::connectors::catalog;
    let Some(c) = catalog::find(&doc.meta.type_id) else {
        return vec![];
    };
    c.env
        .iter()
        .filter_map(|(var, template)| {
            let value = catalog::render(template, doc);
            if catalog::placeholders(template)
                .iter()
                .all(|p| doc.get(p).is_none_or(str::is_empty))
            {
                return None;
            }
            let secret = catalog::placeholders(template)
                .iter()
                .any(|p| c.form.iter().any(|f| &f.name == p && f.secret));
            Some(Var {
                name: var.clone(),
                value: Secret::new(value),
                secret,
                config: doc.meta.name.clone(),
            })
        })
        .collect()
}
