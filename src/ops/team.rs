//! Team stores on git (docs/ARCHITECTURE.md, "Team stores"): `git init`,
//! `git clone`, `sync`, `resolve`, and the merge driver and textconv git
//! runs for `configs/**`. authcfg shells out to the user's `git` (their SSH
//! config, credential helpers and signing keep working) and writes no
//! transport of its own. Everything that arrives is verified before it is
//! used: the tree holds only what a store tracks, the header is signed by
//! the admin key this clone trusts, and every changed config authenticates
//! under that header. Merges compare decrypted documents (`store::merge`)
//! and are computed from git objects only, so an interrupted sync is
//! completed by running the same steps again.

use super::{Session, Ui};
use crate::error::{failure, usage, UserError};
use crate::model::ConfigDoc;
use crate::settings::Settings;
use crate::store::header::{Access, Header, Parsed, HEADER_FILE};
use crate::store::journal::AuditIntent;
use crate::store::merge;
use crate::store::storekeys::StoreKeys;
use crate::store::{canonical_name, validate_name, Store, Txn};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Only the signed header and the configs are shared; everything else in
/// the store (index, journals, audit trail, usage, pins, a sealed
/// identity, conflicts) stays local.
pub const GITIGNORE: &str =
    "# written by authcfg: a team store shares only its signed header and its configs\n\
/*\n\
!/.gitignore\n\
!/.gitattributes\n\
!/authcfg.toml\n\
!/configs/\n";

pub const GITATTRIBUTES: &str =
    "# written by authcfg: configs merge and diff decrypted, never as bytes\n\
configs/** merge=authcfg diff=authcfg -text\n";

/// In `.git/`: the sync under way (local and remote commit).
const MARKER: &str = "authcfg-sync";
/// How often a push that lost a race is retried.
const PUSH_ATTEMPTS: usize = 5;

/// The user's `git`, in one repository, with a private umask (the store's
/// files and directories stay 0600/0700) and no GIT_DIR-style overrides.
pub struct Git {
    dir: PathBuf,
}

