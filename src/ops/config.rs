//! One config's life (docs/ARCHITECTURE.md, "Layers"): create, edit,
//! remove, roll back, import and record a test. Each function owns its
//! audit records and never prints; what the CLI or MCP shows is in what
//! it returns. A function that changes a config under the writer lock does
//! nothing in the lock but the change: no prompt, no output, no stdin.

use super::Session;
use crate::catalog::{self, FieldKind, FieldSpec};
use crate::connectors::Outcome;
use crate::error::{usage, UserError};
use crate::model::{ConfigDoc, Kind, Meta};
use crate::secret::Secret;
use crate::store::journal::AuditIntent;
use crate::store::WriteMode;
use std::collections::BTreeMap;

fn intent(action: &str, config: &str, outcome: &str, detail: Option<String>) -> AuditIntent {
    AuditIntent {
        version: None,
        action: action.into(),
        config: Some(config.to_string()),
        outcome: outcome.into(),
        detail,
    }
}

/// The fields a config of some type has: the one check of field names and
/// values, for the form (`cli::form`), `edit`, `import` and the editor.
#[derive(Clone, Copy)]
pub struct Form<'a> {
    pub fields: &'a [FieldSpec],
    /// Any variable name is a field (the `env` custom type).
    pub free_form: bool,
}

impl Form<'static> {
    /// The form of a config's kind and type (an unknown type: any field).
    pub fn of(kind: Kind, type_id: &str) -> Form<'static> {
        let (fields, free_form) = catalog::spec_for(kind, type_id).unwrap_or((&[], true));
        Form { fields, free_form }
    }
}

impl Form<'_> {
    /// The spec of a field, or a usage error with a did-you-mean.
    pub fn spec(&self, name: &str) -> Result<FieldSpec, UserError> {
        if let Some(f) = self.fields.iter().find(|f| f.name == name) {
            return Ok(f.clone());
        }
        if self.free_form {
            if !crate::env_names::is_env_name(name) {
                return Err(usage(format!("'{name}' is not a valid variable name"))
                    .hint("use letters, digits and '_', not starting with a digit (e.g. DATABASE_PASSWORD)"));
            }
            return Ok(FieldSpec {
                name: name.to_string(),
                kind: FieldKind::Text,
                label: None,
                required: false,
                secret: true,
                default: None,
                allowed: vec![],
                prompt: false,
                export: true,
                help: String::new(),
            });
        }
        let names: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        let mut err = usage(format!("unknown field '{name}'"));
        err = match crate::error::suggest(name, names.iter().copied()) {
            Some(s) => err.hint(format!("did you mean '{s}'? fields: {}", names.join(", "))),
            None => err.hint(format!("fields: {}", names.join(", "))),
        };
        Err(err)
    }

    /// Every value against its field's rules.
    pub fn validate(&self, values: &BTreeMap<String, Secret>) -> anyhow::Result<()> {
        for (k, v) in values {
            let spec = self.spec(k)?;
            // Optional fields may be empty (unset); required ones may not.
            if v.is_empty() && !spec.required {
                continue;
            }
            spec.validate(v.expose())?;
        }
        Ok(())
    }

    /// Whether a field holds a secret (an unknown field does).
    pub fn is_secret(&self, field: &str) -> bool {
        self.spec(field).map(|s| s.secret).unwrap_or(true)
    }
}

/// Writes a new config (replacing one only with `force`), audited `add` in
/// the same transaction; `what` is the audit detail ("custom bearer").
pub fn create(s: &Session, doc: &ConfigDoc, force: bool, what: &str) -> anyhow::Result<()> {
    let mode = if force {
        WriteMode::Upsert
    } else {
        WriteMode::Create
    };
    s.store.put(
        std::slice::from_ref(doc),
        mode,
        &[intent("add", &doc.meta.name, "ok", Some(what.into()))],
    )
}

/// A connection test of a config that was not saved (it failed before
/// `add` saved it): only the audit trail keeps it.
pub fn note_unsaved_test(s: &Session, name: &str, outcome: &Outcome) {
    s.audit(
        "test",
        Some(name),
        outcome.audit_outcome(),
        Some(outcome.class.label()),
    );
}

