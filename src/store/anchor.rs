//! The local anchor: what this user, with this key, last saw of a store,
//! kept outside the store (`$XDG_STATE_HOME/authcfg/anchors/`), MAC'd with
//! a key derived from the user's identity (docs/SECURITY.md, "Rollback").
//! Every file in the store can be authentic and still old: an attacker who
//! kept copies can put back an older signed header (with a removed member
//! still in it), an older audit trail, or another store's files. The anchor
//! remembers the store id this directory held, the header generation and
//! signature, the format, and the last audit record seen, and refuses to go
//! back.

use super::crypto::{self, Key32};
use super::fsutil;
use age::x25519;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Seen {
    pub store_id: String,
    pub format: u32,
    pub generation: u64,
    pub header_signature: String,
    pub audit_seq: u64,
    pub audit_mac: String,
    /// The header this key verified last, and what it found, so that the
    /// next command with the same header skips the signature check and the
    /// age decryption of the store keys (the hot path).
    #[serde(default)]
    pub verified: Option<Verified>,
}

impl Seen {
    /// What this key sees of the header `h`, the rest (audit mark,
    /// verification) carried over from `earlier`.
    pub fn of(h: &super::header::Header, earlier: Seen) -> Seen {
        Seen {
            store_id: h.id.clone(),
            format: h.format,
            generation: h.generation,
            header_signature: h.signature.clone(),
            ..earlier
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Verified {
    pub header_digest: String,
    pub admin: bool,
    /// The store keys this key could open, sealed (XChaCha20-Poly1305) with
    /// a key derived from the identity.
    pub keys: String,
}

#[derive(Serialize, Deserialize)]
struct KeyParts {
    keys: Vec<(String, String)>,
    retired: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct File {
    seen: Seen,
    mac: String,
}

pub struct Anchor {
    path: PathBuf,
    key: Key32,
    seal: Key32,
    /// What this process read or wrote last (read once per process).
    cached: std::sync::Mutex<Option<Option<Seen>>>,
}

impl Anchor {
    /// The anchor of the store at `root` for the identity `id`, if there is
    /// a state directory.
    pub fn for_store(
        state_dir: Option<&Path>,
        root: &Path,
        id: &x25519::Identity,
    ) -> Option<Anchor> {
        let state = state_dir?;
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let key = crypto::identity_key(id, "local anchor");
        // Named by the path and the key (a MAC, not the public key: that
        // would cost a scalar multiplication on every command).
        let mut h = Sha256::new();
        h.update(root.as_os_str().as_encoded_bytes());
        h.update([0]);
        h.update(crypto::mac(&key, &[b"authcfg anchor name"]));
        let name = hex::encode(&h.finalize()[..16]);
        Some(Anchor {
            path: state.join("anchors").join(name),
            seal: crypto::identity_key(id, "local anchor keys"),
            key,
            cached: std::sync::Mutex::new(None),
        })
    }

    pub fn seal_keys(&self, store_id: &str, keys: &super::storekeys::StoreKeys) -> String {
        use base64::Engine;
        let (current, retired) = keys.parts();
        let parts = KeyParts {
            keys: current
                .iter()
                .map(|(s, k)| (s.clone(), hex::encode(k.bytes())))
                .collect(),
            retired: retired.iter().map(|k| hex::encode(k.bytes())).collect(),
        };
        let json = zeroize::Zeroizing::new(serde_json::to_vec(&parts).expect("keys serialize"));
        crypto::b64().encode(crypto::seal(&self.seal, store_id.as_bytes(), &json))
    }

    pub fn open_keys(&self, store_id: &str, sealed: &str) -> Option<super::storekeys::StoreKeys> {
        use base64::Engine;
        let ct = crypto::b64().decode(sealed).ok()?;
        let json = crypto::open(&self.seal, store_id.as_bytes(), &ct)?;
        let parts: KeyParts = serde_json::from_slice(&json).ok()?;
        let key = |h: &str| {
            hex::decode(h)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .map(Key32::from_bytes)
        };
        let current = parts
            .keys
            .iter()
            .map(|(s, h)| Some((s.clone(), key(h)?)))
            .collect::<Option<Vec<_>>>()?;
        let retired = parts
            .retired
            .iter()
            .map(|h| key(h))
            .collect::<Option<Vec<_>>>()?;
        super::storekeys::StoreKeys::from_parts(current, retired)
    }

    fn mac(&self, seen: &Seen) -> String {
        let body = serde_json::to_vec(seen).expect("anchor serializes");
        hex::encode(crypto::mac(&self.key, &[b"authcfg anchor", &body]))
    }

    /// What was seen, if the anchor exists and is authentic (a forged or
    /// damaged one counts as none: it can only make checks weaker).
    pub fn read(&self) -> Option<Seen> {
        let mut c = self.cached.lock().unwrap();
        c.get_or_insert_with(|| {
            let bytes = fsutil::read_private(&self.path).ok()??;
            let f: File = serde_json::from_slice(&bytes).ok()?;
            crypto::mac_ok_hex(&self.mac(&f.seen), &f.mac).then_some(f.seen)
        })
        .clone()
    }

    pub fn write(&self, seen: &Seen) -> std::io::Result<()> {
        let dir = self.path.parent().expect("anchors dir");
        fsutil::ensure_private_dir(dir.parent().expect("state dir"))?;
        fsutil::ensure_private_dir(dir)?;
        let f = File {
            mac: self.mac(seen),
            seen: seen.clone(),
        };
        let json = serde_json::to_vec(&f).map_err(std::io::Error::other)?;
        fsutil::write_atomic_via(dir, &self.path, &json, false)?;
        *self.cached.lock().unwrap() = Some(Some(seen.clone()));
        Ok(())
    }

    /// Moves the audit mark forward (never back), after this process
    /// appended records.
    pub fn advance_audit(&self, seq: u64, mac: &str) {
        if let Some(mut s) = self.read() {
            if seq > s.audit_seq {
                s.audit_seq = seq;
                s.audit_mac = mac.to_string();
                let _ = self.write(&s);
            }
        }
    }
}
