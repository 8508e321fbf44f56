//! Project files (docs/ARCHITECTURE.md, "Project files"): `.authcfg.toml`
//! at a repository's root says which credentials the project needs, as
//! references to configs, never as values:
//!
//! ```toml
//! [env]                                    # the default environment
//! STRIPE_KEY = "authcfg://dev/stripe/api_key"
//! LOG_LEVEL = "debug"                      # plain values are allowed, secrets are not
//! [env.production]
//! STRIPE_KEY = "authcfg://prod/stripe/api_key"
//! [configs]                                # whole configs: all their variables
//! default = ["dev/pg"]
//! production = ["prod/pg"]
//! ```
//!
//! The file comes with the repository, so it is untrusted input: variable
//! names must be valid and may not change how programs start, references
//! must name valid configs and fields (nothing outside the store can be
//! named), and a value that looks like a secret is refused with the reason.
//! Environments do not inherit from each other: a production run never
//! gets a development credential by omission.

pub mod secrets;
pub mod trust;

use crate::error::{usage, UserError};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = ".authcfg.toml";
pub const DEFAULT_ENV: &str = "default";
const MAX_SIZE: u64 = 256 << 10;

/// `authcfg://NAME/FIELD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub config: String,
    pub field: String,
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "authcfg://{}/{}", self.config, self.field)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Ref(Reference),
    /// A plain, non-secret value (`LOG_LEVEL = "debug"`).
    Literal(String),
}

/// One environment: variables by reference or value, and whole configs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    pub vars: Vec<(String, Value)>,
    pub configs: Vec<String>,
    /// Variables of `vars` declared (`[overrides]`) to replace one that a
    /// whole config of `configs` exports: without the declaration, a
    /// project file cannot redirect a config it pulls in (its host, port,
    /// TLS mode, endpoint).
    pub overrides: Vec<String>,
}

impl Environment {
    /// Every config this environment reads, in order, once each.
    pub fn config_names(&self) -> Vec<String> {
        let mut out: Vec<String> = vec![];
        let refs = self.vars.iter().filter_map(|(_, v)| match v {
            Value::Ref(r) => Some(&r.config),
            Value::Literal(_) => None,
        });
        for n in self.configs.iter().chain(refs) {
            if !out.contains(n) {
                out.push(n.clone());
            }
        }
        out
    }
}

#[derive(Debug, Clone)]
pub struct Project {
    /// The directory holding the file.
    pub root: PathBuf,
    pub file: PathBuf,
    pub envs: BTreeMap<String, Environment>,
    /// SHA-256 of the file's bytes (what `project allow` approves).
    pub digest: String,
    /// The directory the file read really was in, from its open
    /// descriptor (`trust::read_checked`); `None` when read unchecked.
    pub opened_dir: Option<PathBuf>,
}

impl Project {
    /// The environment `name`, or an error listing the ones there are.
    pub fn environment(&self, name: &str) -> Result<&Environment, UserError> {
        self.envs.get(name).ok_or_else(|| {
            let have: Vec<&str> = self.envs.keys().map(String::as_str).collect();
            usage(format!(
                "{} has no environment '{name}'",
                self.file.display()
            ))
            .hint(if have.is_empty() {
                "it declares nothing yet: add an [env] or [configs] section".to_string()
            } else {
                format!("its environments: {}", have.join(", "))
            })
        })
    }

    /// Whether any environment reads this config.
    pub fn uses_config(&self, name: &str) -> bool {
        self.envs
            .values()
            .any(|e| e.config_names().iter().any(|n| n == name))
    }
}

/// The project file that applies in `start`: the nearest `.authcfg.toml`
/// in it or a directory above it, as git finds `.git`.
/// Client-library families: a client reads every variable of its family,
/// not only those a config exports (libpq reads `PGHOSTADDR`, which
/// replaces the address of the config's `PGHOST`, and `PGSSLROOTCERT`
/// when the config leaves it empty; MySQL's clients `MYSQL_UNIX_PORT` and
/// `LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN`). A project file that sets one of
/// the family of a variable a pulled-in config exports redirects that
/// config, and must say so in `[overrides]` (docs/SECURITY.md, "A
/// repository's project file"). The connector catalog names no prefix per
/// client, hence this table.
const FAMILIES: &[&[&str]] = &[&["PG"], &["MYSQL_", "LIBMYSQL_"]];