/// Records a test's result on the config (`list`'s Status column), pins an
/// SSH host key the user accepted, and audits it as `action` (`test`,
/// `mcp.test_config`): the same record from every entry point.
pub fn record_test(s: &Session, name: &str, outcome: &Outcome, action: &str) -> anyhow::Result<()> {
    let rec = outcome.record();
    s.store.update_if(name, |d| {
        d.meta.last_test = Some(rec);
        if let Some(fp) = &outcome.host_key_to_pin {
            d.fields.insert("host_key".into(), Secret::new(fp.clone()));
        }
        Ok(Some(intent(
            action,
            name,
            outcome.audit_outcome(),
            Some(outcome.class.label().into()),
        )))
    })?;
    Ok(())
}

/// What `edit` changes; values already parsed (and read from stdin) by the
/// caller, before the lock.
#[derive(Default)]
pub struct Change {
    pub set: BTreeMap<String, Secret>,
    pub unset: Vec<String>,
    /// `Some(None)`: readable by every recipient again.
    pub group: Option<Option<String>>,
    pub allow_startup_vars: Option<bool>,
}

impl Change {
    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
            && self.unset.is_empty()
            && self.group.is_none()
            && self.allow_startup_vars.is_none()
    }
}

/// Changes fields in place under the writer lock: a changed secret keeps
/// the old value in the history, resets the rotation time and the last
/// test. Returns the names of what changed (the audit detail).
pub fn edit(s: &Session, name: &str, change: &Change) -> anyhow::Result<Vec<String>> {
    let mut changed = vec![];
    s.store.update_if(name, |doc| {
        let form = Form::of(doc.meta.kind, &doc.meta.type_id);
        for f in &change.unset {
            if let Some(spec) = form.fields.iter().find(|s| &s.name == f) {
                if spec.required {
                    return Err(usage(format!("'{f}' is required and cannot be unset")).into());
                }
            } else if !form.free_form {
                return Err(usage(format!("unknown field '{f}'")).into());
            }
            doc.fields.remove(f);
        }
        let changed_secrets: Vec<String> = change
            .set
            .iter()
            .filter(|(k, v)| {
                catalog::is_secret(doc.meta.kind, &doc.meta.type_id, k)
                    && doc.fields.get(*k) != Some(v)
            })
            .map(|(k, _)| k.clone())
            .collect();
        doc.remember(&changed_secrets, "edit");
        let mut names = vec![];
        for (k, v) in &change.set {
            names.push(k.clone());
            doc.fields.insert(k.clone(), v.clone());
        }
        form.validate(&doc.fields)?;
        if !changed_secrets.is_empty() {
            doc.meta.rotated = crate::model::now();
            // The old test result says nothing about the new credential.
            doc.meta.last_test = None;
        }
        doc.refresh_account();
        names.extend(change.unset.iter().cloned());
        if let Some(g) = &change.group {
            doc.meta.group = g.clone();
            names.push("group".into());
        }
        if let Some(allow) = change.allow_startup_vars {
            doc.meta.allow_startup_vars = allow;
            names.push("allow-startup-vars".into());
        }
        if form.free_form && !doc.meta.allow_startup_vars {
            crate::export::refuse_startup_vars(
                &doc.meta.name,
                doc.fields.keys().map(String::as_str),
            )?;
        }
        let detail = format!("fields: {}", names.join(", "));
        changed = names;
        Ok(Some(intent("update", &doc.meta.name, "ok", Some(detail))))
    })?;
    Ok(changed)
}

/// What `rollback` put back.
pub struct RolledBack {
    pub fields: Vec<String>,
    pub kind: Kind,
}

