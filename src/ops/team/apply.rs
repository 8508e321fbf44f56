//! Applying pulled commits to the store: each changed file checked under
//! the header it arrives with, merged decrypted, and written in one store
//! transaction.

use super::*;

pub(super) enum Outcome {
    /// These bytes (a file of one side that is valid under the result's header).
    Bytes(Vec<u8>),
    /// This document, encrypted under the result's header.
    Doc(Box<ConfigDoc>),
    Removed,
}

pub(super) fn apply(
    s: &Session,
    txn: &Txn,
    git: &Git,
    l: &str,
    r: &str,
    out: &mut Synced,
) -> anyhow::Result<()> {
    let store = &s.store;
    let base = git.text(&["merge-base", l, r]).map_err(|_| {
        failure("the remote's history has nothing in common with this store's")
            .hint("check the remote URL: it is another store's repository")
    })?;
    let tl = git.tree(l)?;
    let tr = git.tree(r)?;
    let tb = git.tree(&base)?;
    check_tree(&tr, git, r)?;
    let hl = header_at(git, &tl)?;
    let hr = header_at(git, &tr)?;
    let hb = header_at(git, &tb)?;
    // The remote's header: signed by the admin key this clone trusts.
    let kr = if hr.digest() == hl.digest() {
        store
            .keys_of(&hl)
            .ok_or_else(|| failure("this key no longer opens the store"))?
    } else {
        store.verify_header(hr.clone()).map_err(|e| {
            let diff = header_diff(&hl, &hr);
            let (exit, hint) = crate::error::classify(&e);
            let mut u = UserError::new(
                exit,
                format!("the remote's {HEADER_FILE} was not accepted: {e}{diff}"),
            );
            u.hint = hint.or(Some("nothing was merged; ask the store's admin".into()));
            anyhow::Error::from(u)
        })?
    };
    let kl = store
        .keys_of(&hl)
        .ok_or_else(|| failure("this key does not open its own last commit's header"))?;
    let kb = store.keys_of(&hb);
    let ff = git.is_ancestor(l, r);
    let target = if ff {
        hr.clone()
    } else if hr.digest() == hb.digest() || hr.digest() == hl.digest() {
        hl.clone()
    } else if hl.digest() == hb.digest() {
        hr.clone()
    } else if hr.generation > hl.generation {
        out.notes.push(format!(
            "the header changed on both sides: kept the newer (generation {}); redo the other change",
            hr.generation
        ));
        hr.clone()
    } else if hl.generation > hr.generation {
        out.notes.push(format!(
            "the header changed on both sides: kept the newer (generation {})",
            hl.generation
        ));
        hl.clone()
    } else {
        return Err(failure(format!(
            "the header changed on both sides to two different versions of generation {}",
            hl.generation
        ))
        .hint("only the admin changes the header: make the change again on one machine")
        .into());
    };
    let target_is_r = target.digest() == hr.digest();
    let target_is_l = target.digest() == hl.digest();
    if target.generation < store.header().generation && target.digest() != store.header().digest() {
        return Err(
            failure("the merge would go back to an older header than this clone has").into(),
        );
    }

    // Every config path that differs somewhere.
    let paths: BTreeSet<&String> = tl
        .keys()
        .chain(tr.keys())
        .chain(tb.keys())
        .filter(|p| config_name(p).is_some())
        .filter(|p| !(tl.get(*p) == tr.get(*p) && tl.get(*p) == tb.get(*p)))
        .collect();
    let sha = |t: &BTreeMap<String, (String, String)>, p: &str| t.get(p).map(|x| x.1.clone());
    let want: Vec<String> = paths
        .iter()
        .flat_map(|p| [sha(&tl, p), sha(&tr, p), sha(&tb, p)])
        .flatten()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let blobs = git.blobs(&want)?;
    let blob = |id: &Option<String>| id.as_ref().and_then(|i| blobs.get(i)).cloned();

    let mut results: Vec<(String, Outcome)> = vec![];
    let mut conflicts: Vec<(String, Vec<String>, ConfigDoc)> = vec![];
    for p in paths {
        let name = config_name(p).expect("filtered");
        let (o, t, b) = (sha(&tl, p), sha(&tr, p), sha(&tb, p));
        let origin_r = format!("{p} (remote commit {})", &r[..r.len().min(12)]);
        if t != b && t.is_some() && t != o && seen_before(git, l, p, t.as_deref().unwrap_or(""))? {
            return Err(failure(format!(
                "{origin_r} is refused: it is a version of '{name}' this clone already had and replaced (a replay)"
            ))
            .hint("nothing was merged; someone with push access put an older file back. Ask the store's admin to restore the repository")
            .into());
        }
        if t != b {
            check_pulled(
                store,
                &name,
                &origin_r,
                blob(&t),
                blob(&b),
                &kr,
                kb.as_ref(),
                out,
            )?;
        }
        let keep = |bytes: Option<Vec<u8>>,
                    from_target: bool,
                    keys: &StoreKeys,
                    origin: &str|
         -> anyhow::Result<Outcome> {
            let Some(bytes) = bytes else {
                return Ok(Outcome::Removed);
            };
            if from_target || !store.can_open(&bytes) {
                return Ok(Outcome::Bytes(bytes));
            }
            let doc = store.decode_under(&name, origin, &bytes, keys)?;
            Ok(Outcome::Doc(Box::new(doc)))
        };
        let outcome = if ff || o == b {
            if !ff || t != o {
                out.pulled.push(name.clone());
            }
            keep(blob(&t), target_is_r, &kr, &origin_r)?
        } else if o == t || t == b {
            keep(blob(&o), target_is_l, &kl, p)?
        } else {
            // Changed on both sides.
            match (blob(&o), blob(&t)) {
                (Some(ob), Some(tb_)) if store.can_open(&ob) && store.can_open(&tb_) => {
                    let od = store.decode_under(&name, p, &ob, &kl)?;
                    let td = store.decode_under(&name, &origin_r, &tb_, &kr)?;
                    let bd = blob(&b).and_then(|bb| {
                        kb.as_ref()
                            .and_then(|k| store.decode_under(&name, p, &bb, k).ok())
                    });
                    let m = merge::merge3(bd.as_ref(), &od, &td)
                        .map_err(|e| failure(format!("cannot merge '{name}': {e}")))?;
                    if m.conflicts.is_empty() {
                        out.merged.push(name.clone());
                    } else {
                        conflicts.push((name.clone(), m.conflicts.clone(), td));
                    }
                    Outcome::Doc(Box::new(m.doc))
                }
                (Some(ob), Some(_)) => {
                    out.notes.push(format!(
                        "'{name}' changed on both sides and this key cannot read it (a group it is not in): kept this clone's version"
                    ));
                    keep(Some(ob), target_is_l, &kl, p)?
                }
                (Some(ob), None) => {
                    out.notes.push(format!(
                        "'{name}' was removed on the other side and changed here: kept"
                    ));
                    keep(Some(ob), target_is_l, &kl, p)?
                }
                (None, Some(tb_)) => {
                    out.notes.push(format!(
                        "'{name}' was removed here and changed on the other side: kept"
                    ));
                    out.pulled.push(name.clone());
                    keep(Some(tb_), target_is_r, &kr, &origin_r)?
                }
                (None, None) => Outcome::Removed,
            }
        };
        results.push((name, outcome));
    }

    // Install: the header first (its keys encrypt what follows), then the
    // files, then the commit. A kill anywhere here is redone from the
    // same commits by the next sync.
    write_marker(
        git,
        &Marker {
            local: l.to_string(),
            remote: r.to_string(),
        },
    )?;
    s.store.fault_point();
    if target.digest() != store.header().digest() {
        store.adopt_header(txn, &target)?;
        out.header_changed = true;
        s.store.fault_point();
    }
    for (name, o) in &results {
        match o {
            Outcome::Bytes(b) => store.write_config_bytes(txn, name, Some(b))?,
            Outcome::Removed => store.write_config_bytes(txn, name, None)?,
            Outcome::Doc(d) => {
                let bytes = store.encode_doc(d)?;
                store.write_config_bytes(txn, name, Some(&bytes))?;
            }
        }
    }
    for (name, fields, theirs) in &conflicts {
        store.write_conflict(name, fields, theirs)?;
    }
    write_meta_files(store)?;
    s.store.fault_point();
    if ff {
        git.run(&["reset", "-q", r])?;
    } else {
        // Exactly the files the merge wrote: nothing else in the working
        // tree reaches the commit (local changes go through commit_local).
        let mut paths: Vec<String> = results
            .iter()
            .map(|(n, _)| format!("configs/{n}.age"))
            .collect();
        paths.extend([".gitignore", ".gitattributes", HEADER_FILE].map(String::from));
        stage(git, &paths)?;
        let tree = git.text(&["write-tree"])?;
        let msg = format!(
            "authcfg sync: merge ({} pulled, {} merged, {} in conflict)",
            out.pulled.len(),
            out.merged.len(),
            conflicts.len()
        );
        let id = identity_args(git, &s.settings.user);
        let commit = git.text(&with_identity(
            &id,
            &["commit-tree", &tree, "-p", l, "-p", r, "-m", &msg],
        ))?;
        s.store.fault_point();
        git.run(&["update-ref", "-m", "authcfg sync", "HEAD", &commit, l])?;
    }
    s.store.fault_point();
    finish(s, txn, git, l, "HEAD", out)
}

