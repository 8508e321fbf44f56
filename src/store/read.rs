//! Reading configs: one config decrypted and authenticated, the index
//! for listings, and when each config was last used. Readers never take
//! the writer lock (docs/ARCHITECTURE.md, "Store").

use super::*;

impl Store {
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
    pub(super) fn changed_underneath(&self) -> bool {
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

    pub(super) fn read_once(&self, name: &str) -> anyhow::Result<ConfigDoc> {
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

    pub(super) fn decode(
        &self,
        name: &str,
        path: &Path,
        bytes: &[u8],
    ) -> anyhow::Result<ConfigDoc> {
        self.decode_with(name, path, bytes, None)
    }

    /// `decode`, authenticated under `keys` instead of the store's own (a
    /// file from a pulled commit, under that commit's header).
    pub(super) fn decode_with(
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

    pub(super) fn not_for_us(&self, name: &str, path: &Path) -> anyhow::Error {
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

    pub(super) fn used_marker(&self, name: &str) -> PathBuf {
        self.root.join(layout::USED_DIR).join(Self::used_key(name))
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
        if let Ok(entries) = fs::read_dir(self.root.join(layout::USED_DIR)) {
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
}
