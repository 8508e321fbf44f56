//! `authcfg doctor`'s checks: key source, keyring backends, permissions,
//! store health, audit chain. Returns what it found; the CLI renders it.
//! A check's detail can hold outside text (an error quoting a planted
//! header, a keyring's message, a file name): the renderer escapes it.

use super::Session;
use crate::keys::keyring::{self, Backend, KeyringError};
use crate::settings::Settings;
use crate::store::layout;
use serde::Serialize;
use std::path::Path;

/// What `doctor` warns about.
pub struct Limits {
    /// Credentials not rotated for more than this many days.
    pub max_age_days: i64,
    /// Configs nobody used for more than this many days.
    pub unused_days: i64,
}

/// Refresh tokens that expire within this many days are warned about.
const REAUTH_WARN_DAYS: i64 = crate::ops::status::EXPIRING_DAYS;

/// Why a keyring is unavailable, and what would make it available.
fn unavailable(b: Backend, e: &KeyringError) -> String {
    match b {
        Backend::SecretService => format!(
            "{e}; it needs a D-Bus session with a Secret Service (gnome-keyring, KWallet); \
             the key can be kept with keyutils, a passphrase or an identity file instead"
        ),
        Backend::Keyutils => format!(
            "{e}; the kernel refused a key of this user (keyctl blocked, e.g. by a container's seccomp \
             profile); use `authcfg init --passphrase` or an identity file instead"
        ),
        Backend::CredentialManager => format!(
            "{e}; the Windows Credential Manager needs a logged-on user profile; \
             use `authcfg init --passphrase` or an identity file instead"
        ),
        Backend::Keychain => format!(
            "{e}; the login Keychain needs an unlocked user session; \
             use `authcfg init --passphrase` or an identity file instead"
        ),
    }
}

#[derive(Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Something to act on, not a failure (old credentials, unused configs).
    Warn,
    /// Not available, and not needed here (a keyring the store does not use).
    Info,
    Fail,
}

#[derive(Serialize)]
pub struct Check {
    pub check: String,
    pub ok: bool,
    pub status: Status,
    pub detail: String,
}

