//! A masked command at a terminal (`exec --mask`/`--placeholders` with
//! stdin and stdout terminals): the child runs on a pseudo-terminal, so
//! programs that check `isatty` (vim, less, psql, a password prompt) work,
//! and what it writes reaches the user's terminal through the redactor
//! (docs/ARCHITECTURE.md, "The exec proxy"; docs/SECURITY.md, "Placeholders
//! and the exec proxy").
//!
//! - The pty starts with the user's terminal settings and window size; a
//!   SIGWINCH here resizes it (the kernel tells the child).
//! - The user's terminal is put in raw mode, so every key (Ctrl-C, Ctrl-Z,
//!   Ctrl-D) reaches the pty, whose line discipline turns it into the
//!   child's signal or echo, as a terminal would. The mode is restored when
//!   the child ends, when it stops (authcfg stops too, and takes raw mode
//!   back when continued), on an error and on unwinding (`Raw`'s drop).
//! - While the child runs, a signal that would end authcfg by its default
//!   action (SIGUSR1, SIGALRM, SIGXCPU, ...: every catchable one not
//!   handled elsewhere) first restores the terminal's mode, passes the
//!   terminating ones on to the child, then ends authcfg by that signal as
//!   before; SIGTSTP sent to authcfg restores the mode, stops, and takes
//!   raw mode back when continued (`Fatal`).
//! - The child leads a session of its own with the pty as its controlling
//!   terminal (setsid, TIOCSCTTY).
//!
//! rustix's `pty` and `termios` modules: thin, safe wrappers over the
//! system calls, and direct system calls (async-signal-safe) in the child
//! before exec.

use rustix::termios::{self, OptionalActions, Termios};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// authcfg's stdin (the terminal whose mode changes).
fn stdin_fd() -> BorrowedFd<'static> {
    // SAFETY: fd 0 stays open for the life of the process.
    unsafe { BorrowedFd::borrow_raw(0) }
}

fn stdout_fd() -> BorrowedFd<'static> {
    // SAFETY: fd 1 stays open for the life of the process.
    unsafe { BorrowedFd::borrow_raw(1) }
}

/// A pseudo-terminal made for one child.
pub struct Session {
    master: OwnedFd,
    slave: OwnedFd,
}

impl Session {
    /// A new pty with the settings and the window size of authcfg's
    /// terminal.
    pub fn open() -> anyhow::Result<Session> {
        use rustix::pty::{grantpt, ptsname, unlockpt};
        let master = crate::platform::open_pty_master()?;
        grantpt(&master)?;
        unlockpt(&master)?;
        let name = ptsname(&master, Vec::new())?;
        let slave = rustix::fs::open(
            name.as_c_str(),
            rustix::fs::OFlags::RDWR | rustix::fs::OFlags::NOCTTY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )?;
        if let Ok(t) = termios::tcgetattr(stdin_fd()) {
            termios::tcsetattr(&slave, OptionalActions::Now, &t)?;
        }
        if let Ok(w) = termios::tcgetwinsize(stdout_fd()) {
            termios::tcsetwinsize(&slave, w)?;
        }
        Ok(Session { master, slave })
    }

    /// Makes `cmd` start on the pty: its stdin, stdout and stderr, and its
    /// controlling terminal in a session of its own.
    pub fn attach(&self, cmd: &mut std::process::Command) -> anyhow::Result<()> {
        cmd.stdin(self.slave.try_clone()?)
            .stdout(self.slave.try_clone()?)
            .stderr(self.slave.try_clone()?);
        // SAFETY: between fork and exec, only system calls (setsid, ioctl).
        // stdin is the pty's slave by then (std sets up stdio first).
        unsafe {
            cmd.pre_exec(|| {
                rustix::process::setsid()?;
                rustix::process::ioctl_tiocsctty(BorrowedFd::borrow_raw(0))?;
                Ok(())
            });
        }
        Ok(())
    }

