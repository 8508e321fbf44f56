//! Verifying a store: the state found at unlock (header, journals,
//! anchor) and the audit trail against the index (docs/ARCHITECTURE.md,
//! "Store"; docs/SECURITY.md).

use super::*;

impl Store {
    /// Checks the audit trail, after cutting off a torn record a write cut
    /// short left at its end (noted in the trail; a read-only store is
    /// checked as it is, and the torn record reported).
    pub fn verify_audit(&self) -> anyhow::Result<audit::Verification> {
        let keys = self.keys();
        let _ = audit::repair(
            &self.root,
            &keys,
            &self.opts.actor,
            &self.opts.audit_retention,
        );
        let index_mark = self.index_mark();
        let anchored = self.anchored_audit();
        let mut expected = vec![];
        if let Some(m) = &index_mark {
            expected.push(audit::Expected {
                mark: m,
                missing: format!(
                    "the index records change {} of the trail, which is not there: records were cut off or replaced",
                    m.seq
                ),
            });
        }
        if let Some(m) = &anchored {
            expected.push(audit::Expected {
                mark: m,
                missing: format!(
                    "this key saw record {} of the trail, which is not there any more: the trail was cut, wiped or replaced",
                    m.seq
                ),
            });
        }
        let mut v = audit::verify(&self.root, &keys, &expected)
            .map_err(|e| read_error(&audit::path(&self.root), e))?;
        // Rollback of one config file (docs/SECURITY.md, "Rollback"): an
        // older authentic copy opens and authenticates, but its version is
        // below the one the trail (keyed, anchored) says was written last.
        for (name, (seq, version)) in &v.versions {
            if !self.exists(name) {
                continue;
            }
            if let Ok(doc) = self.read(name) {
                if doc.version < *version {
                    v.problems.push(format!(
                        "'{name}' is version {} but version {version} was written (seq {seq}): an older copy of {} was put back",
                        doc.version,
                        self.config_path(name).display()
                    ));
                }
            }
        }
        Ok(v)
    }

    /// Moves failed unlock attempts noted without a key into the trail.
    pub fn fold_failed_access(&self) {
        let _ = audit::fold_failed_access(
            &self.root,
            &self.keys(),
            &self.opts.actor,
            &self.opts.audit_retention,
        );
    }
}

