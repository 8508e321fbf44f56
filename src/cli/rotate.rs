//! `authcfg rotate NAME`: replace a credential. Database and cache passwords
//! rotate in two phases on the server (set with the current or --admin
//! credentials, prove with a fresh connection, then save); other secrets take
//! a new value from stdin or a generated one. The old value goes to history.

use super::Ctx;
use crate::catalog;
use crate::connectors::{self, rotate as server};
use crate::error::{usage, Exit, UserError};
use crate::model::{ConfigDoc, Kind};
use crate::secret::Secret;
use rand::Rng;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Config name
    #[arg(required_unless_present = "master_key")]
    name: Option<String>,
    /// Rotate the store's master key instead (re-encrypts every config)
    #[arg(long, conflicts_with_all = ["value_stdin", "generate", "field", "admin"])]
    master_key: bool,
    /// With --master-key: forget the retained old key
    #[arg(long, requires = "master_key")]
    finish: bool,
    /// With --master-key and a key from AUTHCFG_IDENTITY: write the new key here (0600) instead of stdout
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

fn master(ctx: &Ctx, args: &Args) -> anyhow::Result<i32> {
    let store = ctx.open()?;
    if args.finish {
        let _ = ctx.unlock()?;
        return super::master_key::finish(ctx, &store);
    }
    if super::master_key::in_progress(&store) {
        // Resume with the output path the user gives now.
        let prompt = || None;
        let key = crate::keys::load(&store, &prompt)?;
        super::master_key::resume(ctx, &store, &key, args.identity_out.as_deref())?;
        return Ok(0);
    }
    let (store, key) = ctx.unlock()?;
    if args.dry_run {
        println!(
            "Would generate a new master key, re-encrypt every config to it and switch {}",
            key.source
        );
        return Ok(0);
    }
    super::master_key::start(ctx, &store, key, args.identity_out.as_deref())
}

pub fn generate(length: usize, charset: &str) -> String {
    let chars: &[u8] = match charset {
        "hex" => b"0123456789abcdef",
        "symbols" => b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.~!@#%^*+=",
        _ => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    };
    let mut rng = rand::rng();
    (0..length.clamp(12, 256))
        .map(|_| chars[rng.random_range(0..chars.len())] as char)
        .collect()
}

