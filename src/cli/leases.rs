//! `authcfg leases`: the database leases of `exec --lease` (`ops::lease`),
//! after a sweep that drops those that ended or whose holder is gone;
//! `authcfg leases revoke ID|--all` drops them now.

use super::Ctx;
use crate::error::usage;
use crate::ops::lease::{self, State};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Option<Sub>,
    /// As JSON
    #[arg(long)]
    json: bool,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Drop a lease's user now (the command holding it loses it)
    Revoke(RevokeArgs),
}

#[derive(clap::Args)]
struct RevokeArgs {
    /// The lease's id (or its user name)
    id: Option<String>,
    /// Every lease of this store
    #[arg(long, conflicts_with = "id")]
    all: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let s = ctx.session()?;
    if let Some(Sub::Revoke(r)) = args.command {
        if r.id.is_none() && !r.all {
            return Err(usage("name the lease to revoke, or --all")
                .hint("`authcfg leases` lists them")
                .into());
        }
        let done = lease::revoke(&s, r.id.as_deref())?;
        let failed = done.iter().filter(|w| w.error.is_some()).count();
        for w in &done {
            super::exec::swept_notice(w);
        }
        if failed > 0 {
            return Err(crate::error::failure(format!(
                "{failed} of {} leases could not be dropped; their records are kept",
                done.len()
            ))
            .into());
        }
        outln!("revoked {} lease(s)", done.len());
        return Ok(());
    }
    for w in lease::sweep(&s) {
        super::exec::swept_notice(&w);
    }
    let now = lease::now();
    let leases = lease::list(&s);
    if args.json {
        let rows: Vec<serde_json::Value> = leases
            .iter()
            .map(|(l, st)| {
                serde_json::json!({
                    "id": l.id,
                    "config": crate::text::Outside::new(l.config.clone()),
                    "engine": l.engine,
                    "user": l.user,
                    "created": l.created,
                    "expires": l.expires,
                    "pid": l.pid,
                    "state": st,
                })
            })
            .collect();
        super::print_json(&rows)?;
        return Ok(());
    }
    if leases.is_empty() {
        outln!("no leases");
        return Ok(());
    }
    outln!(
        "{:<12}  {:<26}  {:<20}  {:>9}  {:>8}  STATE",
        "ID",
        "USER",
        "CONFIG",
        "LEFT",
        "HOLDER"
    );
    for (l, st) in &leases {
        let left = l.expires - now;
        let left = if left > 0 {
            format!("{}m{:02}s", left / 60, left % 60)
        } else {
            "-".into()
        };
        outln!(
            "{:<12}  {:<26}  {:<20}  {:>9}  {:>8}  {}",
            l.id,
            l.user,
            crate::text::escape(&l.config, 20),
            left,
            l.pid,
            match st {
                State::Active => "active",
                State::Expired => "ended",
                State::Orphaned => "orphaned",
            }
        );
    }
    Ok(())
}
