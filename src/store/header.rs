//! `authcfg.toml`: the store's versioned, human-readable, **signed** header
//! (docs/ARCHITECTURE.md, "Header"). It holds no secrets: the format, the
//! store id, where the master key lives, the recipients and their groups,
//! the store keys sealed with age to the recipients of their scope, and the
//! admin key's public half. Every field is covered by an Ed25519 signature
//! of the admin key, which only the master identity can derive; a header
//! whose signature does not verify is not used at all.

use super::crypto::{AdminKey, AdminPub};
use serde::{Deserialize, Serialize};

pub const HEADER_FILE: &str = "authcfg.toml";
pub const STORE_FORMAT: u32 = 2;
/// The first format, written by authcfg before the header was signed.
pub const LEGACY_FORMAT: u32 = 1;
/// The scope of the store key every recipient holds.
pub const ALL: &str = "*";
pub const MASTER: &str = "master";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyHome {
    /// OS keyring (with the backend recorded below).
    Keyring,
    /// `identity.age` in the store, protected by a passphrase.
    Passphrase,
    /// Held by the user: `AUTHCFG_IDENTITY` / `AUTHCFG_IDENTITY_FILE`.
    External,
}

/// What a recipient may do (the master key is the Admin). Signed with the
/// rest of the header; authcfg refuses a Viewer's writes, and a team's git
/// host enforces it with push rights (docs/SECURITY.md, "Team stores").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Reads, adds and edits configs.
    #[default]
    Developer,
    /// Reads configs only.
    Viewer,
}

impl Access {
    pub fn is_developer(&self) -> bool {
        *self == Access::Developer
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Developer => "developer",
            Access::Viewer => "viewer",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    pub label: String,
    pub public_key: String,
    /// Groups this key belongs to; configs in a group are encrypted only to
    /// the master key and the group's members.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Developer (absent) or Viewer.
    #[serde(default, skip_serializing_if = "Access::is_developer")]
    pub role: Access,
    /// Key custody: this recipient's X25519 identity exists only sealed by
    /// a key service (docs/ARCHITECTURE.md, "Key services"). Signed with
    /// the rest of the header, so nobody but the admin can point it
    /// elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custody: Option<Custody>,
}

/// Where a key-service recipient's identity is kept: the service, the key
/// that seals it, and the sealed identity (docs/ARCHITECTURE.md, "Key
/// services"). No secret: only the service can open `sealed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Custody {
    /// `bao` (OpenBao / Vault transit), `awskms`.
    pub service: String,
    /// The key at the service: `transit/keys/NAME` (mount path and key
    /// name) for `bao`.
    pub key: String,
    /// The service's ciphertext of the custody blob (`vault:vN:…`).
    pub sealed: String,
    /// The address the admin used, shown as a hint only: a key service is
    /// always reached at the address of the reader's own settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addr: Option<String>,
}

/// A store key, sealed with age to the recipients of its scope (`*`: all;
/// otherwise a group: the master key and the group's members).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedKey {
    pub scope: String,
    /// `Key32::id` of the key inside, so a reader knows which key a MAC used.
    pub id: String,
    /// base64 of the age ciphertext.
    pub sealed: String,
}

/// A change of admin key (master-key rotation), signed by the previous admin
/// key, so that members who pinned the old key can follow it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endorsement {
    pub previous: String,
    pub next: String,
    pub signature: String,
}

