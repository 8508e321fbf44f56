//! Conflicts: what each side holds (secrets masked), and `resolve`.

use super::*;

/// What the user said about each conflicting key.
pub enum Choice {
    Ours,
    Theirs,
    Fields(Vec<(String, bool)>),
}

/// `authcfg resolve NAME`: ends a conflict; the result is an ordinary
/// write (shared by the next sync).
pub fn resolve(s: &Session, name: &str, choice: Choice) -> anyhow::Result<Vec<String>> {
    let store = &s.store;
    let Some((fields, theirs)) = store.read_conflict(name)? else {
        return Err(usage(format!("'{name}' has no conflict to resolve"))
            .hint("`authcfg sync` lists conflicts")
            .into());
    };
    let take: Vec<String> = match &choice {
        Choice::Ours => vec![],
        Choice::Theirs => fields.clone(),
        Choice::Fields(list) => {
            for (f, _) in list {
                let key = if fields.contains(f) {
                    f.clone()
                } else {
                    format!("fields.{f}")
                };
                if !fields.contains(&key) {
                    return Err(usage(format!("'{f}' is not in conflict in '{name}'"))
                        .hint(format!("the conflicting fields: {}", fields.join(", ")))
                        .into());
                }
            }
            list.iter()
                .filter(|(_, theirs)| *theirs)
                .map(|(f, _)| {
                    if fields.contains(f) {
                        f.clone()
                    } else {
                        format!("fields.{f}")
                    }
                })
                .collect()
        }
    };
    if !take.is_empty() {
        let ours = store.read(name)?;
        let mut doc =
            merge::take_fields(&ours, &theirs, &take).map_err(|e| failure(e.to_string()))?;
        doc.meta.updated = crate::model::now();
        store.put(
            std::slice::from_ref(&doc),
            crate::store::WriteMode::Upsert,
            &[AuditIntent {
                version: None,
                action: "resolve".into(),
                config: Some(name.to_string()),
                outcome: "ok".into(),
                detail: Some(format!("theirs: {}", take.join(", "))),
            }],
        )?;
    } else {
        store.may_write()?;
        s.audit("resolve", Some(name), "ok", Some("kept ours"));
    }
    store.remove_conflict(name)?;
    Ok(take)
}

/// One key changed on both sides, as `conflicts` and `show` present it.
pub struct FieldConflict {
    /// The field's name (`password`), or the config's own key (`group`).
    pub key: String,
    pub secret: bool,
    /// Each side's value as shown: in clear, a secret as its masked tail;
    /// `None` where that side removed it.
    pub ours: Option<String>,
    pub theirs: Option<String>,
}

pub struct ConflictView {
    pub name: String,
    pub fields: Vec<FieldConflict>,
}

/// The configs in conflict (or only `name`), each conflicting key with
/// both sides.
pub fn conflicts(s: &Session, name: Option<&str>) -> anyhow::Result<Vec<ConflictView>> {
    let store = &s.store;
    let mut out = vec![];
    for n in store.conflicts() {
        if name.is_some_and(|x| x != n) {
            continue;
        }
        let Some((keys, theirs)) = store.read_conflict(&n)? else {
            continue;
        };
        let ours = store.read(&n)?;
        let fields = keys
            .iter()
            .map(|k| {
                let (secret, o) = shown(&ours, k);
                let (_, t) = shown(&theirs, k);
                FieldConflict {
                    key: k.strip_prefix("fields.").unwrap_or(k).to_string(),
                    secret,
                    ours: o,
                    theirs: t,
                }
            })
            .collect();
        out.push(ConflictView { name: n, fields });
    }
    Ok(out)
}

/// A key of a config as `conflicts` shows it: whether it is secret, and
/// its value (masked when secret).
pub(super) fn shown(doc: &ConfigDoc, key: &str) -> (bool, Option<String>) {
    if let Some(f) = key.strip_prefix("fields.") {
        let secret = crate::catalog::is_secret(doc.meta.kind, &doc.meta.type_id, f);
        let v = doc.fields.get(f).map(|v| {
            if secret {
                v.masked()
            } else {
                v.expose().to_string()
            }
        });
        return (secret, v);
    }
    let table = match toml::Value::try_from(doc) {
        Ok(toml::Value::Table(t)) => t,
        _ => toml::Table::new(),
    };
    let v = table.get(key).map(|v| match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    (false, v)
}
