//! `authcfg remove NAME`: delete a config (asks unless --yes).

use super::Ctx;
use crate::error::{usage, Exit, UserError};
use crate::ops::config::Revocation;

#[derive(clap::Args)]
pub struct Args {
    /// Config name(s)
    #[arg(required = true, add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    names: Vec<String>,
    /// Do not ask for confirmation (required without a terminal)
    #[arg(long, short = 'y')]
    yes: bool,
    /// OAuth2: remove without revoking the tokens at the provider
    #[arg(long)]
    keep_tokens: bool,
    /// Remove even when projects, CI jobs or labelled consumers used it in
    /// the last 90 days (they will stop working)
    #[arg(long)]
    force: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let names = super::export::canonical(&args.names)?;
    let s = ctx.session()?;
    for n in &names {
        if !s.store.exists(n) {
            return Err(s.store.not_found(n).into());
        }
    }
    if !args.force {
        let usage = s.store.usage().summaries();
        let mut in_use = vec![];
        let mut first_used = None;
        for n in &names {
            if let Some(sum) = usage.get(n).filter(|u| !u.connections.is_empty()) {
                let who: Vec<String> = sum.connections.iter().map(|c| c.describe()).collect();
                in_use.push(format!("'{n}' is used by {}", who.join(", ")));
                first_used.get_or_insert(n.as_str());
            }
        }
        if !in_use.is_empty() {
            return Err(UserError::new(
                Exit::Error,
                format!(
                    "refusing to remove a config in use (in the last {} days): {}",
                    crate::store::usage::RECENT_DAYS,
                    in_use.join("; ")
                ),
            )
            .hint(format!(
                "they will stop working; move them to another config first, or pass --force to remove it anyway (`authcfg show {}` lists its consumers)",
                crate::export::formats::sh_quote(first_used.unwrap_or_default())
            ))
            .into());
        }
    }
    if !args.yes {
        if !ctx.interactive {
            return Err(usage("refusing to remove without confirmation")
                .hint("pass --yes to remove without a terminal")
                .into());
        }
        let ok = dialoguer::Confirm::new()
            .with_prompt(format!(
                "Remove {}? Programs and scripts using it will stop working",
                names.join(", ")
            ))
            .default(false)
            .interact()?;
        if !ok {
            return Err(UserError::new(Exit::Error, "cancelled; nothing was removed").into());
        }
    }
    for n in &names {
        let removed = crate::ops::config::remove(&s, n, args.keep_tokens)?;
        if let Some(e) = &removed.unreadable {
            super::say(
                "note: ",
                &format!("'{n}' cannot be read ({e}); removing it anyway"),
            );
        }
        match removed.revocation {
            Revocation::Revoked => eprintln!("Revoked the tokens of '{n}' at the provider"),
            Revocation::NoEndpoint => eprintln!("note: the provider of '{n}' has no revocation endpoint; revoke its access in the provider's console"),
            Revocation::NotAsked => {}
        }
        eprintln!("Removed '{n}'");
    }
    Ok(())
}
