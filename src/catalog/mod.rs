//! Catalogs are data (`catalog/*.toml`, embedded at build time); this module
//! loads them and describes the fields every config type is made of.

pub mod connectors;
pub mod custom;
pub mod field;
pub mod kind;
pub mod providers;

pub use field::{FieldKind, FieldSpec};
pub use kind::{HttpAuth, ProbeKind};

/// Which catalog a config type comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Custom,
    Connector,
    Oauth2,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Custom => "custom",
            Kind::Connector => "connector",
            Kind::Oauth2 => "oauth2",
        }
    }
}

/// The fields of a config type, and whether it takes free-form fields.
pub fn spec_for(kind: Kind, type_id: &str) -> Option<(&'static [FieldSpec], bool)> {
    match kind {
        Kind::Custom => custom::find(type_id).map(|t| (t.fields.as_slice(), t.free_form)),
        Kind::Oauth2 => Some((self::providers::fields(), false)),
        Kind::Connector => self::connectors::find(type_id).map(|c| (c.form.as_slice(), false)),
    }
}

/// Whether a field holds a secret. Unknown fields are treated as secret.
pub fn is_secret(kind: Kind, type_id: &str, field: &str) -> bool {
    match spec_for(kind, type_id) {
        Some((fields, _)) => fields
            .iter()
            .find(|f| f.name == field)
            .map(|f| f.secret)
            .unwrap_or(true),
        None => true,
    }
}

/// Whether `export`/`exec` hand this field to programs.
pub fn is_exported(kind: Kind, type_id: &str, field: &str) -> bool {
    match spec_for(kind, type_id) {
        Some((fields, _)) => fields
            .iter()
            .find(|f| f.name == field)
            .is_none_or(|f| f.export),
        None => true,
    }
}
