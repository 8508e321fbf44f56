//! `authcfg reauth NAME`: a new authorization for an existing OAuth2 config,
//! keeping its client, endpoints and scopes.

use super::oauth_flow::{authorize, FlowArgs};
use super::Ctx;
use crate::error::usage;
use crate::oauth::tokens;

#[derive(clap::Args)]
pub struct Args {
    /// Config name
    name: String,
    /// Replace the scopes
    #[arg(long, value_name = "SCOPES")]
    scopes: Option<String>,
    #[command(flatten)]
    flow: FlowArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<i32> {
    crate::store::validate_name(&args.name)?;
    let (store, key) = ctx.unlock()?;
    let mut doc = store.read(&key.identity, &args.name)?;
    if !tokens::is_oauth(&doc) {
        return Err(usage(format!("'{}' is not an OAuth2 config", args.name)).into());
    }
    if let Some(s) = &args.scopes {
        doc.fields.insert("scopes".into(), s.clone().into());
    }
    // The flow can take minutes: run it without the writer lock, then save.
    if let Err(e) = authorize(ctx, &mut doc, &args.flow) {
        ctx.audit("authorize", Some(&args.name), "error", Some(&e.to_string()));
        return Err(e);
    }
    let fresh = doc.clone();
    store.update(&key.identity, &args.name, move |d| {
        d.fields = fresh.fields;
        d.meta.expires = fresh.meta.expires;
        d.meta.account = fresh.meta.account;
        d.meta.rotated = fresh.meta.rotated;
        d.meta.last_test = None;
        Ok(())
    })?;
    ctx.audit("authorize", Some(&args.name), "ok", Some("reauth"));
    eprintln!(
        "Re-authorized '{}'{}",
        args.name,
        doc.meta
            .account
            .as_deref()
            .map(|a| format!(" as {a}"))
            .unwrap_or_default()
    );
    Ok(0)
}
