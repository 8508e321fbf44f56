//! `authcfg sync` and `authcfg resolve`: share a team store through git
//! (`ops::team`).

use super::Ctx;
use crate::error::usage;
use crate::ops::team::{self, Choice, Synced};

#[derive(clap::Args)]
pub struct Args {
    /// Commit and push only (no fetch, no merge)
    #[arg(long, conflicts_with = "no_push")]
    no_pull: bool,
    /// Commit, fetch and merge, but do not push
    #[arg(long)]
    no_push: bool,
}

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("choice").required(true).args(["ours", "theirs", "field"])))]
pub struct ResolveArgs {
    /// The config in conflict
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    name: String,
    /// Keep this clone's values of every conflicting field
    #[arg(long)]
    ours: bool,
    /// Take the other side's values of every conflicting field
    #[arg(long)]
    theirs: bool,
    /// FIELD=ours or FIELD=theirs for one field (repeatable; unnamed conflicting fields keep ours)
    #[arg(long, value_name = "FIELD=ours|theirs")]
    field: Vec<String>,
}

pub const SYNC_ABOUT: &str = "Share a team store through git: commit this clone's changes, fetch, verify, merge, push.

Everything fetched is verified before it is used: the remote's header must be signed by the admin key this clone trusts (a recipient change pushed by anyone else is refused and shown), and every config it changed must authenticate. Configs are merged decrypted, field by field: different configs or fields merge cleanly, OAuth2 token sets take the most recently obtained one, histories are united. The same field changed on both sides keeps this clone's value, keeps the other encrypted under conflicts/, and sync does not push until `authcfg resolve`. A push that lost a race to another clone is merged and retried.";

fn render(r: &Synced) {
    if r.committed > 0 {
        eprintln!("committed {} changed config(s)", r.committed);
    }
    if !r.pulled.is_empty() {
        eprintln!("pulled: {}", r.pulled.join(", "));
    }
    if !r.merged.is_empty() {
        eprintln!("merged field by field: {}", r.merged.join(", "));
    }
    if r.header_changed {
        eprintln!("the store header changed (signed by the admin): recipients or keys");
    }
    for n in &r.notes {
        eprintln!("note: {n}");
    }
    if r.pushed {
        eprintln!("pushed");
    }
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<i32> {
    let s = ctx.session()?;
    let r = team::sync(&s, !args.no_pull, !args.no_push)?;
    render(&r);
    if !r.conflicts.is_empty() {
        eprintln!(
            "error: {} config(s) changed the same field on both sides: {}",
            r.conflicts.len(),
            r.conflicts.join(", ")
        );
        eprintln!("they hold this clone's values for now; nothing was pushed");
        eprintln!("hint: `authcfg resolve NAME --ours|--theirs|--field FIELD=ours|theirs`, then `authcfg sync`");
        return Ok(crate::error::Exit::Error as i32);
    }
    if !r.pushed && r.remote && !args.no_push {
        eprintln!("up to date");
    }
    Ok(0)
}

pub fn resolve(ctx: &Ctx, args: ResolveArgs) -> anyhow::Result<i32> {
    let name = crate::store::canonical_name(&args.name)?;
    let choice = if args.ours {
        Choice::Ours
    } else if args.theirs {
        Choice::Theirs
    } else {
        let mut v = vec![];
        for f in &args.field {
            let (k, side) = f.split_once('=').ok_or_else(|| {
                usage(format!("--field {f}: expected FIELD=ours or FIELD=theirs"))
            })?;
            let theirs = match side {
                "ours" => false,
                "theirs" => true,
                _ => return Err(usage(format!("--field {k}=...: say ours or theirs")).into()),
            };
            v.push((k.to_string(), theirs));
        }
        Choice::Fields(v)
    };
    let s = ctx.session()?;
    let took = team::resolve(&s, &name, choice)?;
    if took.is_empty() {
        eprintln!("'{name}': kept this clone's values; `authcfg sync` shares it");
    } else {
        eprintln!(
            "'{name}': took the other side's {}; `authcfg sync` shares it",
            took.join(", ")
        );
    }
    Ok(0)
}

/// After a write, when the clone syncs by itself (`git autosync`). The
/// write has landed either way: a failed sync is a warning, not a failure
/// of the command.
pub fn after_write(ctx: &Ctx) -> anyhow::Result<()> {
    let mode = team::autosync(&ctx.store_dir);
    if mode == team::AutoSync::Off {
        return Ok(());
    }
    let synced = ctx
        .session()
        .and_then(|s| team::sync(&s, mode == team::AutoSync::PullPush, true));
    match synced {
        Ok(r) if !r.conflicts.is_empty() => eprintln!(
            "warning: saved, but the sync stopped at conflicts ({}); `authcfg resolve`, then `authcfg sync`",
            r.conflicts.join(", ")
        ),
        Ok(_) => {}
        Err(e) => eprintln!("warning: saved, but not synced: {e}
hint: run `authcfg sync`"),
    }
    Ok(())
}
