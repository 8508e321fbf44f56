//! Who uses each config (docs/ARCHITECTURE.md, "Usage"): `usage.log`, an
//! append-only file of short records, each sealed (XChaCha20-Poly1305)
//! under the store's usage key and bound to the store id. A record names a
//! config, its consumer (a project and environment, a CI job, a label, or
//! the user directly), the hand-out and the time; project paths and job
//! names are private, so nothing of them is readable without a key.
//!
//! A hand-out appends one line per config with `O_APPEND` under the file's
//! own `flock` (not the store's writer lock): no decryption, no fsync. The
//! log is folded into shards, `usage/<hh>` (`hh`: the first byte of
//! SHA-256 of the config name, modulo `SHARDS`, as the index shards), each
//! the newest record per (config, consumer) of its configs; then the log
//! starts again empty (replaced by rename: a writer that waited on the old
//! file sees the new inode and appends there). What one config's consumers
//! are is then its shard and the short log, whatever the number of
//! hand-outs (`show`), and a fold costs the records since the last one.
//! The log is informative (the audit trail is the record of every use):
//! a line that does not open (torn, forged, another store's) is skipped.

use super::crypto::{self, Key32};
use super::fsutil;
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const USAGE_FILE: &str = "usage.log";

/// Commands that read the log anyway (`list`, `show`, `doctor`, `remove`)
/// fold it into the shards when it is larger than this.
const FOLD_MIN: u64 = 32 << 10;
/// A hand-out never folds (it must stay a cheap append) unless the log
/// grew past this, in a store whose log nobody reads (CI only).
const COMPACT_HANDOUT: u64 = 4 << 20;
/// The shards of the folded log: `usage/00` to `usage/3f`.
pub const SHARD_DIR: &str = "usage";
const SHARDS: u8 = 64;
/// How long an append waits for the file's lock before giving up on
/// recording (a hand-out is never held up for long by bookkeeping).
const LOCK_WAIT: Duration = Duration::from_secs(2);

/// How long a consumer counts as a connection of a config.
pub const RECENT_DAYS: i64 = 90;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsumerKind {
    /// A project file's root and environment.
    Project,
    /// A CI job (GitHub Actions, GitLab CI).
    Ci,
    /// `--as LABEL` / `AUTHCFG_AS`, or a tool's own label (git, http, mcp).
    Label,
    /// A person at a shell, nothing more known: not a connection.
    Direct,
}

impl ConsumerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsumerKind::Project => "project",
            ConsumerKind::Ci => "ci",
            ConsumerKind::Label => "label",
            ConsumerKind::Direct => "direct",
        }
    }
}

/// Who a config was handed to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Consumer {
    #[serde(rename = "k")]
    pub kind: ConsumerKind,
    /// The project root, the CI job, the label, or the user.
    #[serde(rename = "n")]
    pub name: String,
    /// The project's environment.
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    pub env: Option<String>,
}

impl Consumer {
    pub fn project(root: &Path, env: &str) -> Consumer {
        Consumer {
            kind: ConsumerKind::Project,
            name: root.display().to_string(),
            env: Some(env.to_string()),
        }
    }
    pub fn ci(job: &str) -> Consumer {
        Consumer {
            kind: ConsumerKind::Ci,
            name: job.to_string(),
            env: None,
        }
    }
    pub fn label(label: &str) -> Consumer {
        Consumer {
            kind: ConsumerKind::Label,
            name: label.to_string(),
            env: None,
        }
    }
    pub fn direct(user: &str) -> Consumer {
        Consumer {
            kind: ConsumerKind::Direct,
            name: user.to_string(),
            env: None,
        }
    }
    /// Whether something depends on the config through this consumer (a
    /// person's own use is not a connection).
    pub fn is_connection(&self) -> bool {
        self.kind != ConsumerKind::Direct
    }
    /// `project /src/app (production)`, `ci github:org/app deploy`, ...
    pub fn describe(&self) -> String {
        match (&self.kind, &self.env) {
            (ConsumerKind::Project, Some(e)) => format!("project {}, env {e}", self.name),
            (ConsumerKind::Direct, _) => format!("direct use by {}", self.name),
            (k, _) => format!("{} {}", k.as_str(), self.name),
        }
    }
}

/// One hand-out of one config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Use {
    #[serde(rename = "c")]
    pub config: String,
    #[serde(flatten)]
    pub consumer: Consumer,
    /// export, exec, inject, token, header, git-credential, http, mcp.
    #[serde(rename = "a")]
    pub action: String,
    /// Unix seconds.
    #[serde(rename = "t")]
    pub at: i64,
}

