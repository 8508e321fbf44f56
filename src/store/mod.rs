//! The encrypted file store (docs/ARCHITECTURE.md, "Store"). It is handed
//! an identity; it never asks a keyring or a user for one, and never prints.
//!
//! What it trusts is authenticated (docs/SECURITY.md): the header by the
//! admin key's signature, configs and journals by MACs under the store
//! keys, the index by AEAD under the index key. Every change runs as a
//! transaction under the writer lock: journal first, files, audit records,
//! index, journal removed; the next writer completes an interrupted one.

pub mod anchor;
pub mod audit;
pub mod crypt;
pub mod crypto;
pub mod fsutil;
pub mod header;
pub mod index;
pub mod journal;
pub mod layout;
pub mod lock;
pub mod merge;
pub mod names;
pub mod pins;
pub mod storekeys;
pub mod team;
pub mod upgrade;
pub mod usage;
pub mod verified;

mod admin;
mod open;
mod read;
mod txn;
mod verify;
use verify::verify_state;
mod write;

use crate::error::{failure, no_key, usage, Exit, UserError};
use crate::model::{ConfigDoc, Meta, DOC_FORMAT};
use age::x25519;
use anyhow::Context;
use audit::Actor;
use crypto::{AdminKey, AdminPub};
use header::{Header, Parsed, ALL, HEADER_FILE};
use index::{AuditMark, Head, IndexFiles, Shard};
use journal::{AdminJournal, AdminOp, AuditIntent, TxnJournal, TxnOp};
use lock::WriterLock;
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use storekeys::StoreKeys;

pub use names::{canonical as canonical_name, validate as validate_name};

pub const CONFIGS_DIR: &str = "configs";
pub const TMP_DIR: &str = "tmp";
pub const STAGING_DIR: &str = "staging";
pub const OLD_IDENTITY: &str = "identity.old.age";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Refuse when the name exists.
    Create,
    /// Create or replace.
    Upsert,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Holds the master key: verifies the header with the admin key it
    /// derives, may change recipients, groups and the master key.
    Admin,
    /// Another recipient: verifies the header with its pinned admin key.
    Member,
}

/// How a member that has not pinned the admin key may do so now.
pub enum Trust<'a> {
    /// Refuse (the error says how to pin).
    None,
    /// The fingerprint the user gave (`AUTHCFG_TRUST_ADMIN`, `trust`).
    Fingerprint(&'a str),
    /// Ask: shown the fingerprint, returns whether to trust it.
    Ask(&'a dyn Fn(&str) -> bool),
}

/// Everything the store holds in memory about its verified state.
struct State {
    header: Header,
    keys: StoreKeys,
    /// Identities to decrypt with: the key in use, and during an
    /// interrupted master-key rotation the other key of the pair.
    ids: Vec<x25519::Identity>,
    role: Role,
    /// A verified admin operation under way: its target's keys also open
    /// (and authenticate) files it already rewrote.
    pending: Option<(AdminJournal, StoreKeys)>,
    /// An admin journal that failed verification: ignored for reading,
    /// every write is refused with this error until it is removed.
    forged: Option<(String, String)>,
    /// An authentic admin journal of an earlier change (a replayed copy):
    /// ignored, and removed by the next writer.
    stale: bool,
}

/// Settings the store needs, read once at the edge.
#[derive(Clone)]
pub struct Options {
    pub lock_timeout: Duration,
    pub actor: Actor,
    /// `AUTHCFG_FAULT_AFTER` (fault-injection builds only).
    pub fault_after: Option<u64>,
    /// `AUTHCFG_FAULT_HOLD=k:FILE` (fault-injection builds only).
    pub fault_hold: Option<(u64, PathBuf)>,
    /// Where the local anchor lives (`$XDG_STATE_HOME/authcfg`), if anywhere.
    pub state_dir: Option<PathBuf>,
    /// How much of the audit trail is kept (`AUTHCFG_AUDIT_KEEP`).
    pub audit_retention: audit::Retention,
    /// The key custody (`service`, `key`) the key in use came from, if it
    /// came from one: its pin lives outside the store (`pins::CustodyPin`).
    pub custody: Option<(String, String)>,
    /// The admin key the user trusts (`AUTHCFG_TRUST_ADMIN`), checked again
    /// when the header changes under the writer lock (`Store::refresh`).
    pub trust_admin: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            lock_timeout: Duration::from_secs(120),
            actor: Actor::default(),
            fault_after: None,
            fault_hold: None,
            state_dir: None,
            audit_retention: audit::Retention::default(),
            custody: None,
            trust_admin: None,
        }
    }
}

