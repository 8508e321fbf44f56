//! Whole-store changes (admin): master-key rotation, recipients and
//! upgrades re-encrypt every config under an admin journal
//! (docs/ARCHITECTURE.md, "Store").

use super::*;

impl Store {
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
    pub(super) fn read_legacy(&self, name: &str) -> anyhow::Result<ConfigDoc> {
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