/// Whether `blob` is a version `path` had somewhere in this clone's
/// history (from `head`): a file this clone already replaced, put back.
/// The merge base is the remote's to choose (a grafted history); this
/// clone's own history is not.
pub(super) fn seen_before(git: &Git, head: &str, path: &str, blob: &str) -> anyhow::Result<bool> {
    let out = git.run(&[
        "--literal-pathspecs",
        "log",
        "--format=",
        "--raw",
        "--no-abbrev",
        "--no-renames",
        head,
        "--",
        path,
    ])?;
    Ok(String::from_utf8_lossy(&out).lines().any(|l| {
        // :100644 100644 OLD NEW M\tpath
        l.split_whitespace().skip(2).take(2).any(|id| id == blob)
    }))
}

/// A config the remote changed: it authenticates under the remote's
/// header, is newer than the version it replaces (an older authentic file
/// put back is a replay), leaves a group only with proof of that group's
/// key, and is not a file this key should open but cannot. A file of a
/// group this key is not in cannot be checked here (its members check it).
#[allow(clippy::too_many_arguments)]
pub(super) fn check_pulled(
    store: &Store,
    name: &str,
    origin: &str,
    theirs: Option<Vec<u8>>,
    base: Option<Vec<u8>>,
    kr: &StoreKeys,
    kb: Option<&StoreKeys>,
    out: &mut Synced,
) -> anyhow::Result<()> {
    let refuse = |why: String| -> anyhow::Result<()> {
        Err(failure(format!("{origin} is refused: {why}"))
            .hint("nothing was merged; someone with push access changed it outside authcfg. Ask the store's admin to restore it in the repository")
            .into())
    };
    let base_doc = match &base {
        Some(b) if store.can_open(b) => Some(
            kb.and_then(|k| store.decode_under(name, origin, b, k).ok())
                .or_else(|| store.decode_under(name, origin, b, kr).ok()),
        ),
        _ => None,
    };
    let Some(t) = theirs else {
        out.notes
            .push(format!("'{name}' was removed on the other side"));
        return Ok(());
    };
    if t.len() as u64 > crate::store::fsutil::MAX_FILE {
        return refuse(format!("{} bytes, larger than any config", t.len()));
    }
    if !store.can_open(&t) {
        if store.access().is_none() {
            return refuse("no key of this store opens it (the admin's opens every config)".into());
        }
        if base_doc.is_some() {
            // Moved into a group this key is not in (or replaced by a file
            // only the admin and that group can check: they do).
            out.notes.push(format!(
                "'{name}' is now readable only by a group this key is not in"
            ));
        }
        return Ok(());
    }
    let td = store.decode_under(name, origin, &t, kr)?;
    match base_doc {
        Some(Some(bd)) => {
            // The same version is fine only as the same document (a
            // re-encryption by a recipient change).
            if td.version < bd.version || (td.version == bd.version && td != bd) {
                return refuse(format!(
                    "it is version {} of '{name}', not newer than version {} it replaces: an older file put back",
                    td.version, bd.version
                ));
            }
            let ok = store.scope_move_ok(kr, &bd, &td)
                || kb.is_some_and(|k| store.scope_move_ok(k, &bd, &td));
            if !ok {
                return refuse(format!(
                    "it moves '{name}' out of {} without proof of that group's key",
                    bd.meta.group.as_deref().map_or("the configs every recipient reads".to_string(), |g| format!("the group '{g}'"))
                ));
            }
        }
        Some(None) => {}
        None if base.is_some() => out.notes.push(format!(
            "'{name}' left a group this key is not in; only that group's members could check the move"
        )),
        None => {}
    }
    Ok(())
}

