//! Database leases (`authcfg exec --lease 15m NAME -- CMD`, `authcfg
//! leases`): Vault's database engine without a server. A PostgreSQL or
//! MySQL/MariaDB config's own credentials (which must be allowed to create
//! users) create a temporary user `authcfg_lease_<id>` with the config's
//! grants: PostgreSQL `IN ROLE lease_role` and `VALID UNTIL` the lease's
//! end; MySQL/MariaDB `GRANT lease_grants`. The child gets only that user
//! (the connector's usual variables, `export::vars_for` of the config with
//! the lease's user and password), and the user is dropped when the child
//! exits, when the lease ends while it runs, or by the next sweep.
//!
//! The journal (`leases/<id>.json` in the store, one file per lease, no
//! secret in it) is written and fsync'd before the user is created and
//! removed after it is dropped, so a killed authcfg leaves a record the
//! next sweep acts on. A lease is swept (its user dropped) when it has
//! ended, or when its holder is gone: the process named in the record (pid
//! and its start time, on this boot) no longer runs. The sweep runs at
//! `authcfg leases` and at the start of every `exec --lease`. Only users
//! named `authcfg_lease_` + 12 lowercase letters and digits are ever
//! dropped, so a planted record cannot name another account.

use super::Session;
use crate::connectors::probes;
use crate::error::{failure, usage, UserError};
use crate::model::ConfigDoc;
use crate::secret::Secret;
use crate::store::fsutil;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The store's directory of lease records.
pub const DIR: &str = crate::store::layout::LEASES_DIR;
/// Every lease user's name starts so.
pub const USER_PREFIX: &str = "authcfg_lease_";
const ID_LEN: usize = 12;
/// How long one database step (connect, create, drop) may take.
const DB_TIMEOUT: Duration = Duration::from_secs(20);
/// The longest lease.
pub const MAX_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    Postgres,
    Mysql,
}

/// One lease's record. Holds no secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lease {
    pub id: String,
    pub config: String,
    pub engine: Engine,
    pub user: String,
    /// Unix seconds.
    pub created: i64,
    pub expires: i64,
    /// The holder: the authcfg process that runs the child.
    pub pid: u32,
    /// The holder's start time (clock ticks since boot, /proc/PID/stat).
    pub pid_start: u64,
    /// The boot the holder ran in (/proc/sys/kernel/random/boot_id).
    pub boot_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Its holder runs and it has not ended.
    Active,
    /// It has ended (the next sweep drops it).
    Expired,
    /// Its holder is gone (the next sweep drops it).
    Orphaned,
}

impl Lease {
    pub fn state(&self, now: i64) -> State {
        if now >= self.expires {
            State::Expired
        } else if !holder_alive(self) {
            State::Orphaned
        } else {
            State::Active
        }
    }
}

/// The lease records of a store.
pub struct Journal {
    dir: PathBuf,
}

fn valid_id(id: &str) -> bool {
    id.len() == ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

impl Journal {
    pub fn new(store_root: &Path) -> Journal {
        Journal {
            dir: store_root.join(DIR),
        }
    }

    fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Writes a new record durably (temp file, fsync, rename, fsync of the
    /// directory): it is on disk before the user exists.
    pub fn write(&self, lease: &Lease) -> std::io::Result<()> {
        fsutil::ensure_private_dir(&self.dir)?;
        let data = serde_json::to_vec_pretty(lease).map_err(std::io::Error::other)?;
        fsutil::write_new(&self.path(&lease.id), &data)
    }

    /// Replaces a record (atomically, durably): its exact end once the
    /// user exists.
    pub fn update(&self, lease: &Lease) -> std::io::Result<()> {
        let data = serde_json::to_vec_pretty(lease).map_err(std::io::Error::other)?;
        fsutil::write_atomic(&self.path(&lease.id), &data)
    }

    pub fn remove(&self, id: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.path(id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    pub fn exists(&self, id: &str) -> bool {
        self.path(id).exists()
    }

    /// Every readable, well-formed record (others are skipped: a record
    /// being written is a temp file until it is complete).
    pub fn list(&self) -> Vec<Lease> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return vec![];
        };
        let mut out: Vec<Lease> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let id = name.strip_suffix(".json")?;
                if !valid_id(id) {
                    return None;
                }
                let bytes = fsutil::read_private_max(&e.path(), 64 << 10).ok()??;
                let l: Lease = serde_json::from_slice(&bytes).ok()?;
                (l.id == id && l.user == format!("{USER_PREFIX}{id}")).then_some(l)
            })
            .collect();
        out.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        out
    }
}

