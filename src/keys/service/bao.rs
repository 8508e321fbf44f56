//! OpenBao / HashiCorp Vault transit as a key service
//! (docs/ARCHITECTURE.md, "Key services"): `encrypt`, `decrypt` and
//! `rewrap` on `MOUNT/{encrypt,decrypt,rewrap}/NAME`, authenticated by a
//! token (the variable or a token file) or an AppRole login. Requests go
//! through `net::http` (TLS verified as `net::tls` says, no redirects, the
//! URL policy: https, or http to loopback) and answers are read with
//! `net::http::read_capped`.
//!
//! The token is never in argv, an error, the audit trail or Debug output:
//! it is sent as a sensitive header only (docs/SECURITY.md, "Key
//! services").

use super::KeyService;
use crate::error::{failure, no_key, usage, UserError};
use crate::net::http::{self as nethttp, HttpFailure, Redirects};
use crate::net::{Tls, TlsOptions, Verify};
use crate::settings::BaoSettings;
use base64::Engine;
use serde_json::{json, Value};
use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use std::time::Duration;
use zeroize::Zeroizing;

/// A transit answer is a few hundred bytes; more is refused.
const MAX_ANSWER: usize = 64 << 10;
/// Token and secret-id files hold one line.
const MAX_SECRET_FILE: u64 = 4 << 10;

/// `MOUNT/keys/NAME`: the mount (one or more path segments) and the key
/// name, each of letters, digits, `-`, `_`, `.` (no `.`/`..` segment):
/// they become a URL path, and the header naming them is not verified yet
/// when a key is looked up.
pub fn check_key_path(key: &str) -> Result<(String, String), UserError> {
    let bad = || {
        usage(format!(
            "'{}' is not a transit key path",
            crate::text::escape(key, 120)
        ))
        .hint("name it as MOUNT/keys/NAME, e.g. bao:transit/keys/runner")
    };
    let (mount, name) = key.rsplit_once("/keys/").ok_or_else(bad)?;
    let seg_ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.len() <= 128
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    };
    if !seg_ok(name) || mount.is_empty() || !mount.split('/').all(seg_ok) {
        return Err(bad());
    }
    Ok((mount.to_string(), name.to_string()))
}

enum Auth {
    Token(Zeroizing<String>),
    TokenFile(PathBuf),
    AppRole {
        mount: String,
        role_id: String,
        secret_id: Option<Zeroizing<String>>,
        secret_id_file: Option<PathBuf>,
    },
}

pub struct Bao {
    addr: url::Url,
    mount: String,
    name: String,
    auth: Auth,
    tls: Tls,
    timeout: Duration,
    /// The token in use (read from its file or given by the AppRole login),
    /// once known.
    token: OnceCell<Zeroizing<String>>,
}

/// An answer of the server: its status and JSON body.
struct Answer {
    status: u16,
    body: Value,
}

