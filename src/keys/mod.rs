//! Where the master key comes from (docs/ARCHITECTURE.md, "Master key"),
//! first match wins:
//! 1. `AUTHCFG_IDENTITY` / `AUTHCFG_IDENTITY_FILE` (or the store's recorded
//!    identity file);
//! 2. the OS keyring;
//! 3. the passphrase-protected `identity.age` in the store;
//! 4. when the store keeps none of these here: your own key (`own_key`:
//!    `authcfg key new`, `authcfg key import`).
//!
//! Never a silent plaintext fallback: when nothing works, the error names
//! each source tried and how to set it up. The header is not verified yet
//! when a key is looked up (the key is what verifies it), so what it says
//! about key locations is treated as untrusted: an identity file it names
//! must belong to the user, be private and lie outside the store.

pub mod cache;
pub mod identity;
pub mod keyring;
pub mod service;
pub mod shares;

use crate::error::{no_key, UserError};
use crate::settings::{Settings, ENV_IDENTITY, ENV_IDENTITY_FILE, ENV_PASSPHRASE};
use crate::store::header::KeyHome;
use age::x25519;
use keyring::{Backend, KeyringError};
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    EnvIdentity,
    IdentityFile(PathBuf),
    Keyring(Backend),
    Passphrase,
    /// The session keyring's cache (`AUTHCFG_KEY_CACHE`).
    Cache,
    /// The store's `identity.plugin.age`, opened by an age plugin with the
    /// `AGE-PLUGIN-…` identity in this file (docs/ARCHITECTURE.md, "age
    /// plugins").
    Plugin {
        plugin: String,
        file: PathBuf,
    },
    /// A key-service recipient's identity, unsealed by the service the
    /// settings configure (docs/ARCHITECTURE.md, "Key services").
    KeyService {
        service: String,
        key: String,
        label: String,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::EnvIdentity => write!(f, "environment ({ENV_IDENTITY})"),
            Source::IdentityFile(p) => write!(f, "identity file {}", p.display()),
            Source::Keyring(b) => write!(f, "OS keyring ({b})"),
            Source::Passphrase => f.write_str("passphrase-protected identity file"),
            Source::Cache => f.write_str("key cache (session keyring)"),
            Source::Plugin { plugin, file } => write!(
                f,
                "age plugin age-plugin-{plugin} (identity file {})",
                file.display()
            ),
            Source::KeyService {
                service,
                key,
                label,
            } => write!(f, "key service {service}:{key} (recipient {label})"),
        }
    }
}

pub struct MasterKey {
    pub identity: x25519::Identity,
    pub source: Source,
}

/// Where the header says the key lives (not yet verified).
#[derive(Debug, Clone)]
pub struct KeyLocation {
    pub store_id: String,
    pub key_home: KeyHome,
    pub keyring_backend: Option<String>,
    pub identity_file: Option<PathBuf>,
    /// The recipients with a key custody (`keys::service`).
    pub custody: Vec<crate::store::header::Recipient>,
    /// The public keys of the other recipients (not verified either): your
    /// own key, when listed, is taken before a key service.
    pub listed: Vec<String>,
}

/// Asks for the passphrase when there is a terminal; `None` otherwise.
pub type PassphrasePrompt<'a> = &'a dyn Fn() -> Option<zeroize::Zeroizing<String>>;

/// Where an age plugin's messages and questions go: the person's terminal
/// (`ops::Ui`), or nowhere when there is none.
pub type Prompts = Option<&'static dyn crate::store::crypt::PluginPrompts>;

/// An identity given through the environment, if any.
pub fn from_env(settings: &Settings) -> Result<Option<MasterKey>, UserError> {
    from_env_at(settings, None, None, None)
}

