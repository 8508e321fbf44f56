//! The audit trail: append-only JSON lines in the store, each carrying an
//! HMAC under the store's audit key over its content and the MAC of the
//! record before it (docs/ARCHITECTURE.md, "Audit trail"). Without a
//! member's key nobody can edit, insert, delete or reorder records without
//! `log --verify` seeing it; a cut-off tail is found through `audit.head`
//! (the last record, MAC'd) and the audit mark in the index head (the last
//! record of the last write). Records carry names and outcomes, never
//! secret values.
//!
//! Failed unlock attempts cannot be MAC'd (whoever failed holds no key):
//! they go to `access.jsonl` and are moved into the keyed chain by the next
//! command that unlocks the store.

use crate::store::crypto::{self, Key32};
use crate::store::fsutil;
use crate::store::index::AuditMark;
use crate::store::journal::AuditIntent;
use crate::store::storekeys::StoreKeys;
use crate::text::escape as escape_for_terminal;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub const AUDIT_FILE: &str = "audit.jsonl";
pub const HEAD_FILE: &str = "audit.head";
pub const ACCESS_FILE: &str = "access.jsonl";
/// The trail of a format-1 store, kept beside the new one after an upgrade.
pub const LEGACY_FILE: &str = "audit.v1.jsonl";
const GENESIS: &str = "genesis";
/// The trail grows for years: it may be larger than other store files.
const MAX_TRAIL: u64 = 1 << 30;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub seq: u64,
    pub time: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The version a write gave the config (covered by the MAC; absent in
    /// records of reads and of earlier versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    pub user: String,
    /// Who acted when not the user at a shell (`mcp:CLIENT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    pub pid: u32,
    /// The change this record belongs to, when it was journaled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub txn: Option<String>,
    /// The MAC of the record before (or "genesis").
    pub prev: String,
    /// Id of the audit key that MAC'd this record.
    pub key: String,
    #[serde(default)]
    pub mac: String,
}

impl Record {
    fn mac_input(&self) -> Vec<u8> {
        let mut r = self.clone();
        r.mac.clear();
        serde_json::to_vec(&r).expect("record serializes")
    }
}

/// Who writes the records of this process.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user: String,
    pub actor: Option<String>,
}

pub fn path(root: &Path) -> PathBuf {
    root.join(AUDIT_FILE)
}

#[derive(Serialize, Deserialize)]
struct HeadFile {
    seq: u64,
    mac: String,
    key: String,
    hmac: String,
}

fn head_hmac(key: &Key32, seq: u64, mac: &str) -> [u8; 32] {
    crypto::mac(
        key,
        &[b"authcfg audit head", &seq.to_be_bytes(), mac.as_bytes()],
    )
}

/// Appends records (one lock, one write) and moves `audit.head` forward.
/// Returns the mark of the last record. `detail` must not hold secret
/// values; it is cut to keep lines short.
pub fn append(
    root: &Path,
    key: &Key32,
    who: &Actor,
    txn: Option<&str>,
    entries: &[AuditIntent],
) -> std::io::Result<Option<AuditMark>> {
    if entries.is_empty() {
        return Ok(None);
    }
    let mut file = fsutil::open_private(&path(root), true)?;
    file.lock()?;
    let (last, ends_clean) = last_line(&mut file)?;
    let mut buf = Vec::new();
    if !ends_clean {
        // A torn record from a crash: close it so it is its own (invalid) line.
        buf.push(b'\n');
    }
    let (mut seq, mut prev) = match last
        .as_deref()
        .and_then(|l| serde_json::from_slice::<Record>(l).ok())
    {
        Some(r) => (r.seq, r.mac),
        None if last.is_none() => (0, GENESIS.to_string()),
        // An unreadable last line: continue from it, verification will say.
        None => (0, crypto::sha256_hex(last.as_deref().unwrap_or_default())),
    };
    let time = crate::model::rfc3339(crate::model::now());
    for e in entries {
        seq += 1;
        let mut r = Record {
            seq,
            time: time.clone(),
            action: e.action.clone(),
            config: e.config.clone(),
            outcome: e.outcome.clone(),
            detail: e.detail.as_ref().map(|d| d.chars().take(300).collect()),
            version: e.version,
            user: who.user.clone(),
            actor: who.actor.clone(),
            pid: std::process::id(),
            txn: txn.map(str::to_string),
            prev: prev.clone(),
            key: key.id(),
            mac: String::new(),
        };
        r.mac = hex::encode(crypto::mac(key, &[b"authcfg audit", &r.mac_input()]));
        prev = r.mac.clone();
        serde_json::to_writer(&mut buf, &r).map_err(std::io::Error::other)?;
        buf.push(b'\n');
    }
    file.write_all(&buf)?;
    let head = HeadFile {
        seq,
        hmac: hex::encode(head_hmac(key, seq, &prev)),
        mac: prev.clone(),
        key: key.id(),
    };
    let json = serde_json::to_vec(&head).map_err(std::io::Error::other)?;
    // Not fsync'd: a head older than the trail is fine (the trail only
    // grows); a head newer than the trail is what a cut looks like.
    fsutil::write_atomic_via(&root.join("tmp"), &root.join(HEAD_FILE), &json, false)?;
    Ok(Some(AuditMark { seq, mac: prev }))
}

