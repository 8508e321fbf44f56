//! What every admin operation (master key, recipients, team set-up) needs:
//! that the key in use is the admin's, and what completing an interrupted
//! one needs besides the store.

use super::{Session, Ui};
use crate::error::{Exit, UserError};
use crate::keys::Source;
use crate::store::Role;

pub fn require_admin(s: &Session) -> anyhow::Result<()> {
    if s.store.role() != Role::Admin {
        return Err(UserError::new(
            Exit::NoKey,
            "only the store's admin (the master key) can do this",
        )
        .hint("ask the person who holds the master key")
        .into());
    }
    Ok(())
}

/// What completing an admin operation needs besides the store: owned, so
/// that the store can run it when a writer meets an interrupted one.
#[derive(Clone)]
pub struct AdminCtx {
    pub source: Source,
    pub passphrase: Option<zeroize::Zeroizing<String>>,
    pub interactive: bool,
    pub ui: &'static dyn Ui,
    pub identity_out: Option<std::path::PathBuf>,
}

impl AdminCtx {
    pub fn new(s: &Session) -> AdminCtx {
        AdminCtx {
            source: s.key.source.clone(),
            passphrase: s.settings.passphrase.clone(),
            interactive: s.settings.interactive,
            ui: s.ui,
            identity_out: None,
        }
    }
}
