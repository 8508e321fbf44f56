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
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub const AUDIT_FILE: &str = "audit.jsonl";
pub const HEAD_FILE: &str = "audit.head";
pub const ACCESS_FILE: &str = "access.jsonl";
/// Sealed segments of the trail: `audit/NNNNNN.jsonl`, oldest first.
pub const SEGMENT_DIR: &str = "audit";
/// The trail of a format-1 store, kept beside the new one after an upgrade.
pub const LEGACY_FILE: &str = "audit.v1.jsonl";
const GENESIS: &str = "genesis";
/// Lines longer than this are not records (authcfg writes well under 2 KiB).
const MAX_LINE: usize = 64 << 10;
/// The action of the record that starts each segment after the first.
pub const CHECKPOINT: &str = "audit checkpoint";
/// The action of the record that notes a torn record dropped from the end.
pub const REPAIR: &str = "audit repair";

/// How much of the trail is kept (`AUTHCFG_AUDIT_KEEP`, docs/ARCHITECTURE.md,
/// "Audit trail"): the live file is sealed into a segment when it reaches
/// `segment` bytes, and sealed segments beyond `keep` bytes are dropped,
/// oldest first, behind a checkpoint. Nothing here ever refuses a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Bytes of sealed segments kept; `None`: all of them.
    pub keep: Option<u64>,
    pub segment: u64,
}

/// The default: 256 MiB of sealed segments (about 1.8 million records).
pub const DEFAULT_KEEP: u64 = 256 << 20;
const MIN_KEEP: u64 = 32 << 10;

impl Default for Retention {
    fn default() -> Self {
        Retention::keeping(Some(DEFAULT_KEEP))
    }
}

impl Retention {
    fn keeping(keep: Option<u64>) -> Retention {
        Retention {
            keep,
            segment: keep.map_or(16 << 20, |k| (k / 8).clamp(4 << 10, 16 << 20)),
        }
    }

    /// `all`, or a size: `256M`, `1G`, `64K`, a number of bytes.
    pub fn parse(text: &str) -> Result<Retention, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("all") {
            return Ok(Retention::keeping(None));
        }
        let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
            Some(i) => t.split_at(i),
            None => (t, ""),
        };
        let mult: u64 = match unit
            .to_ascii_uppercase()
            .trim_end_matches("IB")
            .trim_end_matches('B')
        {
            "" => 1,
            "K" => 1 << 10,
            "M" => 1 << 20,
            "G" => 1 << 30,
            "T" => 1 << 40,
            _ => {
                return Err(format!(
                    "AUTHCFG_AUDIT_KEEP={text}: not a size (e.g. 256M, 2G) or `all`"
                ))
            }
        };
        let n = digits
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(mult))
            .ok_or_else(|| {
                format!("AUTHCFG_AUDIT_KEEP={text}: not a size (e.g. 256M, 2G) or `all`")
            })?;
        if n < MIN_KEEP {
            return Err(format!(
                "AUTHCFG_AUDIT_KEEP={text}: keep at least 32K of the audit trail"
            ));
        }
        Ok(Retention::keeping(Some(n)))
    }
}

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
    /// The first record of a segment: the head of the part before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
    /// The MAC of the record before (or "genesis").
    pub prev: String,
    /// Id of the audit key that MAC'd this record.
    pub key: String,
    #[serde(default)]
    pub mac: String,
}

/// What a segment's first record says of the sealed part before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The number of the sealed segment just before (`audit/NNNNNN.jsonl`).
    pub segment: u64,
    /// Its last record.
    pub seq: u64,
    pub mac: String,
    /// SHA-256 of the sealed segment's bytes.
    pub sha256: String,
    /// The oldest segment kept: those below it were dropped by retention.
    pub floor: u64,
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

/// The live file of the trail (the segment being written).
pub fn path(root: &Path) -> PathBuf {
    root.join(AUDIT_FILE)
}

fn segment_path(root: &Path, n: u64) -> PathBuf {
    root.join(SEGMENT_DIR).join(format!("{n:06}.jsonl"))
}

