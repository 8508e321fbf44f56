//! AWS KMS as a key service (docs/ARCHITECTURE.md, "Key services"):
//! `Encrypt`, `Decrypt`, `ReEncrypt` and `DescribeKey` of the AWS JSON 1.1
//! protocol (`X-Amz-Target: TrentService.OP`), signed by the credential
//! model's SigV4 (`ops::credential`, AWS's `aws-sigv4` crate, service
//! `kms`), sent by the one HTTP client (`net::http`: the URL policy, TLS
//! verified, no redirects) and read with `net::http::read_capped`.
//!
//! - The key is a key ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`), never an
//!   alias, which whoever manages aliases could point elsewhere; the region
//!   comes from it.
//! - Every call carries the encryption context `{"authcfg-store": STORE
//!   ID}`: KMS refuses to decrypt another store's ciphertext, and the blob
//!   is checked again after decryption (`keys::service::from_blob`).
//! - Decrypt names the key (`KeyId`) and its answer must name it too: a
//!   ciphertext of another key the reader may use is refused.
//! - The endpoint and credentials are the reader's own (`settings.rs`,
//!   `KmsSettings`): `AUTHCFG_KMS_*`, `AWS_*` variables, or a profile of
//!   the AWS shared credentials and config files with static keys. The
//!   secret key signs; it is never sent, shown, or put in an error.

use super::KeyService;
use crate::error::{failure, no_key, usage, UserError};
use crate::net::http::{self as nethttp, HttpFailure, Redirects};
use crate::net::{Tls, TlsOptions, Verify};
use crate::settings::KmsSettings;
use base64::Engine;
use serde_json::{json, Value};
use std::cell::OnceCell;
use std::path::Path;
use std::time::Duration;
use zeroize::Zeroizing;

/// A KMS answer is a few hundred bytes (a ciphertext of a custody blob is
/// under 1 KiB); more is refused.
const MAX_ANSWER: usize = 64 << 10;
/// The AWS shared files are small.
const MAX_AWS_FILE: u64 = 1 << 20;
/// The encryption context's key: its value is the store id.
pub const CONTEXT_KEY: &str = "authcfg-store";

/// A KMS key ARN, checked: it becomes a host name (the region) and a
/// request parameter, and the header naming it is not verified yet when a
/// key is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyArn {
    pub arn: String,
    pub partition: String,
    pub region: String,
}

/// Parses `arn:PARTITION:kms:REGION:ACCOUNT:key/KEY-ID`.
pub fn parse_arn(key: &str) -> Result<KeyArn, UserError> {
    let bad = |why: &str| {
        usage(format!(
            "'{}' is not an AWS KMS key ARN: {why}",
            crate::text::escape(key, 160)
        ))
        .hint("name the key by its ARN, e.g. awskms:arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab (`aws kms describe-key --key-id alias/NAME` shows it)")
    };
    let parts: Vec<&str> = key.split(':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "kms" {
        return Err(bad("it must read arn:aws:kms:REGION:ACCOUNT:key/KEY-ID"));
    }
    let (partition, region, account, resource) = (parts[1], parts[3], parts[4], parts[5]);
    let word = |s: &str, max: usize| {
        !s.is_empty()
            && s.len() <= max
            && !s.starts_with('-')
            && !s.ends_with('-')
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    if !word(partition, 32) || !partition.starts_with("aws") {
        return Err(bad("the partition is not an AWS partition"));
    }
    if !word(region, 32) {
        return Err(bad("the region is not a region name"));
    }
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad("the account is not 12 digits"));
    }
    let Some(id) = resource.strip_prefix("key/") else {
        return Err(if resource.starts_with("alias/") {
            bad("it names an alias, which can be pointed at another key; name the key itself")
        } else {
            bad("it does not name a key (key/KEY-ID)")
        });
    };
    if id.is_empty() || id.len() > 128 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(bad("the key id is not a KMS key id"));
    }
    Ok(KeyArn {
        arn: key.to_string(),
        partition: partition.to_string(),
        region: region.to_string(),
    })
}

