//! Turning configs into environment variables and the formats programs read
//! them in (docs/ARCHITECTURE.md, "Hand-out").

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

pub fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Variables that change how a program starts or what it runs: dynamic
/// loader settings, shell start-up files, interpreter start-up options,
/// program launchers, and authcfg's own. A free-form `env` config may set
/// them only when its owner said so (`--allow-startup-vars`): a child
/// started by `exec` would otherwise run code chosen by whoever wrote the
/// config (docs/SECURITY.md, "Child processes").
pub fn is_startup_var(name: &str) -> bool {
    const PREFIXES: [&str; 6] = [
        "LD_",
        "DYLD_",
        "AUTHCFG_",
        "BASH_FUNC_",
        "MALLOC_",
        "GIT_CONFIG",
    ];
    const NAMES: [&str; 38] = [
        "BASH_ENV",
        "ENV",
        "PROMPT_COMMAND",
        "PS4",
        "PATH",
        "IFS",
        "CDPATH",
        "SHELLOPTS",
        "BASHOPTS",
        "ZDOTDIR",
        "HOME",
        "SHELL",
        "TMPDIR",
        "GLIBC_TUNABLES",
        "GCONV_PATH",
        "HOSTALIASES",
        "LOCPATH",
        "NLSPATH",
        "PYTHONSTARTUP",
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONUSERBASE",
        "PERL5LIB",
        "PERL5OPT",
        "PERLLIB",
        "RUBYOPT",
        "RUBYLIB",
        "NODE_OPTIONS",
        "NODE_PATH",
        "JAVA_TOOL_OPTIONS",
        "_JAVA_OPTIONS",
        "JDK_JAVA_OPTIONS",
        "GIT_SSH",
        "GIT_SSH_COMMAND",
        "GIT_EXEC_PATH",
        "EDITOR",
        "VISUAL",
        "PAGER",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p)) || NAMES.contains(&name)
}

/// Refuses start-up variables in a config that was not allowed them.
pub fn refuse_startup_vars<'a>(
    config: &str,
    mut names: impl Iterator<Item = &'a str>,
) -> Result<(), crate::error::UserError> {
    match names.find(|n| is_startup_var(n)) {
        Some(n) => Err(usage(format!(
            "'{config}' sets {n}, which changes how programs start; refused"
        ))
        .hint("a variable like LD_PRELOAD, BASH_ENV or PATH lets whoever controls its value run code in every program started with it; if that is really meant, pass --allow-startup-vars")),
        None => Ok(()),
    }
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
        if !is_env_name(&v.name) {
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
