//! Store keys: one random 32-byte key per scope (`*` for every recipient,
//! one per group), sealed with age to the recipients of the scope inside the
//! signed header. Whoever can open a scope's key can write configs of that
//! scope; nobody else can produce a MAC the store accepts
//! (docs/ARCHITECTURE.md, "Store keys").

use super::crypt;
use super::crypto::{b64, Key32};
use super::header::{Header, SealedKey, ALL};
use age::x25519;
use base64::Engine;
use std::collections::BTreeMap;

#[derive(Clone, Default)]
pub struct StoreKeys {
    /// Scope → key, for the scopes this identity can open.
    keys: BTreeMap<String, Key32>,
    /// Audit keys retired by earlier store-key rotations, by id.
    retired_audit: BTreeMap<String, Key32>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error("the store header has no store key sealed to this identity")]
    NotARecipient,
    #[error("the store header has no key for '{0}'")]
    Missing(String),
    #[error("{0}")]
    Seal(String),
}

/// The header's recipients as age recipients, native or a plugin's
/// (`crypt::parse_recipient`, the one parser).
pub fn parse_recipients<'a>(
    it: impl Iterator<Item = &'a super::header::Recipient>,
) -> Result<Vec<crypt::AnyRecipient>, String> {
    it.map(|r| {
        crypt::parse_recipient(&r.public_key)
            .ok_or_else(|| format!("recipient '{}' is not an age public key", r.label))
    })
    .collect()
}

impl StoreKeys {
    /// Fresh keys for every scope of `header`, keeping the retired audit
    /// keys of `previous` and retiring its current audit key.
    pub fn rotate(header: &Header, previous: Option<&StoreKeys>) -> StoreKeys {
        let mut k = StoreKeys::default();
        for s in header.scopes() {
            k.keys.insert(s, Key32::random());
        }
        if let Some(p) = previous {
            k.retired_audit = p.retired_audit.clone();
            if let Some(a) = p.keys.get(ALL) {
                let audit = a.derive(AUDIT);
                k.retired_audit.insert(audit.id(), audit);
            }
        }
        k
    }

    /// Opens every scope `ids` can open. The `*` key must be among them.
    pub fn unseal(header: &Header, ids: &[&x25519::Identity]) -> Result<StoreKeys, KeysError> {
        let mut k = StoreKeys::default();
        for s in &header.store_keys {
            if let Some(key) = open_sealed(&s.sealed, ids) {
                if key.id() == s.id {
                    k.keys.insert(s.scope.clone(), key);
                }
            }
        }
        if !k.keys.contains_key(ALL) {
            return Err(KeysError::NotARecipient);
        }
        if let Some(sealed) = &header.audit_keys {
            if let Some(list) = open_blob(sealed, ids) {
                let hexes: Vec<String> = serde_json::from_slice(&list).unwrap_or_default();
                for h in hexes {
                    if let Some(arr) = hex::decode(&h)
                        .ok()
                        .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    {
                        let key = Key32::from_bytes(arr);
                        k.retired_audit.insert(key.id(), key);
                    }
                }
            }
        }
        Ok(k)
    }

    /// Writes the sealed keys into `header` for each of its scopes, each
    /// sealed to that scope's recipients. Creates keys for new scopes.
    pub fn seal_into(&mut self, header: &mut Header) -> Result<(), KeysError> {
        let mut sealed = vec![];
        for scope in header.scopes() {
            let key = self.keys.entry(scope.clone()).or_insert_with(Key32::random);
            let to = parse_recipients(header.recipients_of(&scope)).map_err(KeysError::Seal)?;
            let ct = crypt::encrypt_to(&to, key.bytes(), None)
                .map_err(|e| KeysError::Seal(e.to_string()))?;
            sealed.push(SealedKey {
                scope,
                id: key.id(),
                sealed: b64().encode(ct),
            });
        }
        header.store_keys = sealed;
        header.audit_keys = if self.retired_audit.is_empty() {
            None
        } else {
            let list: Vec<String> = self
                .retired_audit
                .values()
                .map(|k| hex::encode(k.bytes()))
                .collect();
            let json = zeroize::Zeroizing::new(serde_json::to_vec(&list).expect("json"));
            let to = parse_recipients(header.recipients_of(ALL)).map_err(KeysError::Seal)?;
            let ct =
                crypt::encrypt_to(&to, &json, None).map_err(|e| KeysError::Seal(e.to_string()))?;
            Some(b64().encode(ct))
        };
        Ok(())
    }

    pub fn scope(&self, scope: &str) -> Option<&Key32> {
        self.keys.get(scope)
    }

    pub fn has(&self, scope: &str) -> bool {
        self.keys.contains_key(scope)
    }

    fn all(&self) -> &Key32 {
        self.keys.get(ALL).expect("unseal requires the * key")
    }

    /// The MAC key for configs of a scope (`None`: no group; `Some(g)`).
    pub fn config_key(&self, group: Option<&str>) -> Result<Key32, KeysError> {
        let scope = group.unwrap_or(ALL);
        self.keys
            .get(scope)
            .map(|k| k.derive(CONFIG))
            .ok_or_else(|| KeysError::Missing(scope.to_string()))
    }

    pub fn index_key(&self) -> Key32 {
        self.all().derive(INDEX)
    }
    pub fn journal_key(&self) -> Key32 {
        self.all().derive(JOURNAL)
    }
    pub fn audit_key(&self) -> Key32 {
        self.all().derive(AUDIT)
    }
    pub fn usage_key(&self) -> Key32 {
        self.all().derive(USAGE)
    }
    /// The audit key with this id: the current one or a retired one.
    pub fn audit_key_by_id(&self, id: &str) -> Option<Key32> {
        let current = self.audit_key();
        if current.id() == id {
            return Some(current);
        }
        self.retired_audit.get(id).cloned()
    }
    /// The raw keys, for the local anchor's sealed copy (`store::anchor`).
    pub fn parts(&self) -> (Vec<(String, Key32)>, Vec<Key32>) {
        (
            self.keys
                .iter()
                .map(|(s, k)| (s.clone(), k.clone()))
                .collect(),
            self.retired_audit.values().cloned().collect(),
        )
    }

    pub fn from_parts(keys: Vec<(String, Key32)>, retired: Vec<Key32>) -> Option<StoreKeys> {
        let k = StoreKeys {
            keys: keys.into_iter().collect(),
            retired_audit: retired.into_iter().map(|k| (k.id(), k)).collect(),
        };
        k.keys.contains_key(ALL).then_some(k)
    }

    /// Ids of the keys, for comparing two key sets without the keys.
    pub fn ids(&self) -> Vec<(String, String)> {
        self.keys.iter().map(|(s, k)| (s.clone(), k.id())).collect()
    }
}

const CONFIG: &str = "config mac";
const INDEX: &str = "index";
const JOURNAL: &str = "journal";
const AUDIT: &str = "audit";
const USAGE: &str = "usage";

fn open_blob(sealed_b64: &str, ids: &[&x25519::Identity]) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    let ct = b64().decode(sealed_b64).ok()?;
    crypt::decrypt_any(ids, &ct)
        .ok()
        .map(zeroize::Zeroizing::new)
}

fn open_sealed(sealed_b64: &str, ids: &[&x25519::Identity]) -> Option<Key32> {
    let plain = open_blob(sealed_b64, ids)?;
    <[u8; 32]>::try_from(&plain[..]).ok().map(Key32::from_bytes)
}
