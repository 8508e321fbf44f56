//! What every `add` form shares: the config's name (given or asked), its
//! group, and the early refusal to overwrite.

use super::super::Ctx;
use crate::error::usage;
use crate::ops::Session;
use crate::store::canonical_name;

/// The name from --name, else `default`; validated.
pub fn config_name_or(ctx: &Ctx, given: Option<&str>, default: &str) -> anyhow::Result<String> {
    config_name(ctx, Some(given.unwrap_or(default)))
}

/// The name from --name, or a prompt; validated before any other work.
pub fn config_name(ctx: &Ctx, given: Option<&str>) -> anyhow::Result<String> {
    let name = match given {
        Some(n) => n.to_string(),
        None if ctx.interactive => dialoguer::Input::<String>::new()
            .with_prompt("Name for this config (e.g. prod/stripe)")
            .allow_empty(true)
            .validate_with(|v: &String| {
                if v.is_empty() {
                    return Err("required: cannot be empty".to_string());
                }
                canonical_name(v).map(|_| ()).map_err(|e| e.message)
            })
            .interact_text()?,
        None => {
            return Err(usage("missing --name")
                .hint("pass --name NAME, e.g. --name prod/stripe")
                .into())
        }
    };
    canonical_name(&name).map_err(Into::into)
}

/// A valid `--group`, if given.
pub fn group(g: Option<&str>) -> anyhow::Result<Option<String>> {
    match g {
        Some(g) => {
            crate::ops::recipients::check_group(g)?;
            Ok(Some(g.to_string()))
        }
        None => Ok(None),
    }
}

/// Refuses to overwrite an existing config unless `--force` (early, before
/// prompts; the store checks again under its lock).
pub fn refuse_existing(s: &Session, name: &str, force: bool, hint: &str) -> anyhow::Result<()> {
    if s.store.exists(name) && !force {
        return Err(usage(format!("a config named '{name}' already exists"))
            .hint(hint.to_string())
            .into());
    }
    Ok(())
}
