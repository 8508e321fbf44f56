//! A child's output, through the streaming redactor
//! (`ops::redact::Stream`), to a writer (authcfg's own stdout or stderr, a
//! terminal, or a bounded buffer). What the child wrote is passed on as
//! soon as it pauses (`IDLE_MS`; `TERMINAL_IDLE_MS` on a pseudo-terminal,
//! where a key's echo must show at once), except a tail that could begin a secret,
//! which waits for the next write or the end.

use std::io::{Read, Write};
#[cfg(unix)]
use std::os::fd::AsRawFd;

/// How long the child may be silent before what is held is shown: short
/// enough that an interactive echo is not noticeably later (under 5 ms
/// added, docs/ARCHITECTURE.md, "The exec proxy"), long enough that the
/// pieces of one burst of writes are read together.
pub const IDLE_MS: i32 = 2;
/// The same on a pseudo-terminal: the echo of a key typed must not wait.
#[cfg(unix)]
pub const TERMINAL_IDLE_MS: i32 = 2;

/// Copies `from` to `to` through `r` until the end of `from` (or an
/// error reading it: a pseudo-terminal whose other side closed). After
/// `idle_ms` of silence, what is held is shown but a tail that could begin
/// a secret; all of it when `release` says so (on a pty: the user typed a
/// key just before, so what is held is that key's echo).
#[cfg(unix)]
pub fn pump(
    mut from: impl Read + AsRawFd,
    mut to: impl Write,
    r: &std::sync::Arc<crate::ops::redact::Redactor>,
    idle_ms: i32,
    release: &dyn Fn() -> bool,
) {
    let mut st = r.stream();
    let mut buf = vec![0u8; 64 * 1024];
    let fd = from.as_raw_fd();
    loop {
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut pfd, 1, idle_ms) };
        if ready == 0 {
            let mut out = st.flush();
            if release() {
                out.extend(st.finish());
            }
            if !out.is_empty() && (to.write_all(&out).is_err() || to.flush().is_err()) {
                return;
            }
            // SAFETY: one valid pollfd; wait for the child's next write.
            unsafe { libc::poll(&mut pfd, 1, -1) };
            continue;
        }
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let out = st.push(&buf[..n]);
                if !out.is_empty() && to.write_all(&out).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let out = st.finish();
    let _ = to.write_all(&out);
    let _ = to.flush();
}

/// The same on Windows, which has no poll on a pipe: a reader thread hands
/// chunks over, and a wait for the next one that times out is the pause.
#[cfg(windows)]
pub fn pump(
    mut from: impl Read + Send + 'static,
    mut to: impl Write,
    r: &std::sync::Arc<crate::ops::redact::Redactor>,
    idle_ms: i32,
    release: &dyn Fn() -> bool,
) {
    use std::sync::mpsc::RecvTimeoutError;
    let mut st = r.stream();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    });
    let idle = std::time::Duration::from_millis(idle_ms.max(0) as u64);
    loop {
        let chunk = match rx.recv_timeout(idle) {
            Ok(c) => c,
            Err(RecvTimeoutError::Timeout) => {
                let mut out = st.flush();
                if release() {
                    out.extend(st.finish());
                }
                if !out.is_empty() && (to.write_all(&out).is_err() || to.flush().is_err()) {
                    return;
                }
                match rx.recv() {
                    Ok(c) => c,
                    Err(_) => break,
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        let out = st.push(&chunk);
        if !out.is_empty() && to.write_all(&out).is_err() {
            return;
        }
    }
    let out = st.finish();
    let _ = to.write_all(&out);
    let _ = to.flush();
}
