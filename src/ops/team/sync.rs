//! `authcfg sync`: commit local changes, fetch, integrate the remote's
//! commits (resumable from a marker in `.git/`), push.

use super::*;

/// What `sync` did.
#[derive(Default)]
pub struct Synced {
    pub committed: usize,
    pub pulled: Vec<String>,
    pub merged: Vec<String>,
    /// Configs in conflict, each with the keys changed on both sides.
    pub conflicts: Vec<(String, Vec<String>)>,
    pub notes: Vec<String>,
    pub pushed: bool,
    pub header_changed: bool,
    pub remote: bool,
}

#[derive(Serialize, Deserialize)]
pub(super) struct Marker {
    pub(super) local: String,
    pub(super) remote: String,
}

/// When to sync by itself after a write (`authcfg git autosync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AutoSync {
    Off,
    /// Commit and push (a push that is not a fast-forward asks for `sync`).
    Push,
    /// Fetch, merge, commit and push.
    PullPush,
}

impl AutoSync {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            AutoSync::Off => "off",
            AutoSync::Push => "push",
            AutoSync::PullPush => "pull-push",
        }
    }
}

pub fn set_autosync(root: &Path, mode: AutoSync) -> anyhow::Result<()> {
    let git = require_repo(root)?;
    git.run(&["config", "authcfg.autosync", mode.as_str()])?;
    Ok(())
}

pub fn autosync(root: &Path) -> AutoSync {
    if !is_repo(root) {
        return AutoSync::Off;
    }
    match Git::new(root)
        .text(&["config", "authcfg.autosync"])
        .unwrap_or_default()
        .as_str()
    {
        "push" => AutoSync::Push,
        "pull-push" => AutoSync::PullPush,
        _ => AutoSync::Off,
    }
}

/// `authcfg sync`: commit local changes, fetch, verify, merge, push
/// (again from the fetch when another clone pushed first).
pub fn sync(s: &Session, pull: bool, push: bool) -> anyhow::Result<Synced> {
    let store = &s.store;
    let git = require_repo(store.root())?;
    let mut out = Synced::default();
    let txn = store.begin("syncing with git")?;
    clear_stale_locks(&git);
    // The driver settings are authcfg's: whatever they say now, they go
    // back to this authcfg.
    configure(&git, store.root())?;
    if let Some(m) = read_marker(&git) {
        resume(s, &txn, &git, m, &mut out)?;
    }
    catch_up(s, &txn, &git, &mut out)?;
    commit_local(s, &git, &mut out)?;
    remember_head(&git);
    out.remote = git.has_origin();
    if !out.remote {
        out.notes
            .push("no remote named origin: committed locally only".into());
        return Ok(out);
    }
    let branch = git.branch()?;
    let mut remote_new = false;
    for attempt in 0..PUSH_ATTEMPTS {
        if pull {
            match fetch(&git, &branch)? {
                Some(r) => integrate(s, &txn, &git, &r, &mut out)?,
                None => remote_new = true,
            }
        }
        remember_head(&git);
        let pending = store.conflicts();
        if !pending.is_empty() {
            out.conflicts = pending
                .into_iter()
                .map(|n| {
                    let fields = store
                        .read_conflict(&n)
                        .ok()
                        .flatten()
                        .map(|(f, _)| f)
                        .unwrap_or_default();
                    (n, fields)
                })
                .collect();
            return Ok(out);
        }
        if !push || store.access() == Some(Access::Viewer) {
            break;
        }
        if let Some(h) = git.rev("HEAD") {
            check_tree(&git.tree(&h)?, &git, &h)?;
        }
        let remote_ref = format!("refs/remotes/origin/{branch}");
        if let (Some(h), Some(r)) = (git.rev("HEAD"), git.rev(&remote_ref)) {
            if h == r {
                break;
            }
        }
        let dest = format!("HEAD:refs/heads/{branch}");
        let res = git
            .command(&["push", "-q", "--porcelain", "origin", &dest])
            .output()?;
        if res.status.success() {
            out.pushed = true;
            let _ = git.run(&["update-ref", &remote_ref, "HEAD"]);
            if remote_new && point_remote_head(&git) {
                out.notes.push(format!(
                    "the repository's default branch is now '{branch}' (it was new)"
                ));
            }
            break;
        }
        // `--porcelain` flags each ref git could not update with `!` (not
        // a fast-forward, or the remote refused it: a ref locked by another
        // push); a failure to reach the remote names no ref. A refused
        // ref is worth a fetch, merge and push again.
        let refused = String::from_utf8_lossy(&res.stdout)
            .lines()
            .any(|l| l.starts_with('!'));
        if !(refused && pull) || attempt + 1 == PUSH_ATTEMPTS {
            let mut e = git_error(&["push"], &res.stderr);
            if refused && remote_moved(&git, &branch, &remote_ref) {
                e = e.hint("another clone pushed first: run `authcfg sync` to merge and push");
            }
            return Err(e.into());
        }
    }
    drop(txn);
    Ok(out)
}

