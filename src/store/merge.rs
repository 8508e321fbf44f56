//! Three-way merge of one config's decrypted documents (docs/ARCHITECTURE.md,
//! "Team stores"). Field by field: a field changed on one side takes that
//! side's value; changed on both sides to different values is a conflict
//! that keeps ours. An OAuth2 token set is taken whole from the side that
//! obtained it last (two machines refreshing is normal, not a conflict);
//! histories are united; `updated`, `rotated` and `last_test` take the
//! newer. Pure: no I/O, no keys.

use crate::model::{ConfigDoc, Kind, HISTORY_LIMIT};
use std::collections::{BTreeMap, BTreeSet};
use toml::Value;

/// The fields and meta keys of an OAuth2 token response: one unit.
const TOKEN_FIELDS: [&str; 5] = [
    "access_token",
    "refresh_token",
    "id_token",
    "token_type",
    "granted_scopes",
];
const TOKEN_META: [&str; 3] = ["issued", "expires", "refresh_expires"];
/// Meta keys merged by their own rule, not field by field.
const NEWEST: [&str; 2] = ["updated", "rotated"];

pub struct Merged {
    pub doc: ConfigDoc,
    /// The keys changed on both sides (`fields.password`, `account`): the
    /// result holds ours for each.
    pub conflicts: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("the merged document is not a valid config ({0})")]
pub struct MergeError(String);

fn table(doc: &ConfigDoc) -> toml::Table {
    match Value::try_from(doc) {
        Ok(Value::Table(t)) => t,
        _ => toml::Table::new(),
    }
}

fn fields_of(t: &toml::Table) -> toml::Table {
    t.get("fields")
        .and_then(Value::as_table)
        .cloned()
        .unwrap_or_default()
}

/// The three-way choice for one key. `None`: absent on that side.
fn pick<'v>(
    base: Option<&'v Value>,
    ours: Option<&'v Value>,
    theirs: Option<&'v Value>,
) -> Result<Option<&'v Value>, ()> {
    if ours == theirs || theirs == base {
        Ok(ours)
    } else if ours == base {
        Ok(theirs)
    } else {
        Err(())
    }
}

