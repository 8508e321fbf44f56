//! Which config answers which tool (docs/ARCHITECTURE.md, "Container
//! registries and Kubernetes"): docker runs its credential helper with no
//! argument but the registry host, and a kubeconfig can point a context
//! at any cluster, so what a config may answer is recorded by authcfg
//! itself at `docker setup` / `kube setup`, in
//! `$XDG_CONFIG_HOME/authcfg/helpers.json` (0600), never read from the
//! tool's own configuration. A host or cluster not recorded there gets
//! nothing.

use crate::error::{failure, UserError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The largest bindings file read.
const MAX: u64 = 1 << 20;

/// A registry host bound to a config.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DockerBinding {
    pub config: String,
    /// The store the config is in (absolute).
    pub store: PathBuf,
    /// `docker setup --username`: the user name sent with a token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The user name `list` shows (as at setup; never a secret).
    #[serde(default)]
    pub shown: String,
}

/// A kubectl context bound to a config and its cluster's connection.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct KubeBinding {
    pub config: String,
    pub store: PathBuf,
    /// The cluster's `server` at setup: the only one the token goes to.
    pub server: String,
    /// How kubectl reaches that server, as at setup: the token goes
    /// through no other. `None`: recorded before authcfg pinned it (such a
    /// binding answers nothing until `kube setup` runs again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<KubeConnection>,
}

/// The rest of a cluster's connection identity (docs/SECURITY.md,
/// "Container registries and Kubernetes"): what kubectl trusts and what
/// it goes through, with the field names of client.authentication's
/// `Cluster` (what kubectl passes in `KUBERNETES_EXEC_INFO`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct KubeConnection {
    /// SHA-256 (hex) of the CA bundle kubectl verifies the server with
    /// (`certificate-authority-data`, or the `certificate-authority`
    /// file's contents); `None`: the system's roots.
    #[serde(default)]
    pub ca_sha256: Option<String>,
    /// `tls-server-name`: the name the server's certificate must hold.
    #[serde(default)]
    pub tls_server_name: Option<String>,
    /// `proxy-url`: the proxy kubectl connects through.
    #[serde(default)]
    pub proxy_url: Option<String>,
    /// `insecure-skip-tls-verify`.
    #[serde(default)]
    pub insecure_skip_tls_verify: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Bindings {
    /// Registry host (`host[:port]`, lower case) → config.
    #[serde(default)]
    pub docker: BTreeMap<String, DockerBinding>,
    /// kubectl context → config.
    #[serde(default)]
    pub kube: BTreeMap<String, KubeBinding>,
}

fn no_file() -> UserError {
    failure("there is no home directory for authcfg's helper bindings")
        .hint("set HOME (or XDG_CONFIG_HOME)")
}

impl Bindings {
    /// The recorded bindings (none when the file does not exist). The file
    /// is authcfg's own: one other users can write is refused.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Bindings> {
        let Some(path) = path else {
            return Ok(Bindings::default());
        };
        let bytes = match crate::store::fsutil::read_private_max(path, MAX) {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(Bindings::default()),
            Err(e) => return Err(failure(format!("cannot read {}: {e}", path.display())).into()),
        };
        serde_json::from_slice(&bytes)
            .map_err(|e| failure(format!("{}: not authcfg's bindings: {e}", path.display())).into())
    }

    /// Writes the bindings atomically (0600; a new directory 0700).
    pub fn save(&self, path: Option<&Path>) -> anyhow::Result<()> {
        let path = path.ok_or_else(no_file)?;
        let dir = path.parent().ok_or_else(no_file)?;
        crate::store::fsutil::create_dirs(dir)
            .map_err(|e| failure(format!("cannot create {}: {e}", dir.display())))?;
        let mut text = serde_json::to_vec_pretty(self)?;
        text.push(b'\n');
        crate::store::fsutil::write_atomic(path, &text)
            .map_err(|e| failure(format!("cannot write {}: {e}", path.display())))?;
        Ok(())
    }
}

/// Writes a tool's own configuration (the docker config, a kubeconfig)
/// atomically: a temp file beside it, renamed over it. A link there (a
/// dotfile manager's) is followed, so the link stays and its target
/// changes.
pub fn write_tool_file(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    let target = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path)
            .map_err(|e| failure(format!("cannot follow {}: {e}", path.display())))?,
        _ => path.to_path_buf(),
    };
    if let Some(dir) = target.parent() {
        crate::store::fsutil::create_dirs(dir)
            .map_err(|e| failure(format!("cannot create {}: {e}", dir.display())))?;
    }
    crate::store::fsutil::write_atomic(&target, data)
        .map_err(|e| failure(format!("cannot write {}: {e}", target.display())).into())
}
