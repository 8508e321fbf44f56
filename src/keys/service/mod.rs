//! Key custody (docs/ARCHITECTURE.md, "Key services"): a recipient whose
//! X25519 identity exists only sealed by a key service (OpenBao / Vault
//! transit; AWS KMS beside it). The header lists the recipient's ordinary
//! `age1…` public key with a `custody` entry: the service, its key, and
//! the sealed identity. Everything else in the store (store keys, configs,
//! roles, groups, pins) works unchanged; opening asks the service to
//! unseal the identity.
//!
//! The sealed plaintext is a versioned blob bound to the store
//! (`authcfg-custody-v1\0STORE-ID\0AGE-SECRET-KEY-1…`): an answer that is
//! another store's identity, or not the recipient's, is refused
//! (docs/SECURITY.md, "Key services").
//!
//! The service is reached with the reader's own settings (`settings.rs`):
//! address, credentials and CA never come from the store, whose header is
//! not verified yet when the key is looked up.

pub mod awskms;
pub mod bao;
pub mod plugin;

use crate::error::{usage, UserError};
use crate::settings::Settings;
use crate::store::header::{Custody, Recipient};
use age::x25519;
use zeroize::Zeroizing;

/// What a key service does for authcfg. Each call is one request (after a
/// login, for AppRole); failures are `UserError`s that never hold the
/// token, the plaintext or the server's words unescaped.
pub trait KeyService {
    /// Seals `plaintext` with the service's key: its ciphertext.
    fn wrap(&self, plaintext: &[u8]) -> Result<String, UserError>;
    /// Opens a ciphertext of `wrap`.
    fn unwrap(&self, sealed: &str) -> Result<Zeroizing<Vec<u8>>, UserError>;
    /// Re-seals a ciphertext under the key's newest version, without the
    /// plaintext leaving the service.
    fn rewrap(&self, sealed: &str) -> Result<String, UserError>;
    /// Whether the service is reachable and these credentials may unwrap:
    /// a sentence for `doctor`.
    fn check(&self) -> Result<String, UserError>;
    /// The service and key, for messages (`OpenBao transit key runner at
    /// https://…`).
    fn describe(&self) -> String;
}

/// The services a custody entry may name.
pub const SERVICES: &[&str] = &["bao", "awskms", "plugin"];

/// The first bytes of every custody blob (its version).
const BLOB_PREFIX: &[u8] = b"authcfg-custody-v1\0";

/// A `recipients add` argument naming a key-service key: `bao:transit/keys/NAME`.
/// `None` when `spec` names no service (an age recipient).
pub fn parse_spec(spec: &str) -> Option<Result<(String, String), UserError>> {
    let (service, key) = spec.split_once(':')?;
    if !SERVICES.contains(&service) {
        return None;
    }
    Some(match service {
        "bao" => bao::check_key_path(key).map(|_| (service.to_string(), key.to_string())),
        "awskms" => awskms::parse_arn(key).map(|_| (service.to_string(), key.to_string())),
        "plugin" => plugin::check_recipient(key).map(|_| (service.to_string(), key.to_string())),
        _ => unreachable!("listed in SERVICES"),
    })
}

/// The service a custody entry names, reached with the reader's settings
/// (`addr`, when given, is the admin's `--addr` for `recipients add`), for
/// the store `store_id` (AWS KMS binds every ciphertext to it with its
/// encryption context).
pub fn open(
    custody: &Custody,
    settings: &Settings,
    addr: Option<&str>,
    store_id: &str,
) -> Result<Box<dyn KeyService>, UserError> {
    match custody.service.as_str() {
        "bao" => Ok(Box::new(bao::Bao::new(
            &settings.bao,
            &custody.key,
            addr,
            request_timeout(settings),
        )?)),
        "awskms" => {
            if addr.is_some() {
                return Err(usage("--addr is for an OpenBao / Vault recipient (bao:...)")
                    .hint("AWS KMS is reached at AUTHCFG_KMS_ENDPOINT (AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL), else the key's region"));
            }
            Ok(Box::new(awskms::AwsKms::new(
                &settings.kms,
                &custody.key,
                store_id,
                request_timeout(settings),
            )?))
        }
        "plugin" => Ok(Box::new(plugin::Plugin::new(&custody.key, None, None)?)),
        other => Err(usage(format!(
            "the key service '{}' is not known to this authcfg",
            crate::text::escape(other, 40)
        ))
        .hint(format!("known services: {}", SERVICES.join(", ")))),
    }
}

