//! The user's `git`: one repository, a private umask, no overrides from
//! the environment, and what authcfg allows in its local config.

use super::*;

/// The user's `git`, in one repository, with a private umask (the store's
/// files and directories stay 0600/0700) and no GIT_DIR-style overrides.
pub struct Git {
    pub(super) dir: PathBuf,
}

/// `scheme://user:token@host` → `scheme://***@host`: git may quote a
/// remote URL, and one with a token in it must not reach the terminal.
pub(super) fn hide_userinfo(text: &str) -> String {
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

pub(super) fn git_error(args: &[&str], stderr: &[u8]) -> UserError {
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

    pub(super) fn command(&self, args: &[&str]) -> Command {
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
        crate::platform::child_private_umask(&mut c);
        c
    }

    pub(super) fn run(&self, args: &[&str]) -> anyhow::Result<Vec<u8>> {
        let out = self
            .command(args)
            .output()
            .map_err(|e| failure(format!("cannot run git: {e}")).hint("install git"))?;
        if !out.status.success() {
            return Err(git_error(args, &out.stderr).into());
        }
        Ok(out.stdout)
    }

    pub(super) fn text(&self, args: &[&str]) -> anyhow::Result<String> {
        Ok(String::from_utf8_lossy(&self.run(args)?).trim().to_string())
    }

    pub(super) fn ok(&self, args: &[&str]) -> bool {
        self.command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    pub(super) fn rev(&self, spec: &str) -> Option<String> {
        self.text(&["rev-parse", "-q", "--verify", &format!("{spec}^{{commit}}")])
            .ok()
            .filter(|s| !s.is_empty())
    }

    pub(super) fn is_ancestor(&self, a: &str, b: &str) -> bool {
        self.ok(&["merge-base", "--is-ancestor", a, b])
    }

    /// path -> (mode, object id) of every file in a commit.
    pub(super) fn tree(&self, commit: &str) -> anyhow::Result<BTreeMap<String, (String, String)>> {
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
    pub(super) fn feed(
        &self,
        args: &[&str],
        input: Vec<u8>,
    ) -> anyhow::Result<std::process::Output> {
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
    pub(super) fn blobs(&self, ids: &[String]) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
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

    pub(super) fn branch(&self) -> anyhow::Result<String> {
        self.text(&["symbolic-ref", "--short", "HEAD"]).map_err(|_| {
            failure("the store's repository is not on a branch (a detached HEAD)")
                .hint("check out the team's branch in the store directory (`git -C STORE checkout main`)")
                .into()
        })
    }

    pub(super) fn has_origin(&self) -> bool {
        self.text(&["remote"])
            .is_ok_and(|r| r.lines().any(|l| l == "origin"))
    }

    pub(super) fn marker(&self) -> PathBuf {
        self.dir.join(".git").join(MARKER)
    }
}

/// The `-c user.*` a commit needs when the user has configured none.
pub(super) fn identity_args(git: &Git, user: &str) -> Vec<String> {
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

pub(super) fn with_identity<'a>(id: &'a [String], args: &[&'a str]) -> Vec<&'a str> {
    id.iter()
        .map(String::as_str)
        .chain(args.iter().copied())
        .collect()
}

/// The config name a tracked path holds, if it is one.
pub(super) fn config_name(path: &str) -> Option<String> {
    let n = path.strip_prefix("configs/")?.strip_suffix(".age")?;
    (validate_name(n).is_ok() && canonical_name(n).is_ok_and(|c| c == n)).then(|| n.to_string())
}

/// Tells git how to merge and diff configs (repository-local settings;
/// `.gitattributes` names the drivers).
pub(super) fn configure(git: &Git, root: &Path) -> anyhow::Result<()> {
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

pub(super) fn is_repo(root: &Path) -> bool {
    root.join(".git").is_dir()
}

pub(super) fn require_repo(root: &Path) -> anyhow::Result<Git> {
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
pub(super) fn allowed_local(key: &str) -> bool {
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

pub(super) fn check_local_config(git: &Git) -> anyhow::Result<()> {
    let g = git.dir.join(".git");
    let m = std::fs::symlink_metadata(&g)?;
    if m.file_type().is_symlink() || !crate::platform::owned_by_me_path(&g) {
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
