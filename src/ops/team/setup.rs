//! Making and joining a team store: `git init`, `git clone` (staged beside
//! its target until checked), the pending join of a member not yet added,
//! and what a clone checks of the tree and header it received.

use super::*;

pub struct Inited {
    pub configs: usize,
    pub pushed: bool,
    /// The remote was new and now names authcfg's branch as its default.
    pub default_branch: bool,
}

/// `authcfg git init`: the store becomes a repository of its header and
/// configs (the admin's).
pub fn init(s: &Session, remote: Option<&str>) -> anyhow::Result<Inited> {
    crate::ops::admin::require_admin(s)?;
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
pub(super) fn point_remote_head(git: &Git) -> bool {
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

pub(super) fn write_meta_files(store: &Store) -> anyhow::Result<()> {
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
pub(super) const JOINING: &str = "authcfg-join";

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
pub(super) struct Faults {
    pub(super) after: Option<u64>,
    pub(super) passed: u64,
}

impl Faults {
    pub(super) fn point(&mut self) {
        self.passed += 1;
        #[cfg(feature = "fault-injection")]
        {
            if self.after == Some(self.passed) {
                unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
            }
        }
    }

    /// The settings for what follows, its crash points numbered on.
    pub(super) fn rest(&self, settings: &Settings) -> Settings {
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
pub(super) struct Staging {
    pub(super) dir: PathBuf,
    pub(super) _lock: std::fs::File,
}

impl Staging {
    pub(super) fn path(target: &Path) -> PathBuf {
        let parent = target.parent().unwrap_or(Path::new("/"));
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "store".into());
        parent.join(format!(".{name}.authcfg-clone"))
    }

    pub(super) fn open(target: &Path, notes: &mut Vec<String>) -> anyhow::Result<Staging> {
        let parent = target.parent().unwrap_or(Path::new("/"));
        crate::store::fsutil::create_dirs(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        Staging::clear_stale(target, notes)?;
        let dir = Staging::path(target);
        crate::platform::create_private_dir(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let lock = crate::platform::private_open(
            std::fs::OpenOptions::new().create_new(true).write(true),
            true,
            false,
        )
        .open(dir.join("lock"))?;
        lock.lock()?;
        Ok(Staging { dir, _lock: lock })
    }

    /// Removes what a killed clone into `target` left (its staging
    /// directory, no longer locked); refuses while a clone runs.
    pub(super) fn clear_stale(target: &Path, notes: &mut Vec<String>) -> anyhow::Result<()> {
        let dir = Staging::path(target);
        if let Ok(m) = std::fs::symlink_metadata(&dir) {
            if !m.is_dir() || !crate::platform::owned_by_me_path(&dir) {
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
                if l.try_lock().is_err() {
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
    // A key service configured here may hold this runner's key: it is
    // known only once the clone's header names its custody.
    // So may a plugin identity (a plugin custody).
    let plugin_file = settings.identity_file.as_deref().is_some_and(|p| {
        matches!(
            crate::keys::read_identity_file(p, None),
            Ok(crate::store::crypt::AnyIdentity::Plugin(_))
        )
    });
    if !plugin_file
        && crate::ops::key::yours(settings)?.is_none()
        && !crate::keys::service::any_configured(settings)
    {
        return Err(crate::error::no_key("you have no key to join a team store with")
            .hint(format!(
                "make one with `authcfg key new` (or set AUTHCFG_IDENTITY; or configure the key service that holds yours: {}), then run `authcfg git clone {shown_url}` again",
                crate::keys::service::SETTINGS_HINT
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

pub(super) fn write_joining(git: &Git) -> anyhow::Result<()> {
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
pub(super) fn check_given_fingerprint(settings: &Settings, header: &Header) -> anyhow::Result<()> {
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
        let key = crate::keys::load(
            settings,
            dir,
            &crate::ops::session::location(&parsed),
            &prompt,
            None,
        )?;
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
        crate::ops::session::options_for(settings, &key.source),
    ) {
        if crate::error::classify(&e).0 != crate::error::Exit::NoKey {
            return Err(e);
        }
    }
    let trusted = crate::store::pins::pinned(dir, &header.id, &key.identity) == Some(admin);
    let public = key.identity.to_public().to_string();
    Ok(Cloned::Pending(Pending {
        dir: dir.to_path_buf(),
        admin_line: crate::ops::key::admin_line(settings, &public),
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
pub(super) fn check_tree(
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

pub(super) fn header_at(
    git: &Git,
    tree: &BTreeMap<String, (String, String)>,
) -> anyhow::Result<Header> {
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
