//! Which programs an agent may run (`authcfg mcp --allow-run PROG`;
//! docs/SECURITY.md, "run_command"): each name the user gives is looked
//! up in PATH when the server starts (a name with a `/` is taken as a
//! path) and kept with its canonical path. A program the agent names is
//! looked up the same way and allowed when its canonical path is one of
//! those; what runs is then the user's entry (its path, its name as
//! argv[0]), never the agent's spelling, so a multi-call binary (busybox)
//! allowed as `ls` stays `ls`.
//!
//! The file found is also identified when the server starts (device,
//! inode, size, modification and change times): a file written over it
//! or renamed over it later is refused at the next call (`Refusal::Replaced`).
//!
//! A shell is a program that runs any other: it is allowed only when the
//! user names it as a shell (`--allow-run bash`), never through another
//! name that resolves to one.

use crate::error::{usage, UserError};
use std::path::{Path, PathBuf};

/// Programs that run whatever they are told: refused unless named as such.
const SHELLS: &[&str] = &[
    "sh", "bash", "dash", "zsh", "ksh", "mksh", "ksh93", "pdksh", "ash", "yash", "fish", "csh",
    "tcsh", "busybox", "pwsh", "elvish", "nu", "xonsh", "rbash",
];

/// A program the user allowed.
#[derive(Debug, Clone)]
pub struct Allowed {
    /// As the user named it (the child's argv[0], the consumer label).
    pub name: String,
    /// Where it was found.
    pub path: PathBuf,
    /// `path` with every symbolic link resolved.
    pub canonical: PathBuf,
    /// The file `canonical` was when the server started.
    id: FileId,
}

/// What identifies a file's content without reading it
/// (`platform::file_identity`: on Unix a rename over it changes the inode,
/// a write its size or times).
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileId(String);

impl FileId {
    fn of(p: &Path) -> std::io::Result<FileId> {
        Ok(FileId(crate::platform::file_identity(&std::fs::metadata(
            p,
        )?)))
    }
}

/// Why `pick` gives no program.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The agent's program is none of the allowed ones.
    NotAllowed,
    /// The allowed file (this path) was replaced or changed since the
    /// server started.
    Replaced(PathBuf),
}

impl Allowed {
    /// The name the audit trail and the usage log show: the file name.
    pub fn label(&self) -> String {
        Path::new(&self.name)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.name.clone())
    }
}

/// The executable file `name` stands for: a path when it holds a `/`,
/// else the first executable regular file of that name in `path_var`.
fn find(name: &str, path_var: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    let executable = |p: &Path| std::fs::metadata(p).is_ok_and(|m| crate::platform::executable(&m));
    if name.is_empty() {
        return None;
    }
    if name.contains('/') {
        let p = PathBuf::from(name);
        return executable(&p).then_some(p);
    }
    std::env::split_paths(path_var?)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(name))
        .find(|p| executable(p))
}

fn is_shell(p: &Path) -> bool {
    let Some(f) = p.file_name().and_then(|f| f.to_str()) else {
        return false;
    };
    if SHELLS.contains(&f) {
        return true;
    }
    // The system's own list of login shells, canonicalised.
    std::fs::read_to_string("/etc/shells").is_ok_and(|l| {
        l.lines()
            .map(str::trim)
            .filter(|l| l.starts_with('/'))
            .filter_map(|l| std::fs::canonicalize(l).ok())
            .any(|c| c == p)
    })
}

/// The user's `--allow-run` names, resolved with `path_var` (the server's
/// PATH). Refused: a name found nowhere, and a name that is a shell under
/// another name.
pub fn resolve(
    names: &[String],
    path_var: Option<&std::ffi::OsStr>,
) -> Result<Vec<Allowed>, UserError> {
    let mut out: Vec<Allowed> = vec![];
    for name in names {
        let path = find(name, path_var).ok_or_else(|| {
            usage(format!("--allow-run {name}: no such program in PATH"))
                .hint("name a program on PATH, or give its path")
        })?;
        let canonical =
            std::fs::canonicalize(&path).map_err(|e| usage(format!("--allow-run {name}: {e}")))?;
        let named = Path::new(name)
            .file_name()
            .and_then(|f| f.to_str())
            .unwrap_or_default();
        if is_shell(&canonical) && !SHELLS.contains(&named) && !is_shell(Path::new(name)) {
            return Err(usage(format!(
                "--allow-run {name}: it is the shell {}, which runs any program",
                canonical.display()
            ))
            .hint("to allow a shell, name it as one (--allow-run bash); docs/SECURITY.md says what it lets an agent do"));
        }
        if !out.iter().any(|a| a.canonical == canonical) {
            let id =
                FileId::of(&canonical).map_err(|e| usage(format!("--allow-run {name}: {e}")))?;
            out.push(Allowed {
                id,
                name: name.clone(),
                path,
                canonical,
            });
        }
    }
    Ok(out)
}

/// The allowed program the agent's `asked` stands for (looked up the way
/// the user's names were); refused also when the allowed file was
/// replaced, renamed over or changed since the server started.
pub fn pick<'a>(
    allowed: &'a [Allowed],
    asked: &str,
    path_var: Option<&std::ffi::OsStr>,
) -> Result<&'a Allowed, Refusal> {
    let c = find(asked, path_var)
        .and_then(|f| std::fs::canonicalize(f).ok())
        .ok_or(Refusal::NotAllowed)?;
    let a = allowed
        .iter()
        .find(|a| a.canonical == c)
        .ok_or(Refusal::NotAllowed)?;
    // The user's entry still leads to the same file, unchanged.
    let same = std::fs::canonicalize(&a.path).is_ok_and(|p| p == a.canonical)
        && FileId::of(&a.canonical).is_ok_and(|id| id == a.id);
    if same {
        Ok(a)
    } else {
        Err(Refusal::Replaced(a.canonical.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shells_only_by_name_and_programs_by_canonical_path() {
        let d = tempfile::tempdir().unwrap();
        let bin = d.path();
        let sh = std::fs::canonicalize("/bin/sh").unwrap();
        std::os::unix::fs::symlink(&sh, bin.join("innocent")).unwrap();
        let path = std::ffi::OsString::from(format!("{}:/usr/bin:/bin", bin.display()));
        // A shell under another name is refused; by its own name allowed.
        let e = resolve(&["innocent".into()], Some(&path)).unwrap_err();
        assert!(e.message.contains("shell"), "{}", e.message);
        let a = resolve(&["sh".into(), "env".into()], Some(&path)).unwrap();
        assert_eq!(a.len(), 2);
        // The agent's spelling resolves to the same file: the user's entry.
        let p = pick(&a, &sh.display().to_string(), Some(&path)).unwrap();
        assert_eq!(p.name, "sh");
        assert!(pick(&a, "innocent", Some(&path)).is_ok_and(|p| p.name == "sh"));
        assert_eq!(
            pick(&a, "ls", Some(&path)).unwrap_err(),
            Refusal::NotAllowed
        );
        assert!(resolve(&["no-such-program-x".into()], Some(&path)).is_err());
    }
}
