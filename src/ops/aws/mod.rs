//! AWS sessions (docs/ARCHITECTURE.md, "AWS sessions"; docs/SECURITY.md,
//! "AWS keys and sessions"): programs never get an AWS config's long-lived
//! keys, only STS session credentials made from them (as aws-vault does).
//!
//! - Which configs: connectors marked `sts` in the catalog (Amazon S3,
//!   DynamoDB, SQS, SNS, Kinesis).
//! - The session: STS `AssumeRole` when the config names `role_arn`
//!   (with `external_id`, and `mfa_serial` with a code from `--mfa-code`
//!   or the stored `mfa_totp`), `GetSessionToken` otherwise; for
//!   `session_duration` (default 1 h). The request is signed by the one
//!   SigV4 signer (`ops::credential`, service `sts`), sent by the one HTTP
//!   client (`net::http`, so the endpoint passes `net::policy`: https, or
//!   http on loopback), and the answer read by quick-xml into typed
//!   structs.
//! - The cache: the session is kept in the config's `sts_*` fields (in
//!   the store, encrypted like every field) until shortly before it ends
//!   (`AUTHCFG_REFRESH_SKEW`, default 10 minutes, the window in which AWS's
//!   SDKs refresh), renewed single-flight across processes by
//!   `refresh::single_flight`, the same lock as OAuth2 refresh.
//! - What leaves: `leave::may_leave` keeps `secret_access_key` from every
//!   program (environment, templates, agents); the catalog's variables
//!   name the `sts_*` fields, so `export`/`exec` hand out the session.

pub mod endpoint;

use super::Session;
use crate::error::{failure, usage, UserError};
use crate::model::ConfigDoc;
use crate::secret::Secret;
use std::time::Duration;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// Whether `doc` is an AWS config (a connector marked `sts`).
pub use crate::leave::is_aws;
/// The long-lived secret that never reaches a program.
pub use crate::leave::AWS_LONG_LIVED_SECRET as LONG_LIVED_SECRET;
/// The cached session's fields.
pub const SESSION_FIELDS: [&str; 5] = [
    "sts_access_key_id",
    "sts_secret_access_key",
    "sts_session_token",
    "sts_expires",
    "sts_source",
];
/// The variables that carry a session's keys to a program (left out when
/// `exec --aws-endpoint` serves them instead: an SDK takes these first).
pub const KEY_VARS: [&str; 3] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];
/// Renewed this long before it ends, unless `AUTHCFG_REFRESH_SKEW` says
/// otherwise: AWS's SDKs refresh container credentials 10 to 15 minutes
/// before they end.
const DEFAULT_SKEW_SECS: i64 = 600;
const DEFAULT_DURATION: u64 = 3600;
/// STS's shortest session.
const MIN_DURATION: u64 = 900;
/// GetSessionToken's longest (AssumeRole's is the role's own limit, at
/// most 12 h; STS says so when asked for more).
const MAX_DURATION: u64 = 129_600;
/// The most of an STS answer read (AWS's are about 2 KiB; docs/SECURITY.md,
/// "AWS keys and sessions").
const MAX_ANSWER: usize = 64 << 10;
/// How far past the requested length a session's `Expiration` may be (STS's
/// clock ahead of ours); a later one is cut to this.
const EXPIRATION_SLACK_SECS: i64 = 300;

/// A session's credentials.
pub struct Creds {
    pub access_key_id: String,
    pub secret_access_key: Zeroizing<String>,
    pub session_token: Zeroizing<String>,
    pub expires: OffsetDateTime,
}

impl std::fmt::Debug for Creds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Creds({}, ****, until {})",
            self.access_key_id, self.expires
        )
    }
}

impl Creds {
    /// `Expiration` as AWS writes it (RFC 3339, UTC).
    pub fn expiration(&self) -> String {
        crate::model::rfc3339(self.expires)
    }

