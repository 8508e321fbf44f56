//! What a store's root holds (docs/ARCHITECTURE.md, "Store"): the one list
//! of its entries, so `doctor` can name what does not belong without
//! retyping the store's file names.

use super::{audit, index, journal, pins, team, usage};
use super::{CONFIGS_DIR, OLD_IDENTITY, STAGING_DIR, TMP_DIR};
use std::path::{Path, PathBuf};

/// The writer lock (holder's pid and operation inside).
pub const LOCK_FILE: &str = ".lock";
/// Last-use markers of earlier versions (read, no longer written).
pub const USED_DIR: &str = "used";
/// Per-config refresh locks.
pub const LOCKS_DIR: &str = "locks";
/// Database leases in progress, one record each (`ops::lease`).
pub const LEASES_DIR: &str = "leases";
/// The passphrase-sealed master key (passphrase and keyutils stores).
pub const SEALED_IDENTITY: &str = "identity.age";
/// The master key sealed to an age plugin identity (a hardware key), which
/// the store's identity file names (docs/ARCHITECTURE.md, "age plugins").
pub const PLUGIN_SEALED_IDENTITY: &str = "identity.plugin.age";

/// Directories of the root.
pub const ROOT_DIRS: [&str; 10] = [
    CONFIGS_DIR,
    audit::SEGMENT_DIR,
    usage::SHARD_DIR,
    index::INDEX_DIR,
    USED_DIR,
    LOCKS_DIR,
    TMP_DIR,
    STAGING_DIR,
    team::CONFLICTS_DIR,
    LEASES_DIR,
];

/// Files of the root.
pub const ROOT_FILES: [&str; 13] = [
    super::header::HEADER_FILE,
    usage::USAGE_FILE,
    journal::JOURNAL_FILE,
    journal::ADMIN_JOURNAL_FILE,
    audit::AUDIT_FILE,
    audit::HEAD_FILE,
    audit::LEGACY_FILE,
    audit::ACCESS_FILE,
    pins::PINS_FILE,
    SEALED_IDENTITY,
    PLUGIN_SEALED_IDENTITY,
    OLD_IDENTITY,
    LOCK_FILE,
];

/// A store kept in git or a synced folder carries their files.
pub const FOREIGN: [&str; 5] = [
    ".git",
    ".gitignore",
    ".gitattributes",
    ".stfolder",
    ".stignore",
];

/// Files of format 1 that this version does not use (left by an upgrade,
/// or what stopped one).
pub fn is_legacy(name: &str) -> bool {
    journal::LEGACY_JOURNALS.contains(&name) || ["identity.next.age", "index.age"].contains(&name)
}

/// The format-1 files present in `root`.
pub fn legacy_files(root: &Path) -> Vec<&'static str> {
    journal::LEGACY_JOURNALS
        .iter()
        .chain(["identity.next.age", "index.age"].iter())
        .filter(|f| root.join(f).exists())
        .copied()
        .collect()
}

/// Entries of the store's root and of `configs/` that are not part of the
/// layout, each as its path from the root (as found: outside text) with
/// why: unknown names, a file where a directory belongs or the other way
/// round, symbolic links, and under `configs/` anything that is not
/// `NAME.age` for a valid config name (so `list` never shows it).
pub fn stray_entries(root: &Path) -> Vec<(String, &'static str)> {
    let mut out = vec![];
    let Ok(entries) = std::fs::read_dir(root) else {
        return out;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let Ok(ft) = e.file_type() else { continue };
        if FOREIGN.contains(&name.as_str()) || is_legacy(&name) {
            continue;
        }
        let why = if ROOT_DIRS.contains(&name.as_str()) {
            if ft.is_symlink() {
                Some("a symbolic link where a directory belongs")
            } else if !ft.is_dir() {
                Some("not a directory")
            } else {
                None
            }
        } else if ROOT_FILES.contains(&name.as_str()) {
            if ft.is_symlink() {
                Some("a symbolic link")
            } else if !ft.is_file() {
                Some("not a regular file")
            } else {
                None
            }
        } else {
            Some("unknown")
        };
        if let Some(why) = why {
            out.push((name, why));
        }
    }
    // Never through a symbolic link (reported above).
    let configs_is_dir =
        std::fs::symlink_metadata(root.join(CONFIGS_DIR)).is_ok_and(|m| m.is_dir());
    let mut stack = vec![];
    if configs_is_dir {
        stack.push(PathBuf::from(CONFIGS_DIR));
    }
    while let Some(rel_dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(root.join(&rel_dir)) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let rel = rel_dir.join(e.file_name());
            let shown = rel.to_string_lossy().into_owned();
            let Ok(ft) = e.file_type() else { continue };
            let Some(seg) = e.file_name().to_str().map(str::to_string) else {
                out.push((shown, "a name that is not UTF-8"));
                continue;
            };
            // The config name this path stands for, from configs/.
            let under: String = rel
                .strip_prefix(CONFIGS_DIR)
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            if ft.is_dir() {
                if super::names::validate(&seg).is_ok() {
                    stack.push(rel);
                } else {
                    out.push((shown, "a folder whose name no config can have"));
                }
            } else if ft.is_symlink() {
                out.push((shown, "a symbolic link"));
            } else if !ft.is_file() {
                out.push((shown, "not a regular file"));
            } else {
                match under.strip_suffix(".age") {
                    None => out.push((shown, "not a config file: no .age")),
                    Some(n) if super::names::validate(n).is_err() => {
                        out.push((shown, "not a valid config name"))
                    }
                    Some(_) => {}
                }
            }
        }
    }
    out
}
