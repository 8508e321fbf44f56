//! Every setting that comes from the environment, read once at the edge
//! (as aws-vault's `populateFromEnv` and jj's config layers do) and passed
//! down. Key-bearing variables are then removed from this process's
//! environment, so no program authcfg starts (`exec`, `$BROWSER`, the
//! platform opener) inherits a key (docs/SECURITY.md, "Child processes").

use std::path::PathBuf;
use std::time::Duration;
use zeroize::Zeroizing;

pub const ENV_IDENTITY: &str = "AUTHCFG_IDENTITY";
pub const ENV_IDENTITY_FILE: &str = "AUTHCFG_IDENTITY_FILE";
pub const ENV_PASSPHRASE: &str = "AUTHCFG_PASSPHRASE";
pub const ENV_TRUST_ADMIN: &str = "AUTHCFG_TRUST_ADMIN";
pub const ENV_TRUST_PROJECT: &str = "AUTHCFG_TRUST_PROJECT";
/// Set in `exec` children; its presence refuses nesting.
pub const ENV_EXEC_GUARD: &str = "AUTHCFG_EXEC";

/// Every variable authcfg reads or sets, with what it does: the
/// ENVIRONMENT of `--help` and `man authcfg` (a test checks that each
/// `AUTHCFG_` variable read here is in it).
pub const VARIABLES: &[(&str, &str)] = &[
    ("AUTHCFG_HOME", "the store directory (as --store; default: $XDG_DATA_HOME/authcfg, ~/.local/share/authcfg)"),
    (ENV_IDENTITY, "the master key itself, an AGE-SECRET-KEY-1... string (CI, headless machines); no program authcfg starts inherits it"),
    (ENV_IDENTITY_FILE, "a file holding the master key (yours, mode 0600, outside the store)"),
    (ENV_PASSPHRASE, "the passphrase of a passphrase-protected store (`init --passphrase`) where there is no terminal to ask"),
    ("AUTHCFG_KEYRING", "which OS keyring keeps the master key: auto (default), secret-service, keyutils or none"),
    ("AUTHCFG_KEY_CACHE", "seconds to keep the unlocked master key in the session keyring (`authcfg lock` drops it); off when unset or 0"),
    (ENV_TRUST_ADMIN, "the admin key fingerprint (SHA256:...) a member trusts without being asked"),
    ("AUTHCFG_REFRESH_SKEW", "refresh OAuth access tokens this many seconds before they expire"),
    ("AUTHCFG_HTTP_TIMEOUT", "seconds a request to an OAuth provider may take (default 30)"),
    ("AUTHCFG_LOCK_TIMEOUT", "seconds a change waits for another authcfg process to finish (default 120)"),
    ("AUTHCFG_AUDIT_KEEP", "how much of the audit trail to keep: a size (at least 32K; default 256M) or `all`; older sealed segments are dropped behind a checkpoint"),
    (ENV_TRUST_PROJECT, "CI's opt-in to a repository's project file: its SHA-256, or the checkout's directory (never overrides the ownership rule)"),
    ("AUTHCFG_AS", "the consumer hand-outs are recorded for (as --as)"),
    ("AUTHCFG_ENV", "the environment of the project file (as --env)"),
    ("AUTHCFG_USAGE", "off: hand-outs are not recorded in the usage log (the audit trail still has them)"),
    ("AUTHCFG_MCP_EXPOSE", "the configs `authcfg mcp` offers when no --expose is given (globs, comma-separated)"),
    ("AUTHCFG_COMPLETE", "set by the shell's completion registration (`authcfg completions`) when it asks for completions"),
    ("AUTHCFG_PROJECT_STATE", "set by `authcfg hook`: what it loaded into this shell"),
    (ENV_EXEC_GUARD, "set for the command `authcfg exec` runs; refuses an `exec` inside it"),
    ("BROWSER", "the program that opens OAuth authorization pages"),
    ("VISUAL, EDITOR", "the editor `authcfg edit NAME` opens a config's non-secret fields in (at a terminal)"),
    ("DISPLAY, WAYLAND_DISPLAY", "a display to open a browser on (else OAuth uses the device flow); not over SSH (SSH_CONNECTION, SSH_TTY)"),
    ("GITHUB_ENV", "the file `export --format github` appends to"),
    ("GITHUB_REPOSITORY, GITHUB_WORKFLOW, CI_PROJECT_PATH, CI_JOB_NAME", "the CI job hand-outs are recorded for"),
    ("XDG_DATA_HOME, XDG_CONFIG_HOME, XDG_STATE_HOME", "where the default store, your own key and the local state live (FILES)"),
    ("DOCKER_CONFIG", "the directory of the docker config `authcfg docker setup` writes (default ~/.docker)"),
    ("KUBECONFIG", "the kubeconfig files `authcfg kube setup` writes to (default ~/.kube/config)"),
    ("KUBERNETES_EXEC_INFO", "set by kubectl for `authcfg kube credential`: the ExecCredential version and cluster it wants"),
    ("AUTHCFG_BAO_ADDR, BAO_ADDR, VAULT_ADDR", "the OpenBao / Vault server of key-service recipients (`recipients add bao:transit/keys/NAME`); never taken from the store"),
    ("AUTHCFG_BAO_TOKEN, BAO_TOKEN, VAULT_TOKEN", "the OpenBao / Vault token that unwraps a key-service recipient's key; no program authcfg starts inherits it"),
    ("AUTHCFG_BAO_TOKEN_FILE", "a file holding that token (yours, mode 0600)"),
    ("AUTHCFG_BAO_ROLE_ID, AUTHCFG_BAO_SECRET_ID, AUTHCFG_BAO_SECRET_ID_FILE", "an AppRole login instead of a token (the secret id from the variable or a file of yours, mode 0600)"),
    ("AUTHCFG_BAO_APPROLE_MOUNT", "where the AppRole auth method is mounted (default approle)"),
    ("AUTHCFG_BAO_TRANSIT_MOUNTS", "the transit mounts (comma-separated, default transit) your token is used on; a store naming another mount is refused before any request"),
    ("BAO_CACERT, VAULT_CACERT", "the CA file (PEM) that verifies the OpenBao / Vault server's certificate instead of the system store"),
    ("AUTHCFG_KMS_ENDPOINT, AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL", "the AWS KMS endpoint of key-service recipients (`recipients add awskms:ARN`; default https://kms.REGION.amazonaws.com, REGION from the ARN); never taken from the store"),
    ("AUTHCFG_KMS_ACCESS_KEY_ID, AUTHCFG_KMS_SECRET_ACCESS_KEY, AUTHCFG_KMS_SESSION_TOKEN", "AWS credentials for KMS only, before the usual AWS variables and profile; no program authcfg starts inherits the secret ones"),
    ("AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN", "AWS credentials for KMS when the AUTHCFG_KMS_ ones are not set (the user's own environment, passed on to programs as it came)"),
    ("AUTHCFG_KMS_PROFILE, AWS_PROFILE", "the profile of the AWS shared credentials and config files KMS credentials come from (default `default`)"),
    ("AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE", "the AWS shared credentials and config files (default ~/.aws/credentials, ~/.aws/config)"),
    ("AWS_CA_BUNDLE", "a CA file (PEM) that verifies the KMS endpoint's certificate instead of the system store"),
];

