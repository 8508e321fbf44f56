//! `authcfg rotate NAME`: replace a credential. Database and cache passwords
//! rotate in two phases on the server (set with the current or --admin
//! credentials, prove with a fresh connection, then save); other secrets take
//! a new value from stdin or a generated one. The old value goes to history.

use super::Ctx;
use crate::error::usage;
use crate::model::{ConfigDoc, Kind};
use crate::secret::Secret;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Config name
    #[arg(required_unless_present_any = ["master_key", "rewrap"], add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    name: Option<String>,
    /// Rotate the store's master key instead (re-encrypts every config)
    #[arg(long, conflicts_with_all = ["value_stdin", "generate", "field", "admin"])]
    master_key: bool,
    /// Re-seal every key-service recipient under its key's newest version
    /// (after rotating the transit key), and re-sign the header
    #[arg(long, conflicts_with_all = ["name", "master_key", "value_stdin", "generate", "field", "admin"])]
    rewrap: bool,
    /// With --master-key: forget the retained old key
    #[arg(long, requires = "master_key")]
    finish: bool,
    /// With --master-key: also write the new key to this new file (0600), before the store switches; required when the key comes from AUTHCFG_IDENTITY
    #[arg(long, value_name = "FILE", requires = "master_key")]
    identity_out: Option<std::path::PathBuf>,
    /// Read the new value from standard input
    #[arg(long, conflicts_with = "generate")]
    value_stdin: bool,
    /// Generate a strong random value (the default for database passwords)
    #[arg(long)]
    generate: bool,
    /// Length of a generated value
    #[arg(long, default_value_t = 32, value_name = "N")]
    length: usize,
    /// Characters of a generated value: alnum, hex or symbols
    #[arg(long, default_value = "alnum", value_parser = ["alnum", "hex", "symbols"])]
    charset: String,
    /// The field to rotate (default: the type's secret field)
    #[arg(long, value_name = "FIELD")]
    field: Option<String>,
    /// Connect as this other config to change the password on the server
    #[arg(long, value_name = "CONFIG")]
    admin: Option<String>,
    /// Show what would happen, change nothing
    #[arg(long)]
    dry_run: bool,
    /// Seconds each server step may take
    #[arg(long, value_name = "S", default_value_t = 10)]
    timeout: u64,
}

