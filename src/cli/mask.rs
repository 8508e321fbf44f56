//! `exec --mask`: a child's output, through the streaming redactor
//! (`ops::redact::Stream`), to authcfg's own stdout or stderr. What the
//! child wrote is shown as soon as it pauses (`IDLE`), except a tail that
//! could begin a secret, which waits for the next write or the end.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;

/// How long the child may be silent before what is held is shown: short
/// enough that an interactive echo is not noticeably later (under 5 ms
/// added, docs/ARCHITECTURE.md, "The exec proxy"), long enough that the
/// pieces of one burst of writes are read together.
const IDLE_MS: i32 = 2;

/// Copies `from` to `to` through `r` until the end of `from`.
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