/// Each request to a key service: `AUTHCFG_HTTP_TIMEOUT`, at most 10 s
/// (a header may list several custodies, each tried in turn).
fn request_timeout(settings: &Settings) -> std::time::Duration {
    settings
        .http_timeout
        .min(std::time::Duration::from_secs(10))
}

/// Whether the reader's settings configure this service at all.
pub fn configured(service: &str, settings: &Settings) -> bool {
    match service {
        "bao" => settings.bao.configured(),
        "awskms" => awskms::configured(&settings.kms),
        _ => false,
    }
}

/// Whether the reader's settings configure any key service (a runner
/// without a key of its own may still be one's recipient).
pub fn any_configured(settings: &Settings) -> bool {
    SERVICES.iter().any(|s| configured(s, settings))
}

/// What to set for a service, for hints.
pub const SETTINGS_HINT: &str = "AUTHCFG_BAO_ADDR with a token or AppRole for bao:; AWS credentials (AUTHCFG_KMS_ACCESS_KEY_ID, AWS_ACCESS_KEY_ID or a profile in ~/.aws/credentials) for awskms:";

/// The blob a custody seals: version, store id, identity.
fn blob(store_id: &str, id: &x25519::Identity) -> Zeroizing<Vec<u8>> {
    let secret = super::identity::secret_string(id);
    let mut b = Zeroizing::new(Vec::with_capacity(BLOB_PREFIX.len() + store_id.len() + 80));
    b.extend_from_slice(BLOB_PREFIX);
    b.extend_from_slice(store_id.as_bytes());
    b.push(0);
    b.extend_from_slice(secret.as_bytes());
    b
}

/// The identity in an unwrapped blob, when it is this store's and this
/// recipient's; otherwise why not (never quoting the blob).
fn from_blob(
    store_id: &str,
    public_key: &str,
    plain: &[u8],
) -> Result<x25519::Identity, &'static str> {
    let rest = plain
        .strip_prefix(BLOB_PREFIX)
        .ok_or("the key service answered something that is not an authcfg custody blob")?;
    let mut parts = rest.splitn(2, |b| *b == 0);
    let sid = parts.next().unwrap_or_default();
    let secret = parts.next().ok_or("the custody blob is damaged")?;
    if sid != store_id.as_bytes() {
        return Err("the key service answered with another store's key");
    }
    let text = std::str::from_utf8(secret).map_err(|_| "the custody blob is damaged")?;
    let id = super::identity::parse(text).ok_or("the custody blob holds no age identity")?;
    if id.to_public().to_string() != public_key {
        return Err("the key service answered with a key that is not this recipient's");
    }
    Ok(id)
}

/// `recipients add bao:…`: a fresh identity, sealed by the service for
/// store `store_id`; its public key and the custody entry. The identity
/// itself is forgotten when this returns.
pub fn new_custody(
    settings: &Settings,
    store_id: &str,
    service: &str,
    key: &str,
    addr: Option<&str>,
) -> Result<(String, Custody), UserError> {
    let id = x25519::Identity::generate();
    let mut custody = Custody {
        service: service.to_string(),
        key: key.to_string(),
        sealed: String::new(),
        addr: None,
    };
    let svc = open(&custody, settings, addr, store_id)?;
    custody.sealed = svc.wrap(&blob(store_id, &id))?;
    custody.addr = addr
        .map(str::to_string)
        .or_else(|| settings.bao.addr.clone())
        .filter(|_| service == "bao");
    Ok((id.to_public().to_string(), custody))
}

/// Opens the plugin custody of the (unverified) header that `id`, a plugin
/// identity, unseals: each custody of that plugin is tried (the plugin
/// says which are sealed to it). `Ok(None)`: none is.
pub fn unlock_plugin(
    store_id: &str,
    recipients: &[Recipient],
    id: &age::plugin::Identity,
    prompts: super::Prompts,
) -> Result<Option<Unlocked>, UserError> {
    for r in recipients {
        let Some(c) = r.custody.as_ref().filter(|c| c.service == "plugin") else {
            continue;
        };
        let Ok(p) = plugin::check_recipient(&c.key) else {
            continue;
        };
        if p.plugin() != id.plugin() {
            continue;
        }
        let svc = plugin::Plugin::new(&c.key, Some(id.clone()), prompts)?;
        use base64::Engine;
        let Ok(data) = base64::engine::general_purpose::STANDARD.decode(c.sealed.as_bytes()) else {
            continue;
        };
        // `None`: sealed to another identity of this plugin.
        let Some(plain) = super::identity::open_with_plugin(&data, id, prompts)? else {
            continue;
        };
        return unlocked(store_id, r, c, &plain, &svc.describe()).map(Some);
    }
    Ok(None)
}