/// `from_env` for the store at `root` (a plugin identity opens its sealed
/// master key).
fn from_env_at(
    settings: &Settings,
    root: Option<&Path>,
    prompts: Prompts,
    custody: Option<(&str, &[crate::store::header::Recipient])>,
) -> Result<Option<MasterKey>, UserError> {
    if let Some(v) = &settings.identity {
        let id = identity::parse(v).ok_or_else(|| {
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
    if let Some(path) = &settings.identity_file {
        return from_file(path.clone(), None, root, prompts, custody).map(Some);
    }
    Ok(None)
}

/// Reads an identity file. It must be a regular file of this user, not
/// readable or writable by others (as ssh insists for private keys); one
/// named by the store header must also lie outside the store directory,
/// where whoever can write the store could have put it.
fn from_file(
    path: PathBuf,
    store_root: Option<&Path>,
    plugin_root: Option<&Path>,
    prompts: Prompts,
    custody: Option<(&str, &[crate::store::header::Recipient])>,
) -> Result<MasterKey, UserError> {
    let id = read_identity_file(&path, store_root)?;
    match id {
        crate::store::crypt::AnyIdentity::X25519(identity) => Ok(MasterKey {
            identity,
            source: Source::IdentityFile(path),
        }),
        crate::store::crypt::AnyIdentity::Plugin(p) => {
            let Some(root) = plugin_root.or(store_root) else {
                return Err(no_key(format!(
                    "{} holds an age plugin identity, which opens a store's sealed master key, not a key of its own",
                    path.display()
                ))
                .hint("create a store with it: `authcfg init --identity-file FILE`"));
            };
            let sealed_path = root.join(identity::PLUGIN_FILE);
            let sealed = crate::store::fsutil::read_private(&sealed_path)
                .map_err(|e| no_key(format!("cannot read {}: {e}", sealed_path.display())))?;
            // No master key sealed here: a plugin custody of the header may
            // be this identity's (docs/ARCHITECTURE.md, "Key services").
            if let (None, Some((store_id, recipients))) = (&sealed, custody) {
                if let Some(u) = service::unlock_plugin(store_id, recipients, &p, prompts)? {
                    return Ok(MasterKey {
                        identity: u.identity,
                        source: Source::KeyService {
                            service: u.service,
                            key: u.key,
                            label: u.label,
                        },
                    });
                }
            }
            let sealed = sealed
                .ok_or_else(|| {
                    no_key(format!(
                        "{} holds an age plugin identity, but the store has no master key sealed to a plugin ({} is missing)",
                        path.display(),
                        sealed_path.display()
                    ))
                })?;
            let identity = identity::unseal_with_plugin(&sealed, &p, prompts)?;
            Ok(MasterKey {
                identity,
                source: Source::Plugin {
                    plugin: p.plugin().to_string(),
                    file: path,
                },
            })
        }
    }
}

/// The identity in an identity file, native or a plugin's, after the
/// checks of `from_file` (this user's, private, outside the store).
pub fn read_identity_file(
    path: &Path,
    store_root: Option<&Path>,
) -> Result<crate::store::crypt::AnyIdentity, UserError> {
    let path = path.to_path_buf();
    let meta = std::fs::metadata(&path).map_err(|e| {
        no_key(format!("cannot read identity file {}: {e}", path.display()))
            .hint(format!("check the path in {ENV_IDENTITY_FILE}"))
    })?;
    if !meta.is_file() {
        return Err(no_key(format!(
            "identity file {} is not a file",
            path.display()
        )));
    }
    match crate::platform::check_private(&path, None, &meta) {
        Ok(()) => {}
        Err(crate::platform::NotPrivate::Loose(why)) => {
            return Err(no_key(format!(
                "identity file {} is accessible by other users ({why}); refusing to use it",
                path.display()
            ))
            .hint(crate::platform::fix_loose_hint(&path)))
        }
        Err(crate::platform::NotPrivate::Owner(who)) => {
            return Err(no_key(format!(
                "identity file {} belongs to another user ({who}); refusing to use it",
                path.display()
            )))
        }
    }
    if let Some(root) = store_root {
        let real = std::fs::canonicalize(&path).unwrap_or(path.clone());
        let root = std::fs::canonicalize(root).unwrap_or(root.to_path_buf());
        if real.starts_with(&root) {
            return Err(no_key(format!(
                "the store header names an identity file inside the store ({}); refusing to use it",
                path.display()
            ))
            .hint("a key file must live outside the store directory; set AUTHCFG_IDENTITY_FILE to yours"));
        }
    }
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(&path)
            .map_err(|e| no_key(format!("cannot read identity file {}: {e}", path.display())))?,
    );
    identity::parse_any(&text).ok_or_else(|| {
        no_key(format!("{} does not hold an age identity", path.display()))
            .hint("create one with `authcfg key new --file FILE`, or with your age plugin (age-plugin-yubikey --generate, ...)")
    })
}

/// The keyring account of your own key (`authcfg key new`): one per user,
/// not per store, so that it exists before you join a team store.
pub const OWN_ACCOUNT: &str = "own-key";

/// Your own key, kept by `authcfg key new` or `key import`: the file
/// `~/.config/authcfg/key.txt`, else the entry `own-key` of a durable
/// keyring. Store headers say nothing about it: a member's clone carries
/// the admin's key location, not yours.
pub fn own_key(settings: &Settings) -> Result<Option<MasterKey>, UserError> {
    if let Some(path) = settings.key_file.as_ref().filter(|p| p.exists()) {
        return from_file(path.clone(), None, None, None, None).map(Some);
    }
    let backends = keyring::candidates(settings.keyring.as_deref()).unwrap_or_default();
    for b in backends.into_iter().filter(|b| b.is_durable()) {
        if let Ok(secret) = keyring::get(b, OWN_ACCOUNT) {
            if let Some(id) = identity::parse(&secret) {
                return Ok(Some(MasterKey {
                    identity: id,
                    source: Source::Keyring(b),
                }));
            }
        }
    }
    Ok(None)
}

/// Walks the chain for an existing store.
pub fn load(
    settings: &Settings,
    root: &Path,
    loc: &KeyLocation,
    prompt: PassphrasePrompt,
    prompts: Prompts,
) -> Result<MasterKey, UserError> {
    let custody = Some((loc.store_id.as_str(), loc.custody.as_slice()));
    if let Some(k) = from_env_at(settings, Some(root), prompts, custody)? {
        return Ok(k);
    }
    let mut tried = vec![format!("{ENV_IDENTITY} / {ENV_IDENTITY_FILE}: not set")];
    if settings.key_cache.is_some() {
        if let Some(id) = cache::get(&loc.store_id) {
            return Ok(MasterKey {
                identity: id,
                source: Source::Cache,
            });
        }
    }

    if let Some(path) = &loc.identity_file {
        if path.exists() {
            return from_file(path.clone(), Some(root), Some(root), prompts, custody);
        }
        tried.push(format!("identity file {}: missing", path.display()));
    }

    let backend = loc.keyring_backend.as_deref().and_then(Backend::parse);
    match backend {
        Some(b) => match keyring::get(b, &loc.store_id) {
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
                loc.store_id,
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

    // Your own key, when the header lists it, before a key service: AWS
    // credentials (~/.aws/credentials) or a Vault token set for other work
    // would otherwise stop a member who has a key of their own, or open the
    // store as the service's recipient instead of as them
    // (docs/ARCHITECTURE.md, "Key services"). The list is unverified; the
    // key found verifies the header as any key does.
    if !loc.custody.is_empty() && !loc.listed.is_empty() {
        if let Some(k) = own_key(settings)? {
            if loc.listed.contains(&k.identity.to_public().to_string()) {
                return Ok(k);
            }
        }
    }

    // A key service the settings configure, for a store whose header lists
    // a recipient in its custody. Its failure ends the search: a service
    // that is down or refuses is never passed over for weaker storage
    // (docs/SECURITY.md, "Key services").
    if loc.custody.iter().any(|r| {
        r.custody
            .as_ref()
            .is_some_and(|c| service::configured(&c.service, settings))
    }) {
        match service::unlock(settings, &loc.store_id, &loc.custody) {
            Ok(Some(u)) => {
                return Ok(MasterKey {
                    identity: u.identity,
                    source: Source::KeyService {
                        service: u.service,
                        key: u.key,
                        label: u.label,
                    },
                })
            }
            Ok(None) => {}
            Err(e) => {
                tried.push(format!("key service: {}", e.message));
                let hint = e.hint.unwrap_or_else(|| {
                    format!(
                        "check the key service settings ({})",
                        service::SETTINGS_HINT
                    )
                });
                return Err(no_key(format!(
                    "no master key for the store at {}; tried:\n  - {}",
                    root.display(),
                    tried.join("\n  - ")
                ))
                .hint(hint));
            }
        }
    } else if loc
        .custody
        .iter()
        .any(|r| r.custody.as_ref().is_some_and(|c| c.service != "plugin"))
    {
        tried.push(format!(
            "key service: the store lists key-service recipients, but none of their services is configured here ({})",
            service::SETTINGS_HINT
        ));
    }

    let sealed = root.join(identity::PASSPHRASE_FILE);
    let data = crate::store::fsutil::read_private(&sealed).map_err(|e| {
        let msg = crate::store::fsutil::StoreFileError::find(&e)
            .map(|f| f.to_string())
            .unwrap_or_else(|| format!("cannot read {}: {e}", sealed.display()));
        no_key(msg)
    })?;
    if let Some(data) = data {
        let pass = settings.passphrase.clone().or_else(prompt);
        match pass {
            Some(p) => match identity::unseal_with_passphrase(&data, &p) {
                Ok(id) => {
                    // Put back in keyutils (emptied by a reboot) only once
                    // the header is verified: `ops::session`.
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
    } else {
        if loc.key_home == KeyHome::Passphrase {
            tried.push(format!("passphrase file {}: missing", sealed.display()));
        }
        // Nothing of this store's own (a member's clone, a store restored
        // on a new machine): your own key, made by `authcfg key new` or
        // put back by `authcfg key import`.
        match own_key(settings)? {
            Some(k) => return Ok(k),
            None => tried.push("your own key (`authcfg key new`): none".into()),
        }
    }

    // The remedies that apply to where this store keeps its key, and only
    // those (a store with no passphrase is not told to set one).
    let mut ways = vec![format!(
        "set {ENV_IDENTITY} (an AGE-SECRET-KEY-1… string) or {ENV_IDENTITY_FILE}"
    )];
    match backend {
        Some(Backend::SecretService) => ways.push(
            "unlock the keyring that holds it: log in to the desktop session, or in a D-Bus \
             session run `gnome-keyring-daemon --unlock` and type your login password"
                .into(),
        ),
        Some(Backend::Keyutils) => ways.push(
            "a kernel keyring is emptied by a reboot or logout: the key comes back from the \
             store's passphrase file, or from your backup"
                .into(),
        ),
        Some(Backend::CredentialManager) => ways.push(
            "log on as the user who made the store: the Windows Credential Manager keeps the key \
             per user"
                .into(),
        ),
        Some(Backend::Keychain) => ways.push(
            "unlock the login Keychain (log in to the Mac, or `security unlock-keychain`)".into(),
        ),
        None => {}
    }
    if sealed.exists() || loc.key_home == KeyHome::Passphrase {
        ways.push(format!(
            "set {ENV_PASSPHRASE} to the store's passphrase, or run the command at a terminal to be asked"
        ));
    }
    ways.push("put your key back from a backup: `authcfg key import FILE` (or from recovery shares: `authcfg key recovery restore`)".into());
    Err(no_key(format!(
        "no master key for the store at {}; tried:\n  - {}",
        root.display(),
        tried.join("\n  - ")
    ))
    .hint(ways.join("; or ")))
}
