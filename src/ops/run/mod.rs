//! Running a command with configs, supervised: `authcfg exec --placeholders`
//! / `--mask` and the MCP `run_command` tool start their child here, one
//! mechanism (docs/ARCHITECTURE.md, "The exec proxy"; docs/SECURITY.md,
//! "Placeholders and the exec proxy").
//!
//! - The child's environment: the variables handed out (placeholders with
//!   `placeholders`, `proxy::prepare`), the proxy and CA variables, the
//!   exec guard; never a key-bearing variable, never the session keyring
//!   that may hold a cached key.
//! - Its stdout and stderr pass through the redactor of every config
//!   handed out (`pump`), to where `Io` says: authcfg's own stdout and
//!   stderr, a bounded buffer (MCP), or a pseudo-terminal (`pty`).
//! - What the proxy did is recorded here: refusals in the audit trail (and
//!   told once through `report`), origins reached in the usage log.
//!
//! Nothing here prints: `report` is the caller's.

pub mod allow;
#[cfg(unix)]
pub mod pty;
/// Windows has no pseudo-terminal yet: `Io::Terminal` is refused there.
#[cfg(windows)]
#[path = "pty_windows.rs"]
pub mod pty;
mod pump;

use crate::export::Var;
use crate::ops::handout::Used;
use crate::ops::proxy::{self, Event};
use crate::ops::Session;
use crate::settings::{ENV_EXEC_GUARD as GUARD, KEY_BEARING};
use std::io::Write;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where the child's input comes from and its (masked) output goes.
pub enum Io {
    /// stdin inherited; stdout and stderr to authcfg's own. The child stays
    /// in authcfg's process group, so the terminal's SIGINT and SIGQUIT
    /// reach it; SIGTERM and SIGHUP sent to authcfg are passed on.
    Inherit,
    /// No input (stdin is /dev/null); stdout and stderr kept, at most
    /// `max` bytes each (the rest counted, not kept). The child gets a
    /// process group of its own, killed as a whole at `timeout` and when
    /// the child ends (nothing it started outlives the call).
    Capture { max: usize, timeout: Duration },
    /// On a pseudo-terminal whose other side is authcfg's terminal
    /// (stdin and stdout both terminals): see `pty`.
    Terminal,
    /// stdin, stdout and stderr inherited, not masked (`exec
    /// --aws-endpoint` alone: authcfg stays only to serve the endpoint).
    Plain,
}

/// What the caller is told while the child runs.
pub enum Notice {
    /// The proxy refused a request (each distinct refusal once).
    Refused(String),
    /// The AWS endpoint could not give a session (why).
    NoAwsSession(String),
}

/// What to run and how.
pub struct Spec {
    /// The file executed (a name is looked up in PATH).
    pub program: std::ffi::OsString,
    /// The child's argv[0], when it is not `program`.
    pub arg0: Option<String>,
    pub args: Vec<String>,
    /// Who the child is in the audit trail and the usage log
    /// (`exec:curl`, `mcp:run:curl`).
    pub label: String,
    /// The audit action of the proxy's refusals (`exec`, `mcp.run_command`).
    pub action: String,
    /// The value of the exec guard variable (what the child runs for).
    pub guard: String,
    /// Placeholders instead of secrets, and the proxy.
    pub placeholders: bool,
    /// With placeholders: refuse requests to origins no config allows.
    pub deny_other: bool,
    /// The AWS config a container-credentials endpoint serves the child
    /// (`exec --aws-endpoint`; docs/ARCHITECTURE.md, "AWS sessions"): its
    /// session's key variables are not also put in the environment (an SDK
    /// would take them first and never renew).
    pub aws: Option<String>,
    /// `Some(extra)`: the child inherits of authcfg's environment only
    /// `BASE_ENV` and `extra` (MCP `run_command`: nothing of the server's
    /// own, docs/SECURITY.md, "run_command"); `None`: all of it but the
    /// key-bearing variables (`exec`).
    pub env_only: Option<Vec<String>>,
    pub io: Io,
}

/// What a child with `Spec::env_only` inherits (besides the configs',
/// the proxy's and the guard variable): what programs need to find
/// things and speak the user's language. `LC_*` too.
pub const BASE_ENV: &[&str] = &[
    "PATH", "HOME", "LANG", "TERM", "USER", "LOGNAME", "TMPDIR", "TZ",
];