/// What `list` shows of one config.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The newest use, Unix seconds.
    pub last: Option<i64>,
    /// Consumers that are connections, seen within `RECENT_DAYS`.
    pub connections: Vec<Consumer>,
}

pub struct UsageLog {
    root: PathBuf,
    key: Key32,
    store_id: String,
}

fn aad(store_id: &str) -> Vec<u8> {
    format!("authcfg usage {store_id}").into_bytes()
}

fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD_NO_PAD
}

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl UsageLog {
    pub fn new(root: &Path, key: Key32, store_id: &str) -> UsageLog {
        UsageLog {
            root: root.to_path_buf(),
            key,
            store_id: store_id.to_string(),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.root.join(USAGE_FILE)
    }

    fn seal_line(&self, key: &Key32, u: &Use, out: &mut Vec<u8>) {
        let json = serde_json::to_vec(u).expect("a use serializes");
        let sealed = crypto::seal(key, &aad(&self.store_id), &json);
        out.extend_from_slice(b64().encode(sealed).as_bytes());
        out.push(b'\n');
    }

    fn open_line(&self, keys: &[&Key32], line: &[u8]) -> Option<Use> {
        let bytes = b64().decode(line).ok()?;
        keys.iter()
            .find_map(|k| crypto::open(k, &aad(&self.store_id), &bytes))
            .and_then(|plain| serde_json::from_slice(&plain).ok())
    }

    /// Appends uses: one write under the file's lock. `exists` tells a
    /// compaction (only past `COMPACT_HANDOUT`) which configs are still there.
    pub fn append(&self, uses: &[Use], exists: &dyn Fn(&str) -> bool) -> io::Result<()> {
        if uses.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(uses.len() * 160);
        for u in uses {
            self.seal_line(&self.key, u, &mut buf);
        }
        let (file, start) = self.locked()?;
        let mut out = Vec::with_capacity(buf.len() + 1);
        if !ends_clean(&file, start)? {
            // A torn line of a killed writer: end it, so it stays its own.
            out.push(b'\n');
        }
        out.extend_from_slice(&buf);
        (&file).write_all(&out)?;
        let len = start + out.len() as u64;
        if len > COMPACT_HANDOUT {
            self.fold_locked(&[&self.key], exists)?;
        }
        Ok(())
    }

    /// Folds the log into its shards when it is not short (for commands
    /// off the hot path).
    pub fn maintain(&self, exists: &dyn Fn(&str) -> bool) -> io::Result<()> {
        let len = match std::fs::symlink_metadata(self.path()) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if len <= FOLD_MIN {
            return Ok(());
        }
        let (_file, len) = self.locked()?;
        if len > FOLD_MIN {
            self.fold_locked(&[&self.key], exists)?;
        }
        Ok(())
    }

    fn shard_path(&self, shard: u8) -> PathBuf {
        self.root.join(SHARD_DIR).join(format!("{shard:02x}"))
    }

    fn shards(&self) -> io::Result<Vec<u8>> {
        let entries = match std::fs::read_dir(self.root.join(SHARD_DIR)) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(e),
        };
        let mut out: Vec<u8> = entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name();
                let n = name.to_str()?;
                (n.len() == 2).then(|| u8::from_str_radix(n, 16).ok())?
            })
            .filter(|s| *s < SHARDS)
            .collect();
        out.sort();
        Ok(out)
    }

    /// The log, opened for appending and locked, and its length. A writer
    /// that waited while another compacted (renamed a new file into place)
    /// opens the new one.
    fn locked(&self) -> io::Result<(File, u64)> {
        let path = self.path();
        let started = Instant::now();
        loop {
            let file = fsutil::open_private(&path, true)?;
            loop {
                match file.try_lock() {
                    Ok(()) => break,
                    Err(std::fs::TryLockError::WouldBlock) if started.elapsed() < LOCK_WAIT => {
                        std::thread::sleep(Duration::from_millis(2))
                    }
                    Err(std::fs::TryLockError::WouldBlock) => {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!("{} stayed locked", path.display()),
                        ))
                    }
                    Err(std::fs::TryLockError::Error(e)) => return Err(e),
                }
            }
            if crate::platform::same_file(&path, &file)? {
                let len = file.metadata()?.len();
                return Ok((file, len));
            }
        }
    }

    /// Every use that opens under this store's key, oldest first (as
    /// appended), and how many lines did not open.
    pub fn read(&self) -> io::Result<(Vec<Use>, usize)> {
        self.read_with(&[&self.key])
    }

    fn read_with(&self, keys: &[&Key32]) -> io::Result<(Vec<Use>, usize)> {
        // The log first, then the shards: a fold in between shows a record
        // twice (the newest per consumer is taken), never not at all.
        let mut uses = Vec::new();
        let mut bad = self.read_file(&self.path(), keys, None, &mut uses)?;
        for shard in self.shards()? {
            bad += self.read_file(&self.shard_path(shard), keys, None, &mut uses)?;
        }
        Ok((uses, bad))
    }

    /// The uses in one file (of `config` only, when given); how many lines
    /// did not open.
    fn read_file(
        &self,
        path: &Path,
        keys: &[&Key32],
        config: Option<&str>,
        uses: &mut Vec<Use>,
    ) -> io::Result<usize> {
        let Some(bytes) = fsutil::read_private(path)? else {
            return Ok(0);
        };
        let mut bad = 0;
        for line in bytes.split(|&b| b == b'\n') {
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            match self.open_line(keys, line) {
                Some(u) if config.is_none_or(|c| c == u.config) => uses.push(u),
                Some(_) => {}
                None => bad += 1,
            }
        }
        Ok(bad)
    }

    /// Per config: the newest use and the recent connections.
    pub fn summaries(&self) -> HashMap<String, Summary> {
        let (uses, _) = self.read().unwrap_or_default();
        let since = now() - RECENT_DAYS * 86_400;
        let mut out: HashMap<String, Summary> = HashMap::new();
        for u in uses {
            let s = out.entry(u.config).or_default();
            s.last = Some(s.last.map_or(u.at, |l| l.max(u.at)));
            if u.at >= since && u.consumer.is_connection() && !s.connections.contains(&u.consumer) {
                s.connections.push(u.consumer);
            }
        }
        for s in out.values_mut() {
            s.connections.sort();
        }
        out
    }

    /// One config's consumers, each with its newest use, newest first:
    /// the short log and the config's shard, not the whole history.
    pub fn consumers(&self, config: &str) -> Vec<Use> {
        let keys = [&self.key];
        let mut uses = vec![];
        // The shard (folded, older) before the log (newer): ties in the
        // same second go to what was read last.
        let _ = self.read_file(
            &self.shard_path(shard_of(config)),
            &keys,
            Some(config),
            &mut uses,
        );
        let _ = self.read_file(&self.path(), &keys, Some(config), &mut uses);
        newest_per_consumer(uses.into_iter())
    }

    /// Folds the log into the shards: each shard a record touched gets
    /// the newest use per (config, consumer) of configs that still exist;
    /// then the log starts again empty. Caller holds the log's lock. A
    /// crash midway leaves records in both, which the next fold takes
    /// again (the newest use wins).
    fn fold_locked(&self, keys: &[&Key32], exists: &dyn Fn(&str) -> bool) -> io::Result<()> {
        self.fold_with(keys, exists, None)
    }

    /// After `config` was removed: its uses are dropped (the log is folded
    /// and its shard rewritten without them), so a new config of the same
    /// name starts with none.
    pub fn forget(&self, config: &str, exists: &dyn Fn(&str) -> bool) -> io::Result<()> {
        if !self.path().exists() && self.shards()?.is_empty() {
            return Ok(());
        }
        let _lock = self.locked()?;
        self.fold_with(&[&self.key], exists, Some(shard_of(config)))
    }

    fn fold_with(
        &self,
        keys: &[&Key32],
        exists: &dyn Fn(&str) -> bool,
        also: Option<u8>,
    ) -> io::Result<()> {
        let mut tail = vec![];
        self.read_file(&self.path(), keys, None, &mut tail)?;
        let mut by_shard: std::collections::BTreeMap<u8, Vec<Use>> = Default::default();
        if let Some(s) = also {
            if self.shard_path(s).exists() {
                by_shard.insert(s, vec![]);
            }
        }
        for u in tail {
            by_shard.entry(shard_of(&u.config)).or_default().push(u);
        }
        self.write_shards(keys, by_shard, exists)?;
        fsutil::write_atomic_via(&self.root.join(super::TMP_DIR), &self.path(), b"", false)
    }

    /// Merges `new` uses into their shards and rewrites them.
    fn write_shards(
        &self,
        keys: &[&Key32],
        new: std::collections::BTreeMap<u8, Vec<Use>>,
        exists: &dyn Fn(&str) -> bool,
    ) -> io::Result<()> {
        let tmp = self.root.join(super::TMP_DIR);
        if !new.is_empty() {
            fsutil::ensure_private_dir(&self.root.join(SHARD_DIR))?;
        }
        for (shard, mut uses) in new {
            let path = self.shard_path(shard);
            self.read_file(&path, keys, None, &mut uses)?;
            let kept = newest_per_consumer(uses.into_iter().filter(|u| exists(&u.config)));
            let mut body = Vec::with_capacity(kept.len() * 160);
            for u in kept.iter().rev() {
                self.seal_line(&self.key, u, &mut body);
            }
            // Informative, as the log: replaced whole, not flushed.
            fsutil::write_atomic_via(&tmp, &path, &body, false)?;
        }
        Ok(())
    }

    /// After the store keys were replaced (a master-key rotation, a
    /// recipient removed): records sealed under `old` keys are sealed
    /// again under this log's key. Idempotent.
    pub fn reseal(&self, old: &[Key32]) -> io::Result<()> {
        if !self.path().exists() && self.shards()?.is_empty() {
            return Ok(());
        }
        let _lock = self.locked()?;
        let mut keys: Vec<&Key32> = vec![&self.key];
        keys.extend(old.iter());
        // Every shard is rewritten under this key.
        let mut all: std::collections::BTreeMap<u8, Vec<Use>> =
            self.shards()?.into_iter().map(|s| (s, vec![])).collect();
        let mut tail = vec![];
        self.read_file(&self.path(), &keys, None, &mut tail)?;
        for u in tail {
            all.entry(shard_of(&u.config)).or_default().push(u);
        }
        self.write_shards(&keys, all, &|_| true)?;
        fsutil::write_atomic_via(&self.root.join(super::TMP_DIR), &self.path(), b"", false)
    }
}