/// AWS credentials that sign KMS requests, and where they came from.
struct Keys {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    session_token: Option<Zeroizing<String>>,
    from: String,
}

/// The credentials, first match wins: the variables (`KmsSettings`: the
/// `AUTHCFG_KMS_` ones, else the `AWS_` ones), then the profile in the
/// shared credentials file, then in the shared config file. Only static
/// keys: a profile that assumes a role, runs a process or signs in with SSO
/// is refused by name.
fn credentials(s: &KmsSettings) -> Result<Keys, UserError> {
    match (&s.access_key_id, &s.secret_access_key) {
        (Some(id), Some(secret)) => {
            return Ok(Keys {
                access_key_id: id.trim().to_string(),
                secret_access_key: secret.clone(),
                session_token: s.session_token.clone(),
                from: format!("the environment ({})", s.keys_from),
            })
        }
        (Some(_), None) => {
            let secret = s.keys_from.replace("ACCESS_KEY_ID", "SECRET_ACCESS_KEY");
            return Err(
                no_key(format!("{} is set without {secret}", s.keys_from)).hint(format!(
                    "set {secret} too, or neither (a profile of ~/.aws/credentials is used then)"
                )),
            );
        }
        _ => {}
    }
    let profile = s.profile.clone().unwrap_or_else(|| "default".into());
    let mut tried = vec![format!(
        "the environment: {} / AWS_ACCESS_KEY_ID not set",
        "AUTHCFG_KMS_ACCESS_KEY_ID"
    )];
    let files = [
        (
            s.credentials_file.as_deref(),
            profile.clone(),
            "shared credentials file",
        ),
        (
            s.config_file.as_deref(),
            if profile == "default" {
                profile.clone()
            } else {
                format!("profile {profile}")
            },
            "shared config file",
        ),
    ];
    for (path, section, what) in files {
        let Some(path) = path else { continue };
        if !path.exists() {
            tried.push(format!("{what} {}: missing", path.display()));
            continue;
        }
        let text = Zeroizing::new(
            crate::input::read_text(path, &format!("the AWS {what}"), MAX_AWS_FILE)
                .map_err(|e| no_key(e.message))?,
        );
        let ini = ini::Ini::load_from_str(&text).map_err(|e| {
            no_key(format!(
                "cannot read the AWS {what} {}: line {}: not INI",
                path.display(),
                e.line
            ))
        })?;
        let Some(sec) = ini.section(Some(section.as_str())) else {
            tried.push(format!("{what} {}: no [{section}]", path.display()));
            continue;
        };
        let get = |k: &str| sec.get(k).map(str::trim).filter(|v| !v.is_empty());
        if let (Some(id), Some(secret)) = (get("aws_access_key_id"), get("aws_secret_access_key")) {
            return Ok(Keys {
                access_key_id: id.to_string(),
                secret_access_key: Zeroizing::new(secret.to_string()),
                session_token: get("aws_session_token").map(|t| Zeroizing::new(t.to_string())),
                from: format!("profile '{profile}' of {}", path.display()),
            });
        }
        if let Some(k) = [
            "role_arn",
            "credential_process",
            "sso_session",
            "sso_start_url",
            "web_identity_token_file",
        ]
        .into_iter()
        .find(|k| get(k).is_some())
        {
            return Err(no_key(format!(
                "AWS profile '{profile}' ({}) gets its credentials through {k}, which authcfg does not follow for KMS",
                path.display()
            ))
            .hint("give KMS static keys: a profile with aws_access_key_id and aws_secret_access_key (AUTHCFG_KMS_PROFILE names it), or AUTHCFG_KMS_ACCESS_KEY_ID and AUTHCFG_KMS_SECRET_ACCESS_KEY"));
        }
        tried.push(format!(
            "{what} {}: [{section}] holds no keys",
            path.display()
        ));
    }
    Err(no_key(format!(
        "no AWS credentials for KMS; tried:\n  - {}",
        tried.join("\n  - ")
    ))
    .hint("set AUTHCFG_KMS_ACCESS_KEY_ID and AUTHCFG_KMS_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or a profile in ~/.aws/credentials (AUTHCFG_KMS_PROFILE, AWS_PROFILE)"))
}

