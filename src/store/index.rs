//! The index: every config's `Meta`, so that `list` never decrypts configs.
//! It is sharded by the first byte of SHA-256(name) into up to 256 files
//! under `index/`, so a write rewrites one small shard whatever the store's
//! size. Each shard and the `head` are sealed (XChaCha20-Poly1305) with the
//! store's index key, bound to their file name and store id. The head lists
//! the digest of every shard (a shard replaced by an older copy is found
//! and rebuilt from the configs) and the audit trail's head at the last
//! write (docs/ARCHITECTURE.md, "Index").
//!
//! The index is derived data: each config file is the truth, and the
//! journal repairs the index after an interrupted write.

use super::crypto::{self, Key32};
use crate::model::Meta;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const INDEX_DIR: &str = "index";
const HEAD: &str = "head";

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Shard {
    pub configs: BTreeMap<String, Meta>,
}

/// The audit trail's last record as of a write.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditMark {
    pub seq: u64,
    pub mac: String,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Head {
    /// Shard name → digest of its sealed bytes.
    pub shards: BTreeMap<String, String>,
    #[serde(default)]
    pub audit: Option<AuditMark>,
}

pub fn shard_of(name: &str) -> String {
    hex::encode(&Sha256::digest(name.as_bytes())[..1])
}

fn digest(bytes: &[u8]) -> String {
    hex::encode(&Sha256::digest(bytes)[..16])
}

pub struct IndexFiles<'a> {
    pub root: &'a Path,
    pub key: Key32,
    pub store_id: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("the index head is missing or unreadable")]
    NoHead,
    #[error("index shard {0} does not match the index head")]
    Stale(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl IndexFiles<'_> {
    pub fn dir(&self) -> PathBuf {
        self.root.join(INDEX_DIR)
    }
    fn path(&self, shard: &str) -> PathBuf {
        self.dir().join(shard)
    }
    fn aad(&self, what: &str) -> Vec<u8> {
        format!("authcfg index {what} {}", self.store_id).into_bytes()
    }

    pub fn read_head(&self) -> Result<Head, IndexError> {
        let bytes = super::fsutil::read_private(&self.path(HEAD))?.ok_or(IndexError::NoHead)?;
        let plain = crypto::open(&self.key, &self.aad(HEAD), &bytes).ok_or(IndexError::NoHead)?;
        serde_json::from_slice(&plain).map_err(|_| IndexError::NoHead)
    }

    pub fn seal_head(&self, head: &Head) -> Vec<u8> {
        let json = serde_json::to_vec(head).expect("head serializes");
        crypto::seal(&self.key, &self.aad(HEAD), &json)
    }

    pub fn head_path(&self) -> PathBuf {
        self.path(HEAD)
    }
    pub fn shard_path(&self, shard: &str) -> PathBuf {
        self.path(shard)
    }

    /// One shard, checked against the head's digest.
    pub fn read_shard(&self, head: &Head, shard: &str) -> Result<Shard, IndexError> {
        let Some(want) = head.shards.get(shard) else {
            return Ok(Shard::default());
        };
        let bytes = super::fsutil::read_private(&self.path(shard))?
            .ok_or_else(|| IndexError::Stale(shard.to_string()))?;
        if &digest(&bytes) != want {
            return Err(IndexError::Stale(shard.to_string()));
        }
        let plain = crypto::open(&self.key, &self.aad(shard), &bytes)
            .ok_or_else(|| IndexError::Stale(shard.to_string()))?;
        serde_json::from_slice(&plain).map_err(|_| IndexError::Stale(shard.to_string()))
    }

    /// Seals a shard; returns the bytes and the digest the head records.
    pub fn seal_shard(&self, shard_name: &str, shard: &Shard) -> (Vec<u8>, String) {
        let json = zeroize::Zeroizing::new(serde_json::to_vec(shard).expect("shard serializes"));
        let bytes = crypto::seal(&self.key, &self.aad(shard_name), &json);
        let d = digest(&bytes);
        (bytes, d)
    }

    /// Every shard of the head, read on up to `threads` threads. Returns
    /// the shards that are stale instead of failing on the first.
    pub fn read_all(&self, head: &Head, threads: usize) -> (BTreeMap<String, Shard>, Vec<String>) {
        let names: Vec<&String> = head.shards.keys().collect();
        let chunk = names.len().div_ceil(threads.max(1)).max(1);
        let results: Vec<Vec<(String, Result<Shard, IndexError>)>> = std::thread::scope(|s| {
            let handles: Vec<_> = names
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|n| ((*n).clone(), self.read_shard(head, n)))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("index reader thread"))
                .collect()
        });
        let mut shards = BTreeMap::new();
        let mut stale = vec![];
        for (name, r) in results.into_iter().flatten() {
            match r {
                Ok(s) => {
                    shards.insert(name, s);
                }
                Err(_) => stale.push(name),
            }
        }
        (shards, stale)
    }
}
