//! The one reader of files authcfg reads for the user: templates
//! (`inject`), imports, request bodies (`http --data @FILE`), key backups
//! and project files (docs/ARCHITECTURE.md, "Reading the user's files").
//! A regular file only (a device such as `/dev/zero`, a FIFO or a
//! directory is refused at once: the open does not block, the type is
//! checked on the open file), read up to a bound the caller names (more is
//! an error, never a truncation). Standard input (`-`) is read up to the
//! same bound.

use crate::error::{usage, UserError};
use std::fs::{File, Metadata};
use std::io::Read;
use std::path::Path;

/// Templates, imports and request bodies: large enough for any real one.
pub const MAX_INPUT: u64 = 64 << 20;

/// Reads `path` (`-`: standard input), `what` naming it in errors.
pub fn read(path: &Path, what: &str, max: u64) -> Result<Vec<u8>, UserError> {
    if path.as_os_str() == "-" {
        return bounded(std::io::stdin().lock(), what, "standard input", max);
    }
    let (f, _) = open(path, what, max)?;
    read_opened(f, path, what, max)
}

/// Opens `path` as [`read`] does (a regular file within `max`, judged on
/// the open descriptor) without reading it: a caller that checks the open
/// file first (`project::trust`) reads it with [`read_opened`], so what
/// was checked is what is read.
pub fn open(path: &Path, what: &str, max: u64) -> Result<(File, Metadata), UserError> {
    let shown = crate::text::Outside::new(path.display().to_string());
    let bad = |why: String| usage(format!("cannot read {what} {shown}: {why}"));
    let f = crate::platform::input_open(std::fs::OpenOptions::new().read(true))
        .open(path)
        .map_err(|e| bad(e.to_string()))?;
    let meta = f.metadata().map_err(|e| bad(e.to_string()))?;
    if !meta.is_file() {
        let kind = if meta.is_dir() {
            "a directory"
        } else {
            "a device, FIFO or socket"
        };
        return Err(bad(format!("it is {kind}, not a regular file"))
            .hint("give a regular file, or - with the text on standard input"));
    }
    if meta.len() > max {
        return Err(bad(format!(
            "it is {} bytes long; the limit is {max}",
            meta.len()
        )));
    }
    Ok((f, meta))
}

/// Reads a file [`open`] opened, up to `max`.
pub fn read_opened(f: File, path: &Path, what: &str, max: u64) -> Result<Vec<u8>, UserError> {
    let shown = crate::text::Outside::new(path.display().to_string());
    bounded(f, what, &shown.to_string(), max)
}

/// UTF-8 text from bytes read for `path` (wiped when they are not).
pub fn into_text(bytes: Vec<u8>, path: &Path, what: &str) -> Result<String, UserError> {
    String::from_utf8(bytes).map_err(|e| {
        // The bytes may hold secrets (an import): wipe them.
        let mut b = e.into_bytes();
        zeroize::Zeroize::zeroize(&mut b);
        usage(format!(
            "cannot read {what} {}: it is not UTF-8 text",
            crate::text::Outside::new(path.display().to_string())
        ))
    })
}

/// Reads `path` as UTF-8 text (see [`read`]).
pub fn read_text(path: &Path, what: &str, max: u64) -> Result<String, UserError> {
    into_text(read(path, what, max)?, path, what)
}

fn bounded(r: impl Read, what: &str, shown: &str, max: u64) -> Result<Vec<u8>, UserError> {
    let mut buf = Vec::new();
    r.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| usage(format!("cannot read {what} {shown}: {e}")))?;
    if buf.len() as u64 > max {
        zeroize::Zeroize::zeroize(&mut buf);
        return Err(usage(format!(
            "cannot read {what} {shown}: it is longer than {max} bytes"
        )));
    }
    Ok(buf)
}
