//! Field specifications shared by custom types, connectors and providers, and
//! validation of values against them.

use crate::error::{usage, UserError};
use serde::{Deserialize, Serialize};

/// Largest accepted field value. Credentials are small; a megabyte pasted by
/// mistake should be refused, not encrypted and exported into environments.
pub const MAX_VALUE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    #[default]
    String,
    Int,
    Port,
    Bool,
    Url,
    Enum,
    /// Multi-line text such as PEM keys.
    Text,
    /// An `otpauth://totp/...` URI (`crate::otp`).
    Otpauth,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub name: String,
    #[serde(default)]
    pub kind: FieldKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub secret: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub prompt: bool,
    /// Whether `export`/`exec` hand this field to programs.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub export: bool,
    #[serde(default)]
    pub help: String,
}

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}

impl FieldSpec {
    pub fn label(&self) -> String {
        self.label.clone().unwrap_or_else(|| self.name.clone())
    }

    /// Checks one value. Messages name the field and the rule, never the value
    /// when the field is secret.
    pub fn validate(&self, value: &str) -> Result<(), UserError> {
        check_value_bytes(&self.name, value, self.kind == FieldKind::Text)?;
        // Values are never echoed: a secret pasted into the wrong field must
        // not end up in a terminal log.
        let shown = |_: &str| "the value";
        match self.kind {
            FieldKind::Port => match value.parse::<u32>() {
                Ok(p) if (1..=65535).contains(&p) => {}
                _ => {
                    return Err(usage(format!(
                        "{}: {} is not a port number",
                        self.name,
                        shown(value)
                    ))
                    .hint("ports are whole numbers from 1 to 65535"))
                }
            },
            FieldKind::Int => {
                if value.parse::<i64>().is_err() {
                    return Err(usage(format!(
                        "{}: {} is not a whole number",
                        self.name,
                        shown(value)
                    )));
                }
            }
            FieldKind::Bool => {
                if !matches!(value, "true" | "false") {
                    return Err(usage(format!(
                        "{}: {} is not true or false",
                        self.name,
                        shown(value)
                    )));
                }
            }
            FieldKind::Url => {
                if !value.is_empty() && !looks_like_url(value) {
                    return Err(usage(format!(
                        "{}: {} is not an absolute http(s) URL",
                        self.name,
                        shown(value)
                    ))
                    .hint("write it as https://host[:port]/path"));
                }
            }
            FieldKind::Enum => {
                if !self.allowed.iter().any(|a| a == value) {
                    return Err(usage(format!(
                        "{}: {} is not one of {}",
                        self.name,
                        shown(value),
                        self.allowed.join(", ")
                    )));
                }
            }
            FieldKind::String | FieldKind::Text => {}
            FieldKind::Otpauth => {
                crate::otp::parse(value)?;
            }
        }
        if self.required && value.is_empty() {
            return Err(usage(format!("{} must not be empty", self.name)));
        }
        Ok(())
    }
}

/// Rules every value obeys: bounded size, no NUL, and no line breaks or other
/// control characters unless the field is multi-line.
pub fn check_value_bytes(field: &str, value: &str, multiline: bool) -> Result<(), UserError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(usage(format!(
            "{field}: value is {} bytes, more than the {} KiB limit",
            value.len(),
            MAX_VALUE_BYTES / 1024
        ))
        .hint("credentials are short; check that the right file or variable was given"));
    }
    if value.contains('\0') {
        return Err(usage(format!("{field}: value contains a NUL byte"))
            .hint("NUL cannot be passed in environments or headers; remove it"));
    }
    let bad = value
        .chars()
        .find(|c| c.is_control() && *c != '\t' && !(multiline && (*c == '\n' || *c == '\r')));
    if let Some(c) = bad {
        let what = if c == '\n' || c == '\r' {
            "a line break"
        } else {
            "a control character"
        };
        return Err(usage(format!("{field}: value contains {what}"))
            .hint("this field is a single line; with --secret-stdin one trailing newline is removed for you"));
    }
    Ok(())
}

fn looks_like_url(v: &str) -> bool {
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"));
    match rest {
        Some(r) => {
            let host = r.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !host.contains(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(kind: FieldKind) -> FieldSpec {
        FieldSpec {
            name: "f".into(),
            kind,
            label: None,
            required: true,
            secret: false,
            default: None,
            allowed: vec!["a".into(), "b".into()],
            prompt: true,
            export: true,
            help: String::new(),
        }
    }

    #[test]
    fn ports_and_enums() {
        assert!(spec(FieldKind::Port).validate("5432").is_ok());
        assert!(spec(FieldKind::Port).validate("70000").is_err());
        assert!(spec(FieldKind::Port).validate("0").is_err());
        assert!(spec(FieldKind::Enum).validate("a").is_ok());
        assert!(spec(FieldKind::Enum).validate("c").is_err());
        assert!(spec(FieldKind::Url).validate("https://x.example/a").is_ok());
        assert!(spec(FieldKind::Url).validate("ftp://x").is_err());
    }

    #[test]
    fn control_characters() {
        assert!(check_value_bytes("f", "a\nb", false).is_err());
        assert!(check_value_bytes("f", "a\nb", true).is_ok());
        assert!(check_value_bytes("f", "a\0b", true).is_err());
        assert!(check_value_bytes("f", "tab\there", false).is_ok());
        assert!(check_value_bytes("f", &"x".repeat(MAX_VALUE_BYTES + 1), true).is_err());
    }
}
