//! An optional cache of the unlocked master key in the kernel's session
//! keyring (keyutils), with a timeout, as ssh-agent and gpg-agent cache
//! keys: `export` with the key in Secret Service (a D-Bus round trip, about
//! 10 ms) then costs a keyctl search (microseconds). Off unless
//! `AUTHCFG_KEY_CACHE=SECONDS` is set; `authcfg lock` drops it
//! (docs/SECURITY.md, "The key cache").
//!
//! The cached key is readable only by processes that possess this login
//! session's keyring (possessor permissions only; none for the user or
//! others), it expires after the timeout, and children authcfg starts are
//! given a fresh session keyring so they do not possess it.

//!
//! Only Linux has a session keyring: elsewhere there is no cache, and
//! `AUTHCFG_KEY_CACHE` is refused when asked to keep one.

use age::x25519;
#[cfg(target_os = "linux")]
use linux_keyutils::{KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, Permission};

#[cfg(target_os = "linux")]
fn description(store_id: &str) -> String {
    format!("authcfg:cache:{store_id}")
}

#[cfg(target_os = "linux")]
fn session() -> Option<KeyRing> {
    KeyRing::from_special_id(KeyRingIdentifier::Session, false).ok()
}

#[cfg(target_os = "linux")]
/// The cached key of a store, if there is one (and it has not expired).
pub fn get(store_id: &str) -> Option<x25519::Identity> {
    let key = session()?.search(&description(store_id)).ok()?;
    let bytes = zeroize::Zeroizing::new(key.read_to_vec().ok()?);
    super::identity::parse(std::str::from_utf8(&bytes).ok()?)
}

#[cfg(target_os = "linux")]
/// Caches the key for `seconds`.
pub fn put(store_id: &str, id: &x25519::Identity, seconds: u64) -> Result<(), String> {
    let ring = session().ok_or("no session keyring")?;
    let secret = super::identity::secret_string(id);
    let key = ring
        .add_key(&description(store_id), secret.as_bytes())
        .map_err(|e| format!("{e:?}"))?;
    let perms = KeyPermissionsBuilder::builder()
        .posessor(Permission::ALL)
        .build();
    key.set_perms(perms).map_err(|e| format!("{e:?}"))?;
    key.set_timeout(seconds as usize)
        .map_err(|e| format!("{e:?}"))?;
    Ok(())
}

#[cfg(target_os = "linux")]
/// Drops the cached key of a store; `true` when there was one.
pub fn forget(store_id: &str) -> bool {
    session()
        .and_then(|r| r.search(&description(store_id)).ok())
        .is_some_and(|k| k.invalidate().is_ok())
}

#[cfg(target_os = "linux")]
/// Gives this process (and so the program it runs next) a new, empty
/// session keyring, so a child does not possess the one holding the cache.
pub fn leave_session() {
    unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_JOIN_SESSION_KEYRING,
            std::ptr::null::<libc::c_char>(),
        );
    }
}

#[cfg(not(target_os = "linux"))]
pub fn get(_store_id: &str) -> Option<x25519::Identity> {
    None
}

#[cfg(not(target_os = "linux"))]
pub fn put(_store_id: &str, _id: &x25519::Identity, _seconds: u64) -> Result<(), String> {
    Err(format!("no session keyring on {}", std::env::consts::OS))
}

#[cfg(not(target_os = "linux"))]
pub fn forget(_store_id: &str) -> bool {
    false
}

#[cfg(not(target_os = "linux"))]
pub fn leave_session() {}
