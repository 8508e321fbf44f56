//! Upgrading a format-1 store (unsigned header, configs without MACs,
//! unkeyed audit chain) to format 2 in place, as one admin operation
//! (docs/ARCHITECTURE.md, "Upgrade"). Only the master key can do it: it
//! signs the new header. Journaled like every whole-store change: a kill at
//! any point is completed by the next command.

use super::header::{Header, LegacyHeader, Parsed, HEADER_FILE, MASTER, STORE_FORMAT};
use super::journal::{self, AdminJournal, AdminOp, AuditIntent};
use super::lock::WriterLock;
use super::storekeys::StoreKeys;
use super::{crypt, fsutil, index, Options, Role, State, Store, Txn, CONFIGS_DIR, TMP_DIR};
use crate::error::{failure, no_key};
use crate::store::crypto::AdminKey;
use age::x25519;
use anyhow::Context;
use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

pub struct Upgraded {
    pub configs: usize,
    pub recipients: Vec<(String, String)>,
    pub legacy_records: usize,
}

/// Upgrades the store at `root`; `None` when another process already did.
pub fn upgrade(
    root: &Path,
    legacy: LegacyHeader,
    key: &x25519::Identity,
    opts: Options,
    progress: &dyn Fn(usize, usize),
) -> anyhow::Result<Option<Upgraded>> {
    let master = legacy
        .recipients
        .iter()
        .find(|r| r.label == MASTER)
        .ok_or_else(|| failure("the format-1 header has no master recipient"))?;
    if master.public_key != key.to_public().to_string() {
        return Err(no_key(
            "this store uses format 1 and must be upgraded by its admin: only the master key can sign the new header",
        )
        .hint("run any authcfg command once with the store's master key")
        .into());
    }
    let lock = WriterLock::acquire(
        root,
        "upgrading the store format",
        opts.lock_timeout,
        &mut |_| {},
    )
    .map_err(|e| failure(e.to_string()))?;
    if let Parsed::Current(_) = Store::read_header(root)? {
        return Ok(None);
    }
    if root.join("rotation.toml").exists() {
        return Err(failure(
            "a format-1 master-key rotation journal (rotation.toml) is present; it cannot be authenticated",
        )
        .hint("if you started `rotate --master-key` with an older authcfg and it was interrupted, finish it with that version; otherwise someone planted it: delete rotation.toml and identity.next.age, then run the command again")
        .into());
    }
    let admin = AdminKey::from_identity(key);
    let jpath = root.join(journal::ADMIN_JOURNAL_FILE);
    let existing = fsutil::read_private(&jpath)
        .map_err(|e| super::read_error(&jpath, e))?
        .and_then(|b| AdminJournal::parse(&b))
        .filter(|j| {
            j.op == AdminOp::Upgrade
                && j.signed() == Some(admin.public())
                && j.target.signed_by(&admin.public())
        });
    for d in [TMP_DIR, index::INDEX_DIR, CONFIGS_DIR] {
        fsutil::create_dirs(&root.join(d))?;
    }
    let (j, keys) = match existing {
        Some(j) => {
            let keys = StoreKeys::unseal(&j.target, &[key])
                .map_err(|_| failure("the upgrade journal's keys cannot be opened"))?;
            (j, keys)
        }
        None => {
            let target = target_header(root, &legacy, key)?;
            let mut target = target;
            let mut keys = StoreKeys::rotate(&target, None);
            keys.seal_into(&mut target)
                .map_err(|e| failure(e.to_string()))?;
            target.sign(&admin);
            let mut j = AdminJournal {
                txn: journal::new_txn_id(),
                op: AdminOp::Upgrade,
                started: crate::model::rfc3339(crate::model::now()),
                detail: "format 1 to 2".into(),
                base: String::new(),
                target,
                new_identity: None,
                old_identity: None,
                saved: vec![],
                admin: String::new(),
                signature: String::new(),
            };
            j.sign(&admin);
            fsutil::write_atomic_via(&root.join(TMP_DIR), &jpath, &j.to_bytes(), true)?;
            (j, keys)
        }
    };
    let store = Store::from_state(
        root,
        State {
            header: j.target.clone(),
            keys: keys.clone(),
            ids: vec![key.clone()],
            role: Role::Admin,
            pending: Some((j.clone(), keys.clone())),
            forged: None,
            stale: false,
        },
        opts,
    );
    let txn = Txn {
        store: &store,
        _lock: lock,
    };
    store.fault_point();
    let n = store.reencrypt_all(&txn, &j.target, &keys, progress)?;
    // The format-1 trail cannot be vouched for by the new key: it is kept
    // as it was, and the new chain starts with a record that names its
    // digest.
    let audit = crate::store::audit::path(root);
    let legacy_path = root.join(crate::store::audit::LEGACY_FILE);
    if audit.exists() && !legacy_path.exists() {
        fs::rename(&audit, &legacy_path)?;
        fsutil::sync_dir(root)?;
    }
    let (records, digest) = match fsutil::read_private(&legacy_path)? {
        Some(b) => (
            b.split(|&c| c == b'\n').filter(|l| !l.is_empty()).count(),
            crate::store::crypto::sha256_hex(&b),
        ),
        None => (0, String::new()),
    };
    if !crate::store::audit::has_txn(root, &j.txn)? {
        crate::store::audit::append(
            root,
            &keys,
            &store.opts.actor,
            Some(&j.txn),
            &[AuditIntent {
version: None,
                action: "upgrade".into(),
                config: None,
                outcome: "ok".into(),
                detail: Some(format!(
                    "store format 1 to 2: {n} configs re-encrypted with MACs; the format-1 trail ({records} records, sha256 {digest}) is kept in {}",
                    crate::store::audit::LEGACY_FILE
                )),
            }],
            &store.opts.audit_retention,
        )?;
    }
    for f in ["index.age", "journal.toml", "recipients.toml"] {
        let _ = fs::remove_file(root.join(f));
    }
    store.fault_point();
    fsutil::write_atomic_via(
        &root.join(TMP_DIR),
        &root.join(HEADER_FILE),
        j.target.to_toml().as_bytes(),
        true,
    )
    .context("cannot write the new header")?;
    fs::remove_file(&jpath)?;
    fsutil::sync_dir(root)?;
    Ok(Some(Upgraded {
        configs: n,
        recipients: j
            .target
            .recipients
            .iter()
            .map(|r| (r.label.clone(), r.public_key.clone()))
            .collect(),
        legacy_records: records,
    }))
}

