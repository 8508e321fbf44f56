//! Handing configs out (`export`, `exec`, `inject`, `token`, `header`):
//! one decryption per named config, no index, OAuth tokens refreshed when
//! due, and each use recorded once the value was handed over.

use super::Session;
use crate::model::ConfigDoc;
use crate::store::journal::AuditIntent;

/// Configs read for use; `done` records the use.
pub struct Used {
    pub docs: Vec<ConfigDoc>,
    action: String,
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
    })
}

impl Used {
    /// Records the use, before anything is handed over: a secret whose
    /// read cannot be audited is not handed out (docs/SECURITY.md).
    pub fn record(&self, s: &Session) -> anyhow::Result<()> {
        let entries: Vec<AuditIntent> = self
            .docs
            .iter()
            .map(|d| {
                s.store.mark_used(&d.meta.name);
                AuditIntent {
                    action: self.action.clone(),
                    config: Some(d.meta.name.clone()),
                    outcome: "ok".into(),
                    detail: None,
                }
            })
            .collect();
        s.store.audit(&entries).map_err(|e| {
            e.context("the use could not be recorded in the audit trail; nothing was handed out")
        })
    }
}