/// The field that holds the credential, by type.
fn secret_field(doc: &ConfigDoc, given: Option<&str>) -> anyhow::Result<String> {
    if let Some(f) = given {
        return Ok(f.to_string());
    }
    let (fields, _) = catalog::spec_for(doc.meta.kind, &doc.meta.type_id).unwrap_or((&[], true));
    let candidates: Vec<&str> = fields
        .iter()
        .filter(|f| f.secret && f.prompt && f.kind != crate::catalog::FieldKind::Text)
        .map(|f| f.name.as_str())
        .collect();
    let preferred = [
        "password",
        "api_key",
        "token",
        "client_secret",
        "secret_access_key",
        "api_token",
        "auth_token",
    ];
    preferred
        .iter()
        .find(|p| candidates.contains(p))
        .or(candidates.first())
        .map(|s| s.to_string())
        .ok_or_else(|| {
            usage(format!(
                "'{}' has no single secret field to rotate",
                doc.meta.name
            ))
            .hint("name it with --field FIELD")
            .into()
        })
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<i32> {
    if args.master_key {
        return master(ctx, &args);
    }
    let name = args
        .name
        .clone()
        .expect("clap requires NAME without --master-key");
    crate::store::validate_name(&name)?;
    let (store, key) = ctx.unlock()?;
    let doc = store.read(&key.identity, &name)?;
    if doc.meta.kind == Kind::Oauth2 && !args.value_stdin && !args.generate {
        return rotate_oauth(ctx, &store, &key, doc, &args);
    }
    let field = secret_field(&doc, args.field.as_deref())?;
    let connector = (doc.meta.kind == Kind::Connector)
        .then(|| connectors::catalog::find(&doc.meta.type_id))
        .flatten();
    let on_server = connector.is_some_and(|c| server::supported(&c.probe)) && field == "password";
    let new = if args.value_stdin {
        super::form::read_stdin_value(&field)?
    } else if args.generate || on_server {
        Secret::new(generate(args.length, &args.charset))
    } else {
        return Err(usage(format!("'{}' needs a new value for {field}", name))
            .hint("pass --value-stdin (the new key from the provider) or --generate")
            .into());
    };
    if let Some((fields, _)) = catalog::spec_for(doc.meta.kind, &doc.meta.type_id) {
        if let Some(spec) = fields.iter().find(|f| f.name == field) {
            spec.validate(new.expose())?;
        }
    }
    let timeout = Duration::from_secs(args.timeout.max(1));
    if on_server {
        let c = connector.expect("on_server implies a connector");
        let admin = match &args.admin {
            Some(a) => store.read(&key.identity, a)?,
            None => doc.clone(),
        };
        let user = doc.get("username").unwrap_or_default().to_string();
        if args.dry_run {
            println!("Plan for '{}' ({}):", name, c.title);
            println!(
                "  1. connect to {}:{} as {}",
                doc.get("host").unwrap_or_default(),
                doc.get("port").unwrap_or_default(),
                admin.get("username").unwrap_or_default()
            );
            println!(
                "  2. set a new {}-character password for {user}",
                new.expose().chars().count()
            );
            println!("  3. prove it with a fresh connection; on failure put the old one back");
            println!(
                "  4. save it; the old password goes to `authcfg history {}`",
                name
            );
            return Ok(0);
        }
        // Phase 0: save the new password first, the old one in the history,
        // so no instant exists where the server has a password the store
        // has lost. Failures below put the old one back in both places.
        let old = doc.get(&field).unwrap_or_default().to_string();
        store.update(&key.identity, &name, |d| {
            d.remember(std::slice::from_ref(&field), "rotate");
            d.fields.insert(field.clone(), new.clone());
            Ok(())
        })?;
        let restore = |why: &str| -> anyhow::Result<()> {
            store.update(&key.identity, &name, |d| {
                d.fields.insert(field.clone(), Secret::new(old.clone()));
                if d.history.first().is_some_and(|h| h.by == "rotate") {
                    d.history.remove(0);
                }
                Ok(())
            })?;
            ctx.audit("rotate", Some(&name), "error", Some(why));
            Ok(())
        };
        if let Err(reason) = server::set_password(&c.probe, &admin, &user, new.expose(), timeout) {
            restore("server refused")?;
            return Err(UserError::new(Exit::Error, format!("the server refused to change the password: {reason}"))
                .hint("nothing changed: the old password still works and is saved; pass --admin CONFIG to use an account allowed to change it")
                .into());
        }
        let mut fresh = doc.clone();
        fresh.fields.insert(field.clone(), new.clone());
        let outcome = connectors::probe(&fresh, timeout);
        if !outcome.passed() {
            // Put the old one back, connected with the new one (or the admin).
            let back_admin = if args.admin.is_some() {
                admin
            } else {
                fresh.clone()
            };
            let state = match server::set_password(&c.probe, &back_admin, &user, &old, timeout) {
                Ok(()) => {
                    restore("new password failed its test")?;
                    "the old password was put back on the server and in the config".to_string()
                }
                Err(e) => {
                    ctx.audit(
                        "rotate",
                        Some(&name),
                        "error",
                        Some("new password failed; revert failed"),
                    );
                    format!("putting the old one back failed ({e}); the NEW password stays saved and the old one is in `authcfg history`")
                }
            };
            return Err(UserError::new(
                Exit::TestFailed,
                format!(
                    "the new password did not work ({}: {}); {state}",
                    outcome.class.label(),
                    outcome.detail
                ),
            )
            .into());
        }
        store.update(&key.identity, &name, |d| {
            d.meta.rotated = crate::model::now();
            d.meta.last_test = Some(outcome.record());
            Ok(())
        })?;
        ctx.audit("rotate", Some(&name), "ok", Some("server password"));
        eprintln!(
            "Rotated the password of '{}' on the server; a fresh connection with it works",
            name
        );
        return Ok(0);
    }
    if args.dry_run {
        println!(
            "Would replace {field} of '{}' and keep the old value in its history",
            name
        );
        return Ok(0);
    }
    store.update(&key.identity, &name, |d| {
        d.remember(std::slice::from_ref(&field), "rotate");
        d.fields.insert(field.clone(), new.clone());
        d.meta.rotated = crate::model::now();
        d.meta.last_test = None;
        Ok(())
    })?;
    ctx.audit("rotate", Some(&name), "ok", Some(&field));
    eprintln!(
        "Rotated {field} of '{}'{}",
        name,
        if args.value_stdin {
            ""
        } else {
            " (generated; reveal it with `authcfg show NAME --reveal`)"
        }
    );
    Ok(0)
}

/// OAuth2: revoke the current tokens, then authorize afresh. (A new client
/// secret is `rotate NAME --value-stdin`.)
fn rotate_oauth(
    ctx: &Ctx,
    store: &crate::store::Store,
    key: &crate::keys::MasterKey,
    mut doc: ConfigDoc,
    args: &Args,
) -> anyhow::Result<i32> {
    let name = doc.meta.name.clone();
    if args.dry_run {
        println!("Would revoke the tokens of '{name}' at the provider and run a new authorization");
        return Ok(0);
    }
    match crate::oauth::tokens::revoke(&doc) {
        Ok(true) => eprintln!("Revoked the old tokens of '{name}'"),
        Ok(false) => eprintln!("note: the provider has no revocation endpoint; the old tokens stay valid until they expire"),
        Err(e) => eprintln!("warning: could not revoke the old tokens: {e}"),
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
    let fresh = doc.clone();
    store.update(&key.identity, &name, move |d| {
        d.fields = fresh.fields;
        d.history = fresh.history;
        d.meta.expires = fresh.meta.expires;
        d.meta.account = fresh.meta.account;
        d.meta.rotated = crate::model::now();
        d.meta.last_test = None;
        Ok(())
    })?;
    ctx.audit("rotate", Some(&name), "ok", Some("oauth2 tokens"));
    eprintln!("Rotated the tokens of '{name}'");
    Ok(0)
}
