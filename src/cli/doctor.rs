//! `authcfg doctor`: key source, keyring backends, permissions, store health,
//! audit chain.

use super::Ctx;
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
    match crate::store::Store::read_header(&ctx.store_dir) {
        Err(e) => add("store", false, format!("{e:#}")),
        Ok(_) => match ctx.session() {
            Err(e) => add("master key", false, format!("{e:#}")),
            Ok(s) => {
                let store = &s.store;
                let header = store.header();
                add(
                    "store",
                    true,
                    format!(
                        "{} (format {}, header signed by admin key {})",
                        store.root().display(),
                        header.format,
                        header
                            .admin_pub()
                            .map(|p| p.fingerprint())
                            .unwrap_or_default()
                    ),
                );
                add(
                    "master key",
                    true,
                    format!(
                        "{} ({})",
                        s.key.source,
                        match store.role() {
                            crate::store::Role::Admin => "the store's admin",
                            crate::store::Role::Member => "a member; the admin key is pinned",
                        }
                    ),
                );
                if let crate::keys::Source::IdentityFile(p) = &s.key.source {
                    add(
                        "identity file",
                        crate::store::fsutil::loose_mode(p).ok().flatten().is_none(),
                        format!("{} is private (mode 0600)", p.display()),
                    );
                }
                let names = store.scan_names()?;
                let mut bad = vec![];
                for n in &names {
                    if let Err(e) = store.read(n) {
                        bad.push(format!("{e}"));
                    }
                }
                let index = store.list()?;
                add(
                    "configs",
                    bad.is_empty(),
                    if bad.is_empty() {
                        format!("{} configs, all readable and authentic", names.len())
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
                    .iter()
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
                let mut unreadable = vec![];
                for m in &index {
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
                let stale = names.len() != index.len();
                add(
                    "index",
                    !stale,
                    if stale {
                        format!("index lists {}, files hold {}", index.len(), names.len())
                    } else {
                        "matches the files".into()
                    },
                );
                let leftovers: Vec<&str> = crate::store::journal::LEGACY_JOURNALS
                    .iter()
                    .chain(["identity.next.age"].iter())
                    .filter(|f| store.root().join(f).exists())
                    .copied()
                    .collect();
                add(
                    "stray files",
                    leftovers.is_empty(),
                    if leftovers.is_empty() {
                        "none".into()
                    } else {
                        format!(
                            "{} (format-1 journals: not used by this version; remove them if you did not expect them)",
                            leftovers.join(", ")
                        )
                    },
                );
                let v = store.verify_audit()?;
                add(
                    "audit trail",
                    v.problems.is_empty(),
                    if v.problems.is_empty() {
                        format!("{} records, keyed chain intact", v.records)
                    } else {
                        v.problems.join("; ")
                    },
                );
            }
        },
    }
    let ok = checks.iter().all(|c| c.ok);
    if args.json {
        super::print_json(&checks)?;
    } else {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        for c in &checks {
            writeln!(
                out,
                "{} {:<22} {}",
                if c.ok { "ok  " } else { "FAIL" },
                c.check,
                c.detail
            )?;
        }
    }
    Ok(if ok { 0 } else { 1 })
}
