//! kubectl's exec credential plugin (client.authentication.k8s.io, the
//! `ExecCredential` kind, versions v1beta1 and v1): kubectl runs the
//! command of a kubeconfig user's `exec` stanza, with the request in
//! `KUBERNETES_EXEC_INFO`, and reads `{"apiVersion", "kind":
//! "ExecCredential", "status": {"token", "expirationTimestamp"}}` from
//! stdout; a failure is a non-zero exit (what it printed on stderr is
//! shown to the user).
//!
//! What authcfg decides (docs/ARCHITECTURE.md, "Container registries and
//! Kubernetes"):
//! - a token goes only to the cluster `kube setup NAME CONTEXT` bound
//!   (`ops::bindings`), reached the way it was then: the stanza asks for
//!   the cluster (`provideClusterInfo: true`) and a `server`, CA bundle,
//!   `tls-server-name`, `proxy-url` or `insecure-skip-tls-verify` other
//!   than the bound ones gets nothing, so a context added later (a
//!   kubeconfig merged from someone else) that reuses authcfg's user does
//!   not get the token, neither for another server nor for the same server
//!   through another proxy or trust;
//! - the token is the credential model's (`Credential::of`): a bearer
//!   config's token, an OAuth2 config's access token (refreshed first,
//!   single-flight), sent by kubectl as `Authorization: Bearer`;
//! - `expirationTimestamp` is when authcfg would refresh (the access
//!   token's expiry less the refresh skew), so kubectl asks again then and
//!   gets a new token;
//! - `interactiveMode: Never`: nothing is asked at a terminal, no browser.

use super::bindings::{Bindings, KubeBinding, KubeConnection};
use super::credential::{Credential, CredentialError, How};
use super::git_credential::{self as gc, Target};
use super::Session;
use crate::error::{failure, usage, UserError};
use crate::model::{ConfigDoc, Kind};
use crate::store::usage::{Consumer, ConsumerKind};
use base64::Engine;
use serde_json::{json, Value};
use serde_yaml_ng::{Mapping, Value as Yaml};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

pub const V1: &str = "client.authentication.k8s.io/v1";
pub const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";

/// What kubectl asked for (`KUBERNETES_EXEC_INFO`).
#[derive(Debug, PartialEq, Eq)]
pub struct ExecInfo {
    pub api_version: String,
    /// The cluster's server (`provideClusterInfo: true`).
    pub server: Option<String>,
    /// How kubectl reaches it (the rest of `spec.cluster`).
    pub connection: KubeConnection,
    /// Whether kubectl gave the request (not a person at a shell).
    pub from_kubectl: bool,
}

impl ExecInfo {
    /// Parses `KUBERNETES_EXEC_INFO`; without it (a person trying the
    /// command), v1 and no cluster.
    pub fn parse(raw: Option<&str>) -> Result<ExecInfo, UserError> {
        let Some(raw) = raw else {
            return Ok(ExecInfo {
                api_version: V1.into(),
                server: None,
                connection: KubeConnection::default(),
                from_kubectl: false,
            });
        };
        let v: Value =
            serde_json::from_str(raw).map_err(|_| usage("KUBERNETES_EXEC_INFO is not JSON"))?;
        let api_version = v["apiVersion"].as_str().unwrap_or_default();
        if api_version != V1 && api_version != V1BETA1 {
            return Err(usage(format!(
                "KUBERNETES_EXEC_INFO asks for {}: authcfg answers {V1} and {V1BETA1}",
                crate::text::Outside::new(api_version.to_string())
            )));
        }
        let cluster = &v["spec"]["cluster"];
        let text = |k: &str| {
            cluster[k]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(str::to_string)
        };
        // kubectl sends the CA bundle's bytes (the file's, when the
        // kubeconfig names a file), base64 as JSON has []byte.
        let ca_sha256 = match text("certificate-authority-data") {
            None => None,
            Some(b64) => Some(ca_digest(
                &base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|_| {
                        usage("KUBERNETES_EXEC_INFO: certificate-authority-data is not base64")
                    })?,
            )),
        };
        Ok(ExecInfo {
            api_version: api_version.to_string(),
            server: text("server"),
            connection: KubeConnection {
                ca_sha256,
                tls_server_name: text("tls-server-name"),
                proxy_url: text("proxy-url"),
                insecure_skip_tls_verify: cluster["insecure-skip-tls-verify"]
                    .as_bool()
                    .unwrap_or(false),
            },
            from_kubectl: true,
        })
    }
}