/// Variables that hold or unlock a key: never passed to a child. The key
/// service's token and AppRole secret, and the KMS-only AWS secrets, unlock
/// a key too (docs/ARCHITECTURE.md, "Key services"); the user's general
/// `AWS_*` variables are theirs and pass on as they came.
pub const KEY_BEARING: [&str; 11] = [
    ENV_IDENTITY,
    ENV_IDENTITY_FILE,
    ENV_PASSPHRASE,
    "AUTHCFG_BAO_TOKEN",
    "BAO_TOKEN",
    "VAULT_TOKEN",
    "AUTHCFG_BAO_TOKEN_FILE",
    "AUTHCFG_BAO_SECRET_ID",
    "AUTHCFG_BAO_SECRET_ID_FILE",
    "AUTHCFG_KMS_SECRET_ACCESS_KEY",
    "AUTHCFG_KMS_SESSION_TOKEN",
];

/// How authcfg reaches an OpenBao / Vault server for key-service
/// recipients (docs/ARCHITECTURE.md, "Key services"). The address is the
/// reader's own, never the store's: whoever can write the store directory
/// could otherwise send this token to a server of theirs.
#[derive(Clone, Default)]
pub struct BaoSettings {
    /// `AUTHCFG_BAO_ADDR`, else `BAO_ADDR`, else `VAULT_ADDR`.
    pub addr: Option<String>,
    /// `AUTHCFG_BAO_TOKEN`, else `BAO_TOKEN`, else `VAULT_TOKEN`.
    pub token: Option<Zeroizing<String>>,
    /// `AUTHCFG_BAO_TOKEN_FILE`.
    pub token_file: Option<PathBuf>,
    /// `AUTHCFG_BAO_ROLE_ID` (AppRole; not a secret).
    pub role_id: Option<String>,
    /// `AUTHCFG_BAO_SECRET_ID`.
    pub secret_id: Option<Zeroizing<String>>,
    /// `AUTHCFG_BAO_SECRET_ID_FILE`.
    pub secret_id_file: Option<PathBuf>,
    /// `AUTHCFG_BAO_APPROLE_MOUNT` (default `approle`).
    pub approle_mount: Option<String>,
    /// `BAO_CACERT`, else `VAULT_CACERT`.
    pub ca_cert: Option<PathBuf>,
    /// `AUTHCFG_BAO_TRANSIT_MOUNTS` (comma-separated, default `transit`):
    /// the transit mounts this reader's token may be used on. A header
    /// naming another mount is refused before any request
    /// (docs/SECURITY.md, "Key services").
    pub transit_mounts: Vec<String>,
}

