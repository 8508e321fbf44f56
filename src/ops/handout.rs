//! Handing configs out (`export`, `exec`, `inject`, `token`, `header`,
//! `git-credential`, and `http`/MCP): one decryption per named config, no
//! index, OAuth tokens refreshed when due, and each use recorded once the
//! value was handed over: in the audit trail, and in the usage log with
//! its consumer (docs/ARCHITECTURE.md, "Usage").

use super::Session;
use crate::error::usage;
use crate::model::ConfigDoc;
use crate::settings::Settings;
use crate::store::journal::AuditIntent;
use crate::store::usage::{Consumer, Use};
use std::path::Path;

pub use crate::leave::{may_leave, Door, KEPT_BY_AUTHCFG};

/// Configs read for use; `record` records the use.
pub struct Used {
    pub docs: Vec<ConfigDoc>,
    action: String,
    /// Who the configs go to; `None`: found by `consumer` at `record`.
    pub consumer: Option<Consumer>,
}

pub fn read_for_use(s: &Session, names: &[String], action: &str) -> anyhow::Result<Used> {
    let mut docs = Vec::with_capacity(names.len());
    for n in names {
        crate::store::validate_name(n)?;
        match s
            .store
            .read(n)
            .and_then(|d| super::refresh::ensure_fresh(s, d, false))
        {
            Ok(d) => docs.push(d),
            Err(e) => {
                s.audit(action, Some(n), "error", None);
                return Err(e);
            }
        }
    }
    Ok(Used {
        docs,
        action: action.to_string(),
        consumer: None,
    })
}

impl Used {
    /// Records the use, before anything is handed over: a secret whose
    /// read cannot be audited is not handed out (docs/SECURITY.md). The
    /// usage log is informative and never stops a hand-out.
    pub fn record(&self, s: &Session) -> anyhow::Result<()> {
        let entries: Vec<AuditIntent> = self
            .docs
            .iter()
            .map(|d| AuditIntent {
                version: None,
                action: self.action.clone(),
                config: Some(d.meta.name.clone()),
                outcome: "ok".into(),
                detail: None,
            })
            .collect();
        s.store.audit(&entries).map_err(|e| {
            e.context("the use could not be recorded in the audit trail; nothing was handed out")
        })?;
        let names: Vec<&str> = self.docs.iter().map(|d| d.meta.name.as_str()).collect();
        let consumer = match &self.consumer {
            Some(c) => c.clone(),
            None => consumer(s.settings, None, &names),
        };
        note_use(s, &names, &self.action, &consumer);
        Ok(())
    }
}

/// Records that `names` were handed to `consumer` (the hook for hand-outs
/// that do not go through `read_for_use`, such as `http` and MCP). One
/// append to the usage log; failures are ignored: bookkeeping never stops
/// a hand-out, and the audit trail already has the use.
pub fn note_use(s: &Session, names: &[&str], action: &str, consumer: &Consumer) {
    if !s.settings.record_usage {
        return;
    }
    let at = crate::store::usage::now();
    let uses: Vec<Use> = names
        .iter()
        .map(|n| Use {
            config: n.to_string(),
            consumer: consumer.clone(),
            action: action.to_string(),
            at,
        })
        .collect();
    let _ = s.store.usage().append(&uses, &|n| s.store.exists(n));
}

/// Checks a consumer label (`--as`, `AUTHCFG_AS`).
pub fn check_label(label: &str) -> Result<(), crate::error::UserError> {
    if label.trim().is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control)
    {
        return Err(usage(format!(
            "'{}' is not a consumer label: 1 to 100 printable characters",
            label.escape_debug()
        )));
    }
    Ok(())
}

/// Who configs handed out now go to, first match wins: the label the user
/// gave (`--as`, `AUTHCFG_AS`); the CI job; the project whose file (found
/// from the working directory) reads these configs, in `project`'s
/// environment or the one chosen (`--env`, `AUTHCFG_ENV`); else the user
/// directly, which is not a connection.
pub fn consumer(settings: &Settings, project: Option<(&Path, &str)>, names: &[&str]) -> Consumer {
    if let Some(l) = settings
        .consumer_label
        .as_deref()
        .filter(|l| check_label(l).is_ok())
    {
        return Consumer::label(l);
    }
    if let Some(job) = &settings.ci_job {
        return Consumer::ci(job);
    }
    if let Some((root, env)) = project {
        return Consumer::project(root, env);
    }
    let env = settings
        .project_env
        .as_deref()
        .unwrap_or(crate::project::DEFAULT_ENV);
    let found = std::env::current_dir()
        .ok()
        .and_then(|cwd| crate::project::find(&cwd))
        // Only a file that may be used names the consumer: one decision
        // on a repository's file (project::trust).
        .and_then(|f| {
            crate::project::trust::open(&f, &crate::project::trust::Ask::quiet(settings)).ok()
        })
        .filter(|p| !names.is_empty() && names.iter().all(|n| p.uses_config(n)));
    if let Some(p) = found {
        return Consumer::project(&p.root, env);
    }
    Consumer::direct(&settings.user)
}

#[cfg(test)]
mod bench {
    use super::*;
    use crate::store::crypto::Key32;
    use crate::store::usage::UsageLog;
    use std::time::Instant;

    /// What recording adds to a hand-out, measured in-process (the
    /// whole-command comparison in bench/run drowns in process start-up on
    /// a busy machine): finding the consumer (the walk up from the working
    /// directory) and the append, on a log of 1,500 records. Prints the
    /// figures; asserts nothing (`bench/usage` runs it).
    #[test]
    #[ignore = "benchmark: run by bench/usage"]
    fn usage_recording_cost() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let log = UsageLog::new(dir.path(), Key32::random(), "bench-store");
        let settings = Settings::empty();
        let one = |i: usize, who: &Consumer| Use {
            config: "svc/c00500".into(),
            consumer: who.clone(),
            action: "export".into(),
            at: 1_800_000_000 + i as i64,
        };
        for i in 0..1500 {
            log.append(&[one(i, &Consumer::label(&format!("job-{i}")))], &|_| true)
                .unwrap();
        }
        let mut times = vec![];
        for i in 0..2000 {
            let started = Instant::now();
            let who = consumer(&settings, None, &["svc/c00500"]);
            log.append(&[one(i, &who)], &|_| true).unwrap();
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let mean = times.iter().sum::<f64>() / times.len() as f64;
        println!(
            "usage recording per hand-out: median {:.3} ms, mean {mean:.3} ms, p99 {:.3} ms, max {:.3} ms ({} appends, log {} bytes, {} build)",
            times[times.len() / 2],
            times[times.len() * 99 / 100],
            times[times.len() - 1],
            times.len(),
            std::fs::metadata(log.path()).unwrap().len(),
            if cfg!(debug_assertions) { "debug" } else { "release" },
        );
    }
}