/// `scheme://user:token@host` → `scheme://***@host`: git may quote a
/// remote URL, and one with a token in it must not reach the terminal.
fn hide_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '\'' || c == '"')
            .unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(at) => {
                out.push_str("***");
                rest = &tail[at..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

fn git_error(args: &[&str], stderr: &[u8]) -> UserError {
    let text = hide_userinfo(&String::from_utf8_lossy(stderr));
    let first: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(6)
        .collect();
    failure(format!(
        "git {} failed: {}",
        args.first().copied().unwrap_or(""),
        crate::text::escape(&first.join(" / "), 300)
    ))
}

impl Git {
    pub fn new(dir: &Path) -> Git {
        Git {
            dir: dir.to_path_buf(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("git");
        // No hooks and no fsmonitor, whatever the repository says: someone
        // who can write the store directory must not get to run commands.
        c.arg("-C")
            .arg(&self.dir)
            .args([
                "-c",
                "core.hooksPath=/dev/null",
                "-c",
                "core.fsmonitor=false",
            ])
            .args(args);
        for v in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
            "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            "GIT_NAMESPACE",
            "GIT_CEILING_DIRECTORIES",
        ] {
            c.env_remove(v);
        }
        c.env("LC_ALL", "C").env("GIT_TERMINAL_PROMPT", "0");
        c.stdin(Stdio::null());
        // SAFETY: umask is async-signal-safe and touches no memory.
        unsafe {
            c.pre_exec(|| {
                libc::umask(0o077);
                Ok(())
            });
        }
        c
    }

    fn run(&self, args: &[&str]) -> anyhow::Result<Vec<u8>> {
        let out = self
            .command(args)
            .output()
            .map_err(|e| failure(format!("cannot run git: {e}")).hint("install git"))?;
        if !out.status.success() {
            return Err(git_error(args, &out.stderr).into());
        }
        Ok(out.stdout)
    }

    fn text(&self, args: &[&str]) -> anyhow::Result<String> {
        Ok(String::from_utf8_lossy(&self.run(args)?).trim().to_string())
    }

    fn ok(&self, args: &[&str]) -> bool {
        self.command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn rev(&self, spec: &str) -> Option<String> {
        self.text(&["rev-parse", "-q", "--verify", &format!("{spec}^{{commit}}")])
            .ok()
            .filter(|s| !s.is_empty())
    }

    fn is_ancestor(&self, a: &str, b: &str) -> bool {
        self.ok(&["merge-base", "--is-ancestor", a, b])
    }

    /// path -> (mode, object id) of every file in a commit.
    fn tree(&self, commit: &str) -> anyhow::Result<BTreeMap<String, (String, String)>> {
        let out = self.run(&["ls-tree", "-r", "-z", "--full-tree", commit])?;
        let mut map = BTreeMap::new();
        for rec in out.split(|&b| b == 0).filter(|r| !r.is_empty()) {
            let rec = String::from_utf8_lossy(rec);
            let (meta, path) = rec
                .split_once('\t')
                .ok_or_else(|| failure("git ls-tree: unexpected output"))?;
            let mut it = meta.split(' ');
            let (mode, kind, id) = (it.next(), it.next(), it.next());
            let (Some(mode), Some(kind), Some(id)) = (mode, kind, id) else {
                return Err(failure("git ls-tree: unexpected output").into());
            };
            map.insert(path.to_string(), (format!("{mode} {kind}"), id.to_string()));
        }
        Ok(map)
    }

    /// git with `input` on its standard input (written from a thread, so a
    /// large output cannot block it), its outputs collected.
    fn feed(&self, args: &[&str], input: Vec<u8>) -> anyhow::Result<std::process::Output> {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot run git {}", args.first().copied().unwrap_or("")))?;
        let mut stdin = child.stdin.take().expect("piped");
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let out = child.wait_with_output()?;
        let _ = writer.join();
        Ok(out)
    }

    /// The contents of objects, in one `git cat-file --batch`.
    fn blobs(&self, ids: &[String]) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
        let mut out = BTreeMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let input: Vec<u8> = ids
            .iter()
            .flat_map(|i| format!("{i}\n").into_bytes())
            .collect();
        let sizes = self.feed(&["cat-file", "--batch-check"], input.clone())?;
        let sizes = String::from_utf8_lossy(&sizes.stdout).to_string();
        for line in sizes.lines() {
            let n: u64 = line
                .rsplit(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            if n > crate::store::fsutil::MAX_FILE {
                return Err(failure(format!(
                    "git object {} is {n} bytes, larger than any file of a store",
                    line.split(' ').next().unwrap_or("")
                ))
                .hint("someone pushed a file authcfg did not write; nothing was used")
                .into());
            }
        }
        let data = self.feed(&["cat-file", "--batch"], input)?.stdout;
        let mut rest = &data[..];
        for id in ids {
            let nl = rest
                .iter()
                .position(|&b| b == b'\n')
                .ok_or_else(|| failure("git cat-file: short output"))?;
            let head = String::from_utf8_lossy(&rest[..nl]).to_string();
            rest = &rest[nl + 1..];
            let parts: Vec<&str> = head.split(' ').collect();
            if parts.len() != 3 || parts[1] != "blob" {
                return Err(failure(format!("git object {id} is not a file")).into());
            }
            let n: usize = parts[2].parse().context("git cat-file size")?;
            if rest.len() < n + 1 {
                return Err(failure("git cat-file: short output").into());
            }
            out.insert(id.clone(), rest[..n].to_vec());
            rest = &rest[n + 1..];
        }
        Ok(out)
    }

    fn branch(&self) -> anyhow::Result<String> {
        self.text(&["symbolic-ref", "--short", "HEAD"]).map_err(|_| {
            failure("the store's repository is not on a branch (a detached HEAD)")
                .hint("check out the team's branch in the store directory (`git -C STORE checkout main`)")
                .into()
        })
    }

    fn has_origin(&self) -> bool {
        self.text(&["remote"])
            .is_ok_and(|r| r.lines().any(|l| l == "origin"))
    }

    fn marker(&self) -> PathBuf {
        self.dir.join(".git").join(MARKER)
    }
}

/// The `-c user.*` a commit needs when the user has configured none.
fn identity_args(git: &Git, user: &str) -> Vec<String> {
    let mut v = vec![];
    if git
        .text(&["config", "user.name"])
        .unwrap_or_default()
        .is_empty()
    {
        v.push("-c".into());
        v.push(format!("user.name={user}"));
    }
    if git
        .text(&["config", "user.email"])
        .unwrap_or_default()
        .is_empty()
    {
        v.push("-c".into());
        v.push(format!("user.email={user}@authcfg.invalid"));
    }
    v
}

fn with_identity<'a>(id: &'a [String], args: &[&'a str]) -> Vec<&'a str> {
    id.iter()
        .map(String::as_str)
        .chain(args.iter().copied())
        .collect()
}

/// The config name a tracked path holds, if it is one.
fn config_name(path: &str) -> Option<String> {
    let n = path.strip_prefix("configs/")?.strip_suffix(".age")?;
    (validate_name(n).is_ok() && canonical_name(n).is_ok_and(|c| c == n)).then(|| n.to_string())
}

/// Tells git how to merge and diff configs (repository-local settings;
/// `.gitattributes` names the drivers).
fn configure(git: &Git, root: &Path) -> anyhow::Result<()> {
    use crate::export::formats::sh_quote;
    let exe = std::env::current_exe().context("cannot find the authcfg executable")?;
    if root.to_string_lossy().contains('%') || exe.to_string_lossy().contains('%') {
        return Err(usage(format!(
            "{} holds '%', which git's merge driver setting would expand",
            root.display()
        ))
        .hint("use a store directory (and authcfg path) without '%'")
        .into());
    }
    let exe = sh_quote(&exe.to_string_lossy());
    let store = sh_quote(&root.to_string_lossy());
    git.run(&[
        "config",
        "merge.authcfg.name",
        "authcfg: merge decrypted configs field by field",
    ])?;
    git.run(&[
        "config",
        "merge.authcfg.driver",
        &format!("{exe} --store {store} git merge-driver %O %A %B %P"),
    ])?;
    git.run(&[
        "config",
        "diff.authcfg.textconv",
        &format!("{exe} --store {store} git textconv"),
    ])?;
    Ok(())
}

fn is_repo(root: &Path) -> bool {
    root.join(".git").is_dir()
}

fn require_repo(root: &Path) -> anyhow::Result<Git> {
    if !is_repo(root) {
        return Err(usage(format!(
            "the store at {} is not a git repository",
            root.display()
        ))
        .hint("run `authcfg git init --remote URL` (admin), or join a team with `authcfg git clone URL DIR`")
        .into());
    }
    let git = Git::new(root);
    check_local_config(&git)?;
    Ok(git)
}

/// Repository settings authcfg writes or a clone needs. Anything else in
/// `.git/config` (an `include.path`, `core.sshCommand`, a credential
/// helper, `protocol.allow`, an `uploadpack`, filters, aliases) could make
/// git run a command chosen by whoever wrote the store directory: refused.
/// Settings of your own belong in ~/.gitconfig.
fn allowed_local(key: &str) -> bool {
    const EXACT: [&str; 17] = [
        "remote.origin.pushurl",
        "core.repositoryformatversion",
        "core.filemode",
        "core.bare",
        "core.logallrefupdates",
        "core.ignorecase",
        "core.precomposeunicode",
        "remote.origin.url",
        "remote.origin.fetch",
        "merge.authcfg.name",
        "merge.authcfg.driver",
        "diff.authcfg.textconv",
        "authcfg.autosync",
        "user.name",
        "user.email",
        "user.signingkey",
        "commit.gpgsign",
    ];
    EXACT.contains(&key)
        || (key.starts_with("branch.") && (key.ends_with(".remote") || key.ends_with(".merge")))
}

fn check_local_config(git: &Git) -> anyhow::Result<()> {
    let g = git.dir.join(".git");
    let m = std::fs::symlink_metadata(&g)?;
    use std::os::unix::fs::MetadataExt;
    if m.file_type().is_symlink() || m.uid() != unsafe { libc::geteuid() } {
        return Err(failure(format!(
            "{} is a link or belongs to another user: authcfg does not run git there",
            g.display()
        ))
        .into());
    }
    let out = git.run(&["config", "--local", "--list", "--null"])?;
    let mut bad = vec![];
    for rec in out.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let rec = String::from_utf8_lossy(rec);
        let (key, value) = rec.split_once('\n').unwrap_or((&rec, ""));
        let key = key.to_ascii_lowercase();
        // `ext::`, `fd::` and other transport helpers run commands.
        let url_ok =
            !key.starts_with("remote.origin.") || !key.ends_with("url") || !value.contains("::");
        if !allowed_local(&key) || !url_ok {
            bad.push(crate::text::escape(&key, 80).into_owned());
        }
    }
    if !bad.is_empty() {
        return Err(failure(format!(
            "the store's repository has settings authcfg did not write ({}): they can make git run commands, so authcfg does not run git here",
            bad.join(", ")
        ))
        .hint("if you set them yourself, move them to ~/.gitconfig; otherwise someone wrote to the store directory: remove them from .git/config and check the store (`authcfg doctor`)")
        .into());
    }
    Ok(())
}

pub struct Inited {
    pub configs: usize,
    pub pushed: bool,
    /// The remote was new and now names authcfg's branch as its default.
    pub default_branch: bool,
}

/// `authcfg git init`: the store becomes a repository of its header and
/// configs (the admin's).
pub fn init(s: &Session, remote: Option<&str>) -> anyhow::Result<Inited> {
    super::master_key::require_admin(s)?;
    let root = s.store.root().to_path_buf();
    if is_repo(&root) {
        return Err(
            usage(format!("{} is already a git repository", root.display()))
                .hint("share it with `authcfg sync`")
                .into(),
        );
    }
    let txn = s.store.begin("making the store a git repository")?;
    let git = Git::new(&root);
    git.run(&["init", "-q", "-b", BRANCH])?;
    write_meta_files(&s.store)?;
    configure(&git, &root)?;
    let id = identity_args(&git, &s.settings.user);
    stage(&git, &shareable_paths(&s.store, &git)?)?;
    let msg = format!("authcfg: team store {}", s.store.header().id);
    git.run(&with_identity(&id, &["commit", "-q", "-m", &msg]))?;
    let configs = s.store.scan_names()?.len();
    let mut pushed = false;
    let mut default_branch = false;
    if let Some(url) = remote {
        git.run(&["remote", "add", "origin", url])?;
        git.run(&["push", "-q", "-u", "origin", BRANCH])?;
        pushed = true;
        default_branch = point_remote_head(&git);
    }
    remember_head(&git);
    drop(txn);
    s.audit(
        "git-init",
        None,
        "ok",
        Some(&format!(
            "{configs} configs; remote: {}",
            remote.map(hide_userinfo).unwrap_or_else(|| "none".into())
        )),
    );
    Ok(Inited {
        configs,
        pushed,
        default_branch,
    })
}

/// A new repository's default branch: a bare repository made with a
/// plain `git init --bare` points its HEAD at `master` (or whatever
/// `init.defaultBranch` says), which authcfg never pushes. When the
/// remote is a local path and its HEAD names a branch that does not exist
/// (nothing was pushed there before), it is pointed at authcfg's branch,
/// so that a plain `git clone` checks the store out too. Hosted remotes
/// make the first pushed branch the default themselves; others keep
/// their HEAD, and `authcfg git clone` finds the branch by name anyway.
/// Returns whether HEAD was changed.
fn point_remote_head(git: &Git) -> bool {
    let url = git
        .text(&["config", "--get", "remote.origin.url"])
        .unwrap_or_default();
    let path = url.strip_prefix("file://").unwrap_or(&url);
    if !Path::new(path).is_absolute() || !Path::new(path).is_dir() {
        return false;
    }
    let remote = Git::new(Path::new(path));
    let want = format!("refs/heads/{BRANCH}");
    match remote.text(&["symbolic-ref", "-q", "HEAD"]) {
        Ok(head) if head == want => false,
        Ok(head) if remote.rev(&head).is_none() && remote.rev(&want).is_some() => {
            remote.ok(&["symbolic-ref", "HEAD", &want])
        }
        _ => false,
    }
}

fn write_meta_files(store: &Store) -> anyhow::Result<()> {
    for (f, text) in [(".gitignore", GITIGNORE), (".gitattributes", GITATTRIBUTES)] {
        let p = store.root().join(f);
        let now = crate::store::fsutil::read_private(&p).ok().flatten();
        if now.as_deref() != Some(text.as_bytes()) {
            store.put_file(&p, text.as_bytes())?;
        }
    }
    Ok(())
}

/// In `.git/` of a clone that has not joined yet: its key is not a
/// recipient (a pending clone), or the clone was interrupted before the
/// store was opened. `sync`, `trust` and `git clone` again complete it.
const JOINING: &str = "authcfg-join";

/// The branch authcfg shares a store on, whatever the remote's HEAD says.
pub const BRANCH: &str = "main";

/// Whether the store at `root` is a clone that has not joined yet.
pub fn joining(root: &Path) -> bool {
    root.join(".git").join(JOINING).is_file()
}

/// A clone kept while its key is not a recipient: what the member sends
/// to the admin, and what the admin runs.
pub struct Pending {
    pub dir: PathBuf,
    /// The member's full public key.
    pub public: String,
    /// The admin key's fingerprint (from the header, not yet trusted
    /// unless `trusted`).
    pub admin: String,
    /// Whether this key pinned the admin key (`--trust-admin`, a question
    /// at a terminal, `authcfg trust`).
    pub trusted: bool,
    /// The admin's command that adds this key.
    pub admin_line: String,
}

pub enum Cloned {
    Joined(Joined),
    Pending(Pending),
}

/// What `git clone` did besides cloning.
pub struct CloneOutcome {
    pub cloned: Cloned,
    pub notes: Vec<String>,
}

/// Crash points of `git clone` before a store is open
/// (`AUTHCFG_FAULT_AFTER`, fault-injection builds), counted on into the
/// store's own once it is opened.
struct Faults {
    after: Option<u64>,
    passed: u64,
}

impl Faults {
    fn point(&mut self) {
        self.passed += 1;
        #[cfg(feature = "fault-injection")]
        {
            if self.after == Some(self.passed) {
                unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
            }
        }
    }

    /// The settings for what follows, its crash points numbered on.
    fn rest(&self, settings: &Settings) -> Settings {
        let mut s = settings.clone();
        s.fault_after = self
            .after
            .and_then(|k| k.checked_sub(self.passed))
            .filter(|k| *k > 0);
        s
    }
}

/// The working directory of a clone in progress, beside its target
/// (`.NAME.authcfg-clone`), locked while a clone uses it: the target
/// appears only once the clone is checked and checked out, and a clone
/// killed half-way leaves this directory, which the next clone into the
/// same target removes (it is not locked any more).
struct Staging {
    dir: PathBuf,
    _lock: std::fs::File,
}

impl Staging {
    fn path(target: &Path) -> PathBuf {
        let parent = target.parent().unwrap_or(Path::new("/"));
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "store".into());
        parent.join(format!(".{name}.authcfg-clone"))
    }

    fn open(target: &Path, notes: &mut Vec<String>) -> anyhow::Result<Staging> {
        let parent = target.parent().unwrap_or(Path::new("/"));
        crate::store::fsutil::create_dirs(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        Staging::clear_stale(target, notes)?;
        let dir = Staging::path(target);
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let lock = std::fs::OpenOptions::new()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .open(dir.join("lock"))?;
        {
            use std::os::fd::AsRawFd;
            unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
        }
        Ok(Staging { dir, _lock: lock })
    }

    /// Removes what a killed clone into `target` left (its staging
    /// directory, no longer locked); refuses while a clone runs.
    fn clear_stale(target: &Path, notes: &mut Vec<String>) -> anyhow::Result<()> {
        use std::os::unix::fs::MetadataExt;
        let dir = Staging::path(target);
        if let Ok(m) = std::fs::symlink_metadata(&dir) {
            if !m.is_dir() || m.uid() != unsafe { libc::geteuid() } {
                return Err(failure(format!(
                    "{} is in the way of the clone: it is not a directory of yours",
                    dir.display()
                ))
                .hint("remove it, or clone into another directory")
                .into());
            }
            let lock = std::fs::OpenOptions::new()
                .read(true)
                .open(dir.join("lock"))
                .ok();
            if let Some(l) = &lock {
                use std::os::fd::AsRawFd;
                if unsafe { libc::flock(l.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
                    return Err(usage(format!(
                        "another `authcfg git clone` into {} is running",
                        target.display()
                    ))
                    .hint("wait for it to finish")
                    .into());
                }
            }
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot remove {}", dir.display()))?;
            notes.push(format!(
                "removed what an interrupted clone into {} left ({})",
                target.display(),
                dir.display()
            ));
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};

/// `authcfg git clone URL DIR`: with your key (from the environment, or
/// your own from `authcfg key new`), clone the team's repository into a
/// staging directory, find authcfg's branch by name, check its tree
/// (only what a store tracks) before anything is checked out, move it
/// into place, and join: opened as a store (the header verified with
/// the admin key you trust), or kept as a pending clone while your key is
/// not a recipient. A clone into a directory that holds an unfinished
/// clone of the same repository completes that one.
pub fn clone(
    settings: &Settings,
    url: &str,
    dir: &Path,
    ui: &'static dyn Ui,
) -> anyhow::Result<CloneOutcome> {
    let mut notes = vec![];
    let shown_url = crate::text::escape(&hide_userinfo(url), 300).into_owned();
    let dir = std::path::absolute(dir)?;
    if super::key::yours(settings)?.is_none() {
        return Err(crate::error::no_key("you have no key to join a team store with")
            .hint(format!(
                "make one with `authcfg key new` (or set AUTHCFG_IDENTITY), then run `authcfg git clone {shown_url}` again"
            ))
            .into());
    }
    let non_empty = dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true);
    if non_empty {
        if joining(&dir) {
            let git = require_repo(&dir)?;
            let origin = git
                .text(&["config", "--get", "remote.origin.url"])
                .unwrap_or_default();
            if origin == url {
                Staging::clear_stale(&dir, &mut notes)?;
                notes.push(format!(
                    "{} holds an unfinished clone of this repository: completing it",
                    dir.display()
                ));
                let cloned = complete_join(settings, &dir, ui, true)?;
                return Ok(CloneOutcome { cloned, notes });
            }
            return Err(usage(format!(
                "{} holds an unfinished clone of another repository ({})",
                dir.display(),
                crate::text::escape(&hide_userinfo(&origin), 300)
            ))
            .hint(format!(
                "clone into another directory (`authcfg git clone URL DIR`), or remove {} first",
                dir.display()
            ))
            .into());
        }
        return Err(usage(format!("{} exists and is not empty", dir.display()))
            .hint("clone into a new directory: `authcfg git clone URL DIR` (then use it with --store DIR)")
            .into());
    }
    let mut faults = Faults {
        after: settings.fault_after,
        passed: 0,
    };
    let staging = Staging::open(&dir, &mut notes)?;
    let work = staging.dir.join("store");
    Git::new(&staging.dir).run(&["clone", "-q", "--no-checkout", "--", url, "store"])?;
    faults.point();
    let cloned = Git::new(&work);
    let remote_ref = format!("refs/remotes/origin/{BRANCH}");
    let Some(head) = cloned.rev(&remote_ref) else {
        let others = cloned
            .text(&[
                "for-each-ref",
                "--format=%(refname:lstrip=3)",
                "refs/remotes/origin",
            ])
            .unwrap_or_default();
        let others: Vec<String> = others
            .lines()
            .filter(|l| !l.is_empty() && *l != "HEAD")
            .map(|l| crate::text::escape(l, 80).into_owned())
            .collect();
        if others.is_empty() {
            return Err(failure(format!(
                "the repository {shown_url} is empty: the admin has not pushed the store yet"
            ))
            .hint("the store's admin pushes it (the admin runs `authcfg git init --remote URL` for a new team store, or `authcfg sync`); then clone again")
            .into());
        }
        return Err(failure(format!(
            "the repository {shown_url} has no branch '{BRANCH}', the one authcfg shares a store on (it has {})",
            others.join(", ")
        ))
        .hint("check the URL with the store's admin: this is not an authcfg team store")
        .into());
    };
    check_tree(&cloned.tree(&head)?, &cloned, &head)?;
    cloned.run(&["checkout", "-q", "-B", BRANCH, &remote_ref])?;
    let _ = cloned.run(&["config", "--remove-section", "branch.master"]);
    write_joining(&cloned)?;
    faults.point();
    if dir.exists() {
        // An empty directory: rename(2) replaces it.
        std::fs::remove_dir(&dir).with_context(|| format!("cannot use {}", dir.display()))?;
    }
    std::fs::rename(&work, &dir)
        .with_context(|| format!("cannot move the clone into {}", dir.display()))?;
    faults.point();
    drop(staging);
    let settings = faults.rest(settings);
    match complete_join(&settings, &dir, ui, false) {
        Ok(cloned) => Ok(CloneOutcome { cloned, notes }),
        Err(e) => {
            // Not trusted yet (no terminal, no --trust-admin): the clone
            // stays, and the hint's `authcfg trust` completes it. Anything
            // else (a forged header, another store) removes it.
            if crate::error::classify(&e).0 == crate::error::Exit::NoKey {
                return Err(e);
            }
            let _ = std::fs::remove_dir_all(&dir);
            Err(e.context("the clone was removed"))
        }
    }
}

fn write_joining(git: &Git) -> anyhow::Result<()> {
    let p = git.dir.join(".git").join(JOINING);
    crate::store::fsutil::write_atomic_via(
        &git.dir.join(".git"),
        &p,
        crate::model::rfc3339(crate::model::now()).as_bytes(),
        true,
    )
    .with_context(|| format!("cannot write {}", p.display()))
}

/// A fingerprint given to trust (`--trust-admin`, AUTHCFG_TRUST_ADMIN)
/// that is not the clone's admin key: perhaps not the team's repository
/// (an error, not a missing key: `git clone` removes such a clone).
fn check_given_fingerprint(settings: &Settings, header: &Header) -> anyhow::Result<()> {
    let (Some(given), Some(admin)) = (&settings.trust_admin, header.admin_pub()) else {
        return Ok(());
    };
    let fp = admin.fingerprint();
    if given.trim() != fp {
        return Err(failure(format!(
            "the repository's admin key is {fp}, not the {} you were given",
            crate::text::escape(given.trim(), 80)
        ))
        .hint("check the fingerprint with the store's admin (`authcfg recipients list` shows it): this may not be your team's repository")
        .into());
    }
    Ok(())
}

/// Completes a clone that has not joined: when the key is a recipient,
/// the store is opened (the admin key trusted as the settings say) and
/// joined; otherwise (`fetch`: after fetching the branch again, in case
/// the admin added it since) it stays pending, the admin key pinned when
/// the settings trust it.
pub fn complete_join(
    settings: &Settings,
    dir: &Path,
    ui: &'static dyn Ui,
    fetch: bool,
) -> anyhow::Result<Cloned> {
    let git = require_repo(dir)?;
    let prompt = || None;
    let load = || -> anyhow::Result<(Header, crate::keys::MasterKey)> {
        let parsed = Store::read_header(dir)?;
        let key = crate::keys::load(settings, dir, &super::session::location(&parsed), &prompt)?;
        match parsed {
            Parsed::Current(h) => Ok((h, key)),
            Parsed::Legacy(_) => Err(failure("the clone holds a format-1 header").into()),
        }
    };
    let listed = |h: &Header, k: &crate::keys::MasterKey| {
        let me = k.identity.to_public().to_string();
        h.recipients.iter().any(|r| r.public_key == me)
    };
    let (mut header, mut key) = load()?;
    check_given_fingerprint(settings, &header)?;
    if !listed(&header, &key) && fetch {
        if let Some(r) = self::fetch(&git, BRANCH)? {
            if git.rev("HEAD").as_deref() != Some(r.as_str()) {
                check_tree(&git.tree(&r)?, &git, &r)?;
                git.run(&["reset", "-q", "--hard", &r])?;
            }
        }
        (header, key) = load()?;
    }
    if listed(&header, &key) {
        let s = Session::open(settings, dir, ui)?;
        return Ok(Cloned::Joined(joined(&s)?));
    }
    let admin = header
        .admin_pub()
        .ok_or_else(|| failure(format!("the clone's {HEADER_FILE} names no admin key")))?;
    let fp = admin.fingerprint();
    // Opening verifies the header's signature and pins the admin key when
    // it is trusted, before it finds that this key is not a recipient.
    let ask = |f: &str| ui.trust_admin(f);
    let trust = match (&settings.trust_admin, settings.interactive) {
        (Some(f), _) => crate::store::Trust::Fingerprint(f),
        (None, true) => crate::store::Trust::Ask(&ask),
        (None, false) => crate::store::Trust::None,
    };
    if let Err(e) = Store::unlock(
        dir,
        header.clone(),
        &key.identity,
        trust,
        super::session::options(settings),
    ) {
        if crate::error::classify(&e).0 != crate::error::Exit::NoKey {
            return Err(e);
        }
    }
    let trusted = crate::store::pins::pinned(dir, &header.id, &key.identity) == Some(admin);
    let public = key.identity.to_public().to_string();
    Ok(Cloned::Pending(Pending {
        dir: dir.to_path_buf(),
        admin_line: super::key::admin_line(settings, &public),
        public,
        admin: fp,
        trusted,
    }))
}

pub struct Joined {
    pub dir: PathBuf,
    pub configs: usize,
    /// Configs of groups this key is not in.
    pub unreadable: Vec<String>,
    /// Configs this key opens that fail authentication.
    pub forged: Vec<String>,
    pub admin: String,
    pub role: Option<Access>,
}

/// After the clone was opened as a store: git's drivers, the index, and
/// every config checked.
pub fn joined(s: &Session) -> anyhow::Result<Joined> {
    let root = s.store.root().to_path_buf();
    let git = Git::new(&root);
    configure(&git, &root)?;
    let txn = s.store.begin("joining the team store")?;
    let names = s.store.scan_names()?;
    let readable = s.store.rebuild_index(&txn)?;
    let (unreadable, forged): (Vec<String>, Vec<String>) = names
        .iter()
        .filter(|n| !readable.contains_key(*n))
        .cloned()
        .partition(|n| {
            let bytes = crate::store::fsutil::read_private(&s.store.config_path(n))
                .ok()
                .flatten()
                .unwrap_or_default();
            !s.store.can_open(&bytes)
        });
    remember_head(&git);
    drop(txn);
    s.audit(
        "git-clone",
        None,
        "ok",
        Some(&format!("{} configs", names.len())),
    );
    // Joined: the last step (a kill before it is completed by the next
    // `sync`, `trust` or `git clone`).
    let _ = std::fs::remove_file(root.join(".git").join(JOINING));
    Ok(Joined {
        dir: root.clone(),
        configs: names.len(),
        unreadable,
        forged,
        admin: s
            .store
            .header()
            .admin_pub()
            .map(|p| p.fingerprint())
            .unwrap_or_default(),
        role: s.store.access(),
    })
}

/// A tree a store may hold: its header, configs under valid names, and
/// authcfg's own `.gitignore`/`.gitattributes`, all plain files. Anything
/// else (a symlink, a submodule, `pins.json`, an index) is refused before
/// it reaches the store directory.
fn check_tree(
    tree: &BTreeMap<String, (String, String)>,
    git: &Git,
    commit: &str,
) -> anyhow::Result<()> {
    let short = &commit[..commit.len().min(12)];
    for (path, (mode, _)) in tree {
        let ok_path = path == HEADER_FILE
            || path == ".gitignore"
            || path == ".gitattributes"
            || config_name(path).is_some();
        if !ok_path || mode != "100644 blob" {
            return Err(failure(format!(
                "commit {short} holds {} ({mode}), which a store never tracks",
                crate::text::escape(path, 300)
            ))
            .hint("someone pushed files authcfg did not write; nothing was used. Ask the team's admin to remove them from the repository")
            .into());
        }
    }
    if !tree.contains_key(HEADER_FILE) {
        return Err(failure(format!("commit {short} holds no {HEADER_FILE}")).into());
    }
    let metas: Vec<String> = [".gitignore", ".gitattributes"]
        .iter()
        .filter_map(|p| tree.get(*p).map(|(_, id)| id.clone()))
        .collect();
    let blobs = git.blobs(&metas)?;
    for (p, text) in [(".gitignore", GITIGNORE), (".gitattributes", GITATTRIBUTES)] {
        if let Some((_, id)) = tree.get(p) {
            if blobs.get(id).map(Vec::as_slice) != Some(text.as_bytes()) {
                return Err(failure(format!(
                    "commit {short} changes {p}, which authcfg writes itself"
                ))
                .hint("restore authcfg's version in the repository")
                .into());
            }
        }
    }
    Ok(())
}

fn header_at(git: &Git, tree: &BTreeMap<String, (String, String)>) -> anyhow::Result<Header> {
    let (_, id) = tree
        .get(HEADER_FILE)
        .ok_or_else(|| failure(format!("no {HEADER_FILE} in the commit")))?;
    let b = git.blobs(std::slice::from_ref(id))?;
    let text = String::from_utf8_lossy(&b[id]).to_string();
    match Header::parse(&text) {
        Ok(Parsed::Current(h)) => Ok(h),
        Ok(Parsed::Legacy(_)) => Err(failure("a format-1 header arrived from the remote")
            .hint("upgrade the store where it was pushed from first")
            .into()),
        Err(e) => Err(failure(format!("the remote's {HEADER_FILE}: {e}")).into()),
    }
}

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
struct Marker {
    local: String,
    remote: String,
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
    fn as_str(self) -> &'static str {
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
const SYNCED: &str = "authcfg-synced";

fn remember_head(git: &Git) {
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
fn catch_up(s: &Session, txn: &Txn, git: &Git, out: &mut Synced) -> anyhow::Result<()> {
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
fn private_modes(root: &Path) {
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
fn clear_stale_locks(git: &Git) {
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

fn read_marker(git: &Git) -> Option<Marker> {
    let b = std::fs::read(git.marker()).ok()?;
    serde_json::from_slice(&b).ok()
}

fn write_marker(git: &Git, m: &Marker) -> anyhow::Result<()> {
    let p = git.marker();
    crate::store::fsutil::write_atomic_via(&git.dir.join(".git"), &p, &serde_json::to_vec(m)?, true)
        .with_context(|| format!("cannot write {}", p.display()))
}

/// Commits the store's own changes (every write since the last sync).
/// A Viewer's changes and files that do not authenticate are not shared.
fn commit_local(s: &Session, git: &Git, out: &mut Synced) -> anyhow::Result<()> {
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
fn shareable_paths(store: &Store, git: &Git) -> anyhow::Result<Vec<String>> {
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
fn stage(git: &Git, paths: &[String]) -> anyhow::Result<()> {
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
fn remote_moved(git: &Git, branch: &str, remote_ref: &str) -> bool {
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
fn remote_lacks(git: &Git, branch: &str) -> bool {
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
fn fetch(git: &Git, branch: &str) -> anyhow::Result<Option<String>> {
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
fn integrate(s: &Session, txn: &Txn, git: &Git, r: &str, out: &mut Synced) -> anyhow::Result<()> {
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
fn resume(s: &Session, txn: &Txn, git: &Git, m: Marker, out: &mut Synced) -> anyhow::Result<()> {
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

enum Outcome {
    /// These bytes (a file of one side that is valid under the result's header).
    Bytes(Vec<u8>),
    /// This document, encrypted under the result's header.
    Doc(Box<ConfigDoc>),
    Removed,
}

fn apply(
    s: &Session,
    txn: &Txn,
    git: &Git,
    l: &str,
    r: &str,
    out: &mut Synced,
) -> anyhow::Result<()> {
    let store = &s.store;
    let base = git.text(&["merge-base", l, r]).map_err(|_| {
        failure("the remote's history has nothing in common with this store's")
            .hint("check the remote URL: it is another store's repository")
    })?;
    let tl = git.tree(l)?;
    let tr = git.tree(r)?;
    let tb = git.tree(&base)?;
    check_tree(&tr, git, r)?;
    let hl = header_at(git, &tl)?;
    let hr = header_at(git, &tr)?;
    let hb = header_at(git, &tb)?;
    // The remote's header: signed by the admin key this clone trusts.
    let kr = if hr.digest() == hl.digest() {
        store
            .keys_of(&hl)
            .ok_or_else(|| failure("this key no longer opens the store"))?
    } else {
        store.verify_header(hr.clone()).map_err(|e| {
            let diff = header_diff(&hl, &hr);
            let (exit, hint) = crate::error::classify(&e);
            let mut u = UserError::new(
                exit,
                format!("the remote's {HEADER_FILE} was not accepted: {e}{diff}"),
            );
            u.hint = hint.or(Some("nothing was merged; ask the store's admin".into()));
            anyhow::Error::from(u)
        })?
    };
    let kl = store
        .keys_of(&hl)
        .ok_or_else(|| failure("this key does not open its own last commit's header"))?;
    let kb = store.keys_of(&hb);
    let ff = git.is_ancestor(l, r);
    let target = if ff {
        hr.clone()
    } else if hr.digest() == hb.digest() || hr.digest() == hl.digest() {
        hl.clone()
    } else if hl.digest() == hb.digest() {
        hr.clone()
    } else if hr.generation > hl.generation {
        out.notes.push(format!(
            "the header changed on both sides: kept the newer (generation {}); redo the other change",
            hr.generation
        ));
        hr.clone()
    } else if hl.generation > hr.generation {
        out.notes.push(format!(
            "the header changed on both sides: kept the newer (generation {})",
            hl.generation
        ));
        hl.clone()
    } else {
        return Err(failure(format!(
            "the header changed on both sides to two different versions of generation {}",
            hl.generation
        ))
        .hint("only the admin changes the header: make the change again on one machine")
        .into());
    };
    let target_is_r = target.digest() == hr.digest();
    let target_is_l = target.digest() == hl.digest();
    if target.generation < store.header().generation && target.digest() != store.header().digest() {
        return Err(
            failure("the merge would go back to an older header than this clone has").into(),
        );
    }

    // Every config path that differs somewhere.
    let paths: BTreeSet<&String> = tl
        .keys()
        .chain(tr.keys())
        .chain(tb.keys())
        .filter(|p| config_name(p).is_some())
        .filter(|p| !(tl.get(*p) == tr.get(*p) && tl.get(*p) == tb.get(*p)))
        .collect();
    let sha = |t: &BTreeMap<String, (String, String)>, p: &str| t.get(p).map(|x| x.1.clone());
    let want: Vec<String> = paths
        .iter()
        .flat_map(|p| [sha(&tl, p), sha(&tr, p), sha(&tb, p)])
        .flatten()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let blobs = git.blobs(&want)?;
    let blob = |id: &Option<String>| id.as_ref().and_then(|i| blobs.get(i)).cloned();

    let mut results: Vec<(String, Outcome)> = vec![];
    let mut conflicts: Vec<(String, Vec<String>, ConfigDoc)> = vec![];
    for p in paths {
        let name = config_name(p).expect("filtered");
        let (o, t, b) = (sha(&tl, p), sha(&tr, p), sha(&tb, p));
        let origin_r = format!("{p} (remote commit {})", &r[..r.len().min(12)]);
        if t != b && t.is_some() && t != o && seen_before(git, l, p, t.as_deref().unwrap_or(""))? {
            return Err(failure(format!(
                "{origin_r} is refused: it is a version of '{name}' this clone already had and replaced (a replay)"
            ))
            .hint("nothing was merged; someone with push access put an older file back. Ask the store's admin to restore the repository")
            .into());
        }
        if t != b {
            check_pulled(
                store,
                &name,
                &origin_r,
                blob(&t),
                blob(&b),
                &kr,
                kb.as_ref(),
                out,
            )?;
        }
        let keep = |bytes: Option<Vec<u8>>,
                    from_target: bool,
                    keys: &StoreKeys,
                    origin: &str|
         -> anyhow::Result<Outcome> {
            let Some(bytes) = bytes else {
                return Ok(Outcome::Removed);
            };
            if from_target || !store.can_open(&bytes) {
                return Ok(Outcome::Bytes(bytes));
            }
            let doc = store.decode_under(&name, origin, &bytes, keys)?;
            Ok(Outcome::Doc(Box::new(doc)))
        };
        let outcome = if ff || o == b {
            if !ff || t != o {
                out.pulled.push(name.clone());
            }
            keep(blob(&t), target_is_r, &kr, &origin_r)?
        } else if o == t || t == b {
            keep(blob(&o), target_is_l, &kl, p)?
        } else {
            // Changed on both sides.
            match (blob(&o), blob(&t)) {
                (Some(ob), Some(tb_)) if store.can_open(&ob) && store.can_open(&tb_) => {
                    let od = store.decode_under(&name, p, &ob, &kl)?;
                    let td = store.decode_under(&name, &origin_r, &tb_, &kr)?;
                    let bd = blob(&b).and_then(|bb| {
                        kb.as_ref()
                            .and_then(|k| store.decode_under(&name, p, &bb, k).ok())
                    });
                    let m = merge::merge3(bd.as_ref(), &od, &td)
                        .map_err(|e| failure(format!("cannot merge '{name}': {e}")))?;
                    if m.conflicts.is_empty() {
                        out.merged.push(name.clone());
                    } else {
                        conflicts.push((name.clone(), m.conflicts.clone(), td));
                    }
                    Outcome::Doc(Box::new(m.doc))
                }
                (Some(ob), Some(_)) => {
                    out.notes.push(format!(
                        "'{name}' changed on both sides and this key cannot read it (a group it is not in): kept this clone's version"
                    ));
                    keep(Some(ob), target_is_l, &kl, p)?
                }
                (Some(ob), None) => {
                    out.notes.push(format!(
                        "'{name}' was removed on the other side and changed here: kept"
                    ));
                    keep(Some(ob), target_is_l, &kl, p)?
                }
                (None, Some(tb_)) => {
                    out.notes.push(format!(
                        "'{name}' was removed here and changed on the other side: kept"
                    ));
                    out.pulled.push(name.clone());
                    keep(Some(tb_), target_is_r, &kr, &origin_r)?
                }
                (None, None) => Outcome::Removed,
            }
        };
        results.push((name, outcome));
    }

    // Install: the header first (its keys encrypt what follows), then the
    // files, then the commit. A kill anywhere here is redone from the
    // same commits by the next sync.
    write_marker(
        git,
        &Marker {
            local: l.to_string(),
            remote: r.to_string(),
        },
    )?;
    s.store.fault_point();
    if target.digest() != store.header().digest() {
        store.adopt_header(txn, &target)?;
        out.header_changed = true;
        s.store.fault_point();
    }
    for (name, o) in &results {
        match o {
            Outcome::Bytes(b) => store.write_config_bytes(txn, name, Some(b))?,
            Outcome::Removed => store.write_config_bytes(txn, name, None)?,
            Outcome::Doc(d) => {
                let bytes = store.encode_doc(d)?;
                store.write_config_bytes(txn, name, Some(&bytes))?;
            }
        }
    }
    for (name, fields, theirs) in &conflicts {
        store.write_conflict(name, fields, theirs)?;
    }
    write_meta_files(store)?;
    s.store.fault_point();
    if ff {
        git.run(&["reset", "-q", r])?;
    } else {
        // Exactly the files the merge wrote: nothing else in the working
        // tree reaches the commit (local changes go through commit_local).
        let mut paths: Vec<String> = results
            .iter()
            .map(|(n, _)| format!("configs/{n}.age"))
            .collect();
        paths.extend([".gitignore", ".gitattributes", HEADER_FILE].map(String::from));
        stage(git, &paths)?;
        let tree = git.text(&["write-tree"])?;
        let msg = format!(
            "authcfg sync: merge ({} pulled, {} merged, {} in conflict)",
            out.pulled.len(),
            out.merged.len(),
            conflicts.len()
        );
        let id = identity_args(git, &s.settings.user);
        let commit = git.text(&with_identity(
            &id,
            &["commit-tree", &tree, "-p", l, "-p", r, "-m", &msg],
        ))?;
        s.store.fault_point();
        git.run(&["update-ref", "-m", "authcfg sync", "HEAD", &commit, l])?;
    }
    s.store.fault_point();
    finish(s, txn, git, l, "HEAD", out)
}

/// Whether `blob` is a version `path` had somewhere in this clone's
/// history (from `head`): a file this clone already replaced, put back.
/// The merge base is the remote's to choose (a grafted history); this
/// clone's own history is not.
fn seen_before(git: &Git, head: &str, path: &str, blob: &str) -> anyhow::Result<bool> {
    let out = git.run(&[
        "--literal-pathspecs",
        "log",
        "--format=",
        "--raw",
        "--no-abbrev",
        "--no-renames",
        head,
        "--",
        path,
    ])?;
    Ok(String::from_utf8_lossy(&out).lines().any(|l| {
        // :100644 100644 OLD NEW M\tpath
        l.split_whitespace().skip(2).take(2).any(|id| id == blob)
    }))
}

/// A config the remote changed: it authenticates under the remote's
/// header, is newer than the version it replaces (an older authentic file
/// put back is a replay), leaves a group only with proof of that group's
/// key, and is not a file this key should open but cannot. A file of a
/// group this key is not in cannot be checked here (its members check it).
#[allow(clippy::too_many_arguments)]
fn check_pulled(
    store: &Store,
    name: &str,
    origin: &str,
    theirs: Option<Vec<u8>>,
    base: Option<Vec<u8>>,
    kr: &StoreKeys,
    kb: Option<&StoreKeys>,
    out: &mut Synced,
) -> anyhow::Result<()> {
    let refuse = |why: String| -> anyhow::Result<()> {
        Err(failure(format!("{origin} is refused: {why}"))
            .hint("nothing was merged; someone with push access changed it outside authcfg. Ask the store's admin to restore it in the repository")
            .into())
    };
    let base_doc = match &base {
        Some(b) if store.can_open(b) => Some(
            kb.and_then(|k| store.decode_under(name, origin, b, k).ok())
                .or_else(|| store.decode_under(name, origin, b, kr).ok()),
        ),
        _ => None,
    };
    let Some(t) = theirs else {
        out.notes
            .push(format!("'{name}' was removed on the other side"));
        return Ok(());
    };
    if t.len() as u64 > crate::store::fsutil::MAX_FILE {
        return refuse(format!("{} bytes, larger than any config", t.len()));
    }
    if !store.can_open(&t) {
        if store.access().is_none() {
            return refuse("no key of this store opens it (the admin's opens every config)".into());
        }
        if base_doc.is_some() {
            // Moved into a group this key is not in (or replaced by a file
            // only the admin and that group can check: they do).
            out.notes.push(format!(
                "'{name}' is now readable only by a group this key is not in"
            ));
        }
        return Ok(());
    }
    let td = store.decode_under(name, origin, &t, kr)?;
    match base_doc {
        Some(Some(bd)) => {
            // The same version is fine only as the same document (a
            // re-encryption by a recipient change).
            if td.version < bd.version || (td.version == bd.version && td != bd) {
                return refuse(format!(
                    "it is version {} of '{name}', not newer than version {} it replaces: an older file put back",
                    td.version, bd.version
                ));
            }
            let ok = store.scope_move_ok(kr, &bd, &td)
                || kb.is_some_and(|k| store.scope_move_ok(k, &bd, &td));
            if !ok {
                return refuse(format!(
                    "it moves '{name}' out of {} without proof of that group's key",
                    bd.meta.group.as_deref().map_or("the configs every recipient reads".to_string(), |g| format!("the group '{g}'"))
                ));
            }
        }
        Some(None) => {}
        None if base.is_some() => out.notes.push(format!(
            "'{name}' left a group this key is not in; only that group's members could check the move"
        )),
        None => {}
    }
    Ok(())
}

fn key_ids(h: &Header) -> Vec<String> {
    h.store_keys.iter().map(|k| k.id.clone()).collect()
}

/// After HEAD moved from `from` to `to`: the index follows the files and
/// the trail records what came in.
fn finish(
    s: &Session,
    txn: &Txn,
    git: &Git,
    from: &str,
    to: &str,
    out: &mut Synced,
) -> anyhow::Result<()> {
    let a = git.tree(from)?;
    let b = git.tree(to)?;
    let changed: Vec<String> = a
        .keys()
        .chain(b.keys())
        .filter(|p| a.get(*p) != b.get(*p))
        .filter_map(|p| config_name(p))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let keys_changed = match (header_at(git, &a), header_at(git, &b)) {
        (Ok(x), Ok(y)) => key_ids(&x) != key_ids(&y),
        _ => true,
    };
    let conflicted: BTreeSet<String> = s.store.conflicts().into_iter().collect();
    let audit: Vec<AuditIntent> = changed
        .iter()
        .map(|n| AuditIntent {
            version: None,
            action: "sync".into(),
            config: Some(n.clone()),
            outcome: if conflicted.contains(n) {
                "conflict".into()
            } else {
                "pulled".into()
            },
            detail: Some(format!("from {}", &to[..to.len().min(12)])),
        })
        .collect();
    if !changed.is_empty() || keys_changed {
        s.store.reindex(txn, &changed, keys_changed, &audit)?;
    }
    for n in &changed {
        if !out.pulled.contains(n) && !out.merged.contains(n) && !conflicted.contains(n) {
            out.pulled.push(n.clone());
        }
    }
    Ok(())
}

/// What the user said about each conflicting key.
pub enum Choice {
    Ours,
    Theirs,
    Fields(Vec<(String, bool)>),
}

/// `authcfg resolve NAME`: ends a conflict; the result is an ordinary
/// write (shared by the next sync).
pub fn resolve(s: &Session, name: &str, choice: Choice) -> anyhow::Result<Vec<String>> {
    let store = &s.store;
    let Some((fields, theirs)) = store.read_conflict(name)? else {
        return Err(usage(format!("'{name}' has no conflict to resolve"))
            .hint("`authcfg sync` lists conflicts")
            .into());
    };
    let take: Vec<String> = match &choice {
        Choice::Ours => vec![],
        Choice::Theirs => fields.clone(),
        Choice::Fields(list) => {
            for (f, _) in list {
                let key = if fields.contains(f) {
                    f.clone()
                } else {
                    format!("fields.{f}")
                };
                if !fields.contains(&key) {
                    return Err(usage(format!("'{f}' is not in conflict in '{name}'"))
                        .hint(format!("the conflicting fields: {}", fields.join(", ")))
                        .into());
                }
            }
            list.iter()
                .filter(|(_, theirs)| *theirs)
                .map(|(f, _)| {
                    if fields.contains(f) {
                        f.clone()
                    } else {
                        format!("fields.{f}")
                    }
                })
                .collect()
        }
    };
    if !take.is_empty() {
        let ours = store.read(name)?;
        let mut doc =
            merge::take_fields(&ours, &theirs, &take).map_err(|e| failure(e.to_string()))?;
        doc.meta.updated = crate::model::now();
        store.put(
            std::slice::from_ref(&doc),
            crate::store::WriteMode::Upsert,
            &[AuditIntent {
                version: None,
                action: "resolve".into(),
                config: Some(name.to_string()),
                outcome: "ok".into(),
                detail: Some(format!("theirs: {}", take.join(", "))),
            }],
        )?;
    } else {
        store.may_write()?;
        s.audit("resolve", Some(name), "ok", Some("kept ours"));
    }
    store.remove_conflict(name)?;
    Ok(take)
}

/// One key changed on both sides, as `conflicts` and `show` present it.
pub struct FieldConflict {
    /// The field's name (`password`), or the config's own key (`group`).
    pub key: String,
    pub secret: bool,
    /// Each side's value as shown: in clear, a secret as its masked tail;
    /// `None` where that side removed it.
    pub ours: Option<String>,
    pub theirs: Option<String>,
}

pub struct ConflictView {
    pub name: String,
    pub fields: Vec<FieldConflict>,
}

/// The configs in conflict (or only `name`), each conflicting key with
/// both sides.
pub fn conflicts(s: &Session, name: Option<&str>) -> anyhow::Result<Vec<ConflictView>> {
    let store = &s.store;
    let mut out = vec![];
    for n in store.conflicts() {
        if name.is_some_and(|x| x != n) {
            continue;
        }
        let Some((keys, theirs)) = store.read_conflict(&n)? else {
            continue;
        };
        let ours = store.read(&n)?;
        let fields = keys
            .iter()
            .map(|k| {
                let (secret, o) = shown(&ours, k);
                let (_, t) = shown(&theirs, k);
                FieldConflict {
                    key: k.strip_prefix("fields.").unwrap_or(k).to_string(),
                    secret,
                    ours: o,
                    theirs: t,
                }
            })
            .collect();
        out.push(ConflictView { name: n, fields });
    }
    Ok(out)
}

/// A key of a config as `conflicts` shows it: whether it is secret, and
/// its value (masked when secret).
fn shown(doc: &ConfigDoc, key: &str) -> (bool, Option<String>) {
    if let Some(f) = key.strip_prefix("fields.") {
        let secret = crate::catalog::is_secret(doc.meta.kind, &doc.meta.type_id, f);
        let v = doc.fields.get(f).map(|v| {
            if secret {
                v.masked()
            } else {
                v.expose().to_string()
            }
        });
        return (secret, v);
    }
    let table = match toml::Value::try_from(doc) {
        Ok(toml::Value::Table(t)) => t,
        _ => toml::Table::new(),
    };
    let v = table.get(key).map(|v| match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    (false, v)
}

/// git's merge driver for `configs/**` (a `git merge` or `git pull` run
/// by hand): merges the decrypted documents into `ours`. Returns whether
/// the merge is clean (git takes a non-zero exit as a conflict; the file
/// then still holds our valid version, never markers).
pub fn merge_driver(
    s: &Session,
    base: &Path,
    ours: &Path,
    theirs: &Path,
    path: &str,
) -> anyhow::Result<bool> {
    let store = &s.store;
    store.may_write()?;
    let name = config_name(path)
        .ok_or_else(|| usage(format!("{path} is not a config file of the store")))?;
    let keys = store.store_keys();
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
    let (ob, tb, bb) = (read(ours)?, read(theirs)?, read(base)?);
    let od = store.decode_under(&name, path, &ob, &keys)?;
    let td = store.decode_under(&name, path, &tb, &keys)?;
    let bd = if bb.is_empty() {
        None
    } else {
        store.decode_under(&name, path, &bb, &keys).ok()
    };
    let m = merge::merge3(bd.as_ref(), &od, &td).map_err(|e| failure(e.to_string()))?;
    let bytes = store.encode_doc(&m.doc)?;
    std::fs::write(ours, bytes).with_context(|| format!("cannot write {}", ours.display()))?;
    if m.conflicts.is_empty() {
        return Ok(true);
    }
    store.write_conflict(&name, &m.conflicts, &td)?;
    Ok(false)
}

/// git's textconv for `configs/**`: which fields a version holds, each
/// value masked with a keyed tag (a change shows as a changed tag; the
/// tag reveals nothing without the store key).
pub fn textconv(s: &Session, file: &Path) -> anyhow::Result<String> {
    let store = &s.store;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    if bytes.is_empty() {
        return Ok(String::new());
    }
    if !store.can_open(&bytes) {
        return Ok("(encrypted for a group this key is not in)\n".into());
    }
    let name = store
        .peek_name(&bytes)
        .ok_or_else(|| failure("not an authcfg config"))?;
    let keys = store.store_keys();
    let Ok(doc) = store.decode_under(&name, &file.to_string_lossy(), &bytes, &keys) else {
        // An older version, under store keys replaced since (or forged).
        return Ok(format!(
            "name = {name}\n(a version that does not authenticate under the current store keys)\n"
        ));
    };
    let tagkey = keys.journal_key();
    let tag = |k: &str, v: &str| {
        let m = crate::store::crypto::mac(
            &tagkey,
            &[
                b"authcfg textconv",
                name.as_bytes(),
                k.as_bytes(),
                v.as_bytes(),
            ],
        );
        hex::encode(&m[..4])
    };
    let mut out = String::new();
    let m = &doc.meta;
    out.push_str(&format!("name = {}\n", m.name));
    out.push_str(&format!("kind = {} ({})\n", m.kind.as_str(), m.type_id));
    if let Some(g) = &m.group {
        out.push_str(&format!("group = {g}\n"));
    }
    out.push_str(&format!("updated = {}\n", crate::model::rfc3339(m.updated)));
    out.push_str(&format!("rotated = {}\n", crate::model::rfc3339(m.rotated)));
    if let Some(a) = &m.account {
        out.push_str(&format!(
            "account = •••• [{}]\n",
            tag("account", a.as_received())
        ));
    }
    if let Some(e) = m.expires {
        out.push_str(&format!("expires = {}\n", crate::model::rfc3339(e)));
    }
    for (k, v) in &doc.fields {
        out.push_str(&format!("fields.{k} = •••• [{}]\n", tag(k, v.expose())));
    }
    out.push_str(&format!(
        "history = {} earlier value(s)\n",
        doc.history.len()
    ));
    Ok(out)
}

/// Who changed what in the header, for a refused one (labels and short
/// keys; the header holds no secrets). The remote's labels are outside
/// text: escaped (docs/ARCHITECTURE.md, "Outside text").
fn header_diff(ours: &Header, theirs: &Header) -> String {
    let mut lines = vec![];
    let fmt = |r: &crate::store::header::Recipient| {
        format!(
            "{} ({}, {})",
            crate::text::escape(&r.label, 100),
            crate::store::short_key(&r.public_key),
            if r.label == crate::store::header::MASTER {
                "admin"
            } else {
                r.role.as_str()
            }
        )
    };
    for r in &theirs.recipients {
        match ours
            .recipients
            .iter()
            .find(|o| o.public_key == r.public_key)
        {
            None => lines.push(format!("  + recipient {}", fmt(r))),
            Some(o) if o != r => lines.push(format!("  ~ recipient {}", fmt(r))),
            _ => {}
        }
    }
    for o in &ours.recipients {
        if !theirs
            .recipients
            .iter()
            .any(|r| r.public_key == o.public_key)
        {
            lines.push(format!("  - recipient {}", fmt(o)));
        }
    }
    if ours.admin_key != theirs.admin_key {
        lines.push("  ~ admin key".into());
    }
    if lines.is_empty() {
        String::new()
    } else {
        format!(
            "\nthe remote's header differs from this clone's:\n{}",
            lines.join("\n")
        )
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn userinfo_is_hidden_from_git_messages() {
        let t =
            "fatal: unable to access 'https://bob:ghp_Secret123@git.example.com/team.git/': 403";
        let h = super::hide_userinfo(t);
        assert!(!h.contains("ghp_Secret123") && !h.contains("bob"), "{h}");
        assert!(h.contains("https://***@git.example.com/team.git/"), "{h}");
        assert_eq!(
            super::hide_userinfo("ssh://git.example.com/x"),
            "ssh://git.example.com/x"
        );
        assert_eq!(super::hide_userinfo("no url"), "no url");
    }
}