impl BaoSettings {
    fn from_env() -> BaoSettings {
        let first = |ks: &[&str]| {
            ks.iter()
                .find_map(|k| var(k).filter(|v| !v.trim().is_empty()))
        };
        let path = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        BaoSettings {
            addr: first(&["AUTHCFG_BAO_ADDR", "BAO_ADDR", "VAULT_ADDR"]),
            token: first(&["AUTHCFG_BAO_TOKEN", "BAO_TOKEN", "VAULT_TOKEN"]).map(Zeroizing::new),
            token_file: path("AUTHCFG_BAO_TOKEN_FILE"),
            role_id: first(&["AUTHCFG_BAO_ROLE_ID"]),
            secret_id: first(&["AUTHCFG_BAO_SECRET_ID"]).map(Zeroizing::new),
            secret_id_file: path("AUTHCFG_BAO_SECRET_ID_FILE"),
            approle_mount: first(&["AUTHCFG_BAO_APPROLE_MOUNT"]),
            ca_cert: path("BAO_CACERT").or_else(|| path("VAULT_CACERT")),
            transit_mounts: transit_mounts(var("AUTHCFG_BAO_TRANSIT_MOUNTS").as_deref()),
        }
    }

    /// The transit mounts the token may be used on (`transit` when none
    /// is listed).
    pub fn allowed_mounts(&self) -> Vec<String> {
        if self.transit_mounts.is_empty() {
            transit_mounts(None)
        } else {
            self.transit_mounts.clone()
        }
    }

    /// Whether these settings can log in to a server: an address and a
    /// token, a token file or an AppRole.
    pub fn configured(&self) -> bool {
        self.addr.is_some()
            && (self.token.is_some() || self.token_file.is_some() || self.role_id.is_some())
    }
}

/// The transit mounts `AUTHCFG_BAO_TRANSIT_MOUNTS` lists (`transit` when
/// it is unset or lists none), each without surrounding `/`.
pub fn transit_mounts(v: Option<&str>) -> Vec<String> {
    let v: Vec<String> = v
        .unwrap_or_default()
        .split(',')
        .map(|m| m.trim().trim_matches('/').to_string())
        .filter(|m| !m.is_empty())
        .collect();
    if v.is_empty() {
        vec!["transit".to_string()]
    } else {
        v
    }
}

impl std::fmt::Debug for BaoSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaoSettings")
            .field("addr", &self.addr)
            .field("token", &self.token.as_ref().map(|_| "****"))
            .field("token_file", &self.token_file)
            .field("role_id", &self.role_id)
            .field("secret_id", &self.secret_id.as_ref().map(|_| "****"))
            .field("secret_id_file", &self.secret_id_file)
            .field("approle_mount", &self.approle_mount)
            .field("ca_cert", &self.ca_cert)
            .field("transit_mounts", &self.transit_mounts)
            .finish()
    }
}

