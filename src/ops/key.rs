//! Your own key and its backup (docs/ARCHITECTURE.md, "Master key" and
//! "Recovery"): `authcfg key new` makes the key a team member joins with
//! (kept in a durable keyring, or a private file), `key export` seals the
//! key in use into a passphrase-protected age file (scrypt) that `age -d`
//! also opens, and `key import` puts such a file's key back where the
//! store looks for it. Also the one "not a recipient yet" error and the
//! admin's line that adds a key, which every join step shows.

use super::Session;
use crate::error::{no_key, usage};
use crate::keys::keyring::{self, Backend};
use crate::keys::{identity, MasterKey, OWN_ACCOUNT};
use crate::settings::{Settings, ENV_IDENTITY_FILE};
use crate::store::header::{KeyHome, Parsed, MASTER};
use crate::store::{fsutil, Store};
use age::x25519;
use anyhow::Context;
use std::fmt;
use std::path::{Path, PathBuf};

/// The audit action of an export: `doctor` looks for it.
pub const EXPORT_ACTION: &str = "key export";

/// Where a key is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A keyring entry (service `authcfg`) under this account.
    Keyring(Backend, String),
    File(PathBuf),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Keyring(b, account) => write!(
                f,
                "the OS keyring ({b}), service '{}', account '{account}'",
                keyring::SERVICE
            ),
            Place::File(p) => write!(f, "the file {} (mode 0600)", p.display()),
        }
    }
}

pub struct Made {
    pub public: String,
    pub place: Place,
    /// Set when the file is not where authcfg looks by itself: the user
    /// points `AUTHCFG_IDENTITY_FILE` at it.
    pub needs_env: bool,
}

pub use super::session::{admin_line, not_recipient, suggested_label};

/// A key from the environment, else your own key (`key new`/`key import`).
pub fn yours(settings: &Settings) -> anyhow::Result<Option<MasterKey>> {
    if let Some(k) = crate::keys::from_env(settings)? {
        return Ok(Some(k));
    }
    Ok(crate::keys::own_key(settings)?)
}

/// The key commands would use here: the store's (as a command would load
/// it, without verifying the store) or, with no store, yours.
pub fn current(settings: &Settings, root: &Path, ui: &dyn super::Ui) -> anyhow::Result<MasterKey> {
    if let Ok(parsed) = Store::read_header(root) {
        let prompt = || {
            if settings.interactive {
                ui.passphrase()
            } else {
                None
            }
        };
        return Ok(crate::keys::load(
            settings,
            root,
            &super::session::location(&parsed),
            &prompt,
            if settings.interactive {
                ui.plugin_prompts()
            } else {
                None
            },
        )?);
    }
    yours(settings)?.ok_or_else(|| {
        no_key("there is no store here and you have no key of your own")
            .hint("make one with `authcfg key new`")
            .into()
    })
}

/// `authcfg key new`: a new key of your own, in a durable keyring or a
/// private file (`file`: `Some(None)` is the default file). Never
/// replaces a key.
pub fn new_own(settings: &Settings, file: Option<Option<PathBuf>>) -> anyhow::Result<Made> {
    let id = x25519::Identity::generate();
    let public = id.to_public().to_string();
    let default = settings.key_file.clone();
    match file {
        Some(path) => {
            let Some(path) = path.or(default.clone()) else {
                return Err(usage("no home directory to keep a key file in")
                    .hint("name one: `authcfg key new --file PATH`")
                    .into());
            };
            let path = std::path::absolute(&path)?;
            let is_default = default.as_deref() == Some(path.as_path());
            if is_default {
                refuse_second_own(settings)?;
            }
            write_new_key_file(&path, &id)?;
            Ok(Made {
                public,
                place: Place::File(path),
                needs_env: !is_default,
            })
        }
        None => {
            refuse_second_own(settings)?;
            let b = keep_in_keyring(settings, OWN_ACCOUNT, &id).map_err(|tried| {
                no_key(format!(
                    "no durable keyring here to keep your key (tried: {tried})"
                ))
                .hint(format!(
                    "keep it in a private file instead: `authcfg key new --file` ({})",
                    default
                        .as_deref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| "name one".into())
                ))
            })?;
            Ok(Made {
                public,
                place: Place::Keyring(b, OWN_ACCOUNT.into()),
                needs_env: false,
            })
        }
    }
}

fn refuse_second_own(settings: &Settings) -> anyhow::Result<()> {
    if let Some(k) = crate::keys::own_key(settings)? {
        return Err(usage(format!(
            "you have a key already ({}) in {}",
            k.identity.to_public(),
            k.source
        ))
        .hint("`authcfg key show` prints it; authcfg never replaces a key (a second one: `authcfg key new --file PATH`)")
        .into());
    }
    Ok(())
}

