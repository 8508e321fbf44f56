//! The audit trail (DESIGN §7): append-only JSON lines in the store, each
//! naming the SHA-256 of the line before it, so that `log --verify` finds
//! edited, inserted or deleted records. Records carry names and outcomes,
//! never secret values.

use crate::store::fsutil;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub const AUDIT_FILE: &str = "audit.jsonl";
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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
    pub user: String,
    pub pid: u32,
    pub prev: String,
}

pub fn path(root: &Path) -> PathBuf {
    root.join(AUDIT_FILE)
}

/// Appends one record. `detail` must not contain secret values; it is
/// truncated to keep lines short.
pub fn append(
    root: &Path,
    action: &str,
    config: Option<&str>,
    outcome: &str,
    detail: Option<&str>,
) -> std::io::Result<()> {
    let mut file = fsutil::open_private(&path(root), true)?;
    file.lock()?;
    let (last, ends_clean) = last_line(&mut file)?;
    if !ends_clean {
        // A torn record from a crash: close it so it is its own (invalid) line.
        file.write_all(b"\n")?;
    }
    let (seq, prev) = match &last {
        Some(line) => (
            serde_json::from_slice::<Record>(line)
                .map(|r| r.seq + 1)
                .unwrap_or(0),
            hex::encode(Sha256::digest(line)),
        ),
        None => (1, GENESIS.to_string()),
    };
    let record = Record {
        seq,
        time: crate::model::rfc3339(crate::model::now()),
        action: action.to_string(),
        config: config.map(str::to_string),
        outcome: outcome.to_string(),
        detail: detail.map(|d| d.chars().take(300).collect()),
        user: std::env::var("USER")
            .unwrap_or_else(|_| format!("uid:{}", unsafe { libc::getuid() })),
        pid: std::process::id(),
        prev,
    };
    let mut line = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
    line.push(b'\n');
    file.write_all(&line)
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
    let text = match fs::read_to_string(path(root)) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(e),
    };
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

#[derive(Debug, Default, Serialize)]
pub struct Verification {
    pub records: usize,
    pub problems: Vec<String>,
}

/// Recomputes the chain. Finds edits, insertions and deletions anywhere but
/// at the very end (a cut-off tail leaves a valid, shorter chain).
pub fn verify(root: &Path) -> std::io::Result<Verification> {
    let data = match fs::read(path(root)) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Verification::default()),
        Err(e) => return Err(e),
    };
    let mut v = Verification::default();
    let mut prev_hash = GENESIS.to_string();
    let mut prev_seq = 0u64;
    for (i, line) in data.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let n = i + 1;
        v.records += 1;
        match serde_json::from_slice::<Record>(line) {
            Ok(r) => {
                if r.prev != prev_hash {
                    v.problems.push(format!(
                        "line {n} (seq {}): does not follow the line before it (edited, inserted or a record removed)",
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
            }
            Err(_) => v
                .problems
                .push(format!("line {n}: not a valid audit record")),
        }
        prev_hash = hex::encode(Sha256::digest(line));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_detects_edits_and_deletions() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..5 {
            append(dir.path(), "add", Some(&format!("c{i}")), "ok", None).unwrap();
        }
        let v = verify(dir.path()).unwrap();
        assert_eq!((v.records, v.problems.len()), (5, 0));

        let text = fs::read_to_string(path(dir.path())).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let edited = text.replace("\"c2\"", "\"cX\"");
        fs::write(path(dir.path()), edited).unwrap();
        assert!(!verify(dir.path()).unwrap().problems.is_empty());

        let deleted: String = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        fs::write(path(dir.path()), deleted).unwrap();
        assert!(!verify(dir.path()).unwrap().problems.is_empty());
    }
}
