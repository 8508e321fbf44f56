//! `authcfg show NAME`: one config, secrets masked unless --reveal.

use super::Ctx;
use crate::catalog;
use crate::model::{rfc3339, ConfigDoc};
use serde_json::{json, Map, Value};

#[derive(clap::Args)]
pub struct Args {
    /// Config name
    name: String,
    /// Show secret values in full
    #[arg(long)]
    reveal: bool,
    /// The seed's JSON shape: {"type", "name", "config"}
    #[arg(long)]
    json: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<i32> {
    let name = crate::store::canonical_name(&args.name)?;
    let s = ctx.session()?;
    let doc = s.store.read(&name)?;
    if args.reveal {
        s.audit("reveal", Some(&name), "ok", None);
    }
    let shown = |field: &str, value: &crate::secret::Secret| -> String {
        if args.reveal || !catalog::is_secret(doc.meta.kind, &doc.meta.type_id, field) {
            value.expose().to_string()
        } else {
            value.masked()
        }
    };
    if args.json {
        super::print_json(&seed_json(&doc, &shown, s.store.last_used(&name)))?;
        return Ok(0);
    }
    let m = &doc.meta;
    outln!("Name:      {}", m.name);
    outln!("Type:      {} ({})", m.kind_title(), m.title());
    if let Some(a) = &m.account {
        outln!("Account:   {a}");
    }
    outln!("Status:    {}", m.status());
    if let Some(t) = &m.last_test {
        outln!(
            "Tested:    {} ({}{})",
            rfc3339(t.at),
            if t.ok { "passed" } else { "failed" },
            if t.detail.is_empty() {
                String::new()
            } else {
                format!(": {}", t.detail)
            }
        );
    }
    outln!("Created:   {}", rfc3339(m.created));
    outln!("Updated:   {}", rfc3339(m.updated));
    outln!("Rotated:   {}", rfc3339(m.rotated));
    if let Some(e) = m.expires {
        outln!("Expires:   {}", rfc3339(e));
    }
    if let Some(g) = &m.group {
        outln!("Group:     {g} (readable by the master key and the group's members)");
    }
    if m.allow_startup_vars {
        outln!("Allowed:   variables that change how programs start (--allow-startup-vars)");
    }
    if !doc.fields.is_empty() {
        outln!("Fields:");
        let width = doc.fields.keys().map(|k| k.len()).max().unwrap_or(0);
        for (k, v) in &doc.fields {
            let text = shown(k, v);
            let text = if text.contains('\n') && !args.reveal {
                "(multi-line)".into()
            } else {
                text
            };
            outln!("  {k:width$}  {text}");
        }
    }
    Ok(0)
}

/// The seed's JSON shape, with authcfg's own facts under "authcfg".
pub fn seed_json(
    doc: &ConfigDoc,
    shown: &dyn Fn(&str, &crate::secret::Secret) -> String,
    last_used: Option<std::time::SystemTime>,
) -> Value {
    let m = &doc.meta;
    let mut config = Map::new();
    for (k, v) in &doc.fields {
        config.insert(k.clone(), Value::String(shown(k, v)));
    }
    let mut out = Map::new();
    out.insert("type".into(), Value::String(m.type_id.clone()));
    out.insert("name".into(), Value::String(m.name.clone()));
    if !config.is_empty() {
        out.insert("config".into(), Value::Object(config));
    }
    out.insert(
        "authcfg".into(),
        json!({
            "kind": m.kind.as_str(),
            "status": m.status(),
            "account": m.account,
            "created": rfc3339(m.created),
            "updated": rfc3339(m.updated),
            "rotated": rfc3339(m.rotated),
            "last_used": last_used.map(|t| rfc3339(t.into())),
            "last_test": m.last_test,
        }),
    );
    Value::Object(out)
}
