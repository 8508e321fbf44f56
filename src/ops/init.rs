//! `authcfg init`'s state changes: where a new master key is kept (an
//! identity file, the OS keyring, a passphrase-sealed `identity.age`) and
//! the store itself, audited `init`. The CLI decides, with the user, where
//! the key goes (prompts are there) and renders what `create` returns.

use crate::keys::{identity, keyring, keyring::Backend};
use crate::settings::Settings;
use crate::store::header::{Header, KeyHome, Recipient, MASTER};
use crate::store::journal::AuditIntent;
use crate::store::{fsutil, Store};
use age::x25519;
use anyhow::Context;
use std::path::{Path, PathBuf};

/// A new store's id (also the keyring account of its master key).
pub fn new_store_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Where the new master key is kept.
pub enum KeyPlace {
    /// `AUTHCFG_IDENTITY`/`_FILE`: nothing is written.
    External,
    /// `identity.age` in the store, sealed with a passphrase.
    Passphrase { sealed: Vec<u8> },
    /// A plaintext identity file the user keeps (already written).
    IdentityFile(PathBuf),
    /// The OS keyring (already written, `keep_in_keyring`), with a sealed
    /// copy for a keyring a reboot empties (keyutils).
    Keyring {
        backend: Backend,
        sealed: Option<Vec<u8>>,
    },
    /// `identity.plugin.age` in the store, sealed to the age plugin
    /// identity in `file` (which the header names).
    Plugin { file: PathBuf, sealed: Vec<u8> },
}

/// Writes a new identity file (never over an existing one).
pub fn write_identity_file(path: &Path, id: &x25519::Identity) -> anyhow::Result<PathBuf> {
    let path = std::path::absolute(path)?;
    if path.exists() {
        return Err(
            crate::error::usage(format!("{} already exists", path.display()))
                .hint("choose a new file; authcfg never overwrites an identity")
                .into(),
        );
    }
    fsutil::write_atomic(&path, identity::to_file_text(id).as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Keeps the key in the first keyring backend that takes it; `Err` lists
/// each backend tried and why it failed.
pub fn keep_in_keyring(
    store_id: &str,
    id: &x25519::Identity,
    candidates: &[Backend],
) -> Result<Backend, Vec<String>> {
    let text = identity::secret_string(id);
    let mut tried = vec![];
    for &b in candidates {
        match keyring::set(b, store_id, &text) {
            Ok(()) => return Ok(b),
            Err(e) => tried.push(format!("{b}: {e}")),
        }
    }
    Err(tried)
}

/// Takes back a key `keep_in_keyring` kept, when `init` does not finish.
pub fn forget_keyring(backend: Backend, store_id: &str) {
    let _ = keyring::delete(backend, store_id);
}

/// What `create` made, for the CLI to show.
pub struct Created {
    pub root: PathBuf,
    pub public: x25519::Recipient,
    /// The admin key's fingerprint (members check it when they join).
    pub admin_fingerprint: Option<String>,
}

/// Creates the store at `root` with `master` as its master key, kept where
/// `place` says; audited `init`. A keyring entry is taken back when the
/// store cannot be created.
pub fn create(
    settings: &Settings,
    root: &Path,
    store_id: &str,
    master: &x25519::Identity,
    place: KeyPlace,
) -> anyhow::Result<Created> {
    let public = master.to_public();
    let mut plugin_sealed = None;
    let (key_home, keyring_backend, identity_file, sealed) = match place {
        KeyPlace::Plugin { file, sealed } => {
            plugin_sealed = Some(sealed);
            (KeyHome::External, None, Some(file), None)
        }
        KeyPlace::External => (KeyHome::External, None, None, None),
        KeyPlace::Passphrase { sealed } => (KeyHome::Passphrase, None, None, Some(sealed)),
        KeyPlace::IdentityFile(p) => (KeyHome::External, None, Some(p), None),
        KeyPlace::Keyring { backend, sealed } => (KeyHome::Keyring, Some(backend), None, sealed),
    };
    let header = Header {
        key_home,
        keyring_backend: keyring_backend.map(|b| b.as_str().to_string()),
        identity_file,
        recipients: vec![Recipient {
            label: MASTER.into(),
            public_key: public.to_string(),
            groups: vec![],
            role: Default::default(),
            custody: None,
        }],
        ..Header::new(store_id, crate::model::rfc3339(crate::model::now()))
    };
    let store = match Store::create(root, header, master, crate::ops::session::options(settings)) {
        Ok(s) => s,
        Err(e) => {
            if let Some(b) = keyring_backend {
                forget_keyring(b, store_id);
            }
            return Err(e);
        }
    };
    if let Some(data) = sealed {
        store.put_file(&store.root().join(identity::PASSPHRASE_FILE), &data)?;
    }
    if let Some(data) = plugin_sealed {
        store.put_file(&store.root().join(identity::PLUGIN_FILE), &data)?;
    }
    store.audit(&[AuditIntent {
        version: None,
        action: "init".into(),
        config: None,
        outcome: "ok".into(),
        detail: Some(format!("{key_home:?}")),
    }])?;
    Ok(Created {
        root: store.root().to_path_buf(),
        public,
        admin_fingerprint: store.header().admin_pub().map(|p| p.fingerprint()),
    })
}
