//! `authcfg list`: every config, from the index (no config is decrypted),
//! with who uses it from the usage log. Written for 50,000 configs: rows
//! borrow from the index, output is buffered, and the table is laid out by
//! hand (a plain aligned listing when stdout is not a terminal, streamed as
//! it is written).

use super::Ctx;
use crate::error::usage;
use crate::model::{rfc3339, Kind, Meta};
use crate::store::usage::Summary;
use crate::store::Store;
use serde::Serialize;
use std::borrow::Cow;
use std::io::Write;
use std::time::{Duration, SystemTime};

#[derive(clap::Args)]
pub struct Args {
    /// Only names matching PATTERN: a prefix (prod/, google), or a glob
    /// with * and ? (prod/*, */pg)
    #[arg(value_name = "PATTERN")]
    pattern: Option<String>,
    /// Only this kind (custom, connector, oauth2) or type (api-key, bearer, postgres, ...)
    #[arg(long = "type", value_name = "TYPE")]
    type_filter: Option<String>,
    /// Only this status: active, expired, error, untested, not-testable
    #[arg(long, value_name = "STATUS")]
    status: Option<String>,
    /// Only this OAuth2 provider or connector (google, postgres, ...)
    #[arg(long, value_name = "ID")]
    provider: Option<String>,
    /// Machine-readable output (the same rows and filters)
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
    /// Outside text (a provider's userinfo): escaped.
    account: Option<Cow<'a, str>>,
    created: String,
    updated: String,
    rotated: String,
    last_used: Option<String>,
    last_tested: Option<String>,
    /// Consumers seen in the last 90 days (projects, CI jobs, labels).
    connections: usize,
    consumers: Vec<String>,
    /// When the refresh token expires (re-authorize before), if known.
    reauthorize_by: Option<String>,
    /// A team sync left it in conflict (`authcfg conflicts`).
    conflict: bool,
}

struct Filter {
    pattern: Option<String>,
    type_filter: Option<String>,
    status: Option<&'static str>,
    provider: Option<String>,
}

impl Filter {
    fn new(args: &Args) -> anyhow::Result<Filter> {
        let status = match args.status.as_deref().map(str::to_ascii_lowercase) {
            None => None,
            Some(s) => Some(match s.as_str() {
                "active" => "Active",
                "expired" => "Expired",
                "error" => "Error",
                "untested" => "Untested",
                "not-testable" | "not_testable" => "Not testable",
                other => {
                    return Err(usage(format!("--status {other}: not a status"))
                        .hint("one of active, expired, error, untested, not-testable")
                        .into())
                }
            }),
        };
        Ok(Filter {
            pattern: args.pattern.clone(),
            type_filter: args.type_filter.as_deref().map(str::to_ascii_lowercase),
            status,
            provider: args.provider.as_deref().map(str::to_ascii_lowercase),
        })
    }

    fn keeps(&self, m: &Meta) -> bool {
        if let Some(p) = &self.pattern {
            let hit = if p.contains(['*', '?']) {
                crate::store::names::glob(p, &m.name)
            } else {
                m.name.starts_with(p.as_str())
            };
            if !hit {
                return false;
            }
        }
        if let Some(t) = &self.type_filter {
            let kind_hit = m.kind.as_str() == t
                || (t == "oauth" && m.kind == Kind::Oauth2)
                || (t == "native" && m.kind == Kind::Connector);
            let type_hit = m.kind == Kind::Custom
                && match (
                    crate::catalog::custom::find(t),
                    crate::catalog::custom::find(&m.type_id),
                ) {
                    (Some(a), Some(b)) => a.id == b.id,
                    _ => m.type_id.eq_ignore_ascii_case(t),
                };
            let connector_hit = m.kind == Kind::Connector && m.type_id.eq_ignore_ascii_case(t);
            if !(kind_hit || type_hit || connector_hit) {
                return false;
            }
        }
        if let Some(s) = self.status {
            if m.status() != s {
                return false;
            }
        }
        if let Some(p) = &self.provider {
            let hit = m.kind != Kind::Custom
                && (m.type_id.eq_ignore_ascii_case(p) || m.title_str().eq_ignore_ascii_case(p));
            if !hit {
                return false;
            }
        }
        true
    }
}

