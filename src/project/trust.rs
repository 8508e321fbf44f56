//! Whether a repository's file may be used (docs/SECURITY.md, "Project
//! files"): the one decision every consumer of a project file asks
//! (`exec` and `export` with no names, the shell hook, the direnv recipe
//! through `export`, the consumer of a hand-out), and whose first half
//! (`read_checked`) every file read on a repository's behalf passes
//! (`inject`'s templates).
//!
//! 1. **Place.** The file, and every directory from the one holding it up
//!    to the repository's root (the nearest directory above with `.git`;
//!    without one, the file's own directory), must belong to this user or
//!    to root, and no such directory may be writable by another user
//!    without the sticky bit (which keeps others from renaming or removing
//!    this user's entries). Like git's `safe.directory`: another user's
//!    `.authcfg.toml` in `/tmp`, or in a directory they can write, is
//!    refused whatever it says.
//! 2. **Approval.** The file is used only when approved for its current
//!    content: the `project allow` record (SHA-256 of the bytes read, kept
//!    in the user's state directory), `AUTHCFG_TRUST_PROJECT` naming that
//!    hash or the project's directory (CI), or a yes at a terminal to a
//!    question showing what the file wants. Otherwise it is refused with
//!    the exact `authcfg project allow` command.
//!
//! The file is opened once (`read_checked`, bounded): its place is judged
//! on the open descriptor, its hash computed from the bytes read from it:
//! what is checked and approved is what is used.

use super::{Approval, Project};
use crate::error::{failure, UserError};
#[cfg(unix)]
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// `AUTHCFG_TRUST_PROJECT`: the SHA-256 of the project file to use without
/// a recorded approval, or the project's directory ("this checkout is
/// trusted"), for CI.
pub use crate::settings::ENV_TRUST_PROJECT as ENV_TRUST;

/// Why a file is not used.
#[derive(Debug)]
pub enum Refusal {
    /// Another user owns it or a directory above it, or could have put it
    /// there.
    Unsafe(UserError),
    /// Not approved for this content (`changed`: approved once, changed
    /// since).
    NotApproved { changed: bool, error: UserError },
    /// It cannot be read or is not a valid project file.
    Invalid(UserError),
}

impl Refusal {
    pub fn into_error(self) -> UserError {
        match self {
            Refusal::Unsafe(e) | Refusal::Invalid(e) | Refusal::NotApproved { error: e, .. } => e,
        }
    }
}

/// What the caller lets `open` do when the file is not approved yet.
pub struct Ask<'a> {
    /// `AUTHCFG_TRUST_PROJECT`.
    pub ci: Option<&'a str>,
    /// Where approvals are kept.
    pub state_dir: Option<&'a Path>,
    /// At a terminal: shows what the file wants and asks; a yes is
    /// recorded as `project allow` would.
    pub ask: Option<&'a dyn Fn(&Project) -> bool>,
}

