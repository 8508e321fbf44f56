//! Writing configs: put, update, remove and import under a transaction,
//! each undone if its audit records cannot be written, and the index that
//! follows them (docs/ARCHITECTURE.md, "Store").

use super::*;

impl Store {
    pub(super) fn encode(&self, doc: &ConfigDoc) -> anyhow::Result<Vec<u8>> {
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
        crypt::encrypt_to(&to, &plain, None).map_err(|e| failure(e.to_string()).into())
    }

    /// An admin creating a config in a group nobody else is in yet: the
    /// group gets its store key (a signed header change).
    pub(super) fn ensure_group_keys(&self, _txn: &Txn, docs: &[ConfigDoc]) -> anyhow::Result<()> {
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

    pub(super) fn put_locked(
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
                    crate::redact::scrub(&mut d);
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
    pub(super) fn keep_for_undo(&self, txn: &str, paths: &[PathBuf]) -> anyhow::Result<Undo> {
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

    pub(super) fn drop_undo(&self, undo: Undo) {
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
    pub(super) fn commit_or_undo(
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
    pub(super) fn finish_write(
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
    pub(super) fn may_replace(&self, name: &str) -> anyhow::Result<()> {
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

    pub(super) fn write_journal(&self, j: &TxnJournal) -> anyhow::Result<()> {
        let (key, id) = {
            let st = self.state.lock().unwrap();
            (st.keys.journal_key(), st.header.id.clone())
        };
        self.put_file(&self.txn_journal_path(), &j.seal(&key, &id))
    }

    pub(super) fn end_journal(&self) -> anyhow::Result<()> {
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

    /// Applies changes to the shards they fall in and writes the head.
    pub(super) fn apply_index(
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
    pub(super) fn write_index(
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

    pub(super) fn rebuild_shard(&self, shard: &str) -> anyhow::Result<Shard> {
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
}
