//! What a team store needs of the store (docs/ARCHITECTURE.md, "Team
//! stores"): roles, verifying a header and files that came from another
//! clone, installing them under the writer lock, and local conflict
//! records. The git side lives in `ops::team`.

use super::header::ALL;
use super::header::{Access, Header, HEADER_FILE};
use super::journal::{self, AuditIntent};
use super::storekeys::StoreKeys;
use super::{
    crypt, fsutil, read_error, verify_state, write_error, Role, Store, Trust, Txn, CONFIGS_DIR,
};
use crate::error::{failure, no_key};
use crate::model::{ConfigDoc, ScopeMove};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Local record of a merge conflict: never tracked, never plaintext.
pub const CONFLICTS_DIR: &str = "conflicts";

#[derive(Serialize, Deserialize)]
struct ConflictRecord {
    /// The keys changed on both sides (`fields.password`).
    fields: Vec<String>,
    /// The other side's whole document.
    theirs: ConfigDoc,
}

impl Store {
    /// The config as it will be written: the next version, and a proof
    /// when its group changes (made with the key of the scope it leaves,
    /// which the writer holds: it could read the config).
    pub(super) fn versioned(&self, d: &ConfigDoc) -> anyhow::Result<ConfigDoc> {
        let mut d = d.clone();
        let prev = if self.exists(&d.meta.name) {
            self.read_once(&d.meta.name).ok()
        } else {
            None
        };
        d.version = d.version.max(prev.as_ref().map_or(0, |p| p.version)) + 1;
        // The proof of the last move stays with the config (a clone that
        // was behind checks it against the scope it knew).
        d.moved = prev.as_ref().and_then(|p| p.moved.clone());
        if let Some(p) = &prev {
            let from = p.meta.group.as_deref().unwrap_or(ALL);
            let to = d.meta.group.as_deref().unwrap_or(ALL);
            if from != to {
                let key = self
                    .keys()
                    .config_key(p.meta.group.as_deref())
                    .map_err(|e| failure(e.to_string()))?;
                let mut m = ScopeMove {
                    from: from.to_string(),
                    version: p.version,
                    proof: String::new(),
                };
                m.proof = self.scope_proof(&key, &d, &m);
                d.moved = Some(m);
            }
        }
        Ok(d)
    }

    fn scope_parts(&self, d: &ConfigDoc, m: &ScopeMove) -> Vec<Vec<u8>> {
        let to = d.meta.group.as_deref().unwrap_or(ALL);
        vec![
            b"authcfg scope move".to_vec(),
            self.header().id.into_bytes(),
            d.meta.name.as_bytes().to_vec(),
            m.from.as_bytes().to_vec(),
            to.as_bytes().to_vec(),
            m.version.to_be_bytes().to_vec(),
        ]
    }

    fn scope_proof(&self, key: &super::crypto::Key32, d: &ConfigDoc, m: &ScopeMove) -> String {
        let owned = self.scope_parts(d, m);
        let parts: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        hex::encode(super::crypto::mac(key, &parts))
    }

    /// Whether a pulled version of a config that was in scope `from` may
    /// be in the scope it names now: the same scope, or a move proven with
    /// `from`'s key (under `keys`, the keys of the header it came with).
    pub fn scope_move_ok(&self, keys: &StoreKeys, base: &ConfigDoc, d: &ConfigDoc) -> bool {
        let from = base.meta.group.as_deref();
        let from_scope = from.unwrap_or(ALL);
        if d.meta.group.as_deref().unwrap_or(ALL) == from_scope {
            return true;
        }
        let Some(m) = &d.moved else {
            return false;
        };
        // The move left `from` at or after the version this clone knew
        // there: a proof of an earlier stay in that scope does not count.
        m.from == from_scope
            && m.version >= base.version
            && keys.config_key(from).is_ok_and(|k| {
                let owned = self.scope_parts(d, m);
                let parts: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
                super::crypto::mac_ok(&k, &parts, &m.proof)
            })
    }

    /// This key's role: `None` for the admin (the master key).
    pub fn access(&self) -> Option<Access> {
        if self.role() == Role::Admin {
            return None;
        }
        let me = self.identity().to_public().to_string();
        Some(self.header().access_of(&me).unwrap_or_default())
    }