fn ca_digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Two proxy URLs name the same proxy: compared parsed (kubectl passes
/// the one it parsed, re-serialized), else as written.
fn same_proxy(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// What of kubectl's connection differs from the one bound at setup (the
/// names of kubeconfig's fields); empty when it is the same.
fn differences(bound: &KubeConnection, seen: &KubeConnection) -> Vec<&'static str> {
    let mut d = vec![];
    if bound.ca_sha256 != seen.ca_sha256 {
        d.push("certificate-authority");
    }
    if bound.tls_server_name != seen.tls_server_name {
        d.push("tls-server-name");
    }
    let proxy = match (&bound.proxy_url, &seen.proxy_url) {
        (None, None) => true,
        (Some(a), Some(b)) => same_proxy(a, b),
        _ => false,
    };
    if !proxy {
        d.push("proxy-url");
    }
    if bound.insecure_skip_tls_verify != seen.insecure_skip_tls_verify {
        d.push("insecure-skip-tls-verify");
    }
    d
}

fn same_server(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}

/// The token kubectl sends as `Authorization: Bearer`: a token credential
/// in `Authorization` with no prefix but `Bearer`.
fn bearer(doc: &ConfigDoc) -> Result<Zeroizing<String>, UserError> {
    let credential = Credential::of(doc).map_err(UserError::from)?;
    match &credential.how {
        How::Token {
            header,
            prefix,
            token,
        } if header.eq_ignore_ascii_case("authorization")
            && (prefix.trim().is_empty() || prefix.trim().eq_ignore_ascii_case("bearer")) =>
        {
            Ok(token.clone())
        }
        _ => Err(usage(format!(
            "'{}' ({}) has no bearer token: kubectl's exec plugin takes OAuth2/OIDC and bearer configs",
            doc.meta.name, doc.meta.type_id
        ))),
    }
}

/// The ExecCredential for `name` as the user of `context`.
pub fn credential(
    s: &Session,
    name: &str,
    context: &str,
    info: &ExecInfo,
) -> anyhow::Result<Zeroizing<String>> {
    let bindings = Bindings::load(s.settings.helper_bindings.as_deref())?;
    let not_bound = || {
        usage(format!(
            "the kubectl context '{}' is not bound to '{name}'",
            crate::text::Outside::new(context.to_string())
        ))
        .hint(format!("authcfg kube setup {name} CONTEXT"))
    };
    let b = bindings
        .kube
        .get(context)
        .filter(|b| b.config == name)
        .ok_or_else(not_bound)?;
    let again = || format!("authcfg kube setup {name} {context}");
    let Some(bound) = &b.connection else {
        return Err(usage(format!(
            "the kubectl context '{}' was set up for '{name}' before authcfg pinned the cluster's connection (CA, proxy, TLS name): no token",
            crate::text::Outside::new(context.to_string())
        ))
        .hint(format!("run `{}` again", again()))
        .into());
    };
    match (&info.server, info.from_kubectl) {
        (Some(server), _) if !same_server(server, &b.server) => {
            return Err(usage(format!(
                "the cluster {} is not the one '{name}' was set up for ({}): no token",
                crate::text::Outside::new(server.clone()),
                crate::text::Outside::new(b.server.clone())
            ))
            .hint(format!(
                "if the cluster moved, run `authcfg kube setup {name} {context}` again"
            ))
            .into())
        }
        (Some(_), _) if !differences(bound, &info.connection).is_empty() => {
            return Err(usage(format!(
                "kubectl reaches the cluster {} otherwise than when '{name}' was set up for it ({} changed): no token",
                crate::text::Outside::new(b.server.clone()),
                differences(bound, &info.connection).join(", ")
            ))
            .hint(format!(
                "if you changed the cluster's entry yourself, run `{}` again",
                again()
            ))
            .into())
        }
        (None, true) => {
            return Err(usage(
                "kubectl did not say which cluster the token is for (the user's exec stanza needs `provideClusterInfo: true`)",
            )
            .hint(format!("authcfg kube setup {name} {context}"))
            .into())
        }
        _ => {}
    }
    let mut used = super::handout::read_for_use(s, &[name.to_string()], "kube-credential")?;
    let doc = &used.docs[0];
    gc::check_origin(doc, &Target::parse(&b.server)?)?;
    let token = bearer(doc)?;
    let expires = (doc.meta.kind == Kind::Oauth2)
        .then_some(doc.meta.expires)
        .flatten()
        .map(|e| e - crate::oauth::tokens::skew(doc, s.settings.refresh_skew));
    let mut status = json!({ "token": token.as_str() });
    if let Some(e) = expires {
        let at = e
            .replace_nanosecond(0)
            .unwrap_or(e)
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| failure(e.to_string()))?;
        status["expirationTimestamp"] = json!(at);
    }
    let c = super::handout::consumer(s.settings, None, &[name]);
    used.consumer = Some(if c.kind == ConsumerKind::Direct {
        Consumer::label(&format!("kubectl:{context}"))
    } else {
        c
    });
    used.record(s)?;
    let out = json!({
        "apiVersion": info.api_version,
        "kind": "ExecCredential",
        "status": status,
    });
    let text = Zeroizing::new(out.to_string());
    drop(out);
    Ok(text)
}

