//! What differs between operating systems, behind one interface
//! (docs/ARCHITECTURE.md, "Platforms"): who owns a file and who else may
//! open it (Unix modes and uid; a Windows DACL and owner SID), how a
//! private directory is made, opening without following a link, and the
//! flushes of durable writes. Linux behaviour is the Unix one; callers do
//! not `cfg` themselves for these.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;

/// Why a file or directory is not private to this user, in words for
/// `StoreFileError` ("mode 755", "uid 1001", a SID).
#[derive(Debug)]
pub enum NotPrivate {
    /// Others may read or write it: what lets them (a mode, an ACE).
    Loose(String),
    /// Another user owns it.
    Owner(String),
}
