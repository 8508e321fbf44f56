//! The store's writer lock: an advisory lock on `<store>/.lock`, held by a
//! writer from the first step of a change to its last. Readers never take
//! it: every file they read is replaced by rename, never rewritten. The
//! holder writes its pid and operation into the file so that a waiting
//! writer can say whom it waits for.

use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::Path;
use std::time::{Duration, Instant};

pub struct WriterLock {
    file: File,
    store_lock: bool,
}

/// Whether this process holds its store's writer lock: a second
/// acquisition in the same process would wait for itself.
static HELD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Who holds the lock, as the holder wrote it.
#[derive(Debug, Clone)]
pub struct Holder {
    pub pid: u32,
    pub operation: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {}: {}", self.pid, self.operation)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another authcfg process has held the store's lock for {waited} s{}", holder.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Timeout { waited: u64, holder: Option<Holder> },
    #[error("internal error: the store's lock was taken twice by one process")]
    Reentered,
    #[error(transparent)]
    Io(#[from] io::Error),
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        if self.store_lock {
            HELD.store(false, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// Whether this process holds the store's writer lock now.
pub fn held() -> bool {
    HELD.load(std::sync::atomic::Ordering::SeqCst)
}

impl WriterLock {
    /// Waits up to `timeout` for the lock; `waiting` is called once, after a
    /// second, with the holder (so the user hears why nothing happens).
    pub fn acquire(
        root: &Path,
        operation: &str,
        timeout: Duration,
        waiting: &mut dyn FnMut(Option<Holder>),
    ) -> Result<WriterLock, LockError> {
        use std::sync::atomic::Ordering;
        if HELD.swap(true, Ordering::SeqCst) {
            return Err(LockError::Reentered);
        }
        // The store root itself may be a link the user made; it was checked
        // (private) when the header was read.
        match WriterLock::acquire_path(
            &root.join(super::layout::LOCK_FILE),
            operation,
            timeout,
            waiting,
        ) {
            Ok(mut l) => {
                l.store_lock = true;
                Ok(l)
            }
            Err(e) => {
                HELD.store(false, Ordering::SeqCst);
                Err(e)
            }
        }
    }

    /// The same wait on another lock file (one config's refresh lock).
    pub fn acquire_file(
        path: &Path,
        operation: &str,
        timeout: Duration,
        waiting: &mut dyn FnMut(Option<Holder>),
    ) -> Result<WriterLock, LockError> {
        if let Some(dir) = path.parent() {
            super::fsutil::ensure_private_dir(dir)?;
        }
        WriterLock::acquire_path(path, operation, timeout, waiting)
    }

    fn acquire_path(
        path: &Path,
        operation: &str,
        timeout: Duration,
        waiting: &mut dyn FnMut(Option<Holder>),
    ) -> Result<WriterLock, LockError> {
        let file = super::fsutil::open_private(path, false)?;
        let start = Instant::now();
        let mut told = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(LockError::Timeout {
                    waited: waited.as_secs(),
                    holder: read_holder(&file),
                });
            }
            if !told && waited >= Duration::from_secs(1) {
                told = true;
                waiting(read_holder(&file));
            }
            std::thread::sleep(Duration::from_millis(if told { 50 } else { 5 }));
        }
        let mut lock = WriterLock {
            file,
            store_lock: false,
        };
        lock.set_operation(operation);
        Ok(lock)
    }

    /// Records what the holder is doing, for writers that wait.
    pub fn set_operation(&mut self, operation: &str) {
        let _ = self.file.set_len(0);
        let _ = self.file.rewind();
        let _ = write!(self.file, "{} {operation}", std::process::id());
    }
}

fn read_holder(mut file: &File) -> Option<Holder> {
    let mut s = String::new();
    file.rewind().ok()?;
    file.take(256).read_to_string(&mut s).ok()?;
    let (pid, op) = s.trim().split_once(' ')?;
    Some(Holder {
        pid: pid.parse().ok()?,
        operation: op.to_string(),
    })
}
