//! `authcfg refresh [NAME... | --all] [--force]`, and the single-flight
//! refresh every token consumer goes through.

use super::Ctx;
use crate::error::usage;
use crate::keys::MasterKey;
use crate::model::{ConfigDoc, Kind, TestRecord};
use crate::oauth::tokens;
use crate::store::Store;

#[derive(clap::Args)]
pub struct Args {
    /// Config name(s)
    names: Vec<String>,
    /// Every OAuth2 config
    #[arg(long, conflicts_with = "names")]
    all: bool,
    /// Refresh even when the access token is still fresh
    #[arg(long)]
    force: bool,
}

/// Returns the config with a usable access token, refreshing it first when
/// it expires within the skew. Across processes only one refreshes: the
/// others wait on the writer lock, re-read, and find the new token.
pub fn ensure_fresh(
    ctx: &Ctx,
    store: &Store,
    key: &MasterKey,
    doc: ConfigDoc,
    force: bool,
) -> anyhow::Result<ConfigDoc> {
    if !tokens::is_oauth(&doc) || !(force || tokens::needs_refresh(&doc)) {
        return Ok(doc);
    }
    let name = doc.meta.name.clone();
    let mut refreshed = false;
    let result = store.update_if(&key.identity, &name, |d| {
        if force || tokens::needs_refresh(d) {
            tokens::refresh(d)?;
            refreshed = true;
            return Ok(true);
        }
        Ok(false)
    });
    match result {
        Ok(d) => {
            if refreshed {
                ctx.audit("refresh", Some(&name), "ok", None);
            }
            Ok(d)
        }
        Err(e) => {
            ctx.audit("refresh", Some(&name), "error", Some(&e.to_string()));
            let detail = e.to_string();
            let _ = store.update(&key.identity, &name, |d| {
                d.meta.last_test = Some(TestRecord {
                    at: crate::model::now(),
                    ok: false,
                    class: "auth".into(),
                    detail: format!("refresh failed: {detail}"),
                });
                Ok(())
            });
            Err(e)
        }
    }
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<i32> {
    let (store, key) = ctx.unlock()?;
    let names: Vec<String> = if args.all {
        store
            .index(&key.identity)?
            .configs
            .values()
            .filter(|m| m.kind == Kind::Oauth2)
            .map(|m| m.name.clone())
            .collect()
    } else if args.names.is_empty() {
        return Err(usage("name the configs to refresh, or pass --all").into());
    } else {
        args.names.clone()
    };
    let mut failed = 0;
    for n in &names {
        let doc = store.read(&key.identity, n)?;
        if !tokens::is_oauth(&doc) {
            return Err(usage(format!("'{n}' is not an OAuth2 config")).into());
        }
        let before = doc.meta.expires;
        match ensure_fresh(ctx, &store, &key, doc, args.force) {
            Ok(d) if d.meta.expires != before || args.force => eprintln!(
                "Refreshed '{n}'{}",
                d.meta
                    .expires
                    .map(|e| format!(", valid until {}", crate::model::rfc3339(e)))
                    .unwrap_or_default()
            ),
            Ok(_) => eprintln!("'{n}' is still fresh (use --force to refresh anyway)"),
            Err(e) => {
                failed += 1;
                eprintln!("error: {n}: {e}");
                if let (_, Some(h)) = crate::error::classify(&e) {
                    eprintln!("hint: {h}");
                }
            }
        }
    }
    Ok(if failed > 0 {
        crate::error::Exit::OAuth as i32
    } else {
        0
    })
}
