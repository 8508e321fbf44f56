//! Which fields may leave authcfg, and through which door ("which fields
//! may leave", docs/ARCHITECTURE.md, "Where each policy lives"). A policy
//! of the config types alone, so `export` (below the use cases) asks it as
//! `ops::handout`, MCP and `inject` do.

use crate::model::ConfigDoc;

/// A way a field's value leaves authcfg (docs/ARCHITECTURE.md, "Hand-out").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// Environment variables: `export`, `exec`, the shell hook, direnv,
    /// and a project file's references.
    Environment,
    /// A rendered template (`inject`).
    Template,
    /// An agent (MCP `reveal_secret`).
    Agent,
    /// A config's seed document (`export --format seed`): every field the
    /// other rules let leave, so a backup never carries an OAuth2 grant.
    Seed,
    /// A person's clipboard (`show --copy`), cleared after a while.
    Clipboard,
}

/// The fields of an OAuth2 config that authcfg keeps to itself: they mint
/// new access tokens (or prove the client) at the provider, so whoever
/// held them would hold the grant after its access token expired.
pub const KEPT_BY_AUTHCFG: &[&str] = &["refresh_token", "client_secret"];

/// An AWS config's long-lived secret key: programs get STS sessions made
/// from it instead (`ops::aws`).
pub const AWS_LONG_LIVED_SECRET: &str = "secret_access_key";

/// Whether an AWS config: a connector the catalog marks `sts`.
pub fn is_aws(doc: &ConfigDoc) -> bool {
    doc.meta.kind == crate::model::Kind::Connector
        && crate::catalog::connectors::find(&doc.meta.type_id).is_some_and(|c| c.sts)
}

/// Whether an OAuth2 config: a provider's, or the custom `oauth2` type
/// (both hold a grant).
fn is_oauth(doc: &ConfigDoc) -> bool {
    use crate::model::Kind;
    match doc.meta.kind {
        Kind::Oauth2 => true,
        // Type ids parsed once (`catalog::custom::Auth`), as the
        // credential model does.
        Kind::Custom => {
            crate::catalog::custom::Auth::parse(&doc.meta.type_id)
                == Some(crate::catalog::custom::Auth::OAuth2)
        }
        Kind::Connector => false,
    }
}

/// The one rule of which fields may leave authcfg, and through which door:
/// every hand-out asks it (`export::vars_for` for whole configs, a project
/// file's references, `inject`, MCP, `export --format seed`). `Err` says
/// why not.
///
/// - An OAuth2 config's refresh token and client secret never leave,
///   through any door, whether the config is a provider's or the custom
///   `oauth2` type: authcfg refreshes for the user.
/// - An AWS config's long-lived secret key never reaches a program
///   (environment, template, agent): programs get STS session credentials
///   (`ops::aws`, docs/ARCHITECTURE.md, "AWS sessions"). A person may copy
///   it, and a seed (a backup) carries it.
/// - Environment variables carry what the type exports (catalog
///   `export`); a template and an agent name a field explicitly and may
///   have the type's other fields (endpoints, scopes).
pub fn may_leave(doc: &ConfigDoc, field: &str, door: Door) -> Result<(), String> {
    if is_oauth(doc) && KEPT_BY_AUTHCFG.contains(&field) {
        return Err(format!(
            "the field '{field}' of an OAuth2 config never leaves authcfg (authcfg refreshes the access token itself); use the access_token field, `authcfg token`, or `authcfg exec`"
        ));
    }
    if field == AWS_LONG_LIVED_SECRET
        && matches!(door, Door::Environment | Door::Template | Door::Agent)
        && is_aws(doc)
    {
        return Err(format!(
            "the field '{field}' of an AWS config never reaches a program (authcfg hands out STS session credentials instead); use `authcfg exec`, `authcfg export` or `authcfg aws credential-process`"
        ));
    }
    if door == Door::Environment
        && !crate::catalog::is_exported(doc.meta.kind, &doc.meta.type_id, field)
    {
        return Err(format!(
            "the field '{field}' is never handed out to programs as a variable (as `export` would not)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    #[test]
    fn an_aws_configs_long_lived_secret_reaches_no_program() {
        let aws = ConfigDoc::new("a", Kind::Connector, "s3");
        for door in [Door::Environment, Door::Template, Door::Agent] {
            assert!(
                may_leave(&aws, "secret_access_key", door).is_err(),
                "{door:?}"
            );
            assert!(
                may_leave(&aws, "sts_secret_access_key", door).is_ok(),
                "{door:?}"
            );
        }
        // A person, a backup.
        assert!(may_leave(&aws, "secret_access_key", Door::Clipboard).is_ok());
        assert!(may_leave(&aws, "secret_access_key", Door::Seed).is_ok());
        // An S3-compatible store that is not AWS keeps its keys.
        let minio = ConfigDoc::new("m", Kind::Connector, "minio");
        assert!(may_leave(&minio, "secret_access_key", Door::Environment).is_ok());
    }
}
