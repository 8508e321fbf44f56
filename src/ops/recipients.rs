//! Who can decrypt the store: team members and CI keys, and their groups.
//! Only the admin (the master key) changes them: the new header is signed
//! by the admin key, and every config is re-encrypted to it under the
//! writer lock, journaled (docs/ARCHITECTURE.md, "Recipient changes").
//! Removing a recipient also replaces every store key, so that the removed
//! key can neither read new configs nor write ones the store would accept.

use super::admin::{require_admin, AdminCtx};
use super::Session;
use crate::error::{failure, usage, UserError};
use crate::store::crypto::AdminKey;
use crate::store::header::{Access, Header, Recipient, MASTER};
use crate::store::journal::{AdminJournal, AdminOp, AuditIntent};
use crate::store::storekeys::StoreKeys;
use crate::store::{Store, Txn};

/// Group names are short tokens: admins, prod-ci.
pub fn check_group(g: &str) -> Result<(), UserError> {
    if g.is_empty()
        || g.len() > 64
        || !g
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(usage(format!(
            "invalid group name '{}'",
            g.chars().take(64).collect::<String>()
        ))
        .hint("use letters, digits, '-' and '_' (e.g. admins, prod-ci)"));
    }
    Ok(())
}

fn check_label(l: &str) -> Result<(), UserError> {
    if l.is_empty()
        || l.len() > 64
        || !l
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
    {
        return Err(usage("invalid recipient label")
            .hint("use letters, digits and '-', '_', '.', '@' (e.g. alice, ci-prod)"));
    }
    Ok(())
}

pub struct Changed {
    pub files: usize,
    pub recipients: usize,
    /// Configs the removed member could read: their secrets are still in
    /// old copies (git history keeps every ciphertext) and need rotating.
    pub exposed: Vec<String>,
}

/// Adds a recipient: an age public key (`age1…`, or an age plugin's), or
/// a key-service key (`bao:transit/keys/NAME`): then a fresh X25519
/// identity is made here, sealed by the service for this store, listed
/// with its custody, and forgotten (docs/ARCHITECTURE.md, "Key services").
/// `addr`: the service's address for this call (else the settings').
pub fn add(
    s: &Session,
    public_key: &str,
    label: &str,
    groups: &[String],
    role: Access,
    addr: Option<&str>,
) -> anyhow::Result<Changed> {
    require_admin(s)?;
    check_label(label)?;
    for g in groups {
        check_group(g)?;
    }
    let (public_key, custody) = match crate::keys::service::parse_spec(public_key) {
        Some(spec) => {
            let (service, key) = spec?;
            // The service is called before the lock is taken.
            let (public, custody) = crate::keys::service::new_custody(
                s.settings,
                &s.store.header().id,
                &service,
                &key,
                addr,
            )?;
            (public, Some(custody))
        }
        None => {
            if addr.is_some() {
                return Err(usage(
                    "--addr is for an OpenBao / Vault recipient (bao:transit/keys/NAME)",
                )
                .into());
            }
            let parsed = crate::store::crypt::parse_recipient(public_key).ok_or_else(|| {
                usage("not an age recipient")
                    .hint("it starts with age1... (`age-keygen -y KEYFILE` prints one), or age1NAME1... for an age plugin's (a YubiKey, a TPM), or bao:transit/keys/NAME for an OpenBao / Vault transit key, or awskms:arn:aws:kms:REGION:ACCOUNT:key/ID for an AWS KMS key")
            })?;
            if let crate::store::crypt::AnyRecipient::Plugin(p) = &parsed {
                // Every config is sealed through the plugin: it must be here now.
                crate::store::crypt::check_plugin(p.plugin())?;
            }
            (public_key.to_string(), None)
        }
    };
    let txn = s.store.begin(&format!("adding recipient {label}"))?;
    let mut target = s.store.header();
    if label == MASTER || target.recipients.iter().any(|r| r.label == label) {
        return Err(usage(format!("a recipient labelled '{label}' exists")).into());
    }
    if target.recipients.iter().any(|r| r.public_key == public_key) {
        return Err(usage("that key is already a recipient").into());
    }
    let what = match &custody {
        Some(c) => format!("added {label} ({}:{})", c.service, c.key),
        None => format!("added {label}"),
    };
    target.recipients.push(Recipient {
        label: label.to_string(),
        public_key,
        groups: groups.to_vec(),
        role,
        custody,
    });
    // Same keys (nobody lost access), sealed to the new member too.
    let keys = s.store.store_keys();
    start(s, &txn, target, keys, &what)
}