pub(super) fn verify_state(
    root: &Path,
    header: Header,
    k0: &x25519::Identity,
    trust: Trust,
    opts: &Options,
) -> anyhow::Result<State> {
    let hpath = root.join(HEADER_FILE);
    // A key from a key custody was chosen by the unverified header: its pin
    // lives outside the store, never in `pins.json` (docs/SECURITY.md, "Key
    // services"); with no state directory it has none, and every use needs
    // the trust setting.
    // The origin is also read off the header: a key the header lists with
    // a custody is a custody key however it was loaded this time (from
    // the key cache, or reloaded under the writer lock), so a cached one
    // never falls back to `pins.json` (a red-team finding).
    let k0_pub = k0.to_public().to_string();
    let custody: Option<(String, String)> = opts.custody.clone().or_else(|| {
        header
            .recipients
            .iter()
            .filter(|r| r.public_key == k0_pub)
            .find_map(|r| r.custody.as_ref())
            .map(|c| (c.service.clone(), c.key.clone()))
    });
    let custody_pin = custody.as_ref().and_then(|(service, key)| {
        opts.state_dir
            .as_deref()
            .map(|d| (pins::CustodyPin::new(d, root, service, key), service, key))
    });
    let read_pin = || -> Option<AdminPub> {
        match (&custody, &custody_pin) {
            (None, _) => pins::pinned(root, &header.id, k0),
            (Some(_), Some((p, _, _))) => p.read(),
            (Some(_), None) => None,
        }
    };
    let write_pin = |h: &Header, admin: &AdminPub| -> anyhow::Result<()> {
        match (&custody, &custody_pin) {
            (None, _) => pins::pin(root, &h.id, k0, admin).map_err(|e| write_error(root, e)),
            (Some(_), Some((p, service, key))) => p
                .write(&h.id, service, key, admin)
                .map_err(|e| write_error(p.path(), e)),
            (Some(_), None) => Ok(()),
        }
    };
    let given = match &trust {
        Trust::Fingerprint(f) => Some(f.trim().to_string()),
        _ => None,
    };
    let jpath = root.join(journal::ADMIN_JOURNAL_FILE);
    let mut refused: Option<UserError> = None;
    let mut journal = match fsutil::read_private(&jpath) {
        Ok(Some(b)) => match AdminJournal::parse(&b) {
            Some(j) => Some(j),
            None => {
                refused = Some(forged(&jpath, "is not a valid admin journal"));
                None
            }
        },
        Ok(None) => None,
        Err(e) => {
            let msg = read_error(&jpath, e);
            let (_, hint) = crate::error::classify(&msg);
            refused = Some(failure(msg.to_string()).hint(hint.unwrap_or_default()));
            None
        }
    };
    let a0 = AdminKey::from_identity(k0).public();
    let mut ids = vec![k0.clone()];
    // The admin key that may have written the journal: the header's, or
    // the one the header's newest endorsement came from (when the header
    // already is the journal's target).
    let journal_admins = |h: &Header| -> Vec<AdminPub> {
        let mut v: Vec<AdminPub> = h.admin_pub().into_iter().collect();
        if let Some(e) = h.admin_history.last() {
            if e.next == h.admin_key && e.valid(&h.id) {
                v.extend(AdminPub::parse(&e.previous));
            }
        }
        v
    };
    // An admin journal is acted on only when it is the current step of a
    // change: started from exactly this header (by its admin key) and
    // leading to the next generation, or already written (the header is its
    // target) and being cleaned up. Anything else is a replay of an earlier
    // journal (stale) or forged.
    let check_journal = |j: &AdminJournal, h: &Header| -> anyhow::Result<bool> {
        let signer = j
            .signed()
            .ok_or_else(|| forged(&jpath, "carries no valid signature"))?;
        if j.target.id != h.id {
            return Err(forged(&jpath, "belongs to another store").into());
        }
        let target_admin = j
            .target
            .admin_pub()
            .filter(|p| j.target.signed_by(p))
            .ok_or_else(|| forged(&jpath, "leads to a header that is not signed"))?;
        let finishing = j.target == *h;
        if finishing {
            if !journal_admins(h).contains(&signer) {
                return Err(forged(
                    &jpath,
                    "is signed by a key that is not this store's admin key",
                )
                .into());
            }
        } else {
            if h.admin_pub() != Some(signer) {
                return Err(forged(
                    &jpath,
                    "is signed by a key that is not this store's admin key",
                )
                .into());
            }
            if j.op == AdminOp::Upgrade
                || j.base != h.signature
                || j.target.generation != h.generation + 1
            {
                return Ok(false);
            }
        }
        if target_admin != signer {
            // Only a master-key rotation changes the admin key, and the old
            // key endorses the new one in the target header.
            let endorsed = j.op == AdminOp::MasterKey
                && j.target.admin_history.last().is_some_and(|e| {
                    e.valid(&h.id)
                        && e.previous == signer.encode()
                        && e.next == target_admin.encode()
                });
            if !endorsed {
                return Err(forged(&jpath, "changes the admin key without an endorsement").into());
            }
        }
        Ok(true)
    };
    // The identities a verified rotation journal holds must be the ones its
    // headers name: the new key derives the target's admin key, the old one
    // the admin key that signed the journal.
    let rotation_ids = |j: &AdminJournal, with: &x25519::Identity| -> Vec<x25519::Identity> {
        let mut out = vec![];
        let (Some(signer), Some(target_admin)) = (j.signed(), j.target.admin_pub()) else {
            return out;
        };
        if let Some(n) = open_identity(j.new_identity.as_deref(), with) {
            if AdminKey::from_identity(&n).public() == target_admin {
                out.push(n);
            }
        }
        if let Some(o) = open_identity(j.old_identity.as_deref(), with) {
            if AdminKey::from_identity(&o).public() == signer {
                out.push(o);
            }
        }
        out
    };
    let mut stale = false;
    let role;
    if header.signed_by(&a0) {
        role = Role::Admin;
        if let Some(j) = journal.take() {
            match check_journal(&j, &header) {
                Ok(true) => journal = Some(j),
                Ok(false) => stale = true,
                Err(e) => refused = Some(as_user_error(e)),
            }
        }
        if let Some(j) = journal.as_ref().filter(|j| j.op == AdminOp::MasterKey) {
            for other in rotation_ids(j, k0) {
                if other.to_public().to_string() != k0.to_public().to_string() {
                    ids.push(other);
                }
            }
        }
    } else if let Some(j) = journal
        .as_ref()
        .filter(|j| j.op == AdminOp::MasterKey && j.target.signed_by(&a0))
    {
        // A master-key rotation whose new key (ours) is already in the key
        // source while the header is still the old key's.
        let e = j
            .target
            .admin_history
            .last()
            .filter(|e| e.valid(&header.id) && e.next == a0.encode())
            .ok_or_else(|| forged(&jpath, "names this key without an endorsement"))?;
        AdminPub::parse(&e.previous)
            .filter(|p| header.signed_by(p))
            .ok_or_else(|| forged(&hpath, "is not signed by the key the rotation started from"))?;
        if !check_journal(j, &header)? {
            return Err(forged(&jpath, "is not the current step of a rotation").into());
        }
        let o = rotation_ids(j, k0)
            .into_iter()
            .find(|o| o.to_public().to_string() != k0.to_public().to_string())
            .ok_or_else(|| forged(&jpath, "holds no old key for this key"))?;
        ids.push(o);
        role = Role::Admin;
    } else if let Some((j, n)) = journal
        .as_ref()
        .filter(|j| j.op == AdminOp::MasterKey && j.target == header && j.signed() == Some(a0))
        .and_then(|j| {
            let admin = header.admin_pub()?;
            let n = rotation_ids(j, k0)
                .into_iter()
                .find(|n| AdminKey::from_identity(n).public() == admin)?;
            Some((j, n))
        })
    {
        // The old key of a rotation that replaced the header and was cut
        // short before removing its journal: the journal (signed by this
        // key) holds the new key, which derives the header's admin key.
        if !check_journal(j, &header)? {
            return Err(forged(&jpath, "is not the current step of a rotation").into());
        }
        ids.push(n);
        role = Role::Admin;
    } else if header.admin_key == a0.encode()
        || header
            .master()
            .is_some_and(|m| m.public_key == k0.to_public().to_string())
    {
        // This key is the store's master key, and the header is not signed
        // by it: edited by hand, or re-signed by someone else.
        return Err(forged(
            &hpath,
            "has a signature that does not verify with this store's admin key (the master key in use)",
        )
        .into());
    } else {
        // A member: the admin key it pinned, followed through endorsements.
        let admin = header
            .admin_pub()
            .ok_or_else(|| forged(&hpath, "names no valid admin key"))?;
        check_trusted(root, &hpath, &header, k0, &admin, read_pin(), &trust)?;
        if !header.signed_by(&admin) {
            return Err(forged(&hpath, "has a signature that does not verify").into());
        }
        if read_pin() != Some(admin) {
            write_pin(&header, &admin)?;
        }
        if let Some(j) = journal.take() {
            match check_journal(&j, &header) {
                Ok(true) => journal = Some(j),
                Ok(false) => stale = true,
                Err(e) => refused = Some(as_user_error(e)),
            }
        }
        role = Role::Member;
    }
    if role == Role::Admin {
        // A key from a custody opens as the admin only the store whose
        // admin key it trusted: the header's `sealed` may hold the master
        // key of a store someone put in this one's place.
        if custody.is_some() {
            let admin = header
                .admin_pub()
                .ok_or_else(|| forged(&hpath, "names no valid admin key"))?;
            check_trusted(root, &hpath, &header, k0, &admin, read_pin(), &trust)?;
            if read_pin() != Some(admin) {
                write_pin(&header, &admin)?;
            }
        }
        // The trust setting, when given, is checked also for the admin: it
        // must name the key in use, the header's admin key or an earlier
        // admin key endorsed into it.
        if let Some(fp) = &given {
            if !fingerprint_leads(&header, fp)
                && AdminKey::from_identity(k0).public().fingerprint() != *fp
            {
                return Err(not_trusted(&hpath, &header, fp).into());
            }
        }
    }
    let id_refs: Vec<&x25519::Identity> = ids.iter().collect();
    let keys = StoreKeys::unseal(&header, &id_refs).map_err(|_| not_recipient(root, k0))?;
    let pending = match journal {
        Some(j) => {
            let tk = StoreKeys::unseal(&j.target, &id_refs).unwrap_or_default();
            Some((j, tk))
        }
        None => None,
    };
    Ok(State {
        header,
        keys,
        ids,
        role,
        pending,
        forged: refused.map(|e| (e.message, e.hint.unwrap_or_default())),
        stale,
    })
}

