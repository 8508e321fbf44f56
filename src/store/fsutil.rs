//! Durable file writes: temp file in the same directory, fsync, rename, fsync
//! the directory. A crash at any instant leaves the old or the new file.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// Prefix of temp files, so that a crashed writer's leftovers can be told apart
/// (and are never mistaken for configs: they do not end in `.age`).
pub const TMP_PREFIX: &str = ".tmp-";

pub fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    let dir = path.parent().expect("store paths have a parent");
    create_dirs(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(TMP_PREFIX)
        .permissions(fs::Permissions::from_mode(FILE_MODE))
        .tempfile_in(dir)?;
    tmp.write_all(data)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

pub fn create_dirs(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
}

pub fn open_private(path: &Path, append: bool) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(append)
        .write(true)
        .read(true)
        .mode(FILE_MODE)
        .open(path)
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

/// Group/other permission bits on a path, if any.
pub fn loose_mode(path: &Path) -> io::Result<Option<u32>> {
    let mode = fs::metadata(path)?.permissions().mode() & 0o777;
    Ok((mode & 0o077 != 0).then_some(mode))
}
