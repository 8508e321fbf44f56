//! `authcfg list`: every config, from the index (one decryption).

use super::Ctx;
use crate::model::{ago, rfc3339};
use crate::store::Store;
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use serde::Serialize;
use std::io::Write;

#[derive(clap::Args)]
pub struct Args {
    /// Only names under this prefix (e.g. prod/ or google)
    prefix: Option<String>,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row {
    name: String,
    kind: &'static str,
    #[serde(rename = "type")]
    type_id: String,
    provider: String,
    status: &'static str,
    account: Option<String>,
    created: String,
    updated: String,
    rotated: String,
    last_used: Option<String>,
    last_tested: Option<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<i32> {
    let s = ctx.session()?;
    let index = s.store.list()?;
    let used = s.store.last_used_all();
    let selected: Vec<_> = index
        .values()
        .filter(|m| args.prefix.as_deref().is_none_or(|p| m.name.starts_with(p)))
        .map(|m| (m, used.get(&Store::used_key(&m.name)).copied()))
        .collect();
    if args.json {
        let rows: Vec<Row> = selected
            .iter()
            .map(|(m, used)| Row {
                name: m.name.clone(),
                kind: m.kind.as_str(),
                type_id: m.type_id.clone(),
                provider: m.title(),
                status: m.status(),
                account: m.account.clone(),
                created: rfc3339(m.created),
                updated: rfc3339(m.updated),
                rotated: rfc3339(m.rotated),
                last_used: used.map(|t| rfc3339(t.into())),
                last_tested: m.last_test.as_ref().map(|t| rfc3339(t.at)),
            })
            .collect();
        super::print_json(&rows)?;
        return Ok(0);
    }
    if selected.is_empty() {
        eprintln!("No configs yet. Add one with `authcfg add custom api-key --name NAME`.");
        return Ok(0);
    }
    let mut table = Table::new();
    table
        .load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header([
            "Name",
            "Type",
            "Provider/Connector",
            "Account",
            "Status",
            "Last used",
            "Rotated",
        ]);
    for (m, used) in &selected {
        table.add_row([
            m.name.clone(),
            m.kind_title().to_string(),
            m.title(),
            m.account.clone().unwrap_or_default(),
            m.status().to_string(),
            used.map(ago).unwrap_or_else(|| "never".into()),
            ago(m.rotated.into()),
        ]);
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{table}")?;
    Ok(0)
}