pub fn run<'a>(
    settings: &Settings,
    store_dir: &Path,
    session: impl FnOnce() -> anyhow::Result<Session<'a>>,
    limits: &Limits,
) -> anyhow::Result<Vec<Check>> {
    let mut checks = vec![];
    let mut add = |check: &str, status: Status, detail: String| {
        checks.push(Check {
            check: check.to_string(),
            ok: status != Status::Fail,
            status,
            detail,
        })
    };
    let ok = |b: bool| if b { Status::Ok } else { Status::Fail };
    let warn = |b: bool| if b { Status::Ok } else { Status::Warn };
    // Where the store says its key lives (unverified: only to tell whether
    // an unavailable keyring matters).
    let key_backend = match crate::store::Store::read_header(store_dir) {
        Ok(p) => crate::ops::session::location(&p)
            .keyring_backend
            .and_then(|b| Backend::parse(&b)),
        Err(_) => None,
    };
    for &b in Backend::native() {
        // The same test `init` makes (keyutils: a throwaway entry written
        // and deleted), so the two agree.
        let name = format!("keyring {b}");
        match keyring::probe(b) {
            Ok(()) => add(
                &name,
                Status::Ok,
                if b.is_durable() {
                    "available".into()
                } else {
                    "available (emptied by reboot)".into()
                },
            ),
            Err(e) if key_backend == Some(b) => add(
                &name,
                Status::Fail,
                format!("unavailable, and the store's master key is kept there: {e}"),
            ),
            Err(e) => add(
                &name,
                Status::Info,
                format!("unavailable: {}", unavailable(b, &e)),
            ),
        }
    }
    match crate::store::Store::read_header(store_dir) {
        Err(e) => add("store", Status::Fail, format!("{e:#}")),
        Ok(_) => match session() {
            Err(e) => add("master key", Status::Fail, format!("{e:#}")),
            Ok(s) => {
                let store = &s.store;
                let header = store.header();
                add(
                    "store",
                    Status::Ok,
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
                    Status::Ok,
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
                        ok(crate::store::fsutil::loose_mode(p).ok().flatten().is_none()),
                        format!("{} is private (mode 0600)", p.display()),
                    );
                }
                let r = crate::ops::key::recovery(&s);
                add(
                    "recovery",
                    if r.ok { Status::Ok } else { Status::Warn },
                    r.detail,
                );
                if store.root().join(".git").is_dir() {
                    let conflicts = crate::ops::team::conflicts(&s, None).unwrap_or_default();
                    add(
                        "team conflicts",
                        warn(conflicts.is_empty()),
                        if conflicts.is_empty() {
                            "none".into()
                        } else {
                            format!(
                                "{} changed on both sides by a sync: `authcfg conflicts` shows both sides, `authcfg resolve` ends them",
                                conflicts
                                    .iter()
                                    .map(|c| format!(
                                        "{} ({})",
                                        c.name,
                                        c.fields
                                            .iter()
                                            .map(|f| f.key.as_str())
                                            .collect::<Vec<_>>()
                                            .join(", ")
                                    ))
                                    .collect::<Vec<_>>()
                                    .join("; ")
                            )
                        },
                    );
                }
                let names = store.scan_names()?;
                let bad = store.check_configs(&names);
                let index = store.list()?;
                add(
                    "configs",
                    ok(bad.is_empty()),
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
                // What `list` shows as Error or Expired: doctor does not say
                // "ok" over configs that do not work.
                let failing: Vec<String> = index
                    .iter()
                    .filter(|m| matches!(m.status(), "Error" | "Expired"))
                    .map(|m| format!("{} ({})", m.name, m.status().to_lowercase()))
                    .collect();
                add(
                    "last tests",
                    warn(failing.is_empty()),
                    if failing.is_empty() {
                        "no config failed its last test or expired".into()
                    } else {
                        format!(
                            "{} failed the last test or expired: {}; `authcfg test NAME` says why",
                            failing.len(),
                            failing.join(", ")
                        )
                    },
                );
                let limit = crate::model::now() - time::Duration::days(limits.max_age_days);
                let old: Vec<String> = index
                    .iter()
                    .filter(|m| m.rotated < limit)
                    .map(|m| format!("{} ({})", m.name, crate::model::ago(m.rotated.into())))
                    .collect();
                add(
                    "credential age",
                    warn(old.is_empty()),
                    if old.is_empty() {
                        format!("all rotated within {} days", limits.max_age_days)
                    } else {
                        format!(
                            "{} older than {} days: {}",
                            old.len(),
                            limits.max_age_days,
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
                    warn(unreadable.is_empty()),
                    if unreadable.is_empty() {
                        "every recipient can read every config".into()
                    } else {
                        unreadable.join("; ")
                    },
                );
                // Each recipient's kind; a key-service one is asked whether
                // it answers these settings (docs/ARCHITECTURE.md, "Key
                // services"). The header's address is only a hint.
                for r in &header.recipients {
                    // A label comes with a pulled header: escaped here, as
                    // the renderer escapes details only.
                    let name = format!("recipient {}", crate::text::escape(&r.label, 64));
                    match &r.custody {
                        None => {
                            let kind = match crate::store::crypt::parse_recipient(&r.public_key) {
                                Some(crate::store::crypt::AnyRecipient::Plugin(p)) => {
                                    format!("age plugin (age-plugin-{})", p.plugin())
                                }
                                _ => "x25519".to_string(),
                            };
                            add(&name, Status::Ok, kind);
                        }
                        Some(c) => {
                            let kind = format!("{} ({}:{})", c.service, c.service, c.key);
                            let hint = c
                                .addr
                                .as_deref()
                                .map(|a| format!("; the admin used {a}"))
                                .unwrap_or_default();
                            if !crate::keys::service::configured(&c.service, settings) {
                                add(
                                    &name,
                                    Status::Info,
                                    format!("{kind}: no key service is configured here{hint}"),
                                );
                                continue;
                            }
                            match crate::keys::service::open(c, settings, None, &header.id)
                                .and_then(|svc| svc.check())
                            {
                                Ok(said) => add(&name, Status::Ok, format!("{kind}: {said}")),
                                Err(e) => {
                                    add(&name, Status::Warn, format!("{kind}: {}{hint}", e.message))
                                }
                            }
                        }
                    }
                }
                let _ = store.usage().maintain(&|n| store.exists(n));
                let (uses, bad_lines) = store.usage().read().unwrap_or_default();
                let since = crate::store::usage::now() - limits.unused_days * 86_400;
                let mut last: std::collections::HashMap<&str, i64> = Default::default();
                for u in &uses {
                    let e = last.entry(u.config.as_str()).or_insert(u.at);
                    *e = (*e).max(u.at);
                }
                let legacy = store.last_used_all();
                let newest = |n: &str| -> Option<i64> {
                    let marker = legacy
                        .get(&crate::store::Store::used_key(n))
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map(|d| d.as_secs() as i64);
                    last.get(n).copied().max(marker)
                };
                let unused = crate::store::usage::unused(
                    index
                        .iter()
                        .map(|m| (m.name.as_str(), m.created.unix_timestamp())),
                    &newest,
                    since,
                );
                add(
                    "unused configs",
                    warn(unused.is_empty()),
                    if unused.is_empty() {
                        format!(
                            "every config older than {} days was used within them",
                            limits.unused_days
                        )
                    } else {
                        format!(
                            "{} not used by anyone for {} days (candidates for removal): {}",
                            unused.len(),
                            limits.unused_days,
                            unused.join(", ")
                        )
                    },
                );
                if bad_lines > 0 {
                    add(
                        "usage log",
                        Status::Warn,
                        format!("{bad_lines} record(s) of usage.log do not open with this store's key (torn, or written elsewhere); they are ignored"),
                    );
                }
                let soon: Vec<String> = index
                    .iter()
                    .filter_map(|m| {
                        let days = crate::oauth::tokens::reauthorize_within(m)?;
                        (days <= REAUTH_WARN_DAYS).then(|| match days {
                            0 => format!("{} now (`authcfg reauth {}`)", m.name, m.name),
                            d => format!(
                                "{} within {d} day(s) (`authcfg reauth {}`)",
                                m.name, m.name
                            ),
                        })
                    })
                    .collect();
                add(
                    "refresh tokens",
                    warn(soon.is_empty()),
                    if soon.is_empty() {
                        "none expires within a week (where the expiry is known)".into()
                    } else {
                        format!("re-authorize {}", soon.join(", "))
                    },
                );
                let stale = names.len() != index.len();
                add(
                    "index",
                    ok(!stale),
                    if stale {
                        format!("index lists {}, files hold {}", index.len(), names.len())
                    } else {
                        "matches the files".into()
                    },
                );
                let leftovers = layout::legacy_files(store.root());
                let unexpected: Vec<String> = layout::stray_entries(store.root())
                    .into_iter()
                    .map(|(rel, why)| format!("{} ({why})", crate::text::escape(&rel, 120)))
                    .collect();
                let mut found = vec![];
                if !leftovers.is_empty() {
                    found.push(format!(
                        "{} (format-1 files: not used by this version; remove them if you did not expect them)",
                        leftovers.join(", ")
                    ));
                }
                if !unexpected.is_empty() {
                    const SHOWN: usize = 20;
                    let mut list = unexpected[..unexpected.len().min(SHOWN)].join("; ");
                    if unexpected.len() > SHOWN {
                        list.push_str(&format!("; and {} more", unexpected.len() - SHOWN));
                    }
                    found.push(format!(
                        "not part of the store: {list} (authcfg does not read them; remove them if you did not put them there)"
                    ));
                }
                add(
                    "stray files",
                    ok(found.is_empty()),
                    if found.is_empty() {
                        "none".into()
                    } else {
                        found.join("; ")
                    },
                );
                let v = store.verify_audit()?;
                add(
                    "audit trail",
                    ok(v.problems.is_empty()),
                    if v.problems.is_empty() {
                        format!("{} records, keyed chain intact", v.records)
                    } else {
                        v.problems.join("; ")
                    },
                );
                let retention = match settings.audit_keep.as_deref() {
                    None => Ok(crate::store::audit::Retention::default()),
                    Some(k) => crate::store::audit::Retention::parse(k),
                };
                match retention {
                    Ok(r) => add(
                        "audit retention",
                        Status::Ok,
                        match r.keep {
                            None => "every segment kept (AUTHCFG_AUDIT_KEEP=all)".into(),
                            Some(k) => format!(
                                "the newest {} MiB of sealed segments kept (AUTHCFG_AUDIT_KEEP)",
                                k.div_ceil(1 << 20)
                            ),
                        },
                    ),
                    Err(e) => add(
                        "audit retention",
                        Status::Fail,
                        format!("{e}; the default (256M) is used"),
                    ),
                }
            }
        },
    }
    Ok(checks)
}
