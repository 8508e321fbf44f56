//! Filling a config's fields from `--set`, `--secret-stdin` and, when a
//! person is at a terminal, prompts. Every prompt has a flag equivalent.

use crate::catalog::field::check_value_bytes;
use crate::catalog::{FieldKind, FieldSpec};
use crate::error::usage;
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

impl FieldArgs {
    /// Whether standard input carries a value (`--secret-stdin` with a pipe
    /// or a file), so it cannot answer prompts too.
    pub fn stdin_taken(&self) -> bool {
        use std::io::IsTerminal;
        self.secret_stdin.is_some() && !std::io::stdin().is_terminal()
    }
}

/// What is being filled: the one check of fields and values is
/// `ops::config::Form`; parsing flags and prompting are here.
pub use crate::ops::config::Form;

impl Form<'_> {
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
}

pub use crate::env_names::is_env_name;

/// Reads a value from stdin: UTF-8, one trailing newline removed. At a
/// terminal it is asked for hidden instead (typed text would be echoed).
pub fn read_stdin_value(field: &str) -> anyhow::Result<Secret> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        if !std::io::stderr().is_terminal() {
            return Err(usage(format!(
                "--secret-stdin {field}: standard input is a terminal, where the value would be echoed as it is typed"
            ))
            .hint(format!(
                "pipe the value in (e.g. `pass show … | authcfg … --secret-stdin {field}`), or run at a terminal to be asked for it hidden"
            ))
            .into());
        }
        let spec = FieldSpec {
            name: field.to_string(),
            kind: FieldKind::Text,
            label: None,
            required: true,
            secret: true,
            default: None,
            allowed: vec![],
            prompt: true,
            export: false,
            help: String::new(),
        };
        let v = ask_secret(&spec, format!("{field} (hidden)"))?;
        check_value_bytes(field, &v, true)?;
        return Ok(Secret::new(v));
    }
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

/// Why a value is asked again: empty where one is required, or the
/// field's own rule (never echoing the value).
fn refusal(spec: &FieldSpec, v: &str) -> Option<String> {
    if v.is_empty() {
        return spec
            .required
            .then(|| "required: cannot be empty".to_string());
    }
    spec.validate(v).err().map(|e| e.message)
}

fn label(spec: &FieldSpec) -> String {
    if spec.help.is_empty() {
        spec.label()
    } else {
        format!("{} ({})", spec.label(), spec.help)
    }
}

/// A hidden prompt for a secret; says why when it asks again.
pub fn ask_secret(spec: &FieldSpec, prompt: String) -> anyhow::Result<String> {
    let spec2 = spec.clone();
    Ok(dialoguer::Password::new()
        .with_prompt(prompt)
        .allow_empty_password(true)
        .validate_with(move |v: &String| -> Result<(), String> {
            refusal(&spec2, v).map_or(Ok(()), Err)
        })
        .interact()?)
}

fn prompt(spec: &FieldSpec) -> anyhow::Result<Option<Secret>> {
    prompt_with(spec, spec.default.as_deref())
}

/// Asks for one field; `current` is offered (Enter keeps it). A secret's
/// current value is never shown: Enter keeps it.
pub fn prompt_with(spec: &FieldSpec, current: Option<&str>) -> anyhow::Result<Option<Secret>> {
    let label = label(spec);
    let value = if spec.kind == FieldKind::Enum {
        let default = current
            .and_then(|d| spec.allowed.iter().position(|a| a == d))
            .unwrap_or(0);
        let i = dialoguer::Select::new()
            .with_prompt(label)
            .items(&spec.allowed)
            .default(default)
            .interact()?;
        spec.allowed[i].clone()
    } else if spec.secret {
        match current.filter(|c| !c.is_empty() && Some(*c) != spec.default.as_deref()) {
            Some(kept) => {
                let v = dialoguer::Password::new()
                    .with_prompt(format!("{label} [Enter keeps the current value]"))
                    .allow_empty_password(true)
                    .interact()?;
                if v.is_empty() {
                    kept.to_string()
                } else {
                    if let Some(why) = refusal(spec, &v) {
                        return Err(usage(format!("{}: {why}", spec.name)).into());
                    }
                    v
                }
            }
            None => ask_secret(spec, label)?,
        }
    } else {
        let spec2 = spec.clone();
        let mut input = dialoguer::Input::<String>::new()
            .with_prompt(label)
            .allow_empty(true)
            .validate_with(move |v: &String| -> Result<(), String> {
                refusal(&spec2, v).map_or(Ok(()), Err)
            });
        if let Some(d) = current {
            input = input.default(d.to_string());
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