/// The sealed segments, oldest first.
fn segments(root: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let dir = root.join(SEGMENT_DIR);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    let mut out = vec![];
    for e in entries {
        let e = e?;
        let name = e.file_name();
        let Some(n) = name
            .to_str()
            .and_then(|s| s.strip_suffix(".jsonl"))
            .filter(|s| s.len() == 6)
            .and_then(|s| s.parse::<u64>().ok())
        else {
            continue;
        };
        out.push((n, e.path()));
    }
    out.sort();
    Ok(out)
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

fn authentic(keys: &StoreKeys, r: &Record) -> bool {
    keys.audit_key_by_id(&r.key)
        .is_some_and(|k| crypto::mac_ok(&k, &[b"authcfg audit", &r.mac_input()], &r.mac))
}

/// The live file, opened for appending and locked, and its length. A
/// writer that waited while another sealed the file (renamed it into
/// `audit/`) opens the new one.
fn open_live_locked(root: &Path) -> io::Result<(fs::File, u64)> {
    let path = path(root);
    loop {
        let file = fsutil::open_private(&path, true)?;
        file.lock()?;
        if crate::platform::same_file(&path, &file)? {
            let len = file.metadata()?.len();
            return Ok((file, len));
        }
    }
}

/// Appends records (one lock, one write, fsync) and moves `audit.head`
/// forward. Returns the mark of the last record. `detail` must not hold
/// secret values; it is cut to keep lines short.
///
/// All or nothing: a write, flush or head update that fails (a full disk)
/// cuts the file back to where it was and returns the error. A torn record
/// a killed writer left at the end (bytes after the last newline) is cut
/// off by the next append, which says so in a record of its own. A live
/// file of `retention.segment` bytes is sealed into `audit/` first, and
/// the next one starts with a checkpoint (docs/ARCHITECTURE.md, "Audit
/// trail").
pub fn append(
    root: &Path,
    keys: &StoreKeys,
    who: &Actor,
    txn: Option<&str>,
    entries: &[AuditIntent],
    retention: &Retention,
) -> io::Result<Option<AuditMark>> {
    if entries.is_empty() {
        return Ok(None);
    }
    write_records(root, keys, who, txn, entries, retention)
}

/// `append`; with no entries, only the note of a repair (if any).
fn write_records(
    root: &Path,
    keys: &StoreKeys,
    who: &Actor,
    txn: Option<&str>,
    entries: &[AuditIntent],
    retention: &Retention,
) -> io::Result<Option<AuditMark>> {
    let key = keys.audit_key();
    let (mut file, mut len) = open_live_locked(root)?;
    let mut tail = read_tail(&mut file, len, keys)?;
    if tail.torn.is_none() && len >= retention.segment {
        seal(root, &file)?;
        drop(file);
        (file, len) = open_live_locked(root)?;
        tail = read_tail(&mut file, len, keys)?;
    }
    let time = crate::model::rfc3339(crate::model::now());
    let record = |seq: u64, prev: &str, e: &AuditIntent, cp: Option<Checkpoint>| {
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
            checkpoint: cp,
            prev: prev.to_string(),
            key: key.id(),
            mac: String::new(),
        };
        r.mac = hex::encode(crypto::mac(&key, &[b"authcfg audit", &r.mac_input()]));
        r
    };
    let mut buf = Vec::new();
    let mut start = len;
    let (mut seq, mut prev) = match &tail.last {
        Some(r) => (r.seq, r.mac.clone()),
        None => (0, GENESIS.to_string()),
    };
    let mut records = vec![];
    let mut floor_drop = None;
    let mut repaired = None;
    match &tail.torn {
        Some(Torn::Complete) => buf.push(b'\n'),
        Some(Torn::Partial { at, bytes, sha256 }) => {
            file.set_len(*at)?;
            start = *at;
            repaired = Some(AuditIntent {
                version: None,
                action: REPAIR.into(),
                config: None,
                outcome: "ok".into(),
                detail: Some(format!(
                    "dropped an incomplete record at the end of the trail ({bytes} bytes, sha256 {sha256}): a write that was cut short (a full disk or a killed process)"
                )),
            });
        }
        None => {}
    }
    if start == 0 && tail.last.is_none() {
        // A new segment: it starts with the head of the sealed part.
        if let Some(cp) = checkpoint(root, keys, retention)? {
            seq = cp.seq;
            prev = cp.mac.clone();
            floor_drop = Some(cp.floor);
            let detail = format!(
                "segment {} sealed (records up to {}, sha256 {}); segments before {} are not kept",
                cp.segment, cp.seq, cp.sha256, cp.floor
            );
            records.push((
                AuditIntent {
                    version: None,
                    action: CHECKPOINT.into(),
                    config: None,
                    outcome: "ok".into(),
                    detail: Some(detail),
                },
                Some(cp),
            ));
        }
    }
    records.extend(repaired.map(|r| (r, None)));
    records.extend(entries.iter().cloned().map(|e| (e, None)));
    if records.is_empty() {
        return Ok(None);
    }
    for (e, cp) in &records {
        seq += 1;
        let r = record(seq, &prev, e, cp.clone());
        prev = r.mac.clone();
        serde_json::to_writer(&mut buf, &r).map_err(io::Error::other)?;
        buf.push(b'\n');
    }
    let head = HeadFile {
        seq,
        hmac: hex::encode(head_hmac(&key, seq, &prev)),
        mac: prev.clone(),
        key: key.id(),
    };
    let head = serde_json::to_vec(&head).map_err(io::Error::other)?;
    let written = (|| {
        file.write_all(&buf)?;
        file.sync_data()?;
        // Not fsync'd: a head older than the trail is fine (the trail only
        // grows); a head newer than the trail is what a cut looks like.
        fsutil::write_atomic_via(&root.join("tmp"), &root.join(HEAD_FILE), &head, false)
    })();
    if let Err(e) = written {
        // Nothing of this append stays: the records are not in the trail,
        // the head was not moved (it is replaced by rename, or not at all).
        let _ = file.set_len(start);
        let _ = file.sync_data();
        return Err(e);
    }
    if let Some(floor) = floor_drop {
        // The checkpoint is written: the segments before it may go.
        for (n, p) in segments(root)? {
            if n < floor {
                let _ = fs::remove_file(p);
            }
        }
    }
    Ok(Some(AuditMark { seq, mac: prev }))
}

