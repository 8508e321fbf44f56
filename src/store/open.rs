//! Opening a store: where it is, its header, creating one, unlocking it
//! with an identity, and the local anchor that detects a rolled-back
//! store (docs/ARCHITECTURE.md, "Store").

use super::*;

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
        if let Some(why) = fsutil::loose_mode(root)? {
            return Err(failure(format!(
                "{} is accessible by other users ({why}); refusing to use it",
                root.display()
            ))
            .hint(crate::platform::fix_loose_dir_hint(root))
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
        crate::platform::make_private_dir(root)?;
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

    pub(super) fn from_state(root: &Path, state: State, opts: Options) -> Store {
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
            // A trust setting that does not name the header's admin key
            // sends the header through the full check (docs/SECURITY.md,
            // "Members").
            if let Trust::Fingerprint(fp) = &trust {
                if header.admin_pub().map(|p| p.fingerprint()).as_deref() != Some(fp.trim()) {
                    return None;
                }
            }
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
            None => verify_state(root, header, k0, trust, &opts)?,
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
    pub(super) fn remember_verified(&self) {
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

    pub(super) fn anchor(&self) -> std::sync::Arc<Option<anchor::Anchor>> {
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
    pub(super) fn check_anchor(&self) -> anyhow::Result<()> {
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
                    let _ = a.write(&anchor::Seen::of(&h, seen));
                }
            }
            None => {
                let _ = a.write(&anchor::Seen::of(&h, anchor::Seen::default()));
            }
        }
        Ok(())
    }

    /// After this process wrote a new header: the anchor moves with it.
    pub(super) fn note_header(&self) {
        if let Some(a) = self.anchor().as_ref() {
            let h = self.header();
            let _ = a.write(&anchor::Seen::of(&h, a.read().unwrap_or_default()));
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
}
