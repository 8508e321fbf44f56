//! `authcfg list`: every config, from the index (no config is decrypted).
//! Written for 50,000 configs: rows borrow from the index, output is
//! buffered, and the table is laid out by hand (a plain aligned listing
//! when stdout is not a terminal, streamed as it is written).

use super::Ctx;
use crate::model::{ago, rfc3339, Meta};
use crate::store::Store;
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::time::SystemTime;

#[derive(clap::Args)]
pub struct Args {
    /// Only names under this prefix (e.g. prod/ or google)
    prefix: Option<String>,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row<'a> {
    name: &'a str,
    kind: &'static str,
    #[serde(rename = "type")]
    type_id: &'a str,
    provider: &'a str,
    status: &'static str,
    account: Option<&'a str>,
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
    let selected: Vec<(&Meta, Option<SystemTime>)> = index
        .iter()
        .filter(|m| args.prefix.as_deref().is_none_or(|p| m.name.starts_with(p)))
        .map(|m| (m, used.get(&Store::used_key(&m.name)).copied()))
        .collect();
    if args.json {
        let rows: Vec<Row> = selected
            .iter()
            .map(|(m, used)| Row {
                name: &m.name,
                kind: m.kind.as_str(),
                type_id: &m.type_id,
                provider: m.title_str(),
                status: m.status(),
                account: m.account.as_deref(),
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
    let header = [
        "Name",
        "Type",
        "Provider/Connector",
        "Account",
        "Status",
        "Last used",
        "Rotated",
    ];
    let rows: Vec<[String; 7]> = selected
        .iter()
        .map(|(m, used)| {
            [
                m.name.clone(),
                m.kind_title().to_string(),
                m.title(),
                m.account.clone().unwrap_or_default(),
                m.status().to_string(),
                used.map(ago).unwrap_or_else(|| "never".into()),
                ago(m.rotated.into()),
            ]
        })
        .collect();
    let terminal = std::io::stdout().is_terminal();
    let mut width = header.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let line = |out: &mut dyn Write, cells: &[&str]| -> std::io::Result<()> {
        for (i, (c, w)) in cells.iter().zip(width).enumerate() {
            if i + 1 == cells.len() {
                writeln!(out, "{c}")?;
            } else {
                write!(out, "{c}{:pad$}  ", "", pad = w - c.chars().count())?;
            }
        }
        Ok(())
    };
    line(&mut out, &header)?;
    if terminal {
        let rule: Vec<String> = width.iter().map(|w| "─".repeat(*w)).collect();
        let rule: Vec<&str> = rule.iter().map(String::as_str).collect();
        line(&mut out, &rule)?;
    }
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        line(&mut out, &cells)?;
    }
    out.flush()?;
    Ok(0)
}