/// Cuts off a torn record at the end of the trail (noting it in the
/// trail), if there is one. For commands that read the trail (`log
/// --verify`, `doctor`) after a write was cut short.
pub fn repair(
    root: &Path,
    keys: &StoreKeys,
    who: &Actor,
    retention: &Retention,
) -> io::Result<bool> {
    match fs::symlink_metadata(path(root)) {
        Ok(m) if m.len() > 0 => {}
        _ => return Ok(false),
    }
    let (mut file, len) = open_live_locked(root)?;
    let tail = read_tail(&mut file, len, keys)?;
    let Some(Torn::Partial { .. }) = tail.torn else {
        return Ok(false);
    };
    drop(file);
    // Cut off and noted, with nothing else to add (the lock is taken again:
    // another writer may have repaired it meanwhile).
    Ok(write_records(root, keys, who, None, &[], retention)?.is_some())
}

enum Torn {
    /// The last record is whole but its newline is missing.
    Complete,
    /// Bytes after the last newline that are not a record: cut at `at`.
    Partial { at: u64, bytes: u64, sha256: String },
}

struct Tail {
    last: Option<Record>,
    torn: Option<Torn>,
}

/// The last record of the live file, and what follows its last newline.
fn read_tail(file: &mut fs::File, len: u64, keys: &StoreKeys) -> io::Result<Tail> {
    if len == 0 {
        return Ok(Tail {
            last: None,
            torn: None,
        });
    }
    let mut window = 4096u64;
    loop {
        let start = len.saturating_sub(window);
        file.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::with_capacity((len - start) as usize);
        Read::by_ref(file).take(len - start).read_to_end(&mut buf)?;
        let nl = buf.iter().rposition(|&b| b == b'\n');
        if nl.is_none() && start > 0 && window < MAX_LINE as u64 * 4 {
            window *= 4;
            continue;
        }
        // `frag`: after the last newline; `body`: the complete lines.
        let (body, frag) = match nl {
            Some(i) => (&buf[..i], &buf[i + 1..]),
            None if start == 0 => (&buf[..0], &buf[..]),
            None => (&buf[..0], &buf[..]),
        };
        let frag_at = len - frag.len() as u64;
        let parsed_frag = serde_json::from_slice::<Record>(frag).ok();
        let torn = if frag.is_empty() {
            None
        } else if parsed_frag.as_ref().is_some_and(|r| authentic(keys, r)) {
            Some(Torn::Complete)
        } else {
            Some(Torn::Partial {
                at: frag_at,
                bytes: frag.len() as u64,
                sha256: crypto::sha256_hex(frag),
            })
        };
        if let Some(Torn::Complete) = torn {
            return Ok(Tail {
                last: parsed_frag,
                torn,
            });
        }
        // The last complete line: found in this window, or look further.
        let line_start = body.iter().rposition(|&b| b == b'\n').map(|i| i + 1);
        match line_start {
            Some(i) => {
                let last = serde_json::from_slice::<Record>(&body[i..]).ok();
                return Ok(Tail {
                    last: last.or_else(|| unreadable(&body[i..])),
                    torn,
                });
            }
            None if start == 0 || nl.is_none() => {
                let last = if body.is_empty() {
                    None
                } else {
                    serde_json::from_slice::<Record>(body)
                        .ok()
                        .or_else(|| unreadable(body))
                };
                return Ok(Tail { last, torn });
            }
            None if window >= MAX_LINE as u64 * 4 => {
                return Ok(Tail {
                    last: unreadable(body),
                    torn,
                });
            }
            None => window *= 4,
        }
    }
}

