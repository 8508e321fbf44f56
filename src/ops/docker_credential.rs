//! The docker credential-helper protocol (docker-credential-helpers): the
//! client runs `docker-credential-authcfg ACTION` and writes the request
//! on stdin: the server URL for `get` and `erase`, `{"ServerURL",
//! "Username", "Secret"}` for `store`, nothing for `list`. An answer is
//! JSON on stdout; a failure is its message on stdout and a non-zero
//! exit, and the message `credentials not found in native keychain` means
//! "nothing here" (the client goes on without credentials).
//!
//! What authcfg decides (docs/ARCHITECTURE.md, "Container registries and
//! Kubernetes"):
//! - a host answers only when `authcfg docker setup NAME HOST` bound it
//!   (`ops::bindings`); a host in the docker config's `credHelpers` that
//!   no setup bound (a file someone else wrote) gets "not found";
//! - the credential comes from the credential model: a Basic config's
//!   user name and password; a bearer or OAuth2 config's token as the
//!   password (OAuth2 refreshed first, single-flight), with the user name
//!   of `git_credential::username_for`. Never as docker's identity token
//!   (`Username: "<token>"`): that is a refresh token of the registry's
//!   own token server, which an access token from elsewhere is not;
//! - `store` keeps nothing (the secret `docker login` offers is not one
//!   the user asked authcfg to keep): it fails and says how to change the
//!   config; `erase` (`docker logout HOST`) removes the host's binding,
//!   never a config.

use super::bindings::{Bindings, DockerBinding};
use super::credential::{Credential, CredentialError};
use super::git_credential::{self as gc, Target};
use super::Session;
use crate::error::{usage, UserError};
use crate::store::usage::{Consumer, ConsumerKind};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// The helper's answer when it has nothing for a host (the client's
/// `IsErrCredentialsNotFoundMessage` compares with it).
pub const NOT_FOUND: &str = "credentials not found in native keychain";

/// The largest request read (a server URL, or `store`'s JSON).
pub const MAX_REQUEST: usize = 64 << 10;

/// The largest docker config or kubeconfig read.
pub const MAX_CONFIG: u64 = 16 << 20;

/// The name of the helper, as docker config's `credHelpers` value names it.
pub const HELPER: &str = "authcfg";

/// The registry host of a server URL as docker and containers/image give
/// it (`HOST[:PORT]`, `https://HOST/v1/`): lower case, no scheme, no path.
pub fn host_of(server_url: &str) -> Result<String, String> {
    let raw = server_url.trim();
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .unwrap_or(raw);
    let host = rest
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let ok = !host.is_empty()
        && host.len() <= 255
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '_'));
    if !ok {
        return Err(format!("'{}' is not a registry host", raw.escape_debug()));
    }
    Ok(host)
}

/// What `get` answers.
pub enum Answer {
    Found {
        username: String,
        secret: Zeroizing<String>,
    },
    /// "credentials not found"; why, for stderr (never a secret).
    NotFound(Option<String>),
}

/// Answers `get` for `host`, bound to `b`, its store open in `s`.
pub fn get(s: &Session, host: &str, b: &DockerBinding) -> anyhow::Result<Answer> {
    let name = b.config.as_str();
    let mut used = match super::handout::read_for_use(s, &[name.to_string()], "docker-credential") {
        Ok(u) => u,
        Err(e) => {
            let (exit, _) = crate::error::classify(&e);
            return Ok(Answer::NotFound(Some(
                if exit == crate::error::Exit::OAuth {
                    format!("'{name}' needs a new authorization ({e}); run: authcfg reauth {name}")
                } else {
                    format!("cannot read '{name}': {e:#}")
                },
            )));
        }
    };
    let doc = used.docs[0].clone();
    // The origin rule `http` asks, against the config's own origins.
    let target = Target::parse(host)?;
    if let Err(e) = gc::check_origin(&doc, &target) {
        return Ok(Answer::NotFound(Some(e.message)));
    }
    let credential = match Credential::of(&doc) {
        Ok(c) => c,
        Err(e @ (CredentialError::Empty { .. } | CredentialError::Invalid { .. })) => {
            return Ok(Answer::NotFound(Some(UserError::from(e).message)))
        }
        Err(e) => return Err(UserError::from(e).into()),
    };
    let (secret, _) = match credential.git_password() {
        Ok(p) => p,
        Err(_) => {
            return Ok(Answer::NotFound(Some(format!(
                "'{name}' ({}) cannot answer a registry: only OAuth2, bearer and basic configs can",
                doc.meta.type_id
            ))))
        }
    };
    let Some(username) = gc::username_for(&credential, b.username.as_deref()) else {
        return Ok(Answer::NotFound(Some(format!(
            "'{name}' has no user name; set one with `authcfg docker setup {name} {host} --username NAME`"
        ))));
    };
    let c = super::handout::consumer(s.settings, None, &[name]);
    used.consumer = Some(if c.kind == ConsumerKind::Direct {
        Consumer::label(&format!("docker:{host}"))
    } else {
        c
    });
    used.record(s)?;
    Ok(Answer::Found {
        username,
        secret: Zeroizing::new(secret.to_string()),
    })
}