pub struct Store {
    root: PathBuf,
    state: Mutex<State>,
    opts: Options,
    /// Told when a writer waits for the lock (the CLI prints it).
    on_wait: Box<dyn Fn(Option<lock::Holder>) + Send + Sync>,
    /// Completes an interrupted admin operation (set by the session).
    resumer: Option<Resumer>,
    /// The local anchor for the key in use (computed once per key).
    anchor_cache: Mutex<Option<std::sync::Arc<Option<anchor::Anchor>>>>,
    /// Reads the key source again (after another process rotated the key).
    reload_key: Option<Box<dyn Fn() -> Option<x25519::Identity> + Send + Sync>>,
    #[cfg_attr(not(feature = "fault-injection"), allow(dead_code))]
    faults: std::sync::atomic::AtomicU64,
}

/// Hard links to the files a write replaces or removes (`None`: the file
/// did not exist), to put back if the write fails before its commit point.
/// `usable` is false when the filesystem would not link a file (the write
/// then goes on as before: a failure is left to the journal).
struct Undo {
    kept: Vec<(PathBuf, Option<PathBuf>)>,
    usable: bool,
}

pub type Resumer = Box<dyn Fn(&Store, &Txn) -> anyhow::Result<()> + Send + Sync>;

/// A writer's hold on the store: the lock, and the state re-read under it.
pub struct Txn<'a> {
    store: &'a Store,
    _lock: WriterLock,
}

/// A failure reading a store file: says so, and which file.
pub fn read_error(path: &Path, e: std::io::Error) -> anyhow::Error {
    file_error("read", path, e)
}

/// A failure writing (or creating, locking) a store file: says so, and
/// which file, so a full disk or a read-only store is not taken for a
/// damaged file.
pub fn write_error(path: &Path, e: std::io::Error) -> anyhow::Error {
    file_error("write", path, e)
}

fn file_error(op: &str, path: &Path, e: std::io::Error) -> anyhow::Error {
    if let Some(f) = fsutil::StoreFileError::find(&e) {
        return failure(f.to_string()).hint(f.hint()).into();
    }
    use std::io::ErrorKind as K;
    let hint = match e.kind() {
        K::StorageFull | K::QuotaExceeded => Some(format!(
            "the disk holding {} is full: free some space and run the command again",
            path.display()
        )),
        K::ReadOnlyFilesystem => Some(format!(
            "{} is on a read-only file system: reading works, changes need it writable",
            path.display()
        )),
        _ => None,
    };
    let message = format!("cannot {op} {}: {e}", path.display());
    match hint {
        Some(h) => failure(message).hint(h).into(),
        None => anyhow::Error::new(e).context(format!("cannot {op} {}", path.display())),
    }
}

fn forged(path: &Path, what: &str) -> UserError {
    failure(format!(
        "{} {what}; it was not written by this store's admin key or members, so it is not used",
        path.display()
    ))
    .hint(format!(
        "if you did not change it yourself, someone who can write the store directory did: restore {} from a backup or version control (configs stay readable with your key)",
        path.display()
    ))
}

impl Store {
    pub fn on_wait(&mut self, f: impl Fn(Option<lock::Holder>) + Send + Sync + 'static) {
        self.on_wait = Box::new(f);
    }

    /// What completes an interrupted admin operation found by a writer.
    pub fn set_resumer(&mut self, r: Resumer) {
        self.resumer = Some(r);
    }

