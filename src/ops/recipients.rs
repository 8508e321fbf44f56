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

pub fn add(
    s: &Session,
    public_key: &str,
    label: &str,
    groups: &[String],
    role: Access,
) -> anyhow::Result<Changed> {
    require_admin(s)?;
    check_label(label)?;
    for g in groups {
        check_group(g)?;
    }
    let parsed = crate::store::crypt::parse_recipient(public_key).ok_or_else(|| {
        usage("not an age recipient")
            .hint("it starts with age1... (`age-keygen -y KEYFILE` prints one), or age1NAME1... for an age plugin's (a YubiKey, a TPM)")
    })?;
    if let crate::store::crypt::AnyRecipient::Plugin(p) = &parsed {
        // Every config is sealed through the plugin: it must be here now.
        crate::store::crypt::check_plugin(p.plugin())?;
    }
    let txn = s.store.begin(&format!("adding recipient {label}"))?;
    let mut target = s.store.header();
    if label == MASTER || target.recipients.iter().any(|r| r.label == label) {
        return Err(usage(format!("a recipient labelled '{label}' exists")).into());
    }
    if target.recipients.iter().any(|r| r.public_key == public_key) {
        return Err(usage("that key is already a recipient").into());
    }
    target.recipients.push(Recipient {
        label: label.to_string(),
        public_key: public_key.to_string(),
        groups: groups.to_vec(),
        role,
    });
    // Same keys (nobody lost access), sealed to the new member too.
    let keys = s.store.store_keys();
    start(s, &txn, target, keys, &format!("added {label}"))
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