/// An unreadable last line (an edit): the chain continues from it (its
/// digest is the next record's `prev`) and verification says what is wrong.
fn unreadable(line: &[u8]) -> Option<Record> {
    if line.is_empty() {
        return None;
    }
    Some(Record {
        seq: 0,
        time: String::new(),
        action: String::new(),
        config: None,
        outcome: String::new(),
        detail: None,
        version: None,
        user: String::new(),
        actor: None,
        pid: 0,
        txn: None,
        checkpoint: None,
        prev: String::new(),
        key: String::new(),
        mac: crypto::sha256_hex(line),
    })
}

/// Seals the live file (locked by the caller): flushed, then renamed to the
/// next segment number. The next append starts the new live file with a
/// checkpoint.
fn seal(root: &Path, file: &fs::File) -> io::Result<()> {
    file.sync_all()?;
    let dir = root.join(SEGMENT_DIR);
    fsutil::ensure_private_dir(&dir)?;
    let after = first_checkpoint_of(&path(root))?.map_or(0, |c| c.segment);
    let last = segments(root)?.last().map_or(0, |(n, _)| *n);
    let n = after.max(last) + 1;
    fs::rename(path(root), segment_path(root, n))?;
    fsutil::sync_dir(&dir)?;
    fsutil::sync_dir(root)
}

/// The checkpoint that starts a new live file: the head of the newest
/// sealed segment, and the oldest segment retention keeps.
fn checkpoint(
    root: &Path,
    keys: &StoreKeys,
    retention: &Retention,
) -> io::Result<Option<Checkpoint>> {
    let segs = segments(root)?;
    let Some((n, p)) = segs.last() else {
        return Ok(None);
    };
    let Some(mut file) = fsutil::open_private_read(p)? else {
        return Ok(None);
    };
    let len = file.metadata()?.len();
    let tail = read_tail(&mut file, len, keys)?;
    let Some(last) = tail.last else {
        return Ok(None);
    };
    file.seek(SeekFrom::Start(0))?;
    let mut h = Sha256::new();
    io::copy(&mut file, &mut h)?;
    let mut floor = segs.first().map_or(*n, |(f, _)| *f);
    if let Some(keep) = retention.keep {
        let mut total = 0u64;
        floor = n + 1;
        for (k, p) in segs.iter().rev() {
            total += fs::symlink_metadata(p).map(|m| m.len()).unwrap_or(0);
            if total > keep {
                break;
            }
            floor = *k;
        }
    }
    // The segment just sealed is kept (a trail from before segments, sealed
    // whole, is not dropped at once), and a floor an older checkpoint set
    // is never taken back.
    floor = floor.min(*n);
    if let Some(older) = first_checkpoint(root, *n)? {
        floor = floor.max(older.floor);
    }
    Ok(Some(Checkpoint {
        segment: *n,
        seq: last.seq,
        mac: last.mac,
        sha256: hex::encode(h.finalize()),
        floor,
    }))
}

