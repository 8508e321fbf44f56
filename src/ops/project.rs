//! A project file's environment turned into variables (`exec` and `export`
//! with no names, the shell hook), and `project check`: which references
//! resolve, and why not, without handing out any value.

use super::handout::{self, Used};
use super::Session;
use crate::error::{usage, Exit};
use crate::export::{check_names, refuse_startup_vars, vars_for, Var};
use crate::model::ConfigDoc;
use crate::project::{Project, Reference, Value};
use crate::secret::Secret;
use serde::Serialize;

/// Marks variables that come from the project file itself.
pub const LITERAL_SOURCE: &str = "(project file)";

/// The variables of `env`, the configs read (to record the use once they
/// are handed over), consumer set to the project.
pub fn resolve(
    s: &Session,
    project: &Project,
    env: &str,
    action: &str,
) -> anyhow::Result<(Vec<Var>, Used)> {
    let e = project.environment(env)?;
    let names = e.config_names();
    let mut used = handout::read_for_use(s, &names, action).map_err(|e| {
        // Which reference failed, and where the file makes it.
        match names.iter().find(|n| s.store.read(n).is_err()) {
            Some(n) => e.context(format!(
                "{}: the project file refers to '{n}'",
                place(project, &[&format!("authcfg://{n}/"), &format!("\"{n}\"")])
            )),
            None => e.context(format!("{}", project.file.display())),
        }
    })?;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    used.consumer = Some(handout::consumer(
        s.settings,
        Some((&project.root, env)),
        &refs,
    ));
    let doc = |n: &str| -> &ConfigDoc {
        used.docs
            .iter()
            .find(|d| d.meta.name == n)
            .expect("read above")
    };
    let mut vars: Vec<Var> = vec![];
    for n in &e.configs {
        let d = doc(n);
        if free_form(d) && !d.meta.allow_startup_vars {
            refuse_startup_vars(&d.meta.name, d.fields.keys().map(String::as_str))?;
        }
        vars.extend(vars_for(d));
    }
    check_names(&vars)?;
    // Variables named in [env] take precedence over a whole config's.
    for (name, value) in &e.vars {
        let var = match value {
            Value::Literal(v) => Var {
                name: name.clone(),
                value: Secret::new(v.clone()),
                secret: false,
                config: LITERAL_SOURCE.to_string(),
            },
            Value::Ref(r) => {
                let d = doc(&r.config);
                field_problem(d, r).map_err(|why| {
                    let at = place(project, &[&format!("\"{r}\""), &format!("{name} ")]);
                    usage(format!("{at}: {name} = \"{r}\": {why}")).hint(format!(
                        "check all references with `authcfg project check --env {env}`"
                    ))
                })?;
                Var {
                    name: name.clone(),
                    value: d.fields[&r.field].clone(),
                    secret: crate::catalog::is_secret(d.meta.kind, &d.meta.type_id, &r.field)
                        || free_form(d),
                    config: d.meta.name.clone(),
                }
            }
        };
        // The variable itself, or one its client reads with it (PGHOSTADDR
        // beside PGHOST: `project::redirects`).
        if let Some(whole) = vars
            .iter()
            .find(|v| crate::project::redirects(&v.name, name))
        {
            if !e.overrides.contains(name) {
                let what = if whole.name == *name {
                    format!("{name} is exported by '{}'", whole.config)
                } else {
                    format!(
                        "{name} is read by the client of '{}' (which exports {})",
                        whole.config, whole.name
                    )
                };
                return Err(usage(format!(
                    "{what}, which the project file pulls in; the file also sets it, and a project file may not redirect a config it pulls in (its host, port, TLS mode or endpoint) unless it says so"
                ))
                .hint(format!(
                    "if replacing it is really meant, declare it in the file: [overrides] {env} = [\"{name}\"] (and approve the file again)"
                ))
                .into());
            }
        }
        vars.retain(|v| v.name != *name);
        vars.push(var);
    }
    Ok((vars, used))
}

/// `FILE:LINE` of the first line of the project file that holds one of
/// `needles`, else the file alone: where an error's reference is made.
fn place(project: &Project, needles: &[&str]) -> String {
    // Read again only to find the line: through the one bounded reader.
    let line = crate::input::read_text(&project.file, "the project file", 256 << 10)
        .ok()
        .and_then(|text| {
            needles.iter().find_map(|needle| {
                text.lines()
                    .position(|l| l.trim_start().contains(needle))
                    .map(|i| i + 1)
            })
        });
    match line {
        Some(n) => format!("{}:{n}", project.file.display()),
        None => project.file.display().to_string(),
    }
}

fn free_form(d: &ConfigDoc) -> bool {
    matches!(
        crate::catalog::spec_for(d.meta.kind, &d.meta.type_id),
        Some((_, true))
    )
}