/// In `.git/`: the commit the index and audit trail last followed.
pub(super) const SYNCED: &str = "authcfg-synced";

pub(super) fn remember_head(git: &Git) {
    if let Some(h) = git.rev("HEAD") {
        let _ = crate::store::fsutil::write_atomic_via(
            &git.dir.join(".git"),
            &git.dir.join(".git").join(SYNCED),
            h.as_bytes(),
            false,
        );
    }
}

/// HEAD moved without authcfg (a `git pull` or `git merge` by hand, run
/// through the merge driver): the index follows and the trail records it.
pub(super) fn catch_up(s: &Session, txn: &Txn, git: &Git, out: &mut Synced) -> anyhow::Result<()> {
    let Ok(last) = std::fs::read_to_string(git.dir.join(".git").join(SYNCED)) else {
        return Ok(());
    };
    let last = last.trim();
    match git.rev("HEAD") {
        Some(h) if h != last && git.rev(last).is_some() => {
            private_modes(s.store.root());
            finish(s, txn, git, last, &h, out)?;
            out.notes.push(
                "the repository changed outside authcfg (git by hand): the index follows it".into(),
            );
        }
        _ => {}
    }
    Ok(())
}

/// git run by hand creates files with the user's umask (0644): the store
/// refuses them. Our own files and directories under `configs/` (and the
/// header) go back to 0600/0700; links and others' files are left alone
/// (and refused as before).
/// (On Windows git's files inherit the store directory's private DACL:
/// nothing to fix.)
#[cfg(windows)]
pub(super) fn private_modes(_root: &Path) {}

#[cfg(unix)]
pub(super) fn private_modes(root: &Path) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let me = unsafe { libc::geteuid() };
    let fix = |p: &Path, mode: u32| {
        if let Ok(m) = std::fs::symlink_metadata(p) {
            if m.uid() == me && !m.file_type().is_symlink() && m.mode() & 0o077 != 0 {
                let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
            }
        }
    };
    fix(&root.join(HEADER_FILE), 0o600);
    let mut stack = vec![root.join("configs")];
    while let Some(dir) = stack.pop() {
        fix(&dir, 0o700);
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(t) if t.is_file() => fix(&e.path(), 0o600),
                _ => {}
            }
        }
    }
}