    /// How to read the key source again, for a writer that waited while
    /// another process rotated the master key.
    pub fn set_key_reloader(&mut self, f: Box<dyn Fn() -> Option<x25519::Identity> + Send + Sync>) {
        self.reload_key = Some(f);
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn header(&self) -> Header {
        self.state.lock().unwrap().header.clone()
    }
    pub fn role(&self) -> Role {
        self.state.lock().unwrap().role
    }
    pub fn identity(&self) -> x25519::Identity {
        self.state.lock().unwrap().ids[0].clone()
    }
    pub fn opts(&self) -> &Options {
        &self.opts
    }
    /// An admin journal that failed verification (reads go on; writes are
    /// refused): the message and the hint.
    pub fn forged_journal(&self) -> Option<(String, String)> {
        self.state.lock().unwrap().forged.clone()
    }

    /// Whether an authentic admin journal of an earlier change (a replayed
    /// copy) lies in the store; the next `begin` removes it.
    pub fn has_stale_journal(&self) -> bool {
        self.state.lock().unwrap().stale
    }

    /// The verified admin operation under way, if any.
    pub fn pending_admin(&self) -> Option<AdminJournal> {
        self.state
            .lock()
            .unwrap()
            .pending
            .as_ref()
            .map(|(j, _)| j.clone())
    }
    fn keys(&self) -> StoreKeys {
        self.state.lock().unwrap().keys.clone()
    }

    pub fn config_path(&self, name: &str) -> PathBuf {
        self.root.join(names::rel_path(name))
    }

    /// `no config named 'NAME'` with the nearest names of this store as a
    /// did-you-mean. Reads the index as it is (no recovery, no lock: this
    /// may run inside a write).
    pub fn not_found(&self, name: &str) -> UserError {
        let files = self.index_files();
        let names: Vec<Meta> = match files.read_head() {
            Ok(head) => files.read_all(&head, 1).0,
            Err(_) => vec![],
        };
        crate::error::config_not_found(name, names.iter().map(|m| m.name.as_str()))
    }

    pub fn exists(&self, name: &str) -> bool {
        fs::symlink_metadata(self.config_path(name)).is_ok_and(|m| m.is_file())
    }

    /// The index files under the keys in use.
    fn index_files(&self) -> IndexFiles {
        let st = self.state.lock().unwrap();
        IndexFiles {
            root: self.root.clone(),
            key: st.keys.index_key(),
            store_id: st.header.id.clone(),
        }
    }

    /// The index whose head opens: under the keys in use, or, while a
    /// whole-store change is under way, under its target keys (it rebuilt
    /// the index already).
    fn readable_index(&self) -> Option<(IndexFiles, Head)> {
        let files = self.index_files();
        if let Ok(head) = files.read_head() {
            return Some((files, head));
        }
        let target = self.pending_keys()?;
        let files = IndexFiles {
            key: target.index_key(),
            ..files
        };
        let head = files.read_head().ok()?;
        Some((files, head))
    }

    /// Crash points for the kill tests: after the k-th durable step of this
    /// process, it kills itself with SIGKILL, as a power cut would.
    pub fn fault_point(&self) {
        #[cfg(feature = "fault-injection")]
        {
            let n = self
                .faults
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
                + 1;
            if self.opts.fault_after == Some(n) {
                unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
            }
            // Hold still (lock held) at the k-th step until the test
            // removes the `held` file it is told about: lets a test put a
            // second writer against a running operation without timing.
            if let Some((k, file)) = &self.opts.fault_hold {
                if *k == n {
                    let _ = std::fs::write(file, std::process::id().to_string());
                    let until = std::time::Instant::now() + Duration::from_secs(120);
                    while file.exists() && std::time::Instant::now() < until {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                }
            }
        }
    }

    /// Writes a store file durably through the store's temp directory.
    pub fn put_file(&self, path: &Path, data: &[u8]) -> anyhow::Result<()> {
        fsutil::check_dirs(&self.root, path).map_err(|e| write_error(path, e))?;
        fsutil::write_atomic_via(&self.root.join(TMP_DIR), path, data, true)
            .map_err(|e| write_error(path, e))
    }
}

impl Txn<'_> {
    pub fn store(&self) -> &Store {
        self.store
    }
}

/// Config names from the files under `root/configs`, without decrypting.
/// Config names from the files under `root` (also for shell completion,
/// which has no key).
pub fn scan_names_in(root: &Path) -> anyhow::Result<Vec<String>> {
    let base = root.join(CONFIGS_DIR);
    let mut out = Vec::new();
    let mut stack = vec![base.clone()];
    while let Some(dir) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
        };
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            let ft = entry.file_type()?;
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file() {
                if let Some(stem) = path
                    .strip_prefix(&base)
                    .ok()
                    .and_then(|p| p.to_str())
                    .and_then(|p| p.strip_suffix(".age"))
                {
                    if validate_name(stem).is_ok() {
                        out.push(stem.to_string());
                    }
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

fn parse_doc(path: &Path, body: &[u8]) -> anyhow::Result<ConfigDoc> {
    let text = std::str::from_utf8(body).map_err(|_| {
        failure(format!(
            "{} decrypted to something that is not text",
            path.display()
        ))
    })?;
    let value: toml::Value = toml::from_str(text).map_err(|_| {
        failure(format!(
            "{} does not hold a valid config document",
            path.display()
        ))
        .hint("restore the file from a backup or version control")
    })?;
    let format = value
        .get("format")
        .and_then(|v| v.as_integer())
        .unwrap_or(0);
    if format > DOC_FORMAT as i64 {
        return Err(failure(format!(
            "{} uses config format {format}, newer than this authcfg understands",
            path.display()
        ))
        .hint("upgrade authcfg")
        .into());
    }
    value.try_into().map_err(|_| {
        failure(format!(
            "{} does not hold a valid config document",
            path.display()
        ))
        .hint("restore the file from a backup or version control")
        .into()
    })
}

fn no_store(root: &Path) -> UserError {
    UserError::new(
        Exit::Error,
        format!("no authcfg store at {}", root.display()),
    )
    .hint("run `authcfg init` to create one, or point AUTHCFG_HOME / --store at yours")
}

/// Reads and checks the admin journal against the header and the key in
/// use, and decides the role. See `Store::unlock`.
/// The audit records of a write, each of a written config stamped with
/// the version the write gave it (docs/SECURITY.md, "Rollback").
fn with_versions(audit: &[AuditIntent], versions: &BTreeMap<&str, u64>) -> Vec<AuditIntent> {
    audit
        .iter()
        .map(|a| {
            let mut a = a.clone();
            if let Some(v) = a.config.as_deref().and_then(|c| versions.get(c)) {
                a.version = Some(*v);
            }
            a
        })
        .collect()
}

fn as_user_error(e: anyhow::Error) -> UserError {
    let (exit, hint) = crate::error::classify(&e);
    let mut u = UserError::new(exit, e.to_string());
    u.hint = hint;
    u
}

fn not_recipient(root: &Path, k0: &x25519::Identity) -> UserError {
    no_key(format!(
        "the key in use ({}) is not a recipient of the store at {}",
        k0.to_public(),
        root.display()
    ))
    .hint("send that public key to the store's admin (`authcfg recipients add KEY --label NAME`); or check AUTHCFG_IDENTITY / AUTHCFG_IDENTITY_FILE, or run `authcfg doctor` to see which key source is in use")
}

/// An identity sealed (base64 age) in an admin journal, if `with` opens it.
pub fn open_identity(sealed: Option<&str>, with: &x25519::Identity) -> Option<x25519::Identity> {
    use base64::Engine;
    let ct = crypto::b64().decode(sealed?).ok()?;
    let plain = zeroize::Zeroizing::new(crypt::decrypt(with, &ct).ok()?);
    crypt::parse_identity(std::str::from_utf8(&plain).ok()?)
}

fn damaged(path: &Path, e: &crypt::CryptError) -> anyhow::Error {
    let msg = match e {
        crypt::CryptError::NoMatchingKey => format!(
            "{} cannot be opened with this store's key: it was encrypted to other recipients, or its header was modified",
            path.display()
        ),
        other => format!("{} is damaged: {other}", path.display()),
    };
    failure(msg)
        .hint("restore this file from a backup or version control, or remove the config (`authcfg remove NAME`) and add it again; other configs are not affected")
        .into()
}

pub fn short_key(public: &str) -> String {
    if public.len() > 16 {
        format!("{}…{}", &public[..8], &public[public.len() - 6..])
    } else {
        public.to_string()
    }
}