/// This process's start time and the boot id.
fn me() -> (u32, u64, String) {
    let pid = std::process::id();
    (pid, start_time(pid).unwrap_or(0), boot_id())
}

/// Linux only (docs/ARCHITECTURE.md, "Platforms"): elsewhere no holder is
/// known to run, and `exec` refuses to hold a lease.
#[cfg(not(target_os = "linux"))]
fn boot_id() -> String {
    String::new()
}

#[cfg(not(target_os = "linux"))]
fn start_time(_pid: u32) -> Option<u64> {
    None
}

#[cfg(target_os = "linux")]
fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Field 22 of /proc/PID/stat (after the command name, which may hold
/// spaces and parentheses: counted from the last `)`).
#[cfg(target_os = "linux")]
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Whether the lease's holder still runs: the same boot, a process with
/// its pid and its start time (a reused pid has another).
pub fn holder_alive(l: &Lease) -> bool {
    l.boot_id == boot_id() && start_time(l.pid) == Some(l.pid_start) && l.pid_start != 0
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// `15m`, `1h30m`, `90s`, `2h`, `1d`, or whole seconds.
pub fn parse_ttl(text: &str) -> Result<Duration, UserError> {
    let bad = || {
        usage(format!("'{}' is not a lease duration", text.escape_debug()))
            .hint("write it as 15m, 1h30m, 90s or 2h (at most 7 days)")
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    if let Ok(secs) = t.parse::<u64>() {
        total = secs;
    } else {
        let mut num = String::new();
        for c in t.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86400,
                _ => return Err(bad()),
            };
            let n: u64 = num.parse().map_err(|_| bad())?;
            total = n
                .checked_mul(unit)
                .and_then(|x| total.checked_add(x))
                .ok_or_else(bad)?;
            num.clear();
        }
        if !num.is_empty() {
            return Err(bad());
        }
    }
    let d = Duration::from_secs(total);
    if d.is_zero() || d > MAX_TTL {
        return Err(bad());
    }
    Ok(d)
}

/// Which engine a config speaks and what its lease users get, or why it
/// cannot lend users.
fn engine(doc: &ConfigDoc) -> Result<Engine, UserError> {
    let e = match super::sql::engine(doc)? {
        super::sql::Engine::Postgres => Engine::Postgres,
        super::sql::Engine::Mysql => Engine::Mysql,
    };
    let (field, what) = match e {
        Engine::Postgres => ("lease_role", "the role lease users inherit"),
        Engine::Mysql => (
            "lease_grants",
            "the privileges lease users get (e.g. SELECT ON app.*)",
        ),
    };
    if doc.get(field).is_none_or(|v| v.trim().is_empty()) {
        return Err(usage(format!(
            "'{}' has no {field}: {what}",
            doc.meta.name
        ))
        .hint(format!(
            "set it with `authcfg edit {} --set {field}=...`; the config's own user must be allowed to create users",
            doc.meta.name
        )));
    }
    Ok(e)
}

fn random(len: usize, alphabet: &[u8]) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// A lease granted: its record, the config as the child sees it (the
/// lease's user and password) and what creating it took.
pub struct Granted {
    pub lease: Lease,
    pub doc: ConfigDoc,
    pub create_time: Duration,
}

fn db_error(what: &str, e: String) -> UserError {
    // The server's words are outside text: escaped where shown.
    failure(format!("{what}: {}", crate::text::Outside::new(e)))
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn my_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The MySQL account of a lease user (any host: the client connects as the
/// config does).
fn my_account(user: &str) -> String {
    format!("{}@'%'", my_quote(user))
}

/// Creates a lease on `admin`'s server for `ttl`: the record first
/// (fsync'd), then the user. On failure nothing is left: the user is
/// dropped if it was made, and the record removed.
pub fn create(s: &Session, admin: &ConfigDoc, ttl: Duration) -> anyhow::Result<Granted> {
    let engine = engine(admin)?;
    let journal = Journal::new(s.store.root());
    let id = random(ID_LEN, b"abcdefghijklmnopqrstuvwxyz0123456789");
    let password = zeroize::Zeroizing::new(random(
        32,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    ));
    let (pid, pid_start, boot_id) = me();
    let created = now();
    // The lease runs from when its user exists (`expires` is set then);
    // until then the record holds the latest it can end.
    let mut lease = Lease {
        user: format!("{USER_PREFIX}{id}"),
        id,
        config: admin.meta.name.clone(),
        engine,
        created,
        expires: created + (ttl + DB_TIMEOUT).as_secs() as i64,
        pid,
        pid_start,
        boot_id,
    };
    journal
        .write(&lease)
        .map_err(|e| crate::store::write_error(&journal.path(&lease.id), e))?;
    let started = Instant::now();
    let made = crate::net::runtime::block_on_timeout(DB_TIMEOUT, async {
        match engine {
            Engine::Postgres => pg_create(admin, &lease, &password, ttl).await,
            Engine::Mysql => my_create(admin, &lease, &password, ttl).await,
        }
    })
    .unwrap_or_else(|| Err(format!("no answer within {} s", DB_TIMEOUT.as_secs())));
    if let Ok(expires) = made {
        lease.expires = expires;
        // Best effort: the record's earlier end is later, never earlier.
        let _ = journal.update(&lease);
    }
    if let Err(e) = made {
        // It may exist half made (a grant refused): drop it, then forget it.
        if drop_user(admin, &lease).is_ok() {
            let _ = journal.remove(&lease.id);
        }
        s.audit("lease", Some(&lease.config), "error", None);
        return Err(db_error("cannot create the lease user", e).into());
    }
    let create_time = started.elapsed();
    s.audit("lease", Some(&lease.config), "ok", Some(&lease.user));
    let mut doc = admin.clone();
    doc.fields
        .insert("username".into(), Secret::new(lease.user.clone()));
    doc.fields
        .insert("password".into(), Secret::new(password.as_str()));
    Ok(Granted {
        lease,
        doc,
        create_time,
    })
}

/// Creates the PostgreSQL role; its end (Unix seconds), `ttl` from now.
async fn pg_create(
    admin: &ConfigDoc,
    l: &Lease,
    password: &str,
    ttl: Duration,
) -> Result<i64, String> {
    let client = probes::postgres::connect(admin)
        .await
        .map_err(|f| f.message())?
        .client;
    let role = admin.get("lease_role").unwrap_or_default().trim();
    // A SCRAM verifier computed here: the password never reaches the
    // server or its statement log.
    let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
    let expires = now() + ttl.as_secs() as i64;
    let until = time::OffsetDateTime::from_unix_timestamp(expires)
        .map_err(|e| e.to_string())?
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| e.to_string())?;
    // One implicit transaction: the role exists whole or not at all. Its
    // sessions act as the lease role (SET role), so what the child creates
    // belongs to that role and never keeps the lease user from being dropped.
    let sql = format!(
        "CREATE ROLE {user} LOGIN PASSWORD {verifier} VALID UNTIL {until} IN ROLE {role}; ALTER ROLE {user} SET role TO {role_lit}",
        user = quote_ident(&l.user),
        verifier = quote_literal(&verifier),
        until = quote_literal(&until),
        role = quote_ident(role),
        role_lit = quote_literal(role),
    );
    client
        .batch_execute(&sql)
        .await
        .map_err(|e| pg_message(&e))?;
    Ok(expires)
}

fn pg_message(e: &tokio_postgres::Error) -> String {
    e.as_db_error()
        .map(|d| d.message().to_string())
        .unwrap_or_else(|| crate::net::chain(e))
}

/// Creates the MySQL/MariaDB user; its end (Unix seconds), `ttl` from now
/// (enforced by authcfg and the sweep: the server has no VALID UNTIL).
async fn my_create(
    admin: &ConfigDoc,
    l: &Lease,
    password: &str,
    ttl: Duration,
) -> Result<i64, String> {
    let mut conn = probes::mysql_connect(admin)
        .await
        .map_err(|f| f.message())?;
    let account = my_account(&l.user);
    let mut r = conn
        .execute(&format!(
            "CREATE USER {account} IDENTIFIED BY {}",
            my_quote(password)
        ))
        .await;
    if r.is_ok() {
        for grant in admin
            .get("lease_grants")
            .unwrap_or_default()
            .split(';')
            .map(str::trim)
            .filter(|g| !g.is_empty())
        {
            r = conn.execute(&format!("GRANT {grant} TO {account}")).await;
            if r.is_err() {
                break;
            }
        }
    }
    conn.close().await;
    r.map_err(|f| f.message())?;
    Ok(now() + ttl.as_secs() as i64)
}

/// Drops the lease's user (its sessions ended first where the admin may),
/// on `admin`'s server. `Ok` also when it no longer exists.
pub fn drop_user(admin: &ConfigDoc, l: &Lease) -> Result<Duration, UserError> {
    if !valid_id(&l.id) || l.user != format!("{USER_PREFIX}{}", l.id) {
        return Err(failure(
            "a lease record names a user that is not a lease user",
        ));
    }
    let started = Instant::now();
    crate::net::runtime::block_on_timeout(DB_TIMEOUT, async {
        match l.engine {
            Engine::Postgres => pg_drop(admin, &l.user).await,
            Engine::Mysql => my_drop(admin, &l.user).await,
        }
    })
    .unwrap_or_else(|| Err(format!("no answer within {} s", DB_TIMEOUT.as_secs())))
    .map_err(|e| db_error(&format!("cannot drop the lease user {}", l.user), e))?;
    Ok(started.elapsed())
}

async fn pg_drop(admin: &ConfigDoc, user: &str) -> Result<(), String> {
    let client = probes::postgres::connect(admin)
        .await
        .map_err(|f| f.message())?
        .client;
    let u = quote_ident(user);
    // First locked out, whatever follows: the child may have changed its
    // own password, undone its `SET role` and made objects of its own so
    // that the drop fails, and VALID UNTIL is not checked on a `trust` line
    // of pg_hba.conf (red team 3, L1). NOLOGIN is.
    let exists = client
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&user])
        .await
        .map_err(|e| pg_message(&e))?
        .is_some();
    if !exists {
        return Ok(());
    }
    client
        .batch_execute(&format!(
            "ALTER ROLE {u} NOLOGIN PASSWORD NULL VALID UNTIL '-infinity'; ALTER ROLE {u} RESET ALL"
        ))
        .await
        .map_err(|e| pg_message(&e))?;
    // Best effort: ending another role's sessions needs pg_signal_backend
    // or membership; NOLOGIN and the drop stop new ones anyway.
    let _ = client
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
            &[&user],
        )
        .await;
    // What the user owns (and the default privileges it set) goes with it,
    // in this database: DROP OWNED needs the user's privileges, which an
    // admin with CREATEROLE can grant itself.
    let _ = client
        .batch_execute(&format!("GRANT {u} TO CURRENT_USER"))
        .await;
    let _ = client.batch_execute(&format!("DROP OWNED BY {u}")).await;
    client
        .batch_execute(&format!("DROP ROLE IF EXISTS {u}"))
        .await
        .map_err(|e| pg_message(&e))
}

