//! `authcfg history NAME` and `authcfg rollback NAME [--to N]`.

use super::Ctx;
use crate::error::usage;
use crate::model::rfc3339;

#[derive(clap::Args)]
pub struct Args {
    /// Config name
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
    name: String,
    /// Which previous value (1 = the most recent)
    #[arg(long, default_value_t = 1, value_name = "N")]
    to: usize,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<i32> {
    crate::store::validate_name(&args.name)?;
    let (store, key) = ctx.unlock()?;
    let doc = store.read(&key.identity, &args.name)?;
    if args.reveal {
        ctx.audit("reveal", Some(&args.name), "ok", Some("history"));
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
        return super::print_json(&rows).map(|_| 0);
    }
    if doc.history.is_empty() {
        eprintln!("'{}' has no previous values", args.name);
        return Ok(0);
    }
    for (i, h) in doc.history.iter().enumerate() {
        let fields: Vec<String> = h
            .fields
            .iter()
            .map(|(k, v)| format!("{k}={}", shown(v)))
            .collect();
        println!(
            "{:>2}  replaced {}  by {:<13} {}",
            i + 1,
            rfc3339(h.replaced),
            h.by,
            fields.join(" ")
        );
    }
    Ok(0)
}

pub fn rollback(ctx: &Ctx, args: RollbackArgs) -> anyhow::Result<i32> {
    crate::store::validate_name(&args.name)?;
    let (store, key) = ctx.unlock()?;
    let restored = store.update(&key.identity, &args.name, |d| {
        let entry = d
            .history
            .get(args.to.wrapping_sub(1))
            .cloned()
            .ok_or_else(|| {
                usage(format!(
                    "'{}' has {} previous value(s); --to {} is not one",
                    args.name,
                    d.history.len(),
                    args.to
                ))
            })?;
        d.history.remove(args.to - 1);
        let names: Vec<String> = entry.fields.keys().cloned().collect();
        d.remember(&names, "rollback");
        d.fields.extend(entry.fields);
        d.meta.rotated = crate::model::now();
        d.meta.last_test = None;
        Ok((names, d.meta.kind))
    })?;
    ctx.audit(
        "rollback",
        Some(&args.name),
        "ok",
        Some(&restored.0.join(", ")),
    );
    eprintln!("Rolled '{}' back ({})", args.name, restored.0.join(", "));
    if restored.1 == crate::model::Kind::Connector {
        eprintln!("note: only the stored value changed; if the server has the newer password, run `authcfg rotate {}`", args.name);
    }
    Ok(0)
}