/// `rotate --rewrap`: every key-service recipient's sealed identity is
/// re-sealed under its key's newest version (the service's `rewrap`: the
/// identity never leaves it), and the header re-signed. The count of
/// recipients rewrapped.
pub fn rewrap(s: &Session) -> anyhow::Result<(usize, Changed)> {
    require_admin(s)?;
    let mut target = s.store.header();
    let store_id = target.id.clone();
    let mut n = 0;
    for r in target.recipients.iter_mut() {
        let Some(c) = r.custody.as_mut() else {
            continue;
        };
        let svc = crate::keys::service::open(c, s.settings, None, &store_id)?;
        let fresh = svc.rewrap(&c.sealed)?;
        if fresh != c.sealed {
            c.sealed = fresh;
            n += 1;
        }
    }
    if target.recipients.iter().all(|r| r.custody.is_none()) {
        return Err(usage("the store has no key-service recipient to rewrap")
            .hint("`authcfg recipients list` shows each recipient's kind")
            .into());
    }
    let txn = s.store.begin("rewrapping key-service recipients")?;
    // The header may have changed while the service answered.
    let now = s.store.header();
    for r in target.recipients.iter_mut() {
        let same = now
            .recipients
            .iter()
            .any(|o| o.label == r.label && o.public_key == r.public_key);
        if !same {
            return Err(crate::error::failure(
                "the recipients changed while rewrapping; nothing was changed",
            )
            .hint("run `authcfg rotate --rewrap` again")
            .into());
        }
    }
    if now.recipients.len() != target.recipients.len() {
        return Err(crate::error::failure(
            "the recipients changed while rewrapping; nothing was changed",
        )
        .hint("run `authcfg rotate --rewrap` again")
        .into());
    }
    let mut fresh = now.clone();
    fresh.recipients = target.recipients;
    let keys = s.store.store_keys();
    let c = start(
        s,
        &txn,
        fresh,
        keys,
        &format!("rewrapped {n} key-service recipient(s)"),
    )?;
    Ok((n, c))
}

pub fn remove(s: &Session, label: &str) -> anyhow::Result<Changed> {
    require_admin(s)?;
    if label == MASTER {
        return Err(usage("the master key cannot be removed")
            .hint("rotate it with `authcfg rotate --master-key`")
            .into());
    }
    let txn = s.store.begin(&format!("removing recipient {label}"))?;
    let mut target = s.store.header();
    let Some(gone) = target.recipients.iter().find(|r| r.label == label).cloned() else {
        return Err(usage(format!("no recipient labelled '{label}'"))
            .hint("see `authcfg recipients list`")
            .into());
    };
    target.recipients.retain(|r| r.label != label);
    let exposed = s
        .store
        .list()?
        .into_iter()
        .filter(|m| m.group.as_ref().is_none_or(|g| gone.groups.contains(g)))
        .map(|m| m.name)
        .collect();
    // Fresh keys: the removed key knew the old ones.
    let keys = StoreKeys::rotate(&target, Some(&s.store.store_keys()));
    let mut c = start(s, &txn, target, keys, &format!("removed {label}"))?;
    c.exposed = exposed;
    Ok(c)
}

/// Makes a recipient a Developer or a Viewer (same keys: nobody gains or
/// loses what they can read).
pub fn set_role(s: &Session, label: &str, role: Access) -> anyhow::Result<Changed> {
    require_admin(s)?;
    let txn = s.store.begin(&format!("changing the role of {label}"))?;
    let mut target = s.store.header();
    let Some(r) = target
        .recipients
        .iter_mut()
        .find(|r| r.label == label && r.label != MASTER)
    else {
        return Err(usage(format!("no recipient labelled '{label}'"))
            .hint("see `authcfg recipients list` (the master key is always the admin)")
            .into());
    };
    r.role = role;
    let keys = s.store.store_keys();
    start(
        s,
        &txn,
        target,
        keys,
        &format!("{label} is now a {}", role.as_str()),
    )
}

fn start(
    s: &Session,
    txn: &Txn,
    mut target: Header,
    mut keys: StoreKeys,
    what: &str,
) -> anyhow::Result<Changed> {
    let admin = AdminKey::from_identity(&s.store.identity());
    let base = s.store.header().signature;
    // Every config must open before anything changes; every group a config
    // uses keeps its key (the master key keeps groups nobody else is in).
    for g in s.store.check_all_readable(txn)? {
        if !target.scopes().contains(&g) {
            if let Some(m) = target.recipients.iter_mut().find(|r| r.label == MASTER) {
                m.groups.push(g);
            }
        }
    }
    keys.seal_into(&mut target)
        .map_err(|e| failure(e.to_string()))?;
    target.generation += 1;
    target.sign(&admin);
    let mut j = AdminJournal::new(AdminOp::Recipients, what, base, target);
    j.sign(&admin);
    s.store.write_admin_journal(txn, &j)?;
    s.store.fault_point();
    complete(&s.store, txn, &j, &AdminCtx::new(s))
}

/// Re-encrypts everything to the journal's target and installs it.
pub fn complete(
    store: &Store,
    txn: &Txn,
    j: &AdminJournal,
    ctx: &AdminCtx,
) -> anyhow::Result<Changed> {
    let keys = store
        .pending_keys()
        .ok_or_else(|| failure("the change's target keys cannot be opened"))?;
    let ui = ctx.ui;
    let n = store.reencrypt_all(txn, &j.target, &keys, &|done, total| {
        ui.progress("re-encrypting", done, total)
    })?;
    store.finish_admin(txn, &j.target, keys)?;
    store.audit(&[AuditIntent {
        version: None,
        action: "recipients".into(),
        config: None,
        outcome: "ok".into(),
        detail: Some(format!("{}; {n} configs re-encrypted", j.detail)),
    }])?;
    Ok(Changed {
        files: n,
        recipients: j.target.recipients.len(),
        exposed: vec![],
    })
}
