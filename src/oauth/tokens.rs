//! Token bookkeeping: storing a token response in a config, refreshing,
//! revoking, and finding the account a token belongs to.

use super::{classify_token_error_for, client, http_client, redact, TokenResponse};
use crate::error::{Exit, UserError};
use crate::model::ConfigDoc;
use crate::secret::Secret;
use base64::Engine;
use oauth2::{RefreshToken, TokenResponse as _};
use time::{Duration, OffsetDateTime};

/// How long before expiry a token is refreshed: `AUTHCFG_REFRESH_SKEW`
/// seconds when set, else the lesser of 60 s and a quarter of the token's
/// lifetime (a 3-second token is not refreshed on every call).
pub fn skew(doc: &ConfigDoc, configured: Option<i64>) -> Duration {
    if let Some(s) = configured {
        return Duration::seconds(s);
    }
    let lifetime = match (doc.meta.issued, doc.meta.expires) {
        (Some(i), Some(e)) if e > i => e - i,
        _ => Duration::seconds(240),
    };
    std::cmp::min(Duration::seconds(60), lifetime / 4)
}

pub fn is_oauth(doc: &ConfigDoc) -> bool {
    doc.meta.kind == crate::model::Kind::Oauth2
}

pub fn needs_refresh(doc: &ConfigDoc, configured_skew: Option<i64>) -> bool {
    is_oauth(doc)
        && (doc.get("access_token").is_none_or(str::is_empty)
            || doc
                .meta
                .expires
                .is_some_and(|e| e - skew(doc, configured_skew) <= OffsetDateTime::now_utc()))
}

/// Whether this config can get a new access token without a person.
pub fn can_refresh(doc: &ConfigDoc) -> bool {
    doc.get("refresh_token").is_some_and(|r| !r.is_empty())
        || doc.get("grant") == Some("client_credentials")
}

/// Stores a token response. A response without a refresh token keeps the
/// one we have (providers rotate it only sometimes).
pub fn apply(doc: &mut ConfigDoc, resp: &TokenResponse) {
    let set = |doc: &mut ConfigDoc, k: &str, v: String| {
        doc.fields.insert(k.to_string(), Secret::new(v));
    };
    set(doc, "access_token", resp.access_token().secret().clone());
    let now = crate::model::now();
    if let Some(rt) = resp.refresh_token() {
        set(doc, "refresh_token", rt.secret().clone());
        doc.meta.refresh_expires =
            refresh_lifetime(doc, resp.extra_fields().refresh_token_expires_in).map(|d| now + d);
    }
    set(
        doc,
        "token_type",
        // As the provider wrote it (DPoP, MAC, ...): the credential model
        // sends `Authorization: <token_type> <token>` (ops::credential).
        match resp.token_type() {
            oauth2::basic::BasicTokenType::Bearer => "Bearer".into(),
            oauth2::basic::BasicTokenType::Mac => "MAC".into(),
            oauth2::basic::BasicTokenType::Extension(t) => t.clone(),
        },
    );
    if let Some(scopes) = resp.scopes() {
        let s: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        set(doc, "granted_scopes", s.join(" "));
    }
    doc.meta.issued = Some(now);
    doc.meta.expires = resp
        .expires_in()
        .map(|d| now + Duration::seconds(d.as_secs() as i64));
    doc.meta.last_test = None;
    if let Some(who) = resp
        .extra_fields()
        .id_token
        .as_deref()
        .and_then(account_from_id_token)
    {
        set_account(doc, &who);
    }
}

/// Sets the account a provider names (id token, userinfo): outside text,
/// with the config's own secrets replaced (a provider that answers with the
/// token it was sent does not get it shown as the account).
pub fn set_account(doc: &mut ConfigDoc, who: &str) {
    let clean = crate::redact::own_secrets(&[doc], who);
    doc.meta.account = Some(clean.into());
}

/// How long a new refresh token lasts: what the provider said
/// (`refresh_token_expires_in`), else the config's `refresh_token_days`
/// (e.g. 7 for a Google app in "Testing" status), else the provider's
/// documented lifetime (catalog `refresh_token_days`); `None` when it does
/// not expire on a schedule.
pub fn refresh_lifetime(doc: &ConfigDoc, said: Option<u64>) -> Option<Duration> {
    if let Some(s) = said.filter(|s| *s > 0) {
        return Some(Duration::seconds(s.min(100 * 365 * 86_400) as i64));
    }
    let days = doc
        .get("refresh_token_days")
        .and_then(|d| d.trim().parse::<u32>().ok())
        .or_else(|| {
            crate::catalog::providers::find(&doc.meta.type_id).and_then(|p| p.refresh_token_days)
        })
        .filter(|d| *d > 0)?;
    Some(Duration::days(days.min(36_500) as i64))
}

/// Whole days left before the refresh token expires (0: today or past).
pub fn reauthorize_within(doc_meta: &crate::model::Meta) -> Option<i64> {
    let at = doc_meta.refresh_expires?;
    let left = at - OffsetDateTime::now_utc();
    Some(if left.is_negative() {
        0
    } else {
        (left.whole_seconds() + 86_399) / 86_400
    })
}

/// The e-mail (or preferred username, or subject) from an id token's claims.
/// The token came straight from the token endpoint over TLS, which OpenID
/// Connect accepts in place of checking its signature for display purposes.
pub fn account_from_id_token(jwt: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    account_from_claims(&claims)
}

