//! Unix: file modes and the effective uid.

use super::NotPrivate;
use std::fs::{DirBuilder, File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

const DIR_MODE: u32 = 0o700;
const FILE_MODE: u32 = 0o600;

/// `uid:N`, for the audit trail's actor when `USER` is not set.
pub fn user_id() -> String {
    format!("uid:{}", unsafe { libc::getuid() })
}

/// Whether this user owns the file of `m`.
pub fn owned_by_me(m: &Metadata) -> bool {
    m.uid() == unsafe { libc::geteuid() }
}

/// Whether this user owns `path`'s file (not following a link).
pub fn owned_by_me_path(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| owned_by_me(&m))
}

/// The file of `m` is this user's and closed to group and others
/// (`path` only names it in the error).
pub fn check_private(_path: &Path, _file: Option<&File>, m: &Metadata) -> Result<(), NotPrivate> {
    let mode = m.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(NotPrivate::Loose(format!("mode {mode:03o}")));
    }
    if !owned_by_me(m) {
        return Err(NotPrivate::Owner(format!("uid {}", m.uid())));
    }
    Ok(())
}

/// Group and other bits of `path`, when it has any ("mode 755").
pub fn loose(path: &Path) -> io::Result<Option<String>> {
    let mode = std::fs::metadata(path)?.permissions().mode() & 0o777;
    Ok((mode & 0o077 != 0).then(|| format!("mode {mode:03o}")))
}

/// Creates `dir` and its missing parents, each 0700.
pub fn create_private_dirs(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Creates `dir` (0700); fails when it exists.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().mode(DIR_MODE).create(dir)
}

/// A new file is private already (created 0600).
pub fn make_private_file(_path: &Path) -> io::Result<()> {
    Ok(())
}

/// Closes an existing directory to others (0700).
pub fn make_private_dir(dir: &Path) -> io::Result<()> {
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
}

/// Options for a private file: 0600 when created, close-on-exec, and with
/// `nofollow` no symlink in the last component (ELOOP, [`is_link_error`]);
/// `nonblock`: a FIFO is not waited on.
pub fn private_open(o: &mut OpenOptions, nofollow: bool, nonblock: bool) -> &mut OpenOptions {
    let mut flags = libc::O_CLOEXEC;
    if nofollow {
        flags |= libc::O_NOFOLLOW;
    }
    if nonblock {
        flags |= libc::O_NONBLOCK;
    }
    o.mode(FILE_MODE).custom_flags(flags)
}

/// Options for a file read for the user (`input::open`): a FIFO or a
/// device is not waited on, and never becomes the controlling terminal.
pub fn input_open(o: &mut OpenOptions) -> &mut OpenOptions {
    o.custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY)
}

/// Whether an open with `nofollow` failed because the path is a link.
pub fn is_link_error(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::ELOOP)
}

/// Whether an opened file is a link (never: `O_NOFOLLOW` refused it).
pub fn opened_link(_m: &Metadata) -> bool {
    false
}

/// Temp files of the store: 0600.
pub fn private_temp(b: &mut tempfile::Builder<'_, '_>) {
    b.permissions(std::fs::Permissions::from_mode(FILE_MODE));
}

/// Flushes a directory (a rename in it) to disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Flushes everything written to the filesystem holding `dir` (Linux
/// `syncfs`, elsewhere `sync`).
pub fn sync_fs(dir: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let f = File::open(dir)?;
        if unsafe { libc::syncfs(f.as_raw_fd()) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        unsafe { libc::sync() };
    }
    Ok(())
}

/// The hint that closes a file to others.
pub fn fix_loose_hint(path: &Path) -> String {
    format!("run: chmod 600 '{}'", path.display())
}

/// The hint that closes a directory to others.
pub fn fix_loose_dir_hint(path: &Path) -> String {
    format!("run: chmod 700 '{}'", path.display())
}

/// A child that creates files with a private umask (0077).
pub fn child_private_umask(c: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: umask is async-signal-safe and touches no memory.
    unsafe {
        c.pre_exec(|| {
            libc::umask(0o077);
            Ok(())
        });
    }
}

/// A child that starts with a new, empty session keyring, so it does not
/// possess the one that may hold the key cache (Linux; `keys::cache`).
pub fn child_leaves_keyring(c: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: only an async-signal-safe syscall between fork and exec.
    unsafe {
        c.pre_exec(|| {
            crate::keys::cache::leave_session();
            Ok(())
        });
    }
}

/// A child in its own session: closing the terminal does not end it.
pub fn child_own_session(c: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        c.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
}

/// Whether `path` (not followed) still names the open `file`.
pub fn same_file(path: &Path, file: &File) -> io::Result<bool> {
    let opened = file.metadata()?;
    Ok(std::fs::symlink_metadata(path)
        .is_ok_and(|m| m.ino() == opened.ino() && m.dev() == opened.dev()))
}

/// Reads exactly `buf.len()` bytes at `offset` (the file position is
/// left alone on Unix).
pub fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

/// Identifies a file's current content cheaply (device, inode, size,
/// modification time).
pub fn stamp(m: &Metadata) -> String {
    format!(
        "{}:{}:{}:{}.{}",
        m.dev(),
        m.ino(),
        m.size(),
        m.mtime(),
        m.mtime_nsec()
    )
}

/// Where an open file really is, from its descriptor, not a path
/// (`/proc/self/fd/N` on Linux, `F_GETPATH` on macOS).
pub fn opened_path(f: &File) -> io::Result<std::path::PathBuf> {
    use std::os::fd::AsRawFd;
    #[cfg(target_os = "macos")]
    {
        let mut buf = vec![0u8; libc::PATH_MAX as usize];
        if unsafe { libc::fcntl(f.as_raw_fd(), libc::F_GETPATH, buf.as_mut_ptr()) } == -1 {
            return Err(io::Error::last_os_error());
        }
        let n = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        buf.truncate(n);
        use std::os::unix::ffi::OsStringExt;
        Ok(std::ffi::OsString::from_vec(buf).into())
    }
    #[cfg(not(target_os = "macos"))]
    {
        std::fs::read_link(format!("/proc/self/fd/{}", f.as_raw_fd()))
    }
}

