//! `authcfg reauth NAME`: a new authorization for an existing OAuth2 config,
//! keeping its client, endpoints and scopes.

use super::oauth_flow::{authorize, FlowArgs};
use super::Ctx;
use crate::error::usage;
use crate::oauth::tokens;

#[derive(clap::Args)]
pub struct Args {
    /// Config name
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    name: String,
    /// Replace the scopes
    #[arg(long, value_name = "SCOPES")]
    scopes: Option<String>,
    #[command(flatten)]
    flow: FlowArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let name = crate::store::canonical_name(&args.name)?;
    let s = ctx.session()?;
    let mut doc = s.store.read(&name)?;
    if super::oauth_flow::is_manual_oauth2(&doc) {
        // The manual type's first authorization makes it an OAuth2 config.
        doc = super::oauth_flow::as_oauth2(&doc, true)?;
    }
    if !tokens::is_oauth(&doc) {
        return Err(usage(format!("'{}' is not an OAuth2 config", args.name)).into());
    }
    if let Some(s) = &args.scopes {
        doc.fields.insert("scopes".into(), s.clone().into());
    }
    // The flow can take minutes: run it without the writer lock, then save.
    if let Err(e) = authorize(ctx, &mut doc, &args.flow) {
        crate::ops::config::note_failed_authorization(&s, &name, &e);
        return Err(e.into());
    }
    crate::ops::rotate::save_authorization(&s, &doc, "authorize", "reauth")?;
    eprintln!(
        "Re-authorized '{}'{}",
        name,
        doc.meta
            .account
            .as_ref()
            .map(|a| format!(" as {a}"))
            .unwrap_or_default()
    );
    Ok(())
}