/// One KMS key, reached with the reader's settings, for one store.
pub struct AwsKms {
    key: KeyArn,
    endpoint: url::Url,
    settings: KmsSettings,
    tls: Tls,
    timeout: Duration,
    context: Value,
    /// The credentials, read at the first call.
    keys: OnceCell<Keys>,
}

/// An answer of KMS: its status, error type, and JSON body.
struct Answer {
    status: u16,
    error_type: Option<String>,
    body: Zeroizing<Vec<u8>>,
}

impl AwsKms {
    /// The key `key` (an ARN) at the endpoint of `settings` (else the
    /// region's), for the store `store_id` (the encryption context).
    pub fn new(
        settings: &KmsSettings,
        key: &str,
        store_id: &str,
        timeout: Duration,
    ) -> Result<AwsKms, UserError> {
        let key = parse_arn(key)?;
        let raw = match &settings.endpoint {
            Some(e) => e.trim().to_string(),
            None => format!(
                "https://kms.{}.amazonaws.com{}",
                key.region,
                if key.partition == "aws-cn" { ".cn" } else { "" }
            ),
        };
        // The Encrypt request carries the identity and the Decrypt answer
        // brings it back: https, or http to this machine only.
        let endpoint = crate::net::policy::check_secret_url(&raw).map_err(|r| {
            usage(format!("the KMS endpoint cannot receive a key: {r}"))
                .hint("set AUTHCFG_KMS_ENDPOINT (or AWS_ENDPOINT_URL_KMS) to https://HOST (http only to this machine's loopback)")
        })?;
        let tls = if endpoint.scheme() == "http" {
            Tls::no_roots()
        } else {
            Tls::new(
                Verify::Full,
                &TlsOptions {
                    ca_file: settings.ca_bundle.clone(),
                    ..Default::default()
                },
            )
            .map_err(|t| {
                failure(format!(
                    "AWS KMS at {}: {t}",
                    crate::net::policy::origin(&endpoint)
                ))
            })?
        };
        Ok(AwsKms {
            key,
            endpoint,
            settings: settings.clone(),
            tls,
            timeout,
            context: json!({ CONTEXT_KEY: store_id }),
            keys: OnceCell::new(),
        })
    }

    fn origin(&self) -> String {
        crate::net::policy::origin(&self.endpoint)
    }

    fn keys(&self) -> Result<&Keys, UserError> {
        if let Some(k) = self.keys.get() {
            return Ok(k);
        }
        let k = credentials(&self.settings)?;
        Ok(self.keys.get_or_init(|| k))
    }