/// The identity a custody's blob holds, checked against the store and the
/// recipient it was listed for; the one check after every unwrap, of any
/// service (docs/SECURITY.md, "Key services").
fn unlocked(
    store_id: &str,
    r: &Recipient,
    c: &Custody,
    plain: &[u8],
    describe: &str,
) -> Result<Unlocked, UserError> {
    match from_blob(store_id, &r.public_key, plain) {
        Ok(identity) => Ok(Unlocked {
            identity,
            label: r.label.clone(),
            service: c.service.clone(),
            key: c.key.clone(),
        }),
        Err(why) => Err(crate::error::no_key(format!(
            "{why} ({describe}, recipient '{}'); refusing it",
            crate::text::escape(&r.label, 64)
        ))
        .hint(
            "the store header or the key service is not what it should be: ask the store's admin",
        )),
    }
}

/// What opening through a key service found: the identity and which
/// recipient it is.
pub struct Unlocked {
    pub identity: x25519::Identity,
    pub label: String,
    pub service: String,
    pub key: String,
}

/// Opens the first custody recipient of the (unverified) header whose
/// service the settings configure. `Ok(None)`: none applies. An error
/// stops the search: a service that is down or refuses is never passed
/// over for weaker storage (docs/SECURITY.md, "Key services").
pub fn unlock(
    settings: &Settings,
    store_id: &str,
    recipients: &[Recipient],
) -> Result<Option<Unlocked>, UserError> {
    let mut last = None;
    for r in recipients {
        let Some(c) = &r.custody else { continue };
        if !configured(&c.service, settings) {
            continue;
        }
        let svc = open(c, settings, None, store_id)?;
        let plain = match svc.unwrap(&c.sealed) {
            Ok(p) => p,
            Err(e) => {
                // Another custody recipient may be the one these
                // credentials open (a runner of another group).
                last = Some(e);
                continue;
            }
        };
        return unlocked(store_id, r, c, &plain, &svc.describe()).map(Some);
    }
    match last {
        Some(e) => Err(e),
        None => Ok(None),
    }
}

/// A key service that could not be reached: one error for every service,
/// with the hint for an untrusted certificate (`tls_hint`) or for anything
/// else (`other_hint`); the store stays closed (docs/SECURITY.md, "Key
/// services": no fallback).
pub(crate) fn unreachable(
    service: &str,
    origin: &str,
    f: &crate::net::http::HttpFailure,
    tls_hint: &str,
    other_hint: &str,
) -> UserError {
    use crate::error::{failure, Cause, Reach};
    use crate::net::http::HttpFailure;
    let reach = match f {
        HttpFailure::Tls(_) => Reach::Tls,
        HttpFailure::Timeout => Reach::Timeout,
        HttpFailure::ConnectionRefused => Reach::Refused,
        HttpFailure::Dns(_) => Reach::Dns,
        _ => Reach::Other,
    };
    let hint = if reach == Reach::Tls {
        tls_hint
    } else {
        other_hint
    };
    failure(format!("{service} at {origin} cannot be reached: {f}"))
        .hint(hint)
        .cause(Cause::Unreachable(reach))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_bound_to_store_and_recipient() {
        let id = x25519::Identity::generate();
        let public = id.to_public().to_string();
        let b = blob("store-a", &id);
        assert_eq!(
            from_blob("store-a", &public, &b)
                .unwrap()
                .to_public()
                .to_string(),
            public
        );
        assert!(from_blob("store-b", &public, &b)
            .err()
            .unwrap()
            .contains("another store"));
        let other = x25519::Identity::generate().to_public().to_string();
        assert!(from_blob("store-a", &other, &b)
            .err()
            .unwrap()
            .contains("not this recipient"));
        assert!(from_blob("store-a", &public, b"AGE-SECRET-KEY-1").is_err());
    }

    #[test]
    fn specs() {
        assert!(parse_spec("age1abc").is_none());
        assert!(parse_spec("bao:transit/keys/runner").unwrap().is_ok());
        assert!(parse_spec("bao:transit/keys/../x").unwrap().is_err());
        assert!(parse_spec("bao:transit/runner").unwrap().is_err());
    }
}
