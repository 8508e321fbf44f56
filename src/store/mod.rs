//! The encrypted file store (DESIGN §2). It is handed an identity; it never
//! asks a keyring or a user for one.

pub mod crypt;
pub mod fsutil;
pub mod header;
pub mod index;
pub mod journal;
pub mod lock;
pub mod names;

use crate::error::{failure, no_key, not_found, usage, Exit, UserError};
use crate::model::{ConfigDoc, DOC_FORMAT};
use age::x25519;
use anyhow::Context;
use crypt::CryptError;
use header::{Header, HEADER_FILE, STORE_FORMAT};
use index::{Index, INDEX_FILE};
use journal::{Journal, JOURNAL_FILE};
use lock::WriterLock;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::SystemTime;

pub use names::validate as validate_name;

pub struct Store {
    root: PathBuf,
    header: Header,
    recipients: Vec<x25519::Recipient>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Refuse when the name exists.
    Create,
    /// Create or replace.
    Upsert,
}

impl Store {
    /// `--store`/`AUTHCFG_HOME` if given, else the platform data dir.
    pub fn locate(explicit: Option<PathBuf>) -> anyhow::Result<PathBuf> {
        if let Some(p) = explicit {
            return Ok(p);
        }
        let dirs = directories::ProjectDirs::from("", "", "authcfg").ok_or_else(|| {
            failure("cannot find a home directory for the store")
                .hint("set AUTHCFG_HOME or pass --store DIR")
        })?;
        Ok(dirs.data_dir().to_path_buf())
    }

    /// Creates the store's directories and header. Fails if one exists.
    pub fn create(root: &Path, header: Header) -> anyhow::Result<Store> {
        if root.join(HEADER_FILE).exists() {
            return Err(
                usage(format!("a store already exists at {}", root.display()))
                    .hint("use it as it is, or pick another location with --store DIR")
                    .into(),
            );
        }
        fsutil::create_dirs(root)
            .with_context(|| format!("cannot create the store directory {}", root.display()))?;
        fs::set_permissions(
            root,
            std::os::unix::fs::PermissionsExt::from_mode(fsutil::DIR_MODE),
        )?;
        fsutil::create_dirs(&root.join("configs"))?;
        let store = Store::from_header(root, header)?;
        fsutil::write_atomic(&root.join(HEADER_FILE), store.header.to_toml().as_bytes())?;
        Ok(store)
    }