/// Replaces this process with `cmd` (execvp: the command keeps authcfg's
/// PID, signals reach it directly); returns only when it cannot start.
pub fn exec(mut cmd: std::process::Command) -> io::Error {
    use std::os::unix::process::CommandExt;
    cmd.exec()
}

/// While authcfg waits for the child `pid`: the terminal's SIGINT/SIGQUIT
/// reach the child (same process group) and are ignored here; SIGTERM and
/// SIGHUP sent to authcfg are passed on.
pub fn forward_signals(pid: u32) {
    // SAFETY: setting a signal disposition to SIG_IGN.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
    }
    let pid = pid as libc::pid_t;
    crate::net::runtime::runtime().spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            return;
        };
        loop {
            let sig = tokio::select! {
                _ = term.recv() => libc::SIGTERM,
                _ = hup.recv() => libc::SIGHUP,
            };
            // SAFETY: kill(2) on the child's pid.
            unsafe {
                libc::kill(pid, sig);
            }
        }
    });
}

/// A child's exit status as a shell reports it (128 + the signal that
/// ended it).
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

/// Whether standard output is a pipe whose reader has gone (the write end
/// of a pipe whose read end is closed polls as an error).
pub fn stdout_reader_gone() -> bool {
    let mut fd = libc::pollfd {
        fd: libc::STDOUT_FILENO,
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd, no timeout.
    let n = unsafe { libc::poll(&mut fd, 1, 0) };
    n == 1 && fd.revents & libc::POLLERR != 0
}

/// Resolves when authcfg is asked to stop (SIGTERM or SIGINT).
pub async fn stop_requested() -> io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => Ok(()),
        _ = int.recv() => Ok(()),
    }
}

/// A child whose argv[0] is `name` rather than its program's path.
pub fn child_arg0(c: &mut std::process::Command, name: &str) -> io::Result<()> {
    use std::os::unix::process::CommandExt;
    c.arg0(name);
    Ok(())
}

/// A child that leads a process group of its own: [`kill_group`] ends it
/// and everything it started.
pub fn child_own_group(c: &mut std::process::Command) -> io::Result<()> {
    use std::os::unix::process::CommandExt;
    // SAFETY: setpgid is async-signal-safe.
    unsafe {
        c.pre_exec(|| {
            if libc::setpgid(0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Ok(())
}

/// Kills the process group the child `pid` leads ([`child_own_group`]).
pub fn kill_group(pid: u32) {
    // SAFETY: kill(2) on the child's own process group.
    unsafe {
        libc::kill(-(pid as libc::pid_t), libc::SIGKILL);
    }
}

/// Whether a file of metadata `m` may be run (a regular file with an
/// execute bit).
pub fn executable(m: &Metadata) -> bool {
    m.is_file() && m.permissions().mode() & 0o111 != 0
}

/// The signal that ended a child, if one did.
pub fn exit_signal(status: std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.signal()
}

/// Kills every process whose environment holds `marker` (`NAME=VALUE`, the
/// call's guard variable): what a call started and that left its process
/// group (`ops::run`; docs/SECURITY.md, "run_command"). Repeated until none is found
/// (bounded), for those forked while the list was read. Only processes
/// whose /proc/PID/environ this user may read are seen (not a set-uid
/// program), and one that replaced its environment is not.
pub fn kill_marked(marker: &[u8]) {
    let me = std::process::id().to_string();
    for _ in 0..20 {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return;
        };
        let mut found = false;
        for e in dir.flatten() {
            let name = e.file_name();
            let Some(pid) = name
                .to_str()
                .filter(|n| *n != me)
                .and_then(|n| n.parse::<libc::pid_t>().ok())
            else {
                continue;
            };
            let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
                continue;
            };
            if env.split(|b| *b == 0).any(|v| v == marker) {
                // SAFETY: kill(2) on a process this call started.
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                }
                found = true;
            }
        }
        if !found {
            return;
        }
    }
}

/// What identifies a file's content without reading it: a rename over it
/// changes the inode, a write its size or times (device, inode, size,
/// modification and change times).
pub fn file_identity(m: &Metadata) -> String {
    format!(
        "{}:{}:{}:{}.{}:{}.{}",
        m.dev(),
        m.ino(),
        m.size(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec()
    )
}

/// Signals beyond those every Unix has that end a process by default and
/// are meant for a job as a whole (`ops::run::pty` passes them on to the
/// child): SIGPWR on Linux; macOS has none.
#[cfg(target_os = "linux")]
pub const JOB_SIGNALS: &[libc::c_int] = &[libc::SIGPWR];
#[cfg(not(target_os = "linux"))]
pub const JOB_SIGNALS: &[libc::c_int] = &[];

/// A new pseudo-terminal's master end, not inherited by children. Linux
/// opens it close-on-exec; macOS's `posix_openpt` takes no such flag, so
/// it is set right after (the pty is opened before its child is started).
pub fn open_pty_master() -> io::Result<std::os::fd::OwnedFd> {
    use rustix::pty::{openpt, OpenptFlags};
    #[cfg(target_os = "linux")]
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
    #[cfg(not(target_os = "linux"))]
    let master = {
        let m = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY)?;
        rustix::io::fcntl_setfd(&m, rustix::io::FdFlags::CLOEXEC)?;
        m
    };
    Ok(master)
}