    /// One signed call `TrentService.OP` with `body`.
    fn call(&self, op: &str, body: &Value) -> Result<Answer, UserError> {
        use crate::ops::credential::{Credential, How};
        let keys = self.keys()?;
        let client = nethttp::client(&self.tls, self.timeout, Redirects::Never)
            .map_err(|f| self.unreachable(&f))?;
        let bytes = Zeroizing::new(serde_json::to_vec(body).expect("json serializes"));
        let req = client
            .post(self.endpoint.clone())
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", format!("TrentService.{op}"))
            .header("accept-encoding", "identity")
            .body(bytes.to_vec());
        let cred = Credential {
            config: "AWS KMS".into(),
            type_id: "awskms".into(),
            provider: false,
            how: How::SigV4 {
                access_key_id: keys.access_key_id.clone(),
                secret_access_key: keys.secret_access_key.clone(),
                session_token: keys.session_token.clone(),
                region: self.key.region.clone(),
                service: "kms".into(),
            },
        };
        let req = cred
            .apply_to(req)
            .map_err(|e| no_key(format!("cannot sign the KMS request: {e}")))?;
        let tls = &self.tls;
        let url = &self.endpoint;
        let answered = crate::net::runtime::block_on_timeout(self.timeout, async {
            let mut a = nethttp::send(tls, url, req).await?;
            let status = a.response.status().as_u16();
            let error_type = a
                .response
                .headers()
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            // Sized once: a plaintext in the answer is never copied by a
            // regrowth.
            let mut out = Zeroizing::new(Vec::with_capacity(MAX_ANSWER));
            let more = nethttp::read_capped(tls, &mut a.response, MAX_ANSWER, &mut out).await?;
            Ok::<_, HttpFailure>((status, error_type, more, out))
        });
        let (status, error_type, more, body) = match answered {
            None => return Err(self.unreachable(&HttpFailure::Timeout)),
            Some(Err(f)) => return Err(self.unreachable(&f)),
            Some(Ok(x)) => x,
        };
        if more {
            return Err(failure(format!(
                "AWS KMS at {}: the answer is too large (over {} KiB); not read",
                self.origin(),
                MAX_ANSWER >> 10
            )));
        }
        Ok(Answer {
            status,
            error_type,
            body,
        })
    }

    /// `op`'s answer as JSON, or KMS's refusal as an error.
    fn ok(&self, op: &str, a: Answer) -> Result<Value, UserError> {
        if a.status != 200 {
            return Err(self.refusal(op, &a));
        }
        serde_json::from_slice(&a.body).map_err(|_| {
            failure(format!(
                "AWS KMS at {} answered {op} with something that is not JSON",
                self.origin()
            ))
            .hint("check that AUTHCFG_KMS_ENDPOINT (AWS_ENDPOINT_URL_KMS, AWS_ENDPOINT_URL) is a KMS endpoint")
        })
    }

    /// KMS could not be reached: an error and what to check, never a
    /// fallback (docs/SECURITY.md, "Key services").
    fn unreachable(&self, f: &HttpFailure) -> UserError {
        super::unreachable(
            "AWS KMS",
            &self.origin(),
            f,
            "the endpoint's certificate is not trusted: set AWS_CA_BUNDLE to the CA that signed it; authcfg never skips the check",
            "check the network to AWS KMS (or AUTHCFG_KMS_ENDPOINT); the store stays closed until KMS answers",
        )
    }

    /// KMS's refusal: its error type and message (outside text, escaped,
    /// with the credentials taken out should a server echo them).
    fn refusal(&self, op: &str, a: &Answer) -> UserError {
        let (code, message) = error_words(a);
        let mut redact = crate::redact::Redactor::new();
        if let Some(k) = self.keys.get() {
            redact.add_labelled(&k.secret_access_key, "AWS secret access key");
            if let Some(t) = &k.session_token {
                redact.add_labelled(t, "AWS session token");
            }
        }
        let shown = |t: &str| crate::text::escape(&redact.text(t), 300).into_owned();
        let said = match (code.is_empty(), message.is_empty()) {
            (true, _) => format!("HTTP {}", a.status),
            (false, true) => shown(&code),
            (false, false) => format!("{}: {}", shown(&code), shown(&message)),
        };
        let from = self
            .keys
            .get()
            .map(|k| format!(" (credentials: {})", k.from))
            .unwrap_or_default();
        let msg = format!(
            "AWS KMS at {} refused {op} with key {}: {said}{from}",
            self.origin(),
            self.key.arn
        );
        let hint = match code.as_str() {
            "AccessDeniedException" | "AccessDenied" => format!(
                "these credentials' IAM policy (and the key policy) must allow {} on {}; ask whoever runs the AWS account",
                if op == "ReEncrypt" { "kms:ReEncryptFrom and kms:ReEncryptTo".to_string() } else { format!("kms:{op}") },
                self.key.arn
            ),
            "DisabledException" | "KMSInvalidStateException" => {
                "the KMS key is disabled or pending deletion: the store stays closed through it until the key is enabled again (`aws kms enable-key`)".to_string()
            }
            "InvalidCiphertextException" | "IncorrectKeyException" => {
                "the sealed key in the store header is not this store's (another encryption context or key): ask the store's admin".to_string()
            }
            "NotFoundException" => format!(
                "no key {} in this account and region: check the ARN and AUTHCFG_KMS_ENDPOINT",
                self.key.arn
            ),
            "UnrecognizedClientException" | "InvalidClientTokenId" | "InvalidSignatureException"
            | "SignatureDoesNotMatch" | "ExpiredTokenException" | "AuthFailure" => {
                "KMS did not accept these AWS credentials: check the access key (and session token), and this machine's clock".to_string()
            }
            _ => "check the key ARN, the credentials and the endpoint".to_string(),
        };
        no_key(msg).hint(hint)
    }