impl Bao {
    /// The server of `settings` (or `addr`, the admin's `--addr`), for the
    /// transit key `key` (`MOUNT/keys/NAME`).
    pub fn new(
        settings: &BaoSettings,
        key: &str,
        addr: Option<&str>,
        timeout: Duration,
    ) -> Result<Bao, UserError> {
        let (mount, name) = check_key_path(key)?;
        // The (unverified) header names the mount: the token is used only
        // on the transit mounts the reader's settings allow, or a planted
        // key path would make it act on another engine
        // (docs/SECURITY.md, "Key services").
        let allowed = settings.allowed_mounts();
        if !allowed.contains(&mount) {
            return Err(no_key(format!(
                "the key path '{}' is not on a transit mount these settings allow ({}); no request was made",
                crate::text::escape(key, 120),
                allowed.join(", ")
            ))
            .hint(format!(
                "if '{}' is a transit mount of yours, add it to AUTHCFG_BAO_TRANSIT_MOUNTS (comma-separated, default transit)",
                crate::text::escape(&mount, 80)
            )));
        }
        let raw = addr.map(str::to_string).or_else(|| settings.addr.clone()).ok_or_else(|| {
            no_key("no OpenBao / Vault address is set").hint(
                "set AUTHCFG_BAO_ADDR (or BAO_ADDR, VAULT_ADDR) to the server's URL; the store's header never chooses it",
            )
        })?;
        let addr = crate::net::policy::check_secret_url(raw.trim()).map_err(|r| {
            usage(format!("the OpenBao address cannot receive a token: {r}"))
                .hint("use https://HOST:PORT (http only to this machine's loopback)")
        })?;
        let auth = if let Some(t) = &settings.token {
            Auth::Token(t.clone())
        } else if let Some(f) = &settings.token_file {
            Auth::TokenFile(f.clone())
        } else if let Some(role_id) = &settings.role_id {
            if settings.secret_id.is_none() && settings.secret_id_file.is_none() {
                return Err(no_key("AUTHCFG_BAO_ROLE_ID is set without a secret id")
                    .hint("set AUTHCFG_BAO_SECRET_ID_FILE (a file of yours, mode 0600) or AUTHCFG_BAO_SECRET_ID"));
            }
            Auth::AppRole {
                mount: settings
                    .approle_mount
                    .clone()
                    .unwrap_or_else(|| "approle".into()),
                role_id: role_id.clone(),
                secret_id: settings.secret_id.clone(),
                secret_id_file: settings.secret_id_file.clone(),
            }
        } else {
            return Err(no_key("no OpenBao / Vault credentials are set").hint(
                "set AUTHCFG_BAO_TOKEN (or BAO_TOKEN, VAULT_TOKEN), AUTHCFG_BAO_TOKEN_FILE, or an AppRole: AUTHCFG_BAO_ROLE_ID with AUTHCFG_BAO_SECRET_ID_FILE",
            ));
        };
        if let Auth::AppRole { mount, .. } = &auth {
            if !mount.split('/').all(|s| {
                !s.is_empty()
                    && s != ".."
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            }) {
                return Err(usage("AUTHCFG_BAO_APPROLE_MOUNT is not a mount path")
                    .hint("letters, digits, '-', '_', '.', separated by '/' (default approle)"));
            }
        }
        let tls = if addr.scheme() == "http" {
            Tls::no_roots()
        } else {
            Tls::new(
                Verify::Full,
                &TlsOptions {
                    ca_file: settings.ca_cert.clone(),
                    ..Default::default()
                },
            )
            .map_err(|t| failure(format!("OpenBao at {}: {t}", origin(&addr))))?
        };
        Ok(Bao {
            addr,
            mount,
            name,
            auth,
            tls,
            timeout,
            token: OnceCell::new(),
        })
    }

    fn origin(&self) -> String {
        origin(&self.addr)
    }

    fn url(&self, path: &str) -> Result<url::Url, UserError> {
        let base = self.addr.as_str().trim_end_matches('/');
        url::Url::parse(&format!("{base}/v1/{path}"))
            .map_err(|e| usage(format!("OpenBao address: {e}")))
    }