/// Whether the trail holds this record (seq and MAC).
pub fn contains(root: &Path, mark: &AuditMark) -> std::io::Result<bool> {
    let data = fsutil::read_private_max(&path(root), MAX_TRAIL)?.unwrap_or_default();
    let needle = format!("\"mac\":\"{}\"", mark.mac);
    Ok(data
        .split(|&b| b == b'\n')
        .filter(|l| std::str::from_utf8(l).is_ok_and(|s| s.contains(&needle)))
        .any(|l| {
            serde_json::from_slice::<Record>(l)
                .is_ok_and(|r| r.seq == mark.seq && r.mac == mark.mac)
        }))
}

/// Whether the trail has a record of change `txn` (journal recovery).
pub fn has_txn(root: &Path, txn: &str) -> std::io::Result<bool> {
    let data = match fsutil::read_private_max(&path(root), MAX_TRAIL)? {
        Some(d) => d,
        None => return Ok(false),
    };
    // Journaled records are among the last ones: search from the end.
    let needle = format!("\"txn\":\"{txn}\"");
    Ok(data
        .rsplit(|&b| b == b'\n')
        .take(100_000)
        .any(|l| std::str::from_utf8(l).is_ok_and(|s| s.contains(&needle))))
}

/// The last complete line (without its newline), and whether the file ends
/// with a newline.
fn last_line(file: &mut fs::File) -> std::io::Result<(Option<Vec<u8>>, bool)> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok((None, true));
    }
    let mut window = 4096u64;
    loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::with_capacity((len - start) as usize);
        Read::by_ref(file).take(len - start).read_to_end(&mut buf)?;
        let ends_clean = buf.last() == Some(&b'\n');
        let body = if ends_clean {
            &buf[..buf.len() - 1]
        } else {
            &buf[..]
        };
        match body.iter().rposition(|&b| b == b'\n') {
            Some(i) => return Ok((Some(body[i + 1..].to_vec()), ends_clean)),
            None if start == 0 => return Ok((Some(body.to_vec()), ends_clean)),
            None => window *= 4,
        }
    }
}

pub fn read_all(root: &Path) -> std::io::Result<Vec<Record>> {
    let data = fsutil::read_private_max(&path(root), MAX_TRAIL)?.unwrap_or_default();
    Ok(data
        .split(|&b| b == b'\n')
        .filter_map(|l| serde_json::from_slice(l).ok())
        .collect())
}

#[derive(Debug, Default, Serialize)]
pub struct Verification {
    pub records: usize,
    pub problems: Vec<String>,
    /// Each config's latest written version by the trail: (seq of the
    /// record, version). A config removed (or replaced by a pull) since
    /// is not in it.
    #[serde(skip)]
    pub versions: std::collections::BTreeMap<String, (u64, u64)>,
}

/// Follows the versions the trail records for each config: each write must
/// give a higher version than the write before it (a lower one means the
/// file was put back from an older copy before that write).
fn follow_versions(v: &mut Verification, r: &Record) {
    let Some(c) = &r.config else { return };
    match r.version {
        Some(n) => {
            if let Some((seq, before)) = v.versions.get(c) {
                if n <= *before {
                    v.problems.push(format!(
                        "the write of '{c}' at seq {} gave it version {n}, not above version {before} of seq {seq}: an older copy of its file had been put back",
                        r.seq
                    ));
                }
            }
            v.versions.insert(c.clone(), (r.seq, n));
        }
        // A removal, or a config replaced by a pull (its version is
        // checked by the pull): what comes next starts afresh.
        None if r.action == "remove" || r.action == "sync" => {
            v.versions.remove(c);
        }
        None => {}
    }
}