fn master(ctx: &Ctx, args: &Args) -> crate::error::CommandResult {
    let mut s = crate::ops::Session::open_with(
        &ctx.settings,
        &ctx.store_dir,
        &super::UI,
        args.identity_out.as_deref(),
    )?;
    if args.finish {
        if crate::ops::master_key::finish(&s)? {
            eprintln!("The old master key is forgotten; only the new one opens this store");
        } else {
            eprintln!("No retained old key: nothing to finish");
        }
        return Ok(());
    }
    if args.dry_run {
        outln!(
            "Would generate a new master key, re-encrypt every config to it and switch {}",
            s.key.source
        );
        return Ok(());
    }
    let r = crate::ops::master_key::rotate(&mut s, args.identity_out.as_deref())?;
    eprintln!(
        "Rotated the master key: {} configs re-encrypted to {}",
        r.files,
        crate::store::short_key(&r.new_public)
    );
    for n in &r.notes {
        eprintln!("{n}");
    }
    eprintln!("The old key is kept, encrypted to the new one, until `authcfg rotate --master-key --finish`.");
    Ok(())
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    use crate::ops::rotate as op;
    if args.master_key {
        return master(ctx, &args);
    }
    if args.rewrap {
        let s = ctx.session()?;
        if args.dry_run {
            let n = s
                .store
                .header()
                .recipients
                .iter()
                .filter(|r| r.custody.is_some())
                .count();
            outln!("Would rewrap {n} key-service recipient(s) and re-sign the header");
            return Ok(());
        }
        let (n, c) = crate::ops::recipients::rewrap(&s)?;
        eprintln!(
            "Rewrapped {n} key-service recipient(s); {} configs re-encrypted",
            c.files
        );
        drop(s);
        super::sync::after_write(ctx)?;
        return Ok(());
    }
    let name = crate::store::canonical_name(
        args.name
            .as_deref()
            .expect("clap requires NAME without --master-key or --rewrap"),
    )?;
    let s = ctx.session()?;
    let doc = s.store.read(&name)?;
    if doc.meta.kind == Kind::Oauth2 && !args.value_stdin && !args.generate {
        return rotate_oauth(ctx, &s, doc, &args);
    }
    let field = op::secret_field(&doc, args.field.as_deref())?;
    let connector = op::on_server(&doc, &field);
    let new = if args.value_stdin {
        super::form::read_stdin_value(&field)?
    } else if args.generate || connector.is_some() {
        Secret::new(op::generate(args.length, &args.charset))
    } else {
        return Err(usage(format!("'{name}' needs a new value for {field}"))
            .hint("pass --value-stdin (the new key from the provider) or --generate")
            .into());
    };
    op::validate(&doc, &field, &new)?;
    let timeout = Duration::from_secs(args.timeout.max(1));
    if let Some(c) = connector {
        if args.dry_run {
            let admin = match &args.admin {
                Some(a) => s.store.read(&crate::store::canonical_name(a)?)?,
                None => doc.clone(),
            };
            outln!("Plan for '{name}' ({}):", c.title);
            outln!(
                "  1. connect to {}:{} as {}",
                doc.get("host").unwrap_or_default(),
                doc.get("port").unwrap_or_default(),
                admin.get("username").unwrap_or_default()
            );
            outln!(
                "  2. set a new {}-character password for {}",
                new.expose().chars().count(),
                doc.get("username").unwrap_or_default()
            );
            outln!("  3. prove it with a fresh connection; on failure put the old one back");
            outln!("  4. save it; the old password goes to `authcfg history {name}`");
            return Ok(());
        }
        let admin = args
            .admin
            .as_deref()
            .map(crate::store::canonical_name)
            .transpose()?;
        op::on_server_password(&s, &doc, c, &field, new, admin.as_deref(), timeout)?;
        eprintln!(
            "Rotated the password of '{name}' on the server; a fresh connection with it works"
        );
        return Ok(());
    }
    if args.dry_run {
        outln!("Would replace {field} of '{name}' and keep the old value in its history");
        return Ok(());
    }
    op::new_value(&s, &name, &field, new)?;
    if args.value_stdin {
        eprintln!("Rotated {field} of '{name}'");
    } else {
        eprintln!(
            "Rotated {field} of '{name}' (generated; reveal it with `authcfg show {name} --reveal`)"
        );
    }
    Ok(())
}

/// OAuth2: revoke the current tokens, then authorize afresh. (A new client
/// secret is `rotate NAME --value-stdin`.)
fn rotate_oauth(
    ctx: &Ctx,
    s: &crate::ops::Session,
    mut doc: ConfigDoc,
    args: &Args,
) -> crate::error::CommandResult {
    let name = doc.meta.name.clone();
    if args.dry_run {
        outln!("Would revoke the tokens of '{name}' at the provider and run a new authorization");
        return Ok(());
    }
    match crate::oauth::tokens::revoke(&doc) {
        Ok(true) => eprintln!("Revoked the old tokens of '{name}'"),
        Ok(false) => eprintln!("note: the provider has no revocation endpoint; the old tokens stay valid until they expire"),
        Err(e) => super::say("warning: could not revoke the old tokens: ", &e),
    }
    doc.remember(
        &["refresh_token".to_string(), "access_token".to_string()],
        "rotate",
    );
    doc.fields.remove("refresh_token");
    doc.fields.remove("access_token");
    super::oauth_flow::authorize(
        ctx,
        &mut doc,
        &super::oauth_flow::FlowArgs {
            timeout: args.timeout.max(60),
            ..Default::default()
        },
    )?;
    crate::ops::rotate::save_authorization(s, &doc, "rotate", "oauth2 tokens")?;
    eprintln!("Rotated the tokens of '{name}'");
    Ok(())
}
