//! The config document: what one encrypted file holds (TOML inside age).

use crate::secret::Secret;
use crate::text::Outside;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

pub const DOC_FORMAT: u32 = 1;

pub use crate::catalog::Kind;

/// `TestRecord::class` of a `test` that found nothing to probe
/// (`connectors::Class::NotTestable`).
pub const NOT_TESTABLE: &str = "not_testable";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestRecord {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub ok: bool,
    #[serde(default)]
    pub class: String,
    /// What the probe reported: often a server's own words (outside text,
    /// kept as received, shown escaped: docs/ARCHITECTURE.md, "Outside text").
    #[serde(default, with = "crate::text::stored")]
    pub detail: Outside,
}

/// Non-secret facts about a config, also kept in the store's index so that
/// `list` needs one decryption, not one per config.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    pub name: String,
    pub kind: Kind,
    /// Custom type id, connector id or provider id.
    #[serde(rename = "type")]
    pub type_id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated: OffsetDateTime,
    /// When the credential itself last changed.
    #[serde(with = "time::serde::rfc3339")]
    pub rotated: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_test: Option<TestRecord>,
    /// The account the credential belongs to (OAuth e-mail, database user):
    /// often the provider's words (userinfo, id token), so outside text.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::text::stored::option"
    )]
    pub account: Option<Outside>,
    /// Recipient group that may decrypt this config (None: every recipient).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Access-token expiry for OAuth configs.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub expires: Option<OffsetDateTime>,
    /// When the current access token was obtained (its lifetime sets how
    /// early it is refreshed).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub issued: Option<OffsetDateTime>,
    /// When the refresh token stops working, where the provider says it or
    /// documents it (`refresh_token_days`): the user must re-authorize by
    /// then.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub refresh_expires: Option<OffsetDateTime>,
    /// `env` configs: may set variables that change how programs start
    /// (LD_PRELOAD, BASH_ENV, PATH, ...). Off unless the user says so.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_startup_vars: bool,
}

/// A previous value of a config's secrets, kept for `history`/`rollback`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub replaced: OffsetDateTime,
    /// What replaced it: rotate, edit, rollback.
    pub by: String,
    pub fields: BTreeMap<String, Secret>,
}

/// How many previous values a config keeps.
pub const HISTORY_LIMIT: usize = 5;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfigDoc {
    pub format: u32,
    #[serde(flatten)]
    pub meta: Meta,
    #[serde(default)]
    pub fields: BTreeMap<String, Secret>,
    /// Newest first, at most HISTORY_LIMIT.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
    /// Grows with every write of this config (0: written before versions).
    /// A team store refuses a pulled version that is not newer than the one
    /// it came from: an older authentic file replayed as a new commit.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub version: u64,
    /// Set when the config's group changed: proof that the writer held the
    /// key of the scope it left (docs/ARCHITECTURE.md, "Team stores").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved: Option<ScopeMove>,
}

/// A change of a config's group, proven with the key of the group it left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeMove {
    /// The scope it left (`*` or a group).
    pub from: String,
    /// The version it had in that scope when it left (a proof of an
    /// earlier move does not cover a later time in the same scope).
    #[serde(default)]
    pub version: u64,
    /// HMAC under that scope's config key (hex).
    pub proof: String,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

