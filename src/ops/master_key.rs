//! `rotate --master-key`: a new age identity for the whole store, as one
//! journaled operation held under the writer lock from its first step to
//! its last (docs/ARCHITECTURE.md, "Master-key rotation"). The new key is
//! durable before anything depends on it:
//! 0. everything the destinations need is settled first (a key from
//!    `AUTHCFG_IDENTITY` needs `--identity-out FILE`; a sealed
//!    `identity.age` needs its passphrase): otherwise nothing changes;
//! 1. `--identity-out FILE` written (a new file, synced) and read back;
//! 2. the admin journal, signed by the old admin key: the target header
//!    (new master recipient, fresh store keys, the old admin key endorsing
//!    the new one, signed by the new admin key), the new identity sealed to
//!    old and new, the old identity sealed to the new, the files of step 1;
//! 3. the key source switched in place (keyring entry, sealed file,
//!    identity file), each read back;
//! 4. every config re-encrypted and re-MAC'd, the index rebuilt;
//! 5. `identity.old.age` kept, the header replaced, the journal removed.
//!
//! Whichever key a later command finds (old or new), the journal verifies
//! against it: reads go on with either key, and the next write completes
//! the run.

use super::admin::{require_admin, AdminCtx};
use super::Session;
use crate::error::{failure, usage, Exit, UserError};
use crate::keys::{identity, keyring, MasterKey};
use crate::store::crypto::{b64, AdminKey};
use crate::store::header::{Endorsement, KeyHome, MASTER};
use crate::store::journal::{self, AdminJournal, AdminOp};
use crate::store::storekeys::StoreKeys;
use crate::store::{crypt, fsutil, Store, Txn, OLD_IDENTITY};
use age::x25519;
use anyhow::Context;
use base64::Engine;
use std::path::{Path, PathBuf};

/// How long the old master key is kept (sealed to the new one) when nobody
/// runs `--finish`.
pub const RETAIN_DAYS: u64 = 30;

pub struct Rotated {
    pub files: usize,
    pub new_public: String,
    /// Where the new key went, one note per place.
    pub notes: Vec<String>,
}

fn seal_to(plain: &[u8], to: &[x25519::Recipient]) -> anyhow::Result<String> {
    Ok(b64().encode(crypt::encrypt(to, plain).map_err(|e| failure(e.to_string()))?))
}

/// Whether the new key has no place in the store's own key location (a
/// key from the environment with no identity file named by the header):
/// then it goes only where `--identity-out` says.
fn external(header: &crate::store::header::Header) -> bool {
    header.key_home == KeyHome::External && header.identity_file.is_none()
}

/// Before anything changes: every destination of the new key is known and
/// has what it needs. A refusal here leaves the store as it was.
fn settle_destinations(store: &Store, ctx: &mut AdminCtx) -> anyhow::Result<()> {
    let header = store.header();
    if store.root().join(identity::PLUGIN_FILE).exists() {
        return Err(usage(
            "the master key is sealed to an age plugin identity; rotating it is not supported yet; nothing was changed",
        )
        .hint("docs/SECURITY.md, \"age plugins\"")
        .into());
    }
    if external(&header) && ctx.identity_out.is_none() {
        return Err(usage(
            "the master key comes from the environment (AUTHCFG_IDENTITY), so the new key needs a file to go to; nothing was changed",
        )
        .hint("run `authcfg rotate --master-key --identity-out FILE` (a new file, mode 0600), then put FILE's key in the secret behind AUTHCFG_IDENTITY")
        .into());
    }
    if header.key_home == KeyHome::Keyring
        && header
            .keyring_backend
            .as_deref()
            .and_then(keyring::Backend::parse)
            .is_none()
    {
        return Err(failure("the header names no keyring backend; nothing was changed").into());
    }
    if store.root().join(identity::PASSPHRASE_FILE).exists() && ctx.passphrase.is_none() {
        ctx.passphrase = ctx.interactive.then(|| ctx.ui.passphrase()).flatten();
        if ctx.passphrase.is_none() {
            return Err(usage(
                "the passphrase-sealed key (identity.age) must be re-sealed with the new key: its passphrase is needed; nothing was changed",
            )
            .hint("set AUTHCFG_PASSPHRASE (or run at a terminal) and run the command again")
            .into());
        }
    }
    if let Some(p) = &ctx.identity_out {
        let abs = std::path::absolute(p)?;
        if std::fs::symlink_metadata(&abs).is_ok() {
            return Err(usage(format!(
                "{} already exists; nothing was changed",
                abs.display()
            ))
            .hint("--identity-out writes a new file and never replaces one (it could hold a key still in use): choose a new path")
            .into());
        }
    }
    Ok(())
}

