//! `authcfg.toml`: the store's versioned, human-readable header. Holds no
//! secrets: the format version, the store id, where the master key lives and
//! the public recipients every config is encrypted to.

use serde::{Deserialize, Serialize};

pub const HEADER_FILE: &str = "authcfg.toml";
pub const STORE_FORMAT: u32 = 1;

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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recipient {
    pub label: String,
    pub public_key: String,
    /// Groups this key belongs to; configs in a group are encrypted only to
    /// the master key and the group's members.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub format: u32,
    /// Random id; the keyring account name for this store's master key.
    pub id: String,
    pub created: String,
    pub key_home: KeyHome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyring_backend: Option<String>,
    /// A plaintext identity file the user manages (`init --identity-file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_file: Option<std::path::PathBuf>,
    pub recipients: Vec<Recipient>,
}

impl Header {
    pub fn to_toml(&self) -> String {
        let body = toml::to_string_pretty(self).expect("header serializes");
        format!(
            "# authcfg store header. No secrets here: configs live age-encrypted under configs/.\n\
             # Edit with `authcfg` commands, not by hand.\n{body}"
        )
    }
}