/// A killed git leaves its lock files; under the store's writer lock no
/// other authcfg runs git here.
pub(super) fn clear_stale_locks(git: &Git) {
    let g = git.dir.join(".git");
    for f in [
        "index.lock",
        "HEAD.lock",
        "ORIG_HEAD.lock",
        "packed-refs.lock",
        "config.lock",
    ] {
        let _ = std::fs::remove_file(g.join(f));
    }
    for dir in ["refs/heads", "refs/remotes/origin"] {
        if let Ok(rd) = std::fs::read_dir(g.join(dir)) {
            for e in rd.flatten() {
                if e.file_name().to_string_lossy().ends_with(".lock") {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
    }
}

pub(super) fn read_marker(git: &Git) -> Option<Marker> {
    let b = std::fs::read(git.marker()).ok()?;
    serde_json::from_slice(&b).ok()
}

pub(super) fn write_marker(git: &Git, m: &Marker) -> anyhow::Result<()> {
    let p = git.marker();
    crate::store::fsutil::write_atomic_via(&git.dir.join(".git"), &p, &serde_json::to_vec(m)?, true)
        .with_context(|| format!("cannot write {}", p.display()))
}

/// Commits the store's own changes (every write since the last sync).
/// A Viewer's changes and files that do not authenticate are not shared.
pub(super) fn commit_local(s: &Session, git: &Git, out: &mut Synced) -> anyhow::Result<()> {
    let store = &s.store;
    write_meta_files(store)?;
    stage(git, &shareable_paths(store, git)?)?;
    let staged = git.run(&["diff", "--cached", "--name-only", "-z"])?;
    let staged: Vec<String> = staged
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).to_string())
        .collect();
    if staged.is_empty() {
        return Ok(());
    }
    let refuse = |e: UserError| -> anyhow::Result<()> {
        let _ = git.run(&["reset", "-q"]);
        Err(e.into())
    };
    if store.access() == Some(Access::Viewer) {
        return refuse(
            failure(format!(
                "this key is a Viewer: sync does not commit its changes ({} file(s) differ from the last sync)",
                staged.len()
            ))
            .hint(format!(
                "drop them with `git -C {} checkout -- .`, or ask the admin to make you a developer",
                store.root().display()
            )),
        );
    }
    for p in &staged {
        let Some(name) = config_name(p) else {
            continue;
        };
        if !store.exists(&name) {
            continue;
        }
        let path = store.config_path(&name);
        let bytes = crate::store::fsutil::read_private(&path)
            .ok()
            .flatten()
            .unwrap_or_default();
        if !store.can_open(&bytes) {
            // This clone writes only what it can read: a file it cannot
            // open was put there by someone else.
            return refuse(
                failure(format!(
                    "{p} is not shared: this key cannot open it, so this clone did not write it"
                ))
                .hint("remove it (or restore it with `git checkout -- FILE`), then sync again"),
            );
        }
        if let Err(e) = store.read(&name) {
            return refuse(
                failure(format!("{p} is not shared: {e}"))
                    .hint("restore or remove that config, then sync again"),
            );
        }
    }
    let id = identity_args(git, &s.settings.user);
    let n = staged.iter().filter(|p| config_name(p).is_some()).count();
    let msg = format!("authcfg: {n} config(s) changed by {}", s.settings.user);
    git.run(&with_identity(
        &id,
        &["commit", "-q", "--no-verify", "-m", &msg],
    ))?;
    out.committed = n;
    Ok(())
}

/// The header, authcfg's files and configs under valid names (tracked or
/// on disk): a stray file in configs/ (an editor's backup, notes) is never
/// shared.
pub(super) fn shareable_paths(store: &Store, git: &Git) -> anyhow::Result<Vec<String>> {
    let tracked = git.run(&["ls-files", "-z", "--", "configs"])?;
    let mut paths: BTreeSet<String> = tracked
        .split(|&b| b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).to_string())
        .filter(|p| config_name(p).is_some())
        .collect();
    for n in store.scan_names()? {
        paths.insert(format!("configs/{n}.age"));
    }
    paths.extend([".gitignore", ".gitattributes", HEADER_FILE].map(String::from));
    Ok(paths.into_iter().collect())
}