impl Endorsement {
    pub fn body(store_id: &str, next: &str) -> Vec<u8> {
        format!("{store_id}\n{next}").into_bytes()
    }
    pub fn new(store_id: &str, previous: &AdminKey, next: &AdminPub) -> Endorsement {
        let next = next.encode();
        Endorsement {
            previous: previous.public().encode(),
            signature: previous.sign("admin-endorsement", &Self::body(store_id, &next)),
            next,
        }
    }
    pub fn valid(&self, store_id: &str) -> bool {
        AdminPub::parse(&self.previous).is_some_and(|p| {
            p.verify(
                "admin-endorsement",
                &Self::body(store_id, &self.next),
                &self.signature,
            )
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub format: u32,
    /// Random id; the keyring account name for this store's master key.
    pub id: String,
    pub created: String,
    /// Incremented by every change of the header.
    pub generation: u64,
    pub key_home: KeyHome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyring_backend: Option<String>,
    /// A plaintext identity file the user manages (`init --identity-file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_file: Option<std::path::PathBuf>,
    /// The admin key's public half (`ed25519:…`).
    pub admin_key: String,
    /// Retired audit keys (after a store-key rotation), sealed with age to
    /// every recipient, so that the whole trail stays verifiable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_keys: Option<String>,
    /// Ed25519 signature of the admin key over every other field.
    #[serde(default)]
    pub signature: String,
    pub recipients: Vec<Recipient>,
    pub store_keys: Vec<SealedKey>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub admin_history: Vec<Endorsement>,
}

/// The format-1 header, read only to upgrade a store.
#[derive(Debug, Clone, Deserialize)]
pub struct LegacyHeader {
    pub id: String,
    pub created: String,
    pub key_home: KeyHome,
    #[serde(default)]
    pub keyring_backend: Option<String>,
    #[serde(default)]
    pub identity_file: Option<std::path::PathBuf>,
    pub recipients: Vec<Recipient>,
}

pub enum Parsed {
    Current(Header),
    Legacy(LegacyHeader),
}

#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The parser's words quote the file, which whoever can write the
    /// store wrote: outside text (docs/ARCHITECTURE.md, "Outside text").
    #[error("not valid TOML ({0})")]
    Toml(crate::text::Outside),
    #[error("no valid format version")]
    NoFormat,
    #[error("store format {0} is newer than this authcfg understands (format {STORE_FORMAT})")]
    Newer(i64),
    #[error("damaged ({0})")]
    Damaged(crate::text::Outside),
}

impl Header {
    /// A new, unsigned header of store `id` (generation 1, format 2, the key
    /// from the environment until `key_home` says otherwise, no
    /// recipients and no store keys yet).
    pub fn new(id: impl Into<String>, created: impl Into<String>) -> Header {
        Header {
            format: STORE_FORMAT,
            id: id.into(),
            created: created.into(),
            generation: 1,
            key_home: KeyHome::External,
            keyring_backend: None,
            identity_file: None,
            admin_key: String::new(),
            audit_keys: None,
            signature: String::new(),
            recipients: vec![],
            store_keys: vec![],
            admin_history: vec![],
        }
    }

    pub fn parse(text: &str) -> Result<Parsed, ParseError> {
        let value: toml::Value =
            toml::from_str(text).map_err(|e| ParseError::Toml(e.message().into()))?;
        let format = value
            .get("format")
            .and_then(|v| v.as_integer())
            .ok_or(ParseError::NoFormat)?;
        match format {
            f if f > STORE_FORMAT as i64 => Err(ParseError::Newer(f)),
            f if f == LEGACY_FORMAT as i64 => value
                .try_into()
                .map(Parsed::Legacy)
                .map_err(|e: toml::de::Error| ParseError::Damaged(e.message().into())),
            f if f == STORE_FORMAT as i64 => value
                .try_into()
                .map(Parsed::Current)
                .map_err(|e: toml::de::Error| ParseError::Damaged(e.message().into())),
            _ => Err(ParseError::NoFormat),
        }
    }

    /// The bytes the signature covers: every field but the signature, as
    /// canonical JSON (struct order, no whitespace).
    fn signed_body(&self) -> Vec<u8> {
        let mut unsigned = self.clone();
        unsigned.signature.clear();
        serde_json::to_vec(&unsigned).expect("header serializes")
    }

    pub fn sign(&mut self, admin: &AdminKey) {
        self.admin_key = admin.public().encode();
        self.signature = admin.sign("store-header", &self.signed_body());
    }

    /// Whether `admin` signed this header (and is its admin key).
    pub fn signed_by(&self, admin: &AdminPub) -> bool {
        self.admin_key == admin.encode()
            && admin.verify("store-header", &self.signed_body(), &self.signature)
    }

    /// A digest of every field, the signature included: equal digests mean
    /// the same signed header.
    pub fn digest(&self) -> String {
        super::crypto::sha256_hex(&serde_json::to_vec(self).expect("header serializes"))
    }

    pub fn admin_pub(&self) -> Option<AdminPub> {
        AdminPub::parse(&self.admin_key)
    }

    pub fn to_toml(&self) -> String {
        let body = toml::to_string_pretty(self).expect("header serializes");
        format!(
            "# authcfg store header, signed by the store's admin key: an edit by hand\n\
             # makes every command refuse it. No secrets here: configs live\n\
             # age-encrypted under configs/. Change it with `authcfg` commands.\n{body}"
        )
    }

    pub fn master(&self) -> Option<&Recipient> {
        self.recipients.iter().find(|r| r.label == MASTER)
    }

    /// Recipients of a scope: everyone for `*`, else the master key and the
    /// group's members.
    pub fn recipients_of(&self, scope: &str) -> impl Iterator<Item = &Recipient> + '_ {
        let scope = scope.to_string();
        self.recipients
            .iter()
            .filter(move |r| scope == ALL || r.label == MASTER || r.groups.contains(&scope))
    }

    /// The scopes that need a store key: `*` and every group a recipient
    /// belongs to.
    pub fn scopes(&self) -> Vec<String> {
        let mut s = vec![ALL.to_string()];
        for r in &self.recipients {
            for g in &r.groups {
                if !s.contains(g) {
                    s.push(g.clone());
                }
            }
        }
        s
    }

    /// The role of the recipient with this public key (`None`: not one).
    pub fn access_of(&self, public_key: &str) -> Option<Access> {
        self.recipients
            .iter()
            .find(|r| r.public_key == public_key)
            .map(|r| r.role)
    }

    pub fn sealed_key(&self, scope: &str) -> Option<&SealedKey> {
        self.store_keys.iter().find(|k| k.scope == scope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Header {
        Header {
            recipients: vec![Recipient {
                label: MASTER.into(),
                public_key: "age1xyz".into(),
                groups: vec![],
                role: Default::default(),
                custody: None,
            }],
            store_keys: vec![SealedKey {
                scope: ALL.into(),
                id: "00".into(),
                sealed: "c2VhbGVk".into(),
            }],
            ..Header::new("abc", "2026-01-01T00:00:00Z")
        }
    }

    #[test]
    fn signature_covers_every_field_and_survives_toml() {
        let admin = AdminKey::from_identity(&age::x25519::Identity::generate());
        let mut h = sample();
        h.sign(&admin);
        let text = h.to_toml();
        let Parsed::Current(back) = Header::parse(&text).unwrap() else {
            panic!("not current")
        };
        assert!(back.signed_by(&admin.public()));
        let mut forged = back.clone();
        forged.recipients.push(Recipient {
            label: "master".into(),
            public_key: "age1evil".into(),
            groups: vec![],
            role: Default::default(),
            custody: None,
        });
        assert!(!forged.signed_by(&admin.public()));
        let mut forged = back.clone();
        forged.identity_file = Some("/tmp/evil".into());
        assert!(!forged.signed_by(&admin.public()));
        // An unknown field is refused, not ignored.
        let extra = text.replace("generation = 1", "generation = 1\nextra = 1");
        assert!(matches!(Header::parse(&extra), Err(ParseError::Damaged(_))));
    }

    #[test]
    fn formats() {
        assert!(matches!(
            Header::parse("format = 9"),
            Err(ParseError::Newer(9))
        ));
        assert!(matches!(Header::parse("x = 1"), Err(ParseError::NoFormat)));
        let legacy = "format = 1\nid = \"a\"\ncreated = \"t\"\nkey_home = \"external\"\n[[recipients]]\nlabel = \"master\"\npublic_key = \"age1\"\n";
        assert!(matches!(Header::parse(legacy), Ok(Parsed::Legacy(_))));
    }

    #[test]
    fn endorsements() {
        let a = AdminKey::from_identity(&age::x25519::Identity::generate());
        let b = AdminKey::from_identity(&age::x25519::Identity::generate());
        let e = Endorsement::new("store", &a, &b.public());
        assert!(e.valid("store"));
        assert!(!e.valid("other"));
        let mut f = e.clone();
        f.next = a.public().encode();
        assert!(!f.valid("store"));
    }
}