/// The checkpoint a segment starts with, if it does.
fn first_checkpoint(root: &Path, n: u64) -> io::Result<Option<Checkpoint>> {
    first_checkpoint_of(&segment_path(root, n))
}

fn first_checkpoint_of(p: &Path) -> io::Result<Option<Checkpoint>> {
    let Some(f) = fsutil::open_private_read(p)? else {
        return Ok(None);
    };
    let mut first = Vec::new();
    io::BufReader::new(f)
        .take(MAX_LINE as u64)
        .read_until(b'\n', &mut first)?;
    Ok(serde_json::from_slice::<Record>(first.trim_ascii_end())
        .ok()
        .and_then(|r| r.checkpoint))
}

/// Calls `each` with every line of a trail file (without its newline),
/// streaming: no file is read whole, whatever its size.
fn for_each_line(file: fs::File, mut each: impl FnMut(&[u8])) -> io::Result<()> {
    let mut r = io::BufReader::with_capacity(1 << 16, file);
    let mut line = Vec::with_capacity(512);
    loop {
        line.clear();
        let n = Read::by_ref(&mut r)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(());
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        } else if line.len() > MAX_LINE {
            // Not a record: skip to the end of this line.
            let mut rest = Vec::new();
            loop {
                rest.clear();
                let m = Read::by_ref(&mut r)
                    .take(1 << 16)
                    .read_until(b'\n', &mut rest)?;
                if m == 0 || rest.last() == Some(&b'\n') {
                    break;
                }
            }
        }
        each(&line);
    }
}

/// The files of the trail, oldest first: the sealed segments, then the
/// live file. Each with its segment number (the live file: `None`).
fn files(root: &Path) -> io::Result<Vec<(Option<u64>, PathBuf)>> {
    let mut out: Vec<(Option<u64>, PathBuf)> = segments(root)?
        .into_iter()
        .map(|(n, p)| (Some(n), p))
        .collect();
    out.push((None, path(root)));
    Ok(out)
}

