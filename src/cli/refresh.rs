//! `authcfg refresh [NAME... | --all] [--force]`: refresh OAuth2 access
//! tokens now (every consumer refreshes when due anyway: `ops::refresh`).

use super::Ctx;
use crate::error::usage;
use crate::model::Kind;
use crate::oauth::tokens;

#[derive(clap::Args)]
pub struct Args {
    /// Config name(s)
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    names: Vec<String>,
    /// Every OAuth2 config
    #[arg(long, conflicts_with = "names")]
    all: bool,
    /// Refresh even when the access token is still fresh
    #[arg(long)]
    force: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let s = ctx.session()?;
    let names: Vec<String> = if args.all {
        s.store
            .list()?
            .into_iter()
            .filter(|m| m.kind == Kind::Oauth2)
            .map(|m| m.name)
            .collect()
    } else if args.names.is_empty() {
        return Err(usage("name the configs to refresh, or pass --all").into());
    } else {
        super::export::canonical(&args.names)?
    };
    let mut failed = 0;
    for n in &names {
        let doc = s.store.read(n)?;
        if !tokens::is_oauth(&doc) {
            return Err(usage(format!("'{n}' is not an OAuth2 config")).into());
        }
        let before = doc.meta.expires;
        match crate::ops::refresh::ensure_fresh(&s, doc, args.force) {
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
                super::say(&format!("error: {n}: "), &e);
                if let (_, Some(h)) = crate::error::classify(&e) {
                    super::say("hint: ", &h);
                }
            }
        }
    }
    if failed > 0 {
        return Err(crate::error::CommandError::reported(
            crate::error::Exit::OAuth,
        ));
    }
    Ok(())
}