fn time_of(t: &toml::Table, key: &str) -> Option<String> {
    // RFC 3339 UTC whole-second strings compare in time order.
    t.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Merges `ours` and `theirs`, which both descend from `base` (`None`: the
/// config did not exist there, both sides added it).
pub fn merge3(
    base: Option<&ConfigDoc>,
    ours: &ConfigDoc,
    theirs: &ConfigDoc,
) -> Result<Merged, MergeError> {
    let b = base.map(table).unwrap_or_default();
    let o = table(ours);
    let t = table(theirs);
    let mut out = toml::Table::new();
    let mut conflicts = vec![];
    let oauth = ours.meta.kind == Kind::Oauth2 && theirs.meta.kind == Kind::Oauth2;

    // The token set: whole, from the side that obtained it last.
    let (bf, of, tf) = (fields_of(&b), fields_of(&o), fields_of(&t));
    let token_side = if oauth {
        let differs = |x: &toml::Table, y: &toml::Table, xf: &toml::Table, yf: &toml::Table| {
            TOKEN_FIELDS.iter().any(|k| xf.get(*k) != yf.get(*k))
                || TOKEN_META.iter().any(|k| x.get(*k) != y.get(*k))
        };
        let o_changed = differs(&o, &b, &of, &bf);
        let t_changed = differs(&t, &b, &tf, &bf);
        Some(match (o_changed, t_changed) {
            (_, false) => &o,
            (false, true) => &t,
            (true, true) => {
                if time_of(&t, "issued") > time_of(&o, "issued") {
                    &t
                } else {
                    &o
                }
            }
        })
    } else {
        None
    };

    let keys: BTreeSet<&String> = b.keys().chain(o.keys()).chain(t.keys()).collect();
    for k in keys {
        let k = k.as_str();
        match k {
            "fields" | "history" | "version" => continue,
            _ if NEWEST.contains(&k) => {
                let v = match (o.get(k), t.get(k)) {
                    (Some(x), Some(y)) => Some(if y.as_str() > x.as_str() { y } else { x }),
                    (x, y) => x.or(y),
                };
                if let Some(v) = v {
                    out.insert(k.into(), v.clone());
                }
            }
            "last_test" => {
                let at = |v: Option<&Value>| {
                    v.and_then(|v| v.get("at"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                };
                let v = if at(t.get(k)) > at(o.get(k)) {
                    t.get(k)
                } else {
                    o.get(k).or(t.get(k))
                };
                if let Some(v) = v {
                    out.insert(k.into(), v.clone());
                }
            }
            _ if token_side.is_some() && (TOKEN_META.contains(&k) || k == "account") => {
                let side = token_side.unwrap();
                if k == "account" {
                    // The account follows the token set when the token set
                    // changed it; otherwise three-way.
                    match pick(b.get(k), o.get(k), t.get(k)) {
                        Ok(v) => {
                            if let Some(v) = v {
                                out.insert(k.into(), v.clone());
                            }
                        }
                        Err(()) => {
                            if let Some(v) = side.get(k) {
                                out.insert(k.into(), v.clone());
                            }
                        }
                    }
                } else if let Some(v) = side.get(k) {
                    out.insert(k.into(), v.clone());
                }
            }
            _ => match pick(b.get(k), o.get(k), t.get(k)) {
                Ok(v) => {
                    if let Some(v) = v {
                        out.insert(k.into(), v.clone());
                    }
                }
                Err(()) => {
                    conflicts.push(k.to_string());
                    if let Some(v) = o.get(k) {
                        out.insert(k.into(), v.clone());
                    }
                }
            },
        }
    }

    let mut fields = toml::Table::new();
    let fkeys: BTreeSet<&String> = bf.keys().chain(of.keys()).chain(tf.keys()).collect();
    for k in fkeys {
        let k = k.as_str();
        if let Some(side) = token_side.filter(|_| TOKEN_FIELDS.contains(&k)) {
            if let Some(v) = fields_of(side).get(k) {
                fields.insert(k.into(), v.clone());
            }
            continue;
        }
        match pick(bf.get(k), of.get(k), tf.get(k)) {
            Ok(v) => {
                if let Some(v) = v {
                    fields.insert(k.into(), v.clone());
                }
            }
            Err(()) => {
                conflicts.push(format!("fields.{k}"));
                if let Some(v) = of.get(k) {
                    fields.insert(k.into(), v.clone());
                }
            }
        }
    }
    out.insert("fields".into(), Value::Table(fields));

    // Histories: the union, newest first, deduplicated, capped.
    let mut seen = BTreeMap::new();
    for h in ours.history.iter().chain(theirs.history.iter()) {
        let key = toml::to_string(h).unwrap_or_default();
        seen.entry((h.replaced, key)).or_insert_with(|| h.clone());
    }
    let mut doc: ConfigDoc = Value::Table(out)
        .try_into()
        .map_err(|e: toml::de::Error| MergeError(e.message().to_string()))?;
    doc.history = seen.into_values().rev().take(HISTORY_LIMIT).collect();
    // A merge is a new write of the config.
    doc.version = ours.version.max(theirs.version) + 1;
    // The account of a custom or connector config is derived from its
    // fields: it follows them, and is never a conflict of its own.
    if doc.meta.kind != Kind::Oauth2 {
        conflicts.retain(|k| k != "account");
        doc.refresh_account();
    }
    Ok(Merged { doc, conflicts })
}

/// The result of taking `theirs` for the given keys of a conflict and ours
/// for the rest (`resolve --field`).
pub fn take_fields(
    ours: &ConfigDoc,
    theirs: &ConfigDoc,
    keys: &[String],
) -> Result<ConfigDoc, MergeError> {
    let mut o = table(ours);
    let t = table(theirs);
    let (mut of, tf) = (fields_of(&o), fields_of(&t));
    for k in keys {
        if let Some(f) = k.strip_prefix("fields.") {
            match tf.get(f) {
                Some(v) => of.insert(f.into(), v.clone()),
                None => of.remove(f),
            };
        } else {
            match t.get(k) {
                Some(v) => o.insert(k.clone(), v.clone()),
                None => o.remove(k),
            };
        }
    }
    o.insert("fields".into(), Value::Table(of));
    let mut doc: ConfigDoc = Value::Table(o)
        .try_into()
        .map_err(|e: toml::de::Error| MergeError(e.message().to_string()))?;
    settle_derived(&mut doc, ours, theirs);
    Ok(doc)
}

/// The columns derived from a config's values (account, status, rotated)
/// after `resolve` mixed two sides: the account from the fields, the last
/// test result of the side whose values the result holds (none when it
/// mixes them: that combination was never tested), and the rotation time
/// of the side whose secrets it holds.
fn settle_derived(doc: &mut ConfigDoc, ours: &ConfigDoc, theirs: &ConfigDoc) {
    doc.refresh_account();
    if doc.fields == ours.fields {
        doc.meta.last_test = ours.meta.last_test.clone();
    } else if doc.fields == theirs.fields {
        doc.meta.last_test = theirs.meta.last_test.clone();
    } else {
        doc.meta.last_test = None;
    }
    let (mine, o, t) = (secrets_of(doc), secrets_of(ours), secrets_of(theirs));
    let rotated = if mine == o {
        ours.meta.rotated
    } else if mine == t {
        theirs.meta.rotated
    } else {
        ours.meta.rotated.max(theirs.meta.rotated)
    };
    doc.meta.rotated = rotated;
}

fn secrets_of(d: &ConfigDoc) -> Vec<(&String, &crate::secret::Secret)> {
    d.fields
        .iter()
        .filter(|(k, _)| crate::catalog::is_secret(d.meta.kind, &d.meta.type_id, k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn doc(fields: &[(&str, &str)]) -> ConfigDoc {
        let mut d = ConfigDoc::new("db", Kind::Custom, "basic");
        for (k, v) in fields {
            d.fields.insert(k.to_string(), Secret::new(*v));
        }
        d
    }

    #[test]
    fn different_fields_merge_cleanly() {
        let b = doc(&[("user", "u"), ("password", "p")]);
        let o = doc(&[("user", "u2"), ("password", "p")]);
        let t = doc(&[("user", "u"), ("password", "p2")]);
        let m = merge3(Some(&b), &o, &t).unwrap();
        assert!(m.conflicts.is_empty());
        assert_eq!(m.doc.get("user"), Some("u2"));
        assert_eq!(m.doc.get("password"), Some("p2"));
    }

    #[test]
    fn the_same_field_conflicts_and_keeps_ours() {
        let b = doc(&[("password", "p")]);
        let o = doc(&[("password", "ours")]);
        let t = doc(&[("password", "theirs")]);
        let m = merge3(Some(&b), &o, &t).unwrap();
        assert_eq!(m.conflicts, vec!["fields.password".to_string()]);
        assert_eq!(m.doc.get("password"), Some("ours"));
        let r = take_fields(&m.doc, &t, &m.conflicts).unwrap();
        assert_eq!(r.get("password"), Some("theirs"));
    }

    #[test]
    fn the_account_follows_the_fields_and_the_status_the_values() {
        let with = |user: &str, ok: bool| {
            let mut d = doc(&[("username", user), ("password", "p")]);
            d.refresh_account();
            d.meta.last_test = Some(crate::model::TestRecord {
                at: crate::model::now(),
                ok,
                class: String::new(),
                detail: String::new().into(),
            });
            d
        };
        let b = with("app", true);
        let o = with("ours-user", true);
        let t = with("theirs-user", false);
        let m = merge3(Some(&b), &o, &t).unwrap();
        // The username is the conflict; the account derived from it is not.
        assert_eq!(m.conflicts, vec!["fields.username".to_string()]);
        assert_eq!(
            m.doc.meta.account.as_ref().map(|a| a.as_received()),
            Some("ours-user")
        );
        let r = take_fields(&m.doc, &t, &m.conflicts).unwrap();
        assert_eq!(
            r.meta.account.as_ref().map(|a| a.as_received()),
            Some("theirs-user")
        );
        assert_eq!(
            r.meta.last_test, t.meta.last_test,
            "their values, their test"
        );
        // Their user with our password: a combination nobody tested.
        let mut t2 = t.clone();
        t2.fields.insert("password".into(), Secret::new("p2"));
        let r = take_fields(&o, &t2, &["fields.username".into()]).unwrap();
        assert_eq!(
            r.meta.account.as_ref().map(|a| a.as_received()),
            Some("theirs-user")
        );
        assert_eq!(r.meta.last_test, None);
        assert_eq!(r.meta.rotated, o.meta.rotated, "our secrets, our rotation");
    }

    #[test]
    fn a_field_removed_on_one_side_goes() {
        let b = doc(&[("a", "1"), ("b", "2")]);
        let o = doc(&[("a", "1")]);
        let t = doc(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let m = merge3(Some(&b), &o, &t).unwrap();
        assert!(m.conflicts.is_empty());
        assert_eq!(m.doc.get("b"), None);
        assert_eq!(m.doc.get("c"), Some("3"));
    }

    #[test]
    fn the_newer_token_set_wins_whole() {
        let mut b = doc(&[("access_token", "at0"), ("refresh_token", "rt0")]);
        b.meta.kind = Kind::Oauth2;
        let t0 = crate::model::now();
        b.meta.issued = Some(t0);
        let mut o = b.clone();
        o.fields
            .insert("access_token".into(), Secret::new("at-ours"));
        o.meta.issued = Some(t0 + time::Duration::seconds(10));
        let mut t = b.clone();
        t.fields
            .insert("access_token".into(), Secret::new("at-theirs"));
        t.fields
            .insert("refresh_token".into(), Secret::new("rt-theirs"));
        t.meta.issued = Some(t0 + time::Duration::seconds(20));
        let m = merge3(Some(&b), &o, &t).unwrap();
        assert!(m.conflicts.is_empty(), "{:?}", m.conflicts);
        assert_eq!(m.doc.get("access_token"), Some("at-theirs"));
        assert_eq!(m.doc.get("refresh_token"), Some("rt-theirs"));
        assert_eq!(m.doc.meta.issued, t.meta.issued);
        let m = merge3(Some(&b), &t, &o).unwrap();
        assert_eq!(m.doc.get("access_token"), Some("at-theirs"));
    }

    #[test]
    fn histories_are_united() {
        let b = doc(&[("password", "p0")]);
        let mut o = b.clone();
        o.remember(&["password".into()], "rotate");
        o.fields.insert("password".into(), Secret::new("p1"));
        let mut t = b.clone();
        t.history = o.history.clone();
        t.history[0].by = "edit".into();
        let m = merge3(Some(&b), &o, &t).unwrap();
        assert_eq!(m.doc.history.len(), 2);
        assert_eq!(m.doc.get("password"), Some("p1"));
    }
}