/// `git add -A` of exactly these paths (literal, from standard input).
pub(super) fn stage(git: &Git, paths: &[String]) -> anyhow::Result<()> {
    // A path neither on disk nor in git's index would be an error.
    let tracked = git.run(&["ls-files", "-z"])?;
    let tracked: BTreeSet<&[u8]> = tracked.split(|&b| b == 0).collect();
    let mut input = Vec::new();
    for p in paths {
        if !tracked.contains(p.as_bytes()) && std::fs::symlink_metadata(git.dir.join(p)).is_err() {
            continue;
        }
        input.extend_from_slice(p.as_bytes());
        input.push(0);
    }
    let args = [
        "--literal-pathspecs",
        "add",
        "-A",
        "--pathspec-from-file=-",
        "--pathspec-file-nul",
    ];
    let out = git.feed(&args, input)?;
    if !out.status.success() {
        return Err(git_error(&args[1..], &out.stderr).into());
    }
    Ok(())
}

/// Whether the remote branch is at a commit other than the one last
/// fetched: another clone pushed.
pub(super) fn remote_moved(git: &Git, branch: &str, remote_ref: &str) -> bool {
    let theirs = git.text(&["ls-remote", "origin", &format!("refs/heads/{branch}")]);
    let theirs = theirs.ok();
    let theirs = theirs
        .as_deref()
        .and_then(|t| t.split_whitespace().next())
        .filter(|id| !id.is_empty());
    theirs.is_some() && theirs.map(str::to_string) != git.rev(remote_ref)
}

/// Whether the remote has no branch `branch`: `git ls-remote
/// --exit-code` exits 2 when no ref matches (git-ls-remote(1)).
pub(super) fn remote_lacks(git: &Git, branch: &str) -> bool {
    git.command(&[
        "ls-remote",
        "--exit-code",
        "origin",
        &format!("refs/heads/{branch}"),
    ])
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .status()
    .is_ok_and(|s| s.code() == Some(2))
}

/// The remote branch's commit after a fetch (`None`: it has none yet).
pub(super) fn fetch(git: &Git, branch: &str) -> anyhow::Result<Option<String>> {
    let spec = format!("+refs/heads/{branch}:refs/remotes/origin/{branch}");
    let res = git.command(&["fetch", "-q", "origin", &spec]).output()?;
    if !res.status.success() {
        if remote_lacks(git, branch) {
            return Ok(None);
        }
        return Err(git_error(&["fetch"], &res.stderr)
            .hint("check the remote (`git -C STORE remote -v`) and your access to it")
            .into());
    }
    Ok(git.rev(&format!("refs/remotes/origin/{branch}")))
}

/// Brings the remote commit `r` into HEAD: verified, then fast-forwarded
/// or merged.
pub(super) fn integrate(
    s: &Session,
    txn: &Txn,
    git: &Git,
    r: &str,
    out: &mut Synced,
) -> anyhow::Result<()> {
    let l = git
        .rev("HEAD")
        .ok_or_else(|| failure("the store's repository has no commit"))?;
    if git.is_ancestor(r, &l) {
        return Ok(());
    }
    apply(s, txn, git, &l, r, out)?;
    let _ = std::fs::remove_file(git.marker());
    Ok(())
}

/// An interrupted sync: redone from the same commits (the merge is
/// computed from git objects only), or only finished when its commit was
/// already made.
pub(super) fn resume(
    s: &Session,
    txn: &Txn,
    git: &Git,
    m: Marker,
    out: &mut Synced,
) -> anyhow::Result<()> {
    let head = git.rev("HEAD").unwrap_or_default();
    let done = if head == m.local {
        apply(s, txn, git, &m.local, &m.remote, out)
    } else if git.is_ancestor(&m.local, &head) && git.is_ancestor(&m.remote, &head) {
        finish(s, txn, git, &m.local, &head, out)
    } else {
        Ok(())
    };
    // Whatever happened, the next sync starts afresh from what it fetches
    // (a refused commit is never retried from the marker).
    let _ = std::fs::remove_file(git.marker());
    done?;
    s.ui.notice("completed an interrupted sync");
    Ok(())
}
