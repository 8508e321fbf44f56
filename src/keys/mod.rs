//! Where the master key comes from (DESIGN §3), first match wins:
//! 1. `AUTHCFG_IDENTITY` / `AUTHCFG_IDENTITY_FILE` (or the store's recorded
//!    identity file);
//! 2. the OS keyring;
//! 3. the passphrase-protected `identity.age` in the store.
//!
//! Never a silent plaintext fallback: when nothing works, the error names
//! each source tried and how to set it up.

pub mod identity;
pub mod keyring;

use crate::error::{no_key, UserError};
use crate::store::header::KeyHome;
use crate::store::Store;
use age::x25519;
use keyring::{Backend, KeyringError};
use std::fmt;
use std::path::PathBuf;

pub const ENV_IDENTITY: &str = "AUTHCFG_IDENTITY";
pub const ENV_IDENTITY_FILE: &str = "AUTHCFG_IDENTITY_FILE";
pub const ENV_PASSPHRASE: &str = "AUTHCFG_PASSPHRASE";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    EnvIdentity,
    IdentityFile(PathBuf),
    Keyring(Backend),
    Passphrase,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::EnvIdentity => write!(f, "environment ({ENV_IDENTITY})"),
            Source::IdentityFile(p) => write!(f, "identity file {}", p.display()),
            Source::Keyring(b) => write!(f, "OS keyring ({b})"),
            Source::Passphrase => f.write_str("passphrase-protected identity file"),
        }
    }
}

pub struct MasterKey {
    pub identity: x25519::Identity,
    pub source: Source,
}

/// Asks for the passphrase when there is a terminal; `None` otherwise.
pub type PassphrasePrompt<'a> = &'a dyn Fn() -> Option<zeroize::Zeroizing<String>>;

/// An identity given through the environment, if any.
pub fn from_env() -> Result<Option<MasterKey>, UserError> {
    if let Ok(v) = std::env::var(ENV_IDENTITY) {
        let id = identity::parse(&v).ok_or_else(|| {
            no_key(format!(
                "{ENV_IDENTITY} is set but does not hold an age identity"
            ))
            .hint("it must be an AGE-SECRET-KEY-1… string, as age-keygen prints")
        })?;
        return Ok(Some(MasterKey {
            identity: id,
            source: Source::EnvIdentity,
        }));
    }
    if let Some(path) = std::env::var_os(ENV_IDENTITY_FILE) {
        return from_file(PathBuf::from(path)).map(Some);
    }
    Ok(None)
}

fn from_file(path: PathBuf) -> Result<MasterKey, UserError> {
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(&path).map_err(|e| {
        no_key(format!("cannot read identity file {}: {e}", path.display()))
            .hint(format!("check the path in {ENV_IDENTITY_FILE}"))
    })?);
    let id = identity::parse(&text).ok_or_else(|| {
        no_key(format!(
            "{} does not hold an age X25519 identity",
            path.display()
        ))
        .hint("create one with `age-keygen -o FILE`")
    })?;
    Ok(MasterKey {
        identity: id,
        source: Source::IdentityFile(path),
    })
}

/// Walks the chain for an existing store.
pub fn load(store: &Store, prompt: PassphrasePrompt) -> Result<MasterKey, UserError> {
    if let Some(k) = from_env()? {
        return Ok(k);
    }
    let header = store.header();
    let mut tried = vec![format!("{ENV_IDENTITY} / {ENV_IDENTITY_FILE}: not set")];

    if let Some(path) = &header.identity_file {
        if path.exists() {
            return from_file(path.clone());
        }
        tried.push(format!("identity file {}: missing", path.display()));
    }

    let backend = header.keyring_backend.as_deref().and_then(Backend::parse);
    match backend {
        Some(b) => match keyring::get(b, &header.id) {
            Ok(secret) => match identity::parse(&secret) {
                Some(id) => {
                    return Ok(MasterKey {
                        identity: id,
                        source: Source::Keyring(b),
                    })
                }
                None => tried.push(format!(
                    "OS keyring ({b}): the entry is not an age identity"
                )),
            },
            Err(KeyringError::NoEntry) => tried.push(format!(
                "OS keyring ({b}): no entry for service '{}', account '{}'{}",
                keyring::SERVICE,
                header.id,
                if b.is_durable() {
                    ""
                } else {
                    " (kernel keyrings are emptied by a reboot or logout)"
                }
            )),
            Err(e) => tried.push(format!("OS keyring ({b}): {e}")),
        },
        None => tried.push("OS keyring: this store keeps no key there".into()),
    }

    let sealed = store.root().join(identity::PASSPHRASE_FILE);
    if sealed.exists() {
        let data = std::fs::read(&sealed)
            .map_err(|e| no_key(format!("cannot read {}: {e}", sealed.display())))?;
        let pass = std::env::var(ENV_PASSPHRASE)
            .ok()
            .map(zeroize::Zeroizing::new)
            .or_else(prompt);
        match pass {
            Some(p) => match identity::unseal_with_passphrase(&data, &p) {
                Ok(id) => {
                    // Re-cache in a volatile keyring (keyutils) so the next command needs no passphrase.
                    if backend == Some(Backend::Keyutils) {
                        let _ = keyring::set(Backend::Keyutils, &header.id, &identity::secret_string(&id));
                    }
                    return Ok(MasterKey {
                        identity: id,
                        source: Source::Passphrase,
                    });
                }
                Err(identity::UnsealError::WrongPassphrase) => {
                    return Err(no_key(format!("wrong passphrase for {}", sealed.display()))
                        .hint(format!("check {ENV_PASSPHRASE}, or type it again")))
                }
                Err(identity::UnsealError::Damaged(e)) => {
                    tried.push(format!("passphrase file {}: damaged ({e})", sealed.display()))
                }
            },
            None => tried.push(format!(
                "passphrase file {}: present, but {ENV_PASSPHRASE} is not set and there is no terminal to ask",
                sealed.display()
            )),
        }
    } else if header.key_home == KeyHome::Passphrase {
        tried.push(format!("passphrase file {}: missing", sealed.display()));
    }

    Err(no_key(format!(
        "no master key for the store at {}; tried:\n  - {}",
        store.root().display(),
        tried.join("\n  - ")
    ))
    .hint(format!(
        "set {ENV_IDENTITY} (an AGE-SECRET-KEY-1… string) or {ENV_IDENTITY_FILE}; or unlock your keyring \
         (a D-Bus session with gnome-keyring or KWallet); or set {ENV_PASSPHRASE} for a passphrase-protected store"
    )))
}