    fn b64(&self, op: &str, v: &Value, field: &str) -> Result<Zeroizing<Vec<u8>>, UserError> {
        v.get(field)
            .and_then(Value::as_str)
            .and_then(|s| {
                base64::engine::general_purpose::STANDARD
                    .decode(s.as_bytes())
                    .ok()
            })
            .map(Zeroizing::new)
            .ok_or_else(|| {
                failure(format!(
                    "AWS KMS at {} answered {op} without a base64 {field}",
                    self.origin()
                ))
            })
    }

    /// The answer's `KeyId` must be this key: a ciphertext of another key
    /// (which these credentials may also use) is not this recipient's.
    fn same_key(&self, op: &str, v: &Value, field: &str) -> Result<(), UserError> {
        match v.get(field).and_then(Value::as_str) {
            Some(k) if k == self.key.arn => Ok(()),
            Some(k) => Err(no_key(format!(
                "AWS KMS at {} answered {op} with key {}, not {}; refusing it",
                self.origin(),
                crate::text::escape(k, 160),
                self.key.arn
            ))
            .hint("the store header or the key service is not what it should be: ask the store's admin")),
            None => Err(failure(format!(
                "AWS KMS at {} answered {op} without {field}",
                self.origin()
            ))),
        }
    }

    fn ciphertext(&self, op: &str, v: &Value) -> Result<String, UserError> {
        let blob = self.b64(op, v, "CiphertextBlob")?;
        Ok(base64::engine::general_purpose::STANDARD.encode(&*blob))
    }
}