    /// Refuses a Viewer's write.
    pub fn may_write(&self) -> anyhow::Result<()> {
        if self.access() == Some(Access::Viewer) {
            return Err(no_key(
                "this key is a Viewer of the store: it may read configs, not add, change or remove them",
            )
            .hint("ask the store's admin to make you a developer (`authcfg recipients role LABEL developer`)")
            .into());
        }
        Ok(())
    }

    /// Verifies a header from elsewhere (a pulled commit) exactly as
    /// unlocking would (signed by the admin key this key derives or
    /// pinned, followed through endorsements), and opens its store keys.
    pub fn verify_header(&self, h: Header) -> anyhow::Result<StoreKeys> {
        if h.id != self.header().id {
            return Err(failure(format!(
                "the other side's {HEADER_FILE} belongs to another store ({})",
                h.id
            ))
            .hint("check the repository's remote URL")
            .into());
        }
        let st = verify_state(&self.root, h, &self.identity(), Trust::None, &self.opts)?;
        Ok(st.keys)
    }

    /// The store keys of a header from this clone's own history (already
    /// verified when it arrived), if this key opens them.
    pub fn keys_of(&self, h: &Header) -> Option<StoreKeys> {
        let ids = self.state.lock().unwrap().ids.clone();
        let refs: Vec<&age::x25519::Identity> = ids.iter().collect();
        StoreKeys::unseal(h, &refs).ok()
    }

    /// Decrypts and authenticates config bytes under `keys` (a pulled
    /// file under its commit's header), for the config `name`.
    pub fn decode_under(
        &self,
        name: &str,
        origin: &str,
        bytes: &[u8],
        keys: &StoreKeys,
    ) -> anyhow::Result<ConfigDoc> {
        self.decode_with(name, Path::new(origin), bytes, Some(keys))
    }

    /// Whether this key can decrypt these bytes at all (a config of a
    /// group it is not in cannot be merged or verified by it).
    pub fn can_open(&self, bytes: &[u8]) -> bool {
        let ids = self.state.lock().unwrap().ids.clone();
        let refs: Vec<&age::x25519::Identity> = ids.iter().collect();
        !matches!(
            crypt::decrypt_any(&refs, bytes),
            Err(crypt::CryptError::NoMatchingKey)
        )
    }

    /// The name a config file says it holds (decrypted, not yet
    /// authenticated: `decode_under` checks it).
    pub fn peek_name(&self, bytes: &[u8]) -> Option<String> {
        let ids = self.state.lock().unwrap().ids.clone();
        let refs: Vec<&age::x25519::Identity> = ids.iter().collect();
        let plain = zeroize::Zeroizing::new(crypt::decrypt_any(&refs, bytes).ok()?);
        let (_, body) = journal::unframe(&plain)?;
        let v: toml::Value = toml::from_str(std::str::from_utf8(body).ok()?).ok()?;
        v.get("name")?.as_str().map(str::to_string)
    }

    /// A config encrypted and MAC'd under the current header.
    pub fn encode_doc(&self, doc: &ConfigDoc) -> anyhow::Result<Vec<u8>> {
        self.encode(doc)
    }

    /// Installs a verified header: written, the state re-verified from
    /// it, the local anchor moved.
    pub fn adopt_header(&self, _txn: &Txn, h: &Header) -> anyhow::Result<()> {
        if *h != self.header() {
            self.put_file(&self.root.join(HEADER_FILE), h.to_toml().as_bytes())?;
        }
        self.refresh()?;
        self.note_header();
        self.remember_verified();
        Ok(())
    }

    /// Writes (or removes) one config file as it came from a merge.
    pub fn write_config_bytes(
        &self,
        _txn: &Txn,
        name: &str,
        bytes: Option<&[u8]>,
    ) -> anyhow::Result<()> {
        let path = self.config_path(name);
        match bytes {
            Some(b) => self.put_file(&path, b),
            None => match fsutil::remove_and_prune(&path, &self.root.join(CONFIGS_DIR)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(read_error(&path, e)),
                _ => Ok(()),
            },
        }
    }