/// Writes the key to a new file (0600, synced, never replacing one) and
/// reads it back.
fn save_new_file(path: &Path, new: &x25519::Identity) -> anyhow::Result<PathBuf> {
    let abs = std::path::absolute(path)?;
    let text = identity::to_file_text(new);
    fsutil::write_new(&abs, text.as_bytes())
        .with_context(|| format!("cannot write the new key to {}", abs.display()))?;
    read_back_file(&abs, new)?;
    Ok(abs)
}

/// The file holds exactly this key.
fn read_back_file(path: &Path, new: &x25519::Identity) -> anyhow::Result<()> {
    let back = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read back the new key from {}", path.display()))?,
    );
    if identity::parse(&back).map(|i| i.to_public().to_string())
        != Some(new.to_public().to_string())
    {
        return Err(failure(format!(
            "{} does not hold the new key after writing it",
            path.display()
        ))
        .into());
    }
    Ok(())
}

pub fn rotate(s: &mut Session, identity_out: Option<&Path>) -> anyhow::Result<Rotated> {
    require_admin(s)?;
    let txn = s.store.begin("rotating the master key")?;
    s.store.check_all_readable(&txn)?;
    let mut ctx = AdminCtx::new(s);
    ctx.identity_out = identity_out.map(Path::to_path_buf);
    settle_destinations(&s.store, &mut ctx)?;
    let old = s.store.identity();
    let new = x25519::Identity::generate();
    let header = s.store.header();
    let old_admin = AdminKey::from_identity(&old);
    let new_admin = AdminKey::from_identity(&new);
    let mut target = header.clone();
    for r in target.recipients.iter_mut() {
        if r.label == MASTER {
            r.public_key = new.to_public().to_string();
        }
    }
    target.generation += 1;
    target.admin_history.push(Endorsement::new(
        &header.id,
        &old_admin,
        &new_admin.public(),
    ));
    let current = s.store.store_keys();
    let mut target_keys = StoreKeys::rotate(&target, Some(&current));
    target_keys
        .seal_into(&mut target)
        .map_err(|e| failure(e.to_string()))?;
    target.sign(&new_admin);
    // 1. A new place for the key (nothing depends on it yet: a kill here
    // leaves the old key in use and an unused key in the file).
    let mut saved = vec![];
    if let Some(p) = &ctx.identity_out {
        saved.push(save_new_file(p, &new)?.display().to_string());
        s.store.fault_point();
    }
    let mut j = AdminJournal::new(
        AdminOp::MasterKey,
        "master key",
        header.signature.clone(),
        target,
    );
    j.new_identity = Some(seal_to(
        identity::secret_string(&new).as_bytes(),
        &[old.to_public(), new.to_public()],
    )?);
    j.old_identity = Some(seal_to(
        identity::secret_string(&old).as_bytes(),
        &[new.to_public()],
    )?);
    j.saved = saved;
    j.sign(&old_admin);
    // 2. The journal: from here whichever key a command finds opens the
    // store, and the next write completes the run.
    s.store.write_admin_journal(&txn, &j)?;
    s.store.fault_point();
    let r = complete(&s.store, &txn, &j, &ctx).map_err(|e| {
        // Journaled: not undone, completed later (the new key is saved).
        e.context(
            "the master-key rotation stopped half way; it is journaled and the next change completes it (reads go on with the old or the new key meanwhile)",
        )
    })?;
    s.key = MasterKey {
        identity: s.store.identity(),
        source: s.key.source.clone(),
    };
    Ok(r)
}

