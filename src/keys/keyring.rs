//! The OS keyring through `keyring-core` and its per-backend stores: Secret
//! Service over D-Bus, and kernel keyutils where that is all there is (Linux);
//! the Windows Credential Manager; the macOS login Keychain
//! (docs/ARCHITECTURE.md, "Platforms"). Every backend is named on every
//! platform (a store's header says where its key is); one not built for
//! this platform is unavailable.

use keyring_core::{CredentialStore, Entry, Error as KrError};
use std::fmt;
use std::sync::Arc;

pub const SERVICE: &str = "authcfg";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    SecretService,
    Keyutils,
    /// Windows Credential Manager: a generic credential of the user, kept
    /// by the OS (DPAPI) across logons.
    CredentialManager,
    /// The macOS login Keychain: a generic password item.
    Keychain,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::SecretService => "secret-service",
            Backend::Keyutils => "keyutils",
            Backend::CredentialManager => "credential-manager",
            Backend::Keychain => "keychain",
        }
    }
    pub fn parse(s: &str) -> Option<Backend> {
        match s {
            "secret-service" => Some(Backend::SecretService),
            "keyutils" => Some(Backend::Keyutils),
            "credential-manager" => Some(Backend::CredentialManager),
            "keychain" => Some(Backend::Keychain),
            _ => None,
        }
    }
    /// Kernel keyring entries live in memory and are gone after a reboot.
    pub fn is_durable(self) -> bool {
        self != Backend::Keyutils
    }

    /// The backends this platform has, in the order a new key tries them.
    pub fn native() -> &'static [Backend] {
        if cfg!(windows) {
            &[Backend::CredentialManager]
        } else if cfg!(target_os = "macos") {
            &[Backend::Keychain]
        } else {
            &[Backend::SecretService, Backend::Keyutils]
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug)]
pub enum KeyringError {
    /// No entry for this store.
    NoEntry,
    /// No usable backend here: no session bus, no daemon, locked, no session keyring.
    Unavailable(String),
    Other(String),
}

impl fmt::Display for KeyringError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyringError::NoEntry => f.write_str("no entry for this store"),
            KeyringError::Unavailable(s) => write!(f, "not available ({s})"),
            KeyringError::Other(s) => f.write_str(s),
        }
    }
}

fn classify(e: KrError) -> KeyringError {
    match e {
        KrError::NoEntry => KeyringError::NoEntry,
        KrError::NoStorageAccess(p) => KeyringError::Unavailable(one_line(&p.to_string())),
        KrError::NoDefaultStore => KeyringError::Unavailable("no default store".into()),
        KrError::PlatformFailure(p) => {
            let text = one_line(&p.to_string());
            if nothing_to_talk_to(p.as_ref()) {
                KeyringError::Unavailable(text)
            } else {
                KeyringError::Other(text)
            }
        }
        other => KeyringError::Other(one_line(&other.to_string())),
    }
}

/// Whether a store's platform failure means "no usable keyring here", by
/// the backend's own error type: the Secret Service's (no bus, no daemon,
/// a D-Bus call refused, locked, a dismissed prompt) or keyutils' errno
/// (no session keyring, not permitted, not supported). The Windows and
/// macOS stores report "no access" as `NoStorageAccess`, classified above.
#[cfg(target_os = "linux")]
fn nothing_to_talk_to(e: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    if let Some(e) = e.downcast_ref::<secret_service::Error>() {
        use secret_service::Error as S;
        return !matches!(e, S::Crypto(_) | S::Zvariant(_));
    }
    if let Some(e) = e.downcast_ref::<linux_keyutils::KeyError>() {
        use linux_keyutils::KeyError as K;
        return matches!(
            e,
            K::AccessDenied
                | K::PermissionDenied
                | K::KeyringDoesNotExist
                | K::OperationNotSupported
                | K::MissingFileOrDirectory
                | K::Unknown(_)
        );
    }
    false
}

#[cfg(not(target_os = "linux"))]
fn nothing_to_talk_to(_: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    false
}

fn one_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(200).collect()
}

fn store(backend: Backend) -> Result<Arc<CredentialStore>, KeyringError> {
    let elsewhere = || {
        KeyringError::Unavailable(format!(
            "{backend} is not a keyring of {}",
            std::env::consts::OS
        ))
    };
    match backend {
        #[cfg(target_os = "linux")]
        Backend::SecretService => zbus_secret_service_keyring_store::Store::new()
            .map(|s| s as Arc<CredentialStore>)
            .map_err(|e| match classify(e) {
                KeyringError::Other(s) => KeyringError::Unavailable(s),
                other => other,
            }),
        #[cfg(target_os = "linux")]
        Backend::Keyutils => {
            attach_session_keyring();
            linux_keyutils_keyring_store::Store::new()
                .map(|s| s as Arc<CredentialStore>)
                .map_err(classify)
        }
        #[cfg(windows)]
        Backend::CredentialManager => windows_native_keyring_store::Store::new()
            .map(|s| s as Arc<CredentialStore>)
            .map_err(classify),
        #[cfg(target_os = "macos")]
        Backend::Keychain => apple_native_keyring_store::keychain::Store::new()
            .map(|s| s as Arc<CredentialStore>)
            .map_err(classify),
        #[allow(unreachable_patterns)]
        _ => Err(elsewhere()),
    }
}