/// Puts back the `to`-th previous value (1 = the most recent); the values
/// it replaces go to the history in turn.
pub fn rollback(s: &Session, name: &str, to: usize) -> anyhow::Result<RolledBack> {
    let mut restored = RolledBack {
        fields: vec![],
        kind: Kind::Custom,
    };
    s.store.update_if(name, |d| {
        let entry = d.history.get(to.wrapping_sub(1)).cloned().ok_or_else(|| {
            usage(format!(
                "'{name}' has {} previous value(s); --to {to} is not one",
                d.history.len(),
            ))
        })?;
        d.history.remove(to - 1);
        let names: Vec<String> = entry.fields.keys().cloned().collect();
        d.remember(&names, "rollback");
        d.fields.extend(entry.fields);
        d.meta.rotated = crate::model::now();
        d.meta.last_test = None;
        let detail = names.join(", ");
        restored = RolledBack {
            fields: names,
            kind: d.meta.kind,
        };
        Ok(Some(intent("rollback", name, "ok", Some(detail))))
    })?;
    Ok(restored)
}

/// What happened to an OAuth2 config's tokens when it was removed.
#[derive(Debug, PartialEq, Eq)]
pub enum Revocation {
    /// Not an OAuth2 config, or `--keep-tokens`.
    NotAsked,
    Revoked,
    /// The provider has no revocation endpoint.
    NoEndpoint,
}

/// What `remove` did besides removing.
pub struct Removed {
    pub revocation: Revocation,
    /// The config could not be read (it was removed anyway): why.
    pub unreadable: Option<anyhow::Error>,
}

/// Removes one config: an OAuth2 config's tokens are revoked first (unless
/// `keep_tokens`; a failed revocation removes nothing), and its uses are
/// forgotten (a new config of the same name starts with none). A damaged
/// config can be removed; only an OAuth2 one needs reading.
pub fn remove(s: &Session, name: &str, keep_tokens: bool) -> anyhow::Result<Removed> {
    let mut removed = Removed {
        revocation: Revocation::NotAsked,
        unreadable: None,
    };
    let doc = match s.store.read(name) {
        Ok(d) => Some(d),
        Err(e) => {
            let oauth = s
                .store
                .lookup_meta(name)
                .is_some_and(|m| m.kind == Kind::Oauth2);
            if oauth && !keep_tokens {
                return Err(e.context(format!(
                    "'{name}' cannot be read, so its tokens cannot be revoked; nothing was removed (pass --keep-tokens to remove it anyway)"
                )));
            }
            removed.unreadable = Some(e);
            None
        }
    };
    if let Some(doc) = doc.filter(|d| crate::oauth::tokens::is_oauth(d) && !keep_tokens) {
        match crate::oauth::tokens::revoke(&doc) {
            Ok(true) => {
                s.audit("revoke", Some(name), "ok", None);
                removed.revocation = Revocation::Revoked;
            }
            Ok(false) => removed.revocation = Revocation::NoEndpoint,
            Err(e) => {
                s.audit("revoke", Some(name), "error", Some(&e.to_string()));
                return Err(e.context(format!(
                    "could not revoke the tokens of '{name}'; nothing was removed (pass --keep-tokens to remove it anyway)"
                )));
            }
        }
    }
    s.store
        .remove(&[name.to_string()], &[intent("remove", name, "ok", None)])?;
    let _ = s.store.usage().forget(name, &|n| s.store.exists(n));
    Ok(removed)
}

/// Imports configs all or nothing (`Store::import`), each audited `import`
/// with its type. `docs` is consumed as it is produced; `progress` is told
/// how many are in.
pub fn import(
    s: &Session,
    docs: &mut dyn Iterator<Item = anyhow::Result<ConfigDoc>>,
    force: bool,
    progress: &dyn Fn(usize),
) -> anyhow::Result<usize> {
    s.store.import(
        docs,
        force,
        &|m: &Meta| intent("import", &m.name, "ok", Some(m.type_id.clone())),
        progress,
    )
}

/// An OAuth2 authorization that failed before anything was saved: the
/// trail keeps it.
pub fn note_failed_authorization(s: &Session, name: &str, e: &anyhow::Error) {
    s.audit("authorize", Some(name), "error", Some(&e.to_string()));
}