impl<'a> Ask<'a> {
    /// No question: approved, trusted by CI, or refused (the hook, the
    /// consumer of a hand-out).
    pub fn quiet(settings: &'a crate::settings::Settings) -> Ask<'a> {
        Ask {
            ci: settings.trust_project.as_deref(),
            state_dir: settings.state_dir.as_deref(),
            ask: None,
        }
    }
}

/// The project file `file`, if it may be used: its place is safe and its
/// content approved (see the module's documentation).
pub fn open(file: &Path, how: &Ask) -> Result<Project, Refusal> {
    let p = super::load_checked(file)?;
    let changed = match super::approval(how.state_dir, &p) {
        Approval::Allowed => return Ok(p),
        Approval::Changed => true,
        Approval::Never => false,
    };
    if how.ci.is_some_and(|v| ci_trusts(v, &p)) {
        return Ok(p);
    }
    if let Some(ask) = how.ask {
        if ask(&p) {
            // The answer is kept as `project allow` keeps it; a failure to
            // keep it does not undo the yes for this run.
            let _ = super::allow(how.state_dir, &p);
            return Ok(p);
        }
    }
    Err(Refusal::NotApproved {
        changed,
        error: not_approved(&p, changed),
    })
}

/// The refusal of an unapproved file, with the exact command that approves
/// this content.
pub fn not_approved(p: &Project, changed: bool) -> UserError {
    let shown = crate::text::Outside::new(p.file.display().to_string());
    failure(if changed {
        format!("{shown} changed since you allowed it; it is not used until you allow it again")
    } else {
        format!("{shown} is not allowed here yet; a repository's file is used only once you approved it")
    })
    .hint(format!(
        "review it (`authcfg project check` lists what it reads), then run: authcfg project allow {} --sha256 {}\n(CI: set {ENV_TRUST}={} for this content, or to the checkout's directory)",
        crate::export::formats::sh_quote(&p.file.display().to_string()),
        p.digest,
        p.digest
    ))
}

fn ci_trusts(value: &str, p: &Project) -> bool {
    let v = value.trim();
    let v = v.strip_prefix("sha256:").unwrap_or(v);
    if v.eq_ignore_ascii_case(&p.digest) {
        return true;
    }
    // A directory: this checkout (compared after resolving links), where
    // the file read really was (`read_checked`), not where its path leads
    // now.
    let real = match &p.opened_dir {
        Some(d) => Some(d.clone()),
        None => std::fs::canonicalize(&p.root).ok(),
    };
    v.starts_with('/')
        && std::fs::canonicalize(v)
            .ok()
            .zip(real)
            .is_some_and(|(a, b)| a == b)
}

/// Reads a file on a repository's behalf, refusing one that another user
/// owns, or that sits in a directory (up to the repository's root) another
/// user owns or can write without the sticky bit. The file is opened once
/// (`input::open`): its owner and mode are those of the open descriptor,
/// the directories checked are those of the descriptor's real path
/// (`/proc/self/fd/N`), and the bytes returned are read from the same
/// descriptor, so a link or directory swapped between the check and the
/// read changes nothing (docs/SECURITY.md, "Project files"). Returns the
/// bytes and the directory the opened file really is in.
///
/// On Windows the owner and DACL stand for the uid and mode: the file and
/// each directory up to the repository's root must be owned by this user
/// (or LocalSystem, the administrators) and let nobody else write; the
/// real path is the canonical one (docs/SECURITY.md, "Windows and macOS").
#[cfg(windows)]
pub fn read_checked(file: &Path, what: &str, max: u64) -> Result<(Vec<u8>, PathBuf), UserError> {
    let shown = |p: &Path| crate::text::Outside::new(p.display().to_string());
    let (f, _meta) = crate::input::open(file, what, max)?;
    let real = std::fs::canonicalize(file)
        .map_err(|e| failure(format!("cannot read {}: {e}", shown(file))))?;
    let real_dir = real
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| real.clone());
    let mut paths = vec![real.clone()];
    paths.extend(repo_dirs(&real_dir));
    for (i, p) in paths.iter().enumerate() {
        let opened = (i == 0).then_some(&f);
        let why = crate::platform::foreign_writer(p, opened)
            .map_err(|e| failure(format!("cannot read {}: {e}", shown(p))))?;
        if let Some(why) = why {
            return Err(failure(format!("{} is not used: {} {why}", shown(file), shown(p)))
                .hint(format!(
                    "a file another user could have written decides nothing here (as git refuses such a repository); if {} is yours, take ownership of it and let only you write it",
                    shown(p)
                )));
        }
    }
    let bytes = crate::input::read_opened(f, file, what, max)?;
    Ok((bytes, real_dir))
}

#[cfg(unix)]
pub fn read_checked(file: &Path, what: &str, max: u64) -> Result<(Vec<u8>, PathBuf), UserError> {
    let shown = |p: &Path| crate::text::Outside::new(p.display().to_string());
    let refuse = |p: &Path, why: String| {
        failure(format!(
            "{} is not used: {why}",
            shown(file)
        ))
        .hint(format!(
            "a file another user could have written decides nothing here (as git refuses such a repository); if {} is yours, `chown` it to yourself and make it writable only by you",
            shown(p)
        ))
    };
    let owner_ok = own_uid;
    // The link itself (when it is one) must be this user's too.
    let lmeta = std::fs::symlink_metadata(file)
        .map_err(|e| failure(format!("cannot read {}: {e}", shown(file))))?;
    if !owner_ok(lmeta.uid()) {
        return Err(refuse(
            file,
            format!("it belongs to {}, not to you", user_name(lmeta.uid())),
        ));
    }
    let (f, meta) = crate::input::open(file, what, max)?;
    // Where the opened file really is, from the descriptor, not the path.
    let real = crate::platform::opened_path(&f)
        .map_err(|e| failure(format!("cannot read {}: {e}", shown(file))))?;
    if !owner_ok(meta.uid()) {
        return Err(refuse(
            &real,
            if real == file {
                format!("it belongs to {}, not to you", user_name(meta.uid()))
            } else {
                format!(
                    "it leads to {}, which belongs to {}",
                    shown(&real),
                    user_name(meta.uid())
                )
            },
        ));
    }
    if writable_by_others(&meta) {
        return Err(refuse(&real, "other users can write it".to_string()));
    }
    let mut dirs: Vec<PathBuf> = vec![];
    if lmeta.file_type().is_symlink() {
        if let Some(d) = file.parent() {
            dirs.extend(repo_dirs(d));
        }
    }
    let real_dir = real
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    dirs.extend(repo_dirs(&real_dir));
    for d in &dirs {
        let m =
            std::fs::metadata(d).map_err(|e| failure(format!("cannot read {}: {e}", shown(d))))?;
        if !owner_ok(m.uid()) {
            return Err(refuse(
                d,
                format!(
                    "the directory {} belongs to {}",
                    shown(d),
                    user_name(m.uid())
                ),
            ));
        }
        let mode = m.mode();
        let sticky = mode & 0o1000 != 0;
        if mode & 0o022 != 0 && !sticky && !private_group(m.gid(), mode) {
            return Err(refuse(
                d,
                format!(
                    "other users can write the directory {} (mode {:04o}) and could have put it there",
                    shown(d),
                    mode & 0o7777
                ),
            ));
        }
    }
    let bytes = crate::input::read_opened(f, file, what, max)?;
    Ok((bytes, real_dir))
}

