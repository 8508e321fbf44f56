//! `rotate --master-key`: a new age identity for the whole store, as one
//! journaled operation held under the writer lock from its first step to
//! its last (docs/ARCHITECTURE.md, "Master-key rotation"):
//! 1. the admin journal, signed by the old admin key: the target header
//!    (new master recipient, fresh store keys, the old admin key endorsing
//!    the new one, signed by the new admin key), the new identity sealed to
//!    old and new, the old identity sealed to the new;
//! 2. every config re-encrypted and re-MAC'd, the index rebuilt;
//! 3. the key source switched (keyring entry, sealed file, identity file);
//! 4. `identity.old.age` kept, the header replaced, the journal removed.
//!
//! Whichever key a later command finds (old or new), the journal verifies
//! against it and the command completes the run.

use super::Session;
use super::Ui;
use crate::error::{failure, usage, Exit, UserError};
use crate::keys::{identity, keyring, MasterKey, Source};
use crate::store::crypto::{b64, AdminKey};
use crate::store::header::{Endorsement, KeyHome, MASTER};
use crate::store::journal::{self, AdminJournal, AdminOp};
use crate::store::storekeys::StoreKeys;
use crate::store::{crypt, fsutil, Role, Store, Txn, OLD_IDENTITY};
use age::x25519;
use base64::Engine;
use std::path::Path;

/// How long the old master key is kept (sealed to the new one) when nobody
/// runs `--finish`.
pub const RETAIN_DAYS: u64 = 30;

pub struct Rotated {
    pub files: usize,
    pub new_public: String,
    /// Where the new key went, one note per place.
    pub notes: Vec<String>,
    /// Set when the new key must be shown to the user (an environment key
    /// without `--identity-out`): the CLI prints it on stdout.
    pub reveal: Option<zeroize::Zeroizing<String>>,
}

pub(crate) fn require_admin(s: &Session) -> anyhow::Result<()> {
    if s.store.role() != Role::Admin {
        return Err(UserError::new(
            Exit::NoKey,
            "only the store's admin (the master key) can do this",
        )
        .hint("ask the person who holds the master key")
        .into());
    }
    Ok(())
}

fn seal_to(plain: &[u8], to: &[x25519::Recipient]) -> anyhow::Result<String> {
    Ok(b64().encode(crypt::encrypt(to, plain).map_err(|e| failure(e.to_string()))?))
}

/// What completing an admin operation needs besides the store: owned, so
/// that the store can run it when a writer meets an interrupted one.
#[derive(Clone)]
pub struct AdminCtx {
    pub source: Source,
    pub passphrase: Option<zeroize::Zeroizing<String>>,
    pub interactive: bool,
    pub ui: &'static dyn Ui,
    pub identity_out: Option<std::path::PathBuf>,
}

impl AdminCtx {
    pub fn new(s: &Session) -> AdminCtx {
        AdminCtx {
            source: s.key.source.clone(),
            passphrase: s.settings.passphrase.clone(),
            interactive: s.settings.interactive,
            ui: s.ui,
            identity_out: None,
        }
    }
}

pub fn rotate(s: &mut Session, identity_out: Option<&Path>) -> anyhow::Result<Rotated> {
    require_admin(s)?;
    let txn = s.store.begin("rotating the master key")?;
    s.store.check_all_readable(&txn)?;
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
    let mut j = AdminJournal {
        txn: journal::new_txn_id(),
        op: AdminOp::MasterKey,
        started: crate::model::rfc3339(crate::model::now()),
        detail: "master key".into(),
        base: header.signature.clone(),
        target,
        new_identity: Some(seal_to(
            identity::secret_string(&new).as_bytes(),
            &[old.to_public(), new.to_public()],
        )?),
        old_identity: Some(seal_to(
            identity::secret_string(&old).as_bytes(),
            &[new.to_public()],
        )?),
        admin: String::new(),
        signature: String::new(),
    };
    j.sign(&old_admin);
    s.store.write_admin_journal(&txn, &j)?;
    s.store.fault_point();
    let mut ctx = AdminCtx::new(s);
    ctx.identity_out = identity_out.map(Path::to_path_buf);
    let r = complete(&s.store, &txn, &j, &ctx)?;
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
            let external = ctx.source == Source::EnvIdentity
                && store.header().key_home == KeyHome::External
                && store.header().identity_file.is_none();
            if external && ctx.identity_out.is_none() {
                return Err(UserError::new(Exit::NoKey, "a master-key rotation was interrupted and its new key must be handed out")
                    .hint("run `authcfg rotate --master-key --identity-out FILE` to finish it, then put FILE's key in AUTHCFG_IDENTITY")
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
    let ui = ctx.ui;
    let n = store.reencrypt_all(txn, &j.target, &keys, &|done, total| {
        ui.progress("re-encrypting", done, total)
    })?;
    let (notes, reveal) = switch_source(store, &new, ctx)?;
    crate::keys::cache::forget(&store.header().id);
    store.fault_point();
    store.put_file(&store.root().join(OLD_IDENTITY), &b64().decode(old_sealed)?)?;
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
        reveal,
    })
}

/// Puts the new key where the old one came from.
fn switch_source(
    store: &Store,
    new: &x25519::Identity,
    ctx: &AdminCtx,
) -> anyhow::Result<(Vec<String>, Option<zeroize::Zeroizing<String>>)> {
    let header = store.header();
    let secret = identity::secret_string(new);
    let backend = header
        .keyring_backend
        .as_deref()
        .and_then(keyring::Backend::parse);
    let mut notes = vec![];
    let mut reveal = None;
    if header.key_home == KeyHome::Keyring {
        let b = backend.ok_or_else(|| failure("the header names no keyring backend"))?;
        keyring::set(b, &header.id, &secret).map_err(|e| {
            failure(format!(
                "cannot store the new key in the keyring ({b}): {e}"
            ))
        })?;
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
                    .hint("then run the command again to finish the rotation")
            })?;
        store.put_file(&sealed, &identity::seal_with_passphrase(new, &pass)?)?;
        notes.push("identity.age is re-sealed with the same passphrase".into());
    }
    if let Some(path) = &header.identity_file {
        fsutil::write_atomic(path, identity::to_file_text(new).as_bytes())?;
        notes.push(format!("{} now holds the new key", path.display()));
    }
    if header.key_home == KeyHome::External && header.identity_file.is_none() {
        match &ctx.identity_out {
            Some(p) => {
                fsutil::write_atomic(
                    &std::path::absolute(p)?,
                    identity::to_file_text(new).as_bytes(),
                )?;
                notes.push(format!("the new key is in {} (mode 0600): put it in the CI secret behind AUTHCFG_IDENTITY", p.display()));
            }
            None => {
                reveal = Some(secret);
                notes.push("the new key was printed on stdout: put it in the CI secret behind AUTHCFG_IDENTITY".into());
            }
        }
    }
    Ok((notes, reveal))
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