impl ConfigDoc {
    /// Renders `{field}` / `{field|url}` from a config's values; unset fields
    /// render empty.
    pub fn render(&self, template: &str) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            match rest[start..].find('}') {
                Some(end) => {
                    let spec = &rest[start + 1..start + end];
                    let (name, filter) = spec.split_once('|').unwrap_or((spec, ""));
                    let value = self.get(name).unwrap_or_default();
                    if filter == "url" {
                        out.extend(
                            url::form_urlencoded::byte_serialize(value.as_bytes())
                                .map(|s| s.replace('+', "%20")),
                        );
                    } else {
                        out.push_str(value);
                    }
                    rest = &rest[start + end + 1..];
                }
                None => {
                    out.push_str(&rest[start..]);
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    pub fn new(name: &str, kind: Kind, type_id: &str) -> Self {
        let now = now();
        ConfigDoc {
            format: DOC_FORMAT,
            meta: Meta {
                name: name.to_string(),
                kind,
                type_id: type_id.to_string(),
                created: now,
                updated: now,
                rotated: now,
                last_test: None,
                account: None,
                group: None,
                expires: None,
                issued: None,
                refresh_expires: None,
                allow_startup_vars: false,
            },
            fields: BTreeMap::new(),
            history: Vec::new(),
            version: 0,
            moved: None,
        }
    }

    /// Saves the current values of `names` in the history before they change.
    pub fn remember(&mut self, names: &[String], by: &str) {
        let fields: BTreeMap<String, Secret> = names
            .iter()
            .filter_map(|n| self.fields.get(n).map(|v| (n.clone(), v.clone())))
            .collect();
        if fields.is_empty() {
            return;
        }
        self.history.insert(
            0,
            HistoryEntry {
                replaced: now(),
                by: by.to_string(),
                fields,
            },
        );
        self.history.truncate(HISTORY_LIMIT);
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(|s| s.expose())
    }

    /// Sets the account (the Account column) from the fields it derives
    /// from: the user name, else the e-mail, of a custom or connector
    /// config. An OAuth2 config's account comes from its provider and is
    /// kept. Every write that sets fields calls this (add, edit, import,
    /// merge, resolve), so the column never describes other values.
    pub fn refresh_account(&mut self) {
        if self.meta.kind == Kind::Oauth2 {
            return;
        }
        self.meta.account = self
            .get("username")
            .filter(|u| !u.is_empty())
            .or(self.get("email").filter(|u| !u.is_empty()))
            .map(Into::into);
    }
}

pub fn now() -> OffsetDateTime {
    // Whole seconds keep files and listings stable and readable.
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(0).unwrap_or(t)
}

/// RFC 3339, as `2026-11-25T22:16:56Z` for the whole-second UTC times the
/// store keeps (written without the formatter: `list` formats 150,000 of
/// them at 50,000 configs).
pub fn rfc3339(t: OffsetDateTime) -> String {
    if t.offset().is_utc() && t.nanosecond() == 0 && (0..=9999).contains(&t.year()) {
        let (y, mo, d) = (t.year(), t.month() as u8, t.day());
        let (h, mi, s) = (t.hour(), t.minute(), t.second());
        let mut b = *b"0000-00-00T00:00:00Z";
        let mut put = |at: usize, v: u32, n: usize| {
            let mut v = v;
            for i in (0..n).rev() {
                b[at + i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, y as u32, 4);
        put(5, mo as u32, 2);
        put(8, d as u32, 2);
        put(11, h as u32, 2);
        put(14, mi as u32, 2);
        put(17, s as u32, 2);
        return String::from_utf8(b.to_vec()).expect("ASCII");
    }
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Meta {
    /// The seed's Status column: Active, Expired or Error (and Untested
    /// before the first `test`, Not testable when `test` found nothing to
    /// probe).
    pub fn status(&self) -> &'static str {
        match &self.last_test {
            Some(t) if !t.ok && t.class == NOT_TESTABLE => "Not testable",
            Some(t) if !t.ok => "Error",
            _ if self.expires.is_some_and(|e| e <= OffsetDateTime::now_utc()) => "Expired",
            Some(_) => "Active",
            None => "Untested",
        }
    }

    /// Human title of the provider, connector or custom type.
    pub fn title(&self) -> String {
        self.title_str().to_string()
    }

    /// The title without a copy (the catalogs live for the whole process).
    pub fn title_str(&self) -> &str {
        match self.kind {
            Kind::Custom => crate::catalog::custom::find(&self.type_id).map(|t| t.title.as_str()),
            Kind::Connector => {
                crate::catalog::connectors::find(&self.type_id).map(|c| c.title.as_str())
            }
            Kind::Oauth2 => {
                crate::catalog::providers::find(&self.type_id).map(|p| p.title.as_str())
            }
        }
        .unwrap_or(&self.type_id)
    }

    pub fn kind_title(&self) -> &'static str {
        match self.kind {
            Kind::Custom => "Custom",
            Kind::Connector => "Native Connector",
            Kind::Oauth2 => "OAuth2 Provider",
        }
    }
}

/// "5m ago", "3d ago": for listings.
pub fn ago(t: std::time::SystemTime) -> String {
    let mut out = String::new();
    ago_into(std::time::SystemTime::now(), t, &mut out);
    out
}

/// `ago` written into `out`, as of `now` (listings of 10,000 rows reuse
/// one buffer).
pub fn ago_into(now: std::time::SystemTime, t: std::time::SystemTime, out: &mut String) {
    use std::fmt::Write;
    let secs = now.duration_since(t).map(|d| d.as_secs()).unwrap_or(0);
    let _ = match secs {
        0..=59 => out.write_str("just now"),
        60..=3599 => write!(out, "{}m ago", secs / 60),
        3600..=86_399 => write!(out, "{}h ago", secs / 3600),
        _ => write!(out, "{}d ago", secs / 86_400),
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_fast_path_matches_the_formatter() {
        use time::format_description::well_known::Rfc3339;
        for ts in [
            0i64,
            1,
            59,
            86_399,
            951_782_400,
            1_764_000_000,
            253_402_300_799,
        ] {
            let t = time::OffsetDateTime::from_unix_timestamp(ts).unwrap();
            assert_eq!(super::rfc3339(t), t.format(&Rfc3339).unwrap(), "{ts}");
        }
    }
}