/// The error type (`X-Amzn-ErrorType`, else the JSON `__type`, after its
/// `#`) and message of a refusal (JSON; the XML of an IAM refusal too).
fn error_words(a: &Answer) -> (String, String) {
    let from_header = a
        .error_type
        .as_deref()
        .map(|t| t.split(':').next().unwrap_or(t).trim().to_string());
    let json: Option<Value> = serde_json::from_slice(&a.body).ok();
    let field = |k: &str| {
        json.as_ref()
            .and_then(|j| j.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let xml_tag = |tag: &str| {
        let text = String::from_utf8_lossy(&a.body);
        let open = format!("<{tag}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&format!("</{tag}>"))?;
        Some(text[start..start + end].to_string())
    };
    let code = from_header
        .or_else(|| field("__type"))
        .or_else(|| xml_tag("Code"))
        .map(|t| t.rsplit('#').next().unwrap_or_default().to_string())
        .unwrap_or_default();
    let message = field("message")
        .or_else(|| field("Message"))
        .or_else(|| xml_tag("Message"))
        .unwrap_or_default();
    (code, message)
}

impl KeyService for AwsKms {
    fn wrap(&self, plaintext: &[u8]) -> Result<String, UserError> {
        let b64 = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(plaintext));
        let body = json!({
            "KeyId": self.key.arn,
            "Plaintext": b64.as_str(),
            "EncryptionContext": self.context,
        });
        let a = self.call("Encrypt", &body)?;
        let v = self.ok("Encrypt", a)?;
        self.same_key("Encrypt", &v, "KeyId")?;
        self.ciphertext("Encrypt", &v)
    }

    fn unwrap(&self, sealed: &str) -> Result<Zeroizing<Vec<u8>>, UserError> {
        let body = json!({
            "KeyId": self.key.arn,
            "CiphertextBlob": sealed,
            "EncryptionContext": self.context,
        });
        let a = self.call("Decrypt", &body)?;
        // The answer holds the plaintext: parsed from the zeroized buffer,
        // its base64 string wiped after decoding.
        if a.status != 200 {
            return Err(self.refusal("Decrypt", &a));
        }
        let v: Value = serde_json::from_slice(&a.body).map_err(|_| {
            failure(format!(
                "AWS KMS at {} answered Decrypt with something that is not JSON",
                self.origin()
            ))
        })?;
        let mut v = Wiped(v);
        self.same_key("Decrypt", &v.0, "KeyId")?;
        let plain = self.b64("Decrypt", &v.0, "Plaintext")?;
        v.wipe();
        Ok(plain)
    }

    fn rewrap(&self, sealed: &str) -> Result<String, UserError> {
        let body = json!({
            "CiphertextBlob": sealed,
            "SourceKeyId": self.key.arn,
            "SourceEncryptionContext": self.context,
            "DestinationKeyId": self.key.arn,
            "DestinationEncryptionContext": self.context,
        });
        let a = self.call("ReEncrypt", &body)?;
        let v = self.ok("ReEncrypt", a)?;
        self.same_key("ReEncrypt", &v, "KeyId")?;
        self.ciphertext("ReEncrypt", &v)
    }

    fn check(&self) -> Result<String, UserError> {
        let a = self.call("DescribeKey", &json!({ "KeyId": self.key.arn }))?;
        let v = self.ok("DescribeKey", a)?;
        let meta = v.get("KeyMetadata").cloned().unwrap_or(Value::Null);
        let state = meta
            .get("KeyState")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string();
        let from = self.keys.get().map(|k| k.from.clone()).unwrap_or_default();
        if state != "Enabled" {
            return Err(no_key(format!(
                "AWS KMS at {}: key {} is {} (credentials: {from})",
                self.origin(),
                self.key.arn,
                crate::text::escape(&state, 40)
            ))
            .hint("the store stays closed through this key until it is enabled again (`aws kms enable-key`)"));
        }
        Ok(format!(
            "reachable at {}; key enabled (credentials: {from})",
            self.origin()
        ))
    }

    fn describe(&self) -> String {
        format!("AWS KMS key {} at {}", self.key.arn, self.origin())
    }
}

/// A parsed Decrypt answer, its strings wiped when done with.
struct Wiped(Value);

impl Wiped {
    fn wipe(&mut self) {
        if let Some(Value::String(s)) = self.0.get_mut("Plaintext") {
            zeroize::Zeroize::zeroize(s);
        }
    }
}

impl Drop for Wiped {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// Whether the reader's settings give KMS credentials at all (variables,
/// or a shared credentials or config file to look in).
pub fn configured(s: &KmsSettings) -> bool {
    s.access_key_id.is_some()
        || [&s.credentials_file, &s.config_file]
            .into_iter()
            .flatten()
            .any(|p: &std::path::PathBuf| Path::exists(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns() {
        let a = parse_arn(
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        )
        .unwrap();
        assert_eq!(a.region, "eu-west-1");
        assert!(parse_arn("arn:aws-cn:kms:cn-north-1:111122223333:key/mrk-1234").is_ok());
        for bad in [
            "arn:aws:kms:eu-west-1:111122223333:alias/team",
            "arn:aws:kms:evil.example/x:111122223333:key/1",
            "arn:aws:kms:eu-west-1:1111:key/1",
            "arn:aws:s3:eu-west-1:111122223333:key/1",
            "arn:aws:kms:eu-west-1:111122223333:key/../x",
            "arn:aws:kms:eu-west-1:111122223333:key/",
            "arn:evil:kms:eu-west-1:111122223333:key/1",
            "arn:aws:kms:eu-west-1:111122223333:key/1:extra",
        ] {
            assert!(parse_arn(bad).is_err(), "{bad}");
        }
        let e = parse_arn("arn:aws:kms:eu-west-1:111122223333:alias/team").unwrap_err();
        assert!(e.message.contains("alias"), "{}", e.message);
    }

    #[test]
    fn default_endpoint_is_the_regions() {
        let k = AwsKms::new(
            &KmsSettings::default(),
            "arn:aws:kms:eu-west-1:111122223333:key/1",
            "s",
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(k.origin(), "https://kms.eu-west-1.amazonaws.com");
        let s = KmsSettings {
            endpoint: Some("http://kms.example.com".into()),
            ..Default::default()
        };
        let e = AwsKms::new(
            &s,
            "arn:aws:kms:eu-west-1:111122223333:key/1",
            "s",
            Duration::from_secs(1),
        )
        .err()
        .unwrap();
        assert!(e.message.contains("cannot receive a key"), "{}", e.message);
    }

    #[test]
    fn profiles() {
        let d = tempfile::tempdir().unwrap();
        let creds = d.path().join("credentials");
        let config = d.path().join("config");
        std::fs::write(
            &creds,
            "[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key = s1\n\n[ci]\naws_access_key_id=AKIACI\naws_secret_access_key=s2\naws_session_token=t2\n",
        )
        .unwrap();
        std::fs::write(
            &config,
            "[profile cfg]\naws_access_key_id = AKIACFG\naws_secret_access_key = s3\n[profile role]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = default\n",
        )
        .unwrap();
        let s = |p: Option<&str>| KmsSettings {
            profile: p.map(str::to_string),
            credentials_file: Some(creds.clone()),
            config_file: Some(config.clone()),
            ..Default::default()
        };
        assert_eq!(credentials(&s(None)).unwrap().access_key_id, "AKIADEFAULT");
        let ci = credentials(&s(Some("ci"))).unwrap();
        assert_eq!(ci.access_key_id, "AKIACI");
        assert_eq!(ci.session_token.as_deref().map(|t| t.as_str()), Some("t2"));
        assert_eq!(
            credentials(&s(Some("cfg"))).unwrap().access_key_id,
            "AKIACFG"
        );
        let e = credentials(&s(Some("role"))).err().unwrap();
        assert!(e.message.contains("role_arn"), "{}", e.message);
        let e = credentials(&s(Some("none"))).err().unwrap();
        assert!(e.message.contains("no AWS credentials"), "{}", e.message);
        let env = KmsSettings {
            access_key_id: Some("AKIAENV".into()),
            keys_from: "AWS_ACCESS_KEY_ID",
            ..s(Some("ci"))
        };
        let e = credentials(&env).err().unwrap();
        assert!(e.message.contains("AWS_SECRET_ACCESS_KEY"), "{}", e.message);
    }

    #[test]
    fn refusals_are_read_from_json_and_xml() {
        let a = Answer {
            status: 400,
            error_type: Some("DisabledException:http://internal".into()),
            body: Zeroizing::new(
                br#"{"__type":"com.amazonaws.kms#DisabledException","message":"key is disabled."}"#
                    .to_vec(),
            ),
        };
        assert_eq!(
            error_words(&a),
            ("DisabledException".into(), "key is disabled.".into())
        );
        let a = Answer {
            status: 403,
            error_type: None,
            body: Zeroizing::new(b"<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>no</Message></Error></Errors></ErrorResponse>".to_vec()),
        };
        assert_eq!(error_words(&a), ("AccessDenied".into(), "no".into()));
    }
}