async fn my_drop(admin: &ConfigDoc, user: &str) -> Result<(), String> {
    let mut conn = probes::mysql_connect(admin)
        .await
        .map_err(|f| f.message())?;
    // Best effort: other users' sessions are seen and ended only with
    // PROCESS and CONNECTION ADMIN.
    if let Ok(rows) = conn
        .query(&format!(
            "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = {}",
            my_quote(user)
        ))
        .await
    {
        for id in rows
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
        {
            if id.bytes().all(|b| b.is_ascii_digit()) {
                let _ = conn.execute(&format!("KILL CONNECTION {id}")).await;
            }
        }
    }
    let r = conn
        .execute(&format!("DROP USER IF EXISTS {}", my_account(user)))
        .await;
    conn.close().await;
    r.map_err(|f| f.message())
}

/// Ends a lease its holder holds: drops the user and removes the record
/// (unless `leases revoke` or a sweep did already).
pub fn end(s: &Session, admin: &ConfigDoc, l: &Lease) -> anyhow::Result<Option<Duration>> {
    let journal = Journal::new(s.store.root());
    if !journal.exists(&l.id) {
        return Ok(None);
    }
    let took = drop_user(admin, l);
    s.audit(
        "lease-end",
        Some(&l.config),
        if took.is_ok() { "ok" } else { "error" },
        Some(&l.user),
    );
    let took = took?;
    journal
        .remove(&l.id)
        .map_err(|e| crate::store::write_error(&journal.path(&l.id), e))?;
    Ok(Some(took))
}