    /// The `credential_process` answer (Version 1).
    pub fn process_json(&self) -> Zeroizing<String> {
        Zeroizing::new(
            serde_json::json!({
                "Version": 1,
                "AccessKeyId": self.access_key_id,
                "SecretAccessKey": self.secret_access_key.as_str(),
                "SessionToken": self.session_token.as_str(),
                "Expiration": self.expiration(),
            })
            .to_string(),
        )
    }

    /// The container-credentials answer (`AWS_CONTAINER_CREDENTIALS_FULL_URI`).
    pub fn container_json(&self) -> Zeroizing<String> {
        Zeroizing::new(
            serde_json::json!({
                "AccessKeyId": self.access_key_id,
                "SecretAccessKey": self.secret_access_key.as_str(),
                "Token": self.session_token.as_str(),
                "Expiration": self.expiration(),
            })
            .to_string(),
        )
    }
}

/// The session cached in `doc`, if complete.
pub fn cached(doc: &ConfigDoc) -> Option<Creds> {
    let get = |f: &str| doc.get(f).map(str::trim).filter(|v| !v.is_empty());
    Some(Creds {
        access_key_id: get("sts_access_key_id")?.to_string(),
        secret_access_key: Zeroizing::new(get("sts_secret_access_key")?.to_string()),
        session_token: Zeroizing::new(get("sts_session_token")?.to_string()),
        expires: OffsetDateTime::parse(get("sts_expires")?, &Rfc3339).ok()?,
    })
}

/// How long before its end a session of `doc` is renewed: the setting,
/// but at most half the session's length (a longer skew would renew every
/// session at once, and again on the next read).
fn skew(s: &Session, doc: &ConfigDoc) -> i64 {
    let half = duration(doc).unwrap_or(DEFAULT_DURATION) as i64 / 2;
    s.settings
        .refresh_skew
        .unwrap_or(DEFAULT_SKEW_SECS)
        .clamp(0, half)
}

/// What a session of `doc` is made from (no secret): a session cached
/// from other settings (an edited role, key or endpoint) is not used.
fn source(doc: &ConfigDoc) -> String {
    let f = |n: &str| doc.get(n).unwrap_or_default().trim().to_string();
    let url = sts_url(doc).map(|u| u.to_string()).unwrap_or_default();
    serde_json::json!([
        f("access_key_id"),
        f("role_arn"),
        f("external_id"),
        f("mfa_serial"),
        f("session_duration"),
        url
    ])
    .to_string()
}

/// Whether `doc` needs a new session: none cached, one made from other
/// settings, or one that ends within the skew.
pub fn due(doc: &ConfigDoc, skew_secs: i64) -> bool {
    if doc.get("sts_source") != Some(source(doc).as_str()) {
        return true;
    }
    match cached(doc) {
        None => true,
        Some(c) => c.expires - time::Duration::seconds(skew_secs) <= crate::model::now(),
    }
}

/// Refuses a config that is not an AWS config.
pub fn check_aws(doc: &ConfigDoc) -> Result<(), UserError> {
    if is_aws(doc) {
        return Ok(());
    }
    Err(usage(format!(
        "'{}' ({}) is not an AWS config",
        doc.meta.name, doc.meta.type_id
    ))
    .hint("AWS configs are the s3, dynamodb, amazon-sqs, amazon-sns and amazon-kinesis connectors"))
}

/// `doc` with a session that is not due: the cached one, or a new one from
/// STS (single-flight across processes; `mfa_code` for a config with
/// `mfa_serial` and no `mfa_totp`). `force` renews even a fresh session.
pub fn ensure_session(
    s: &Session,
    doc: ConfigDoc,
    mfa_code: Option<&str>,
    force: bool,
) -> anyhow::Result<ConfigDoc> {
    let skew = skew(s, &doc);
    if !force && !due(&doc, skew) {
        return Ok(doc);
    }
    let name = doc.meta.name.clone();
    let timeout = s.settings.http_timeout;
    super::refresh::single_flight(
        s,
        &name,
        super::refresh::Renewal {
            waiting: "renewing the AWS session of",
            action: "aws-session",
            failed: "STS failed",
            due: &|d| force || due(d, skew),
            renew: &mut |fresh| {
                let c = request(fresh, mfa_code, timeout)?;
                put(fresh, &c);
                Ok(())
            },
            merge: &|fresh, d| {
                for f in SESSION_FIELDS {
                    if let Some(v) = fresh.fields.get(f) {
                        d.fields.insert(f.to_string(), v.clone());
                    }
                }
            },
        },
    )
}

