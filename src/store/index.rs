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
use std::path::PathBuf;

pub const INDEX_DIR: &str = "index";
const HEAD: &str = "head";

#[derive(Debug, Default, Clone)]
pub struct Shard {
    pub configs: BTreeMap<String, Meta>,
}

/// A shard on disk: `Meta` in a compact binary form (postcard; times as
/// Unix seconds), so that `list` at 50,000 configs decodes in milliseconds.
/// No field may be skipped: postcard is not self-describing; a new field
/// is a new encoding (the previous one is still read).
#[derive(Serialize, Deserialize)]
struct Row {
    v1: RowV1,
    refresh_expires: Option<i64>,
}

/// Encoding 1 (before `refresh_expires`).
#[derive(Serialize, Deserialize)]
struct RowV1 {
    name: String,
    kind: u8,
    type_id: String,
    created: i64,
    updated: i64,
    rotated: i64,
    last_test: Option<(i64, bool, String, String)>,
    account: Option<String>,
    group: Option<String>,
    expires: Option<i64>,
    issued: Option<i64>,
    allow_startup_vars: bool,
}

/// The first byte of a decrypted shard: the encoding of what follows.
const SHARD_ENCODING: u8 = 2;

fn t(x: time::OffsetDateTime) -> i64 {
    x.unix_timestamp()
}
fn from_t(x: i64) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(x).ok()
}

impl From<&Meta> for Row {
    fn from(m: &Meta) -> Row {
        Row {
            v1: RowV1::from(m),
            refresh_expires: m.refresh_expires.map(t),
        }
    }
}

impl Row {
    fn into_meta(self) -> Option<Meta> {
        let mut m = self.v1.into_meta()?;
        m.refresh_expires = self.refresh_expires.and_then(from_t);
        Some(m)
    }
}

impl From<&Meta> for RowV1 {
    fn from(m: &Meta) -> RowV1 {
        use crate::model::Kind;
        RowV1 {
            name: m.name.clone(),
            kind: match m.kind {
                Kind::Custom => 0,
                Kind::Connector => 1,
                Kind::Oauth2 => 2,
            },
            type_id: m.type_id.clone(),
            created: t(m.created),
            updated: t(m.updated),
            rotated: t(m.rotated),
            last_test: m.last_test.as_ref().map(|r| {
                (
                    t(r.at),
                    r.ok,
                    r.class.clone(),
                    r.detail.as_received().into(),
                )
            }),
            account: m.account.as_ref().map(|a| a.as_received().into()),
            group: m.group.clone(),
            expires: m.expires.map(t),
            issued: m.issued.map(t),
            allow_startup_vars: m.allow_startup_vars,
        }
    }
}

impl RowV1 {
    fn into_meta(self) -> Option<Meta> {
        use crate::model::{Kind, TestRecord};
        Some(Meta {
            name: self.name,
            kind: match self.kind {
                0 => Kind::Custom,
                1 => Kind::Connector,
                2 => Kind::Oauth2,
                _ => return None,
            },
            type_id: self.type_id,
            created: from_t(self.created)?,
            updated: from_t(self.updated)?,
            rotated: from_t(self.rotated)?,
            last_test: match self.last_test {
                Some((at, ok, class, detail)) => Some(TestRecord {
                    at: from_t(at)?,
                    ok,
                    class,
                    detail: detail.into(),
                }),
                None => None,
            },
            account: self.account.map(Into::into),
            group: self.group,
            expires: self.expires.and_then(from_t),
            issued: self.issued.and_then(from_t),
            refresh_expires: None,
            allow_startup_vars: self.allow_startup_vars,
        })
    }
}

fn encode_shard(shard: &Shard) -> Vec<u8> {
    let rows: Vec<Row> = shard.configs.values().map(Row::from).collect();
    let mut out = vec![SHARD_ENCODING];
    out.extend(postcard::to_stdvec(&rows).expect("rows serialize"));
    out
}

/// A shard's configs in name order (as written).
fn decode_rows(bytes: &[u8]) -> Option<Vec<Meta>> {
    let (&enc, body) = bytes.split_first()?;
    match enc {
        SHARD_ENCODING => {
            let rows: Vec<Row> = postcard::from_bytes(body).ok()?;
            rows.into_iter().map(Row::into_meta).collect()
        }
        1 => {
            let rows: Vec<RowV1> = postcard::from_bytes(body).ok()?;
            rows.into_iter().map(RowV1::into_meta).collect()
        }
        _ => None,
    }
}

fn decode_shard(bytes: &[u8]) -> Option<Shard> {
    let configs = decode_rows(bytes)?
        .into_iter()
        .map(|m| (m.name.clone(), m))
        .collect();
    Some(Shard { configs })
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

pub struct IndexFiles {
    pub root: PathBuf,
    pub key: Key32,
    pub store_id: String,
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

impl IndexFiles {
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
        let plain = self.open_shard(head, shard)?;
        match plain {
            None => Ok(Shard::default()),
            Some(p) => decode_shard(&p).ok_or_else(|| IndexError::Stale(shard.to_string())),
        }
    }

    /// One shard's configs in name order, checked against the head.
    pub fn read_rows(&self, head: &Head, shard: &str) -> Result<Vec<Meta>, IndexError> {
        match self.open_shard(head, shard)? {
            None => Ok(vec![]),
            Some(p) => decode_rows(&p).ok_or_else(|| IndexError::Stale(shard.to_string())),
        }
    }

    fn open_shard(
        &self,
        head: &Head,
        shard: &str,
    ) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, IndexError> {
        let Some(want) = head.shards.get(shard) else {
            return Ok(None);
        };
        let bytes = super::fsutil::read_private(&self.path(shard))?
            .ok_or_else(|| IndexError::Stale(shard.to_string()))?;
        if &digest(&bytes) != want {
            return Err(IndexError::Stale(shard.to_string()));
        }
        crypto::open(&self.key, &self.aad(shard), &bytes)
            .map(Some)
            .ok_or_else(|| IndexError::Stale(shard.to_string()))
    }

    /// Seals a shard; returns the bytes and the digest the head records.
    pub fn seal_shard(&self, shard_name: &str, shard: &Shard) -> (Vec<u8>, String) {
        let plain = zeroize::Zeroizing::new(encode_shard(shard));
        let bytes = crypto::seal(&self.key, &self.aad(shard_name), &plain);
        let d = digest(&bytes);
        (bytes, d)
    }

    /// Every shard of the head, read on up to `threads` threads. Returns
    /// the shards that are stale instead of failing on the first.
    pub fn read_all(&self, head: &Head, threads: usize) -> (Vec<Meta>, Vec<String>) {
        let names: Vec<&String> = head.shards.keys().collect();
        let chunk = names.len().div_ceil(threads.max(1)).max(1);
        let results: Vec<(Vec<Meta>, Vec<String>)> = std::thread::scope(|s| {
            let handles: Vec<_> = names
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        let mut rows = vec![];
                        let mut stale = vec![];
                        for n in part {
                            match self.read_rows(head, n) {
                                Ok(r) => rows.extend(r),
                                Err(_) => stale.push((*n).clone()),
                            }
                        }
                        (rows, stale)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("index reader thread"))
                .collect()
        });
        let mut all = vec![];
        let mut stale = vec![];
        for (r, s) in results {
            all.extend(r);
            stale.extend(s);
        }
        // Each shard is a sorted run: the stable sort merges them.
        all.sort_by(|a, b| a.name.cmp(&b.name));
        (all, stale)
    }
}