/// How authcfg reaches AWS KMS for key-service recipients
/// (docs/ARCHITECTURE.md, "Key services"): the endpoint and credentials
/// are the reader's own, never the store's.
#[derive(Clone, Default)]
pub struct KmsSettings {
    /// `AUTHCFG_KMS_ENDPOINT`, else `AWS_ENDPOINT_URL_KMS`, else
    /// `AWS_ENDPOINT_URL`.
    pub endpoint: Option<String>,
    /// `AUTHCFG_KMS_ACCESS_KEY_ID` with `AUTHCFG_KMS_SECRET_ACCESS_KEY`
    /// (and `AUTHCFG_KMS_SESSION_TOKEN`), else the `AWS_` ones.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Zeroizing<String>>,
    pub session_token: Option<Zeroizing<String>>,
    /// Which variables the keys above came from (for messages).
    pub keys_from: &'static str,
    /// `AUTHCFG_KMS_PROFILE`, else `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`.
    pub profile: Option<String>,
    /// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
    pub credentials_file: Option<PathBuf>,
    /// `AWS_CONFIG_FILE`, else `~/.aws/config`.
    pub config_file: Option<PathBuf>,
    /// `AWS_CA_BUNDLE`.
    pub ca_bundle: Option<PathBuf>,
}

impl KmsSettings {
    fn from_env() -> KmsSettings {
        let set = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        let path = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let (access_key_id, secret_access_key, session_token, keys_from) =
            match set("AUTHCFG_KMS_ACCESS_KEY_ID") {
                Some(id) => (
                    Some(id),
                    set("AUTHCFG_KMS_SECRET_ACCESS_KEY").map(Zeroizing::new),
                    set("AUTHCFG_KMS_SESSION_TOKEN").map(Zeroizing::new),
                    "AUTHCFG_KMS_ACCESS_KEY_ID",
                ),
                None => (
                    set("AWS_ACCESS_KEY_ID"),
                    set("AWS_SECRET_ACCESS_KEY").map(Zeroizing::new),
                    set("AWS_SESSION_TOKEN").map(Zeroizing::new),
                    "AWS_ACCESS_KEY_ID",
                ),
            };
        let aws_dir = home().map(|h| h.join(".aws"));
        KmsSettings {
            endpoint: set("AUTHCFG_KMS_ENDPOINT")
                .or_else(|| set("AWS_ENDPOINT_URL_KMS"))
                .or_else(|| set("AWS_ENDPOINT_URL")),
            access_key_id,
            secret_access_key,
            session_token,
            keys_from,
            profile: set("AUTHCFG_KMS_PROFILE")
                .or_else(|| set("AWS_PROFILE"))
                .or_else(|| set("AWS_DEFAULT_PROFILE")),
            credentials_file: path("AWS_SHARED_CREDENTIALS_FILE")
                .or_else(|| aws_dir.as_ref().map(|d| d.join("credentials"))),
            config_file: path("AWS_CONFIG_FILE")
                .or_else(|| aws_dir.as_ref().map(|d| d.join("config"))),
            ca_bundle: path("AWS_CA_BUNDLE"),
        }
    }
}

impl std::fmt::Debug for KmsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsSettings")
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "****"),
            )
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "****"),
            )
            .field("profile", &self.profile)
            .field("credentials_file", &self.credentials_file)
            .field("config_file", &self.config_file)
            .field("ca_bundle", &self.ca_bundle)
            .finish()
    }
}