/// Completes the verified admin operation under way. The store calls this
/// (through `Store::set_resumer`) when a writer finds one whose process is
/// gone.
pub fn resume(store: &Store, txn: &Txn, ctx: &AdminCtx) -> anyhow::Result<()> {
    let Some(j) = store.pending_admin() else {
        return Ok(());
    };
    match j.op {
        AdminOp::MasterKey => {
            // A journal of an earlier version, which handed an environment
            // key out only at the end: it needs a file for the key first.
            if external(&store.header()) && j.saved.is_empty() && ctx.identity_out.is_none() {
                return Err(UserError::new(Exit::Usage, "a master-key rotation was interrupted before its new key was handed out")
                    .hint("run `authcfg rotate --master-key --identity-out FILE` to finish it, then put FILE's key in AUTHCFG_IDENTITY (configs stay readable meanwhile)")
                    .into());
            }
            ctx.ui
                .notice("note: finishing an interrupted master-key rotation");
            let r = complete(store, txn, &j, ctx)?;
            for n in r.notes {
                ctx.ui.notice(&n);
            }
        }
        AdminOp::Recipients => {
            ctx.ui.notice(&format!(
                "note: finishing an interrupted recipient change ({})",
                j.detail
            ));
            super::recipients::complete(store, txn, &j, ctx)?;
        }
        AdminOp::Upgrade => {
            return Err(failure("an interrupted format upgrade is pending")
                .hint("run any authcfg command with the master key to finish it")
                .into())
        }
    }
    Ok(())
}

fn complete(store: &Store, txn: &Txn, j: &AdminJournal, ctx: &AdminCtx) -> anyhow::Result<Rotated> {
    let k0 = store.identity();
    let new = crate::store::open_identity(j.new_identity.as_deref(), &k0)
        .ok_or_else(|| failure("the rotation journal holds no new key for this key"))?;
    // The new key must be the one the (signed) target header names.
    if Some(AdminKey::from_identity(&new).public()) != j.target.admin_pub()
        || j.target.master().map(|m| m.public_key.as_str())
            != Some(new.to_public().to_string().as_str())
    {
        return Err(
            failure("the rotation journal's new key is not the one its header names")
                .hint("remove the admin-journal file if you did not start this rotation")
                .into(),
        );
    }
    let old_sealed = j
        .old_identity
        .as_deref()
        .ok_or_else(|| failure("the rotation journal holds no old key"))?;
    store.add_identity(new.clone());
    let keys = store
        .pending_keys()
        .ok_or_else(|| failure("the rotation's target keys cannot be opened"))?;
    // 3. The key source, before any config depends on the new key.
    let notes = switch_source(store, &new, j, ctx)?;
    crate::keys::cache::forget(&store.header().id);
    store.fault_point();
    // 4. The configs and the index.
    let ui = ctx.ui;
    let n = store.reencrypt_all(txn, &j.target, &keys, &|done, total| {
        ui.progress("re-encrypting", done, total)
    })?;
    // 5. The old key kept for the retention period, the header, the end.
    store.put_file(&store.root().join(OLD_IDENTITY), &b64().decode(old_sealed)?)?;
    store.fault_point();
    store.finish_admin(txn, &j.target, keys)?;
    store.set_identity(new.clone());
    store.audit(&[journal::AuditIntent {
        version: None,
        action: "rotate".into(),
        config: None,
        outcome: "ok".into(),
        detail: Some(format!("master key; {n} configs re-encrypted")),
    }])?;
    Ok(Rotated {
        files: n,
        new_public: new.to_public().to_string(),
        notes,
    })
}

