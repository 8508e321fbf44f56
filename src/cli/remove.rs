//! `authcfg remove NAME`: delete a config (asks unless --yes).

use super::Ctx;
use crate::error::{usage, Exit, UserError};

#[derive(clap::Args)]
pub struct Args {
    /// Config name(s)
    #[arg(required = true)]
    names: Vec<String>,
    /// Do not ask for confirmation (required without a terminal)
    #[arg(long, short = 'y')]
    yes: bool,
    /// OAuth2: remove without revoking the tokens at the provider
    #[arg(long)]
    keep_tokens: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<i32> {
    for n in &args.names {
        crate::store::validate_name(n)?;
    }
    let (store, key) = ctx.unlock()?;
    for n in &args.names {
        if !store.exists(n) {
            return Err(crate::error::not_found(n).into());
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
                args.names.join(", ")
            ))
            .default(false)
            .interact()?;
        if !ok {
            return Err(UserError::new(Exit::Error, "cancelled; nothing was removed").into());
        }
    }
    for n in &args.names {
        let doc = store.read(&key.identity, n)?;
        if crate::oauth::tokens::is_oauth(&doc) && !args.keep_tokens {
            match crate::oauth::tokens::revoke(&doc) {
                Ok(true) => {
                    ctx.audit("revoke", Some(n), "ok", None);
                    eprintln!("Revoked the tokens of '{n}' at the provider");
                }
                Ok(false) => eprintln!("note: the provider of '{n}' has no revocation endpoint; revoke its access in the provider's console"),
                Err(e) => {
                    ctx.audit("revoke", Some(n), "error", Some(&e.to_string()));
                    return Err(e.context(format!(
                        "could not revoke the tokens of '{n}'; nothing was removed (pass --keep-tokens to remove it anyway)"
                    )));
                }
            }
        }
        drop(doc);
        store.remove(&key.identity, n)?;
        ctx.audit("remove", Some(n), "ok", None);
        eprintln!("Removed '{n}'");
    }
    Ok(0)
}
