//! The config files this key has decrypted and authenticated, kept outside
//! the store beside the local anchor (`$XDG_STATE_HOME/authcfg/verified/`),
//! MAC'd with a key derived from the identity (docs/ARCHITECTURE.md,
//! "Performance"). `doctor` checks every config: a file whose exact bytes
//! this key already verified as that config, under the same signed header,
//! is not decrypted again (an age decryption is an X25519 multiplication,
//! which is what checking a large store costs). Any other file, a changed
//! header (a rotation, a recipient change), or a missing or forged record
//! means a full check.

use super::crypto::{self, Key32};
use super::fsutil;
use age::x25519;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

const MAGIC: &[u8] = b"authcfg verified v1\n";

/// One verified file: SHA-256 of the config name and the file's bytes.
pub type Entry = [u8; 16];

pub struct VerifiedFiles {
    path: PathBuf,
    key: Key32,
    /// SHA-256 of the verified header the entries were checked under.
    context: [u8; 32],
    have: HashSet<Entry>,
}

impl VerifiedFiles {
    /// The record of the store at `root` for identity `id`, if there is a
    /// state directory; empty unless it is authentic and was made under
    /// the header whose digest is `context`.
    pub fn open(
        state_dir: Option<&Path>,
        root: &Path,
        id: &x25519::Identity,
        context: [u8; 32],
    ) -> Option<VerifiedFiles> {
        let state = state_dir?;
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let key = crypto::identity_key(id, "verified config files");
        let mut h = Sha256::new();
        h.update(root.as_os_str().as_encoded_bytes());
        h.update([0]);
        h.update(crypto::mac(&key, &[b"authcfg verified name"]));
        let name = hex::encode(&h.finalize()[..16]);
        let mut v = VerifiedFiles {
            path: state.join("verified").join(name),
            key,
            context,
            have: HashSet::new(),
        };
        if let Ok(Some(bytes)) = fsutil::read_private(&v.path) {
            if let Some(entries) = v.parse(&bytes) {
                v.have = entries;
            }
        }
        Some(v)
    }

    fn parse(&self, bytes: &[u8]) -> Option<HashSet<Entry>> {
        let (body, mac) = bytes.split_at_checked(bytes.len().checked_sub(32)?)?;
        let want = crypto::mac(&self.key, &[b"authcfg verified", body]);
        if !crypto::mac_ok_hex(&hex::encode(want), &hex::encode(mac)) {
            return None;
        }
        let rest = body.strip_prefix(MAGIC)?;
        let (context, entries) = rest.split_at_checked(32)?;
        if context != self.context || entries.len() % 16 != 0 {
            return None;
        }
        Some(
            entries
                .chunks_exact(16)
                .map(|c| c.try_into().expect("16 bytes"))
                .collect(),
        )
    }

    pub fn entry(name: &str, bytes: &[u8]) -> Entry {
        let mut h = Sha256::new();
        h.update(name.as_bytes());
        h.update([0]);
        h.update(bytes);
        h.finalize()[..16].try_into().expect("16 bytes")
    }

    pub fn has(&self, e: &Entry) -> bool {
        self.have.contains(e)
    }

    /// Keeps exactly `entries` (the files verified now) as the record.
    pub fn save(&self, entries: &[Entry]) -> std::io::Result<()> {
        let dir = self.path.parent().expect("verified dir");
        fsutil::ensure_private_dir(dir.parent().expect("state dir"))?;
        fsutil::ensure_private_dir(dir)?;
        let mut body = Vec::with_capacity(MAGIC.len() + 32 + entries.len() * 16 + 32);
        body.extend_from_slice(MAGIC);
        body.extend_from_slice(&self.context);
        for e in entries {
            body.extend_from_slice(e);
        }
        let mac = crypto::mac(&self.key, &[b"authcfg verified", &body]);
        body.extend_from_slice(&mac);
        fsutil::write_atomic_via(dir, &self.path, &body, false)
    }
}