/// Whether the admin key `from` (encoded) leads to the header's admin key
/// through the header's valid endorsements.
fn leads_to(header: &Header, from: &str) -> bool {
    let mut cur = from.to_string();
    for e in &header.admin_history {
        if e.previous == cur && e.valid(&header.id) {
            cur = e.next.clone();
        }
    }
    cur == header.admin_key
}

/// Whether the fingerprint `fp` names the header's admin key, or an earlier
/// admin key from which the header's valid endorsements lead to it.
fn fingerprint_leads(header: &Header, fp: &str) -> bool {
    header.admin_pub().is_some_and(|a| a.fingerprint() == fp)
        || header
            .admin_history
            .iter()
            .filter_map(|e| AdminPub::parse(&e.previous))
            .any(|p| p.fingerprint() == fp && leads_to(header, &p.encode()))
}

fn not_trusted(hpath: &Path, header: &Header, fp: &str) -> UserError {
    let signer = header
        .admin_pub()
        .map(|a| a.fingerprint())
        .unwrap_or_else(|| "none".into());
    forged(
        hpath,
        &format!("is signed by an admin key ({signer}) that is not the one you trusted ({fp})"),
    )
}

/// Checks the header's admin key `admin` against what this key trusts: its
/// pin (followed through endorsements) and the trust setting, which, when
/// given, is always checked (docs/SECURITY.md, "Members"); with neither, the
/// question at a terminal.
fn check_trusted(
    root: &Path,
    hpath: &Path,
    header: &Header,
    k0: &x25519::Identity,
    admin: &AdminPub,
    pinned: Option<AdminPub>,
    trust: &Trust,
) -> anyhow::Result<()> {
    if let Some(p) = &pinned {
        if p != admin && !leads_to(header, &p.encode()) {
            return Err(forged(
                hpath,
                &format!(
                    "is signed by an admin key ({}) that is not the one you trusted ({})",
                    admin.fingerprint(),
                    p.fingerprint()
                ),
            )
            .into());
        }
    }
    if let Trust::Fingerprint(given) = trust {
        let given = given.trim();
        if fingerprint_leads(header, given) {
            return Ok(());
        }
        if pinned.is_some() {
            return Err(not_trusted(hpath, header, given).into());
        }
        // Nothing pinned yet: the error names the key the user trusts, and
        // does not invite them to trust the other one (a red-team finding).
        return Err(no_key(format!(
            "{} is signed by the admin key {}, not the one you trusted ({given})",
            hpath.display(),
            admin.fingerprint()
        ))
        .hint("check the fingerprint with the store's admin; if the store directory was replaced, restore it from the team's remote or a backup")
        .into());
    } else if pinned.is_some() {
        return Ok(());
    }
    let fp = admin.fingerprint();
    if let Trust::Ask(ask) = trust {
        if pinned.is_none() && ask(&fp) {
            return Ok(());
        }
    }
    let is_recipient = header
        .recipients
        .iter()
        .any(|r| r.public_key == k0.to_public().to_string());
    if !is_recipient {
        return Err(not_recipient(root, k0).into());
    }
    Err(no_key(format!(
        "this key ({}) is a member of the store, which has not yet trusted its admin key {fp}",
        short_key(&k0.to_public().to_string())
    ))
    .hint(format!(
        "check the fingerprint with the store's admin, then run `authcfg trust {fp}` (or set AUTHCFG_TRUST_ADMIN={fp})"
    ))
    .into())
}
