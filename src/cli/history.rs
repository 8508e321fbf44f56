//! `authcfg history NAME` and `authcfg rollback NAME [--to N]`.

use super::Ctx;
use crate::model::rfc3339;

#[derive(clap::Args)]
pub struct Args {
    /// Config name
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    name: String,
    /// Show the previous values in full
    #[arg(long)]
    reveal: bool,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct RollbackArgs {
    /// Config name
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    name: String,
    /// Which previous value (1 = the most recent)
    #[arg(long, default_value_t = 1, value_name = "N")]
    to: usize,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let name = crate::store::canonical_name(&args.name)?;
    let s = ctx.session()?;
    let doc = s.store.read(&name)?;
    if args.reveal {
        s.audit("reveal", Some(&name), "ok", Some("history"));
    }
    let shown = |v: &crate::secret::Secret| {
        if args.reveal {
            v.expose().to_string()
        } else {
            v.masked()
        }
    };
    if args.json {
        let rows: Vec<_> = doc
            .history
            .iter()
            .enumerate()
            .map(|(i, h)| {
                serde_json::json!({
                    "n": i + 1,
                    "replaced": rfc3339(h.replaced),
                    "by": h.by,
                    "fields": h.fields.iter().map(|(k, v)| (k.clone(), shown(v))).collect::<std::collections::BTreeMap<_, _>>(),
                })
            })
            .collect();
        return Ok(super::print_json(&rows)?);
    }
    if doc.history.is_empty() {
        eprintln!("'{name}' has no previous values");
        return Ok(());
    }
    for (i, h) in doc.history.iter().enumerate() {
        let fields: Vec<String> = h
            .fields
            .iter()
            .map(|(k, v)| format!("{k}={}", shown(v)))
            .collect();
        outln!(
            "{:>2}  replaced {}  by {:<13} {}",
            i + 1,
            rfc3339(h.replaced),
            h.by,
            fields.join(" ")
        );
    }
    Ok(())
}

pub fn rollback(ctx: &Ctx, args: RollbackArgs) -> crate::error::CommandResult {
    let name = crate::store::canonical_name(&args.name)?;
    let s = ctx.session()?;
    let restored = crate::ops::config::rollback(&s, &name, args.to)?;
    eprintln!("Rolled '{name}' back ({})", restored.fields.join(", "));
    if restored.kind == crate::model::Kind::Connector {
        eprintln!("note: only the stored value changed; if the server has the newer password, run `authcfg rotate {name}`");
    }
    Ok(())
}