/// The format-2 header for a format-1 one: same id, key location and
/// recipients; every group any config uses gets a store key.
fn target_header(
    root: &Path,
    legacy: &LegacyHeader,
    key: &x25519::Identity,
) -> anyhow::Result<Header> {
    let mut recipients = legacy.recipients.clone();
    let mut groups = BTreeSet::new();
    for name in super::scan_names_in(root)? {
        let path = root.join(super::names::rel_path(&name));
        let Some(bytes) = fsutil::read_private(&path).map_err(|e| super::read_error(&path, e))?
        else {
            continue;
        };
        if let Ok(plain) = crypt::decrypt(key, &bytes) {
            let plain = zeroize::Zeroizing::new(plain);
            if let Some(g) = std::str::from_utf8(&plain)
                .ok()
                .and_then(|t| toml::from_str::<toml::Value>(t).ok())
                .and_then(|v| v.get("group").and_then(|g| g.as_str()).map(str::to_string))
            {
                groups.insert(g);
            }
        }
    }
    let known: BTreeSet<String> = recipients.iter().flat_map(|r| r.groups.clone()).collect();
    if let Some(m) = recipients.iter_mut().find(|r| r.label == MASTER) {
        for g in groups.difference(&known) {
            m.groups.push(g.clone());
        }
    }
    Ok(Header {
        format: STORE_FORMAT,
        id: legacy.id.clone(),
        created: legacy.created.clone(),
        generation: 1,
        key_home: legacy.key_home,
        keyring_backend: legacy.keyring_backend.clone(),
        identity_file: legacy.identity_file.clone(),
        admin_key: String::new(),
        audit_keys: None,
        signature: String::new(),
        recipients,
        store_keys: vec![],
        admin_history: vec![],
    })
}