/// Checks every record's MAC and link, then the tail against `audit.head`
/// and against the index's mark of the last write.
pub fn verify(
    root: &Path,
    keys: &StoreKeys,
    index_mark: Option<&AuditMark>,
) -> std::io::Result<Verification> {
    let data = fsutil::read_private_max(&path(root), MAX_TRAIL)?.unwrap_or_default();
    let mut v = Verification::default();
    let mut prev = GENESIS.to_string();
    let mut prev_seq = 0u64;
    let mut seen: std::collections::HashMap<u64, String> = Default::default();
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let n = i + 1;
        v.records += 1;
        let Ok(r) = serde_json::from_slice::<Record>(line) else {
            v.problems
                .push(format!("line {n}: not a valid audit record"));
            prev = crypto::sha256_hex(line);
            continue;
        };
        match keys.audit_key_by_id(&r.key) {
            Some(k) if crypto::mac_ok(&k, &[b"authcfg audit", &r.mac_input()], &r.mac) => {}
            Some(_) => v.problems.push(format!(
                "line {n} (seq {}): its MAC does not match: the record was edited or forged",
                r.seq
            )),
            None => v.problems.push(format!(
                "line {n} (seq {}): MAC'd with an unknown key ({}): forged, or from another store",
                r.seq, r.key
            )),
        }
        if r.prev != prev {
            v.problems.push(format!(
                "line {n} (seq {}): does not follow the record before it (a record was removed, inserted or moved)",
                r.seq
            ));
        }
        if r.seq != prev_seq + 1 {
            v.problems.push(format!(
                "line {n}: sequence jumps from {prev_seq} to {}",
                r.seq
            ));
        }
        prev_seq = r.seq;
        follow_versions(&mut v, &r);
        seen.insert(r.seq, r.mac.clone());
        prev = r.mac;
    }
    let head = fsutil::read_private(&root.join(HEAD_FILE))?
        .and_then(|b| serde_json::from_slice::<HeadFile>(&b).ok());
    match head {
        None if v.records > 0 => v.problems.push(format!(
            "{HEAD_FILE} is missing or unreadable: a cut-off end of the trail cannot be ruled out"
        )),
        None => {}
        Some(h) => {
            let authentic = keys
                .audit_key_by_id(&h.key)
                .is_some_and(|k| hex::encode(head_hmac(&k, h.seq, &h.mac)) == h.hmac);
            if !authentic {
                v.problems.push(format!(
                    "{HEAD_FILE} is not authentic: it was edited or forged"
                ));
            } else if seen.get(&h.seq) != Some(&h.mac) {
                v.problems.push(format!(
                    "the trail ends at seq {prev_seq}, but record {} was written: records were cut off its end",
                    h.seq
                ));
            }
        }
    }
    if let Some(m) = index_mark {
        if seen.get(&m.seq) != Some(&m.mac) {
            v.problems.push(format!(
                "the index records change {} of the trail, which is not there: records were cut off or replaced",
                m.seq
            ));
        }
    }
    Ok(v)
}

#[derive(Serialize, Deserialize)]
struct Attempt {
    time: String,
    user: String,
    pid: u32,
    reason: String,
}

/// Notes a failed unlock. Unauthenticated (there is no key): the next
/// command that unlocks moves it into the keyed trail.
pub fn note_failed_access(root: &Path, user: &str, reason: &str) {
    if !root.join(crate::store::header::HEADER_FILE).exists() {
        return;
    }
    let a = Attempt {
        time: crate::model::rfc3339(crate::model::now()),
        user: user.to_string(),
        pid: std::process::id(),
        reason: reason.chars().take(200).collect(),
    };
    if let Ok(mut f) = fsutil::open_private(&root.join(ACCESS_FILE), true) {
        if let Ok(mut line) = serde_json::to_vec(&a) {
            line.push(b'\n');
            let _ = f.write_all(&line);
        }
    }
}