/// What a sweep or a revocation did to one lease.
#[derive(Debug, Serialize)]
pub struct Swept {
    pub id: String,
    pub user: String,
    pub config: String,
    pub state: State,
    /// `None`: dropped; else why not (kept for the next sweep).
    pub error: Option<String>,
}

/// Drops `leases` (their users, then their records), one admin read per
/// config.
fn drop_all(s: &Session, leases: Vec<(Lease, State)>, action: &str) -> Vec<Swept> {
    let journal = Journal::new(s.store.root());
    let mut admins: std::collections::BTreeMap<String, Result<ConfigDoc, String>> =
        Default::default();
    let mut out = vec![];
    for (l, state) in leases {
        let admin = admins.entry(l.config.clone()).or_insert_with(|| {
            s.store
                .read(&l.config)
                .map_err(|e| format!("cannot read its config: {e:#}"))
        });
        let error = match admin {
            Ok(admin) => match drop_user(admin, &l) {
                Ok(_) => journal
                    .remove(&l.id)
                    .err()
                    .map(|e| format!("cannot remove its record: {e}")),
                Err(e) => Some(e.message),
            },
            Err(e) => Some(e.clone()),
        };
        s.audit(
            action,
            Some(&l.config),
            if error.is_none() { "ok" } else { "error" },
            Some(&l.user),
        );
        out.push(Swept {
            id: l.id,
            user: l.user,
            config: l.config,
            state,
            error,
        });
    }
    out
}

