//! Transactions: the writer lock, completing an interrupted write from its
//! journal, and the audit records that commit a write
//! (docs/ARCHITECTURE.md, "Store").

use super::*;

impl Store {
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
            lock::LockError::Io(io) => write_error(&self.root.join(layout::LOCK_FILE), io),
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
    pub(super) fn refresh(&self) -> anyhow::Result<()> {
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
        // Another store put in this one's place while the command waited
        // (someone who can write the directory) is never taken for it.
        if on_disk.id != st.header.id {
            return Err(forged(
                &self.root.join(HEADER_FILE),
                &format!(
                    "now belongs to another store ({}, not {}): the store directory was replaced while this command waited",
                    on_disk.id, st.header.id
                ),
            )
            .into());
        }
        let k0 = st.ids[0].clone();
        drop(st);
        // The trust setting holds here as at the start (docs/SECURITY.md,
        // "Key services").
        let trust = || match &self.opts.trust_admin {
            Some(f) => Trust::Fingerprint(f),
            None => Trust::None,
        };
        let fresh =
            verify_state(&self.root, on_disk.clone(), &k0, trust(), &self.opts).or_else(|e| {
                // The key source may hold a new key by now (a rotation).
                match self.reload_key.as_ref().and_then(|f| f()) {
                    Some(k) if k.to_public().to_string() != k0.to_public().to_string() => {
                        verify_state(&self.root, on_disk, &k, trust(), &self.opts)
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
    pub(super) fn sweep_temp_files(&self) {
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

    pub(super) fn txn_journal_path(&self) -> PathBuf {
        self.root.join(journal::JOURNAL_FILE)
    }

    /// Completes (or rolls back) an interrupted write. Caller holds the lock.
    pub(super) fn recover(&self, txn: &Txn) -> anyhow::Result<()> {
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

    pub(super) fn append_audit(
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
}