/// The session of config `name`, for a tool (`credential-process`, the
/// container endpoint): ensured, then read for use and recorded with the
/// consumer `aws:NAME` (or the consumer the user named).
pub fn session_for_tool(s: &Session, name: &str, mfa_code: Option<&str>) -> anyhow::Result<Creds> {
    crate::store::validate_name(name)?;
    let doc = s.store.read(name)?;
    check_aws(&doc)?;
    ensure_session(s, doc, mfa_code, false)?;
    let mut used = super::handout::read_for_use(s, &[name.to_string()], "aws")?;
    let c = super::handout::consumer(s.settings, None, &[name]);
    used.consumer = Some(if c.kind == crate::store::usage::ConsumerKind::Direct {
        crate::store::usage::Consumer::label(&format!("aws:{name}"))
    } else {
        c
    });
    let creds = cached(&used.docs[0])
        .ok_or_else(|| failure(format!("'{name}' has no STS session after renewal")))?;
    used.record(s)?;
    Ok(creds)
}

fn put(doc: &mut ConfigDoc, c: &Creds) {
    let mut set = |f: &str, v: &str| {
        doc.fields.insert(f.to_string(), Secret::new(v));
    };
    set("sts_access_key_id", &c.access_key_id);
    set("sts_secret_access_key", &c.secret_access_key);
    set("sts_session_token", &c.session_token);
    set("sts_expires", &c.expiration());
    let from = source(doc);
    doc.fields.insert("sts_source".into(), Secret::new(from));
}

/// Where STS is: `sts_endpoint`, else the S3-compatible `endpoint` (moto
/// and MinIO answer STS there), else AWS's regional endpoint.
pub fn sts_url(doc: &ConfigDoc) -> Result<url::Url, UserError> {
    let field = |f: &str| doc.get(f).map(str::trim).filter(|v| !v.is_empty());
    let raw = field("sts_endpoint")
        .or_else(|| field("endpoint"))
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "https://sts.{}.amazonaws.com/",
                field("region").unwrap_or("us-east-1")
            )
        });
    crate::net::policy::check_secret_url(&raw).map_err(|r| {
        usage(format!("'{}': the STS endpoint {r}", doc.meta.name))
            .hint("STS answers with session keys: https, or plain http on a loopback host")
    })
}

fn duration(doc: &ConfigDoc) -> Result<u64, UserError> {
    let Some(text) = doc
        .get("session_duration")
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return Ok(DEFAULT_DURATION);
    };
    let bad = || {
        usage(format!(
            "'{}': session_duration '{}' is not a session length",
            doc.meta.name,
            text.escape_debug()
        ))
        .hint("900 seconds to 36 hours: 15m, 1h, 3600")
    };
    let secs = super::lease::parse_ttl(text).map_err(|_| bad())?.as_secs();
    if !(MIN_DURATION..=MAX_DURATION).contains(&secs) {
        return Err(bad());
    }
    Ok(secs)
}

/// The MFA serial and code, when the config names a device.
fn mfa(
    doc: &ConfigDoc,
    code: Option<&str>,
) -> Result<Option<(String, Zeroizing<String>)>, UserError> {
    let name = &doc.meta.name;
    let Some(serial) = doc
        .get("mfa_serial")
        .map(str::trim)
        .filter(|v| !v.is_empty())
    else {
        return Ok(None);
    };
    let code = match code {
        Some(c) => Zeroizing::new(c.trim().to_string()),
        None => match doc.get("mfa_totp").filter(|v| !v.trim().is_empty()) {
            Some(uri) => Zeroizing::new(crate::otp::code_now(&crate::otp::parse(uri)?).0),
            None => {
                return Err(usage(format!(
                    "'{name}' needs an MFA code for a new AWS session"
                ))
                .hint(format!(
                    "start one with `authcfg aws session {name} --mfa-code CODE`, or store the device: `authcfg edit {name} --secret-stdin mfa_totp`"
                )))
            }
        },
    };
    if !(6..=8).contains(&code.len()) || !code.chars().all(|c| c.is_ascii_digit()) {
        return Err(usage("an MFA code is 6 to 8 digits"));
    }
    Ok(Some((serial.to_string(), code)))
}