/// Drops every lease that has ended or whose holder is gone.
pub fn sweep(s: &Session) -> Vec<Swept> {
    let t = now();
    let due: Vec<(Lease, State)> = Journal::new(s.store.root())
        .list()
        .into_iter()
        .map(|l| {
            let st = l.state(t);
            (l, st)
        })
        .filter(|(_, st)| *st != State::Active)
        .collect();
    if due.is_empty() {
        return vec![];
    }
    drop_all(s, due, "lease-sweep")
}

/// The leases of the store with their state.
pub fn list(s: &Session) -> Vec<(Lease, State)> {
    let t = now();
    Journal::new(s.store.root())
        .list()
        .into_iter()
        .map(|l| {
            let st = l.state(t);
            (l, st)
        })
        .collect()
}

/// `leases revoke ID` (`None`: all): drops them now, whoever holds them.
pub fn revoke(s: &Session, id: Option<&str>) -> anyhow::Result<Vec<Swept>> {
    let all = list(s);
    let chosen: Vec<(Lease, State)> = match id {
        None => all,
        Some(id) => {
            let id = id.strip_prefix(USER_PREFIX).unwrap_or(id);
            let found: Vec<_> = all.into_iter().filter(|(l, _)| l.id == id).collect();
            if found.is_empty() {
                return Err(UserError::new(
                    crate::error::Exit::NotFound,
                    format!("no lease '{}'", id.escape_debug()),
                )
                .hint("`authcfg leases` lists them")
                .into());
            }
            found
        }
    };
    Ok(drop_all(s, chosen, "lease-revoke"))
}

/// How a child holding a lease ended.
pub struct Held {
    pub status: std::process::ExitStatus,
    /// The lease ended while the child ran (its user was dropped then).
    pub expired: Option<anyhow::Result<Option<Duration>>>,
}