/// The family of `var` (the prefixes its client reads), if it has one.
pub fn family(var: &str) -> Option<&'static [&'static str]> {
    let v = var.to_ascii_uppercase();
    FAMILIES
        .iter()
        .copied()
        .find(|f| f.iter().any(|p| v.starts_with(p)))
}

/// Whether setting `set` changes what a config that exports `exported`
/// connects to: the same variable, or one of its client's family.
pub fn redirects(exported: &str, set: &str) -> bool {
    exported == set || family(exported).is_some_and(|f| family(set) == Some(f))
}

pub fn find(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|f| std::fs::symlink_metadata(f).is_ok())
}

/// Identifies the file's current content cheaply (device, inode, size,
/// modification time), so the shell hook knows when to load it again.
pub fn stamp(file: &Path) -> Option<String> {
    let m = std::fs::metadata(file).ok()?;
    Some(crate::platform::stamp(&m))
}

/// Reads and checks a project file, once (`input::read`: a regular file,
/// bounded); the digest is of the bytes read.
pub fn load(file: &Path) -> Result<Project, UserError> {
    let bytes =
        crate::input::read(file, "the project file", MAX_SIZE).map_err(|e| too_long(file, e))?;
    from_bytes(file, bytes, None)
}

/// Reads a project file through the place check (`trust::read_checked`:
/// opened once, judged and read on the same descriptor), then parses it.
pub fn load_checked(file: &Path) -> Result<Project, trust::Refusal> {
    let (bytes, dir) = trust::read_checked(file, "the project file", MAX_SIZE)
        .map_err(|e| trust::Refusal::Unsafe(too_long(file, e)))?;
    from_bytes(file, bytes, Some(dir)).map_err(trust::Refusal::Invalid)
}

fn too_long(file: &Path, e: UserError) -> UserError {
    if e.message.contains("bytes long") || e.message.contains("longer than") {
        usage(format!(
            "cannot read {}: it is over {MAX_SIZE} bytes; a project file names configs and is small",
            crate::text::Outside::new(file.display().to_string())
        ))
    } else {
        e
    }
}

fn from_bytes(
    file: &Path,
    bytes: Vec<u8>,
    opened_dir: Option<PathBuf>,
) -> Result<Project, UserError> {
    let digest = crate::store::crypto::sha256_hex(&bytes);
    let text = String::from_utf8(bytes).map_err(|_| {
        usage(format!(
            "cannot read {}: it is not UTF-8 text",
            crate::text::Outside::new(file.display().to_string())
        ))
    })?;
    let envs = parse(&text).map_err(|e| {
        let message = format!(
            "{}: {}",
            crate::text::Outside::new(file.display().to_string()),
            e.message
        );
        UserError { message, ..e }
    })?;
    Ok(Project {
        root: file
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/")),
        file: file.to_path_buf(),
        envs,
        digest,
        opened_dir,
    })
}

/// `authcfg://NAME/FIELD` as `inject` reads it.
pub fn parse_reference(s: &str) -> Result<Reference, String> {
    let rest = s
        .strip_prefix("authcfg://")
        .ok_or_else(|| format!("'{s}' is not an authcfg://NAME/FIELD reference"))?;
    let (config, field) = rest
        .rsplit_once('/')
        .ok_or_else(|| format!("'{s}' names no field: write authcfg://NAME/FIELD"))?;
    let canonical = crate::store::canonical_name(config).map_err(|e| e.to_string())?;
    crate::store::validate_name(&canonical).map_err(|e| e.to_string())?;
    if canonical != config {
        return Err(format!(
            "the config name in '{s}' is not in Unicode normal form C"
        ));
    }
    let field_ok = !field.is_empty()
        && field.len() <= 100
        && field
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        && !field.starts_with('.');
    if !field_ok {
        return Err(format!(
            "'{field}' in '{s}' is not a field name (letters, digits, '_', '-', '.')"
        ));
    }
    Ok(Reference {
        config: config.to_string(),
        field: field.to_string(),
    })
}

