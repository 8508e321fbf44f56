//! `authcfg doctor`: key source, keyring backends, permissions, store health,
//! audit chain.

use super::Ctx;
use crate::audit;
use crate::keys::keyring::{self, Backend, KeyringError};
use serde::Serialize;

#[derive(clap::Args)]
pub struct Args {
    /// Machine-readable output
    #[arg(long)]
    json: bool,
    /// Warn about credentials not rotated for more than DAYS days
    #[arg(long, value_name = "DAYS", default_value_t = 90)]
    max_age: i64,
}

#[derive(Serialize)]
struct Check {
    check: String,
    ok: bool,
    detail: String,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<i32> {
    let mut checks = vec![];
    let mut add = |check: &str, ok: bool, detail: String| {
        checks.push(Check {
            check: check.to_string(),
            ok,
            detail,
        })
    };
    for b in [Backend::SecretService, Backend::Keyutils] {
        // Reading an entry that does not exist tells whether the backend answers.
        match keyring::get(b, "authcfg-doctor-probe") {
            Ok(_) | Err(KeyringError::NoEntry) => add(
                &format!("keyring {b}"),
                true,
                if b.is_durable() {
                    "available".into()
                } else {
                    "available (emptied by reboot)".into()
                },
            ),
            Err(e) => add(&format!("keyring {b}"), true, format!("unavailable: {e}")),
        }
    }
    match ctx.open() {
        Err(e) => add("store", false, format!("{e:#}")),
        Ok(store) => {
            add(
                "store",
                true,
                format!(
                    "{} (format {})",
                    store.root().display(),
                    store.header().format
                ),
            );
            match ctx.unlock() {
                Err(e) => add("master key", false, format!("{e:#}")),
                Ok((_, key)) => {
                    add("master key", true, key.source.to_string());
                    let names = store.scan_names()?;
                    let mut bad = vec![];
                    for n in &names {
                        if let Err(e) = store.read(&key.identity, n) {
                            bad.push(format!("{e}"));
                        }
                    }
                    let index = store.index(&key.identity)?;
                    add(
                        "configs",
                        bad.is_empty(),
                        if bad.is_empty() {
                            format!("{} configs, all readable", names.len())
                        } else {
                            format!(
                                "{} of {} unreadable: {}",
                                bad.len(),
                                names.len(),
                                bad.join("; ")
                            )
                        },
                    );
                    let limit = crate::model::now() - time::Duration::days(args.max_age);
                    let old: Vec<String> = index
                        .configs
                        .values()
                        .filter(|m| m.rotated < limit)
                        .map(|m| format!("{} ({})", m.name, crate::model::ago(m.rotated.into())))
                        .collect();
                    add(
                        "credential age",
                        true,
                        if old.is_empty() {
                            format!("all rotated within {} days", args.max_age)
                        } else {
                            format!(
                                "WARNING {} older than {} days: {}",
                                old.len(),
                                args.max_age,
                                old.join(", ")
                            )
                        },
                    );
                    let header = store.header();
                    let mut unreadable = vec![];
                    for m in index.configs.values() {
                        if let Some(g) = &m.group {
                            let out: Vec<&str> = header
                                .recipients
                                .iter()
                                .filter(|r| r.label != "master" && !r.groups.contains(g))
                                .map(|r| r.label.as_str())
                                .collect();
                            if !out.is_empty() {
                                unreadable.push(format!(
                                    "{} (group {g}) not readable by {}",
                                    m.name,
                                    out.join(", ")
                                ));
                            }
                        }
                    }
                    add(
                        "recipient access",
                        true,
                        if unreadable.is_empty() {
                            "every recipient can read every config".into()
                        } else {
                            format!("WARNING {}", unreadable.join("; "))
                        },
                    );
                    let stale = names.len() != index.configs.len();
                    add(
                        "index",
                        !stale,
                        if stale {
                            format!(
                                "index lists {}, files hold {}",
                                index.configs.len(),
                                names.len()
                            )
                        } else {
                            "matches the files".into()
                        },
                    );
                }
            }
            let v = audit::verify(store.root())?;
            add(
                "audit trail",
                v.problems.is_empty(),
                if v.problems.is_empty() {
                    format!("{} records, chain intact", v.records)
                } else {
                    v.problems.join("; ")
                },
            );
        }
    }
    let ok = checks.iter().all(|c| c.ok);
    if args.json {
        super::print_json(&checks)?;
    } else {
        for c in &checks {
            println!(
                "{} {:<22} {}",
                if c.ok { "ok  " } else { "FAIL" },
                c.check,
                c.detail
            );
        }
    }
    Ok(if ok { 0 } else { 1 })
}
