//! Turning configs into environment variables and the formats programs read
//! them in (docs/ARCHITECTURE.md, "Hand-out").

pub mod formats;

use crate::catalog;
use crate::env_names::{is_env_name, is_startup_var};
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
        .filter(|(k, _)| crate::leave::may_leave(doc, k, crate::leave::Door::Environment).is_ok())
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

/// Refuses start-up variables in a config that was not allowed them.
pub fn refuse_startup_vars<'a>(
    config: &str,
    mut names: impl Iterator<Item = &'a str>,
) -> Result<(), crate::error::UserError> {
    match names.find(|n| is_startup_var(n)) {
        Some(n) => Err(usage(format!(
            "'{config}' sets {n}, which changes how programs start; refused"
        ))
        .hint("a variable like LD_PRELOAD, BASH_ENV, GIT_EXTERNAL_DIFF or PATH lets whoever controls its value run code in every program started with it; if that is really meant, pass --allow-startup-vars")),
        None => Ok(()),
    }
}

/// Refuses, by their final names (after any `--prefix`), start-up variables
/// that a config not allowed them would hand out: `--prefix LD_` must not
/// turn an innocent `PRELOAD` into `LD_PRELOAD`. `allowed(config)` tells
/// whether a config was created with `--allow-startup-vars`.
pub fn refuse_startup_exports(
    vars: &[Var],
    allowed: impl Fn(&str) -> bool,
) -> Result<(), crate::error::UserError> {
    match vars
        .iter()
        .find(|v| !allowed(&v.config) && is_startup_var(&v.name))
    {
        Some(v) => Err(usage(format!(
            "'{}' would export {}, which changes how programs start; refused",
            v.config, v.name
        ))
        .hint(format!(
            "a variable like LD_PRELOAD, BASH_ENV, GIT_EXTERNAL_DIFF or PATH lets whoever controls its value run code in every program started with it; choose another --prefix, or, if that is really meant, `authcfg edit '{}' --allow-startup-vars`",
            v.config
        ))),
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
/// variables that render empty are left out, and so is any variable made
/// from a field that may not leave as a variable (`leave::may_leave`: an
/// AWS config's long-lived secret key).
fn connector_vars(doc: &ConfigDoc) -> Vec<Var> {
    let Some(c) = catalog::connectors::find(&doc.meta.type_id) else {
        return vec![];
    };
    c.env
        .iter()
        .filter_map(|(var, template)| {
            if catalog::connectors::placeholders(template)
                .iter()
                .any(|p| crate::leave::may_leave(doc, p, crate::leave::Door::Environment).is_err())
            {
                return None;
            }
            let value = doc.render(template);
            if catalog::connectors::placeholders(template)
                .iter()
                .all(|p| doc.get(p).is_none_or(str::is_empty))
            {
                return None;
            }
            let secret = catalog::connectors::placeholders(template)
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

/// The variables of `docs` under their final names. A config that was not
/// created with `--allow-startup-vars` may not hand out a start-up variable
/// under its final name, whatever its type and whatever `--prefix` made of
/// it (docs/SECURITY.md, "A malicious child process").
pub fn collect_vars(docs: &[ConfigDoc], prefixes: &[String]) -> anyhow::Result<Vec<Var>> {
    for p in prefixes {
        if let Some((n, _)) = p.split_once(':') {
            if !docs.iter().any(|d| d.meta.name == n) {
                return Err(
                    usage(format!("--prefix names '{n}', which is not being exported")).into(),
                );
            }
        }
    }
    let mut vars: Vec<Var> = docs.iter().flat_map(vars_for).collect();
    apply_prefixes(&mut vars, prefixes);
    refuse_startup_exports(&vars, |config| {
        docs.iter()
            .any(|d| d.meta.name == config && d.meta.allow_startup_vars)
    })?;
    check_names(&vars)?;
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn startup_variables_are_refused_by_pattern_and_without_regard_to_case() {
        for n in [
            "LD_PRELOAD",
            "ld_preload",
            "Ld_Audit",
            "DYLD_INSERT_LIBRARIES",
            "BROWSER",
            "GIT_EXTERNAL_DIFF",
            "GIT_ASKPASS",
            "SSH_ASKPASS",
            "SUDO_ASKPASS",
            "GIT_PAGER",
            "MANPAGER",
            "GIT_EDITOR",
            "GIT_SEQUENCE_EDITOR",
            "GIT_TEMPLATE_DIR",
            "GIT_DIR",
            "GIT_PROXY_COMMAND",
            "GIT_CONFIG_GLOBAL",
            "PROMPT_COMMAND",
            "PS0",
            "PS1",
            "LESSOPEN",
            "LESSCLOSE",
            "OPENSSL_CONF",
            "OPENSSL_ENGINES",
            "XDG_CONFIG_HOME",
            "XDG_CONFIG_DIRS",
            "XDG_DATA_HOME",
            "KUBECONFIG",
            "AWS_CONFIG_FILE",
            "DOCKER_CONFIG",
            "PYTHONWARNINGS",
            "PYTHONBREAKPOINT",
            "PERL5OPT",
            "RUBYOPT",
            "NODE_OPTIONS",
            "NPM_CONFIG_SCRIPT_SHELL",
            "npm_config_script_shell",
            "JAVA_TOOL_OPTIONS",
            "_JAVA_OPTIONS",
            "JDK_JAVA_OPTIONS",
            "LUA_INIT",
            "CLASSPATH",
            "GEM_PATH",
            "LD_LIBRARY_PATH",
            "PATH",
            "TERMINFO",
            "INPUTRC",
            "CURL_HOME",
            "WGETRC",
            "SSL_CERT_FILE",
            "HTTPS_PROXY",
            "https_proxy",
            "BASH_FUNC_ls%%",
            "AUTHCFG_HOME",
            "AUTHCFG_EXEC",
            "VIMINIT",
            // issue 18: build tools and tool configuration
            "MAKEFILES",
            "GOFLAGS",
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER",
            "CARGO_BUILD_RUSTC_WRAPPER",
            "RUSTC_WORKSPACE_WRAPPER",
            "SSLKEYLOGFILE",
            "HISTFILE",
            "CONFIG_SITE",
            "PGSERVICEFILE",
            "PGSERVICE",
            "PGPASSFILE",
            "DOCKER_HOST",
            "DOCKER_CERT_PATH",
            "PIP_INDEX_URL",
            "GOPROXY",
            // red team 2, #14
            "fish_user_paths",
            "PROMPT",
            "RPROMPT",
            "PROMPT_COMMAND",
            "BORG_PASSCOMMAND",
            "RSYNC_RSH",
            "CVS_RSH",
            "SVN_SSH",
            "AWS_CA_BUNDLE",
            "GTK_MODULES",
            "NIX_CONFIG",
        ] {
            assert!(is_startup_var(n), "{n} should be refused");
        }
    }

    #[test]
    fn ordinary_names_stay_allowed() {
        for n in [
            "DATABASE_URL",
            "API_KEY",
            "STRIPE_KEY",
            "APP_MODE",
            "NODE_ENV",
            "GITHUB_TOKEN",
            "GIT_AUTHOR_NAME",
            "PAGERDUTY_API_KEY",
            "PGPASSWORD",
            "AWS_SECRET_ACCESS_KEY",
            "SSH_PRIVATE_KEY",
            "PROD_API_TOKEN",
            "PRELOAD",
            "APP_CONFIG",
        ] {
            assert!(!is_startup_var(n), "{n} should be allowed");
        }
    }

    /// The connector catalog's own names are handed out without
    /// `--allow-startup-vars`: none of them may be a start-up variable.
    #[test]
    fn no_connector_exports_a_startup_variable() {
        for c in crate::catalog::connectors::all() {
            for var in c.env.keys() {
                assert!(!is_startup_var(var), "{} exports {var}", c.id);
            }
        }
    }
}