/// Whether the trail has a record of change `txn` (journal recovery).
pub fn has_txn(root: &Path, txn: &str) -> io::Result<bool> {
    // Journaled records are among the last ones: the live file, and the
    // segment sealed last.
    let needle = format!("\"txn\":\"{txn}\"");
    let mut fs_ = files(root)?;
    fs_.reverse();
    for (_, p) in fs_.into_iter().take(2) {
        let Some(f) = fsutil::open_private_read(&p)? else {
            continue;
        };
        let mut found = false;
        for_each_line(f, |l| {
            found = found || std::str::from_utf8(l).is_ok_and(|s| s.contains(&needle))
        })?;
        if found {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Every record of the trail that is kept, oldest first.
pub fn read_all(root: &Path) -> io::Result<Vec<Record>> {
    let mut out = vec![];
    for (_, p) in files(root)? {
        let Some(f) = fsutil::open_private_read(&p)? else {
            continue;
        };
        for_each_line(f, |l| {
            if let Ok(r) = serde_json::from_slice(l) {
                out.push(r)
            }
        })?;
    }
    Ok(out)
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

/// A record the trail must hold (`what` says who vouches for it).
pub struct Expected<'a> {
    pub mark: &'a AuditMark,
    pub missing: String,
}

/// Checks every kept record's MAC and link across the segments, each
/// segment against the checkpoint after it, that no segment retention
/// keeps is missing, then the tail against `audit.head` and the records
/// in `expected` (the index's mark of the last write, the local anchor).
pub fn verify(root: &Path, keys: &StoreKeys, expected: &[Expected]) -> io::Result<Verification> {
    let mut v = Verification::default();
    let files = files(root)?;
    // The oldest segment kept: the highest floor any checkpoint names.
    let mut floor = 1u64;
    let mut newest_named = 0u64;
    for (_, p) in &files {
        if let Some(cp) = first_checkpoint_of(p)? {
            floor = floor.max(cp.floor);
            newest_named = newest_named.max(cp.segment);
        }
    }
    let sealed: Vec<u64> = files
        .iter()
        .filter_map(|(n, _)| *n)
        .filter(|n| *n >= floor)
        .collect();
    let newest = sealed.last().copied().unwrap_or(0).max(newest_named);
    for k in floor..=newest {
        if !sealed.contains(&k) {
            v.problems.push(format!(
                "{} is missing: part of the trail was removed (retention keeps segments from {floor} on)",
                segment_path(root, k).strip_prefix(root).unwrap_or(Path::new("")).display()
            ));
        }
    }
    let mut prev = GENESIS.to_string();
    let mut prev_seq = 0u64;
    // Records up to this seq were dropped by retention.
    let mut dropped_to: Option<AuditMark> = None;
    let mut found = vec![false; expected.len()];
    let mut head_found = None::<AuditMark>;
    let head = fsutil::read_private(&root.join(HEAD_FILE))?
        .and_then(|b| serde_json::from_slice::<HeadFile>(&b).ok());
    let mut first_file = true;
    // The segment before (number, digest) for the checkpoint that follows.
    let mut before: Option<(u64, String)> = None;
    for (n, p) in files.iter().filter(|(n, _)| n.is_none_or(|n| n >= floor)) {
        let Some(f) = fsutil::open_private_read(p)? else {
            continue;
        };
        let name = match n {
            Some(_) => format!("{}, ", p.strip_prefix(root).unwrap_or(p).display()),
            None => String::new(),
        };
        let mut h = Sha256::new();
        let mut line_no = 0usize;
        for_each_line(f, |line| {
            h.update(line);
            h.update(b"\n");
            line_no += 1;
            if line.is_empty() {
                return;
            }
            let at = format!("{name}line {line_no}");
            v.records += 1;
            let Ok(r) = serde_json::from_slice::<Record>(line) else {
                v.problems.push(format!("{at}: not a valid audit record"));
                prev = crypto::sha256_hex(line);
                return;
            };
            match keys.audit_key_by_id(&r.key) {
                Some(k) if crypto::mac_ok(&k, &[b"authcfg audit", &r.mac_input()], &r.mac) => {}
                Some(_) => v.problems.push(format!(
                    "{at} (seq {}): its MAC does not match: the record was edited or forged",
                    r.seq
                )),
                None => v.problems.push(format!(
                    "{at} (seq {}): MAC'd with an unknown key ({}): forged, or from another store",
                    r.seq, r.key
                )),
            }
            if line_no == 1 {
                if let Some(cp) = &r.checkpoint {
                    match &before {
                        Some((b, digest)) if *b == cp.segment => {
                            if *digest != cp.sha256 {
                                v.problems.push(format!(
                                    "segment {} was changed after it was sealed (its digest is not the one the checkpoint after it holds)",
                                    cp.segment
                                ));
                            }
                        }
                        _ if first_file && cp.segment < floor => {
                            // The part before was dropped by retention:
                            // the checkpoint is where the chain starts.
                            prev = cp.mac.clone();
                            prev_seq = cp.seq;
                            dropped_to = Some(AuditMark {
                                seq: cp.seq,
                                mac: cp.mac.clone(),
                            });
                        }
                        _ => v.problems.push(format!(
                            "{at}: follows segment {}, which is not there",
                            cp.segment
                        )),
                    }
                } else if first_file && floor > 1 {
                    v.problems.push(format!(
                        "{at}: the oldest segment kept does not start with a checkpoint"
                    ));
                }
            }
            if r.prev != prev {
                v.problems.push(format!(
                    "{at} (seq {}): does not follow the record before it (a record was removed, inserted or moved)",
                    r.seq
                ));
            }
            if r.seq != prev_seq + 1 {
                v.problems
                    .push(format!("{at}: sequence jumps from {prev_seq} to {}", r.seq));
            }
            for (i, e) in expected.iter().enumerate() {
                if e.mark.seq == r.seq && e.mark.mac == r.mac {
                    found[i] = true;
                }
            }
            if let Some(hd) = &head {
                if hd.seq == r.seq && hd.mac == r.mac {
                    head_found = Some(AuditMark {
                        seq: r.seq,
                        mac: r.mac.clone(),
                    });
                }
            }
            follow_versions(&mut v, &r);
            prev_seq = r.seq;
            prev = r.mac;
        })?;
        first_file = false;
        before = n.map(|n| (n, hex::encode(h.finalize())));
    }
    // The last bytes may be a torn record (a write cut short).
    if let Some(f) = fsutil::open_private_read(&path(root))? {
        let len = f.metadata()?.len();
        let mut f = f;
        if len > 0 {
            f.seek(SeekFrom::Start(len - 1))?;
            let mut b = [0u8];
            f.read_exact(&mut b)?;
            if b[0] != b'\n' {
                v.problems.push(
                    "the trail ends with an incomplete record (a write was cut short); the next command that writes to the store cuts it off and notes it".into(),
                );
            }
        }
    }
    // A mark older than the kept part was dropped with it.
    let dropped = |m: &AuditMark| {
        dropped_to
            .as_ref()
            .is_some_and(|d| m.seq < d.seq || (m.seq == d.seq && m.mac == d.mac))
    };
    match &head {
        None if v.records > 0 => v.problems.push(format!(
            "{HEAD_FILE} is missing or unreadable: a cut-off end of the trail cannot be ruled out"
        )),
        None => {}
        Some(h) => {
            let authentic = keys
                .audit_key_by_id(&h.key)
                .is_some_and(|k| hex::encode(head_hmac(&k, h.seq, &h.mac)) == h.hmac);
            let mark = AuditMark {
                seq: h.seq,
                mac: h.mac.clone(),
            };
            if !authentic {
                v.problems.push(format!(
                    "{HEAD_FILE} is not authentic: it was edited or forged"
                ));
            } else if head_found.is_none() && !dropped(&mark) {
                v.problems.push(format!(
                    "the trail ends at seq {prev_seq}, but record {} was written: records were cut off its end",
                    h.seq
                ));
            }
        }
    }
    for (e, ok) in expected.iter().zip(found) {
        if !ok && !dropped(e.mark) {
            v.problems.push(e.missing.clone());
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
pub fn fold_failed_access(
    root: &Path,
    keys: &StoreKeys,
    who: &Actor,
    retention: &Retention,
) -> std::io::Result<usize> {
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
    append(root, keys, who, None, &entries, retention)?;
    fs::remove_file(&p)?;
    Ok(entries.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::header::{Header, Recipient, ALL};

    fn keys() -> StoreKeys {
        let id = age::x25519::Identity::generate();
        let mut h = Header {
            recipients: vec![Recipient {
                label: "master".into(),
                public_key: id.to_public().to_string(),
                groups: vec![],
                role: Default::default(),
                custody: None,
            }],
            ..Header::new("t", "")
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
        append(dir, k, &Actor::default(), None, &[e], &Retention::default())
            .unwrap()
            .unwrap()
    }

    fn marked(m: &AuditMark) -> Vec<Expected<'_>> {
        vec![Expected {
            mark: m,
            missing: "missing".into(),
        }]
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
        let v = verify(dir.path(), &k, &marked(&marks[4])).unwrap();
        assert_eq!((v.records, v.problems.len()), (5, 0), "{:?}", v.problems);
        let p = path(dir.path());
        let text = fs::read_to_string(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let write = |l: Vec<&str>| {
            fs::write(&p, l.iter().map(|x| format!("{x}\n")).collect::<String>()).unwrap()
        };

        fs::write(&p, text.replace("\"c2\"", "\"cX\"")).unwrap();
        assert!(
            !verify(dir.path(), &k, &[]).unwrap().problems.is_empty(),
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
            !verify(dir.path(), &k, &[]).unwrap().problems.is_empty(),
            "deletion"
        );

        let mut re = lines.clone();
        re.swap(1, 2);
        write(re);
        assert!(
            !verify(dir.path(), &k, &[]).unwrap().problems.is_empty(),
            "reorder"
        );

        write(lines[..4].to_vec());
        assert!(
            !verify(dir.path(), &k, &[]).unwrap().problems.is_empty(),
            "cut tail (head)"
        );
        fs::remove_file(dir.path().join(HEAD_FILE)).unwrap();
        assert!(
            !verify(dir.path(), &k, &marked(&marks[4]))
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
            !verify(dir.path(), &k, &[]).unwrap().problems.is_empty(),
            "forged chain"
        );
    }
}