/// What `kube setup` did.
pub struct SetupDone {
    pub file: PathBuf,
    pub user: String,
    /// From the kubeconfig: shown escaped.
    pub server: crate::text::Outside,
}

/// The largest CA bundle file read at setup.
const MAX_CA: u64 = 1 << 20;

/// The connection a kubeconfig cluster entry (`clusters[].cluster`) gives
/// kubectl, as kubectl will report it in `KUBERNETES_EXEC_INFO`: a CA
/// file is read (relative to the kubeconfig's directory, as kubectl
/// resolves it); `certificate-authority-data` wins over it, as in kubectl.
fn connection_of(cluster: &Mapping, file: &Path) -> anyhow::Result<KubeConnection> {
    let text = |k: &str| {
        cluster
            .get(k)
            .and_then(Yaml::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    let ca_sha256 = match (
        text("certificate-authority-data"),
        text("certificate-authority"),
    ) {
        (Some(b64), _) => Some(ca_digest(
            &base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| {
                    usage(format!(
                        "{}: the cluster's certificate-authority-data is not base64",
                        file.display()
                    ))
                })?,
        )),
        (None, Some(ca)) => {
            let ca = Path::new(&ca);
            let ca = match file.parent() {
                Some(dir) if ca.is_relative() => dir.join(ca),
                _ => ca.to_path_buf(),
            };
            Some(ca_digest(&crate::input::read(
                &ca,
                "the cluster's certificate-authority",
                MAX_CA,
            )?))
        }
        (None, None) => None,
    };
    Ok(KubeConnection {
        ca_sha256,
        tls_server_name: text("tls-server-name"),
        proxy_url: text("proxy-url"),
        insecure_skip_tls_verify: cluster
            .get("insecure-skip-tls-verify")
            .and_then(Yaml::as_bool)
            .unwrap_or(false),
    })
}

fn key(k: &str) -> Yaml {
    Yaml::String(k.to_string())
}

/// The entry named `name` in the list `list` of the kubeconfig.
fn entry<'a>(root: &'a mut Mapping, list: &str, name: &str) -> Option<&'a mut Mapping> {
    root.get_mut(list)?
        .as_sequence_mut()?
        .iter_mut()
        .filter_map(Yaml::as_mapping_mut)
        .find(|m| m.get("name").and_then(Yaml::as_str) == Some(name))
}

fn read_yaml(path: &Path) -> anyhow::Result<Option<Mapping>> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        _ => {}
    }
    let text =
        crate::input::read_text(path, "the kubeconfig", super::docker_credential::MAX_CONFIG)?;
    if text.trim().is_empty() {
        return Ok(Some(Mapping::new()));
    }
    let v: Yaml = serde_yaml_ng::from_str(&text)
        .map_err(|e| usage(format!("{}: not YAML ({e})", path.display())))?;
    match v {
        Yaml::Mapping(m) => Ok(Some(m)),
        Yaml::Null => Ok(Some(Mapping::new())),
        _ => Err(usage(format!("{}: not a kubeconfig", path.display())).into()),
    }
}