/// Moves noted failed attempts into the keyed trail.
pub fn fold_failed_access(root: &Path, key: &Key32, who: &Actor) -> std::io::Result<usize> {
    let p = root.join(ACCESS_FILE);
    let Some(data) = fsutil::read_private(&p)? else {
        return Ok(0);
    };
    let entries: Vec<AuditIntent> = data
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| match serde_json::from_slice::<Attempt>(l) {
            Ok(a) => AuditIntent {
                version: None,
                action: "unlock".into(),
                config: None,
                outcome: "failed".into(),
                // Written by whoever failed, without a key: shown escaped
                // and cut short, never as the text it claims to be.
                detail: Some(format!(
                    "{} by {} (pid {}): {} [noted without a key]",
                    escape_for_terminal(&a.time, 40),
                    escape_for_terminal(&a.user, 64),
                    a.pid,
                    escape_for_terminal(&a.reason, 200)
                )),
            },
            Err(_) => AuditIntent {
                version: None,
                action: "unlock".into(),
                config: None,
                outcome: "failed".into(),
                detail: Some("an unreadable note of a failed attempt".into()),
            },
        })
        .collect();
    append(root, key, who, None, &entries)?;
    fs::remove_file(&p)?;
    Ok(entries.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::header::{Header, Recipient, ALL, STORE_FORMAT};

    fn keys() -> StoreKeys {
        let id = age::x25519::Identity::generate();
        let mut h = Header {
            format: STORE_FORMAT,
            id: "t".into(),
            created: String::new(),
            generation: 1,
            key_home: crate::store::header::KeyHome::External,
            keyring_backend: None,
            identity_file: None,
            admin_key: String::new(),
            audit_keys: None,
            signature: String::new(),
            recipients: vec![Recipient {
                label: "master".into(),
                public_key: id.to_public().to_string(),
                groups: vec![],
                role: Default::default(),
            }],
            store_keys: vec![],
            admin_history: vec![],
        };
        let mut k = StoreKeys::rotate(&h, None);
        k.seal_into(&mut h).unwrap();
        assert!(k.has(ALL));
        StoreKeys::unseal(&h, &[&id]).unwrap()
    }

    fn add(dir: &Path, k: &StoreKeys, name: &str) -> AuditMark {
        let e = AuditIntent {
            version: None,
            action: "add".into(),
            config: Some(name.into()),
            outcome: "ok".into(),
            detail: None,
        };
        append(dir, &k.audit_key(), &Actor::default(), None, &[e])
            .unwrap()
            .unwrap()
    }

    #[test]
    fn keyed_chain_detects_edits_deletions_reorders_and_cuts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        let k = keys();
        let mut marks = vec![];
        for i in 0..5 {
            marks.push(add(dir.path(), &k, &format!("c{i}")));
        }
        let v = verify(dir.path(), &k, Some(&marks[4])).unwrap();
        assert_eq!((v.records, v.problems.len()), (5, 0), "{:?}", v.problems);
        let p = path(dir.path());
        let text = fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let write = |l: Vec<&str>| {
            fs::write(&p, l.iter().map(|x| format!("{x}\n")).collect::<String>()).unwrap()
        };

        fs::write(&p, text.replace("\"c2\"", "\"cX\"")).unwrap();
        assert!(
            !verify(dir.path(), &k, None).unwrap().problems.is_empty(),
            "edit"
        );

        write(
            lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != 1)
                .map(|(_, l)| *l)
                .collect(),
        );
        assert!(
            !verify(dir.path(), &k, None).unwrap().problems.is_empty(),
            "deletion"
        );

        let mut re = lines.clone();
        re.swap(1, 2);
        write(re);
        assert!(
            !verify(dir.path(), &k, None).unwrap().problems.is_empty(),
            "reorder"
        );

        write(lines[..4].to_vec());
        assert!(
            !verify(dir.path(), &k, None).unwrap().problems.is_empty(),
            "cut tail (head)"
        );
        fs::remove_file(dir.path().join(HEAD_FILE)).unwrap();
        assert!(
            !verify(dir.path(), &k, Some(&marks[4]))
                .unwrap()
                .problems
                .is_empty(),
            "cut tail (index mark)"
        );

        // A forger without the key recomputing the chain with another key.
        write(lines.clone());
        let other = keys();
        let dir2 = tempfile::tempdir().unwrap();
        for i in 0..5 {
            add(dir2.path(), &other, &format!("c{i}"));
        }
        fs::copy(path(dir2.path()), &p).unwrap();
        fs::copy(dir2.path().join(HEAD_FILE), dir.path().join(HEAD_FILE)).unwrap();
        assert!(
            !verify(dir.path(), &k, None).unwrap().problems.is_empty(),
            "forged chain"
        );
    }
}