    /// After config files changed underneath the index (a sync): the
    /// index follows the files, and the audit trail records the change.
    /// With new store keys the whole index is rebuilt under them.
    pub fn reindex(
        &self,
        txn: &Txn,
        names: &[String],
        keys_changed: bool,
        audit: &[AuditIntent],
    ) -> anyhow::Result<()> {
        let mark = self.append_audit(Some(&journal::new_txn_id()), audit)?;
        if keys_changed {
            self.rebuild_index(txn)?;
            return Ok(());
        }
        let mut changes = BTreeMap::new();
        for n in names {
            let meta = if self.exists(n) {
                self.read(n).ok().map(|d| d.meta)
            } else {
                None
            };
            changes.insert(n.clone(), meta);
        }
        self.apply_index(txn, changes, mark)
    }

    fn conflict_path(&self, name: &str) -> PathBuf {
        self.root.join(CONFLICTS_DIR).join(format!("{name}.age"))
    }

    fn conflict_ctx<'a>(id: &'a str, name: &'a str) -> [&'a [u8]; 3] {
        [b"authcfg conflict", id.as_bytes(), name.as_bytes()]
    }

    /// Keeps the other side of a conflict: encrypted to this key only and
    /// MAC'd with the store's journal key (a planted record is refused).
    pub fn write_conflict(
        &self,
        name: &str,
        fields: &[String],
        theirs: &ConfigDoc,
    ) -> anyhow::Result<()> {
        let rec = ConflictRecord {
            fields: fields.to_vec(),
            theirs: theirs.clone(),
        };
        let body = zeroize::Zeroizing::new(toml::to_string(&rec).context("serializing")?);
        let (key, id) = {
            let st = self.state.lock().unwrap();
            (st.keys.journal_key(), st.header.id.clone())
        };
        let plain = zeroize::Zeroizing::new(journal::frame(
            &key,
            &Self::conflict_ctx(&id, name),
            body.as_bytes(),
        ));
        let me = self.identity().to_public();
        let data = crypt::encrypt(&[me], &plain).map_err(|e| failure(e.to_string()))?;
        let path = self.conflict_path(name);
        if let Some(dir) = path.parent() {
            fsutil::create_dirs(dir).map_err(|e| write_error(dir, e))?;
        }
        self.put_file(&path, &data)
    }

    /// The conflicting keys and the other side's document, if `name` has
    /// a conflict.
    pub fn read_conflict(&self, name: &str) -> anyhow::Result<Option<(Vec<String>, ConfigDoc)>> {
        let path = self.conflict_path(name);
        let Some(data) = fsutil::read_private(&path).map_err(|e| read_error(&path, e))? else {
            return Ok(None);
        };
        let ids = self.state.lock().unwrap().ids.clone();
        let refs: Vec<&age::x25519::Identity> = ids.iter().collect();
        let bad = || {
            failure(format!(
                "{} failed authentication: it was not written by this clone",
                path.display()
            ))
            .hint("keep your version with `authcfg resolve NAME --ours` (it removes the record)")
        };
        let plain = zeroize::Zeroizing::new(crypt::decrypt_any(&refs, &data).map_err(|_| bad())?);
        let (key, id) = {
            let st = self.state.lock().unwrap();
            (st.keys.journal_key(), st.header.id.clone())
        };
        let body =
            journal::check_frame(&key, &Self::conflict_ctx(&id, name), &plain).ok_or_else(bad)?;
        let text = std::str::from_utf8(body).map_err(|_| bad())?;
        let rec: ConflictRecord = toml::from_str(text).map_err(|_| bad())?;
        Ok(Some((rec.fields, rec.theirs)))
    }

    pub fn remove_conflict(&self, name: &str) -> anyhow::Result<()> {
        let path = self.conflict_path(name);
        match fsutil::remove_and_prune(&path, &self.root.join(CONFLICTS_DIR)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(read_error(&path, e)),
            _ => Ok(()),
        }
    }

    /// Names with an unresolved conflict.
    pub fn conflicts(&self) -> Vec<String> {
        let base = self.root.join(CONFLICTS_DIR);
        let mut out = vec![];
        let mut stack = vec![base.clone()];
        while let Some(dir) = stack.pop() {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path();
                match e.file_type() {
                    Ok(t) if t.is_dir() => stack.push(p),
                    Ok(t) if t.is_file() => {
                        if let Some(n) = p
                            .strip_prefix(&base)
                            .ok()
                            .and_then(|r| r.to_str())
                            .and_then(|r| r.strip_suffix(".age"))
                        {
                            out.push(n.to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
        out.sort();
        out
    }
}