/// Keeps `id` under `account` in the first durable keyring that takes it;
/// the error lists what was tried.
fn keep_in_keyring(
    settings: &Settings,
    account: &str,
    id: &x25519::Identity,
) -> Result<Backend, String> {
    let backends = keyring::candidates(settings.keyring.as_deref())?;
    let mut tried = vec![];
    for b in backends {
        if !b.is_durable() {
            tried.push(format!("{b}: emptied by a reboot"));
            continue;
        }
        match keyring::set(b, account, &identity::secret_string(id)) {
            Ok(()) => return Ok(b),
            Err(e) => tried.push(format!("{b}: {e}")),
        }
    }
    if tried.is_empty() {
        tried.push("keyrings are off (AUTHCFG_KEYRING=none)".into());
    }
    Err(tried.join("; "))
}

fn write_new_key_file(path: &Path, id: &x25519::Identity) -> anyhow::Result<()> {
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(usage(format!("{} already exists", path.display()))
            .hint("choose a new file; authcfg never overwrites a key")
            .into());
    }
    if let Some(dir) = path.parent() {
        fsutil::create_dirs(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    fsutil::write_atomic(path, identity::to_file_text(id).as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `authcfg key export FILE`: the key this store is opened with, sealed
/// with a passphrase (age scrypt), recorded in the audit trail with its
/// public key (so `doctor` knows which key has a backup).
pub fn export(s: &Session, out: &Path, passphrase: &str) -> anyhow::Result<String> {
    let public = seal_to_file(&s.key.identity, out, passphrase)?;
    s.audit(
        EXPORT_ACTION,
        None,
        "ok",
        Some(&format!("{public} to {}", out.display())),
    );
    Ok(public)
}

/// `key export` without a store: your own key.
pub fn export_own(settings: &Settings, out: &Path, passphrase: &str) -> anyhow::Result<String> {
    let k = yours(settings)?.ok_or_else(|| {
        no_key("there is no store here and you have no key of your own")
            .hint("make one with `authcfg key new`")
    })?;
    seal_to_file(&k.identity, out, passphrase)
}

fn seal_to_file(id: &x25519::Identity, out: &Path, passphrase: &str) -> anyhow::Result<String> {
    identity::check_new_passphrase(passphrase)?;
    if std::fs::symlink_metadata(out).is_ok() {
        return Err(usage(format!("{} already exists", out.display()))
            .hint("choose a new file; authcfg never overwrites a key backup")
            .into());
    }
    let sealed = identity::seal_with_passphrase(id, passphrase)?;
    fsutil::write_atomic(out, &sealed)
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(id.to_public().to_string())
}

pub struct Imported {
    pub public: String,
    pub place: Place,
    /// Whether the key is the store's master key (else a member's, or no
    /// store is here yet).
    pub admin: bool,
    pub needs_env: bool,
}

/// `authcfg key import FILE`: the key of a backup made by `key export`,
/// kept where the store at `root` looks for it: the keyring entry or the
/// identity file its header names for the master key, else your own key's
/// place (or `file`). Refused when a store is here and does not list the
/// key, and never replaces another key.
pub fn import(
    settings: &Settings,
    root: &Path,
    sealed: &[u8],
    passphrase: &str,
    file: Option<PathBuf>,
) -> anyhow::Result<Imported> {
    let id = identity::unseal_with_passphrase(sealed, passphrase).map_err(|e| match e {
        identity::UnsealError::WrongPassphrase => {
            no_key("wrong passphrase for the key backup").hint("type it again")
        }
        identity::UnsealError::Damaged(why) => {
            usage(format!("not a key backup of `authcfg key export`: {why}"))
        }
    })?;
    let public = id.to_public().to_string();
    let header = match Store::read_header(root) {
        Ok(Parsed::Current(h)) => Some(h),
        _ => None,
    };
    let mut admin = false;
    if let Some(h) = &header {
        match h.recipients.iter().find(|r| r.public_key == public) {
            None => {
                return Err(usage(format!(
                    "the key in the backup ({public}) is not a recipient of the store at {}",
                    root.display()
                ))
                .hint("import the backup of this store's key, or choose the store with --store DIR")
                .into())
            }
            Some(r) => admin = r.label == MASTER,
        }
    }
    if let Some(path) = file {
        let path = std::path::absolute(&path)?;
        write_new_key_file(&path, &id)?;
        let needs_env = settings.key_file.as_deref() != Some(path.as_path());
        return Ok(Imported {
            public,
            place: Place::File(path),
            admin,
            needs_env,
        });
    }
    // The master key goes back where its store looks first.
    if let (true, Some(h)) = (admin, &header) {
        if h.key_home == KeyHome::Keyring {
            if let Some(b) = h.keyring_backend.as_deref().and_then(Backend::parse) {
                match keyring::get(b, &h.id) {
                    Ok(v) if identity::parse(&v).is_some_and(|k| k.to_public().to_string() == public) => {
                        return Ok(Imported {
                            public,
                            place: Place::Keyring(b, h.id.clone()),
                            admin,
                            needs_env: false,
                        });
                    }
                    Ok(_) => {
                        return Err(usage(format!(
                            "the keyring ({b}) already holds another key for this store (account {})",
                            h.id
                        ))
                        .hint("authcfg never replaces a key: keep this one in a file with `authcfg key import FILE --file PATH`")
                        .into())
                    }
                    Err(_) => {}
                }
                if keyring::set(b, &h.id, &identity::secret_string(&id)).is_ok() {
                    return Ok(Imported {
                        public,
                        place: Place::Keyring(b, h.id.clone()),
                        admin,
                        needs_env: false,
                    });
                }
            }
        }
        if let Some(path) = &h.identity_file {
            if std::fs::symlink_metadata(path).is_err() {
                write_new_key_file(path, &id)?;
                return Ok(Imported {
                    public,
                    place: Place::File(path.clone()),
                    admin,
                    needs_env: false,
                });
            }
        }
    }
    // Otherwise your own key's place (found when the store keeps no key
    // here: `keys::own_key`).
    if let Some(k) = crate::keys::own_key(settings)? {
        if k.identity.to_public().to_string() == public {
            return Ok(Imported {
                public,
                place: match k.source {
                    crate::keys::Source::Keyring(b) => Place::Keyring(b, OWN_ACCOUNT.into()),
                    crate::keys::Source::IdentityFile(p) => Place::File(p),
                    other => Place::File(PathBuf::from(other.to_string())),
                },
                admin,
                needs_env: false,
            });
        }
        return Err(usage(format!(
            "you have another key of your own already ({}, in {})",
            k.identity.to_public(),
            k.source
        ))
        .hint(format!(
            "keep this one in a file: `authcfg key import FILE --file PATH`, then set {ENV_IDENTITY_FILE}=PATH"
        ))
        .into());
    }
    match keep_in_keyring(settings, OWN_ACCOUNT, &id) {
        Ok(b) => Ok(Imported {
            public,
            place: Place::Keyring(b, OWN_ACCOUNT.into()),
            admin,
            needs_env: false,
        }),
        Err(_) => {
            let Some(path) = settings.key_file.clone() else {
                return Err(usage("no keyring and no home directory to keep the key in")
                    .hint("name a file: `authcfg key import FILE --file PATH`")
                    .into());
            };
            write_new_key_file(&path, &id)?;
            Ok(Imported {
                public,
                place: Place::File(path),
                admin,
                needs_env: false,
            })
        }
    }
}

/// What `doctor` says about recovery: whether losing this machine's
/// keyring would lose the store, and the last backup of the key in use.
pub struct Recovery {
    pub ok: bool,
    pub detail: String,
}

pub fn recovery(s: &Session) -> Recovery {
    use crate::keys::Source;
    let public = s.key.identity.to_public().to_string();
    let exported = crate::store::audit::read_all(s.store.root())
        .unwrap_or_default()
        .into_iter()
        .rev()
        .find(|r| {
            r.action == EXPORT_ACTION
                && r.outcome == "ok"
                && r.detail
                    .as_deref()
                    .is_some_and(|d| d.split(' ').next() == Some(public.as_str()))
        })
        .map(|r| r.time);
    let member = s.store.role() == crate::store::Role::Member;
    let backup = match &exported {
        Some(t) => format!("a backup of this key was made on {t} (`authcfg key export`)"),
        None => String::new(),
    };
    let (ok, text) = match (&s.key.source, exported.is_some()) {
        (_, true) => (true, backup),
        (Source::Passphrase, _) => (
            true,
            "the key is sealed in identity.age in the store: a backup of the store directory and the passphrase restore it".into(),
        ),
        (Source::EnvIdentity, _) => (
            true,
            "the key comes from AUTHCFG_IDENTITY: whoever sets it keeps it (a CI secret store)".into(),
        ),
        (Source::Plugin { plugin, file }, _) => (
            true,
            format!("the key is sealed in identity.plugin.age in the store to the age-plugin-{plugin} identity in {}: the device, that file and a backup of the store directory restore it", file.display()),
        ),
        (Source::IdentityFile(p), _) => (
            true,
            format!("the key is the file {}: keep a copy of it (or `authcfg key export FILE`)", p.display()),
        ),
        (_, false) if member => (
            false,
            "your key lives only in this machine's keyring: if it is lost, make a new one (`authcfg key new`) and ask the admin to add it, or keep a backup now: `authcfg key export FILE` (README, \"Recovery\")".into(),
        ),
        (_, false) => (
            false,
            "the master key lives only in this machine's keyring: losing the keyring loses the store. Keep a passphrase-protected copy (`authcfg key export FILE`) and a backup of the store directory (README, \"Recovery\")".into(),
        ),
    };
    Recovery { ok, detail: text }
}