/// Configs nobody used since `since` (Unix seconds) among those created
/// before it: `configs` are (name, created), `last` the newest use of each.
pub fn unused<'a>(
    configs: impl Iterator<Item = (&'a str, i64)>,
    last: &dyn Fn(&str) -> Option<i64>,
    since: i64,
) -> Vec<&'a str> {
    configs
        .filter(|(_, created)| *created < since)
        .filter(|(n, _)| last(n).is_none_or(|t| t < since))
        .map(|(n, _)| n)
        .collect()
}

/// The newest use per (config, consumer), newest first; uses of the same
/// second in the order they were read (the log after the shards: later is
/// newer).
fn newest_per_consumer(uses: impl Iterator<Item = Use>) -> Vec<Use> {
    let mut best: HashMap<(String, Consumer), (usize, Use)> = HashMap::new();
    for (i, u) in uses.enumerate() {
        let k = (u.config.clone(), u.consumer.clone());
        match best.get(&k) {
            Some((_, b)) if b.at > u.at => {}
            _ => {
                best.insert(k, (i, u));
            }
        }
    }
    let mut out: Vec<(usize, Use)> = best.into_values().collect();
    out.sort_by(|(ia, a), (ib, b)| b.at.cmp(&a.at).then_with(|| ib.cmp(ia)));
    out.into_iter().map(|(_, u)| u).collect()
}

