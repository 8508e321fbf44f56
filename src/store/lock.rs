//! The store's writer lock: an advisory lock on `<store>/.lock`. Readers never
//! take it; every file they read is replaced by rename, never rewritten.

use std::fs::File;
use std::io;
use std::path::Path;

pub struct WriterLock {
    _file: File,
}

impl WriterLock {
    pub fn acquire(root: &Path) -> io::Result<Self> {
        let file = super::fsutil::open_private(&root.join(".lock"), false)?;
        file.lock()?;
        Ok(WriterLock { _file: file })
    }
}