    /// Once the child `pid` runs: the user's terminal in raw mode, keys to
    /// the pty, the pty's output through `masker` to authcfg's stdout, the
    /// window size followed.
    pub fn start(
        self,
        pid: u32,
        masker: Arc<crate::ops::redact::Redactor>,
    ) -> anyhow::Result<Running> {
        let pid = pid as libc::pid_t;
        let Session { master, slave } = self;
        // Only the child holds the slave now: its end (and its children's)
        // ends the output.
        drop(slave);
        let raw = Arc::new(Raw::enter()?);
        let fatal = Fatal::install(&raw, pid, std::os::fd::AsRawFd::as_raw_fd(&master));
        let out_master = std::fs::File::from(master.try_clone()?);
        let screen = std::fs::File::from(stdout_fd().try_clone_to_owned()?);
        let (out_tx, out_rx) = std::sync::mpsc::channel::<()>();
        // When the user last typed (ms since `epoch`).
        let epoch = std::time::Instant::now();
        let typed = Arc::new(AtomicU64::new(0));
        let seen = typed.clone();
        std::thread::spawn(move || {
            // What is held is shown whole when a key was typed within
            // `ECHO_MS`: it is the echo (docs/SECURITY.md: what the pty's
            // masking cannot hold back).
            let release = || {
                let t = seen.load(Ordering::SeqCst);
                t != 0 && (epoch.elapsed().as_millis() as u64).saturating_sub(t) <= ECHO_MS
            };
            super::pump::pump(
                out_master,
                screen,
                &masker,
                super::pump::TERMINAL_IDLE_MS,
                &release,
            );
            let _ = out_tx.send(());
        });
        let stop = Arc::new(AtomicBool::new(false));
        let keys_master = master.try_clone()?;
        let keys_stop = stop.clone();
        std::thread::spawn(move || keys(keys_master, &keys_stop, &typed, epoch));
        let master = Arc::new(master);
        let winch_master = master.clone();
        let winch = crate::net::runtime::runtime().spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(mut s) = signal(SignalKind::window_change()) else {
                return;
            };
            while s.recv().await.is_some() {
                resize(winch_master.as_fd());
            }
        });
        Ok(Running {
            pid,
            raw,
            fatal,
            master,
            stop,
            out_done: Mutex::new(Some(out_rx)),
            winch,
        })
    }
}

/// The window size of authcfg's terminal, given to the pty.
fn resize(master: BorrowedFd<'_>) {
    if let Ok(w) = termios::tcgetwinsize(stdout_fd()) {
        let _ = termios::tcsetwinsize(master, w);
    }
}

/// How long after a key what the pty writes counts as its echo.
const ECHO_MS: u64 = 100;

/// Copies the user's keys to the pty until `stop`; `typed`: when the last
/// came (ms since `epoch`, at least 1).
fn keys(master: OwnedFd, stop: &AtomicBool, typed: &AtomicU64, epoch: std::time::Instant) {
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        let mut pfd = libc::pollfd {
            fd: 0,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd; a bounded wait, to see `stop`.
        let ready = unsafe { libc::poll(&mut pfd, 1, 50) };
        if ready <= 0 || stop.load(Ordering::SeqCst) {
            continue;
        }
        match rustix::io::read(stdin_fd(), &mut buf) {
            Ok(0) => return,
            Ok(n) => {
                typed.store(epoch.elapsed().as_millis() as u64 + 1, Ordering::SeqCst);
                let mut rest = &buf[..n];
                while !rest.is_empty() {
                    match rustix::io::write(&master, rest) {
                        Ok(w) => rest = &rest[w..],
                        Err(rustix::io::Errno::INTR) => {}
                        Err(_) => return,
                    }
                }
            }
            Err(rustix::io::Errno::INTR | rustix::io::Errno::AGAIN) => {}
            Err(_) => return,
        }
    }
}

/// The user's terminal in raw mode; its mode as found restored on drop.
struct Raw {
    saved: Termios,
}

