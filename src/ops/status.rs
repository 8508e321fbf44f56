//! `authcfg status`: where the store is, where its key comes from, whether
//! it opens without asking anything (locked or not), and which configs
//! need attention. Read-only; never prompts: a key that needs a passphrase
//! nobody gave is "locked", and no failed unlock is recorded for asking.

use super::{Session, Ui};
use crate::keys;
use crate::settings::Settings;
use crate::store::Store;
use serde::Serialize;
use std::path::Path;

/// Configs whose refresh token expires within this many days are
/// "expiring" (also `doctor`'s warning).
pub const EXPIRING_DAYS: i64 = 7;

#[derive(Debug, Serialize)]
pub struct Status {
    pub store: String,
    /// Whether there is a store at all (`authcfg init` makes one).
    pub exists: bool,
    /// Where the key came from (`None`: it did not come).
    pub key_source: Option<String>,
    /// No key without asking: the next command needs a passphrase, a
    /// keyring unlocked, or a key set up.
    pub locked: bool,
    /// Why it is locked: what unlocking said (each source tried).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_because: Option<String>,
    /// What would unlock it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unlock_hint: Option<String>,
    /// `AUTHCFG_KEY_CACHE` is on: whether this store's key is cached now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_cached: Option<bool>,
    /// admin or member (`None`: not opened).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configs: Option<Counts>,
}

#[derive(Debug, Default, Serialize)]
pub struct Counts {
    pub total: usize,
    pub active: usize,
    pub untested: usize,
    pub not_testable: usize,
    /// Names of configs whose last test failed.
    pub error: Vec<String>,
    /// Names of configs whose access token has expired (refreshed on use).
    pub expired: Vec<String>,
    /// Configs that must be re-authorized within `EXPIRING_DAYS`.
    pub expiring: Vec<Expiring>,
    /// Configs a team sync left in conflict.
    pub in_conflict: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Expiring {
    pub name: String,
    /// Whole days left (0: now).
    pub days: i64,
}

pub fn status(settings: &Settings, root: &Path, ui: &'static dyn Ui) -> Status {
    let mut st = Status {
        store: root.display().to_string(),
        exists: false,
        key_source: None,
        locked: true,
        locked_because: None,
        unlock_hint: None,
        key_cached: None,
        role: None,
        configs: None,
    };
    let parsed = match Store::read_header(root) {
        Ok(p) => p,
        Err(e) => {
            st.locked_because = Some(first_line(&e.to_string()));
            return st;
        }
    };
    st.exists = true;
    let loc = super::session::location(&parsed);
    if settings.key_cache.is_some() {
        st.key_cached = Some(keys::cache::get(&loc.store_id).is_some());
    }
    // Asked first without a prompt and without noting a failure: a status
    // look is not an unlock attempt.
    let would_ask = std::cell::Cell::new(false);
    let no_prompt = || {
        would_ask.set(true);
        None
    };
    if let Err(e) = keys::load(settings, root, &loc, &no_prompt, None) {
        if would_ask.get() && settings.interactive {
            // At a terminal the next command asks: say that, not "no
            // terminal".
            st.locked_because = Some(format!(
                "the master key is sealed with a passphrase ({}); the next command that opens the store asks for it",
                root.join(keys::identity::PASSPHRASE_FILE).display()
            ));
            st.unlock_hint = Some(format!(
                "or set {} for commands run without a terminal",
                crate::settings::ENV_PASSPHRASE
            ));
        } else {
            st.locked_because = Some(e.message);
            st.unlock_hint = e.hint;
        }
        return st;
    }
    let mut quiet = settings.clone();
    quiet.interactive = false;
    let s = match Session::open(&quiet, root, ui) {
        Ok(s) => s,
        Err(e) => {
            st.locked_because = Some(e.to_string());
            st.unlock_hint = crate::error::classify(&e).1;
            return st;
        }
    };
    st.locked = false;
    st.key_source = Some(s.key.source.to_string());
    st.role = Some(match s.store.role() {
        crate::store::Role::Admin => "admin",
        crate::store::Role::Member => "member",
    });
    let mut c = Counts {
        in_conflict: s.store.conflicts(),
        ..Counts::default()
    };
    for m in s.store.list().unwrap_or_default() {
        c.total += 1;
        match m.status() {
            "Active" => c.active += 1,
            "Untested" => c.untested += 1,
            "Not testable" => c.not_testable += 1,
            "Error" => c.error.push(m.name.clone()),
            "Expired" => c.expired.push(m.name.clone()),
            _ => {}
        }
        if let Some(days) =
            crate::oauth::tokens::reauthorize_within(&m).filter(|d| *d <= EXPIRING_DAYS)
        {
            c.expiring.push(Expiring {
                name: m.name.clone(),
                days,
            });
        }
    }
    st.configs = Some(c);
    st
}

fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or("")
        .trim_end_matches(';')
        .to_string()
}