/// keyutils keeps the key in the session keyring and links it into the
/// user's persistent keyring, which outlives the session. A process without
/// a session keyring of its own (no login session: a container, cron, `su`,
/// ssh without pam_keyinit) falls back to the user-default session keyring
/// `_uid_ses.UID`, from which the persistent keyring can be reached but not
/// written (EACCES): `init` failed there while a read probe said
/// "available". Joining a new anonymous session keyring, as `keyctl
/// session -` does, gives this process (and its children) one; the key
/// lives in the persistent keyring, which later processes reach the same
/// way.
#[cfg(target_os = "linux")]
fn attach_session_keyring() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
        const KEYCTL_DESCRIBE: libc::c_long = 6;
        const KEY_SPEC_SESSION_KEYRING: libc::c_long = -3;
        let mut buf = [0u8; 256];
        let n = unsafe {
            libc::syscall(
                libc::SYS_keyctl,
                KEYCTL_DESCRIBE,
                KEY_SPEC_SESSION_KEYRING,
                buf.as_mut_ptr(),
                buf.len(),
            )
        };
        // "type;uid;gid;perm;description"
        let text = if n > 0 {
            String::from_utf8_lossy(&buf[..(n as usize).min(buf.len())]).into_owned()
        } else {
            String::new()
        };
        let name = text.trim_end_matches('\0').rsplit(';').next().unwrap_or("");
        if n <= 0 || name.starts_with("_uid_ses.") {
            unsafe {
                libc::syscall(
                    libc::SYS_keyctl,
                    KEYCTL_JOIN_SESSION_KEYRING,
                    std::ptr::null::<libc::c_char>(),
                );
            }
        }
    });
}

/// Whether a new key could be kept in `backend` now: keyutils is tried
/// with a throwaway entry (written, read back, deleted), as `init` would
/// keep the key; Secret Service is asked for an entry that does not exist
/// (no write: that could make the keyring ask to be unlocked).
pub fn probe(backend: Backend) -> Result<(), KeyringError> {
    let account = format!("authcfg-probe-{}", std::process::id());
    match backend {
        Backend::Keyutils | Backend::CredentialManager => {
            set(backend, &account, "probe")?;
            delete(backend, &account)
        }
        Backend::SecretService | Backend::Keychain => match get(backend, &account) {
            Ok(_) | Err(KeyringError::NoEntry) => Ok(()),
            Err(e) => Err(e),
        },
    }
}

fn entry(backend: Backend, account: &str) -> Result<Entry, KeyringError> {
    Entry::new_in_store(&store(backend)?, SERVICE, account).map_err(classify)
}

pub fn get(backend: Backend, account: &str) -> Result<zeroize::Zeroizing<String>, KeyringError> {
    let e = entry(backend, account)?;
    e.get_password()
        .map(zeroize::Zeroizing::new)
        .map_err(classify)
}

pub fn set(backend: Backend, account: &str, secret: &str) -> Result<(), KeyringError> {
    let e = entry(backend, account)?;
    e.set_password(secret).map_err(classify)?;
    // Read it back: a backend that accepts writes it cannot return is no home for a key.
    match e.get_password() {
        Ok(v) if v == secret => Ok(()),
        Ok(_) => Err(KeyringError::Other(
            "the keyring returned a different value".into(),
        )),
        Err(err) => Err(classify(err)),
    }
}

pub fn delete(backend: Backend, account: &str) -> Result<(), KeyringError> {
    match entry(backend, account)?
        .delete_credential()
        .map_err(classify)
    {
        Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Backends to try for a new key: `AUTHCFG_KEYRING` if set, else this
/// platform's ([`Backend::native`]: Secret Service then keyutils on Linux).
pub fn candidates(choice: Option<&str>) -> Result<Vec<Backend>, String> {
    match choice {
        None | Some("") | Some("auto") => Ok(Backend::native().to_vec()),
        Some("none") => Ok(vec![]),
        Some(v) => Backend::parse(v).map(|b| vec![b]).ok_or_else(|| {
            format!(
                "AUTHCFG_KEYRING={v} is not one of auto, secret-service, keyutils, \
                 credential-manager, keychain, none"
            )
        }),
    }
}