/// The shard of a config's uses (as the index: SHA-256 of the name).
fn shard_of(config: &str) -> u8 {
    use sha2::Digest;
    sha2::Sha256::digest(config.as_bytes())[0] % SHARDS
}

/// Whether the file of length `len` ends with a newline (or is empty).
fn ends_clean(file: &File, len: u64) -> io::Result<bool> {
    if len == 0 {
        return Ok(true);
    }
    let mut last = [0u8; 1];
    crate::platform::read_exact_at(file, &mut last, len - 1)?;
    Ok(last[0] == b'\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(dir: &Path) -> UsageLog {
        UsageLog::new(dir, Key32::random(), "store-1")
    }

    fn u(config: &str, who: &str, at: i64) -> Use {
        Use {
            config: config.into(),
            consumer: Consumer::label(who),
            action: "export".into(),
            at,
        }
    }

    fn private_dir() -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        d
    }

    #[test]
    fn appends_read_back_and_are_sealed() {
        let d = private_dir();
        let l = log(d.path());
        l.append(&[u("a", "deploy", 10), u("b", "ci-job", 11)], &|_| true)
            .unwrap();
        l.append(&[u("a", "deploy", 12)], &|_| true).unwrap();
        let (uses, bad) = l.read().unwrap();
        assert_eq!((uses.len(), bad), (3, 0));
        let raw = std::fs::read_to_string(l.path()).unwrap();
        assert!(!raw.contains("deploy") && !raw.contains("ci-job"));
        assert_eq!(raw.lines().count(), 3);
        let c = l.consumers("a");
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].at, 12);
        // Another key (another store, a forger) opens nothing.
        let other = UsageLog::new(d.path(), Key32::random(), "store-1");
        assert_eq!(other.read().unwrap(), (vec![], 3));
    }

    #[test]
    fn summaries_count_recent_connections_only() {
        let d = private_dir();
        let l = log(d.path());
        let t = now();
        let mut direct = u("a", "x", t);
        direct.consumer = Consumer::direct("alice");
        l.append(
            &[
                u("a", "deploy", t - 10),
                u("a", "old-job", t - 100 * 86_400),
                direct,
            ],
            &|_| true,
        )
        .unwrap();
        let s = &l.summaries()["a"];
        assert_eq!(s.last, Some(t));
        assert_eq!(s.connections, vec![Consumer::label("deploy")]);
    }

    #[test]
    fn compaction_keeps_the_newest_per_consumer_of_existing_configs() {
        let d = private_dir();
        let l = log(d.path());
        let mut t = 1_000;
        let compacted = |l: &UsageLog| {
            !l.shards().unwrap().is_empty()
                && std::fs::metadata(l.path()).map_or(0, |m| m.len()) == 0
        };
        for _ in 0..100 {
            let batch: Vec<Use> = (0..100)
                .map(|i| {
                    t += 1;
                    u(if i % 2 == 0 { "a" } else { "gone" }, "job", t)
                })
                .collect();
            l.append(&batch, &|c| c != "gone").unwrap();
            l.maintain(&|c| c != "gone").unwrap();
            if compacted(&l) {
                break;
            }
        }
        assert!(compacted(&l), "the log was never compacted");
        let (uses, bad) = l.read().unwrap();
        assert_eq!(bad, 0);
        assert_eq!(uses.len(), 1, "one record per (config, consumer) is kept");
        assert_eq!(uses[0].config, "a");
        assert_eq!(uses[0].at, t - 1);
        // Appends after a compaction go on in the new file.
        l.append(&[u("a", "job", 99_999), u("a", "other", 5)], &|_| true)
            .unwrap();
        let c = l.consumers("a");
        assert_eq!(c.len(), 2);
        assert_eq!(c[0], u("a", "job", 99_999));
    }

    #[test]
    fn unused_means_old_and_not_used_since() {
        let since = 1_000;
        let configs = [
            ("old-used", 10),
            ("old-idle", 10),
            ("old-stale", 10),
            ("new", 2_000),
        ];
        let last = |n: &str| match n {
            "old-used" => Some(1_500),
            "old-stale" => Some(900),
            _ => None,
        };
        assert_eq!(
            unused(configs.iter().copied(), &last, since),
            vec!["old-idle", "old-stale"]
        );
    }

    #[test]
    fn hand_outs_alone_do_not_compact_below_their_limit() {
        let d = private_dir();
        let l = log(d.path());
        for i in 0..30 {
            let batch: Vec<Use> = (0..100).map(|j| u("a", "job", i * 100 + j)).collect();
            l.append(&batch, &|_| true).unwrap();
        }
        assert!(std::fs::metadata(l.path()).unwrap().len() > FOLD_MIN);
        assert_eq!(l.read().unwrap().0.len(), 3000);
        l.maintain(&|_| true).unwrap();
        assert_eq!(l.read().unwrap().0.len(), 1);
    }

    #[test]
    fn reseal_moves_records_to_the_new_key() {
        let d = private_dir();
        let old = log(d.path());
        old.append(&[u("a", "deploy", 10)], &|_| true).unwrap();
        let new = UsageLog::new(d.path(), Key32::random(), "store-1");
        assert_eq!(new.read().unwrap().0.len(), 0);
        new.reseal(std::slice::from_ref(&old.key)).unwrap();
        assert_eq!(new.read().unwrap().0, vec![u("a", "deploy", 10)]);
        new.reseal(std::slice::from_ref(&old.key)).unwrap();
        assert_eq!(new.read().unwrap().0.len(), 1);
    }

    #[test]
    fn a_torn_line_is_skipped_and_closed() {
        let d = private_dir();
        let l = log(d.path());
        l.append(&[u("a", "deploy", 10)], &|_| true).unwrap();
        let mut f = fsutil::open_private(&l.path(), true).unwrap();
        f.write_all(b"AAAAtorn").unwrap();
        l.append(&[u("a", "deploy", 11)], &|_| true).unwrap();
        let (uses, bad) = l.read().unwrap();
        assert_eq!((uses.len(), bad), (2, 1));
    }
}
