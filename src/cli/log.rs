//! `authcfg log [NAME]`: the audit trail; `--verify` checks its hash chain.

use super::Ctx;
use crate::error::{Exit, UserError};
use crate::store::audit;
use std::io::Write;

#[derive(clap::Args)]
pub struct Args {
    /// Only records about this config
    name: Option<String>,
    /// Check the hash chain instead of printing records
    #[arg(long)]
    verify: bool,
    /// Only the last N records
    #[arg(long, short = 'n', value_name = "N")]
    limit: Option<usize>,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    if args.verify {
        // Checking the keyed chain needs a member's key.
        let s = ctx.session()?;
        let store = &s.store;
        let v = store.verify_audit()?;
        if args.json {
            super::print_json(&v)?;
        }
        if v.problems.is_empty() {
            if !args.json {
                writeln!(
                    std::io::stdout(),
                    "audit trail intact: {} records",
                    v.records
                )?;
            }
            return Ok(());
        }
        if !args.json {
            let mut out = std::io::stdout().lock();
            for p in &v.problems {
                writeln!(out, "{}", esc(p))?;
            }
        }
        return Err(UserError::new(
            Exit::Error,
            format!(
                "the audit trail failed verification: {} problem(s) in {} records",
                v.problems.len(),
                v.records
            ),
        )
        .hint(format!(
            "compare {} with a backup",
            audit::path(store.root()).display()
        ))
        .into());
    }
    // The trail holds no secrets; reading it needs the store, not the key.
    crate::store::Store::read_header(&ctx.store_dir)?;
    let mut records: Vec<_> = audit::read_all(&ctx.store_dir)?
        .into_iter()
        .filter(|r| args.name.is_none() || r.config == args.name)
        .collect();
    if let Some(n) = args.limit {
        let skip = records.len().saturating_sub(n);
        records.drain(..skip);
    }
    if args.json {
        let mut v = serde_json::to_value(&records)?;
        crate::text::escape_json(&mut v, FIELD);
        return Ok(super::print_json(&v)?);
    }
    // Buffered, and a closed pipe (`log | head`) is an error, not a panic.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    for r in records {
        writeln!(
            out,
            "{}  {:<8} {:<24} {:<6} {}{}",
            esc(&r.time),
            esc(&r.action),
            esc(r.config.as_deref().unwrap_or("-")),
            esc(&r.outcome),
            esc(&r.user),
            r.detail
                .map(|d| format!("  {}", esc(&d)))
                .unwrap_or_default()
        )?;
    }
    out.flush()?;
    Ok(())
}

/// The trail is read without its key (and `access.jsonl` notes are written
/// by whoever failed): a record's text is outside text, printed with
/// control and bidirectional characters escaped and each field cut at
/// [`FIELD`] characters, one record per line, whatever it holds.
fn esc(text: &str) -> std::borrow::Cow<'_, str> {
    crate::text::escape(text, FIELD)
}

/// The longest field of a record `log` prints (authcfg writes far shorter
/// ones; an edited record may hold anything).
const FIELD: usize = 1000;