/// `dir` and the directories above it up to the repository's root (the
/// nearest with `.git`), or `dir` alone outside a repository.
fn repo_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for d in dir.ancestors() {
        out.push(d.to_path_buf());
        if std::fs::symlink_metadata(d.join(".git")).is_ok() {
            return out;
        }
    }
    out.truncate(1);
    out
}

/// Whether users other than this one (and root) can write `meta`'s file
/// or directory: its mode lets the group or everyone write, and the group
/// is not the user's own private group. The one such check (project files
/// here, `key recovery split --out-dir`).
#[cfg(unix)]
pub fn writable_by_others(meta: &std::fs::Metadata) -> bool {
    meta.mode() & 0o022 != 0 && !private_group(meta.gid(), meta.mode())
}

/// Whether `uid` is this user or root: the owners whose files may decide.
#[cfg(unix)]
pub fn own_uid(uid: u32) -> bool {
    uid == unsafe { libc::geteuid() } || uid == 0
}

/// Why users other than this one could write the directory `dir`, if
/// they can (`key recovery split --out-dir`): another owner than this user
/// or root, or a mode that lets others write ([`writable_by_others`]).
#[cfg(unix)]
pub fn others_may_write(dir: &Path) -> std::io::Result<Option<String>> {
    let meta = std::fs::metadata(dir)?;
    if !own_uid(meta.uid()) {
        return Ok(Some("it belongs to another user".to_string()));
    }
    if writable_by_others(&meta) {
        return Ok(Some(format!(
            "other users can write it (mode {:04o})",
            meta.mode() & 0o7777
        )));
    }
    Ok(None)
}

/// Windows: its owner and DACL (`platform::foreign_writer`).
#[cfg(windows)]
pub fn others_may_write(dir: &Path) -> std::io::Result<Option<String>> {
    crate::platform::foreign_writer(dir, None)
}

#[cfg(unix)]
/// Group-writable (not world-writable) by the user's own private group:
/// the group is the user's primary group, has the user's name, lists no
/// other member, and is no other user's primary group either (the
/// user-private-group convention of umask 002; `useradd -g GROUP` makes a
/// user a member without listing it).
fn private_group(gid: u32, mode: u32) -> bool {
    if mode & 0o002 != 0 || gid != unsafe { libc::getegid() } {
        return false;
    }
    let Some((name, members)) = group(gid) else {
        return false;
    };
    let uid = unsafe { libc::geteuid() };
    let me = user_name(uid);
    name == me && members.iter().all(|m| *m == me) && !others_with_primary_group(gid, uid)
}

#[cfg(unix)]
/// Whether a user other than `me` has `gid` as primary group (the passwd
/// database, as `getent passwd` lists it).
fn others_with_primary_group(gid: u32, me: u32) -> bool {
    // getpwent walks one shared cursor: one walk at a time.
    static WALK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _walk = WALK.lock().unwrap_or_else(|e| e.into_inner());
    let mut found = false;
    unsafe {
        libc::setpwent();
        loop {
            let p = libc::getpwent();
            if p.is_null() {
                break;
            }
            if (*p).pw_gid == gid && (*p).pw_uid != me {
                found = true;
                break;
            }
        }
        libc::endpwent();
    }
    found
}