impl Raw {
    fn enter() -> anyhow::Result<Raw> {
        let saved = termios::tcgetattr(stdin_fd())?;
        let r = Raw { saved };
        r.again();
        Ok(r)
    }

    /// Raw mode (again, after a stop).
    fn again(&self) {
        let mut raw = self.saved.clone();
        raw.make_raw();
        let _ = termios::tcsetattr(stdin_fd(), OptionalActions::Now, &raw);
    }

    fn restore(&self) {
        // Drain: what the child wrote is shown in the mode it was meant for.
        let _ = termios::tcsetattr(stdin_fd(), OptionalActions::Drain, &self.saved);
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        self.restore();
    }
}

/// A child running on the pty.
pub struct Running {
    pid: libc::pid_t,
    raw: Arc<Raw>,
    fatal: Fatal,
    master: Arc<OwnedFd>,
    stop: Arc<AtomicBool>,
    out_done: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
    winch: tokio::task::JoinHandle<()>,
}

impl Running {
    /// Waits for the child's end. When it stops (Ctrl-Z), the user's
    /// terminal gets its mode back and authcfg stops too; when authcfg is
    /// continued, raw mode, the window size and the child continue.
    pub fn waiter(&self) -> Box<dyn FnOnce() -> std::io::Result<ExitStatus> + Send> {
        let (pid, raw, master) = (self.pid, self.raw.clone(), self.master.clone());
        Box::new(move || {
            use std::os::unix::process::ExitStatusExt;
            loop {
                let mut status = 0;
                // SAFETY: waitpid(2) on our child, into a local.
                let r = unsafe { libc::waitpid(pid, &mut status, libc::WUNTRACED) };
                if r < 0 {
                    let e = std::io::Error::last_os_error();
                    if e.kind() == std::io::ErrorKind::Interrupted {
                        continue;
                    }
                    return Err(e);
                }
                if libc::WIFSTOPPED(status) {
                    raw.restore();
                    // SAFETY: stops this process, as the child stopped;
                    // the shell's `fg` continues it.
                    unsafe {
                        libc::raise(libc::SIGTSTP);
                    }
                    raw.again();
                    resize(master.as_fd());
                    // SAFETY: kill(2) on our child.
                    unsafe {
                        libc::kill(pid, libc::SIGCONT);
                    }
                    continue;
                }
                return Ok(ExitStatus::from_raw(status));
            }
        })
    }

    /// After the child's end: its last output shown (bounded: a process it
    /// left behind may keep the pty open), the keys no longer read, the
    /// terminal's mode restored.
    pub fn finish(self) {
        if let Some(rx) = self.out_done.lock().expect("out lock").take() {
            let _ = rx.recv_timeout(std::time::Duration::from_secs(1));
        }
        self.stop.store(true, Ordering::SeqCst);
        self.winch.abort();
        drop(self.fatal);
        self.raw.restore();
    }
}

/// What a signal handler needs while the pty is active: the modes to put
/// back and take again, the child, the pty. Set once per child and never
/// freed (a handler may still be reading it).
struct Modes {
    saved: Termios,
    raw: Termios,
    child: libc::pid_t,
    master: std::os::fd::RawFd,
}

static MODES: std::sync::atomic::AtomicPtr<Modes> =
    std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

/// Signals whose default action ends authcfg and that nothing else here
/// handles (SIGINT and SIGQUIT are ignored, SIGTERM and SIGHUP passed on
/// by `platform::forward_signals`; SIGKILL cannot be caught), with
/// `platform::JOB_SIGNALS` (`fatal`).
const FATAL: [libc::c_int; 9] = [
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGALRM,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGIO,
    libc::SIGXCPU,
    libc::SIGXFSZ,
    libc::SIGABRT,
];

/// Of those, the ones meant for the job as a whole: the child gets them
/// too (as SIGTERM and SIGHUP). The others concern authcfg alone (its
/// resource limits, its own abort). `platform::JOB_SIGNALS` are passed on
/// too (`passed_on`).
const PASSED_ON: [libc::c_int; 6] = [
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGALRM,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGIO,
];