    /// One POST; `token`: with the `X-Vault-Token` header (sensitive).
    fn post(&self, path: &str, body: &Value, token: Option<&str>) -> Result<Answer, UserError> {
        let url = self.url(path)?;
        let client = nethttp::client(&self.tls, self.timeout, Redirects::Never)
            .map_err(|f| self.unreachable(&f))?;
        let body = Zeroizing::new(serde_json::to_vec(body).expect("json serializes"));
        let mut req = client
            .post(url.clone())
            .header("content-type", "application/json")
            .body(body.to_vec());
        if let Some(t) = token {
            let mut v = reqwest::header::HeaderValue::from_str(t)
                .map_err(|_| no_key("the OpenBao token holds characters a header cannot carry"))?;
            v.set_sensitive(true);
            req = req.header("X-Vault-Token", v);
        }
        let tls = &self.tls;
        let answered = crate::net::runtime::block_on_timeout(self.timeout, async {
            let mut a = nethttp::send(tls, &url, req).await?;
            let status = a.response.status().as_u16();
            let mut out = Zeroizing::new(Vec::with_capacity(4096));
            let more = nethttp::read_capped(tls, &mut a.response, MAX_ANSWER, &mut out).await?;
            Ok::<_, HttpFailure>((status, more, out))
        });
        let (status, more, out) = match answered {
            None => return Err(self.unreachable(&HttpFailure::Timeout)),
            Some(Err(f)) => return Err(self.unreachable(&f)),
            Some(Ok(x)) => x,
        };
        if more {
            return Err(failure(format!(
                "OpenBao at {}: the answer is too large (over {} KiB); not read",
                self.origin(),
                MAX_ANSWER >> 10
            )));
        }
        let body = if out.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&out).map_err(|_| {
                failure(format!(
                    "OpenBao at {} answered {status} with something that is not JSON",
                    self.origin()
                ))
                .hint("check that AUTHCFG_BAO_ADDR (BAO_ADDR, VAULT_ADDR) is the OpenBao / Vault server")
            })?
        };
        Ok(Answer { status, body })
    }

    /// The server could not be reached: an error and what to check, never
    /// a fallback (docs/SECURITY.md, "Key services").
    fn unreachable(&self, f: &HttpFailure) -> UserError {
        super::unreachable(
            "OpenBao",
            &self.origin(),
            f,
            "the server's certificate is not trusted: set BAO_CACERT (or VAULT_CACERT) to the CA that signed it; authcfg never skips the check",
            "check that the OpenBao / Vault server is up and AUTHCFG_BAO_ADDR (BAO_ADDR, VAULT_ADDR) names it; the store stays closed until it answers",
        )
    }

    /// The server's words for a refusal (outside text, escaped).
    fn refusal(&self, what: &str, a: &Answer) -> UserError {
        let words: Vec<String> = a
            .body
            .get("errors")
            .and_then(Value::as_array)
            .map(|e| {
                e.iter()
                    .filter_map(Value::as_str)
                    .map(|s| crate::text::escape(s, 200).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        let said = if words.is_empty() {
            String::new()
        } else {
            format!(": {}", words.join("; "))
        };
        let msg = format!(
            "OpenBao at {} refused to {what} with {} (HTTP {}){said}",
            self.origin(),
            self.key_path(),
            a.status
        );
        match a.status {
            401 | 403 => no_key(msg).hint(format!(
                "the token's policy must allow `update` on {}/{what}/{}; ask whoever runs OpenBao (a revoked policy stops this key for good)",
                self.mount, self.name
            )),
            _ => no_key(msg),
        }
    }

    fn key_path(&self) -> String {
        format!("{}/keys/{}", self.mount, self.name)
    }

    /// The token: given, read from its file, or from an AppRole login
    /// (once per process).
    fn token(&self) -> Result<&str, UserError> {
        if let Some(t) = self.token.get() {
            return Ok(t);
        }
        let t = match &self.auth {
            Auth::Token(t) => t.clone(),
            Auth::TokenFile(p) => read_secret_file(p, "OpenBao token file")?,
            Auth::AppRole {
                mount,
                role_id,
                secret_id,
                secret_id_file,
            } => {
                let secret = match (secret_id, secret_id_file) {
                    (Some(s), _) => s.clone(),
                    (None, Some(p)) => read_secret_file(p, "AppRole secret id file")?,
                    (None, None) => unreachable!("checked in new"),
                };
                let body = json!({ "role_id": role_id, "secret_id": secret.as_str() });
                let a = self.post(&format!("auth/{mount}/login"), &body, None)?;
                if a.status != 200 {
                    let words = a
                        .body
                        .get("errors")
                        .and_then(Value::as_array)
                        .and_then(|e| e.first())
                        .and_then(Value::as_str)
                        .map(|s| format!(": {}", crate::text::escape(s, 200)))
                        .unwrap_or_default();
                    return Err(no_key(format!(
                        "OpenBao at {} refused the AppRole login (HTTP {}){words}",
                        self.origin(),
                        a.status
                    ))
                    .hint("check AUTHCFG_BAO_ROLE_ID and the secret id (it may have expired or been used up)"));
                }
                let token = a
                    .body
                    .pointer("/auth/client_token")
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        no_key(format!(
                            "OpenBao at {} answered the AppRole login without a token",
                            self.origin()
                        ))
                    })?;
                Zeroizing::new(token.to_string())
            }
        };
        Ok(self.token.get_or_init(|| t))
    }

    /// `MOUNT/ACTION/NAME` with `body`: the answer's `data.FIELD`.
    fn transit(
        &self,
        action: &str,
        body: &Value,
        field: &str,
    ) -> Result<Zeroizing<String>, UserError> {
        let token = self.token()?;
        let a = self.post(
            &format!("{}/{action}/{}", self.mount, self.name),
            body,
            Some(token),
        )?;
        if (201..300).contains(&a.status) {
            // A success with no body (204): not a refusal, but no answer.
            return Err(no_key(format!(
                "OpenBao at {} answered {action} with HTTP {} and no data.{field}",
                self.origin(),
                a.status
            ))
            .hint(
                "check that the key path names a transit key (MOUNT/keys/NAME on a transit mount)",
            ));
        }
        if a.status != 200 {
            return Err(self.refusal(action, &a));
        }
        a.body
            .get("data")
            .and_then(|d| d.get(field))
            .and_then(Value::as_str)
            .map(|s| Zeroizing::new(s.to_string()))
            .ok_or_else(|| {
                no_key(format!(
                    "OpenBao at {} answered {action} without data.{field}",
                    self.origin()
                ))
            })
    }
}

fn origin(u: &url::Url) -> String {
    crate::net::policy::origin(u)
}

