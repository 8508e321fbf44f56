//! Keeping OAuth2 access tokens fresh (as rclone's `oauthutil.TokenSource`
//! does in its library): refresh shortly before expiry, single-flight per
//! config across processes, the rotated refresh token saved atomically.
//!
//! One config's refresh holds that config's refresh lock (`locks/`) during
//! the network call, so twenty processes needing the same token make one
//! refresh grant, while writers of other configs are not held up. The
//! result is saved under the writer lock, merged into the config as it is
//! then (an edit made meanwhile is kept).

use super::Session;
use crate::model::{ConfigDoc, TestRecord};
use crate::oauth::tokens;
use crate::store::journal::AuditIntent;
use crate::store::lock::WriterLock;

fn intent(action: &str, name: &str, outcome: &str, detail: Option<String>) -> AuditIntent {
    AuditIntent {
        version: None,
        action: action.into(),
        config: Some(name.to_string()),
        outcome: outcome.into(),
        detail,
    }
}

/// Whether a refresh is due for this config now.
pub fn due(s: &Session, doc: &ConfigDoc) -> bool {
    tokens::needs_refresh(doc, s.settings.refresh_skew)
}

/// Returns the config with a usable access token, refreshing it first when
/// it expires within the skew (or always, with `force`); an AWS config
/// with its STS session renewed the same way (`ops::aws`).
pub fn ensure_fresh(s: &Session, doc: ConfigDoc, force: bool) -> anyhow::Result<ConfigDoc> {
    if super::aws::is_aws(&doc) {
        return super::aws::ensure_session(s, doc, None, force);
    }
    if !tokens::is_oauth(&doc) || !(force || due(s, &doc)) {
        return Ok(doc);
    }
    let name = doc.meta.name.clone();
    single_flight(
        s,
        &name,
        Renewal {
            waiting: "refreshing",
            action: "refresh",
            failed: "refresh failed",
            due: &|d| force || due(s, d),
            renew: &mut |fresh| tokens::refresh(fresh),
            merge: &|fresh, d| {
                for f in [
                    "access_token",
                    "refresh_token",
                    "token_type",
                    "granted_scopes",
                ] {
                    if let Some(v) = fresh.fields.get(f) {
                        d.fields.insert(f.to_string(), v.clone());
                    }
                }
                d.meta.expires = fresh.meta.expires;
                d.meta.issued = fresh.meta.issued;
                d.meta.refresh_expires = fresh.meta.refresh_expires;
                if fresh.meta.account.is_some() {
                    d.meta.account = fresh.meta.account.clone();
                }
            },
        },
    )
}

/// What renewing one config's short-lived credential takes (an OAuth2
/// access token, an AWS STS session).
pub(crate) struct Renewal<'a> {
    /// For the notice while another process holds the lock.
    pub waiting: &'a str,
    /// The audit action.
    pub action: &'a str,
    /// Prefix of the failure kept as the config's last test.
    pub failed: &'a str,
    /// Whether the config as stored now still needs it.
    pub due: &'a dyn Fn(&ConfigDoc) -> bool,
    /// The network call: renews the credential in the given copy.
    pub renew: &'a mut dyn FnMut(&mut ConfigDoc) -> anyhow::Result<()>,
    /// Copies what `renew` changed into the config as it is when saved.
    pub merge: &'a dyn Fn(&ConfigDoc, &mut ConfigDoc),
}

/// The one single-flight renewal: holds the config's refresh lock
/// (`locks/`) during the network call, re-reads the config once it has the
/// lock (another process may have renewed meanwhile), and saves the result
/// under the writer lock, merged into the config as it is then.
pub(crate) fn single_flight(s: &Session, name: &str, r: Renewal) -> anyhow::Result<ConfigDoc> {
    let lock_path = s
        .store
        .root()
        .join(crate::store::layout::LOCKS_DIR)
        .join(crate::store::Store::used_key(name));
    let ui = s.ui;
    let waiting = r.waiting;
    let _flight = WriterLock::acquire_file(
        &lock_path,
        &format!("{waiting} {name}"),
        s.settings.lock_timeout,
        &mut |_| {
            ui.notice(&format!(
                "waiting for another process {waiting} '{name}' ..."
            ))
        },
    )
    .map_err(|e| crate::error::failure(e.to_string()))?;
    // Another process may have renewed while this one waited.
    let current = s.store.read(name)?;
    if !(r.due)(&current) {
        return Ok(current);
    }
    let mut fresh = current.clone();
    match (r.renew)(&mut fresh) {
        Ok(()) => s.store.update_if(name, |d| {
            (r.merge)(&fresh, d);
            d.meta.last_test = None;
            Ok(Some(intent(r.action, name, "ok", None)))
        }),
        Err(e) => {
            let detail = e.to_string();
            let _ = s.store.update_if(name, |d| {
                d.meta.last_test = Some(TestRecord {
                    at: crate::model::now(),
                    ok: false,
                    class: "auth".into(),
                    detail: format!("{}: {detail}", r.failed).into(),
                });
                Ok(Some(intent(r.action, name, "error", Some(detail.clone()))))
            });
            Err(e)
        }
    }
}