/// What a bounded output kept.
#[derive(Default, Debug)]
pub struct Captured {
    pub bytes: Vec<u8>,
    /// Bytes written beyond the bound (not kept).
    pub dropped: u64,
}

/// How the child ended.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    /// Killed at `Io::Capture`'s timeout.
    pub timed_out: bool,
    /// `Io::Capture`'s outputs (empty otherwise), masked.
    pub stdout: Captured,
    pub stderr: Captured,
}

impl Finished {
    /// The exit code a shell would show: the child's, or 128 + the signal
    /// that ended it.
    pub fn code(&self) -> i32 {
        crate::platform::exit_code(self.status)
    }
}

/// A writer that keeps at most `max` bytes.
struct Bounded {
    out: Arc<Mutex<Captured>>,
    max: usize,
}

impl Write for Bounded {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let mut c = self.out.lock().expect("capture lock");
        let room = self.max.saturating_sub(c.bytes.len());
        let keep = room.min(b.len());
        c.bytes.extend_from_slice(&b[..keep]);
        c.dropped += (b.len() - keep) as u64;
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `spec` with `vars` (from `used`'s configs): records the use
/// (`used.record`, its consumer `spec.label` unless the caller set one),
/// starts the proxy and the AWS endpoint when asked, the child, its masked
/// output, and waits for its end. `report` is told each distinct refusal
/// once, and each time the AWS endpoint has no session. The inner error:
/// the child could not be started (nothing ran).
pub fn run(
    s: &Session,
    used: Used,
    vars: Vec<Var>,
    spec: Spec,
    report: &mut dyn FnMut(Notice),
) -> anyhow::Result<Result<Finished, std::io::Error>> {
    let mut masker = crate::ops::redact::Redactor::new();
    for d in &used.docs {
        masker.add_doc(d);
        if matches!(spec.io, Io::Terminal) {
            // On a pty the line discipline (ONLCR) turns each `\n` the child
            // writes into `\r\n` before the masker reads it: a multi-line
            // secret (a PEM key) is also known in that form
            // (docs/SECURITY.md, "Placeholders and the exec proxy").
            for (field, value) in crate::redact::secrets_of(d) {
                if value.contains('\n') {
                    masker.add(&d.meta.name, &field, &value.replace('\n', "\r\n"));
                }
            }
        }
    }
    masker.prepare();
    let masker = Arc::new(masker);
    let vars: Vec<Var> = match &spec.aws {
        Some(name) => vars
            .into_iter()
            .filter(|v| {
                !(v.config == *name && crate::ops::aws::KEY_VARS.contains(&v.name.as_str()))
            })
            .collect(),
        None => vars,
    };
    let (vars, placeholders) = if spec.placeholders {
        let (v, p) = proxy::prepare(&used.docs, vars)?;
        (v, Some(p))
    } else {
        (vars, None)
    };
    used.record(s)?;
    let consumer = used.consumer.clone().unwrap_or_else(|| {
        let names: Vec<&str> = used.docs.iter().map(|d| d.meta.name.as_str()).collect();
        crate::ops::handout::consumer(s.settings, None, &names)
    });
    drop(used);
    // What the waiting thread hears: the proxy's events, the child's end.
    enum Msg {
        Proxy(Event),
        Exited(std::io::Result<ExitStatus>),
        /// The AWS endpoint asks for the session.
        Aws(tokio::sync::oneshot::Sender<crate::ops::aws::endpoint::Answer>),
    }
    let (tx, rx) = std::sync::mpsc::channel::<Msg>();
    let endpoint = match &spec.aws {
        Some(_) => {
            let tx = Mutex::new(tx.clone());
            Some(crate::ops::aws::endpoint::Endpoint::start(Box::new(
                move || {
                    let (reply, answer) = tokio::sync::oneshot::channel();
                    let _ = tx.lock().expect("endpoint lock").send(Msg::Aws(reply));
                    answer
                },
            ))?)
        }
        None => None,
    };
    let proxy = match placeholders {
        Some(p) => {
            let tx = Mutex::new(tx.clone());
            Some(proxy::Proxy::start(
                p,
                proxy::Options {
                    deny_other: spec.deny_other,
                },
                Box::new(move |e| {
                    let _ = tx.lock().expect("events lock").send(Msg::Proxy(e));
                }),
            )?)
        }
        None => None,
    };
    // The CA certificate for the child's trust: public, in a 0600 file
    // removed when the command ends.
    let ca_file = match &proxy {
        Some(p) => {
            let mut f = tempfile::Builder::new()
                .prefix("authcfg-proxy-ca-")
                .suffix(".pem")
                .tempfile()?;
            f.write_all(p.ca_pem().as_bytes())?;
            f.flush()?;
            Some(f)
        }
        None => None,
    };
    let mut cmd = std::process::Command::new(&spec.program);
    if let Some(a) = &spec.arg0 {
        crate::platform::child_arg0(&mut cmd, a)?;
    }
    cmd.args(&spec.args);
    if let Some(extra) = &spec.env_only {
        cmd.env_clear();
        for (k, v) in std::env::vars_os() {
            let name = k.to_string_lossy();
            if BASE_ENV.contains(&name.as_ref())
                || name.starts_with("LC_")
                || extra.iter().any(|e| *e == name)
            {
                cmd.env(&k, v);
            }
        }
    }
    // Already removed from this process at start-up; removed again here so
    // that no future change can hand a key to the child.
    for k in KEY_BEARING {
        cmd.env_remove(k);
    }
    for v in &vars {
        // Replaces any inherited variable of the same name.
        cmd.env(&v.name, v.value.expose());
    }
    if let Some(e) = &endpoint {
        for k in crate::ops::aws::endpoint::SHADOWING_VARS {
            cmd.env_remove(k);
        }
        for (k, v) in e.child_env() {
            cmd.env(k, v);
        }
    }
    if let (Some(p), Some(f)) = (&proxy, &ca_file) {
        for k in proxy::NO_PROXY_VARS {
            cmd.env_remove(k);
        }
        for (k, v) in p.child_env(f.path()) {
            cmd.env(k, v);
        }
    }
    let own_group = matches!(spec.io, Io::Capture { .. });
    // With a group of its own, the guard also names this call: what the
    // child starts carries it, and `sweep` finds it by it at the end.
    let guard = if own_group {
        static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        format!("{} (call {}-{n})", spec.guard, std::process::id())
    } else {
        spec.guard.clone()
    };
    cmd.env(GUARD, &guard);
    // A new, empty session keyring: the child must not possess the one
    // that may hold a cached key.
    crate::platform::child_leaves_keyring(&mut cmd);
    if own_group {
        crate::platform::child_own_group(&mut cmd)?;
    }
    let mut term = None;
    match spec.io {
        Io::Inherit => {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        }
        Io::Capture { .. } => {
            cmd.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
        }
        Io::Terminal => {
            term = Some(pty::Session::open()?);
            term.as_ref().expect("just set").attach(&mut cmd)?;
        }
        Io::Plain => {}
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    drop(cmd);
    drop(vars);
    let pid = child.id();
    if matches!(spec.io, Io::Inherit | Io::Terminal | Io::Plain) {
        // The terminal's SIGINT and SIGQUIT reach the child (its process
        // group, or its pty) and are ignored here; SIGTERM and SIGHUP sent
        // to authcfg are passed on.
        crate::platform::forward_signals(pid);
    }
    let captured = [
        Arc::new(Mutex::new(Captured::default())),
        Arc::new(Mutex::new(Captured::default())),
    ];
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let mut pumps = vec![];
    let mut term_run = None;
    match &spec.io {
        Io::Inherit => {
            if let Some(o) = child.stdout.take() {
                let (m, d) = (masker.clone(), done_tx.clone());
                pumps.push(std::thread::spawn(move || {
                    pump::pump(o, std::io::stdout(), &m, pump::IDLE_MS, &|| false);
                    let _ = d.send(());
                }));
            }
            if let Some(o) = child.stderr.take() {
                let (m, d) = (masker.clone(), done_tx.clone());
                pumps.push(std::thread::spawn(move || {
                    pump::pump(o, std::io::stderr(), &m, pump::IDLE_MS, &|| false);
                    let _ = d.send(());
                }));
            }
        }
        Io::Capture { max, .. } => {
            let max = *max;
            if let Some(o) = child.stdout.take() {
                let (m, d, c) = (masker.clone(), done_tx.clone(), captured[0].clone());
                pumps.push(std::thread::spawn(move || {
                    pump::pump(o, Bounded { out: c, max }, &m, pump::IDLE_MS, &|| false);
                    let _ = d.send(());
                }));
            }
            if let Some(o) = child.stderr.take() {
                let (m, d, c) = (masker.clone(), done_tx.clone(), captured[1].clone());
                pumps.push(std::thread::spawn(move || {
                    pump::pump(o, Bounded { out: c, max }, &m, pump::IDLE_MS, &|| false);
                    let _ = d.send(());
                }));
            }
        }
        Io::Terminal => {
            let t = term.take().expect("opened above");
            match t.start(pid, masker.clone()) {
                Ok(r) => term_run = Some(r),
                Err(e) => {
                    // Not left running without its terminal.
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(e);
                }
            }
        }
        Io::Plain => {}
    }
    drop(done_tx);
    let mut said = std::collections::HashSet::new();
    let mut noted = std::collections::HashSet::new();
    let label = spec.label.clone();
    let action = spec.action.clone();
    let mut handle = |e: Event, report: &mut dyn FnMut(Notice)| match e {
        Event::Refused {
            configs,
            method,
            origin,
            why,
        } => {
            let detail = format!("{method} {origin} ({label}, placeholder proxy)");
            if configs.is_empty() {
                s.audit(&action, None, "refused", Some(&detail));
            }
            for c in &configs {
                s.audit(&action, Some(c), "refused", Some(&detail));
            }
            if said.insert((origin.clone(), configs.clone(), why.clone())) {
                report(Notice::Refused(format!("{method} {origin}: {why}")));
            }
        }
        Event::Reached { config, origin } => {
            if noted.insert((config.clone(), origin.clone())) {
                crate::ops::handout::note_use(
                    s,
                    &[config.as_str()],
                    &format!("{} via proxy to {origin}", spec.action),
                    &consumer,
                );
            }
        }
    };
    let wait: Box<dyn FnOnce() -> std::io::Result<ExitStatus> + Send> = match &term_run {
        // The pty's waiter follows stops as well as the end.
        Some(t) => t.waiter(),
        None => Box::new(move || {
            let mut c = child;
            c.wait()
        }),
    };
    std::thread::spawn(move || {
        let _ = tx.send(Msg::Exited(wait()));
    });
    let deadline = match spec.io {
        Io::Capture { timeout, .. } => Some(Instant::now() + timeout),
        _ => None,
    };
    let mut timed_out = false;
    let status = loop {
        let msg = match deadline {
            Some(d) if !timed_out => {
                match rx.recv_timeout(d.saturating_duration_since(Instant::now())) {
                    Ok(m) => m,
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                        timed_out = true;
                        crate::platform::kill_group(pid);
                        continue;
                    }
                    Err(_) => unreachable!("the waiter sends before it ends"),
                }
            }
            _ => rx.recv().expect("the waiter sends before it ends"),
        };
        match msg {
            Msg::Proxy(e) => handle(e, report),
            Msg::Aws(reply) => {
                let name = spec.aws.as_deref().unwrap_or_default();
                let answer = crate::ops::aws::session_for_tool(s, name, None)
                    .map(|c| c.container_json())
                    .map_err(|e| format!("{e:#}"));
                if let Err(e) = &answer {
                    report(Notice::NoAwsSession(e.clone()));
                }
                let _ = reply.send(answer);
            }
            Msg::Exited(st) => break st?,
        }
    };
    if own_group {
        // Nothing the child started outlives it (or holds its pipes open).
        crate::platform::kill_group(pid);
        // Nor what left the group (setsid, a double fork).
        crate::platform::kill_marked(format!("{GUARD}={guard}").as_bytes());
        let until = Instant::now() + Duration::from_secs(2);
        for _ in 0..pumps.len() {
            if done_rx
                .recv_timeout(until.saturating_duration_since(Instant::now()))
                .is_err()
            {
                break;
            }
        }
    } else {
        for p in pumps {
            let _ = p.join();
        }
    }
    if let Some(t) = term_run {
        t.finish();
    }
    while let Ok(m) = rx.try_recv() {
        if let Msg::Proxy(e) = m {
            handle(e, report);
        }
    }
    drop(endpoint);
    drop(proxy);
    drop(ca_file);
    let take = |c: &Arc<Mutex<Captured>>| std::mem::take(&mut *c.lock().expect("capture lock"));
    Ok(Ok(Finished {
        status,
        timed_out,
        stdout: take(&captured[0]),
        stderr: take(&captured[1]),
    }))
}