#[cfg(unix)]
/// The user's name, or `uid N`.
fn user_name(uid: u32) -> String {
    let mut buf = vec![0u8; 4096];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    let rc =
        unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut out) };
    if rc == 0 && !out.is_null() && !pwd.pw_name.is_null() {
        let n = unsafe { std::ffi::CStr::from_ptr(pwd.pw_name) };
        return format!("user {}", n.to_string_lossy());
    }
    format!("uid {uid}")
}

#[cfg(unix)]
fn group(gid: u32) -> Option<(String, Vec<String>)> {
    let mut buf = vec![0u8; 16384];
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut out: *mut libc::group = std::ptr::null_mut();
    let rc =
        unsafe { libc::getgrgid_r(gid, &mut grp, buf.as_mut_ptr().cast(), buf.len(), &mut out) };
    if rc != 0 || out.is_null() || grp.gr_name.is_null() {
        return None;
    }
    let name = unsafe { std::ffi::CStr::from_ptr(grp.gr_name) }
        .to_string_lossy()
        .into_owned();
    let mut members = vec![];
    let mut p = grp.gr_mem;
    while !p.is_null() && !unsafe { *p }.is_null() {
        members.push(format!(
            "user {}",
            unsafe { std::ffi::CStr::from_ptr(*p) }.to_string_lossy()
        ));
        p = unsafe { p.add(1) };
    }
    Some((format!("user {name}"), members))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the trust decision adds to `exec`/`export` with a project
    /// file, measured in-process (whole-command timings drown in process
    /// start-up): the place check (a few `stat`s up to the repository's
    /// root) and the approval lookup, on top of the parse and hash that
    /// `load` did before. Prints the figures (`cargo test --release --lib
    /// trust_cost -- --ignored --nocapture`).
    #[test]
    #[ignore = "benchmark"]
    fn trust_cost() {
        use std::time::Instant;
        let d = tempfile::tempdir().unwrap();
        let repo = d.path().join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("a/b")).unwrap();
        let file = repo.join("a/b/.authcfg.toml");
        std::fs::write(
            &file,
            "[env]\nSTRIPE_KEY = \"authcfg://dev/stripe/api_key\"\n[configs]\ndefault = [\"dev/pg\"]\n",
        )
        .unwrap();
        let state = d.path().join("state");
        let p = super::super::load(&file).unwrap();
        super::super::allow(Some(&state), &p).unwrap();
        let how = Ask {
            ci: None,
            state_dir: Some(&state),
            ask: None,
        };
        let time = |f: &dyn Fn()| {
            let mut t: Vec<f64> = (0..3000)
                .map(|_| {
                    let s = Instant::now();
                    f();
                    s.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            t.sort_by(|a, b| a.partial_cmp(b).unwrap());
            t[t.len() / 2]
        };
        let load = time(&|| {
            super::super::load(&file).unwrap();
        });
        let open_ = time(&|| {
            open(&file, &how).unwrap();
        });
        println!(
            "median: load {load:.4} ms, trust::open {open_:.4} ms, added {:.4} ms ({} build)",
            open_ - load,
            if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
        );
    }

    #[test]
    fn repo_dirs_stop_at_the_repository_root() {
        let d = tempfile::tempdir().unwrap();
        let deep = d.path().join("r/a/b");
        std::fs::create_dir_all(&deep).unwrap();
        assert_eq!(repo_dirs(&deep), vec![deep.clone()]);
        std::fs::create_dir(d.path().join("r/.git")).unwrap();
        assert_eq!(
            repo_dirs(&deep),
            vec![deep.clone(), d.path().join("r/a"), d.path().join("r")]
        );
    }

    #[test]
    fn ci_value_names_the_hash_or_the_checkout() {
        let d = tempfile::tempdir().unwrap();
        let p = Project {
            root: d.path().to_path_buf(),
            file: d.path().join(".authcfg.toml"),
            envs: Default::default(),
            digest: "ab".repeat(32),
            opened_dir: None,
        };
        assert!(ci_trusts(&"ab".repeat(32), &p));
        assert!(ci_trusts(&format!("sha256:{}", "AB".repeat(32)), &p));
        assert!(ci_trusts(&d.path().display().to_string(), &p));
        assert!(!ci_trusts("1", &p));
        assert!(!ci_trusts("/", &p));
        assert!(!ci_trusts(&"cd".repeat(32), &p));
    }
}