fn unix(t: i64) -> SystemTime {
    if t >= 0 {
        SystemTime::UNIX_EPOCH + Duration::from_secs(t as u64)
    } else {
        SystemTime::UNIX_EPOCH
    }
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let filter = Filter::new(&args)?;
    let s = ctx.session()?;
    let index = s.store.list()?;
    let usage = s.store.usage().summaries();
    let legacy = s.store.last_used_all();
    let none = Summary::default();
    let in_conflict: std::collections::BTreeSet<String> = s.store.conflicts().into_iter().collect();
    let selected: Vec<(&Meta, Option<SystemTime>, &Summary)> = index
        .iter()
        .filter(|m| filter.keeps(m))
        .map(|m| {
            let sum = usage.get(&m.name).unwrap_or(&none);
            let marker = if legacy.is_empty() {
                None
            } else {
                legacy.get(&Store::used_key(&m.name)).copied()
            };
            let last = match (sum.last.map(unix), marker) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            (m, last, sum)
        })
        .collect();
    if args.json {
        let rows: Vec<Row> = selected
            .iter()
            .map(|(m, used, sum)| Row {
                name: &m.name,
                kind: m.kind.as_str(),
                type_id: &m.type_id,
                provider: m.title_str(),
                status: m.status(),
                account: m.account.as_ref().map(|a| a.cut(ACCOUNT)),
                created: rfc3339(m.created),
                updated: rfc3339(m.updated),
                rotated: rfc3339(m.rotated),
                last_used: used.map(|t| rfc3339(t.into())),
                last_tested: m.last_test.as_ref().map(|t| rfc3339(t.at)),
                connections: sum.connections.len(),
                consumers: sum
                    .connections
                    .iter()
                    .map(|c| crate::text::escape(&c.describe(), crate::text::SHOWN).into_owned())
                    .collect(),
                reauthorize_by: m.refresh_expires.map(rfc3339),
                conflict: in_conflict.contains(&m.name),
            })
            .collect();
        super::print_json(&rows)?;
        let _ = s.store.usage().maintain(&|n| s.store.exists(n));
        return Ok(());
    }
    if selected.is_empty() {
        if index.is_empty() {
            eprintln!("No configs yet. Add one with `authcfg add custom api-key --name NAME`.");
        } else {
            eprintln!("No config matches.");
        }
        return Ok(());
    }
    let header = [
        "Name",
        "Type",
        "Provider/Connector",
        "Account",
        "Status",
        "Connections",
        "Last used",
        "Rotated",
    ];
    // Two passes over the index, no table in memory: widths first, then
    // the lines (at 10,000 configs the listing was mostly allocation).
    let now = SystemTime::now();
    let mut used_buf = String::new();
    let mut rotated_buf = String::new();
    let mut count_buf = String::new();
    let fill = |m: &Meta,
                used: &Option<SystemTime>,
                sum: &Summary,
                used_buf: &mut String,
                rotated_buf: &mut String,
                count_buf: &mut String| {
        used_buf.clear();
        match used {
            Some(t) => crate::model::ago_into(now, *t, used_buf),
            None => used_buf.push_str("never"),
        }
        rotated_buf.clear();
        crate::model::ago_into(now, m.rotated.into(), rotated_buf);
        count_buf.clear();
        use std::fmt::Write as _;
        let _ = write!(count_buf, "{}", sum.connections.len());
    };
    let mut width = header.map(cell_width);
    for (m, used, sum) in &selected {
        fill(
            m,
            used,
            sum,
            &mut used_buf,
            &mut rotated_buf,
            &mut count_buf,
        );
        let status = status_cell(m, in_conflict.contains(&m.name));
        let account = account_cell(m);
        let cells: [&str; 8] = [
            &m.name,
            m.kind_title(),
            m.title_str(),
            &account,
            &status,
            &count_buf,
            &used_buf,
            &rotated_buf,
        ];
        for (w, c) in width.iter_mut().zip(cells) {
            *w = (*w).max(cell_width(c));
        }
    }
    // At a terminal the listing fits its width: the least needed columns
    // go first (Connections, Rotated, Type, Last used), then Account and
    // Provider are cut with `…`; a line never wraps. Into a pipe every
    // column is whole.
    let terminal = super::term::width();
    let mut shown = [true; 8];
    if let Some(limit) = terminal {
        shown.copy_from_slice(&super::term::fit_columns(&width, 2, limit, &[5, 7, 1, 6]));
        let total = |width: &[usize; 8]| -> usize {
            let n = shown.iter().filter(|s| **s).count();
            width
                .iter()
                .zip(shown)
                .filter(|(_, s)| *s)
                .map(|(w, _)| w)
                .sum::<usize>()
                + 2 * n.saturating_sub(1)
        };
        for (col, min) in [(3, 12), (2, 12), (0, 16)] {
            let over = total(&width).saturating_sub(limit);
            if over > 0 {
                width[col] = width[col].saturating_sub(over).max(min.min(width[col]));
            }
        }
    }
    let dropped: Vec<&str> = header
        .iter()
        .zip(shown)
        .filter(|(_, s)| !*s)
        .map(|(h, _)| *h)
        .collect();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let line = |out: &mut dyn Write, cells: &[&str], status: bool| -> std::io::Result<()> {
        let last = shown.iter().rposition(|s| *s).unwrap_or(0);
        for (i, (c, w)) in cells.iter().zip(width).enumerate() {
            if !shown[i] {
                continue;
            }
            let c = cut(c, w);
            if status && i == 4 {
                let tone = super::term::status_tone(c.split(';').next().unwrap_or(""));
                out.write_all(super::term::out(&c, tone).as_bytes())?;
            } else {
                out.write_all(c.as_bytes())?;
            }
            if i == last {
                out.write_all(b"\n")?;
            } else {
                let mut pad = w - cell_width(&c) + 2;
                while pad > 0 {
                    let n = pad.min(SPACES.len());
                    out.write_all(&SPACES.as_bytes()[..n])?;
                    pad -= n;
                }
            }
        }
        Ok(())
    };
    line(&mut out, &header, false)?;
    if terminal.is_some() {
        let rule: Vec<String> = width.iter().map(|w| "─".repeat(*w)).collect();
        let rule: Vec<&str> = rule.iter().map(String::as_str).collect();
        line(&mut out, &rule, false)?;
    }
    for (m, used, sum) in &selected {
        fill(
            m,
            used,
            sum,
            &mut used_buf,
            &mut rotated_buf,
            &mut count_buf,
        );
        let status = status_cell(m, in_conflict.contains(&m.name));
        let account = account_cell(m);
        line(
            &mut out,
            &[
                &m.name,
                m.kind_title(),
                m.title_str(),
                &account,
                &status,
                &count_buf,
                &used_buf,
                &rotated_buf,
            ],
            true,
        )?;
    }
    out.flush()?;
    drop(out);
    if !dropped.is_empty() {
        eprintln!(
            "(not shown at this width: {}; `--json` or a pipe shows every column)",
            dropped.join(", ")
        );
    }
    let _ = s.store.usage().maintain(&|n| s.store.exists(n));
    Ok(())
}