    pub fn open(root: &Path) -> anyhow::Result<Store> {
        let path = root.join(HEADER_FILE);
        let text =
            match fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == ErrorKind::NotFound => return Err(UserError::new(
                    Exit::Error,
                    format!("no authcfg store at {}", root.display()),
                )
                .hint("run `authcfg init` to create one, or point AUTHCFG_HOME / --store at yours")
                .into()),
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
            };
        check_private(root)?;
        check_private(&path)?;
        let value: toml::Value = toml::from_str(&text).map_err(|e| {
            failure(format!(
                "{} is not valid TOML: {}",
                path.display(),
                e.message()
            ))
            .hint("restore it from a backup or from version control")
        })?;
        let format = value
            .get("format")
            .and_then(|v| v.as_integer())
            .unwrap_or(0);
        if format > STORE_FORMAT as i64 {
            return Err(failure(format!(
                "store format {format} is newer than this authcfg understands (format {STORE_FORMAT})"
            ))
            .hint("upgrade authcfg; the store was left untouched")
            .into());
        }
        if format < 1 {
            return Err(
                failure(format!("{} has no valid format version", path.display()))
                    .hint("restore it from a backup or from version control")
                    .into(),
            );
        }
        let header: Header = value.try_into().map_err(|e: toml::de::Error| {
            failure(format!("{} is damaged: {}", path.display(), e.message()))
                .hint("restore it from a backup or from version control")
        })?;
        Store::from_header(root, header)
    }

    fn from_header(root: &Path, header: Header) -> anyhow::Result<Store> {
        let recipients = header
            .recipients
            .iter()
            .map(|r| {
                x25519::Recipient::from_str(&r.public_key).map_err(|_| {
                    failure(format!(
                        "recipient '{}' in the store header is not an age public key",
                        r.label
                    ))
                    .hint("restore authcfg.toml from a backup or from version control")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Store {
            root: root.to_path_buf(),
            header,
            recipients,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Refuses an identity that is not one of the store's recipients, so a
    /// wrong key is named as such instead of as N undecryptable files.
    pub fn check_identity(&self, id: &x25519::Identity) -> Result<(), UserError> {
        let public = id.to_public().to_string();
        if self
            .header
            .recipients
            .iter()
            .any(|r| r.public_key == public)
        {
            Ok(())
        } else {
            Err(no_key(format!(
                "the master key in use ({}) is not a recipient of the store at {}",
                short_key(&public),
                self.root.display()
            ))
            .hint("check AUTHCFG_IDENTITY / AUTHCFG_IDENTITY_FILE, or run `authcfg doctor` to see which key source is in use"))
        }
    }

    pub fn config_path(&self, name: &str) -> PathBuf {
        self.root.join(names::rel_path(name))
    }

    pub fn exists(&self, name: &str) -> bool {
        self.config_path(name).is_file()
    }

    /// Decrypts one config, and only that one.
    pub fn read(&self, id: &x25519::Identity, name: &str) -> anyhow::Result<ConfigDoc> {
        validate_name(name)?;
        let path = self.config_path(name);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(not_found(name).into()),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        self.decode(id, name, &path, &bytes)
    }

    fn decode(
        &self,
        id: &x25519::Identity,
        name: &str,
        path: &Path,
        bytes: &[u8],
    ) -> anyhow::Result<ConfigDoc> {
        let plain = match crypt::decrypt(id, bytes) {
            Ok(p) => p,
            Err(CryptError::NoMatchingKey) => {
                let group = self
                    .load_index(id)
                    .ok()
                    .and_then(|i| i.configs.get(name).and_then(|m| m.group.clone()));
                return Err(match group {
                    Some(g) => no_key(format!(
                        "'{name}' is readable only by the group '{g}', and the key in use ({}) is not in it",
                        short_key(&id.to_public().to_string())
                    ))
                    .hint(format!("ask an admin to add your key with `authcfg recipients add KEY --label NAME --group {g}`"))
                    .into(),
                    None => damaged(path, &CryptError::NoMatchingKey),
                });
            }
            Err(e) => return Err(damaged(path, &e)),
        };
        let text = zeroize::Zeroizing::new(String::from_utf8(plain).map_err(|_| {
            failure(format!(
                "{} decrypted to something that is not text",
                path.display()
            ))
        })?);
        let value: toml::Value = toml::from_str(&text).map_err(|_| {
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
        let doc: ConfigDoc = value.try_into().map_err(|_| {
            failure(format!(
                "{} does not hold a valid config document",
                path.display()
            ))
            .hint("restore the file from a backup or version control")
        })?;
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

    /// The recipients a config of `group` is encrypted to: the master key
    /// and the group's members, or everyone for configs without a group.
    pub fn recipients_for(&self, group: Option<&str>) -> Vec<x25519::Recipient> {
        self.header
            .recipients
            .iter()
            .zip(&self.recipients)
            .filter(|(r, _)| match group {
                None => true,
                Some(g) => r.label == "master" || r.groups.iter().any(|x| x == g),
            })
            .map(|(_, k)| k.clone())
            .collect()
    }

    fn encode(&self, doc: &ConfigDoc) -> anyhow::Result<Vec<u8>> {
        let text = zeroize::Zeroizing::new(toml::to_string(doc).context("serializing config")?);
        crypt::encrypt(
            &self.recipients_for(doc.meta.group.as_deref()),
            text.as_bytes(),
        )
        .map_err(|e| failure(e.to_string()).into())
    }

    /// Saves a config and its index entry under the writer lock.
    pub fn write(
        &self,
        id: &x25519::Identity,
        doc: &ConfigDoc,
        mode: WriteMode,
    ) -> anyhow::Result<()> {
        self.write_many(id, std::slice::from_ref(doc), mode)
    }

    /// Saves several configs with one lock, one journal and one index update
    /// (imports of thousands of configs stay linear).
    pub fn write_many(
        &self,
        id: &x25519::Identity,
        docs: &[ConfigDoc],
        mode: WriteMode,
    ) -> anyhow::Result<()> {
        let names: Vec<String> = docs.iter().map(|d| d.meta.name.clone()).collect();
        for n in &names {
            validate_name(n)?;
        }
        let _lock = self.lock()?;
        self.recover_locked(id)?;
        if mode == WriteMode::Create {
            if let Some(n) = names.iter().find(|n| self.exists(n)) {
                return Err(UserError::new(
                    Exit::Usage,
                    format!("a config named '{n}' already exists"),
                )
                .hint("choose another --name, or pass --force to replace it")
                .into());
            }
        }
        let encoded = docs
            .iter()
            .map(|d| self.encode(d))
            .collect::<anyhow::Result<Vec<_>>>()?;
        self.journal_begin("put", &names)?;
        for (name, data) in names.iter().zip(&encoded) {
            let path = self.config_path(name);
            fsutil::write_atomic(&path, data)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        let mut index = self.load_index(id)?;
        for d in docs {
            index.configs.insert(d.meta.name.clone(), d.meta.clone());
        }
        self.save_index(&index)?;
        self.journal_end()
    }

    /// Reads, changes and saves one config as one step under the writer lock,
    /// so concurrent updates of the same config do not lose each other's work.
    pub fn update<T>(
        &self,
        id: &x25519::Identity,
        name: &str,
        change: impl FnOnce(&mut ConfigDoc) -> anyhow::Result<T>,
    ) -> anyhow::Result<T> {
        let mut out = None;
        self.update_if(id, name, |doc| {
            out = Some(change(doc)?);
            Ok(true)
        })?;
        Ok(out.expect("set by the closure"))
    }

    /// Like `update`, but writes only when `change` returns true; returns the
    /// config as it stands afterwards. Holding the writer lock across
    /// `change` makes concurrent callers (e.g. token refreshes in 20
    /// processes) run it one at a time on the latest state.
    pub fn update_if(
        &self,
        id: &x25519::Identity,
        name: &str,
        change: impl FnOnce(&mut ConfigDoc) -> anyhow::Result<bool>,
    ) -> anyhow::Result<ConfigDoc> {
        let _lock = self.lock()?;
        self.recover_locked(id)?;
        let mut doc = self.read(id, name)?;
        if !change(&mut doc)? {
            return Ok(doc);
        }
        doc.meta.updated = crate::model::now();
        let data = self.encode(&doc)?;
        self.journal_begin("put", &[name.to_string()])?;
        fsutil::write_atomic(&self.config_path(name), &data)?;
        let mut index = self.load_index(id)?;
        index.configs.insert(name.to_string(), doc.meta.clone());
        self.save_index(&index)?;
        self.journal_end()?;
        Ok(doc)
    }

    pub fn remove(&self, id: &x25519::Identity, name: &str) -> anyhow::Result<()> {
        validate_name(name)?;
        let _lock = self.lock()?;
        self.recover_locked(id)?;
        let path = self.config_path(name);
        if !path.is_file() {
            return Err(not_found(name).into());
        }
        self.journal_begin("delete", &[name.to_string()])?;
        fsutil::remove_and_prune(&path, &self.root.join("configs"))?;
        let _ = fs::remove_file(self.used_marker(name));
        let mut index = self.load_index(id)?;
        index.configs.remove(name);
        self.save_index(&index)?;
        self.journal_end()
    }

    /// All configs' metadata, from the index (one decryption).
    pub fn index(&self, id: &x25519::Identity) -> anyhow::Result<Index> {
        if self.root.join(JOURNAL_FILE).exists() || !self.root.join(INDEX_FILE).exists() {
            let _lock = self.lock()?;
            self.recover_locked(id)?;
        }
        self.load_index(id)
    }

    fn lock(&self) -> anyhow::Result<WriterLock> {
        WriterLock::acquire(&self.root)
            .with_context(|| format!("cannot lock the store at {}", self.root.display()))
    }

    fn load_index(&self, id: &x25519::Identity) -> anyhow::Result<Index> {
        let path = self.root.join(INDEX_FILE);
        match fs::read(&path) {
            Ok(bytes) => {
                let parsed = crypt::decrypt(id, &bytes)
                    .ok()
                    .and_then(|plain| serde_json::from_slice::<Index>(&plain).ok());
                match parsed {
                    Some(index) => Ok(index),
                    // Derived data: rebuild it from the config files.
                    None => self.rebuild_index(id),
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => self.rebuild_index(id),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    fn save_index(&self, index: &Index) -> anyhow::Result<()> {
        let json = zeroize::Zeroizing::new(serde_json::to_vec(index)?);
        let data = crypt::encrypt(&self.recipients, &json).map_err(|e| failure(e.to_string()))?;
        fsutil::write_atomic(&self.root.join(INDEX_FILE), &data)
            .with_context(|| format!("cannot write the index in {}", self.root.display()))
    }

    /// Decrypts every config file to rebuild the index. Undecryptable files
    /// are left out of it (and named by `doctor`), not fatal.
    pub fn rebuild_index(&self, id: &x25519::Identity) -> anyhow::Result<Index> {
        let mut index = Index::default();
        for name in self.scan_names()? {
            if let Ok(doc) = self.read(id, &name) {
                index.configs.insert(name, doc.meta);
            }
        }
        Ok(index)
    }

    /// Config names from the files on disk, without decrypting anything.
    pub fn scan_names(&self) -> anyhow::Result<Vec<String>> {
        let base = self.root.join("configs");
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
                if entry.file_type()?.is_dir() {
                    stack.push(path);
                } else if let Some(stem) = path
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
        out.sort();
        Ok(out)
    }

    fn journal_begin(&self, op: &str, names: &[String]) -> anyhow::Result<()> {
        let j = Journal {
            op: op.to_string(),
            names: names.to_vec(),
        };
        fsutil::write_atomic(
            &self.root.join(JOURNAL_FILE),
            toml::to_string(&j)?.as_bytes(),
        )
        .context("cannot write the store journal")
    }

    fn journal_end(&self) -> anyhow::Result<()> {
        fs::remove_file(self.root.join(JOURNAL_FILE)).context("cannot clear the store journal")?;
        fsutil::sync_dir(&self.root)?;
        Ok(())
    }

    /// Completes an interrupted write: the config files are the truth, the
    /// index follows them. Caller holds the writer lock.
    fn recover_locked(&self, id: &x25519::Identity) -> anyhow::Result<()> {
        let jpath = self.root.join(JOURNAL_FILE);
        let journal: Option<Journal> = match fs::read_to_string(&jpath) {
            Ok(t) => toml::from_str(&t).ok(),
            Err(_) => None,
        };
        let index_missing = !self.root.join(INDEX_FILE).exists();
        if journal.is_none() && !jpath.exists() && !index_missing {
            return Ok(());
        }
        let mut index = self.load_index(id)?;
        match journal {
            Some(j) => {
                for name in &j.names {
                    match self.read(id, name) {
                        Ok(doc) => {
                            index.configs.insert(name.clone(), doc.meta);
                        }
                        Err(_) if !self.exists(name) => {
                            index.configs.remove(name);
                        }
                        Err(_) => {}
                    }
                }
            }
            // An unreadable journal: fall back to a full rebuild.
            None if jpath.exists() => index = self.rebuild_index(id)?,
            None => {}
        }
        self.save_index(&index)?;
        self.sweep_temp_files();
        if jpath.exists() {
            self.journal_end()?;
        }
        Ok(())
    }

    /// Leftovers of a writer that crashed mid-write. Only called under the
    /// writer lock, when no other writer can own a temp file.
    fn sweep_temp_files(&self) {
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
                if is_dir && (dir != self.root || entry.file_name() == "configs") {
                    stack.push(path);
                } else if entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(fsutil::TMP_PREFIX)
                {
                    let _ = fs::remove_file(path);
                }
            }
        }
    }

    fn used_marker(&self, name: &str) -> PathBuf {
        self.root.join("used").join(Self::used_key(name))
    }

    /// Records a use of the config (for `list`'s Last Used) by touching a
    /// marker file: no lock, no decryption, one small write on the hot path.
    pub fn mark_used(&self, name: &str) {
        let path = self.used_marker(name);
        let open = || fsutil::open_private(&path, false);
        let file = open().or_else(|_| {
            fsutil::create_dirs(path.parent().unwrap())?;
            open()
        });
        if let Ok(f) = file {
            let _ = f.set_modified(SystemTime::now());
        }
    }

    pub fn last_used(&self, name: &str) -> Option<SystemTime> {
        fs::metadata(self.used_marker(name))
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
        hex::encode(&Sha256::digest(name.as_bytes())[..12])
    }

    /// Re-encrypts every config and the index to `header`'s recipients,
    /// decrypting with any of `ids`. Under the writer lock; each file is
    /// replaced atomically, so an interruption leaves every file readable by
    /// the old or the new key. `after_each` runs after every file (fault
    /// injection for the crash tests).
    pub fn reencrypt_all(
        &self,
        ids: &[&x25519::Identity],
        header: &Header,
        after_each: &mut dyn FnMut(),
    ) -> anyhow::Result<usize> {
        let _lock = self.lock()?;
        let target = Store::from_header(&self.root, header.clone())?;
        let mut paths: Vec<PathBuf> = self
            .scan_names()?
            .iter()
            .map(|n| self.config_path(n))
            .collect();
        paths.push(self.root.join(INDEX_FILE));
        let mut n = 0;
        for path in paths {
            let bytes = match fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
            };
            let plain = zeroize::Zeroizing::new(
                crypt::decrypt_any(ids, &bytes).map_err(|e| damaged(&path, &e))?,
            );
            // A config keeps its group: only the group's members get it again.
            let group = if path.starts_with(self.root.join("configs")) {
                std::str::from_utf8(&plain)
                    .ok()
                    .and_then(|t| toml::from_str::<toml::Value>(t).ok())
                    .and_then(|v| v.get("group").and_then(|g| g.as_str()).map(str::to_string))
            } else {
                None
            };
            let data = crypt::encrypt(&target.recipients_for(group.as_deref()), &plain)
                .map_err(|e| failure(e.to_string()))?;
            fsutil::write_atomic(&path, &data)
                .with_context(|| format!("cannot write {}", path.display()))?;
            n += 1;
            after_each();
        }
        Ok(n)
    }

    pub fn rewrite_header(&self, header: &Header) -> anyhow::Result<()> {
        fsutil::write_atomic(&self.root.join(HEADER_FILE), header.to_toml().as_bytes())?;
        Ok(())
    }
}

fn damaged(path: &Path, e: &CryptError) -> anyhow::Error {
    let msg = match e {
        CryptError::NoMatchingKey => format!(
            "{} cannot be opened with this store's key: it was encrypted to other recipients, or its header was modified",
            path.display()
        ),
        other => format!("{} is damaged: {other}", path.display()),
    };
    failure(msg)
        .hint("restore this file from a backup or version control, or remove the config and add it again; other configs are not affected")
        .into()
}

fn check_private(path: &Path) -> anyhow::Result<()> {
    if let Some(mode) = fsutil::loose_mode(path)? {
        let fix = if path.is_dir() { "700" } else { "600" };
        return Err(failure(format!(
            "{} is accessible by other users (mode {mode:03o}); refusing to use it",
            path.display()
        ))
        .hint(format!("run: chmod {fix} '{}'", path.display()))
        .into());
    }
    Ok(())
}

pub fn short_key(public: &str) -> String {
    if public.len() > 16 {
        format!("{}…{}", &public[..8], &public[public.len() - 6..])
    } else {
        public.to_string()
    }
}
