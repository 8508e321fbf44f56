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
pub struct ConflictsArgs {
    /// Only this config
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    name: Option<String>,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
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
        super::say("note: ", n);
    }
    if r.pushed {
        eprintln!("pushed");
    }
}

/// `name (field, field)` for each config in conflict.
fn conflict_list(c: &[(String, Vec<String>)]) -> String {
    c.iter()
        .map(|(n, f)| {
            let f: Vec<&str> = f
                .iter()
                .map(|k| k.strip_prefix("fields.").unwrap_or(k))
                .collect();
            if f.is_empty() {
                n.clone()
            } else {
                format!("{n} ({})", f.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    if team::joining(&ctx.store_dir) {
        // A pending or interrupted clone: joined first (fetching what the
        // admin pushed since), then synced as usual.
        let cloned = team::complete_join(&ctx.settings, &ctx.store_dir, &super::UI, true)?;
        super::git::render_cloned(ctx, &cloned);
        if matches!(cloned, team::Cloned::Pending(_)) {
            return Err(crate::error::CommandError::reported(
                crate::error::Exit::NoKey,
            ));
        }
    }
    let s = ctx.session()?;
    let r = team::sync(&s, !args.no_pull, !args.no_push)?;
    render(&r);
    if !r.conflicts.is_empty() {
        eprintln!(
            "error: {} config(s) changed the same field on both sides: {}",
            r.conflicts.len(),
            conflict_list(&r.conflicts)
        );
        eprintln!("they hold this clone's values for now; nothing was pushed");
        eprintln!(
            "hint: `authcfg conflicts` shows both sides of each field; `authcfg resolve {} --theirs` (or --ours, or --field FIELD=theirs) ends a conflict; then `authcfg sync`",
            r.conflicts[0].0
        );
        return Err(crate::error::CommandError::reported(
            crate::error::Exit::Error,
        ));
    }
    if !r.pushed && r.remote && !args.no_push {
        eprintln!("up to date");
    }
    Ok(())
}

/// `authcfg conflicts [NAME]`: each conflicting field with both sides.
pub fn conflicts(ctx: &Ctx, args: ConflictsArgs) -> crate::error::CommandResult {
    let name = args
        .name
        .as_deref()
        .map(crate::store::canonical_name)
        .transpose()?;
    let s = ctx.session()?;
    let list = team::conflicts(&s, name.as_deref())?;
    if args.json {
        let v: Vec<serde_json::Value> = list
            .iter()
            .map(|c| {
                serde_json::json!({
                    "name": c.name,
                    "fields": c.fields.iter().map(|f| serde_json::json!({
                        "field": f.key,
                        "secret": f.secret,
                        "ours": f.ours,
                        "theirs": f.theirs,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        super::print_json(&v)?;
        return Ok(());
    }
    if list.is_empty() {
        match &name {
            Some(n) => eprintln!("'{n}' is not in conflict"),
            None => eprintln!("No conflicts."),
        }
        return Ok(());
    }
    for c in &list {
        print_conflict(c)?;
    }
    if let Some(h) = resolve_hint(&list[0]) {
        eprintln!("hint: {h}");
    }
    Ok(())
}

/// How to end this conflict, as a command that runs as printed.
pub fn resolve_hint(c: &team::ConflictView) -> Option<String> {
    let f = c.fields.first()?;
    Some(format!(
        "`authcfg resolve {} --field {}=theirs` takes their value (=ours keeps yours; --ours or --theirs decides every field), then `authcfg sync`",
        c.name, f.key
    ))
}

/// One config's conflicting fields, both sides; values from the other
/// side are outside text (escaped), secrets are masked tails.
pub fn print_conflict(c: &team::ConflictView) -> anyhow::Result<()> {
    use crate::text::escape;
    let shown = |v: &Option<String>| match v {
        Some(v) => escape(v, 120).into_owned(),
        None => "(removed)".into(),
    };
    outln!("{}: changed on both sides by a sync", c.name);
    let width = c.fields.iter().map(|f| f.key.len()).max().unwrap_or(0);
    for f in &c.fields {
        outln!(
            "  {:width$}  ours: {}   theirs: {}{}",
            f.key,
            shown(&f.ours),
            shown(&f.theirs),
            if f.secret { "   (secret, masked)" } else { "" }
        );
    }
    Ok(())
}

pub fn resolve(ctx: &Ctx, args: ResolveArgs) -> crate::error::CommandResult {
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
        let took: Vec<&str> = took
            .iter()
            .map(|k| k.strip_prefix("fields.").unwrap_or(k))
            .collect();
        eprintln!(
            "'{name}': took the other side's {}; `authcfg sync` shares it",
            took.join(", ")
        );
    }
    Ok(())
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
            "warning: saved, but the sync stopped at conflicts: {}; `authcfg conflicts` shows them, `authcfg resolve` ends them, then `authcfg sync`",
            conflict_list(&r.conflicts)
        ),
        Ok(_) => {}
        Err(e) => {
            super::say("warning: saved, but not synced: ", &e);
            eprintln!("hint: run `authcfg sync`");
        }
    }
    Ok(())
}