#[derive(Clone)]
pub struct Settings {
    /// `AUTHCFG_HOME`: the store directory (`--store` wins).
    pub store_dir: Option<PathBuf>,
    /// `AUTHCFG_IDENTITY`: an `AGE-SECRET-KEY-1…` string.
    pub identity: Option<Zeroizing<String>>,
    /// `AUTHCFG_IDENTITY_FILE`.
    pub identity_file: Option<PathBuf>,
    /// `AUTHCFG_PASSPHRASE`.
    pub passphrase: Option<Zeroizing<String>>,
    /// `AUTHCFG_KEYRING`: auto, secret-service, keyutils, none.
    pub keyring: Option<String>,
    /// `AUTHCFG_TRUST_ADMIN`: the admin key fingerprint a member trusts.
    pub trust_admin: Option<String>,
    /// `AUTHCFG_REFRESH_SKEW`: refresh OAuth tokens this many seconds
    /// before they expire (default: the lesser of 60 s and a quarter of the
    /// token's lifetime).
    pub refresh_skew: Option<i64>,
    /// `AUTHCFG_HTTP_TIMEOUT` (seconds, default 30).
    pub http_timeout: Duration,
    /// `AUTHCFG_LOCK_TIMEOUT` (seconds, default 120): how long a writer
    /// waits for another to finish.
    pub lock_timeout: Duration,
    /// `AUTHCFG_KEY_CACHE` (seconds): cache the unlocked master key in the
    /// session keyring for this long (off when unset or 0).
    pub key_cache: Option<u64>,
    /// `AUTHCFG_FAULT_AFTER` (only in builds with the `fault-injection`
    /// feature): crash after the k-th durable step.
    pub fault_after: Option<u64>,
    /// `AUTHCFG_FAULT_HOLD=k:FILE` (fault-injection builds only): hold the
    /// lock at the k-th durable step while FILE exists.
    pub fault_hold: Option<(u64, PathBuf)>,
    /// `AUTHCFG_EXEC` (inside `authcfg exec`).
    pub exec_guard: Option<String>,
    /// `BROWSER`.
    pub browser: Option<String>,
    /// `VISUAL`, else `EDITOR`: a shell command (may carry arguments).
    pub editor: Option<String>,
    /// `GITHUB_ENV`.
    pub github_env: Option<PathBuf>,
    /// Whether a display is available (DISPLAY/WAYLAND_DISPLAY, not SSH).
    pub has_display: bool,
    /// `USER`, or `uid:N`.
    pub user: String,
    /// stdin and stderr are terminals.
    pub interactive: bool,
    /// `$XDG_STATE_HOME/authcfg` (`~/.local/state/authcfg`): the local
    /// anchors of what each store looked like (docs/SECURITY.md).
    pub state_dir: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME/authcfg/key.txt` (`~/.config/authcfg/key.txt`):
    /// where `authcfg key new --file` keeps your own key when no keyring
    /// can (docs/ARCHITECTURE.md, "Master key").
    pub key_file: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME/authcfg/helpers.json`: which docker registry
    /// host and which kubectl context each config answers (docs/ARCHITECTURE.md,
    /// "Container registries and Kubernetes").
    pub helper_bindings: Option<PathBuf>,
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    pub docker_config: Option<PathBuf>,
    /// The files of `KUBECONFIG` (a `:`-separated list), else `~/.kube/config`.
    pub kubeconfig: Vec<PathBuf>,
    /// `KUBERNETES_EXEC_INFO`: kubectl's ExecCredential request.
    pub kube_exec_info: Option<String>,
    /// `PATH`, to tell whether `docker-credential-authcfg` is found.
    pub path: Option<std::ffi::OsString>,
    /// `AUTHCFG_AS` (or `--as`): the consumer hand-outs are recorded for.
    pub consumer_label: Option<String>,
    /// The CI job this runs in: `github:OWNER/REPO WORKFLOW` from
    /// `GITHUB_REPOSITORY`/`GITHUB_WORKFLOW`, or `gitlab:GROUP/PROJECT JOB`
    /// from `CI_PROJECT_PATH`/`CI_JOB_NAME`.
    pub ci_job: Option<String>,
    /// `AUTHCFG_ENV` (or `--env`): the project file's environment.
    pub project_env: Option<String>,
    /// `AUTHCFG_PROJECT_STATE`: what `authcfg hook` loaded into this shell.
    pub project_state: Option<String>,
    /// `AUTHCFG_TRUST_PROJECT`: the SHA-256 of a project file, or the
    /// project's directory, to use without a recorded approval (CI).
    pub trust_project: Option<String>,
    /// `AUTHCFG_USAGE=off`: hand-outs are not recorded in the usage log
    /// (the audit trail still has them).
    pub record_usage: bool,
    /// `AUTHCFG_MCP_EXPOSE`: the configs `authcfg mcp` offers when no
    /// `--expose` is given (globs, comma-separated).
    pub mcp_expose: Option<String>,
    /// Who acts, for the audit trail, when it is not the user at a shell
    /// (`mcp:CLIENT`); set by the command, never from the environment.
    pub actor: Option<String>,
    /// `AUTHCFG_AUDIT_KEEP`: how much of the audit trail is kept.
    pub audit_keep: Option<String>,
    /// What the environment says about colour and width (`NO_COLOR`,
    /// `CLICOLOR`, `CLICOLOR_FORCE`, `TERM`, `COLUMNS`); `cli::term`
    /// decides with it.
    pub display: Display,
    /// OpenBao / Vault for key-service recipients.
    pub bao: BaoSettings,
    /// AWS KMS for key-service recipients.
    pub kms: KmsSettings,
}

