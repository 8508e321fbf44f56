//! File access for the store: durable writes (temp file, fsync, rename,
//! fsync the directory) so a crash leaves the old or the new file; and reads
//! that never follow a symlink and refuse files other users can read or
//! write (docs/SECURITY.md, "Store directory"). What "private" means on
//! each operating system is `crate::platform`'s.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// Prefix of temp files, so that a crashed writer's leftovers can be told apart
/// (and are never mistaken for configs: they do not end in `.age`).
pub const TMP_PREFIX: &str = ".tmp-";

/// Writes `data` to `path` atomically and durably: a temp file in `tmp_dir`
/// (same filesystem), fsync, rename over `path` (a symlink there is
/// replaced, never followed), fsync of the destination directory.
pub fn write_atomic_via(tmp_dir: &Path, path: &Path, data: &[u8], durable: bool) -> io::Result<()> {
    // The store's temp directory must be its own (a link there would make
    // temp files, and the sweep of old ones, act elsewhere).
    ensure_private_dir(tmp_dir)?;
    write_atomic_in(tmp_dir, path, data, durable)
}

fn write_atomic_in(tmp_dir: &Path, path: &Path, data: &[u8], durable: bool) -> io::Result<()> {
    let dir = path.parent().expect("store paths have a parent");
    create_dirs(dir)?;
    let mut b = tempfile::Builder::new();
    b.prefix(TMP_PREFIX);
    crate::platform::private_temp(&mut b);
    let mut tmp = b.tempfile_in(tmp_dir)?;
    crate::platform::make_private_file(tmp.path())?;
    tmp.write_all(data)?;
    if durable {
        tmp.as_file().sync_all()?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    if durable {
        sync_dir(dir)?;
    }
    Ok(())
}

/// `write_atomic_via` with the temp file beside `path` (files outside the
/// store: identity files, `inject -o`).
pub fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    let dir = path.parent().expect("paths have a parent");
    write_atomic_in(dir, path, data, true)
}

/// Writes `data` to a new file at `path` (0600, synced, the directory
/// synced): never replaces an existing file (`persist_noclobber`), so a
/// key that may still be in use is never overwritten.
pub fn write_new(path: &Path, data: &[u8]) -> io::Result<()> {
    let dir = path.parent().expect("paths have a parent");
    let mut b = tempfile::Builder::new();
    b.prefix(TMP_PREFIX);
    crate::platform::private_temp(&mut b);
    let mut tmp = b.tempfile_in(dir)?;
    crate::platform::make_private_file(tmp.path())?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    tmp.persist_noclobber(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

pub fn sync_dir(dir: &Path) -> io::Result<()> {
    crate::platform::sync_dir(dir)
}

/// Flushes everything written to the filesystem holding `dir` (Linux
/// `syncfs`): one flush for bulk writes (imports, re-encryption) instead
/// of an fsync per file.
pub fn sync_fs(dir: &Path) -> io::Result<()> {
    crate::platform::sync_fs(dir)
}

/// Creates `dir` and its missing parents, private (0700 on Unix).
pub fn create_dirs(dir: &Path) -> io::Result<()> {
    crate::platform::create_private_dirs(dir)
}

/// Opens (creating if needed) a private file without following a symlink.
pub fn open_private(path: &Path, append: bool) -> io::Result<File> {
    let f = crate::platform::private_open(
        OpenOptions::new()
            .create(true)
            .append(append)
            .write(true)
            .read(true),
        true,
        false,
    )
    .open(path)
    .map_err(|e| nofollow_error(path, e))?;
    check_file(path, &f)?;
    Ok(f)
}

/// Creates a new private file (0600) that must not exist yet, without
/// following a symlink (`$GITHUB_ENV`, `inject -o` targets are created so).
pub fn create_private_append(path: &Path) -> io::Result<File> {
    crate::platform::private_open(OpenOptions::new().create(true).append(true), false, false)
        .open(path)
}

/// The largest store file read whole (configs, index shards, journals,
/// the header): a planted huge or sparse file is refused, not read.
pub const MAX_FILE: u64 = 64 << 20;

/// Reads a store file: no symlink, a regular file (a FIFO is refused
/// without blocking), not readable or writable by others, at most
/// `MAX_FILE` bytes. `Ok(None)` when it does not exist.
pub fn read_private(path: &Path) -> io::Result<Option<Vec<u8>>> {
    read_private_max(path, MAX_FILE)
}

pub fn read_private_max(path: &Path, max: u64) -> io::Result<Option<Vec<u8>>> {
    let Some(f) = open_private_read(path)? else {
        return Ok(None);
    };
    let len = f.metadata()?.len();
    if len > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            StoreFileError::TooLarge(path.to_path_buf(), len),
        ));
    }
    let mut buf = Vec::with_capacity(len as usize);
    f.take(max + 1).read_to_end(&mut buf)?;
    Ok(Some(buf))
}