/// The RoleSessionName: `authcfg-` and the config's name, in the
/// characters STS allows (`[\w+=,.@-]`, at most 64).
fn role_session_name(config: &str) -> String {
    let mut n: String = format!("authcfg-{config}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    n.truncate(64);
    n
}

/// One STS call with the config's long-lived keys: AssumeRole or
/// GetSessionToken.
pub fn request(
    doc: &ConfigDoc,
    mfa_code: Option<&str>,
    timeout: Duration,
) -> anyhow::Result<Creds> {
    use super::credential::{secret_field, Credential, How};
    use crate::net::http::{self as nethttp, Redirects};
    use crate::net::{Tls, TlsOptions, Verify};
    check_aws(doc)?;
    let name = doc.meta.name.clone();
    let url = sts_url(doc)?;
    let access_key_id = doc
        .get("access_key_id")
        .unwrap_or_default()
        .trim()
        .to_string();
    if access_key_id.is_empty() {
        return Err(
            UserError::from(super::credential::CredentialError::Missing {
                config: name,
                field: "access_key_id",
            })
            .into(),
        );
    }
    let secret_access_key = secret_field(doc, LONG_LIVED_SECRET).map_err(UserError::from)?;
    let role = doc.get("role_arn").map(str::trim).filter(|r| !r.is_empty());
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    match role {
        Some(arn) => {
            form.append_pair("Action", "AssumeRole")
                .append_pair("RoleArn", arn)
                .append_pair("RoleSessionName", &role_session_name(&name));
            if let Some(x) = doc
                .get("external_id")
                .map(str::trim)
                .filter(|x| !x.is_empty())
            {
                form.append_pair("ExternalId", x);
            }
        }
        None => {
            form.append_pair("Action", "GetSessionToken");
        }
    }
    form.append_pair("Version", "2011-06-15")
        .append_pair("DurationSeconds", &duration(doc)?.to_string());
    if let Some((serial, code)) = mfa(doc, mfa_code)? {
        form.append_pair("SerialNumber", &serial)
            .append_pair("TokenCode", &code);
    }
    let body = Zeroizing::new(form.finish());
    let region = doc
        .get("region")
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .unwrap_or("us-east-1")
        .to_string();
    let cred = Credential {
        config: name.clone(),
        type_id: doc.meta.type_id.clone(),
        provider: false,
        how: How::SigV4 {
            access_key_id,
            secret_access_key,
            session_token: None,
            region,
            service: "sts".into(),
        },
    };
    let tls = if url.scheme() == "http" {
        Tls::no_roots()
    } else {
        Tls::new(Verify::Full, &TlsOptions::default())
            .map_err(|t| failure(format!("STS at {}: {t}", crate::net::policy::origin(&url))))?
    };
    let origin = crate::net::policy::origin(&url);
    let client =
        nethttp::client(&tls, timeout, Redirects::Never).map_err(|f| failure(f.to_string()))?;
    let req = client
        .post(url.clone())
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .header("accept-encoding", "identity")
        .body(body.to_string());
    let req = cred.apply_to(req).map_err(failure)?;
    let requested = duration(doc)?;
    let answered = crate::net::runtime::block_on_timeout(timeout, async {
        let mut a = nethttp::send(&tls, &url, req).await?;
        let status = a.response.status().as_u16();
        // Sized once: the answer's secrets are never copied by a regrowth.
        let mut body = Zeroizing::new(Vec::with_capacity(MAX_ANSWER));
        let more = nethttp::read_capped(&tls, &mut a.response, MAX_ANSWER, &mut body).await?;
        Ok::<_, nethttp::HttpFailure>((status, more, body))
    });
    let (status, more, body) = match answered {
        None => return Err(failure(format!("STS at {origin}: no answer in time")).into()),
        Some(Err(f)) => return Err(failure(format!("STS at {origin}: {f}")).into()),
        Some(Ok(x)) => x,
    };
    if more {
        return Err(failure(format!(
            "STS at {origin}: the STS answer is too large (over {} KiB); not read, no session kept for '{name}'",
            MAX_ANSWER >> 10
        ))
        .into());
    }
    let text = Zeroizing::new(String::from_utf8_lossy(&body).into_owned());
    parse_answer(
        &name,
        &origin,
        status,
        &text,
        crate::model::now(),
        requested,
    )
    .map_err(Into::into)
}

mod xml {
    use serde::Deserialize;

    /// `<AssumeRoleResponse>` or `<GetSessionTokenResponse>`.
    #[derive(Deserialize)]
    pub struct Answer {
        #[serde(rename = "AssumeRoleResult", alias = "GetSessionTokenResult")]
        pub result: Result_,
    }
    #[derive(Deserialize)]
    pub struct Result_ {
        #[serde(rename = "Credentials")]
        pub credentials: Credentials,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct Credentials {
        pub access_key_id: String,
        pub secret_access_key: String,
        pub session_token: String,
        pub expiration: String,
    }
    /// `<ErrorResponse>`.
    #[derive(Deserialize)]
    pub struct Failed {
        #[serde(rename = "Error")]
        pub error: Error,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    pub struct Error {
        #[serde(default)]
        pub code: String,
        #[serde(default)]
        pub message: String,
    }
}

/// Reads STS's answer: the session, or STS's error code and message
/// (outside text, shown escaped).
/// An `Expiration` not later than `now` is refused; one later than `now`
/// plus the `requested` seconds (and [`EXPIRATION_SLACK_SECS`]) is cut to
/// that, so a wrong clock or answer neither hands out an ended session (and
/// calls STS on every use) nor keeps one for ever.
fn parse_answer(
    name: &str,
    origin: &str,
    status: u16,
    text: &str,
    now: OffsetDateTime,
    requested: u64,
) -> Result<Creds, UserError> {
    let shown = |t: &str| crate::text::escape(t, crate::text::SHOWN).into_owned();
    if !(200..300).contains(&status) {
        let (code, message) = match quick_xml::de::from_str::<xml::Failed>(text) {
            Ok(f) => (f.error.code, f.error.message),
            Err(_) => (format!("HTTP {status}"), String::new()),
        };
        let mut e = failure(format!(
            "STS at {origin} refused a session for '{name}': {}{}{}",
            shown(&code),
            if message.is_empty() { "" } else { ": " },
            shown(&message)
        ));
        if status == 403 || status == 401 {
            e = e.hint(format!(
                "check the keys, role_arn and mfa_serial of '{name}' (`authcfg show {name}`)"
            ));
        }
        return Err(e);
    }
    let a: xml::Answer = quick_xml::de::from_str(text).map_err(|e| {
        failure(format!(
            "STS at {origin}: the answer is not an AssumeRole or GetSessionToken result ({})",
            shown(&e.to_string())
        ))
    })?;
    let c = a.result.credentials;
    let secret_access_key = Zeroizing::new(c.secret_access_key);
    let session_token = Zeroizing::new(c.session_token);
    let expires = OffsetDateTime::parse(c.expiration.trim(), &Rfc3339)
        .map(|t| {
            t.to_offset(time::UtcOffset::UTC)
                .replace_nanosecond(0)
                .unwrap_or(t)
        })
        .map_err(|_| {
            failure(format!(
                "STS at {origin}: the session's Expiration '{}' is not a time",
                shown(&c.expiration)
            ))
        })?;
    if expires <= now {
        return Err(failure(format!(
            "STS at {origin}: the session for '{name}' ends at {}, not later than now ({}); it is not kept",
            crate::model::rfc3339(expires),
            crate::model::rfc3339(now.replace_nanosecond(0).unwrap_or(now))
        ))
        .hint("check this machine's clock (`date -u`) and the STS endpoint of the config"));
    }
    let latest = now + time::Duration::seconds(requested as i64 + EXPIRATION_SLACK_SECS);
    let expires = expires.min(latest.replace_nanosecond(0).unwrap_or(latest));
    let bad = |t: &str| t.trim().is_empty() || t.chars().any(|c| c.is_control());
    if bad(&c.access_key_id) || bad(&secret_access_key) || bad(&session_token) {
        return Err(failure(format!(
            "STS at {origin}: the session's keys are empty or hold control characters"
        )));
    }
    Ok(Creds {
        access_key_id: c.access_key_id.trim().to_string(),
        secret_access_key,
        session_token,
        expires,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> OffsetDateTime {
        OffsetDateTime::parse(t, &Rfc3339).unwrap()
    }

    #[test]
    fn sts_answers_parse() {
        let now = at("2030-01-02T02:30:00Z");
        let ok = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<AssumeRoleResult><SourceIdentity>x</SourceIdentity><AssumedRoleUser><Arn>arn</Arn><AssumedRoleId>id</AssumedRoleId></AssumedRoleUser>
<Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>s3cr&amp;t</SecretAccessKey><SessionToken>tok</SessionToken><Expiration>2030-01-02T03:04:05.123Z</Expiration></Credentials>
</AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>"#;
        let c = parse_answer("n", "o", 200, ok, now, 3600).unwrap();
        assert_eq!(c.access_key_id, "ASIAEXAMPLE");
        assert_eq!(c.secret_access_key.as_str(), "s3cr&t");
        assert_eq!(c.expires.year(), 2030);
        let gst = ok
            .replace("AssumeRoleResponse", "GetSessionTokenResponse")
            .replace("AssumeRoleResult", "GetSessionTokenResult");
        assert_eq!(
            parse_answer("n", "o", 200, &gst, now, 3600)
                .unwrap()
                .session_token
                .as_str(),
            "tok"
        );
        let err = r#"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no
way</Message></Error><RequestId>r</RequestId></ErrorResponse>"#;
        let e = parse_answer("n", "o", 403, err, now, 3600).unwrap_err();
        assert!(e.message.contains("AccessDenied"), "{}", e.message);
        assert!(!e.message.contains('\n'), "{}", e.message);
        assert!(parse_answer("n", "o", 200, "<x/>", now, 3600).is_err());
        assert!(parse_answer("n", "o", 500, "not xml", now, 3600)
            .unwrap_err()
            .message
            .contains("HTTP 500"));
    }

    #[test]
    fn an_ended_or_far_expiration_is_refused_or_cut() {
        let answer = |exp: &str| {
            format!("<GetSessionTokenResponse><GetSessionTokenResult><Credentials><AccessKeyId>ASIA</AccessKeyId><SecretAccessKey>s</SecretAccessKey><SessionToken>t</SessionToken><Expiration>{exp}</Expiration></Credentials></GetSessionTokenResult></GetSessionTokenResponse>")
        };
        let now = at("2030-01-02T02:30:00Z");
        let e =
            parse_answer("n", "o", 200, &answer("2001-01-01T00:00:00Z"), now, 3600).unwrap_err();
        assert!(e.message.contains("not later than now"), "{}", e.message);
        assert!(parse_answer("n", "o", 200, &answer("2030-01-02T02:30:00Z"), now, 3600).is_err());
        let c = parse_answer("n", "o", 200, &answer("2099-01-01T00:00:00Z"), now, 3600).unwrap();
        assert_eq!(c.expires, at("2030-01-02T03:35:00Z"));
        let c = parse_answer("n", "o", 200, &answer("2030-01-02T03:30:00Z"), now, 3600).unwrap();
        assert_eq!(c.expires, at("2030-01-02T03:30:00Z"));
    }

    #[test]
    fn role_session_names_stay_in_stss_alphabet() {
        assert_eq!(role_session_name("team/prod s3"), "authcfg-team-prod-s3");
        assert_eq!(role_session_name(&"x".repeat(100)).len(), 64);
    }
}