fn env_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn check_var_name(name: &str) -> Result<(), String> {
    if !crate::env_names::is_env_name(name) {
        return Err(format!(
            "'{name}' is not a variable name (letters, digits and '_', not starting with a digit)"
        ));
    }
    if crate::env_names::is_startup_var(name) {
        return Err(format!(
            "{name} changes how programs start (or is authcfg's own); a project file may not set it"
        ));
    }
    Ok(())
}

fn value_of(name: &str, v: &toml::Value) -> Result<Value, String> {
    let text = match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Float(f) => f.to_string(),
        _ => {
            return Err(format!(
                "{name} must be a string: \"authcfg://NAME/FIELD\" or a plain value"
            ))
        }
    };
    if text.starts_with("authcfg://") {
        return parse_reference(&text)
            .map(Value::Ref)
            .map_err(|e| format!("{name}: {e}"));
    }
    if text.contains("authcfg://") {
        return Err(format!(
            "{name}: a reference must be the whole value, \"authcfg://NAME/FIELD\""
        ));
    }
    if let Some(why) = secrets::looks_like_secret(&text) {
        return Err(format!(
            "the value of {name} looks like a secret: {why}. A project file is committed with the code; keep the secret in authcfg and write a reference here"
        ));
    }
    if text.contains('\0') {
        return Err(format!("{name}: the value holds a NUL character"));
    }
    Ok(Value::Literal(text))
}