/// Puts the new key where the old one came from, and reads each place
/// back. Idempotent: a completed run rewrites what already holds the new
/// key. Runs after the journal, which holds both keys, so a place that
/// holds either key still opens the store.
fn switch_source(
    store: &Store,
    new: &x25519::Identity,
    j: &AdminJournal,
    ctx: &AdminCtx,
) -> anyhow::Result<Vec<String>> {
    let header = store.header();
    let secret = identity::secret_string(new);
    let backend = header
        .keyring_backend
        .as_deref()
        .and_then(keyring::Backend::parse);
    let mut notes = vec![];
    if header.key_home == KeyHome::Keyring {
        let b = backend.ok_or_else(|| failure("the header names no keyring backend"))?;
        let cannot = |e: &dyn std::fmt::Display| {
            failure(format!("cannot store the new key in the keyring ({b}): {e}"))
                .hint("the store still opens with the old key (or the new one); run the command again once the keyring works")
        };
        keyring::set(b, &header.id, &secret).map_err(|e| cannot(&e))?;
        let back = keyring::get(b, &header.id).map_err(|e| cannot(&e))?;
        if back.as_str() != secret.as_str() {
            return Err(cannot(&"the entry read back is not the new key").into());
        }
        notes.push(format!("the OS keyring ({b}) now holds the new key"));
    }
    let sealed = store.root().join(identity::PASSPHRASE_FILE);
    if sealed.exists() {
        let pass = ctx
            .passphrase
            .clone()
            .or_else(|| ctx.interactive.then(|| ctx.ui.passphrase()).flatten())
            .ok_or_else(|| {
                usage("the passphrase-sealed key must be re-sealed: set AUTHCFG_PASSPHRASE")
                    .hint("then run the command again to finish the rotation (configs stay readable meanwhile)")
            })?;
        let data = identity::seal_with_passphrase(new, &pass)?;
        store.put_file(&sealed, &data)?;
        if fsutil::read_private(&sealed)?.as_deref() != Some(&data[..]) {
            return Err(failure("identity.age does not hold the new key after writing it").into());
        }
        notes.push("identity.age is re-sealed with the same passphrase".into());
    }
    if let Some(path) = &header.identity_file {
        fsutil::write_atomic(path, identity::to_file_text(new).as_bytes())
            .with_context(|| format!("cannot write the new key to {}", path.display()))?;
        read_back_file(path, new)?;
        notes.push(format!("{} now holds the new key", path.display()));
    }
    if external(&header) {
        for p in &j.saved {
            notes.push(format!(
                "the new key is in {p} (mode 0600): put it in the secret behind AUTHCFG_IDENTITY"
            ));
        }
        if j.saved.is_empty() {
            // A journal of an earlier version (see `resume`).
            let p = ctx
                .identity_out
                .as_deref()
                .ok_or_else(|| failure("the new key has no place to go"))?;
            let abs = save_new_file(p, new)?;
            notes.push(format!(
                "the new key is in {} (mode 0600): put it in the secret behind AUTHCFG_IDENTITY",
                abs.display()
            ));
        }
    } else if !j.saved.is_empty() {
        for p in &j.saved {
            notes.push(format!("a copy of the new key is in {p} (mode 0600)"));
        }
    }
    Ok(notes)
}

/// Forgets the retained old key.
pub fn finish(s: &Session) -> anyhow::Result<bool> {
    require_admin(s)?;
    let _txn = s.store.begin("forgetting the old master key")?;
    let old = s.store.root().join(OLD_IDENTITY);
    if !old.exists() {
        return Ok(false);
    }
    std::fs::remove_file(&old)?;
    fsutil::sync_dir(s.store.root())?;
    s.audit("rotate", None, "ok", Some("master key: old key forgotten"));
    Ok(true)
}

/// Forgets a retained old key once the retention period has passed.
pub fn expire_retained(s: &Session) {
    let old = s.store.root().join(OLD_IDENTITY);
    let expired = std::fs::symlink_metadata(&old)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age.as_secs() > RETAIN_DAYS * 86_400);
    if expired && std::fs::remove_file(&old).is_ok() {
        s.audit(
            "rotate",
            None,
            "ok",
            Some("master key: retention passed, old key forgotten"),
        );
    }
}
