//! `authcfg add custom <type>`: create a config.

mod common;
pub(in crate::cli) mod connector;
mod oauth2;

use super::form::{FieldArgs, Form};
use super::Ctx;
use crate::catalog::custom;
use crate::error::usage;
use crate::model::{ConfigDoc, Kind};
use crate::ops::Session;
pub use common::group;
use common::{config_name, refuse_existing};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// OAuth2 provider account: runs the authorization flow (see `authcfg providers`)
    Oauth2(oauth2::Args),
    /// Native connector: database, broker, storage or enterprise system (see `authcfg connectors`)
    Connector(connector::Args),
    /// Custom auth: none, api-key, bearer, basic, oauth2 (authorized at a terminal, else by `reauth`), env, totp
    Custom(CustomArgs),
}

#[derive(clap::Args)]
pub struct CustomArgs {
    /// Auth type: none, api-key, bearer, basic, oauth2, env, totp (or the seed's no_auth, api_key, ...)
    #[arg(value_name = "TYPE")]
    kind: String,
    #[command(flatten)]
    common: CommonAddArgs,
    /// oauth2 type: how to authorize it (at a terminal it is authorized now)
    #[command(flatten, next_help_heading = "Authorization (oauth2 type)")]
    flow: super::oauth_flow::FlowArgs,
}

#[derive(clap::Args)]
pub struct CommonAddArgs {
    /// Config name; '/' groups configs (prod/stripe)
    #[arg(long, short = 'n')]
    pub name: Option<String>,
    #[command(flatten)]
    pub fields: FieldArgs,
    /// Replace an existing config of the same name
    #[arg(long)]
    pub force: bool,
    /// Only the master key and this recipient group may decrypt it
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
    /// env type: allow variables that change how programs start (LD_*,
    /// DYLD_*, BASH_ENV, PATH, PYTHONSTARTUP, NODE_OPTIONS, ...)
    #[arg(long)]
    pub allow_startup_vars: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    match args.what {
        What::Custom(a) => add_custom(ctx, a),
        What::Oauth2(a) => oauth2::run(ctx, a),
        What::Connector(a) => connector::run(ctx, a),
    }
}

fn add_custom(ctx: &Ctx, args: CustomArgs) -> crate::error::CommandResult {
    let ty = custom::find(&args.kind).ok_or_else(|| {
        let ids: Vec<&str> = custom::all().iter().map(|t| t.id.as_str()).collect();
        let e = usage(format!("unknown custom auth type '{}'", args.kind));
        match super::form::suggest(&args.kind, ids.iter().copied()) {
            Some(s) => e.hint(format!("did you mean '{s}'? types: {}", ids.join(", "))),
            None => e.hint(format!("types: {}", ids.join(", "))),
        }
    })?;
    let form = Form {
        fields: &ty.fields,
        free_form: ty.free_form,
    };
    let name = config_name(ctx, args.common.name.as_deref())?;
    // Parse everything before asking anything, so bad flags fail fast.
    let mut warnings = vec![];
    let mut values = form.given(&args.common.fields, &mut warnings)?;
    if !args.common.allow_startup_vars {
        crate::export::refuse_startup_vars(&name, values.keys().map(String::as_str))?;
    }
    let s = ctx.session()?;
    refuse_existing(
        &s,
        &name,
        args.common.force,
        "choose another --name, or pass --force to replace it",
    )?;
    form.complete(
        &mut values,
        ctx.interactive && !args.common.fields.stdin_taken(),
    )?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    let mut doc = ConfigDoc::new(&name, Kind::Custom, &ty.seed);
    doc.fields = values;
    doc.meta.group = group(args.common.group.as_deref())?;
    doc.meta.allow_startup_vars = args.common.allow_startup_vars;
    doc.refresh_account();
    if super::oauth_flow::is_manual_oauth2(&doc)
        && doc.get("access_token").is_none_or(str::is_empty)
    {
        return add_manual_oauth2(ctx, &s, doc, &args);
    }
    crate::ops::config::create(&s, &doc, args.common.force, &format!("custom {}", ty.seed))?;
    eprintln!("Added '{name}' ({})", ty.title);
    Ok(())
}

/// `add custom oauth2` with no token yet: at a terminal the authorization
/// runs now, as `add oauth2 custom` (the one OAuth2 path); otherwise it is
/// saved for `authcfg reauth NAME` to authorize.
fn add_manual_oauth2(
    ctx: &Ctx,
    s: &Session,
    doc: ConfigDoc,
    args: &CustomArgs,
) -> crate::error::CommandResult {
    let name = doc.meta.name.clone();
    let now = ctx.interactive
        && dialoguer::Confirm::new()
            .with_prompt("Authorize it now (opens the browser, or the device flow without one)?")
            .default(true)
            .interact()?;
    if !now {
        crate::ops::config::create(s, &doc, args.common.force, "custom oauth2")?;
        eprintln!("Added '{name}' (OAuth 2.0, not authorized yet)");
        eprintln!("note: `authcfg reauth {name}` runs the authorization and keeps its tokens");
        return Ok(());
    }
    let mut doc = super::oauth_flow::as_oauth2(&doc, false)?;
    if let Err(e) = super::oauth_flow::authorize(ctx, &mut doc, &args.flow) {
        crate::ops::config::note_failed_authorization(s, &name, &e);
        return Err(oauth2::unsaved(e, None).into());
    }
    crate::ops::config::create(
        s,
        &doc,
        args.common.force,
        &format!(
            "oauth2 custom, authorized ({})",
            doc.get("grant").unwrap_or_default()
        ),
    )?;
    eprintln!(
        "Authorized '{name}'{}",
        doc.meta
            .account
            .as_ref()
            .map(|a| format!(" as {a}"))
            .unwrap_or_default()
    );
    Ok(())
}
