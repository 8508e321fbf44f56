//! `authcfg status`: which store, which key source, locked or not, and the
//! configs that need attention (in Error, expired, to re-authorize soon,
//! in conflict). Exit 0 when the store opens without asking, 5 (no key)
//! when it is locked, 1 when there is no store.

use super::Ctx;
use crate::error::Exit;
use crate::ops::status::{status, Status};

#[derive(clap::Args)]
pub struct Args {
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let st = status(&ctx.settings, &ctx.store_dir, &super::UI);
    if args.json {
        super::print_json(&st)?;
    } else {
        render(&st)?;
    }
    if !st.exists {
        Err(crate::error::CommandError::reported(Exit::Error))
    } else if st.locked {
        Err(crate::error::CommandError::reported(Exit::NoKey))
    } else {
        Ok(())
    }
}

fn render(st: &Status) -> anyhow::Result<()> {
    let role = st.role.map(|r| format!(" ({r})")).unwrap_or_default();
    if !st.exists {
        outln!(
            "Store:     {} (none here: `authcfg init` makes one)",
            st.store
        );
        return Ok(());
    }
    outln!("Store:     {}{role}", st.store);
    let cached = match st.key_cached {
        Some(true) => "; cached in the session keyring (`authcfg lock` drops it)",
        Some(false) => "; not cached",
        None => "",
    };
    match (&st.key_source, &st.locked_because) {
        (Some(source), _) => outln!("Key:       {source}, unlocked{cached}"),
        (None, because) => {
            // Messages authcfg composed (file names in them): the one
            // escape for messages (docs/ARCHITECTURE.md, "Outside text").
            let because = crate::text::escape_message(because.as_deref().unwrap_or("no key"));
            outln!(
                "Key:       locked{cached}: {}",
                because.replace('\n', "\n           ")
            );
            if let Some(h) = &st.unlock_hint {
                outln!("           {}", crate::text::escape_message(h));
            }
        }
    }
    let Some(c) = &st.configs else {
        outln!("Configs:   not readable while locked (`authcfg doctor` says what each key source lacks)");
        return Ok(());
    };
    let mut parts = vec![];
    for (n, what) in [
        (c.active, "active"),
        (c.error.len(), "in Error"),
        (c.expired.len(), "expired"),
        (c.untested, "untested"),
        (c.not_testable, "not testable"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    if c.total == 0 {
        outln!("Configs:   none yet (`authcfg add custom api-key --name prod/stripe` adds one)");
    } else {
        outln!("Configs:   {}: {}", c.total, parts.join(", "));
    }
    if !c.error.is_empty() {
        outln!(
            "Error:     {} (`authcfg test {}` says why)",
            c.error.join(", "),
            c.error.join(" ")
        );
    }
    if !c.expiring.is_empty() {
        let soon: Vec<String> = c
            .expiring
            .iter()
            .map(|e| {
                let when = match e.days {
                    0 => "now".to_string(),
                    1 => "within 1 day".to_string(),
                    d => format!("within {d} days"),
                };
                format!("{} {when} (`authcfg reauth {}`)", e.name, e.name)
            })
            .collect();
        outln!("Expiring:  re-authorize {}", soon.join(", "));
    }
    if !c.in_conflict.is_empty() {
        outln!(
            "Conflict:  {} (`authcfg conflicts` shows both sides)",
            c.in_conflict.join(", ")
        );
    }
    Ok(())
}