/// The environments of a project file's text.
pub fn parse(text: &str) -> Result<BTreeMap<String, Environment>, UserError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| {
        usage(format!("not valid TOML: {}", e.message()))
            .hint("see `authcfg project --help` for the format")
    })?;
    let fail = |m: String| -> UserError {
        usage(m).hint("a project file maps variables to authcfg://NAME/FIELD references; values stay in the store")
    };
    let mut envs: BTreeMap<String, Environment> = BTreeMap::new();
    let mut overrides: Vec<(String, Vec<String>)> = vec![];
    for (key, value) in &table {
        match (key.as_str(), value) {
            ("env", toml::Value::Table(t)) => {
                for (k, v) in t {
                    if let toml::Value::Table(section) = v {
                        if !env_name_ok(k) {
                            return Err(fail(format!(
                                "[env.{k}]: not an environment name (letters, digits, '_', '-')"
                            )));
                        }
                        let env = envs.entry(k.clone()).or_default();
                        for (name, v) in section {
                            check_var_name(name).map_err(|m| fail(format!("[env.{k}] {m}")))?;
                            let val =
                                value_of(name, v).map_err(|m| fail(format!("[env.{k}] {m}")))?;
                            if env.vars.iter().any(|(n, _)| n == name) {
                                return Err(fail(format!("[env.{k}] sets {name} twice")));
                            }
                            env.vars.push((name.clone(), val));
                        }
                    } else {
                        check_var_name(k).map_err(|m| fail(format!("[env] {m}")))?;
                        let val = value_of(k, v).map_err(|m| fail(format!("[env] {m}")))?;
                        let env = envs.entry(DEFAULT_ENV.to_string()).or_default();
                        if env.vars.iter().any(|(n, _)| n == k) {
                            return Err(fail(format!(
                                "[env] sets {k} twice (at the top level and in [env.default])"
                            )));
                        }
                        env.vars.push((k.clone(), val));
                    }
                }
            }
            ("configs", toml::Value::Table(t)) => {
                for (k, v) in t {
                    if !env_name_ok(k) {
                        return Err(fail(format!(
                            "[configs] {k}: not an environment name (letters, digits, '_', '-')"
                        )));
                    }
                    let toml::Value::Array(items) = v else {
                        return Err(fail(format!(
                            "[configs] {k} must be a list of config names: {k} = [\"NAME\", ...]"
                        )));
                    };
                    let env = envs.entry(k.clone()).or_default();
                    for item in items {
                        let Some(n) = item.as_str() else {
                            return Err(fail(format!(
                                "[configs] {k}: every entry must be a config name in quotes"
                            )));
                        };
                        let canonical = crate::store::canonical_name(n)
                            .map_err(|e| fail(format!("[configs] {k}: {e}")))?;
                        crate::store::validate_name(&canonical)
                            .map_err(|e| fail(format!("[configs] {k}: {e}")))?;
                        if canonical != n {
                            return Err(fail(format!(
                                "[configs] {k}: '{n}' is not in Unicode normal form C"
                            )));
                        }
                        if !env.configs.contains(&canonical) {
                            env.configs.push(canonical);
                        }
                    }
                }
            }
            ("overrides", toml::Value::Table(t)) => {
                for (k, v) in t {
                    if !env_name_ok(k) {
                        return Err(fail(format!(
                            "[overrides] {k}: not an environment name (letters, digits, '_', '-')"
                        )));
                    }
                    let names = match v {
                        toml::Value::Array(items) => items
                            .iter()
                            .map(|i| i.as_str().map(str::to_string))
                            .collect::<Option<Vec<String>>>(),
                        _ => None,
                    }
                    .ok_or_else(|| {
                        fail(format!(
                            "[overrides] {k} must be a list of variable names: {k} = [\"PGHOST\", ...]"
                        ))
                    })?;
                    overrides.push((k.clone(), names));
                }
            }
            ("env" | "configs" | "overrides", _) => {
                return Err(fail(format!("'{key}' must be a table ([{key}])")));
            }
            (other, _) => {
                return Err(fail(format!(
                    "unknown key '{other}': a project file has [env], [env.NAME], [configs] and [overrides]"
                )));
            }
        }
    }
    // An override names a variable its environment's [env] sets.
    for (k, names) in overrides {
        let Some(env) = envs.get_mut(&k) else {
            return Err(fail(format!(
                "[overrides] {k}: the file has no environment '{k}'"
            )));
        };
        for n in names {
            if !env.vars.iter().any(|(v, _)| *v == n) {
                return Err(fail(format!(
                    "[overrides] {k}: '{n}' is not set in that environment's [env] section"
                )));
            }
            if !env.overrides.contains(&n) {
                env.overrides.push(n);
            }
        }
    }
    Ok(envs)
}

/// Whether `authcfg hook` may load a project file: its owner approved
/// exactly this content (`project allow`), as direnv asks for `.envrc`. A
/// repository cloned from elsewhere does not put its references into the
/// shell on `cd` before the user read them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Approval {
    Allowed,
    /// Allowed once, changed since.
    Changed,
    Never,
}

fn approval_path(state_dir: &Path, root: &Path) -> PathBuf {
    let id = crate::store::crypto::sha256_hex(root.as_os_str().as_encoded_bytes());
    state_dir.join("allowed").join(&id[..32])
}

pub fn approval(state_dir: Option<&Path>, p: &Project) -> Approval {
    let Some(dir) = state_dir else {
        return Approval::Never;
    };
    match crate::store::fsutil::read_private(&approval_path(dir, &p.root)) {
        Ok(Some(b)) => {
            let text = String::from_utf8_lossy(&b);
            if text.lines().next() == Some(p.digest.as_str()) {
                Approval::Allowed
            } else {
                Approval::Changed
            }
        }
        _ => Approval::Never,
    }
}