fn fatal() -> impl Iterator<Item = libc::c_int> {
    FATAL
        .into_iter()
        .chain(crate::platform::JOB_SIGNALS.iter().copied())
}

fn passed_on(sig: libc::c_int) -> bool {
    PASSED_ON.contains(&sig) || crate::platform::JOB_SIGNALS.contains(&sig)
}

fn modes() -> Option<&'static Modes> {
    let m = MODES.load(Ordering::SeqCst);
    // SAFETY: set from a leaked Box, never freed.
    (!m.is_null()).then(|| unsafe { &*m })
}

extern "C" fn on_fatal(sig: libc::c_int) {
    // Only system calls (ioctl, kill, sigaction, raise): async-signal-safe.
    if let Some(m) = modes() {
        let _ = termios::tcsetattr(stdin_fd(), OptionalActions::Now, &m.saved);
        if passed_on(sig) {
            // SAFETY: kill(2) on our child.
            unsafe {
                libc::kill(m.child, sig);
            }
        }
    }
    // SAFETY: the default action again; the signal, blocked while this
    // handler runs, is delivered as it returns and ends authcfg by it.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
}

extern "C" fn on_tstp(_: libc::c_int) {
    let Some(m) = modes() else { return };
    let _ = termios::tcsetattr(stdin_fd(), OptionalActions::Now, &m.saved);
    // SAFETY: system calls only: stop by SIGTSTP's default action (the
    // kernel discards it in an orphaned process group), then this handler
    // again and raw mode when continued.
    unsafe {
        libc::signal(libc::SIGTSTP, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTSTP);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(libc::SIGTSTP);
        install(libc::SIGTSTP, on_tstp);
    }
    let _ = termios::tcsetattr(stdin_fd(), OptionalActions::Now, &m.raw);
    // SAFETY: the pty's master stays open while `MODES` is set.
    resize(unsafe { BorrowedFd::borrow_raw(m.master) });
}

/// Sets `handler` for `sig`; the action it replaces.
///
/// # Safety
/// `handler` must be async-signal-safe.
unsafe fn install(sig: libc::c_int, handler: extern "C" fn(libc::c_int)) -> libc::sigaction {
    let mut new: libc::sigaction = std::mem::zeroed();
    new.sa_sigaction = handler as usize;
    new.sa_flags = libc::SA_RESTART;
    libc::sigemptyset(&mut new.sa_mask);
    let mut old: libc::sigaction = std::mem::zeroed();
    libc::sigaction(sig, &new, &mut old);
    old
}

/// The handlers of `FATAL` and SIGTSTP while the pty is active; the
/// previous actions back on drop. (signal-hook's registry keeps its own
/// handler installed for good; these must give the default action back
/// and re-raise, so they are plain sigaction(2).)
struct Fatal {
    old: Vec<(libc::c_int, libc::sigaction)>,
}

impl Fatal {
    fn install(raw: &Raw, child: libc::pid_t, master: std::os::fd::RawFd) -> Fatal {
        let mut r = raw.saved.clone();
        r.make_raw();
        let m = Box::new(Modes {
            saved: raw.saved.clone(),
            raw: r,
            child,
            master,
        });
        MODES.store(Box::into_raw(m), Ordering::SeqCst);
        let mut old = vec![];
        for sig in fatal() {
            // SAFETY: on_fatal makes system calls only.
            old.push((sig, unsafe { install(sig, on_fatal) }));
        }
        // SAFETY: on_tstp makes system calls only.
        old.push((libc::SIGTSTP, unsafe { install(libc::SIGTSTP, on_tstp) }));
        Fatal { old }
    }
}

impl Drop for Fatal {
    fn drop(&mut self) {
        for (sig, old) in &self.old {
            // SAFETY: the action that was there before.
            unsafe {
                libc::sigaction(*sig, old, std::ptr::null_mut());
            }
        }
        MODES.store(std::ptr::null_mut(), Ordering::SeqCst);
    }
}
