//! `rotate NAME`: replacing a credential. Database and cache passwords
//! rotate in two phases on the server: the new password is saved first
//! (the old one in the history), set on the server, proven with a fresh
//! connection; on any failure the old one is put back in both places.
//! Other secrets take a new value (from the user, or generated).

use super::Session;
use crate::catalog;
use crate::catalog::connectors::Connector;
use crate::connectors::{self, rotate as server};
use crate::error::{usage, Exit, UserError};
use crate::model::{ConfigDoc, Kind};
use crate::secret::Secret;
use crate::store::journal::AuditIntent;
use rand::Rng;
use std::time::Duration;

fn intent(name: &str, outcome: &str, detail: &str) -> AuditIntent {
    AuditIntent {
        version: None,
        action: "rotate".into(),
        config: Some(name.to_string()),
        outcome: outcome.into(),
        detail: Some(detail.to_string()),
    }
}

pub fn generate(length: usize, charset: &str) -> String {
    let chars: &[u8] = match charset {
        "hex" => b"0123456789abcdef",
        "symbols" => b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.~!@#%^*+=",
        _ => b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
    };
    let mut rng = rand::rng();
    (0..length.clamp(12, 256))
        .map(|_| chars[rng.random_range(0..chars.len())] as char)
        .collect()
}

/// The field that holds the credential, by type.
pub fn secret_field(doc: &ConfigDoc, given: Option<&str>) -> anyhow::Result<String> {
    if let Some(f) = given {
        return Ok(f.to_string());
    }
    let (fields, _) = catalog::spec_for(doc.meta.kind, &doc.meta.type_id).unwrap_or((&[], true));
    let candidates: Vec<&str> = fields
        .iter()
        .filter(|f| f.secret && f.prompt && f.kind != crate::catalog::FieldKind::Text)
        .map(|f| f.name.as_str())
        .collect();
    let preferred = [
        "password",
        "api_key",
        "token",
        "client_secret",
        "secret_access_key",
        "api_token",
        "auth_token",
    ];
    preferred
        .iter()
        .find(|p| candidates.contains(p))
        .or(candidates.first())
        .map(|s| s.to_string())
        .ok_or_else(|| {
            usage(format!(
                "'{}' has no single secret field to rotate",
                doc.meta.name
            ))
            .hint("name it with --field FIELD")
            .into()
        })
}

/// The connector whose server can change this field's password, if any.
pub fn on_server(doc: &ConfigDoc, field: &str) -> Option<&'static Connector> {
    (doc.meta.kind == Kind::Connector && field == "password")
        .then(|| catalog::connectors::find(&doc.meta.type_id))
        .flatten()
        .filter(|c| server::supported(&c.probe))
}

/// Checks a new value against the field's rules.
pub fn validate(doc: &ConfigDoc, field: &str, new: &Secret) -> anyhow::Result<()> {
    if let Some((fields, _)) = catalog::spec_for(doc.meta.kind, &doc.meta.type_id) {
        if let Some(spec) = fields.iter().find(|f| f.name == field) {
            spec.validate(new.expose())?;
        }
    }
    Ok(())
}

/// Two-phase rotation of a database/cache password on its server.
pub fn on_server_password(
    s: &Session,
    doc: &ConfigDoc,
    connector: &Connector,
    field: &str,
    new: Secret,
    admin: Option<&str>,
    timeout: Duration,
) -> anyhow::Result<()> {
    let name = doc.meta.name.clone();
    let admin_doc = match admin {
        Some(a) => s.store.read(a)?,
        None => doc.clone(),
    };
    let user = doc.get("username").unwrap_or_default().to_string();
    // Phase 0: save the new password first, the old one in the history,
    // so no instant exists where the server has a password the store has
    // lost.
    let old = doc.get(field).unwrap_or_default().to_string();
    s.store.update_if(&name, |d| {
        d.remember(&[field.to_string()], "rotate");
        d.fields.insert(field.to_string(), new.clone());
        Ok(Some(intent(
            &name,
            "started",
            "server password: new one saved, old one in history",
        )))
    })?;
    let restore = |why: &str| -> anyhow::Result<()> {
        s.store.update_if(&name, |d| {
            d.fields.insert(field.to_string(), Secret::new(old.clone()));
            if d.history.first().is_some_and(|h| h.by == "rotate") {
                d.history.remove(0);
            }
            Ok(Some(intent(&name, "error", why)))
        })?;
        Ok(())
    };
    if let Err(reason) =
        server::set_password(&connector.probe, &admin_doc, &user, new.expose(), timeout)
    {
        restore("server refused; old password restored")?;
        return Err(UserError::new(Exit::Error, format!("the server refused to change the password: {reason}"))
            .hint("nothing changed: the old password still works and is saved; pass --admin CONFIG to use an account allowed to change it")
            .into());
    }
    let mut fresh = doc.clone();
    fresh.fields.insert(field.to_string(), new.clone());
    let outcome = connectors::probe(&fresh, timeout);
    // Nothing to probe is not a failure: the server took the password.
    if outcome.failed() {
        // Put the old one back, connected with the new one (or the admin).
        let back_admin = if admin.is_some() {
            admin_doc
        } else {
            fresh.clone()
        };
        let state = match server::set_password(&connector.probe, &back_admin, &user, &old, timeout)
        {
            Ok(()) => {
                restore("new password failed its test; old one restored")?;
                "the old password was put back on the server and in the config".to_string()
            }
            Err(e) => {
                s.audit(
                    "rotate",
                    Some(&name),
                    "error",
                    Some("new password failed; revert failed"),
                );
                format!("putting the old one back failed ({e}); the NEW password stays saved and the old one is in `authcfg history`")
            }
        };
        return Err(UserError::new(
            Exit::TestFailed,
            format!(
                "the new password did not work ({}: {}); {state}",
                outcome.class.label(),
                outcome.detail
            ),
        )
        .into());
    }
    s.store.update_if(&name, |d| {
        d.meta.rotated = crate::model::now();
        d.meta.last_test = Some(outcome.record());
        Ok(Some(intent(&name, "ok", "server password")))
    })?;
    Ok(())
}

/// A new value for one secret field; the old one goes to the history.
pub fn new_value(s: &Session, name: &str, field: &str, new: Secret) -> anyhow::Result<()> {
    s.store.update_if(name, |d| {
        d.remember(&[field.to_string()], "rotate");
        d.fields.insert(field.to_string(), new.clone());
        d.meta.rotated = crate::model::now();
        d.meta.last_test = None;
        Ok(Some(intent(name, "ok", field)))
    })?;
    Ok(())
}

/// Saves a new OAuth authorization (after revoking the old tokens).
pub fn save_authorization(
    s: &Session,
    fresh: &ConfigDoc,
    action: &str,
    detail: &str,
) -> anyhow::Result<()> {
    let name = fresh.meta.name.clone();
    s.store.update_if(&name, |d| {
        d.fields = fresh.fields.clone();
        d.history = fresh.history.clone();
        // A manual `oauth2` custom config becomes an OAuth2 config when it
        // is first authorized (the one OAuth2 path).
        d.meta.kind = fresh.meta.kind;
        d.meta.type_id = fresh.meta.type_id.clone();
        d.meta.expires = fresh.meta.expires;
        d.meta.issued = fresh.meta.issued;
        d.meta.account = fresh.meta.account.clone();
        d.meta.rotated = crate::model::now();
        d.meta.last_test = None;
        Ok(Some(AuditIntent {
            version: None,
            action: action.into(),
            config: Some(name.clone()),
            outcome: "ok".into(),
            detail: Some(detail.into()),
        }))
    })?;
    Ok(())
}