/// A file holding one secret line (a token, a secret id): a regular file
/// of this user, not readable by others, as identity files must be.
fn read_secret_file(path: &Path, what: &str) -> Result<Zeroizing<String>, UserError> {
    let (f, meta) =
        crate::input::open(path, what, MAX_SECRET_FILE).map_err(|e| no_key(e.message))?;
    match crate::platform::check_private(path, Some(&f), &meta) {
        Ok(()) => {}
        Err(crate::platform::NotPrivate::Loose(why)) => {
            return Err(no_key(format!(
                "{what} {} is accessible by other users ({why}); refusing to use it",
                path.display()
            ))
            .hint(crate::platform::fix_loose_hint(path)))
        }
        Err(crate::platform::NotPrivate::Owner(who)) => {
            return Err(no_key(format!(
                "{what} {} belongs to another user ({who}); refusing to use it",
                path.display()
            )))
        }
    }
    let bytes = Zeroizing::new(
        crate::input::read_opened(f, path, what, MAX_SECRET_FILE).map_err(|e| no_key(e.message))?,
    );
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| no_key(format!("{what} {} is not text", path.display())))?;
    let t = text.trim();
    if t.is_empty() {
        return Err(no_key(format!("{what} {} is empty", path.display())));
    }
    Ok(Zeroizing::new(t.to_string()))
}

impl KeyService for Bao {
    fn wrap(&self, plaintext: &[u8]) -> Result<String, UserError> {
        let b64 = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(plaintext));
        let c = self.transit(
            "encrypt",
            &json!({ "plaintext": b64.as_str() }),
            "ciphertext",
        )?;
        if !c.starts_with("vault:v") {
            return Err(no_key(format!(
                "OpenBao at {} answered encrypt with something that is not a transit ciphertext",
                self.origin()
            )));
        }
        Ok(c.to_string())
    }

    fn unwrap(&self, sealed: &str) -> Result<Zeroizing<Vec<u8>>, UserError> {
        let p = self.transit("decrypt", &json!({ "ciphertext": sealed }), "plaintext")?;
        base64::engine::general_purpose::STANDARD
            .decode(p.as_bytes())
            .map(Zeroizing::new)
            .map_err(|_| {
                no_key(format!(
                    "OpenBao at {} answered decrypt with a plaintext that is not base64",
                    self.origin()
                ))
            })
    }

    fn rewrap(&self, sealed: &str) -> Result<String, UserError> {
        let c = self.transit("rewrap", &json!({ "ciphertext": sealed }), "ciphertext")?;
        if !c.starts_with("vault:v") {
            return Err(no_key(format!(
                "OpenBao at {} answered rewrap with something that is not a transit ciphertext",
                self.origin()
            )));
        }
        Ok(c.to_string())
    }

    fn check(&self) -> Result<String, UserError> {
        let token = self.token()?;
        let path = format!("{}/decrypt/{}", self.mount, self.name);
        let a = self.post(
            "sys/capabilities-self",
            &json!({ "paths": [path.clone()] }),
            Some(token),
        )?;
        if a.status != 200 {
            return Err(self.refusal("check", &a));
        }
        let caps: Vec<&str> = a
            .body
            .get(&path)
            .or_else(|| a.body.pointer("/data/capabilities"))
            .or_else(|| a.body.get("capabilities"))
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if caps.iter().any(|c| *c == "update" || *c == "root") {
            Ok(format!(
                "reachable at {}; these credentials may decrypt with {}",
                self.origin(),
                self.key_path()
            ))
        } else {
            Err(no_key(format!(
                "reachable at {}, but these credentials may not decrypt with {}",
                self.origin(),
                self.key_path()
            ))
            .hint(format!("the token's policy must allow `update` on {path}")))
        }
    }

    fn describe(&self) -> String {
        format!(
            "OpenBao transit key {} at {}",
            self.key_path(),
            self.origin()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths() {
        assert_eq!(
            check_key_path("transit/keys/runner").unwrap(),
            ("transit".into(), "runner".into())
        );
        assert_eq!(
            check_key_path("team/transit/keys/ci-1").unwrap(),
            ("team/transit".into(), "ci-1".into())
        );
        for bad in [
            "transit/keys/",
            "/keys/x",
            "transit/keys/a/b",
            "../keys/x",
            "transit//x/keys/y",
            "transit/keys/a?b",
            "transit/keys/..",
        ] {
            assert!(check_key_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_token_is_not_in_debug() {
        let s = BaoSettings {
            addr: Some("http://127.0.0.1:1".into()),
            token: Some(Zeroizing::new("s.very-secret-token".into())),
            ..Default::default()
        };
        assert!(!format!("{s:?}").contains("very-secret"));
    }
}