pub(super) fn key_ids(h: &Header) -> Vec<String> {
    h.store_keys.iter().map(|k| k.id.clone()).collect()
}

/// After HEAD moved from `from` to `to`: the index follows the files and
/// the trail records what came in.
pub(super) fn finish(
    s: &Session,
    txn: &Txn,
    git: &Git,
    from: &str,
    to: &str,
    out: &mut Synced,
) -> anyhow::Result<()> {
    let a = git.tree(from)?;
    let b = git.tree(to)?;
    let changed: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|p| a.get(*p) != b.get(*p))
        .filter_map(|p| config_name(p))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let keys_changed = match (header_at(git, &a), header_at(git, &b)) {
        (Ok(x), Ok(y)) => key_ids(&x) != key_ids(&y),
        _ => true,
    };
    let conflicted: BTreeSet<String> = s.store.conflicts().into_iter().collect();
    let audit: Vec<AuditIntent> = changed
        .iter()
        .map(|n| AuditIntent {
            version: None,
            action: "sync".into(),
            config: Some(n.clone()),
            outcome: if conflicted.contains(n) {
                "conflict".into()
            } else {
                "pulled".into()
            },
            detail: Some(format!("from {}", &to[..to.len().min(12)])),
        })
        .collect();
    if !changed.is_empty() || keys_changed {
        s.store.reindex(txn, &changed, keys_changed, &audit)?;
    }
    for n in &changed {
        if !out.pulled.contains(n) && !out.merged.contains(n) && !conflicted.contains(n) {
            out.pulled.push(n.clone());
        }
    }
    Ok(())
}
