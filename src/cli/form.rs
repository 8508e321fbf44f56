//! Filling a config's fields from `--set`, `--secret-stdin` and, when a
//! person is at a terminal, prompts. Every prompt has a flag equivalent.

use crate::catalog::field::check_value_bytes;
use crate::catalog::{FieldKind, FieldSpec};
use crate::error::{usage, UserError};
use crate::secret::Secret;
use std::collections::BTreeMap;
use std::io::Read;

// No Debug: `--set` values may be secrets.
#[derive(clap::Args, Default, Clone)]
pub struct FieldArgs {
    /// Set a field: --set field=value (repeatable). Secret values given here
    /// are visible in `ps` and shell history; prefer --secret-stdin
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
    /// Read FIELD's value from standard input (one trailing newline is removed)
    #[arg(long, value_name = "FIELD")]
    pub secret_stdin: Option<String>,
}

/// Description of what is being filled.
pub struct Form<'a> {
    pub fields: &'a [FieldSpec],
    /// Any variable name is a field (the `env` custom type).
    pub free_form: bool,
}

impl Form<'_> {
    fn spec(&self, name: &str) -> Result<FieldSpec, UserError> {
        if let Some(f) = self.fields.iter().find(|f| f.name == name) {
            return Ok(f.clone());
        }
        if self.free_form {
            if !is_env_name(name) {
                return Err(usage(format!("'{name}' is not a valid variable name"))
                    .hint("use letters, digits and '_', not starting with a digit (e.g. DATABASE_PASSWORD)"));
            }
            return Ok(FieldSpec {
                name: name.to_string(),
                kind: FieldKind::Text,
                label: None,
                required: false,
                secret: true,
                default: None,
                allowed: vec![],
                prompt: false,
                export: true,
                help: String::new(),
            });
        }
        let names: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        let mut err = usage(format!("unknown field '{name}'"));
        err = match suggest(name, names.iter().copied()) {
            Some(s) => err.hint(format!("did you mean '{s}'? fields: {}", names.join(", "))),
            None => err.hint(format!("fields: {}", names.join(", "))),
        };
        Err(err)
    }

    /// Parses the flags into raw values, without defaults or prompts.
    pub fn given(
        &self,
        args: &FieldArgs,
        warn: &mut Vec<String>,
    ) -> anyhow::Result<BTreeMap<String, Secret>> {
        let mut out = BTreeMap::new();
        for item in &args.set {
            let (k, v) = item.split_once('=').ok_or_else(|| {
                usage("--set expects FIELD=VALUE; an argument has no '=' (not shown: it may be a secret)")
                    .hint("e.g. --set host=db.example.com; secrets are better given with --secret-stdin FIELD")
            })?;
            let spec = self.spec(k)?;
            if spec.secret && !self.free_form {
                warn.push(format!(
                    "{k} was given on the command line, where `ps` and shell history can see it; prefer --secret-stdin {k}"
                ));
            }
            if out.insert(k.to_string(), Secret::new(v)).is_some() {
                return Err(usage(format!("field '{k}' is set twice")).into());
            }
        }
        if let Some(field) = &args.secret_stdin {
            self.spec(field)?;
            if out.contains_key(field) {
                return Err(usage(format!(
                    "field '{field}' is given by both --set and --secret-stdin"
                ))
                .into());
            }
            out.insert(field.clone(), read_stdin_value(field)?);
        }
        Ok(out)
    }

    /// Completes `values`: defaults, then prompts (interactive) or a usage
    /// error naming the flag (non-interactive), then validation.
    pub fn complete(
        &self,
        values: &mut BTreeMap<String, Secret>,
        interactive: bool,
    ) -> anyhow::Result<()> {
        for spec in self.fields {
            if values.contains_key(&spec.name) {
                continue;
            }
            if interactive && spec.prompt {
                if let Some(v) = prompt(spec)? {
                    values.insert(spec.name.clone(), v);
                }
                continue;
            }
            if let Some(d) = &spec.default {
                values.insert(spec.name.clone(), Secret::new(d.clone()));
            } else if spec.required {
                let flag = if spec.secret {
                    format!("--secret-stdin {}", spec.name)
                } else {
                    format!("--set {}=…", spec.name)
                };
                return Err(usage(format!(
                    "missing required field '{}' ({})",
                    spec.name, spec.help
                ))
                .hint(format!("pass {flag}"))
                .into());
            }
        }
        self.validate(values)
    }

    pub fn validate(&self, values: &BTreeMap<String, Secret>) -> anyhow::Result<()> {
        for (k, v) in values {
            let spec = self.spec(k)?;
            // Optional fields may be empty (unset); required ones may not.
            if v.is_empty() && !spec.required {
                continue;
            }
            spec.validate(v.expose())?;
        }
        Ok(())
    }
}

pub use crate::env_names::is_env_name;

/// Reads a value from stdin: UTF-8, one trailing newline removed.
pub fn read_stdin_value(field: &str) -> anyhow::Result<Secret> {
    let mut buf = zeroize::Zeroizing::new(Vec::new());
    std::io::stdin()
        .take(crate::catalog::field::MAX_VALUE_BYTES as u64 + 3)
        .read_to_end(&mut buf)?;
    let mut text = String::from_utf8(buf.to_vec()).map_err(|_| {
        usage(format!(
            "{field}: the value on standard input is not valid UTF-8"
        ))
        .hint("pass text; binary keys should be base64-encoded first")
    })?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    check_value_bytes(field, &text, true)?;
    Ok(Secret::new(text))
}

fn prompt(spec: &FieldSpec) -> anyhow::Result<Option<Secret>> {
    let label = if spec.help.is_empty() {
        spec.label()
    } else {
        format!("{} ({})", spec.label(), spec.help)
    };
    let value = if spec.kind == FieldKind::Enum {
        let default = spec
            .default
            .as_ref()
            .and_then(|d| spec.allowed.iter().position(|a| a == d))
            .unwrap_or(0);
        let i = dialoguer::Select::new()
            .with_prompt(label)
            .items(&spec.allowed)
            .default(default)
            .interact()?;
        spec.allowed[i].clone()
    } else if spec.secret {
        dialoguer::Password::new()
            .with_prompt(label)
            .allow_empty_password(!spec.required)
            .interact()?
    } else {
        let spec2 = spec.clone();
        let mut input = dialoguer::Input::<String>::new()
            .with_prompt(label)
            .allow_empty(!spec.required)
            .validate_with(move |v: &String| -> Result<(), String> {
                if v.is_empty() && !spec2.required {
                    return Ok(());
                }
                spec2.validate(v).map_err(|e| e.message)
            });
        if let Some(d) = &spec.default {
            input = input.default(d.clone());
        }
        input.interact_text()?
    };
    Ok((!value.is_empty() || spec.required).then(|| Secret::new(value)))
}

pub use crate::error::suggest;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("apikey", ["api_key", "token"].into_iter()),
            Some("api_key")
        );
        assert_eq!(suggest("zzzzzz", ["api_key"].into_iter()), None);
        assert!(is_env_name("DB_PASS") && !is_env_name("1X") && !is_env_name("A-B"));
    }
}