/// The environment's words on how output looks.
#[derive(Debug, Clone, Default)]
pub struct Display {
    /// `NO_COLOR` set and not empty: no colour, whatever else says.
    pub no_color: bool,
    /// `CLICOLOR_FORCE` set and not `0`: colour even into a pipe.
    pub clicolor_force: bool,
    /// `CLICOLOR=0`: no colour.
    pub clicolor_off: bool,
    /// `TERM` is not `dumb`.
    pub term_supports_color: bool,
    /// `COLUMNS`, a terminal's width when it says so.
    pub columns: Option<usize>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("identity", &self.identity.as_ref().map(|_| "****"))
            .field("identity_file", &self.identity_file)
            .field("passphrase", &self.passphrase.as_ref().map(|_| "****"))
            .field("keyring", &self.keyring)
            .field("bao", &self.bao)
            .field("kms", &self.kms)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

fn var(k: &str) -> Option<String> {
    std::env::var(k).ok()
}

fn secs(k: &str, default: u64) -> Duration {
    Duration::from_secs(var(k).and_then(|v| v.parse().ok()).unwrap_or(default))
}

impl Settings {
    /// Reads the environment. Call once, before any thread starts.
    pub fn from_env() -> Settings {
        use std::io::IsTerminal;
        let ssh = var("SSH_CONNECTION").is_some() || var("SSH_TTY").is_some();
        let dirs = project_dirs().ok();
        Settings {
            store_dir: Settings::store_dir_from_env(),
            identity: var(ENV_IDENTITY).map(Zeroizing::new),
            identity_file: std::env::var_os(ENV_IDENTITY_FILE).map(PathBuf::from),
            passphrase: var(ENV_PASSPHRASE).map(Zeroizing::new),
            keyring: var("AUTHCFG_KEYRING"),
            trust_admin: var(ENV_TRUST_ADMIN),
            refresh_skew: var("AUTHCFG_REFRESH_SKEW").and_then(|v| v.parse().ok()),
            http_timeout: secs("AUTHCFG_HTTP_TIMEOUT", 30),
            lock_timeout: secs("AUTHCFG_LOCK_TIMEOUT", 120),
            key_cache: var("AUTHCFG_KEY_CACHE")
                .and_then(|v| v.parse().ok())
                .filter(|s: &u64| *s > 0),
            fault_after: if cfg!(feature = "fault-injection") {
                var("AUTHCFG_FAULT_AFTER").and_then(|v| v.parse().ok())
            } else {
                None
            },
            fault_hold: if cfg!(feature = "fault-injection") {
                var("AUTHCFG_FAULT_HOLD").and_then(|v| {
                    let (k, f) = v.split_once(':')?;
                    Some((k.parse().ok()?, PathBuf::from(f)))
                })
            } else {
                None
            },
            exec_guard: var(ENV_EXEC_GUARD),
            browser: var("BROWSER").filter(|b| !b.trim().is_empty()),
            editor: var("VISUAL")
                .filter(|e| !e.trim().is_empty())
                .or_else(|| var("EDITOR").filter(|e| !e.trim().is_empty())),
            github_env: std::env::var_os("GITHUB_ENV").map(PathBuf::from),
            has_display: !ssh && (var("DISPLAY").is_some() || var("WAYLAND_DISPLAY").is_some()),
            user: var("USER")
                .or_else(|| var("USERNAME"))
                .unwrap_or_else(crate::platform::user_id),
            interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
            state_dir: dirs
                .as_ref()
                .and_then(|d| d.state_dir().map(std::path::Path::to_path_buf)),
            key_file: dirs.as_ref().map(|d| d.config_dir().join("key.txt")),
            helper_bindings: dirs.as_ref().map(|d| d.config_dir().join("helpers.json")),
            docker_config: std::env::var_os("DOCKER_CONFIG")
                .filter(|v| !v.is_empty())
                .map(|d| PathBuf::from(d).join("config.json"))
                .or_else(|| home().map(|h| h.join(".docker/config.json"))),
            kubeconfig: match std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
                Some(list) => std::env::split_paths(&list)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect(),
                None => home().map(|h| h.join(".kube/config")).into_iter().collect(),
            },
            kube_exec_info: var("KUBERNETES_EXEC_INFO").filter(|v| !v.trim().is_empty()),
            path: std::env::var_os("PATH"),
            consumer_label: var("AUTHCFG_AS").filter(|v| !v.is_empty()),
            ci_job: ci_job(),
            project_env: var("AUTHCFG_ENV").filter(|v| !v.is_empty()),
            project_state: var("AUTHCFG_PROJECT_STATE").filter(|v| !v.is_empty()),
            trust_project: var(ENV_TRUST_PROJECT).filter(|v| !v.trim().is_empty()),
            record_usage: !matches!(
                var("AUTHCFG_USAGE")
                    .as_deref()
                    .map(str::to_ascii_lowercase)
                    .as_deref(),
                Some("off" | "0" | "no" | "false")
            ),
            mcp_expose: var("AUTHCFG_MCP_EXPOSE").filter(|v| !v.trim().is_empty()),
            actor: None,
            audit_keep: var("AUTHCFG_AUDIT_KEEP").filter(|v| !v.trim().is_empty()),
            display: Display {
                no_color: anstyle_query::no_color(),
                clicolor_force: anstyle_query::clicolor_force(),
                clicolor_off: anstyle_query::clicolor() == Some(false),
                term_supports_color: anstyle_query::term_supports_color(),
                columns: var("COLUMNS")
                    .and_then(|c| c.trim().parse().ok())
                    .filter(|c| *c > 0),
            },
            bao: BaoSettings::from_env(),
            kms: KmsSettings::from_env(),
        }
    }

