//! What git runs for `configs/**`: the merge driver and the textconv
//! that shows a config decrypted (secrets masked).

use super::*;

/// git's merge driver for `configs/**` (a `git merge` or `git pull` run
/// by hand): merges the decrypted documents into `ours`. Returns whether
/// the merge is clean (git takes a non-zero exit as a conflict; the file
/// then still holds our valid version, never markers).
pub fn merge_driver(
    s: &Session,
    base: &Path,
    ours: &Path,
    theirs: &Path,
    path: &str,
) -> anyhow::Result<bool> {
    let store = &s.store;
    store.may_write()?;
    let name = config_name(path)
        .ok_or_else(|| usage(format!("{path} is not a config file of the store")))?;
    let keys = store.store_keys();
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
    let (ob, tb, bb) = (read(ours)?, read(theirs)?, read(base)?);
    let od = store.decode_under(&name, path, &ob, &keys)?;
    let td = store.decode_under(&name, path, &tb, &keys)?;
    let bd = if bb.is_empty() {
        None
    } else {
        store.decode_under(&name, path, &bb, &keys).ok()
    };
    let m = merge::merge3(bd.as_ref(), &od, &td).map_err(|e| failure(e.to_string()))?;
    let bytes = store.encode_doc(&m.doc)?;
    std::fs::write(ours, bytes).with_context(|| format!("cannot write {}", ours.display()))?;
    if m.conflicts.is_empty() {
        return Ok(true);
    }
    store.write_conflict(&name, &m.conflicts, &td)?;
    Ok(false)
}

/// git's textconv for `configs/**`: which fields a version holds, each
/// value masked with a keyed tag (a change shows as a changed tag; the
/// tag reveals nothing without the store key).
pub fn textconv(s: &Session, file: &Path) -> anyhow::Result<String> {
    let store = &s.store;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    if bytes.is_empty() {
        return Ok(String::new());
    }
    if !store.can_open(&bytes) {
        return Ok("(encrypted for a group this key is not in)\n".into());
    }
    let name = store
        .peek_name(&bytes)
        .ok_or_else(|| failure("not an authcfg config"))?;
    let keys = store.store_keys();
    let Ok(doc) = store.decode_under(&name, &file.to_string_lossy(), &bytes, &keys) else {
        // An older version, under store keys replaced since (or forged).
        return Ok(format!(
            "name = {name}\n(a version that does not authenticate under the current store keys)\n"
        ));
    };
    let tagkey = keys.journal_key();
    let tag = |k: &str, v: &str| {
        let m = crate::store::crypto::mac(
            &tagkey,
            &[
                b"authcfg textconv",
                name.as_bytes(),
                k.as_bytes(),
                v.as_bytes(),
            ],
        );
        hex::encode(&m[..4])
    };
    let mut out = String::new();
    let m = &doc.meta;
    out.push_str(&format!("name = {}\n", m.name));
    out.push_str(&format!("kind = {} ({})\n", m.kind.as_str(), m.type_id));
    if let Some(g) = &m.group {
        out.push_str(&format!("group = {g}\n"));
    }
    out.push_str(&format!("updated = {}\n", crate::model::rfc3339(m.updated)));
    out.push_str(&format!("rotated = {}\n", crate::model::rfc3339(m.rotated)));
    if let Some(a) = &m.account {
        out.push_str(&format!(
            "account = •••• [{}]\n",
            tag("account", a.as_received())
        ));
    }
    if let Some(e) = m.expires {
        out.push_str(&format!("expires = {}\n", crate::model::rfc3339(e)));
    }
    for (k, v) in &doc.fields {
        out.push_str(&format!("fields.{k} = •••• [{}]\n", tag(k, v.expose())));
    }
    out.push_str(&format!(
        "history = {} earlier value(s)\n",
        doc.history.len()
    ));
    Ok(out)
}

/// Who changed what in the header, for a refused one (labels and short
/// keys; the header holds no secrets). The remote's labels are outside
/// text: escaped (docs/ARCHITECTURE.md, "Outside text").
pub(super) fn header_diff(ours: &Header, theirs: &Header) -> String {
    let mut lines = vec![];
    let fmt = |r: &crate::store::header::Recipient| {
        format!(
            "{} ({}, {})",
            crate::text::escape(&r.label, 100),
            crate::store::short_key(&r.public_key),
            if r.label == crate::store::header::MASTER {
                "admin"
            } else {
                r.role.as_str()
            }
        )
    };
    for r in &theirs.recipients {
        match ours
            .recipients
            .iter()
            .find(|o| o.public_key == r.public_key)
        {
            None => lines.push(format!("  + recipient {}", fmt(r))),
            Some(o) if o != r => lines.push(format!("  ~ recipient {}", fmt(r))),
            _ => {}
        }
    }
    for o in &ours.recipients {
        if !theirs
            .recipients
            .iter()
            .any(|r| r.public_key == o.public_key)
        {
            lines.push(format!("  - recipient {}", fmt(o)));
        }
    }
    if ours.admin_key != theirs.admin_key {
        lines.push("  ~ admin key".into());
    }
    if lines.is_empty() {
        String::new()
    } else {
        format!(
            "\nthe remote's header differs from this clone's:\n{}",
            lines.join("\n")
        )
    }
}
