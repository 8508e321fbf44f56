//! `authcfg show NAME`: one config, secrets masked unless --reveal.

use super::Ctx;
use crate::catalog;
use crate::model::{rfc3339, ConfigDoc};
use crate::text::{escape, SHOWN};
use serde_json::{json, Map, Value};

#[derive(clap::Args)]
pub struct Args {
    /// Config name
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    name: String,
    /// Show secret values in full
    #[arg(long)]
    reveal: bool,
    /// The seed's JSON shape: {"type", "name", "config"}
    #[arg(long)]
    json: bool,
    /// Copy FIELD's value to the clipboard instead of showing the config;
    /// it is cleared after --clear-after seconds (or when something else
    /// is copied)
    #[arg(long, value_name = "FIELD", conflicts_with_all = ["reveal", "json"])]
    copy: Option<String>,
    /// With --copy: seconds until the clipboard is cleared
    #[arg(long, value_name = "SECONDS", default_value_t = 45, requires = "copy",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    clear_after: u64,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let name = crate::store::canonical_name(&args.name)?;
    let s = ctx.session()?;
    let doc = s.store.read(&name)?;
    if let Some(field) = &args.copy {
        let Some(value) = doc.fields.get(field) else {
            let names: Vec<&str> = doc.fields.keys().map(String::as_str).collect();
            let mut e = crate::error::usage(format!("'{name}' has no field '{field}'"));
            e = match crate::error::suggest(field, names.iter().copied()) {
                Some(s) => e.hint(format!(
                    "did you mean '{s}'? its fields: {}",
                    names.join(", ")
                )),
                None => e.hint(format!("its fields: {}", names.join(", "))),
            };
            return Err(e.into());
        };
        crate::leave::may_leave(&doc, field, crate::leave::Door::Clipboard)
            .map_err(crate::error::usage)?;
        super::clip::copy(value.expose(), args.clear_after)?;
        s.audit("copy", Some(&name), "ok", Some(field));
        eprintln!(
            "Copied {name}'s {field} to the clipboard; cleared in {} s (or when something else is copied)",
            args.clear_after
        );
        return Ok(());
    }
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
    let consumers = s.store.usage().consumers(&name);
    let _ = s.store.usage().maintain(&|n| s.store.exists(n));
    let last_used = consumers
        .iter()
        .map(|u| u.at)
        .max()
        .map(|t| std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.max(0) as u64))
        .max(s.store.last_used(&name));
    // A team sync left it in conflict: both sides of each field.
    let conflict = if s.store.conflicts().contains(&name) {
        crate::ops::team::conflicts(&s, Some(&name))?
    } else {
        vec![]
    };
    if args.json {
        let mut value = seed_json(&doc, &|k, v| Some(shown(k, v)), last_used);
        value["authcfg"]["consumers"] = Value::Array(
            consumers
                .iter()
                .map(|u| {
                    json!({
                        "kind": u.consumer.kind.as_str(),
                        // A project's path, a CI job's name: outside text.
                        "name": escape(&u.consumer.name, SHOWN),
                        "env": u.consumer.env.as_deref().map(|e| escape(e, SHOWN)),
                        "connection": u.consumer.is_connection(),
                        "last_action": u.action,
                        "last_used": rfc3339(from_unix(u.at)),
                    })
                })
                .collect(),
        );
        value["authcfg"]["reauthorize_by"] = json!(doc.meta.refresh_expires.map(rfc3339));
        value["authcfg"]["conflict"] = json!(conflict
            .iter()
            .flat_map(|c| c.fields.iter())
            .map(
                |f| json!({"field": f.key, "secret": f.secret, "ours": f.ours, "theirs": f.theirs})
            )
            .collect::<Vec<_>>());
        value["authcfg"]["group"] = json!(doc.meta.group);
        super::print_json(&value)?;
        return Ok(());
    }
    let m = &doc.meta;
    outln!("Name:      {}", m.name);
    outln!("Type:      {} ({})", m.kind_title(), m.title());
    if let Some(a) = &m.account {
        outln!("Account:   {a}");
    }
    outln!(
        "Status:    {}{}",
        m.status(),
        if conflict.is_empty() {
            ""
        } else {
            " (in conflict: see below)"
        }
    );
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
    if let (Some(at), Some(days)) = (
        m.refresh_expires,
        crate::oauth::tokens::reauthorize_within(m),
    ) {
        println!(
            "Re-auth:   {} (the refresh token expires {}; then `authcfg reauth {}`)",
            match days {
                0 => "now".to_string(),
                1 => "within 1 day".to_string(),
                n => format!("within {n} days"),
            },
            rfc3339(at),
            m.name
        );
    }
    match last_used {
        Some(t) => println!("Last used: {}", crate::model::ago(t)),
        None => println!("Last used: never"),
    }
    if !consumers.is_empty() {
        println!("Used by:");
        for u in &consumers {
            println!(
                "  {}  {}  ({}, {})",
                rfc3339(from_unix(u.at)),
                escape(&u.consumer.describe(), SHOWN),
                escape(&u.action, 40),
                crate::model::ago(from_unix(u.at).into())
            );
        }
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
            // Values can come from outside (a provider's granted scopes,
            // an issuer's endpoints): shown escaped, a revealed multi-line
            // value (a PEM key) with its lines.
            let text = if text.contains('\n') && !args.reveal {
                "(multi-line)".into()
            } else if args.reveal {
                crate::text::escape_message(&text).into_owned()
            } else {
                escape(&text, SHOWN).into_owned()
            };
            let k = escape(k, 100);
            outln!("  {k:width$}  {text}");
        }
    }
    for c in &conflict {
        super::sync::print_conflict(c)?;
        if let Some(h) = super::sync::resolve_hint(c) {
            outln!("  {h}");
        }
    }
    Ok(())
}

fn from_unix(t: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t).unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// The seed's JSON shape, with authcfg's own facts under "authcfg".
pub fn seed_json(
    doc: &ConfigDoc,
    shown: &dyn Fn(&str, &crate::secret::Secret) -> Option<String>,
    last_used: Option<std::time::SystemTime>,
) -> Value {
    let m = &doc.meta;
    let mut config = Map::new();
    for (k, v) in &doc.fields {
        // `None`: a field that is left out (`export --format seed` asks
        // `ops::handout::may_leave`).
        if let Some(v) = shown(k, v) {
            config.insert(k.clone(), Value::String(v));
        }
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
            // Outside text: serialized escaped.
            "account": m.account,
            "created": rfc3339(m.created),
            "updated": rfc3339(m.updated),
            "rotated": rfc3339(m.rotated),
            "last_used": last_used.map(|t| rfc3339(t.into())),
            "last_test": m.last_test.as_ref().map(|t| json!({
                "at": rfc3339(t.at),
                "ok": t.ok,
                "class": t.class,
                "detail": t.detail,
            })),
        }),
    );
    Value::Object(out)
}
