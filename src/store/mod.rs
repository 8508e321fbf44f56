//! The encrypted file store (docs/ARCHITECTURE.md, "Store"). It is handed
//! an identity; it never asks a keyring or a user for one, and never prints.
//!
//! What it trusts is authenticated (docs/SECURITY.md): the header by the
//! admin key's signature, configs and journals by MACs under the store
//! keys, the index by AEAD under the index key. Every change runs as a
//! transaction under the writer lock: journal first, files, audit records,
//! index, journal removed; the next writer completes an interrupted one.

pub mod anchor;
pub mod crypt;
pub mod crypto;
pub mod fsutil;
pub mod header;
pub mod index;
pub mod journal;
pub mod lock;
pub mod merge;
pub mod names;
pub mod pins;
pub mod storekeys;
pub mod team;
pub mod upgrade;
pub mod usage;
pub mod verified;

use crate::audit::{self, Actor};
use crate::error::{failure, no_key, usage, Exit, UserError};
use crate::model::{ConfigDoc, Meta, DOC_FORMAT};
use age::x25519;
use anyhow::Context;
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
    let hint = match e.raw_os_error() {
        Some(libc::ENOSPC) | Some(libc::EDQUOT) => Some(format!(
            "the disk holding {} is full: free some space and run the command again",
            path.display()
        )),
        Some(libc::EROFS) => Some(format!(
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
    /// `--store`/`AUTHCFG_HOME` if given, else the platform data dir.
    pub fn locate(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
        if let Some(p) = explicit {
            return Ok(p);
        }
        let dirs = crate::settings::project_dirs().map_err(|why| {
            failure(format!(
                "{why}: authcfg does not create a home directory for its store"
            ))
            .hint("set HOME to your home directory, or pass --store DIR (or set AUTHCFG_HOME)")
        })?;
        Ok(dirs.data_dir().to_path_buf())
    }

    /// Reads the header file without trusting it (the key sources it names
    /// are used to find a key; nothing else is believed until verified).
    pub fn read_header(root: &Path) -> anyhow::Result<Parsed> {
        let path = root.join(HEADER_FILE);
        match fs::metadata(root) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(no_store(root).into()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", root.display())),
        }
        if let Some(mode) = fsutil::loose_mode(root)? {
            return Err(failure(format!(
                "{} is accessible by other users (mode {mode:03o}); refusing to use it",
                root.display()
            ))
            .hint(format!("run: chmod 700 '{}'", root.display()))
            .into());
        }
        let bytes = fsutil::read_private(&path)
            .map_err(|e| read_error(&path, e))?
            .ok_or_else(|| no_store(root))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| failure(format!("{} is not text", path.display())))?;
        Header::parse(&text).map_err(|e| {
            let hint = match e {
                header::ParseError::Newer(_) => "upgrade authcfg; the store was left untouched",
                _ => "restore it from a backup or from version control",
            };
            failure(format!("{}: {e}", path.display()))
                .hint(hint)
                .into()
        })
    }

    /// Creates a new store: directories, the signed header with fresh store
    /// keys, an empty index. Fails if one exists.
    pub fn create(
        root: &Path,
        mut header: Header,
        master: &x25519::Identity,
        opts: Options,
    ) -> anyhow::Result<Store> {
        Store::check_creatable(root)?;
        fsutil::create_dirs(root)
            .with_context(|| format!("cannot create the store directory {}", root.display()))?;
        fs::set_permissions(
            root,
            std::os::unix::fs::PermissionsExt::from_mode(fsutil::DIR_MODE),
        )?;
        for d in [CONFIGS_DIR, TMP_DIR, index::INDEX_DIR] {
            fsutil::create_dirs(&root.join(d))?;
        }
        let admin = AdminKey::from_identity(master);
        let mut keys = StoreKeys::rotate(&header, None);
        keys.seal_into(&mut header)
            .map_err(|e| failure(e.to_string()))?;
        header.sign(&admin);
        let store = Store::from_state(
            root,
            State {
                header,
                keys,
                ids: vec![master.clone()],
                role: Role::Admin,
                pending: None,
                forged: None,
                stale: false,
            },
            opts,
        );
        store.put_file(&root.join(HEADER_FILE), store.header().to_toml().as_bytes())?;
        {
            let txn = store.begin("init")?;
            store.write_index(&txn, &BTreeMap::new(), BTreeMap::new(), None)?;
        }
        store.check_anchor()?;
        Ok(store)
    }

    /// Refuses a location that holds a store, or anything else: `init`
    /// never takes over (or changes the mode of) a directory in use.
    pub fn check_creatable(root: &Path) -> anyhow::Result<()> {
        if root.join(HEADER_FILE).exists() {
            return Err(
                usage(format!("a store already exists at {}", root.display()))
                    .hint("use it as it is, or pick another location with --store DIR")
                    .into(),
            );
        }
        if root.exists() {
            let empty = fs::read_dir(root)
                .with_context(|| format!("cannot read {}", root.display()))?
                .next()
                .is_none();
            if !empty {
                return Err(usage(format!(
                    "{} exists and is not empty; a store needs a directory of its own",
                    root.display()
                ))
                .hint("pick a new or empty directory with --store DIR or AUTHCFG_HOME")
                .into());
            }
        }
        Ok(())
    }

    fn from_state(root: &Path, state: State, opts: Options) -> Store {
        Store {
            root: root.to_path_buf(),
            state: Mutex::new(state),
            opts,
            on_wait: Box::new(|_| {}),
            resumer: None,
            anchor_cache: Mutex::new(None),
            reload_key: None,
            faults: Default::default(),
        }
    }

    /// Verifies the store with the key `k0` from a key source and opens its
    /// store keys. `k0` is the root of trust: the header must be signed by
    /// the admin key derived from it (or, for a member, by the admin key it
    /// pinned), and an admin journal is believed only when it is signed by
    /// that same admin key.
    pub fn unlock(
        root: &Path,
        header: Header,
        k0: &x25519::Identity,
        trust: Trust,
        opts: Options,
    ) -> anyhow::Result<Store> {
        let anchor = anchor::Anchor::for_store(opts.state_dir.as_deref(), root, k0);
        // The hot path: the same header this key verified before (the
        // anchor is MAC'd with a key derived from the identity, so only this
        // key could have recorded it), and no whole-store change pending.
        let fast = anchor.as_ref().and_then(|a| {
            let v = a.read()?.verified?;
            if v.header_digest != header.digest()
                || fs::symlink_metadata(root.join(journal::ADMIN_JOURNAL_FILE)).is_ok()
            {
                return None;
            }
            let keys = a.open_keys(&header.id, &v.keys)?;
            Some(State {
                header: header.clone(),
                keys,
                ids: vec![k0.clone()],
                role: if v.admin { Role::Admin } else { Role::Member },
                pending: None,
                forged: None,
                stale: false,
            })
        });
        let verified_now = fast.is_none();
        let state = match fast {
            Some(s) => s,
            None => verify_state(root, header, k0, trust)?,
        };
        let store = Store::from_state(root, state, opts);
        *store.anchor_cache.lock().unwrap() = Some(std::sync::Arc::new(anchor));
        store.check_anchor()?;
        if verified_now {
            store.remember_verified();
        }
        Ok(store)
    }

    /// Records in the anchor that this key verified the current header and
    /// which store keys it opened.
    fn remember_verified(&self) {
        let anchor = self.anchor();
        let Some(a) = anchor.as_ref() else {
            return;
        };
        let (h, keys, role, pending) = {
            let st = self.state.lock().unwrap();
            (
                st.header.clone(),
                st.keys.clone(),
                st.role,
                st.pending.is_some() || st.forged.is_some(),
            )
        };
        if pending {
            return;
        }
        if let Some(seen) = a.read() {
            let _ = a.write(&anchor::Seen {
                verified: Some(anchor::Verified {
                    header_digest: h.digest(),
                    admin: role == Role::Admin,
                    keys: a.seal_keys(&h.id, &keys),
                }),
                ..seen
            });
        }
    }

    fn anchor(&self) -> std::sync::Arc<Option<anchor::Anchor>> {
        let mut c = self.anchor_cache.lock().unwrap();
        c.get_or_insert_with(|| {
            std::sync::Arc::new(anchor::Anchor::for_store(
                self.opts.state_dir.as_deref(),
                &self.root,
                &self.identity(),
            ))
        })
        .clone()
    }

    /// Compares the verified header with what this key last saw of the
    /// store at this path, and records what it sees now.
    fn check_anchor(&self) -> anyhow::Result<()> {
        let anchor = self.anchor();
        let Some(a) = anchor.as_ref() else {
            return Ok(());
        };
        let h = self.header();
        let hpath = self.root.join(HEADER_FILE);
        match a.read() {
            Some(seen) => {
                if seen.store_id != h.id {
                    return Err(forged(&hpath, &format!(
                        "names the store {}, but this directory held the store {} when this key last used it: another store's files were put in its place",
                        h.id, seen.store_id
                    ))
                    .into());
                }
                if h.generation < seen.generation
                    || (h.generation == seen.generation && h.signature != seen.header_signature)
                {
                    return Err(forged(&hpath, &format!(
                        "is an older copy (generation {}) than the one this key already saw (generation {}): it was put back to undo a change",
                        h.generation, seen.generation
                    ))
                    .into());
                }
                if h.generation > seen.generation {
                    let _ = a.write(&anchor::Seen {
                        generation: h.generation,
                        header_signature: h.signature.clone(),
                        ..seen
                    });
                }
            }
            None => {
                let _ = a.write(&anchor::Seen {
                    store_id: h.id.clone(),
                    format: h.format,
                    generation: h.generation,
                    header_signature: h.signature.clone(),
                    audit_seq: 0,
                    audit_mac: String::new(),
                    verified: None,
                });
            }
        }
        Ok(())
    }

    /// After this process wrote a new header: the anchor moves with it.
    fn note_header(&self) {
        if let Some(a) = self.anchor().as_ref() {
            let h = self.header();
            let seen = a.read().unwrap_or_default();
            let _ = a.write(&anchor::Seen {
                store_id: h.id.clone(),
                format: h.format,
                generation: h.generation,
                header_signature: h.signature.clone(),
                ..seen
            });
        }
    }

    /// Whether a format-1 header may be upgraded here: never where a
    /// format-2 store was (its files are still there, or this key saw it):
    /// that is a downgrade, an attempt to have the master key sign
    /// recipients nobody checked.
    pub fn refuse_downgrade(
        root: &Path,
        state_dir: Option<&Path>,
        k0: &x25519::Identity,
    ) -> anyhow::Result<()> {
        let remnants: Vec<&str> = [
            "index/head",
            "audit.head",
            journal::ADMIN_JOURNAL_FILE,
            journal::JOURNAL_FILE,
            pins::PINS_FILE,
        ]
        .into_iter()
        .filter(|f| fs::symlink_metadata(root.join(f)).is_ok())
        .collect();
        // An upgrade of this key's own, interrupted, is completed.
        let admin = AdminKey::from_identity(k0).public();
        let own_upgrade = fsutil::read_private(&root.join(journal::ADMIN_JOURNAL_FILE))
            .ok()
            .flatten()
            .and_then(|b| AdminJournal::parse(&b))
            .is_some_and(|j| {
                j.op == AdminOp::Upgrade && j.signed() == Some(admin) && j.target.signed_by(&admin)
            });
        if own_upgrade {
            return Ok(());
        }
        let seen = anchor::Anchor::for_store(state_dir, root, k0).and_then(|a| a.read());
        if !remnants.is_empty() || seen.is_some_and(|s| s.format >= header::STORE_FORMAT) {
            return Err(forged(
                &root.join(HEADER_FILE),
                "is a format-1 header in a store of format 2 (a downgrade)",
            )
            .hint("restore authcfg.toml from a backup; it will not be upgraded, as that would sign recipients nobody checked")
            .into());
        }
        Ok(())
    }

    /// The last audit record this key saw, from the local anchor.
    pub fn anchored_audit(&self) -> Option<AuditMark> {
        self.anchor()
            .as_ref()
            .as_ref()?
            .read()
            .filter(|s| s.audit_seq > 0)
            .map(|s| AuditMark {
                seq: s.audit_seq,
                mac: s.audit_mac,
            })
    }

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

    // ---- reading ------------------------------------------------------

    /// Decrypts and authenticates one config, and only that one. A reader
    /// never takes the lock, so it can meet a file that a whole-store change
    /// in another process (a key rotation) has already rewritten: then it
    /// waits for that change to end, takes up the new state, and reads again.
    ///
    /// A master-key rotation is never waited for: while one is under way
    /// (running or interrupted) the store reads with both keys of the pair
    /// and both generations of store keys, which its journal holds.
    pub fn read(&self, name: &str) -> anyhow::Result<ConfigDoc> {
        match self.read_once(name) {
            Err(e) if !lock::held() && self.changed_underneath() => {
                if self.rotation_pending() {
                    return Err(e);
                }
                // Take up the state on disk without the lock: a rotation
                // that started meanwhile is read through, not waited for.
                if self.refresh().is_ok() && self.rotation_pending() {
                    return self.read_once(name);
                }
                drop(self.begin("reading").map_err(|_| e)?);
                self.read_once(name)
            }
            r => r,
        }
    }

    /// Whether a verified master-key rotation is under way.
    pub fn rotation_pending(&self) -> bool {
        self.state
            .lock()
            .unwrap()
            .pending
            .as_ref()
            .is_some_and(|(j, _)| j.op == AdminOp::MasterKey)
    }

    /// Whether another process is changing (or has changed) the whole
    /// store since this one verified it.
    fn changed_underneath(&self) -> bool {
        if self.root.join(journal::ADMIN_JOURNAL_FILE).exists() {
            return true;
        }
        let on_disk = fsutil::read_private(&self.root.join(HEADER_FILE))
            .ok()
            .flatten()
            .unwrap_or_default();
        let mine = self.state.lock().unwrap().header.to_toml();
        on_disk != mine.as_bytes()
    }

    fn read_once(&self, name: &str) -> anyhow::Result<ConfigDoc> {
        validate_name(name)?;
        let path = self.config_path(name);
        fsutil::check_dirs(&self.root, &path).map_err(|e| read_error(&path, e))?;
        let bytes = fsutil::read_private(&path)
            .map_err(|e| read_error(&path, e))?
            .ok_or_else(|| self.not_found(name))?;
        self.decode(name, &path, &bytes)
    }

    /// Decrypts and authenticates every named config (`doctor`), on as
    /// many threads as there are processors; a file whose exact bytes this
    /// key verified before under the same header is not decrypted again
    /// (`store::verified`). Returns why each one that fails does.
    pub fn check_configs(&self, names: &[String]) -> Vec<String> {
        use verified::VerifiedFiles;
        let header = self.state.lock().unwrap().header.to_toml();
        let context: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(header.as_bytes()).into();
        let record = VerifiedFiles::open(
            self.opts.state_dir.as_deref(),
            &self.root,
            &self.identity(),
            context,
        );
        let check = |n: &String| -> Result<Option<verified::Entry>, String> {
            let path = self.config_path(n);
            let bytes = fsutil::check_dirs(&self.root, &path)
                .and_then(|_| fsutil::read_private(&path))
                .map_err(|e| format!("{:#}", read_error(&path, e)))?
                .ok_or_else(|| self.not_found(n).to_string())?;
            let entry = VerifiedFiles::entry(n, &bytes);
            if record.as_ref().is_some_and(|r| r.has(&entry)) {
                return Ok(Some(entry));
            }
            match self.decode(n, &path, &bytes) {
                Ok(_) => Ok(Some(entry)),
                // A whole-store change under way: the reader's own retry.
                Err(_) => self.read(n).map(|_| None).map_err(|e| format!("{e}")),
            }
        };
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 16);
        let chunk = names.len().div_ceil(threads).max(1);
        let (good, bad): (Vec<_>, Vec<_>) = std::thread::scope(|scope| {
            let workers: Vec<_> = names
                .chunks(chunk)
                .map(|part| scope.spawn(move || part.iter().map(check).collect::<Vec<_>>()))
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_default())
                .partition(|r| r.is_ok())
        });
        let verified: Vec<verified::Entry> =
            good.into_iter().filter_map(|r| r.ok().flatten()).collect();
        if let Some(r) = &record {
            let _ = r.save(&verified);
        }
        bad.into_iter().filter_map(|r| r.err()).collect()
    }

    fn decode(&self, name: &str, path: &Path, bytes: &[u8]) -> anyhow::Result<ConfigDoc> {
        self.decode_with(name, path, bytes, None)
    }

    /// `decode`, authenticated under `keys` instead of the store's own (a
    /// file from a pulled commit, under that commit's header).
    fn decode_with(
        &self,
        name: &str,
        path: &Path,
        bytes: &[u8],
        keys: Option<&StoreKeys>,
    ) -> anyhow::Result<ConfigDoc> {
        // Decrypted without the state's lock held, so that threads decrypt
        // side by side (`doctor`'s check of every config).
        let owned: Vec<x25519::Identity> = self.state.lock().unwrap().ids.clone();
        let ids: Vec<&x25519::Identity> = owned.iter().collect();
        let plain = match crypt::decrypt_any(&ids, bytes) {
            Ok(p) => zeroize::Zeroizing::new(p),
            Err(crypt::CryptError::NoMatchingKey) => {
                return Err(self.not_for_us(name, path));
            }
            Err(e) => return Err(damaged(path, &e)),
        };
        let Some((_, body)) = journal::unframe(&plain) else {
            return Err(failure(format!(
                "{} is not authenticated (no MAC): it was not written by this store's members",
                path.display()
            ))
            .hint("if you did not put it there, remove it with `authcfg remove NAME`; other configs are not affected")
            .into());
        };
        let doc = parse_doc(path, body)?;
        let st = self.state.lock().unwrap();
        let group = doc.meta.group.clone();
        let store_id = st.header.id.clone();
        let scope = group.as_deref().unwrap_or(ALL);
        let ctx: [&[u8]; 4] = [
            b"authcfg config",
            store_id.as_bytes(),
            name.as_bytes(),
            scope.as_bytes(),
        ];
        let mut authentic = keys
            .unwrap_or(&st.keys)
            .config_key(group.as_deref())
            .is_ok_and(|k| journal::check_frame(&k, &ctx, &plain).is_some());
        if !authentic && keys.is_none() {
            if let Some((_, target)) = &st.pending {
                authentic = target
                    .config_key(group.as_deref())
                    .is_ok_and(|k| journal::check_frame(&k, &ctx, &plain).is_some());
            }
        }
        if !authentic {
            return Err(failure(format!(
                "{} failed authentication: it was not written for '{name}' by this store's members (edited, forged, or moved from another name)",
                path.display()
            ))
            .hint("restore it from a backup, or remove the config (`authcfg remove NAME`) and add it again; other configs are not affected")
            .into());
        }
        if doc.meta.name != name {
            return Err(failure(format!(
                "{} holds the config '{}', not '{name}': the file was moved or swapped",
                path.display(),
                doc.meta.name
            ))
            .hint("move it back, or re-add the config")
            .into());
        }
        Ok(doc)
    }

    fn not_for_us(&self, name: &str, path: &Path) -> anyhow::Error {
        // From the index as it is (never repaired from here: repairing
        // reads configs, which would come back here).
        let group = self.lookup_meta(name).and_then(|m| m.group);
        let public = self.identity().to_public().to_string();
        match group {
            Some(g) => no_key(format!(
                "'{name}' is readable only by the group '{g}', and the key in use ({}) is not in it",
                short_key(&public)
            ))
            .hint(format!("ask an admin to add your key with `authcfg recipients add KEY --label NAME --group {g}`"))
            .into(),
            None => damaged(path, &crypt::CryptError::NoMatchingKey),
        }
    }

    /// One config's metadata from the index, if the index has it intact.
    pub fn lookup_meta(&self, name: &str) -> Option<Meta> {
        let (files, head) = self.readable_index()?;
        files
            .read_shard(&head, &index::shard_of(name))
            .ok()?
            .configs
            .remove(name)
    }

    /// Every config's metadata, from the index. Shards that do not match
    /// the index head (replaced by an older copy, or an interrupted write)
    /// are rebuilt from the config files under the writer lock.
    /// Sorted by name.
    pub fn list(&self) -> anyhow::Result<Vec<Meta>> {
        if self.root.join(journal::JOURNAL_FILE).exists() {
            // An interrupted write: complete it first (when it can be: a
            // journal that fails verification only blocks writes).
            let _ = self.begin("recover");
        }
        let (shards, stale) = match self.readable_index() {
            Some((files, head)) => files.read_all(&head, 2),
            None => (vec![], vec!["*".to_string()]),
        };
        if stale.is_empty() {
            return Ok(shards);
        }
        if self.rotation_pending() {
            // A master-key rotation rebuilds the index: the configs
            // themselves say what there is, without waiting for it.
            return Ok(self
                .scan_names()?
                .into_iter()
                .filter_map(|n| self.read(&n).ok().map(|d| d.meta))
                .collect());
        }
        match self.begin("repair the index") {
            Ok(txn) => {
                // The keys may have changed while this waited (a rotation in
                // another process rebuilt the index): read it again first.
                let files = self.index_files();
                if let Ok(head) = files.read_head() {
                    let (shards, stale) = files.read_all(&head, 2);
                    if stale.is_empty() {
                        return Ok(shards);
                    }
                }
                Ok(self.rebuild_index(&txn)?.into_values().collect())
            }
            // Writes are refused (a journal failed verification): the
            // configs themselves still say what there is.
            Err(_) => Ok(self
                .scan_names()?
                .into_iter()
                .filter_map(|n| self.read(&n).ok().map(|d| d.meta))
                .collect()),
        }
    }

    /// Config names from the files on disk, without decrypting anything.
    pub fn scan_names(&self) -> anyhow::Result<Vec<String>> {
        scan_names_in(&self.root)
    }

    // ---- transactions -------------------------------------------------

    /// Takes the writer lock (waiting, bounded), re-reads and re-verifies
    /// the header under it, and completes an interrupted write.
    pub fn begin(&self, operation: &str) -> anyhow::Result<Txn<'_>> {
        let lock = WriterLock::acquire(&self.root, operation, self.opts.lock_timeout, &mut |h| {
            (self.on_wait)(h)
        })
        .map_err(|e| match e {
            lock::LockError::Timeout { .. } => failure(e.to_string())
                .hint("wait for it to finish, or raise AUTHCFG_LOCK_TIMEOUT (seconds)")
                .into(),
            lock::LockError::Io(io) => write_error(&self.root.join(".lock"), io),
            lock::LockError::Reentered => failure(e.to_string()).into(),
        })?;
        let txn = Txn {
            store: self,
            _lock: lock,
        };
        self.refresh()?;
        if let Some((message, hint)) = self.state.lock().unwrap().forged.clone() {
            return Err(UserError::new(Exit::Error, message).hint(hint).into());
        }
        if std::mem::take(&mut self.state.lock().unwrap().stale) {
            let _ = fs::remove_file(self.root.join(journal::ADMIN_JOURNAL_FILE));
            let _ = self.append_audit(
                None,
                &[AuditIntent {
                    version: None,
                    action: "journal".into(),
                    config: None,
                    outcome: "ignored".into(),
                    detail: Some(
                        "an admin journal of an earlier change (a replayed copy) was removed"
                            .into(),
                    ),
                }],
            );
        }
        self.sweep_temp_files();
        self.recover(&txn)?;
        if let Some(j) = self.pending_admin() {
            // Its process is gone (it held the lock until it died).
            match (&self.resumer, self.role()) {
                (Some(resume), Role::Admin) => resume(self, &txn)?,
                _ => {
                    return Err(failure(format!(
                        "an interrupted change of the whole store ({}, started {}) must be completed by its admin first",
                        j.detail, j.started
                    ))
                    .hint("run any authcfg command with the master key; configs stay readable meanwhile")
                    .into())
                }
            }
        }
        Ok(txn)
    }

    /// The keys of the admin operation under way.
    pub fn pending_keys(&self) -> Option<StoreKeys> {
        self.state
            .lock()
            .unwrap()
            .pending
            .as_ref()
            .map(|(_, k)| k.clone())
            .filter(|k| k.has(ALL))
    }

    /// Under the lock: if another process changed the header (or finished
    /// an admin operation) while this one waited, verify the new state.
    fn refresh(&self) -> anyhow::Result<()> {
        let Parsed::Current(on_disk) = Store::read_header(&self.root)? else {
            return Err(
                failure("the store header was replaced by a format-1 header")
                    .hint("restore authcfg.toml from a backup")
                    .into(),
            );
        };
        let journal_now = self.root.join(journal::ADMIN_JOURNAL_FILE).exists();
        let st = self.state.lock().unwrap();
        let same = on_disk == st.header && journal_now == st.pending.is_some();
        if same {
            return Ok(());
        }
        let k0 = st.ids[0].clone();
        drop(st);
        let fresh = verify_state(&self.root, on_disk.clone(), &k0, Trust::None).or_else(|e| {
            // The key source may hold a new key by now (a rotation).
            match self.reload_key.as_ref().and_then(|f| f()) {
                Some(k) if k.to_public().to_string() != k0.to_public().to_string() => {
                    verify_state(&self.root, on_disk, &k, Trust::None)
                }
                _ => Err(e),
            }
        });
        let fresh = fresh.map_err(|e| {
            let (exit, _) = crate::error::classify(&e);
            if exit == Exit::NoKey {
                no_key("the store's keys changed while this command waited (a master-key rotation or a recipient change by another process), and the key in use no longer opens it")
                    .hint("run the command again: it reads the key source afresh")
                    .into()
            } else {
                e
            }
        })?;
        *self.state.lock().unwrap() = fresh;
        Ok(())
    }

    /// Leftovers of a writer that crashed mid-write (they may hold config
    /// names). Only called under the writer lock.
    fn sweep_temp_files(&self) {
        let dir = self.root.join(TMP_DIR);
        if fsutil::private_dir(&dir).is_err() {
            return;
        }
        let Ok(entries) = fs::read_dir(&dir) else {
            return;
        };
        for e in entries.flatten() {
            // Only temp files, and only old ones: a reader without the lock
            // may be writing `audit.head` through this directory right now.
            let old = e
                .metadata()
                .ok()
                .filter(|m| m.file_type().is_file())
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > Duration::from_secs(600));
            if old
                && e.file_name()
                    .to_string_lossy()
                    .starts_with(fsutil::TMP_PREFIX)
            {
                let _ = fs::remove_file(e.path());
            }
        }
    }

    fn txn_journal_path(&self) -> PathBuf {
        self.root.join(journal::JOURNAL_FILE)
    }

    /// Completes (or rolls back) an interrupted write. Caller holds the lock.
    fn recover(&self, txn: &Txn) -> anyhow::Result<()> {
        let path = self.txn_journal_path();
        let Some(bytes) = fsutil::read_private(&path).map_err(|e| read_error(&path, e))? else {
            return Ok(());
        };
        let (key, id) = {
            let st = self.state.lock().unwrap();
            (st.keys.journal_key(), st.header.id.clone())
        };
        let Some(j) = TxnJournal::open(&key, &id, &bytes) else {
            return Err(forged(&path, "failed authentication").into());
        };
        // Authentic means written by a member, not harmless: every name and
        // the transaction id become paths, so each is checked like input.
        if !journal::valid_txn_id(&j.txn) || j.names.iter().any(|n| validate_name(n).is_err()) {
            return Err(forged(&path, "names a transaction or config that is not valid").into());
        }
        let names: Vec<String> = j.names.clone();
        let staging = self.root.join(STAGING_DIR).join(&j.txn);
        if j.op == TxnOp::Import {
            if !j.committed {
                // Never committed: nothing of it reached the configs.
                let _ = fs::remove_dir_all(&staging);
                fs::remove_file(&path)?;
                return Ok(());
            }
            for (i, n) in names.iter().enumerate() {
                let staged = staging.join(format!("{i}.age"));
                if staged.exists() {
                    let dest = self.config_path(n);
                    fsutil::create_dirs(dest.parent().unwrap())?;
                    fs::rename(&staged, &dest)?;
                }
            }
        }
        // The files are the truth: the index follows them.
        let mut changes: BTreeMap<String, Option<Meta>> = BTreeMap::new();
        for n in &names {
            match self.read(n) {
                Ok(doc) => {
                    changes.insert(n.clone(), Some(doc.meta));
                }
                Err(_) if !self.exists(n) => {
                    changes.insert(n.clone(), None);
                }
                Err(_) => {}
            }
        }
        // Only changes that reached the disk get their audit records.
        let not_done: BTreeSet<&String> = match j.op {
            TxnOp::Import => BTreeSet::new(),
            TxnOp::Delete => names.iter().filter(|n| self.exists(n)).collect(),
            TxnOp::Put => names
                .iter()
                .zip(j.digests.iter().map(Some).chain(std::iter::repeat(None)))
                .filter(|(n, want)| {
                    let have = fsutil::read_private(&self.config_path(n))
                        .ok()
                        .flatten()
                        .map(|b| crypto::sha256_hex(&b));
                    have.is_none() || have.as_ref() != *want
                })
                .map(|(n, _)| n)
                .collect(),
        };
        let intents: Vec<AuditIntent> = j
            .audit
            .iter()
            .filter(|a| a.config.as_ref().is_none_or(|c| !not_done.contains(c)))
            .cloned()
            .collect();
        let mark = if audit::has_txn(&self.root, &j.txn)? {
            None
        } else {
            self.append_audit(Some(&j.txn), &intents)?
        };
        self.apply_index(txn, changes, mark)?;
        let _ = fs::remove_dir_all(&staging);
        fs::remove_file(&path)?;
        Ok(())
    }

    fn append_audit(
        &self,
        txn: Option<&str>,
        entries: &[AuditIntent],
    ) -> anyhow::Result<Option<AuditMark>> {
        let mark = audit::append(
            &self.root,
            &self.keys(),
            &self.opts.actor,
            txn,
            entries,
            &self.opts.audit_retention,
        )
        .map_err(|e| write_error(&audit::path(&self.root), e))?;
        if let (Some(m), Some(a)) = (&mark, self.anchor().as_ref()) {
            a.advance_audit(m.seq, &m.mac);
        }
        Ok(mark)
    }

    /// Appends audit records outside a transaction (reads, tests, hand-outs).
    pub fn audit(&self, entries: &[AuditIntent]) -> anyhow::Result<()> {
        self.append_audit(None, entries).map(|_| ())
    }

    fn encode(&self, doc: &ConfigDoc) -> anyhow::Result<Vec<u8>> {
        let st = self.state.lock().unwrap();
        let group = doc.meta.group.as_deref();
        let key = st.keys.config_key(group).map_err(|_| {
            no_key(format!(
                "only members of the group '{}' can write its configs",
                group.unwrap_or(ALL)
            ))
            .hint("ask an admin to add your key to the group")
        })?;
        let body = zeroize::Zeroizing::new(toml::to_string(doc).context("serializing config")?);
        let scope = group.unwrap_or(ALL);
        let plain = zeroize::Zeroizing::new(journal::frame(
            &key,
            &[
                b"authcfg config",
                st.header.id.as_bytes(),
                doc.meta.name.as_bytes(),
                scope.as_bytes(),
            ],
            body.as_bytes(),
        ));
        let to = storekeys::parse_recipients(st.header.recipients_of(scope)).map_err(failure)?;
        crypt::encrypt(&to, &plain).map_err(|e| failure(e.to_string()).into())
    }

    /// An admin creating a config in a group nobody else is in yet: the
    /// group gets its store key (a signed header change).
    fn ensure_group_keys(&self, _txn: &Txn, docs: &[ConfigDoc]) -> anyhow::Result<()> {
        let st = self.state.lock().unwrap();
        let missing: BTreeSet<String> = docs
            .iter()
            .filter_map(|d| d.meta.group.clone())
            .filter(|g| !st.keys.has(g))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if st.role != Role::Admin {
            return Err(no_key(format!(
                "the group '{}' has no members yet; only the store's admin (the master key) can create it",
                missing.iter().next().unwrap()
            ))
            .into());
        }
        let admin = AdminKey::from_identity(&st.ids[0]);
        let mut h = st.header.clone();
        let mut keys = st.keys.clone();
        // Groups exist through recipients; a group with only the master key
        // is recorded as such: the master key lists it.
        let master = h
            .recipients
            .iter_mut()
            .find(|r| r.label == header::MASTER)
            .ok_or_else(|| failure("the store header has no master recipient"))?;
        for g in &missing {
            if !master.groups.contains(g) {
                master.groups.push(g.clone());
            }
        }
        keys.seal_into(&mut h).map_err(|e| failure(e.to_string()))?;
        h.generation += 1;
        h.sign(&admin);
        drop(st);
        self.put_file(&self.root.join(HEADER_FILE), h.to_toml().as_bytes())?;
        {
            let mut st = self.state.lock().unwrap();
            st.header = h;
            st.keys = keys;
        }
        self.note_header();
        Ok(())
    }

    /// Saves configs with one lock, one journal, one audit append and one
    /// index update. `Create` refuses names that exist, checked under the
    /// lock (a concurrent `add` of the same name cannot be overwritten).
    pub fn put(
        &self,
        docs: &[ConfigDoc],
        mode: WriteMode,
        audit: &[AuditIntent],
    ) -> anyhow::Result<()> {
        for d in docs {
            validate_name(&d.meta.name)?;
        }
        let txn = self.begin(&format!("saving {}", docs[0].meta.name))?;
        self.put_locked(&txn, docs, mode, audit)
    }

    fn put_locked(
        &self,
        txn: &Txn,
        docs: &[ConfigDoc],
        mode: WriteMode,
        audit: &[AuditIntent],
    ) -> anyhow::Result<()> {
        self.may_write()?;
        if mode == WriteMode::Create {
            if let Some(d) = docs.iter().find(|d| self.exists(&d.meta.name)) {
                return Err(UserError::new(
                    Exit::Usage,
                    format!("a config named '{}' already exists", d.meta.name),
                )
                .hint("choose another --name, or pass --force to replace it")
                .into());
            }
        }
        for d in docs.iter().filter(|d| self.exists(&d.meta.name)) {
            self.may_replace(&d.meta.name)?;
        }
        self.ensure_group_keys(txn, docs)?;
        let versioned = docs
            .iter()
            .map(|d| {
                // No secret kept in the outside text of the config itself.
                self.versioned(d).map(|mut d| {
                    crate::ops::redact::scrub(&mut d);
                    d
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let docs = &versioned[..];
        let encoded = docs
            .iter()
            .map(|d| self.encode(d))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let audit = &with_versions(
            audit,
            &docs
                .iter()
                .map(|d| (d.meta.name.as_str(), d.version))
                .collect(),
        )[..];
        let j = TxnJournal {
            txn: journal::new_txn_id(),
            op: TxnOp::Put,
            names: docs.iter().map(|d| d.meta.name.clone()).collect(),
            digests: encoded.iter().map(|e| crypto::sha256_hex(e)).collect(),
            audit: audit.to_vec(),
            committed: true,
        };
        let paths: Vec<PathBuf> = docs
            .iter()
            .map(|d| self.config_path(&d.meta.name))
            .collect();
        let undo = self.keep_for_undo(&j.txn, &paths)?;
        if let Err(e) = self.write_journal(&j) {
            self.drop_undo(undo);
            return Err(e);
        }
        self.fault_point();
        let applied = (|| {
            for (path, data) in paths.iter().zip(&encoded) {
                self.put_file(path, data)?;
                self.fault_point();
            }
            self.append_audit(Some(&j.txn), audit)
        })();
        let mark = self.commit_or_undo(&j.txn, applied, undo)?;
        self.fault_point();
        let changes = docs
            .iter()
            .map(|d| (d.meta.name.clone(), Some(d.meta.clone())))
            .collect();
        self.finish_write(txn, changes, mark);
        Ok(())
    }

    /// Before a write replaces or removes config files: a hard link to each
    /// one that exists, in `tmp/` (no data is copied, so this works on a
    /// full disk; the sweep of `tmp/` removes what a killed writer left).
    fn keep_for_undo(&self, txn: &str, paths: &[PathBuf]) -> anyhow::Result<Undo> {
        let tmp = self.root.join(TMP_DIR);
        fsutil::ensure_private_dir(&tmp).map_err(|e| write_error(&tmp, e))?;
        let mut undo = Undo {
            kept: vec![],
            usable: true,
        };
        for (i, p) in paths.iter().enumerate() {
            let link = tmp.join(format!("{}undo-{txn}-{i}", fsutil::TMP_PREFIX));
            match fs::hard_link(p, &link) {
                Ok(()) => undo.kept.push((p.clone(), Some(link))),
                Err(e) if e.kind() == ErrorKind::NotFound => undo.kept.push((p.clone(), None)),
                Err(_) => undo.usable = false,
            }
        }
        Ok(undo)
    }

    fn drop_undo(&self, undo: Undo) {
        for link in undo.kept.into_iter().filter_map(|(_, l)| l) {
            let _ = fs::remove_file(link);
        }
    }

    /// The commit point of a write is its audit records: once they are in
    /// the trail the change is done (and reported so), whatever happens to
    /// the index after. A write that failed before (a full disk) is undone
    /// here, so the next command never completes a change that was
    /// reported as failed (docs/ARCHITECTURE.md, "Transactions and the
    /// lock").
    fn commit_or_undo(
        &self,
        txn: &str,
        applied: anyhow::Result<Option<AuditMark>>,
        undo: Undo,
    ) -> anyhow::Result<Option<AuditMark>> {
        match applied {
            Ok(mark) => {
                self.drop_undo(undo);
                Ok(mark)
            }
            // The records reached the trail before the error: committed.
            Err(_) if audit::has_txn(&self.root, txn).unwrap_or(false) => {
                self.drop_undo(undo);
                Ok(None)
            }
            Err(e) if !undo.usable => {
                self.drop_undo(undo);
                Err(e)
            }
            Err(e) => {
                let mut restored = true;
                for (path, link) in &undo.kept {
                    let r = match link {
                        Some(l) => path
                            .parent()
                            .map_or(Ok(()), fsutil::create_dirs)
                            .and_then(|()| fs::rename(l, path)),
                        None => {
                            match fsutil::remove_and_prune(path, &self.root.join(CONFIGS_DIR)) {
                                Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
                                r => r,
                            }
                        }
                    };
                    restored &= r.is_ok();
                }
                if restored {
                    // Files as they were: a journal left behind would
                    // change nothing either (its digests no longer match).
                    let _ = self.end_journal();
                    let _ = fsutil::sync_dir(&self.root);
                }
                Err(e.context(
                    "nothing was changed: the write failed before it was recorded, and was undone",
                ))
            }
        }
    }

    /// After the commit point: the index follows, then the journal goes.
    /// The index is derived data: when it cannot be written (a full disk)
    /// the journal stays and the next command brings the index up to date;
    /// the change itself is done.
    fn finish_write(
        &self,
        txn: &Txn,
        changes: BTreeMap<String, Option<Meta>>,
        mark: Option<AuditMark>,
    ) {
        if self.apply_index(txn, changes, mark).is_ok() {
            self.fault_point();
            let _ = self.end_journal();
        }
    }

    /// A member may replace or remove only configs of scopes it holds: a
    /// config of a group it is not in (it cannot read it) is the group's
    /// and the admin's. A damaged config may be replaced by anyone who may
    /// write.
    fn may_replace(&self, name: &str) -> anyhow::Result<()> {
        if self.role() == Role::Admin {
            return Ok(());
        }
        match self.read_once(name) {
            Err(e) if crate::error::classify(&e).0 == Exit::NoKey => Err(no_key(format!(
                "'{name}' belongs to a group this key is not in; only the group's members or the store's admin can replace or remove it"
            ))
            .into()),
            _ => Ok(()),
        }
    }

    fn write_journal(&self, j: &TxnJournal) -> anyhow::Result<()> {
        let (key, id) = {
            let st = self.state.lock().unwrap();
            (st.keys.journal_key(), st.header.id.clone())
        };
        self.put_file(&self.txn_journal_path(), &j.seal(&key, &id))
    }

    fn end_journal(&self) -> anyhow::Result<()> {
        fs::remove_file(self.txn_journal_path()).context("cannot clear the store journal")?;
        Ok(())
    }

    /// Reads, changes and saves one config as one step under the writer
    /// lock, so concurrent updates do not lose each other's work. `change`
    /// returns the audit record of the change, or `None` to leave the
    /// config as it was. Returns the config as it stands afterwards.
    pub fn update_if(
        &self,
        name: &str,
        change: impl FnOnce(&mut ConfigDoc) -> anyhow::Result<Option<AuditIntent>>,
    ) -> anyhow::Result<ConfigDoc> {
        let txn = self.begin(&format!("updating {name}"))?;
        let mut doc = self.read(name)?;
        let Some(intent) = change(&mut doc)? else {
            return Ok(doc);
        };
        doc.meta.updated = crate::model::now();
        self.put_locked(
            &txn,
            std::slice::from_ref(&doc),
            WriteMode::Upsert,
            &[intent],
        )?;
        Ok(doc)
    }

    /// Removes configs (no decryption needed: a damaged config can go).
    pub fn remove(&self, names: &[String], audit: &[AuditIntent]) -> anyhow::Result<()> {
        for n in names {
            validate_name(n)?;
        }
        let txn = self.begin(&format!("removing {}", names.join(", ")))?;
        self.may_write()?;
        for n in names {
            if !self.exists(n) {
                return Err(self.not_found(n).into());
            }
            self.may_replace(n)?;
        }
        let j = TxnJournal {
            txn: journal::new_txn_id(),
            op: TxnOp::Delete,
            names: names.to_vec(),
            digests: vec![],
            audit: audit.to_vec(),
            committed: true,
        };
        let paths: Vec<PathBuf> = names.iter().map(|n| self.config_path(n)).collect();
        let undo = self.keep_for_undo(&j.txn, &paths)?;
        if let Err(e) = self.write_journal(&j) {
            self.drop_undo(undo);
            return Err(e);
        }
        self.fault_point();
        let applied = (|| {
            for (n, path) in names.iter().zip(&paths) {
                fsutil::remove_and_prune(path, &self.root.join(CONFIGS_DIR))
                    .map_err(|e| write_error(path, e))?;
                let _ = fs::remove_file(self.used_marker(n));
                self.fault_point();
            }
            self.append_audit(Some(&j.txn), audit)
        })();
        let mark = self.commit_or_undo(&j.txn, applied, undo)?;
        if self
            .apply_index(
                &txn,
                names.iter().map(|n| (n.clone(), None)).collect(),
                mark,
            )
            .is_ok()
        {
            self.fault_point();
            let _ = self.end_journal();
        }
        Ok(())
    }

    /// Imports configs all or nothing: each is encrypted to a staging
    /// directory, flushed once, the journal marked committed, then moved
    /// into place. A kill before the commit leaves the store as it was; a
    /// kill after it is completed by the next writer. `docs` is consumed as
    /// it is produced (an import of 50,000 configs does not sit in memory).
    pub fn import(
        &self,
        docs: &mut dyn Iterator<Item = anyhow::Result<ConfigDoc>>,
        force: bool,
        audit_for: &dyn Fn(&Meta) -> AuditIntent,
        progress: &dyn Fn(usize),
    ) -> anyhow::Result<usize> {
        let txn = self.begin("importing configs")?;
        self.may_write()?;
        let id = journal::new_txn_id();
        fsutil::ensure_private_dir(&self.root.join(STAGING_DIR))
            .map_err(|e| write_error(&self.root.join(STAGING_DIR), e))?;
        let staging = self.root.join(STAGING_DIR).join(&id);
        let mut j = TxnJournal {
            txn: id.clone(),
            op: TxnOp::Import,
            names: vec![],
            digests: vec![],
            audit: vec![],
            committed: false,
        };
        self.write_journal(&j)?;
        fsutil::create_dirs(&staging)?;
        let versions: Mutex<Vec<(String, u64)>> = Mutex::new(vec![]);
        let result = (|| -> anyhow::Result<Vec<Meta>> {
            let mut metas = vec![];
            let mut seen = BTreeSet::new();
            let (work_tx, work_rx) = std::sync::mpsc::sync_channel::<(usize, ConfigDoc)>(256);
            let work_rx = Mutex::new(work_rx);
            let failed: Mutex<Option<anyhow::Error>> = Mutex::new(None);
            std::thread::scope(|s| -> anyhow::Result<()> {
                for _ in 0..2 {
                    s.spawn(|| loop {
                        let next = work_rx.lock().unwrap().recv();
                        let Ok((i, doc)) = next else { break };
                        let r = self.encode(&doc).and_then(|data| {
                            let p = staging.join(format!("{i}.age"));
                            fsutil::write_atomic_via(&self.root.join(TMP_DIR), &p, &data, false)
                                .with_context(|| format!("cannot write {}", p.display()))
                        });
                        if let Err(e) = r {
                            failed.lock().unwrap().get_or_insert(e);
                        }
                    });
                }
                let mut produce = || -> anyhow::Result<()> {
                    for (i, d) in docs.enumerate() {
                        let d = d?;
                        validate_name(&d.meta.name)?;
                        if !seen.insert(d.meta.name.clone()) {
                            return Err(usage(format!(
                                "'{}' appears twice in the input",
                                d.meta.name
                            ))
                            .into());
                        }
                        if !force && self.exists(&d.meta.name) {
                            return Err(usage(format!(
                                "a config named '{}' already exists; nothing was imported",
                                d.meta.name
                            ))
                            .hint("pass --force to replace existing configs, or --prefix to import under a group")
                            .into());
                        }
                        if let Some(e) = failed.lock().unwrap().take() {
                            return Err(e);
                        }
                        // A replaced config's version goes on from the
                        // one it replaces (docs/SECURITY.md, "Rollback").
                        let d = if self.exists(&d.meta.name) {
                            self.versioned(&d)?
                        } else {
                            d
                        };
                        versions
                            .lock()
                            .unwrap()
                            .push((d.meta.name.clone(), d.version));
                        metas.push(d.meta.clone());
                        if i % 1000 == 999 {
                            progress(i + 1);
                        }
                        work_tx
                            .send((i, d))
                            .map_err(|_| failure("the import's writer threads stopped"))?;
                    }
                    Ok(())
                };
                let r = produce();
                drop(work_tx);
                r
            })?;
            if let Some(e) = failed.into_inner().unwrap() {
                return Err(e);
            }
            Ok(metas)
        })();
        let metas = match result {
            Ok(m) => m,
            Err(e) => {
                let _ = fs::remove_dir_all(&staging);
                let _ = fs::remove_file(self.txn_journal_path());
                return Err(e);
            }
        };
        // Durable before the commit: one flush for every staged file.
        fsutil::sync_fs(&staging).context("cannot flush the staged configs")?;
        self.fault_point();
        // The directories the configs go to, before the commit (creating
        // one needs space; after the commit only renames remain).
        let uncommitted = |e: anyhow::Error| {
            let _ = fs::remove_dir_all(&staging);
            let _ = fs::remove_file(self.txn_journal_path());
            e
        };
        for m in &metas {
            let dest = self.config_path(&m.name);
            fsutil::check_dirs(&self.root, &dest)
                .and_then(|()| fsutil::create_dirs(dest.parent().unwrap()))
                .map_err(|e| uncommitted(write_error(&dest, e)))?;
        }
        j.names = metas.iter().map(|m| m.name.clone()).collect();
        let versions = versions.into_inner().unwrap();
        j.audit = with_versions(
            &metas.iter().map(audit_for).collect::<Vec<_>>(),
            &versions.iter().map(|(n, v)| (n.as_str(), *v)).collect(),
        );
        j.committed = true;
        self.write_journal(&j).map_err(uncommitted)?;
        self.fault_point();
        for (i, m) in metas.iter().enumerate() {
            let dest = self.config_path(&m.name);
            fs::rename(staging.join(format!("{i}.age")), &dest)?;
            if i % 97 == 0 {
                self.fault_point();
            }
        }
        fsutil::sync_fs(&self.root)?;
        let n = metas.len();
        // Committed and in place: the import is done. Audit records or an
        // index that cannot be written now (a full disk) are left with the
        // journal for the next command, which appends and writes them; the
        // import is not reported as failed (nor undone later).
        let Ok(mark) = self.append_audit(Some(&j.txn), &j.audit) else {
            return Ok(n);
        };
        self.fault_point();
        let changes = metas
            .into_iter()
            .map(|m| (m.name.clone(), Some(m)))
            .collect();
        if self.apply_index(&txn, changes, mark).is_ok() {
            let _ = fs::remove_dir_all(&staging);
            let _ = self.end_journal();
        }
        Ok(n)
    }

    // ---- index --------------------------------------------------------

    /// Applies changes to the shards they fall in and writes the head.
    fn apply_index(
        &self,
        txn: &Txn,
        changes: BTreeMap<String, Option<Meta>>,
        mark: Option<AuditMark>,
    ) -> anyhow::Result<()> {
        let files = self.index_files();
        let Ok(head) = files.read_head() else {
            self.rebuild_index(txn)?;
            return Ok(());
        };
        let mut by_shard: BTreeMap<String, Vec<(String, Option<Meta>)>> = BTreeMap::new();
        for (n, m) in changes {
            by_shard
                .entry(index::shard_of(&n))
                .or_default()
                .push((n, m));
        }
        let mut shards = BTreeMap::new();
        for (s, items) in by_shard {
            let mut shard = match files.read_shard(&head, &s) {
                Ok(sh) => sh,
                Err(_) => self.rebuild_shard(&s)?,
            };
            for (n, m) in items {
                match m {
                    Some(m) => shard.configs.insert(n, m),
                    None => shard.configs.remove(&n),
                };
            }
            shards.insert(s, shard);
        }
        self.write_index(txn, &head.shards, shards, mark.or(head.audit))
    }

    /// Writes shards and the head that lists them.
    fn write_index(
        &self,
        _txn: &Txn,
        existing: &BTreeMap<String, String>,
        shards: BTreeMap<String, Shard>,
        mark: Option<AuditMark>,
    ) -> anyhow::Result<()> {
        let files = self.index_files();
        let mut head = Head {
            shards: existing.clone(),
            audit: mark,
        };
        for (name, shard) in shards {
            if shard.configs.is_empty() {
                head.shards.remove(&name);
                let _ = fs::remove_file(files.shard_path(&name));
                continue;
            }
            let (bytes, digest) = files.seal_shard(&name, &shard);
            self.put_file(&files.shard_path(&name), &bytes)?;
            head.shards.insert(name, digest);
        }
        self.put_file(&files.head_path(), &files.seal_head(&head))
    }

    fn rebuild_shard(&self, shard: &str) -> anyhow::Result<Shard> {
        let mut out = Shard::default();
        for n in self.scan_names()? {
            if index::shard_of(&n) == shard {
                if let Ok(doc) = self.read(&n) {
                    out.configs.insert(n, doc.meta);
                }
            }
        }
        Ok(out)
    }

    /// Decrypts every config file to rebuild the whole index. Unreadable
    /// files are left out of it (and named by `doctor`), not fatal.
    pub fn rebuild_index(&self, txn: &Txn) -> anyhow::Result<BTreeMap<String, Meta>> {
        let mut shards: BTreeMap<String, Shard> = BTreeMap::new();
        let mut all = BTreeMap::new();
        for n in self.scan_names()? {
            if let Ok(doc) = self.read(&n) {
                shards
                    .entry(index::shard_of(&n))
                    .or_default()
                    .configs
                    .insert(n.clone(), doc.meta.clone());
                all.insert(n, doc.meta);
            }
        }
        let mark = self.index_mark();
        let _ = fs::remove_dir_all(self.root.join(index::INDEX_DIR));
        fsutil::create_dirs(&self.root.join(index::INDEX_DIR))?;
        self.write_index(txn, &BTreeMap::new(), shards, mark)?;
        Ok(all)
    }

    /// The audit mark of the last write, from the index head.
    pub fn index_mark(&self) -> Option<AuditMark> {
        self.index_files().read_head().ok().and_then(|h| h.audit)
    }

    /// Checks the audit trail, after cutting off a torn record a write cut
    /// short left at its end (noted in the trail; a read-only store is
    /// checked as it is, and the torn record reported).
    pub fn verify_audit(&self) -> anyhow::Result<audit::Verification> {
        let keys = self.keys();
        let _ = audit::repair(
            &self.root,
            &keys,
            &self.opts.actor,
            &self.opts.audit_retention,
        );
        let index_mark = self.index_mark();
        let anchored = self.anchored_audit();
        let mut expected = vec![];
        if let Some(m) = &index_mark {
            expected.push(audit::Expected {
                mark: m,
                missing: format!(
                    "the index records change {} of the trail, which is not there: records were cut off or replaced",
                    m.seq
                ),
            });
        }
        if let Some(m) = &anchored {
            expected.push(audit::Expected {
                mark: m,
                missing: format!(
                    "this key saw record {} of the trail, which is not there any more: the trail was cut, wiped or replaced",
                    m.seq
                ),
            });
        }
        let mut v = audit::verify(&self.root, &keys, &expected)
            .map_err(|e| read_error(&audit::path(&self.root), e))?;
        // Rollback of one config file (docs/SECURITY.md, "Rollback"): an
        // older authentic copy opens and authenticates, but its version is
        // below the one the trail (keyed, anchored) says was written last.
        for (name, (seq, version)) in &v.versions {
            if !self.exists(name) {
                continue;
            }
            if let Ok(doc) = self.read(name) {
                if doc.version < *version {
                    v.problems.push(format!(
                        "'{name}' is version {} but version {version} was written (seq {seq}): an older copy of {} was put back",
                        doc.version,
                        self.config_path(name).display()
                    ));
                }
            }
        }
        Ok(v)
    }

    /// Moves failed unlock attempts noted without a key into the trail.
    pub fn fold_failed_access(&self) {
        let _ = audit::fold_failed_access(
            &self.root,
            &self.keys(),
            &self.opts.actor,
            &self.opts.audit_retention,
        );
    }

    // ---- last use -----------------------------------------------------

    fn used_marker(&self, name: &str) -> PathBuf {
        self.root.join("used").join(Self::used_key(name))
    }

    /// Who uses which config (`store::usage`): the log, under this
    /// store's usage key. Hand-outs append to it without the writer lock.
    pub fn usage(&self) -> usage::UsageLog {
        let st = self.state.lock().unwrap();
        usage::UsageLog::new(&self.root, st.keys.usage_key(), &st.header.id)
    }

    /// Last use from the markers of earlier versions (`used/`), which
    /// `usage.log` replaced; still read so that no last use is lost.
    pub fn last_used(&self, name: &str) -> Option<SystemTime> {
        fs::symlink_metadata(self.used_marker(name))
            .and_then(|m| m.modified())
            .ok()
    }

    /// Last use of every config that has one: one directory read, and a stat
    /// only for the markers that exist.
    pub fn last_used_all(&self) -> std::collections::HashMap<String, SystemTime> {
        let mut out = std::collections::HashMap::new();
        if let Ok(entries) = fs::read_dir(self.root.join("used")) {
            for e in entries.flatten() {
                if let Ok(t) = e.metadata().and_then(|m| m.modified()) {
                    out.insert(e.file_name().to_string_lossy().into_owned(), t);
                }
            }
        }
        out
    }

    /// The marker key `last_used_all` returns for a name.
    pub fn used_key(name: &str) -> String {
        use sha2::{Digest, Sha256};
        hex::encode(&Sha256::digest(name.as_bytes())[..12])
    }

    // ---- whole-store operations (admin) -------------------------------

    /// Before a whole-store change writes its journal: every config must
    /// open and authenticate, or the change would stop half way. Returns
    /// the configs' groups.
    pub fn check_all_readable(&self, _txn: &Txn) -> anyhow::Result<BTreeSet<String>> {
        let mut bad = vec![];
        let mut groups = BTreeSet::new();
        for n in self.scan_names()? {
            match self.read(&n) {
                Ok(d) => groups.extend(d.meta.group),
                Err(e) => bad.push(format!("'{n}': {e}")),
            }
        }
        if !bad.is_empty() {
            return Err(failure(format!(
                "{} config(s) cannot be re-encrypted, so nothing was changed: {}",
                bad.len(),
                bad.join("; ")
            ))
            .hint("remove them (`authcfg remove NAME`) or restore them from a backup, then run the command again")
            .into());
        }
        Ok(groups)
    }

    /// Writes a signed admin journal (the intent of a whole-store change).
    pub fn write_admin_journal(&self, _txn: &Txn, j: &AdminJournal) -> anyhow::Result<()> {
        self.put_file(&self.root.join(journal::ADMIN_JOURNAL_FILE), &j.to_bytes())?;
        let mut st = self.state.lock().unwrap();
        let ids: Vec<&x25519::Identity> = st.ids.iter().collect();
        let keys = StoreKeys::unseal(&j.target, &ids).unwrap_or_default();
        st.pending = Some((j.clone(), keys));
        Ok(())
    }

    /// Adds an identity to decrypt with (the other key of a master-key
    /// rotation under way).
    pub fn add_identity(&self, id: x25519::Identity) {
        let mut st = self.state.lock().unwrap();
        let public = id.to_public().to_string();
        if !st.ids.iter().any(|i| i.to_public().to_string() == public) {
            st.ids.push(id);
        }
        // The target of an operation under way may be sealed to it.
        if let Some((j, _)) = &st.pending {
            let ids: Vec<&x25519::Identity> = st.ids.iter().collect();
            let keys = StoreKeys::unseal(&j.target, &ids).unwrap_or_default();
            let j = j.clone();
            st.pending = Some((j, keys));
        }
    }

    /// Re-encrypts every config to `target`'s recipients and re-MACs it
    /// under `target_keys`, and rebuilds the index under them. Each file is
    /// replaced atomically: an interruption leaves every file readable with
    /// the old or the new keys, which the admin journal holds both of.
    pub fn reencrypt_all(
        &self,
        txn: &Txn,
        target: &Header,
        target_keys: &StoreKeys,
        progress: &dyn Fn(usize, usize),
    ) -> anyhow::Result<usize> {
        let names = self.scan_names()?;
        let total = names.len();
        let target_store = Store::from_state(
            &self.root,
            State {
                header: target.clone(),
                keys: target_keys.clone(),
                ids: self.state.lock().unwrap().ids.clone(),
                role: Role::Admin,
                pending: None,
                forged: None,
                stale: false,
            },
            self.opts.clone(),
        );
        let mut shards: BTreeMap<String, Shard> = BTreeMap::new();
        for (i, n) in names.iter().enumerate() {
            let doc = self
                .read(n)
                .or_else(|_| target_store.read(n))
                .or_else(|e| self.read_legacy(n).map_err(|_| e))
                .with_context(|| format!("cannot re-encrypt '{n}'"))?;
            let data = target_store.encode(&doc)?;
            fsutil::write_atomic_via(&self.root.join(TMP_DIR), &self.config_path(n), &data, false)?;
            shards
                .entry(index::shard_of(n))
                .or_default()
                .configs
                .insert(n.clone(), doc.meta);
            self.fault_point();
            if i % 100 == 99 {
                progress(i + 1, total);
            }
        }
        progress(total, total);
        fsutil::sync_fs(&self.root)?;
        let _ = fs::remove_dir_all(self.root.join(index::INDEX_DIR));
        fsutil::create_dirs(&self.root.join(index::INDEX_DIR))?;
        target_store.write_index(txn, &BTreeMap::new(), shards, None)?;
        // Usage records follow the new keys (store::usage; informative, so
        // a failure does not stop the change).
        let _ = target_store.usage().reseal(&[self.keys().usage_key()]);
        Ok(total)
    }

    /// A format-1 config (no MAC), during the upgrade only.
    fn read_legacy(&self, name: &str) -> anyhow::Result<ConfigDoc> {
        let pending_upgrade = self
            .pending_admin()
            .is_some_and(|j| j.op == AdminOp::Upgrade);
        if !pending_upgrade {
            return Err(failure("not upgrading").into());
        }
        let path = self.config_path(name);
        let bytes = fsutil::read_private(&path)
            .map_err(|e| read_error(&path, e))?
            .ok_or_else(|| self.not_found(name))?;
        let ids: Vec<x25519::Identity> = self.state.lock().unwrap().ids.clone();
        let refs: Vec<&x25519::Identity> = ids.iter().collect();
        let plain = zeroize::Zeroizing::new(
            crypt::decrypt_any(&refs, &bytes).map_err(|e| damaged(&path, &e))?,
        );
        let doc = parse_doc(&path, &plain)?;
        if doc.meta.name != name {
            return Err(failure(format!(
                "{} holds the config '{}', not '{name}': the file was moved or swapped",
                path.display(),
                doc.meta.name
            ))
            .into());
        }
        Ok(doc)
    }

    /// Ends an admin operation: the target header replaces the old one,
    /// the journal goes, the in-memory state follows.
    pub fn finish_admin(&self, _txn: &Txn, target: &Header, keys: StoreKeys) -> anyhow::Result<()> {
        self.put_file(&self.root.join(HEADER_FILE), target.to_toml().as_bytes())?;
        self.fault_point();
        {
            let mut st = self.state.lock().unwrap();
            st.header = target.clone();
            st.keys = keys;
            st.pending = None;
        }
        self.note_header();
        fs::remove_file(self.root.join(journal::ADMIN_JOURNAL_FILE))
            .context("cannot remove the admin journal")?;
        fsutil::sync_dir(&self.root)?;
        Ok(())
    }

    /// The store keys in use (for admin operations that rotate them).
    pub fn store_keys(&self) -> StoreKeys {
        self.keys()
    }

    /// Sets the state after an admin operation changed the key in use.
    pub fn set_identity(&self, id: x25519::Identity) {
        let before = self.anchor().as_ref().as_ref().and_then(|a| a.read());
        {
            let mut st = self.state.lock().unwrap();
            st.ids
                .retain(|i| i.to_public().to_string() != id.to_public().to_string());
            st.ids.insert(0, id);
        }
        *self.anchor_cache.lock().unwrap() = None;
        // The anchor follows the key: what the old key saw carries over.
        if let (Some(seen), Some(a)) = (before, self.anchor().as_ref()) {
            let _ = a.write(&anchor::Seen {
                verified: None,
                ..seen
            });
        }
        self.note_header();
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

fn verify_state(
    root: &Path,
    header: Header,
    k0: &x25519::Identity,
    trust: Trust,
) -> anyhow::Result<State> {
    let hpath = root.join(HEADER_FILE);
    let jpath = root.join(journal::ADMIN_JOURNAL_FILE);
    let mut refused: Option<UserError> = None;
    let mut journal = match fsutil::read_private(&jpath) {
        Ok(Some(b)) => match AdminJournal::parse(&b) {
            Some(j) => Some(j),
            None => {
                refused = Some(forged(&jpath, "is not a valid admin journal"));
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            let msg = read_error(&jpath, e);
            let (_, hint) = crate::error::classify(&msg);
            refused = Some(failure(msg.to_string()).hint(hint.unwrap_or_default()));
            None
        }
    };
    let a0 = AdminKey::from_identity(k0).public();
    let mut ids = vec![k0.clone()];
    // The admin key that may have written the journal: the header's, or
    // the one the header's newest endorsement came from (when the header
    // already is the journal's target).
    let journal_admins = |h: &Header| -> Vec<AdminPub> {
        let mut v: Vec<AdminPub> = h.admin_pub().into_iter().collect();
        if let Some(e) = h.admin_history.last() {
            if e.next == h.admin_key && e.valid(&h.id) {
                v.extend(AdminPub::parse(&e.previous));
            }
        }
        v
    };
    // An admin journal is acted on only when it is the current step of a
    // change: started from exactly this header (by its admin key) and
    // leading to the next generation, or already written (the header is its
    // target) and being cleaned up. Anything else is a replay of an earlier
    // journal (stale) or forged.
    let check_journal = |j: &AdminJournal, h: &Header| -> anyhow::Result<bool> {
        let signer = j
            .signed()
            .ok_or_else(|| forged(&jpath, "carries no valid signature"))?;
        if j.target.id != h.id {
            return Err(forged(&jpath, "belongs to another store").into());
        }
        let target_admin = j
            .target
            .admin_pub()
            .filter(|p| j.target.signed_by(p))
            .ok_or_else(|| forged(&jpath, "leads to a header that is not signed"))?;
        let finishing = j.target == *h;
        if finishing {
            if !journal_admins(h).contains(&signer) {
                return Err(forged(
                    &jpath,
                    "is signed by a key that is not this store's admin key",
                )
                .into());
            }
        } else {
            if h.admin_pub() != Some(signer) {
                return Err(forged(
                    &jpath,
                    "is signed by a key that is not this store's admin key",
                )
                .into());
            }
            if j.op == AdminOp::Upgrade
                || j.base != h.signature
                || j.target.generation != h.generation + 1
            {
                return Ok(false);
            }
        }
        if target_admin != signer {
            // Only a master-key rotation changes the admin key, and the old
            // key endorses the new one in the target header.
            let endorsed = j.op == AdminOp::MasterKey
                && j.target.admin_history.last().is_some_and(|e| {
                    e.valid(&h.id)
                        && e.previous == signer.encode()
                        && e.next == target_admin.encode()
                });
            if !endorsed {
                return Err(forged(&jpath, "changes the admin key without an endorsement").into());
            }
        }
        Ok(true)
    };
    // The identities a verified rotation journal holds must be the ones its
    // headers name: the new key derives the target's admin key, the old one
    // the admin key that signed the journal.
    let rotation_ids = |j: &AdminJournal, with: &x25519::Identity| -> Vec<x25519::Identity> {
        let mut out = vec![];
        let (Some(signer), Some(target_admin)) = (j.signed(), j.target.admin_pub()) else {
            return out;
        };
        if let Some(n) = open_identity(j.new_identity.as_deref(), with) {
            if AdminKey::from_identity(&n).public() == target_admin {
                out.push(n);
            }
        }
        if let Some(o) = open_identity(j.old_identity.as_deref(), with) {
            if AdminKey::from_identity(&o).public() == signer {
                out.push(o);
            }
        }
        out
    };
    let mut stale = false;
    let role;
    if header.signed_by(&a0) {
        role = Role::Admin;
        if let Some(j) = journal.take() {
            match check_journal(&j, &header) {
                Ok(true) => journal = Some(j),
                Ok(false) => stale = true,
                Err(e) => refused = Some(as_user_error(e)),
            }
        }
        if let Some(j) = journal.as_ref().filter(|j| j.op == AdminOp::MasterKey) {
            for other in rotation_ids(j, k0) {
                if other.to_public().to_string() != k0.to_public().to_string() {
                    ids.push(other);
                }
            }
        }
    } else if let Some(j) = journal
        .as_ref()
        .filter(|j| j.op == AdminOp::MasterKey && j.target.signed_by(&a0))
    {
        // A master-key rotation whose new key (ours) is already in the key
        // source while the header is still the old key's.
        let e = j
            .target
            .admin_history
            .last()
            .filter(|e| e.valid(&header.id) && e.next == a0.encode())
            .ok_or_else(|| forged(&jpath, "names this key without an endorsement"))?;
        AdminPub::parse(&e.previous)
            .filter(|p| header.signed_by(p))
            .ok_or_else(|| forged(&hpath, "is not signed by the key the rotation started from"))?;
        if !check_journal(j, &header)? {
            return Err(forged(&jpath, "is not the current step of a rotation").into());
        }
        let o = rotation_ids(j, k0)
            .into_iter()
            .find(|o| o.to_public().to_string() != k0.to_public().to_string())
            .ok_or_else(|| forged(&jpath, "holds no old key for this key"))?;
        ids.push(o);
        role = Role::Admin;
    } else if let Some((j, n)) = journal
        .as_ref()
        .filter(|j| j.op == AdminOp::MasterKey && j.target == header && j.signed() == Some(a0))
        .and_then(|j| {
            let admin = header.admin_pub()?;
            let n = rotation_ids(j, k0)
                .into_iter()
                .find(|n| AdminKey::from_identity(n).public() == admin)?;
            Some((j, n))
        })
    {
        // The old key of a rotation that replaced the header and was cut
        // short before removing its journal: the journal (signed by this
        // key) holds the new key, which derives the header's admin key.
        if !check_journal(j, &header)? {
            return Err(forged(&jpath, "is not the current step of a rotation").into());
        }
        ids.push(n);
        role = Role::Admin;
    } else if header.admin_key == a0.encode()
        || header
            .master()
            .is_some_and(|m| m.public_key == k0.to_public().to_string())
    {
        // This key is the store's master key, and the header is not signed
        // by it: edited by hand, or re-signed by someone else.
        return Err(forged(
            &hpath,
            "has a signature that does not verify with this store's admin key (the master key in use)",
        )
        .into());
    } else {
        // A member: the admin key it pinned, followed through endorsements.
        let pinned = pins::pinned(root, &header.id, k0);
        let admin = header
            .admin_pub()
            .ok_or_else(|| forged(&hpath, "names no valid admin key"))?;
        match pinned {
            Some(p) if p == admin => {}
            Some(p) => {
                let mut cur = p.encode();
                for e in &header.admin_history {
                    if e.previous == cur && e.valid(&header.id) {
                        cur = e.next.clone();
                    }
                }
                if cur != header.admin_key {
                    return Err(forged(
                        &hpath,
                        &format!(
                            "is signed by an admin key ({}) that is not the one you trusted ({})",
                            admin.fingerprint(),
                            p.fingerprint()
                        ),
                    )
                    .into());
                }
            }
            None => {
                let fp = admin.fingerprint();
                let ok = match trust {
                    Trust::Fingerprint(given) => given.trim() == fp,
                    Trust::Ask(ask) => ask(&fp),
                    Trust::None => false,
                };
                if !ok {
                    let is_recipient = header
                        .recipients
                        .iter()
                        .any(|r| r.public_key == k0.to_public().to_string());
                    if !is_recipient {
                        return Err(not_recipient(root, k0).into());
                    }
                    return Err(no_key(format!(
                        "this key ({}) is a member of the store, which has not yet trusted its admin key {fp}",
                        short_key(&k0.to_public().to_string())
                    ))
                    .hint(format!(
                        "check the fingerprint with the store's admin, then run `authcfg trust {fp}` (or set AUTHCFG_TRUST_ADMIN={fp})"
                    ))
                    .into());
                }
            }
        }
        if !header.signed_by(&admin) {
            return Err(forged(&hpath, "has a signature that does not verify").into());
        }
        if pinned != Some(admin) {
            pins::pin(root, &header.id, k0, &admin).map_err(|e| write_error(root, e))?;
        }
        if let Some(j) = journal.take() {
            match check_journal(&j, &header) {
                Ok(true) => journal = Some(j),
                Ok(false) => stale = true,
                Err(e) => refused = Some(as_user_error(e)),
            }
        }
        role = Role::Member;
    }
    let id_refs: Vec<&x25519::Identity> = ids.iter().collect();
    let keys = StoreKeys::unseal(&header, &id_refs).map_err(|_| not_recipient(root, k0))?;
    let pending = match journal {
        Some(j) => {
            let tk = StoreKeys::unseal(&j.target, &id_refs).unwrap_or_default();
            Some((j, tk))
        }
        None => None,
    };
    Ok(State {
        header,
        keys,
        ids,
        role,
        pending,
        forged: refused.map(|e| (e.message, e.hint.unwrap_or_default())),
        stale,
    })
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
    crate::keys::identity::parse(std::str::from_utf8(&plain).ok()?)
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