pub fn account_from_claims(claims: &serde_json::Value) -> Option<String> {
    [
        "email",
        "preferred_username",
        "login",
        "username",
        "name",
        "sub",
    ]
    .iter()
    .find_map(|k| claims.get(*k).and_then(|v| v.as_str()).map(str::to_string))
}

/// Why the userinfo endpoint gave no claims.
#[derive(Debug)]
pub enum UserinfoError {
    NoEndpoint,
    /// The URL may not receive the token (checked now, whatever `add` or
    /// `edit` accepted); nothing was sent.
    NotAllowed(crate::net::UrlRefusal),
    /// The request did not get an answer.
    Network(String, crate::error::Reach),
    /// An answer other than 2xx: status and WWW-Authenticate.
    Status(u16, String),
    NotJson,
}

/// GET the userinfo (who-am-i) endpoint with the access token, as the
/// header `authorization` the credential model made of it
/// (`ops::credential`). The URL is checked against the credential policy
/// before the token is sent, and no redirect is followed.
pub fn userinfo(
    doc: &ConfigDoc,
    authorization: (&str, &str),
) -> Result<serde_json::Value, UserinfoError> {
    let url = doc
        .get("userinfo_url")
        .filter(|u| !u.is_empty())
        .ok_or(UserinfoError::NoEndpoint)?;
    let url = crate::net::check_secret_url(url).map_err(UserinfoError::NotAllowed)?;
    let mut value = reqwest::header::HeaderValue::from_str(authorization.1).map_err(|_| {
        UserinfoError::Network(
            "the token cannot be sent in a header".into(),
            crate::error::Reach::Other,
        )
    })?;
    value.set_sensitive(true);
    let resp = http_client()
        .get(url)
        .header(authorization.0, value)
        .header("Accept", "application/json")
        .send()
        .map_err(|e| {
            let reach = crate::net::reach(&e);
            UserinfoError::Network(crate::net::chain(&e.without_url()), reach)
        })?;
    let status = resp.status().as_u16();
    if !(200..300).contains(&status) {
        let www = resp
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        return Err(UserinfoError::Status(status, redact(www, doc)));
    }
    resp.json().map_err(|_| UserinfoError::NotJson)
}

/// Gets a new access token: the refresh token grant, or the client
/// credentials grant for machine configs. Network only; the caller saves.
pub fn refresh(doc: &mut ConfigDoc) -> anyhow::Result<()> {
    let c = client(doc, None)?;
    let http = http_client();
    let name = doc.meta.name.clone();
    let resp = if doc.get("grant") == Some("client_credentials") {
        let mut req = c.exchange_client_credentials()?;
        for s in scopes(doc) {
            req = req.add_scope(oauth2::Scope::new(s));
        }
        req.request(&http)
            .map_err(|e| classify_token_error_for(&e, doc))?
    } else {
        let rt = doc
            .get("refresh_token")
            .filter(|r| !r.is_empty())
            .ok_or_else(|| {
                UserError::new(
                    Exit::OAuth,
                    format!("'{name}' has no refresh token and its access token expired"),
                )
                .cause(crate::error::Cause::Credentials)
                .hint(format!("re-authorize with `authcfg reauth {name}`"))
            })?
            .to_string();
        c.exchange_refresh_token(&RefreshToken::new(rt))?
            .request(&http)
            .map_err(|e| classify_token_error_for(&e, doc))?
    };
    apply(doc, &resp);
    Ok(())
}

pub fn scopes(doc: &ConfigDoc) -> Vec<String> {
    doc.get("scopes")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// RFC 7009: revokes the refresh token, then the access token. `Ok(false)`
/// when the provider has no revocation endpoint. Done with reqwest directly:
/// the `oauth2` crate refuses http endpoints even on loopback.
pub fn revoke(doc: &ConfigDoc) -> anyhow::Result<bool> {
    let Some(url) = doc.get("revocation_url").filter(|u| !u.is_empty()) else {
        return Ok(false);
    };
    super::check_endpoint("revocation_url", url)?;
    let http = http_client();
    let client_id = doc.get("client_id").unwrap_or_default();
    let secret = doc
        .get("client_secret")
        .filter(|s| !s.is_empty() && doc.get("auth_method") != Some("none"));
    for (field, hint) in [
        ("refresh_token", "refresh_token"),
        ("access_token", "access_token"),
    ] {
        let Some(token) = doc.get(field).filter(|v| !v.is_empty()) else {
            continue;
        };
        let mut form = vec![("token", token), ("token_type_hint", hint)];
        let mut req = http.post(url);
        match (secret, doc.get("auth_method")) {
            (Some(s), Some("client_secret_basic")) => req = req.basic_auth(client_id, Some(s)),
            (Some(s), _) => {
                form.push(("client_id", client_id));
                form.push(("client_secret", s));
            }
            (None, _) => form.push(("client_id", client_id)),
        }
        let resp = req.form(&form).send().map_err(|e| {
            UserError::new(
                Exit::OAuth,
                format!(
                    "cannot reach the revocation endpoint: {}",
                    crate::net::chain(&e.without_url())
                ),
            )
        })?;
        let status = resp.status().as_u16();
        if !(200..300).contains(&status) {
            let body: serde_json::Value = resp.json().unwrap_or_default();
            let code = redact(
                body.get("error")
                    .and_then(|v| v.as_str())
                    .unwrap_or("error"),
                doc,
            );
            return Err(UserError::new(Exit::OAuth, format!("the provider refused to revoke the {field}: HTTP {status} {code}"))
                .hint("check the client credentials; or revoke access in the provider's console and pass --keep-tokens")
                .into());
        }
    }
    Ok(true)
}