/// Approves the project file as it is now (its digest and path are kept
/// in the state directory, private to the user).
pub fn allow(state_dir: Option<&Path>, p: &Project) -> std::io::Result<PathBuf> {
    let dir = state_dir
        .ok_or_else(|| std::io::Error::other("no state directory (set HOME or XDG_STATE_HOME)"))?;
    let path = approval_path(dir, &p.root);
    crate::store::fsutil::create_dirs(path.parent().expect("has a parent"))?;
    crate::store::fsutil::write_atomic(
        &path,
        format!("{}\n{}\n", p.digest, p.file.display()).as_bytes(),
    )?;
    Ok(path)
}

/// Withdraws the approval.
pub fn deny(state_dir: Option<&Path>, p: &Project) -> std::io::Result<bool> {
    let Some(dir) = state_dir else {
        return Ok(false);
    };
    match std::fs::remove_file(approval_path(dir, &p.root)) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_family_redirects() {
        for (exported, set) in [
            ("PGHOST", "PGHOSTADDR"),
            ("PGHOST", "PGSSLROOTCERT"),
            ("PGPASSWORD", "PGSERVICE"),
            ("MYSQL_HOST", "MYSQL_UNIX_PORT"),
            ("MYSQL_PWD", "LIBMYSQL_ENABLE_CLEARTEXT_PLUGIN"),
            ("API_URL", "API_URL"),
        ] {
            assert!(redirects(exported, set), "{exported} {set}");
        }
        for (exported, set) in [
            ("PGHOST", "MYSQL_HOST"),
            ("API_URL", "API_HOST"),
            ("PGHOST", "APP_MODE"),
        ] {
            assert!(!redirects(exported, set), "{exported} {set}");
        }
    }

    #[test]
    fn parses_the_documented_example() {
        let envs = parse(
            r#"
[env]
STRIPE_KEY = "authcfg://dev/stripe/api_key"
LOG_LEVEL = "debug"
PORT = 8080
[env.production]
STRIPE_KEY = "authcfg://prod/stripe/api_key"
[configs]
default    = ["dev/pg"]
production = ["prod/pg"]
"#,
        )
        .unwrap();
        assert_eq!(envs.len(), 2);
        let d = &envs["default"];
        assert_eq!(d.configs, vec!["dev/pg"]);
        assert!(d.vars.contains(&(
            "STRIPE_KEY".into(),
            Value::Ref(Reference {
                config: "dev/stripe".into(),
                field: "api_key".into()
            })
        )));
        assert!(d
            .vars
            .contains(&("PORT".into(), Value::Literal("8080".into()))));
        assert_eq!(
            envs["production"].config_names(),
            vec!["prod/pg", "prod/stripe"]
        );
    }

    #[test]
    fn refuses_what_a_hostile_file_could_do() {
        for (text, needle) in [
            (
                "[env]\nLD_PRELOAD = \"/tmp/x.so\"",
                "changes how programs start",
            ),
            (
                "[env]\nPATH = \"authcfg://a/b\"",
                "changes how programs start",
            ),
            ("[env]\nAUTHCFG_IDENTITY_FILE = \"/tmp/k\"", "authcfg's own"),
            ("[env]\nX = \"authcfg://../../etc/passwd/x\"", ".."),
            ("[env]\nX = \"authcfg:///etc/passwd/x\"", ""),
            ("[env]\nX = \"authcfg://a/b c\"", "not a field name"),
            ("[env]\nX = \"authcfg://nofield\"", "names no field"),
            ("[env]\nX = \"pre authcfg://a/b\"", "whole value"),
            ("[env]\n\"1X\" = \"v\"", "not a variable name"),
            (
                "[env]\nKEY = \"sk_live_51H8abcdefghijklmnopqrstuv\"",
                "Stripe live secret key",
            ),
            ("[configs]\ndefault = [\"../x\"]", ""),
            ("[configs]\ndefault = \"dev/pg\"", "list of config names"),
            ("[secrets]\nA = 1", "unknown key"),
            ("[env]\nX = [1]", "must be a string"),
        ] {
            let e = parse(text).expect_err(text);
            assert!(e.message.contains(needle), "{text}: {}", e.message);
        }
    }
}