    /// `AUTHCFG_HOME`, for shell completion (which runs before the command
    /// line is parsed).
    pub fn store_dir_from_env() -> Option<PathBuf> {
        std::env::var_os("AUTHCFG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    }

    /// Removes key-bearing variables from this process's environment, so
    /// that every child starts without them. `remove_var` alone is not
    /// enough: the kernel shows the environment the process started with
    /// (`/proc/PID/environ`, readable by the user's other processes, a
    /// `$BROWSER` child included), so the values are overwritten in place
    /// first, and the process is made non-dumpable (no core dumps, no
    /// ptrace or /proc reads by processes of the same user).
    ///
    /// Windows has neither: a process's environment block can be read by
    /// the user's other processes as its memory can; the variables are
    /// removed (docs/SECURITY.md, "Windows and macOS").
    #[cfg(windows)]
    pub fn scrub_environment() {
        // Single-threaded at this point (called from main).
        for k in KEY_BEARING {
            std::env::remove_var(k);
        }
    }

    #[cfg(unix)]
    pub fn scrub_environment() {
        unsafe extern "C" {
            static mut environ: *mut *mut libc::c_char;
        }
        // Single-threaded at this point (called from main before any thread
        // is started), and `environ` is not touched concurrently.
        unsafe {
            #[cfg(target_os = "linux")]
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
            let mut p = environ;
            while !p.is_null() && !(*p).is_null() {
                let entry = *p;
                let bytes = std::ffi::CStr::from_ptr(entry).to_bytes();
                if KEY_BEARING.iter().any(|k| {
                    bytes.len() > k.len()
                        && bytes.starts_with(k.as_bytes())
                        && bytes[k.len()] == b'='
                }) {
                    let eq = bytes.iter().position(|&b| b == b'=').expect("has =");
                    for i in eq + 1..bytes.len() {
                        std::ptr::write_volatile(entry.add(i), 0);
                    }
                }
                p = p.add(1);
            }
        }
        for k in KEY_BEARING {
            std::env::remove_var(k);
        }
    }

    /// Settings for library tests: nothing from the environment.
    pub fn empty() -> Settings {
        Settings {
            store_dir: None,
            identity: None,
            identity_file: None,
            passphrase: None,
            keyring: Some("none".into()),
            trust_admin: None,
            refresh_skew: None,
            http_timeout: Duration::from_secs(30),
            lock_timeout: Duration::from_secs(120),
            key_cache: None,
            fault_after: None,
            fault_hold: None,
            exec_guard: None,
            browser: None,
            editor: None,
            github_env: None,
            has_display: false,
            user: "test".into(),
            interactive: false,
            state_dir: None,
            key_file: None,
            helper_bindings: None,
            docker_config: None,
            kubeconfig: vec![],
            kube_exec_info: None,
            path: None,
            consumer_label: None,
            ci_job: None,
            project_env: None,
            project_state: None,
            trust_project: None,
            record_usage: true,
            mcp_expose: None,
            actor: None,
            audit_keep: None,
            display: Display::default(),
            bao: BaoSettings::default(),
            kms: KmsSettings::default(),
        }
    }
}

/// authcfg's directories in the user's home (the XDG base directories), or
/// why there are none. The home must be an absolute path to a directory
/// that exists: authcfg never creates one (a `HOME=/nonexistent` service
/// account, a relative `HOME` that would put a store under the working
/// directory).
pub fn project_dirs() -> Result<directories::ProjectDirs, String> {
    base_dirs()?;
    directories::ProjectDirs::from("", "", "authcfg")
        .ok_or_else(|| "there is no home directory".to_string())
}

/// The user's base directories (`XDG_DATA_HOME`, `XDG_CONFIG_HOME` on
/// Linux), under the same rule as [`project_dirs`]: where `completions
/// install` and `man install` put their files.
pub fn base_dirs() -> Result<directories::BaseDirs, String> {
    let base = directories::BaseDirs::new().ok_or_else(|| {
        "there is no home directory (HOME is not set, and the user has none)".to_string()
    })?;
    let home = base.home_dir();
    if !home.is_absolute() {
        return Err(format!("HOME ({}) is not an absolute path", home.display()));
    }
    if !home.is_dir() {
        return Err(format!(
            "HOME ({}) is not an existing directory",
            home.display()
        ));
    }
    Ok(base)
}

/// The user's home, when it is an absolute directory (`project_dirs`' rule).
fn home() -> Option<PathBuf> {
    let base = directories::BaseDirs::new()?;
    let h = base.home_dir();
    (h.is_absolute() && h.is_dir()).then(|| h.to_path_buf())
}

/// The CI job from the runner's own variables.
fn ci_job() -> Option<String> {
    let nonempty = |k: &str| var(k).filter(|v| !v.trim().is_empty());
    if let Some(repo) = nonempty("GITHUB_REPOSITORY") {
        return Some(match nonempty("GITHUB_WORKFLOW") {
            Some(w) => format!("github:{repo} {w}"),
            None => format!("github:{repo}"),
        });
    }
    if let Some(project) = nonempty("CI_PROJECT_PATH") {
        return Some(match nonempty("CI_JOB_NAME") {
            Some(j) => format!("gitlab:{project} {j}"),
            None => format!("gitlab:{project}"),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    /// Every `AUTHCFG_` variable this file (or the completion
    /// registration) reads is documented in `VARIABLES`; test builds'
    /// fault injection is not for users.
    #[test]
    fn every_variable_is_documented() {
        let documented: Vec<&str> = super::VARIABLES
            .iter()
            .flat_map(|(k, _)| k.split(", "))
            .collect();
        let sources = [
            include_str!("settings.rs"),
            include_str!("cli/completions.rs"),
        ];
        let mut seen = 0;
        for src in sources {
            for (i, _) in src.match_indices("\"AUTHCFG_") {
                let name: String = src[i + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                    .collect();
                if name.starts_with("AUTHCFG_FAULT_") || name == "AUTHCFG_" {
                    continue;
                }
                seen += 1;
                assert!(
                    documented.contains(&name.as_str()),
                    "{name} is not in VARIABLES"
                );
            }
        }
        assert!(seen > 10);
    }
}