/// Opens a store file for reading with the checks of `read_private` but
/// no size limit (files read as a stream: the audit trail). `Ok(None)`
/// when it does not exist.
pub fn open_private_read(path: &Path) -> io::Result<Option<File>> {
    let f =
        match crate::platform::private_open(OpenOptions::new().read(true), true, true).open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(nofollow_error(path, e)),
        };
    check_file(path, &f)?;
    Ok(Some(f))
}

/// Checks that a store directory is a real directory (not a symlink) of
/// this user, closed to others.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    let m = fs::symlink_metadata(dir)?;
    if m.file_type().is_symlink() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            StoreFileError::Symlink(dir.to_path_buf()),
        ));
    }
    if !m.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            StoreFileError::NotAFile(dir.to_path_buf()),
        ));
    }
    crate::platform::check_private(dir, None, &m).map_err(|why| not_private(dir, why))
}

fn not_private(path: &Path, why: crate::platform::NotPrivate) -> io::Error {
    use crate::platform::NotPrivate;
    let p = path.to_path_buf();
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        match why {
            NotPrivate::Loose(w) => StoreFileError::Loose(p, w),
            NotPrivate::Owner(w) => StoreFileError::Owner(p, w),
        },
    )
}

/// `private_dir`, creating the directory (0700) when it is missing.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => create_dirs(dir),
        _ => private_dir(dir),
    }
}

fn nofollow_error(path: &Path, e: io::Error) -> io::Error {
    if crate::platform::is_link_error(&e) {
        io::Error::new(
            io::ErrorKind::InvalidData,
            StoreFileError::Symlink(path.to_path_buf()),
        )
    } else {
        e
    }
}

fn check_file(path: &Path, f: &File) -> io::Result<()> {
    let m = f.metadata()?;
    if crate::platform::opened_link(&m) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            StoreFileError::Symlink(path.to_path_buf()),
        ));
    }
    if !m.file_type().is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            StoreFileError::NotAFile(path.to_path_buf()),
        ));
    }
    crate::platform::check_private(path, Some(f), &m).map_err(|why| not_private(path, why))
}

/// Why a store file was refused; carried inside `io::Error` so callers can
/// map it to a hint.
#[derive(Debug, thiserror::Error)]
pub enum StoreFileError {
    #[error("{0} is a symbolic link; nothing inside the store follows links")]
    Symlink(PathBuf),
    #[error("{0} is not a regular file")]
    NotAFile(PathBuf),
    /// What opens it: "mode 755", or the DACL entry on Windows.
    #[error("{0} is accessible by other users ({1}); refusing to use it")]
    Loose(PathBuf, String),
    /// Its owner: "uid 1001", or a SID on Windows.
    #[error("{0} belongs to another user ({1}); refusing to use it")]
    Owner(PathBuf, String),
    #[error("{0} is {1} bytes long, far more than any store file; refusing to read it")]
    TooLarge(PathBuf, u64),
}

impl StoreFileError {
    pub fn hint(&self) -> String {
        match self {
            StoreFileError::Symlink(p) | StoreFileError::NotAFile(p) => format!(
                "replace {} with the real file or directory (a link could point anywhere)",
                p.display()
            ),
            StoreFileError::TooLarge(p, _) => {
                format!("check who wrote {}; restore it from a backup", p.display())
            }
            StoreFileError::Loose(p, _) => crate::platform::fix_loose_hint(p),
            StoreFileError::Owner(p, _) => format!(
                "check who wrote {}; the store must belong to you",
                p.display()
            ),
        }
    }
    pub fn find(e: &io::Error) -> Option<&StoreFileError> {
        e.get_ref().and_then(|i| i.downcast_ref::<StoreFileError>())
    }
}

/// Checks that every directory from `root` (exclusive) down to `path`'s
/// parent is a real directory, not a symlink, and private.
pub fn check_dirs(root: &Path, path: &Path) -> io::Result<()> {
    let Ok(rel) = path.strip_prefix(root) else {
        return Ok(());
    };
    let mut dir = root.to_path_buf();
    let parts: Vec<_> = rel.components().collect();
    for c in parts.iter().take(parts.len().saturating_sub(1)) {
        dir.push(c);
        match fs::symlink_metadata(&dir) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    StoreFileError::Symlink(dir),
                ))
            }
            Ok(m) if !m.is_dir() => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    StoreFileError::NotAFile(dir),
                ))
            }
            Ok(m) => {
                if let Err(why @ crate::platform::NotPrivate::Loose(_)) =
                    crate::platform::check_private(&dir, None, &m)
                {
                    return Err(not_private(&dir, why));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Removes a file durably and then any directories it leaves empty, up to
/// (not including) `stop`.
pub fn remove_and_prune(path: &Path, stop: &Path) -> io::Result<()> {
    fs::remove_file(path)?;
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == stop || !d.starts_with(stop) {
            break;
        }
        if fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
    sync_dir(dir.unwrap_or(stop))
}

/// What opens `path` to others, if anything ("mode 755"; a DACL entry on
/// Windows).
pub fn loose_mode(path: &Path) -> io::Result<Option<String>> {
    crate::platform::loose(path)
}
