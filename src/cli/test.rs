//! `authcfg test [NAME... | --all]`: prove configs work, in parallel, and
//! record the result for `list`'s Status column.

use super::term::Tone;
use super::Ctx;
use crate::connectors::{self, Class, Outcome, ProbeSettings};
use crate::error::{usage, CommandError, Exit};
use crate::model::ConfigDoc;
use crate::ops::Session;
use comfy_table::Cell;
use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// Config name(s)
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    names: Vec<String>,
    /// Every config in the store
    #[arg(long, conflicts_with = "names")]
    all: bool,
    /// Seconds each probe may take, name resolution included
    #[arg(long, value_name = "S", default_value_t = 10)]
    timeout: u64,
    /// Probes run at once
    #[arg(long, value_name = "N", default_value_t = connectors::DEFAULT_JOBS, value_parser = clap::value_parser!(usize))]
    jobs: usize,
    /// Trust an SSH server whose host key has this fingerprint (first contact; pinned in the config)
    #[arg(long, value_name = "SHA256:...")]
    trust_host_key: Option<String>,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row {
    name: String,
    ok: bool,
    result: &'static str,
    class: Class,
    latency_ms: u128,
    /// Outside text: serialized escaped (`--json`).
    detail: crate::text::Outside,
    remedy: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_identity: Option<crate::net::ServerIdentity>,
    #[serde(skip)]
    unknown: Option<String>,
    /// What is recorded on the config and in the trail.
    #[serde(skip)]
    outcome: Outcome,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let session = ctx.session()?;
    let names: Vec<String> = if args.all {
        session.store.list()?.into_iter().map(|m| m.name).collect()
    } else if args.names.is_empty() {
        return Err(usage("name the configs to test, or pass --all").into());
    } else {
        super::export::canonical(&args.names)?
    };
    let mut docs = vec![];
    for n in &names {
        docs.push(session.store.read(n)?);
    }
    let mut settings = ProbeSettings::new(Duration::from_secs(args.timeout.max(1)));
    settings.known_hosts = super::add::connector::known_hosts();
    settings.trust_host_key = args.trust_host_key.clone();
    let mut rows = run_probes(&session, docs.clone(), &settings, args.jobs);
    // First contact with an SSH server, at a terminal: show the key, ask.
    if ctx.interactive && !args.json {
        for (row, doc) in rows.iter_mut().zip(&docs) {
            if let Some(fp) = row.unknown.take() {
                if super::add::connector::confirm_host_key(&row.detail, &fp)? {
                    let mut again = settings.clone();
                    again.trust_host_key = Some(fp);
                    let started = Instant::now();
                    *row = to_row(
                        &doc.meta.name,
                        crate::ops::probe::probe(&session, doc.clone(), &again),
                        started,
                    );
                }
            }
        }
    }
    for r in &rows {
        crate::ops::config::record_test(&session, &r.name, &r.outcome, "test")?;
    }
    let failed = rows
        .iter()
        .filter(|r| !r.ok && r.class != Class::NotTestable)
        .count();
    if args.json {
        super::print_json(&rows)?;
    } else {
        // Whole details (escaped, cut at `text::SHOWN`): at a terminal the
        // Detail column wraps to its width; into a pipe nothing is cut.
        let mut table = super::term::table(&["Name", "Result", "Latency", "Detail"]);
        for r in &rows {
            let tone = if r.ok {
                Tone::Good
            } else if r.class == Class::NotTestable {
                Tone::Warn
            } else {
                Tone::Bad
            };
            table.add_row([
                Cell::new(&r.name),
                super::term::cell(r.result, tone),
                Cell::new(format!("{} ms", r.latency_ms)),
                Cell::new(r.detail.to_string()),
            ]);
        }
        super::term::fit_table(&mut table, &[1, 2], &[2]);
        outln!("{table}");
        for r in rows.iter().filter(|r| r.ok) {
            if let Some(id) = r.server_identity.filter(|i| !i.verified()) {
                eprintln!("{}: passed, but {}", r.name, id.describe());
            }
        }
        for r in rows.iter().filter(|r| !r.ok) {
            if r.class == Class::NotTestable {
                // Not a failure: what would make it testable is the detail.
                eprintln!("{}: not testable — {}", r.name, r.detail);
            } else {
                eprintln!("{}: {} — {}", r.name, r.result, r.remedy);
            }
        }
    }
    if failed > 0 {
        return Err(CommandError::reported(Exit::TestFailed));
    }
    Ok(())
}

/// At most `jobs` probes at once, all network work on the command's one
/// runtime, each bounded by the timeout as a whole.
fn run_probes(
    session: &Session,
    docs: Vec<ConfigDoc>,
    settings: &ProbeSettings,
    jobs: usize,
) -> Vec<Row> {
    let ui = session.ui;
    connectors::run_bounded_with_progress(
        docs,
        jobs,
        |doc| {
            let name = doc.meta.name.clone();
            let started = Instant::now();
            let outcome = crate::ops::probe::probe(session, doc, settings);
            to_row(&name, outcome, started)
        },
        &|done, total| {
            if total > 1 {
                ui.progress("testing", done, total)
            }
        },
    )
    .into_iter()
    .map(|(row, _)| row)
    .collect()
}

fn to_row(name: &str, outcome: Outcome, started: Instant) -> Row {
    Row {
        name: name.to_string(),
        ok: outcome.passed(),
        result: outcome.class.label(),
        class: outcome.class,
        latency_ms: started.elapsed().as_millis(),
        remedy: outcome.class.remedy(),
        server_identity: outcome.identity,
        unknown: outcome.unknown_host_key.clone(),
        detail: outcome.summary(),
        outcome,
    }
}