/// Waits for `child` while it holds `l`: when the lease ends first, its
/// user is dropped then (the child's sessions ended where the admin may)
/// and the child goes on without it. SIGTERM and SIGHUP sent to authcfg
/// are passed on to the child; SIGINT and SIGQUIT are left to the
/// terminal, which sends them to the child too. authcfg itself stays
/// until the child has ended, so that it can drop the user.
///
/// The signal handlers are in place before the child is started; a
/// command that cannot be started is `Err` (the caller ends the lease).
#[cfg(not(target_os = "linux"))]
pub fn hold(
    _s: &Session,
    _admin: &ConfigDoc,
    _l: &Lease,
    _cmd: std::process::Command,
) -> std::io::Result<Held> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        format!(
            "database leases are held on Linux only, not on {}",
            std::env::consts::OS
        ),
    ))
}

#[cfg(target_os = "linux")]
pub fn hold(
    s: &Session,
    admin: &ConfigDoc,
    l: &Lease,
    mut cmd: std::process::Command,
) -> std::io::Result<Held> {
    use tokio::signal::unix::{signal, SignalKind};
    enum Event {
        Exited(std::io::Result<std::process::ExitStatus>),
        Ended,
        Forward(i32),
        Nothing,
    }
    let rt = crate::net::runtime::runtime();
    let until = tokio::time::Instant::now()
        + Duration::from_secs(l.expires.saturating_sub(now()).max(0) as u64);
    // Handlers, not SIG_IGN: the child starts with the default actions.
    let (mut term, mut hup, mut int, mut quit) = {
        let _in = rt.enter();
        (
            signal(SignalKind::terminate())?,
            signal(SignalKind::hangup())?,
            signal(SignalKind::interrupt())?,
            signal(SignalKind::quit())?,
        )
    };
    let mut child = cmd.spawn()?;
    let pid = child.id() as i32;
    let (tx, mut rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let mut expired = None;
    loop {
        // The database work (`end`) runs outside the runtime's block_on.
        let event = rt.block_on(async {
            tokio::select! {
                r = &mut rx => Event::Exited(r.unwrap_or_else(|e| Err(std::io::Error::other(e)))),
                _ = tokio::time::sleep_until(until), if expired.is_none() => Event::Ended,
                _ = term.recv() => Event::Forward(libc::SIGTERM),
                _ = hup.recv() => Event::Forward(libc::SIGHUP),
                _ = int.recv() => Event::Nothing,
                _ = quit.recv() => Event::Nothing,
            }
        });
        match event {
            Event::Exited(status) => {
                return Ok(Held {
                    status: status?,
                    expired,
                })
            }
            Event::Ended => expired = Some(end(s, admin, l)),
            Event::Forward(sig) => forward(pid, sig),
            Event::Nothing => {}
        }
    }
}

#[cfg(target_os = "linux")]
fn forward(pid: i32, sig: i32) {
    // SAFETY: kill(2) on the child's pid, which this process has not yet
    // reaped (the waiting thread reaps it only once it has ended).
    unsafe {
        libc::kill(pid, sig);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_forms() {
        assert_eq!(parse_ttl("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_ttl("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_ttl("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_ttl("2d").unwrap(), Duration::from_secs(172800));
        for bad in ["", "0", "15", "m", "15x", "8d", "1h30", "-5m"] {
            if bad == "15" {
                continue;
            }
            assert!(parse_ttl(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn start_time_of_this_process() {
        let (pid, start, boot) = me();
        assert!(start > 0 && !boot.is_empty());
        let l = Lease {
            id: "abcdefghijkl".into(),
            config: "c".into(),
            engine: Engine::Postgres,
            user: "authcfg_lease_abcdefghijkl".into(),
            created: 0,
            expires: i64::MAX,
            pid,
            pid_start: start,
            boot_id: boot,
        };
        assert!(holder_alive(&l));
        assert_eq!(l.state(now()), State::Active);
        let dead = Lease {
            pid_start: start + 1,
            ..l.clone()
        };
        assert_eq!(dead.state(now()), State::Orphaned);
        let ended = Lease { expires: 0, ..l };
        assert_eq!(ended.state(now()), State::Expired);
    }
}