/// `s` cut to `w` columns, the last one `…`.
fn cut(s: &str, w: usize) -> Cow<'_, str> {
    if cell_width(s) <= w {
        return Cow::Borrowed(s);
    }
    let mut out: String = s.chars().take(w.saturating_sub(1)).collect();
    out.push('…');
    Cow::Owned(out)
}

const SPACES: &str = "                                                                ";

/// Display width of a cell (one column per character).
fn cell_width(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// The longest account `list` shows (an e-mail address fits).
const ACCOUNT: usize = 100;

/// The account, escaped and cut (outside text: docs/ARCHITECTURE.md,
/// "Outside text"); borrowed when it is plain.
fn account_cell(m: &Meta) -> Cow<'_, str> {
    match &m.account {
        Some(a) => a.cut(ACCOUNT),
        None => Cow::Borrowed(""),
    }
}

/// The status, and for OAuth2 configs with a known refresh-token expiry
/// how long until the user must authorize again.
fn status_cell(m: &Meta, conflict: bool) -> Cow<'static, str> {
    if conflict {
        return Cow::Owned(format!("{}; in conflict", status_cell(m, false)));
    }
    if m.refresh_expires.is_none() {
        return Cow::Borrowed(m.status());
    }
    match crate::oauth::tokens::reauthorize_within(m) {
        Some(0) => Cow::Owned(format!("{}; re-authorize now", m.status())),
        Some(1) => Cow::Owned(format!("{}; re-authorize within 1 day", m.status())),
        Some(n) => Cow::Owned(format!("{}; re-authorize within {n} days", m.status())),
        None => Cow::Borrowed(m.status()),
    }
}