/// kubectl's lock on a kubeconfig it writes (`FILE.lock`, created
/// exclusively), held while this writes.
struct KubeLock(PathBuf);

impl KubeLock {
    fn take(file: &Path) -> anyhow::Result<KubeLock> {
        let mut p = file.as_os_str().to_owned();
        p.push(".lock");
        let p = PathBuf::from(p);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
            .map_err(|e| {
                failure(format!("cannot lock {}: {e}", file.display())).hint(format!(
                    "another program is writing it; if none is, remove {}",
                    p.display()
                ))
            })?;
        Ok(KubeLock(p))
    }
}

impl Drop for KubeLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `authcfg kube setup NAME CONTEXT`: the context's user becomes
/// `authcfg-NAME`, whose `exec` stanza runs `exe --store STORE kube
/// credential NAME --context CONTEXT`; written into the kubeconfig file
/// that holds the context (entries and keys kept, atomically, under
/// kubectl's lock); the binding recorded with the cluster's server and
/// connection. A cluster with `insecure-skip-tls-verify: true` only with
/// `allow_insecure` (anyone on the path could take the token).
pub fn setup(
    s: &Session,
    name: &str,
    context: &str,
    api_version: &str,
    exe: &Path,
    allow_insecure: bool,
) -> anyhow::Result<SetupDone> {
    let doc = s.store.read(name)?;
    match bearer(&doc) {
        Ok(_) => {}
        // An OAuth2 config whose token is not there yet: `credential`
        // refreshes it first.
        Err(_)
            if matches!(
                Credential::of(&doc),
                Err(CredentialError::Empty { provider: true, .. })
            ) => {}
        Err(e) => return Err(e.into()),
    }
    let mut found = None;
    for f in &s.settings.kubeconfig {
        if let Some(mut m) = read_yaml(f)? {
            if entry(&mut m, "contexts", context).is_some() {
                found = Some(f.clone());
                break;
            }
        }
    }
    let file = found.ok_or_else(|| {
        usage(format!(
            "there is no context '{}' in the kubeconfig ({})",
            crate::text::Outside::new(context.to_string()),
            s.settings
                .kubeconfig
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .hint("create it first: kubectl config set-cluster, kubectl config set-context")
    })?;
    // The bindings are read first: when authcfg's file cannot be, the
    // kubeconfig is not changed.
    let bindings_path = s.settings.helper_bindings.as_deref();
    let mut b = Bindings::load(bindings_path)?;
    let _lock = KubeLock::take(&file)?;
    let mut root = read_yaml(&file)?.unwrap_or_default();
    let ctx =
        entry(&mut root, "contexts", context).ok_or_else(|| failure("the context went away"))?;
    let ctx = ctx
        .entry(key("context"))
        .or_insert_with(|| Yaml::Mapping(Mapping::new()))
        .as_mapping_mut()
        .ok_or_else(|| usage(format!("{}: the context is not a mapping", file.display())))?;
    let cluster = ctx
        .get("cluster")
        .and_then(Yaml::as_str)
        .ok_or_else(|| {
            usage(format!(
                "the context '{}' names no cluster",
                crate::text::Outside::new(context.to_string())
            ))
        })?
        .to_string();
    let user = format!("authcfg-{name}");
    ctx.insert(key("user"), Yaml::String(user.clone()));
    let cluster_entry = entry(&mut root, "clusters", &cluster)
        .and_then(|c| c.get("cluster")?.as_mapping())
        .cloned();
    let server = cluster_entry
        .as_ref()
        .and_then(|c| c.get("server")?.as_str().map(str::to_string))
        .ok_or_else(|| {
            usage(format!(
                "the cluster '{}' of the context '{}' is not in {} (or has no server)",
                crate::text::Outside::new(cluster.clone()),
                crate::text::Outside::new(context.to_string()),
                file.display()
            ))
        })?;
    if server.chars().any(char::is_control) {
        return Err(usage(format!(
            "the cluster '{}' has a server with control characters ({}): not a URL authcfg binds",
            crate::text::Outside::new(cluster.clone()),
            crate::text::Outside::new(server.clone())
        ))
        .into());
    }
    let connection = connection_of(cluster_entry.as_ref().unwrap_or(&Mapping::new()), &file)?;
    if connection.insecure_skip_tls_verify && !allow_insecure {
        return Err(usage(format!(
            "the cluster '{}' has insecure-skip-tls-verify: true: whoever is on the way to it could take the token",
            crate::text::Outside::new(cluster.clone())
        ))
        .hint("give the cluster its CA (certificate-authority-data), or pass --allow-insecure-skip-tls-verify")
        .into());
    }
    let target = Target::parse(&server)?;
    gc::check_origin(&doc, &target)?;
    let store = std::path::absolute(s.store.root())?;
    let args: Vec<Yaml> = [
        "--store",
        &store.to_string_lossy(),
        "kube",
        "credential",
        name,
        "--context",
        context,
    ]
    .iter()
    .map(|a| Yaml::String(a.to_string()))
    .collect();
    let mut exec = Mapping::new();
    exec.insert(key("apiVersion"), Yaml::String(api_version.to_string()));
    exec.insert(
        key("command"),
        Yaml::String(exe.to_string_lossy().into_owned()),
    );
    exec.insert(key("args"), Yaml::Sequence(args));
    exec.insert(key("interactiveMode"), key("Never"));
    exec.insert(key("provideClusterInfo"), Yaml::Bool(true));
    let mut body = Mapping::new();
    body.insert(key("exec"), Yaml::Mapping(exec));
    let users = root
        .entry(key("users"))
        .or_insert_with(|| Yaml::Sequence(vec![]));
    if users.is_null() {
        *users = Yaml::Sequence(vec![]);
    }
    let users = users
        .as_sequence_mut()
        .ok_or_else(|| usage(format!("{}: users is not a list", file.display())))?;
    users.retain(|u| u.get("name").and_then(Yaml::as_str) != Some(user.as_str()));
    let mut u = Mapping::new();
    u.insert(key("name"), Yaml::String(user.clone()));
    u.insert(key("user"), Yaml::Mapping(body));
    users.push(Yaml::Mapping(u));
    let text = serde_yaml_ng::to_string(&Yaml::Mapping(root))?;
    super::bindings::write_tool_file(&file, text.as_bytes())?;
    b.kube.insert(
        context.to_string(),
        KubeBinding {
            config: name.to_string(),
            store,
            server: server.clone(),
            connection: Some(connection),
        },
    );
    b.save(bindings_path)?;
    s.audit(
        "kube setup",
        Some(name),
        "ok",
        Some(&format!("{context} ({server})")),
    );
    Ok(SetupDone {
        file,
        user,
        server: crate::text::Outside::new(server),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_info_versions() {
        let i = ExecInfo::parse(Some(
            r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"cluster":{"server":"https://127.0.0.1:6443"},"interactive":false}}"#,
        ))
        .unwrap();
        assert_eq!(i.api_version, V1BETA1);
        assert_eq!(i.server.as_deref(), Some("https://127.0.0.1:6443"));
        assert_eq!(i.connection, KubeConnection::default());
        let i = ExecInfo::parse(Some(
            r#"{"apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://a:1","certificate-authority-data":"Y2E=","tls-server-name":"n","proxy-url":"http://127.0.0.1:9","insecure-skip-tls-verify":true}}}"#,
        ))
        .unwrap();
        let mut bound = KubeConnection {
            ca_sha256: Some(ca_digest(b"ca")),
            tls_server_name: Some("n".into()),
            proxy_url: Some("http://127.0.0.1:9/".into()),
            insecure_skip_tls_verify: true,
        };
        assert!(differences(&bound, &i.connection).is_empty());
        bound.proxy_url = None;
        bound.insecure_skip_tls_verify = false;
        assert_eq!(
            differences(&bound, &i.connection),
            ["proxy-url", "insecure-skip-tls-verify"]
        );
        assert!(
            ExecInfo::parse(Some(r#"{"apiVersion":"client.authentication.k8s.io/v2"}"#)).is_err()
        );
        assert!(ExecInfo::parse(Some("nope")).is_err());
        assert_eq!(ExecInfo::parse(None).unwrap().api_version, V1);
        assert!(same_server("https://a:6443/", "https://A:6443"));
        assert!(!same_server("https://a:6443", "https://a:6444"));
    }
}