/// `get`'s JSON.
pub fn found_json(server_url: &str, username: &str, secret: &str) -> Zeroizing<String> {
    Zeroizing::new(
        json!({ "ServerURL": server_url, "Username": username, "Secret": secret }).to_string(),
    )
}

/// `list`: every bound host and the user name it answers with (as at setup).
pub fn list(b: &Bindings) -> Value {
    Value::Object(
        b.docker
            .iter()
            .map(|(h, d)| (h.clone(), Value::String(d.shown.clone())))
            .collect(),
    )
}

/// `erase` (`docker logout HOST`): the host's binding is removed (never
/// the config). Whether there was one.
pub fn erase(bindings_file: Option<&Path>, host: &str) -> anyhow::Result<Option<DockerBinding>> {
    let mut b = Bindings::load(bindings_file)?;
    let gone = b.docker.remove(host);
    if gone.is_some() {
        b.save(bindings_file)?;
    }
    Ok(gone)
}

/// What `docker setup` did.
pub struct SetupDone {
    pub host: String,
    pub docker_config: PathBuf,
    /// The host already had credentials written into the docker config
    /// (`auths`): left there, but no longer used by docker.
    pub inline_auth: bool,
    /// The previous binding of the host, when it was another config's.
    pub replaced: Option<String>,
}

/// `authcfg docker setup NAME HOST`: checks the config can answer a
/// registry, records the binding, and adds `credHelpers[HOST] =
/// "authcfg"` to the docker config (merged into the file as it is, all
/// other keys kept, written atomically).
pub fn setup(
    s: &Session,
    name: &str,
    host: &str,
    username: Option<&str>,
) -> anyhow::Result<SetupDone> {
    let host = host_of(host).map_err(usage)?;
    let doc = s.store.read(name)?;
    gc::check(&doc, username)?;
    gc::check_origin(&doc, &Target::parse(&host)?)?;
    if let Some(u) = username {
        if u.is_empty() || u.chars().any(char::is_control) {
            return Err(usage("--username must be one line of text").into());
        }
    }
    let shown = match Credential::of(&doc) {
        Ok(c) => gc::username_for(&c, username).unwrap_or_default(),
        Err(_) => username.unwrap_or("oauth2").to_string(),
    };
    let file = s
        .settings
        .docker_config
        .clone()
        .ok_or_else(|| usage("no docker config: set DOCKER_CONFIG or HOME"))?;
    // The bindings are read first: when authcfg's file cannot be, the
    // docker config is not changed.
    let path = s.settings.helper_bindings.as_deref();
    let mut b = Bindings::load(path)?;
    let inline_auth = write_cred_helper(&file, &host)?;
    let store = std::path::absolute(s.store.root())?;
    let previous = b.docker.insert(
        host.clone(),
        DockerBinding {
            config: name.to_string(),
            store,
            username: username.map(str::to_string),
            shown,
        },
    );
    b.save(path)?;
    s.audit("docker setup", Some(name), "ok", Some(&host));
    Ok(SetupDone {
        host,
        docker_config: file,
        inline_auth,
        replaced: previous.map(|p| p.config).filter(|c| c != name),
    })
}

/// Sets `credHelpers[host] = "authcfg"` in the docker config at `file`,
/// keeping everything else. Whether `auths` holds the host.
fn write_cred_helper(file: &Path, host: &str) -> anyhow::Result<bool> {
    let text = match std::fs::symlink_metadata(file) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        _ => crate::input::read_text(file, "the docker config", MAX_CONFIG)?,
    };
    let mut config: Value = if text.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(&text).map_err(|e| {
            usage(format!(
                "{}: not JSON ({e}); fix or move it first",
                file.display()
            ))
        })?
    };
    let Some(obj) = config.as_object_mut() else {
        return Err(usage(format!("{}: not a JSON object", file.display())).into());
    };
    let helpers = obj.entry("credHelpers").or_insert_with(|| json!({}));
    let Some(helpers) = helpers.as_object_mut() else {
        return Err(usage(format!("{}: credHelpers is not an object", file.display())).into());
    };
    helpers.insert(host.to_string(), json!(HELPER));
    let inline = obj
        .get("auths")
        .and_then(Value::as_object)
        .is_some_and(|a| a.keys().any(|k| host_of(k).is_ok_and(|h| h == host)));
    let mut text = serde_json::to_vec_pretty(&config)?;
    text.push(b'\n');
    super::bindings::write_tool_file(file, &text)?;
    Ok(inline)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_normalised() {
        assert_eq!(host_of("127.0.0.1:5000").unwrap(), "127.0.0.1:5000");
        assert_eq!(
            host_of("https://index.docker.io/v1/").unwrap(),
            "index.docker.io"
        );
        assert_eq!(
            host_of(" Registry.Example.COM \n").unwrap(),
            "registry.example.com"
        );
        assert!(host_of("").is_err());
        assert!(host_of("a b").is_err());
        assert!(host_of("user@host").is_err());
        assert!(host_of("host\nx").is_err());
    }
}