/// Why a reference to a field of `d` cannot be handed out, if it cannot.
fn field_problem(d: &ConfigDoc, r: &Reference) -> Result<(), String> {
    let Some(v) = d.fields.get(&r.field) else {
        let fields: Vec<&str> = d.fields.keys().map(String::as_str).collect();
        return Err(format!(
            "'{}' has no field '{}' (its fields: {})",
            r.config,
            r.field,
            fields.join(", ")
        ));
    };
    let _ = v;
    if free_form(d) && crate::env_names::is_startup_var(&r.field) && !d.meta.allow_startup_vars {
        return Err(format!(
            "'{}' is a variable that changes how programs start; refused",
            r.field
        ));
    }
    handout::may_leave(d, &r.field, handout::Door::Environment)
        .map_err(|why| format!("{why}; a project file cannot name it"))
}

/// One line of `project check`.
#[derive(Debug, Serialize)]
pub struct CheckRow {
    pub env: String,
    /// The variable, or `*` for a whole config.
    pub variable: String,
    /// `authcfg://NAME/FIELD`, a config name, or "(value)".
    pub reference: String,
    pub ok: bool,
    pub detail: String,
}

/// Checks every reference of `envs` (all when empty) against the store:
/// the config exists, this key can open it, the field is there and may be
/// handed out. Reads configs; hands nothing out and records no use.
pub fn check(s: &Session, project: &Project, envs: &[String]) -> anyhow::Result<Vec<CheckRow>> {
    let names: Vec<String> = if envs.is_empty() {
        project.envs.keys().cloned().collect()
    } else {
        envs.to_vec()
    };
    let mut rows = vec![];
    let mut cache: std::collections::HashMap<String, Result<ConfigDoc, String>> =
        Default::default();
    let mut open = |n: &str| -> Result<ConfigDoc, String> {
        cache
            .entry(n.to_string())
            .or_insert_with(|| {
                if !s.store.exists(n) {
                    return Err(format!("there is no config named '{n}' in this store"));
                }
                s.store.read(n).map_err(|e| {
                    let (exit, _) = crate::error::classify(&e);
                    if exit == Exit::NoKey {
                        format!("the key in use cannot open it: {e}")
                    } else {
                        format!("it cannot be read: {e}")
                    }
                })
            })
            .clone()
    };
    for env in &names {
        let e = project.environment(env)?;
        // The variables the whole configs export, with their config.
        let mut whole: Vec<(String, String)> = vec![];
        for n in &e.configs {
            if let Ok(d) = open(n) {
                whole.extend(vars_for(&d).into_iter().map(|v| (v.name, v.config)));
            }
        }
        for n in &e.configs {
            let (ok, detail) = match open(n) {
                Err(why) => (false, why),
                Ok(d) => {
                    let startup = (free_form(&d) && !d.meta.allow_startup_vars)
                        .then(|| {
                            refuse_startup_vars(&d.meta.name, d.fields.keys().map(String::as_str))
                                .err()
                        })
                        .flatten();
                    match startup {
                        Some(err) => (false, err.message),
                        None => {
                            let vars: Vec<String> =
                                vars_for(&d).into_iter().map(|v| v.name).collect();
                            (
                                true,
                                format!("{} variable(s): {}", vars.len(), vars.join(", ")),
                            )
                        }
                    }
                }
            };
            rows.push(CheckRow {
                env: env.clone(),
                variable: "*".into(),
                reference: n.clone(),
                ok,
                detail,
            });
        }
        for (var, value) in &e.vars {
            let (reference, ok, detail) = match value {
                Value::Literal(_) => ("(value)".to_string(), true, "a plain value".to_string()),
                Value::Ref(r) => {
                    let (ok, detail) = match open(&r.config) {
                        Err(why) => (false, why),
                        Ok(d) => match field_problem(&d, r) {
                            Err(why) => (false, why),
                            Ok(()) if d.fields[&r.field].is_empty() => {
                                (true, "resolves (the value is empty)".to_string())
                            }
                            Ok(()) => (true, "resolves".to_string()),
                        },
                    };
                    (r.to_string(), ok, detail)
                }
            };
            let (ok, detail) = match whole
                .iter()
                .find(|(v, _)| crate::project::redirects(v, var))
            {
                Some((_, config)) if !e.overrides.contains(var) => (
                    false,
                    format!(
                        "replaces a variable of '{config}' without saying so: declare it in [overrides] {env} = [\"{var}\"]"
                    ),
                ),
                Some((_, config)) if ok => (true, format!("{detail}; overrides '{config}' ([overrides])")),
                _ => (ok, detail),
            };
            rows.push(CheckRow {
                env: env.clone(),
                variable: var.clone(),
                reference,
                ok,
                detail,
            });
        }
    }
    Ok(rows)
}
