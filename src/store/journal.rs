//! Journals: the intent of a change that touches more than one file,
//! written durably before the first file changes and removed after the
//! last, so that the next writer completes (or, for an uncommitted import,
//! rolls back) whatever a killed process left half done.
//!
//! Both kinds are authenticated (docs/ARCHITECTURE.md, "Journals"):
//! - `journal`: configs written by any member (put, delete, import), with
//!   the audit records of the change, MAC'd with the store's journal key;
//! - `admin-journal`: re-encryptions of the whole store (master-key
//!   rotation, recipient and group changes, the format upgrade), signed by
//!   the admin key and carrying the signed header they lead to.
//!
//! A journal that fails verification is never acted on.

use super::crypto::{self, AdminKey, AdminPub, Key32};
use super::header::Header;
use serde::{Deserialize, Serialize};

pub const JOURNAL_FILE: &str = "journal";
pub const ADMIN_JOURNAL_FILE: &str = "admin-journal";
/// Journals of format 1, which were not authenticated.
pub const LEGACY_JOURNALS: [&str; 3] = ["journal.toml", "rotation.toml", "recipients.toml"];

/// Frames `body` behind a MAC line: `#mac:HEX\n` + body. Used for config
/// documents, journals and pins: a text file that `age -d` users can still
/// read, whose every byte is covered.
pub fn frame(key: &Key32, context: &[&[u8]], body: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = context.to_vec();
    parts.push(body);
    let m = hex::encode(crypto::mac(key, &parts));
    let mut out = Vec::with_capacity(body.len() + 70);
    out.extend_from_slice(b"#mac:");
    out.extend_from_slice(m.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(body);
    out
}

/// Splits a framed file into its MAC and body (without checking).
pub fn unframe(bytes: &[u8]) -> Option<(&str, &[u8])> {
    let rest = bytes.strip_prefix(b"#mac:")?;
    let nl = rest.iter().position(|&b| b == b'\n')?;
    let m = std::str::from_utf8(&rest[..nl]).ok()?;
    Some((m, &rest[nl + 1..]))
}

pub fn check_frame<'a>(key: &Key32, context: &[&[u8]], bytes: &'a [u8]) -> Option<&'a [u8]> {
    let (m, body) = unframe(bytes)?;
    let mut parts: Vec<&[u8]> = context.to_vec();
    parts.push(body);
    crypto::mac_ok(key, &parts, m).then_some(body)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TxnOp {
    Put,
    Delete,
    /// Many configs, all or nothing: staged first, committed, then moved.
    Import,
}

/// An audit record to append as part of a change (seq and MAC are given
/// when it is appended).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditIntent {
    /// The version a write gave the config (`Meta.version`), set by the
    /// store when it writes: the trail then knows each config's latest
    /// version, and a config file put back from an older copy is seen
    /// (docs/SECURITY.md, "Rollback").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TxnJournal {
    pub txn: String,
    pub op: TxnOp,
    pub names: Vec<String>,
    /// Put: SHA-256 of each config file as written, so that recovery can
    /// tell a change that reached the disk from one that did not.
    #[serde(default)]
    pub digests: Vec<String>,
    pub audit: Vec<AuditIntent>,
    /// Import: every staged file is durable; roll forward, not back.
    #[serde(default)]
    pub committed: bool,
}

impl TxnJournal {
    pub fn seal(&self, key: &Key32, store_id: &str) -> Vec<u8> {
        let body = serde_json::to_vec(self).expect("journal serializes");
        frame(key, &[b"authcfg journal", store_id.as_bytes()], &body)
    }
    pub fn open(key: &Key32, store_id: &str, bytes: &[u8]) -> Option<TxnJournal> {
        let body = check_frame(key, &[b"authcfg journal", store_id.as_bytes()], bytes)?;
        serde_json::from_slice(body).ok()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdminOp {
    MasterKey,
    Recipients,
    Upgrade,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AdminJournal {
    pub txn: String,
    pub op: AdminOp,
    pub started: String,
    pub detail: String,
    /// The signature of the header the operation started from: a journal
    /// is acted on only while that header is the current one.
    pub base: String,
    /// The header the operation leads to, signed by its own admin key.
    pub target: Header,
    /// Master-key rotation: the new identity, age-encrypted to the old and
    /// the new key (whichever key a later command finds can finish).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_identity: Option<String>,
    /// Master-key rotation: the old identity, age-encrypted to the new key,
    /// kept as `identity.old.age` afterwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_identity: Option<String>,
    /// Master-key rotation: the files outside the store that received the
    /// new key (written and read back) before this journal was written.
    /// Empty in journals of earlier versions, which handed the key out last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub saved: Vec<String>,
    /// The admin key that signed this journal.
    pub admin: String,
    #[serde(default)]
    pub signature: String,
}

impl AdminJournal {
    /// A new journal of `op` from the header signed `base` to `target`
    /// (the rotation's identities and saved files are set by the caller);
    /// unsigned until `sign`.
    pub fn new(
        op: AdminOp,
        detail: impl Into<String>,
        base: String,
        target: Header,
    ) -> AdminJournal {
        AdminJournal {
            txn: new_txn_id(),
            op,
            started: crate::model::rfc3339(crate::model::now()),
            detail: detail.into(),
            base,
            target,
            new_identity: None,
            old_identity: None,
            saved: vec![],
            admin: String::new(),
            signature: String::new(),
        }
    }

    fn body(&self) -> Vec<u8> {
        let mut j = self.clone();
        j.signature.clear();
        serde_json::to_vec(&j).expect("journal serializes")
    }
    pub fn sign(&mut self, admin: &AdminKey) {
        self.admin = admin.public().encode();
        self.signature = admin.sign("admin-journal", &self.body());
    }
    /// The signature is the journal's own admin key's; whether that key may
    /// act on the store is the caller's check (`Store::admin_journal`).
    pub fn signed(&self) -> Option<AdminPub> {
        let p = AdminPub::parse(&self.admin)?;
        p.verify("admin-journal", &self.body(), &self.signature)
            .then_some(p)
    }
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("journal serializes")
    }
    pub fn parse(bytes: &[u8]) -> Option<AdminJournal> {
        serde_json::from_slice(bytes).ok()
    }
}

pub fn new_txn_id() -> String {
    hex::encode(rand::random::<[u8; 8]>())
}

/// A transaction id as `new_txn_id` makes them: 16 lowercase hex digits
/// (it names a directory under `staging/`).
pub fn valid_txn_id(id: &str) -> bool {
    id.len() == 16
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
