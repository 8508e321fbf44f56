//! `exec --mask`: a child's output, through the streaming redactor
//! (`ops::redact::Stream`), to authcfg's own stdout or stderr. What the
//! child wrote is shown as soon as it pauses (`IDLE`), except a tail that
//! could begin a secret, which waits for the next write or the end.

use std::io::{Read, Write};
#[cfg(unix)]
use std::os::fd::AsRawFd;

/// How long the child may be silent before what is held is shown.
const IDLE_MS: i32 = 15;

/// Copies `from` to `to` through `r` until the end of `from`. Windows has
/// no poll on a pipe: a reader thread hands chunks over, and a wait for
/// the next one that times out is the pause.
#[cfg(windows)]
pub fn pump(
    mut from: impl Read + Send + 'static,
    mut to: impl Write,
    r: &std::sync::Arc<crate::ops::redact::Redactor>,
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
    let idle = std::time::Duration::from_millis(IDLE_MS as u64);
    loop {
        let chunk = match rx.recv_timeout(idle) {
            Ok(c) => c,
            Err(RecvTimeoutError::Timeout) => {
                let out = st.flush();
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

/// Copies `from` to `to` through `r` until the end of `from`.
#[cfg(unix)]
pub fn pump(
    mut from: impl Read + AsRawFd,
    mut to: impl Write,
    r: &std::sync::Arc<crate::ops::redact::Redactor>,
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
        let ready = unsafe { libc::poll(&mut pfd, 1, IDLE_MS) };
        if ready == 0 {
            let out = st.flush();
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
