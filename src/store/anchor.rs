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
}

#[derive(Serialize, Deserialize)]
struct File {
    seen: Seen,
    mac: String,
}

pub struct Anchor {
    path: PathBuf,
    key: Key32,
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
        let mut h = Sha256::new();
        h.update(root.as_os_str().as_encoded_bytes());
        h.update([0]);
        h.update(id.to_public().to_string().as_bytes());
        let name = hex::encode(&h.finalize()[..16]);
        Some(Anchor {
            path: state.join("anchors").join(name),
            key: crypto::identity_key(id, "local anchor"),
        })
    }

    fn mac(&self, seen: &Seen) -> String {
        let body = serde_json::to_vec(seen).expect("anchor serializes");
        hex::encode(crypto::mac(&self.key, &[b"authcfg anchor", &body]))
    }

    /// What was seen, if the anchor exists and is authentic (a forged or
    /// damaged one counts as none: it can only make checks weaker).
    pub fn read(&self) -> Option<Seen> {
        let bytes = fsutil::read_private(&self.path).ok()??;
        let f: File = serde_json::from_slice(&bytes).ok()?;
        crypto::mac_ok_hex(&self.mac(&f.seen), &f.mac).then_some(f.seen)
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
        fsutil::write_atomic_via(dir, &self.path, &json, false)
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
