//! OAuth2 (docs/ARCHITECTURE.md, "OAuth2"): provider catalog, authorization flows, token refresh
//! and revocation, on the `oauth2` crate with a blocking reqwest client.
//! Nothing here prints: `cli/` drives the flows and talks to the user.

pub mod browser;
pub mod discovery;
pub mod loopback;
pub mod tokens;

use crate::error::{Exit, UserError};
use crate::model::ConfigDoc;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, ClientId, ClientSecret, DeviceAuthorizationUrl, EndpointMaybeSet,
    ExtraTokenFields, IntrospectionUrl, RedirectUrl, RevocationUrl, StandardRevocableToken,
    StandardTokenResponse, TokenUrl,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The id token, which the `oauth2` crate's basic response drops, and the
/// refresh token's lifetime where the provider says it (Google's
/// time-limited grants, GitHub apps).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_expires_in: Option<u64>,
}
impl ExtraTokenFields for IdTokenField {}

pub type TokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;
pub type OClient = oauth2::Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointMaybeSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

static REQUEST_TIMEOUT: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();

/// Sets the network timeout for requests to providers, once, from the
/// settings (`AUTHCFG_HTTP_TIMEOUT`) read at the edge.
pub fn set_request_timeout(t: Duration) {
    let _ = REQUEST_TIMEOUT.set(t);
}

/// Network timeout for each request to a provider (default 30 s).
pub fn request_timeout() -> Duration {
    *REQUEST_TIMEOUT.get().unwrap_or(&Duration::from_secs(30))
}

/// No redirects: the `oauth2` crate requires it (a redirected token request
/// could leak the code or the secret). TLS is verified against the system
/// trust store, as for every other credential.
pub fn http_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .use_preconfigured_tls((*crate::net::Tls::system().config).clone())
        .dns_resolver(std::sync::Arc::new(crate::net::Resolver))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(request_timeout())
        .user_agent(concat!("authcfg/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("TLS backend initializes")
}

fn oauth_error(message: impl Into<String>) -> UserError {
    UserError::new(Exit::OAuth, message)
}

/// Endpoints must be https, except on loopback hosts (local test servers):
/// `net::policy`'s rule for every URL that receives a secret. Called where
/// an endpoint is used, not only where it is entered.
pub fn check_endpoint(field: &str, url: &str) -> Result<url::Url, UserError> {
    crate::net::check_secret_url(url).map_err(|r| match r {
        crate::net::UrlRefusal::NotAUrl(e) => {
            crate::error::usage(format!("{field}: not a URL ({e})"))
                .hint("write it as https://host/path")
        }
        other => crate::error::usage(format!(
            "{field}: {other}; it must use https (http is allowed only on 127.0.0.1, ::1 or localhost)"
        ))
        .hint(format!("change it with `authcfg edit NAME --set {field}=https://...`")),
    })
}

thread_local! {
    /// The secret values of the config the last client on this thread was
    /// built from: what [`classify_token_error`] takes out of a provider's
    /// answer when its caller passes only the config's name.
    static IN_FLIGHT: std::cell::RefCell<Vec<crate::secret::Secret>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// Builds the client from a config's stored fields.
pub fn client(doc: &ConfigDoc, redirect: Option<&str>) -> anyhow::Result<OClient> {
    IN_FLIGHT.with(|s| {
        *s.borrow_mut() = secret_values(doc)
            .into_iter()
            .map(crate::secret::Secret::new)
            .collect()
    });
    let get = |f: &str| doc.get(f).filter(|v| !v.is_empty());
    let url = |f: &str| -> anyhow::Result<Option<String>> {
        match get(f) {
            Some(u) => Ok(Some(check_endpoint(f, u)?.to_string())),
            None => Ok(None),
        }
    };
    let client_id = get("client_id").ok_or_else(|| oauth_error("the config has no client_id"))?;
    let mut c = oauth2::Client::new(ClientId::new(client_id.to_string()))
        .set_auth_uri_option(url("authorization_url")?.map(AuthUrl::new).transpose()?)
        .set_token_uri_option(url("token_url")?.map(TokenUrl::new).transpose()?)
        .set_device_authorization_url_option(
            url("device_url")?
                .map(DeviceAuthorizationUrl::new)
                .transpose()?,
        )
        .set_revocation_url_option(url("revocation_url")?.map(RevocationUrl::new).transpose()?)
        .set_introspection_url_option(
            url("introspection_url")?
                .map(IntrospectionUrl::new)
                .transpose()?,
        )
        .set_auth_type(match get("auth_method") {
            Some("client_secret_basic") => AuthType::BasicAuth,
            _ => AuthType::RequestBody,
        });
    if let Some(secret) = get("client_secret") {
        if get("auth_method") != Some("none") {
            c = c.set_client_secret(ClientSecret::new(secret.to_string()));
        }
    }
    if let Some(r) = redirect {
        c = c.set_redirect_uri(RedirectUrl::new(r.to_string())?);
    }
    Ok(c)
}

/// The longest text of a provider's (an `error_description`, a
/// `WWW-Authenticate` header) that goes into an error message.
pub const MAX_PROVIDER_TEXT: usize = 300;

/// The marker that stands for a secret taken out of a provider's text.
pub const REDACTED: &str = "[REDACTED]";

/// The secret values of a config: every field the catalog calls secret
/// (client secret, access and refresh tokens, unknown fields) and the token
/// fields whatever the catalog says.
pub fn secret_values(doc: &ConfigDoc) -> Vec<&str> {
    const ALWAYS: [&str; 4] = ["client_secret", "access_token", "refresh_token", "id_token"];
    doc.fields
        .iter()
        .filter(|(k, _)| {
            ALWAYS.contains(&k.as_str())
                || crate::catalog::is_secret(doc.meta.kind, &doc.meta.type_id, k)
        })
        .map(|(_, v)| v.expose())
        .filter(|v| !v.is_empty())
        .collect()
}

/// Text a provider sent back (which may echo the request: some identity
/// providers and proxies quote the form they received, the client secret
/// and the refresh token with it), made fit for an error message and the
/// audit trail: each of the config's secret values, in any form the
/// redaction of answers decodes (`ops::redact`: raw, percent-encoded,
/// JSON-escaped, HTML entities, base64 at any offset of a longer base64
/// text, either alphabet: an echoed `Authorization: Basic` header), is
/// replaced by `[REDACTED]`; so are the
/// values of secret form parameters (`client_secret=`, `refresh_token=`,
/// `code=`, ...) and `Basic`/`Bearer` credentials whatever they hold; control
/// characters are escaped and the text is cut to [`MAX_PROVIDER_TEXT`].
pub fn redact(text: &str, doc: &ConfigDoc) -> String {
    redact_values(text, &secret_values(doc))
}

/// [`redact`] with the secret values given. The values are found in every
/// form by the one redaction of answers (`ops::redact`).
pub fn redact_values(text: &str, secrets: &[&str]) -> String {
    let mut r = crate::redact::Redactor::new();
    for s in secrets {
        r.add_labelled(s, REDACTED);
    }
    let out = r.text(text);
    let out =
        secret_parameters().replace_all(&out, |c: &regex::Captures| format!("{}{REDACTED}", &c[1]));
    crate::text::escape(&out, MAX_PROVIDER_TEXT).into_owned()
}

/// Form parameters and header credentials that hold a secret, whatever
/// the value: for text about a request whose secrets are not all known
/// (an authorization code, a PKCE verifier, a device code).
fn secret_parameters() -> &'static regex::Regex {
    static RE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r#"(\b(?:client_secret|refresh_token|access_token|id_token|code|code_verifier|device_code|password|assertion|client_assertion|token)=|\b(?:[Bb]asic|BASIC|[Bb]earer|BEARER)\s+)[^\s&"',;<>\[\]]+"#,
        )
        .expect("valid pattern")
    });
    &RE
}

/// What went wrong at the provider, in the seed's troubleshooting terms.
/// The provider's text is redacted ([`redact`]) of the secret values of the
/// config the last [`client`] on this thread was built from, and of secret
/// form parameters whatever their value. Where the config is at hand,
/// [`classify_token_error_for`] says which config without relying on that.
pub fn classify_token_error<RE: std::error::Error + 'static, T: oauth2::ErrorResponse + 'static>(
    err: &oauth2::RequestTokenError<RE, T>,
    name: &str,
) -> UserError {
    IN_FLIGHT.with(|s| {
        let held = s.borrow();
        let secrets: Vec<&str> = held.iter().map(crate::secret::Secret::expose).collect();
        classify(err, name, &secrets)
    })
}

/// [`classify_token_error`] for a request made with `doc`: none of its
/// secret values reaches the message, however the provider echoes them.
pub fn classify_token_error_for<
    RE: std::error::Error + 'static,
    T: oauth2::ErrorResponse + 'static,
>(
    err: &oauth2::RequestTokenError<RE, T>,
    doc: &ConfigDoc,
) -> UserError {
    classify(err, &doc.meta.name, &secret_values(doc))
}

fn classify<RE: std::error::Error + 'static, T: oauth2::ErrorResponse + 'static>(
    err: &oauth2::RequestTokenError<RE, T>,
    name: &str,
    secrets: &[&str],
) -> UserError {
    use oauth2::RequestTokenError as R;
    let clean = |text: &str| redact_values(text, secrets);
    match err {
        R::ServerResponse(resp) => {
            let json = serde_json::to_value(resp).unwrap_or_default();
            let code = json
                .get("error")
                .and_then(|v| v.as_str())
                .unwrap_or("error")
                .to_string();
            let desc = json
                .get("error_description")
                .and_then(|v| v.as_str())
                .map(|d| format!(": {}", clean(d)))
                .unwrap_or_default();
            let e = oauth_error(format!("the provider refused: {}{desc}", clean(&code)));
            let e = match code.as_str() {
                "invalid_scope" | "insufficient_scope" | "access_denied" => {
                    e.cause(crate::error::Cause::Permission)
                }
                _ => e.cause(crate::error::Cause::Credentials),
            };
            match code.as_str() {
                "invalid_client" | "unauthorized_client" => {
                    e.hint(format!("invalid client credentials: verify the Client ID and Client Secret (`authcfg edit {name} --secret-stdin client_secret`)"))
                }
                "invalid_grant" => e.hint(format!(
                    "the refresh token or code is invalid, expired or revoked: re-authorize with `authcfg reauth {name}`"
                )),
                "invalid_scope" | "insufficient_scope" => {
                    e.hint("request scopes the client is allowed: check --scopes and the app's permissions")
                }
                "access_denied" => e.hint("the authorization was declined; run the command again and approve it"),
                "expired_token" => e.hint("the device code expired before it was approved; run the command again"),
                _ => e,
            }
        }
        R::Request(re) => {
            let mut text = re.to_string();
            let mut source = re.source();
            while let Some(s) = source {
                text = format!("{text}: {s}");
                source = s.source();
            }
            oauth_error(format!("cannot reach the provider: {}", clean(&text)))
                .cause(crate::error::Cause::Unreachable(crate::net::reach(re)))
                .hint(format!("check network connectivity and firewall rules, and the endpoint URLs (`authcfg show {name}`)"))
        }
        // The body may hold tokens: never shown.
        R::Parse(_, _) => oauth_error("the provider's response could not be understood")
            .hint("check that the token URL points at an OAuth2 token endpoint"),
        R::Other(s) => oauth_error(format!("OAuth error: {}", clean(s))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn redacts_secrets_in_every_form_an_echo_takes() {
        let secret = "CS-planted/49+x=y z\"q";
        let id = "client-1";
        let basic = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            url::form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>(),
            url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>()
        ));
        let raw_basic = base64::engine::general_purpose::URL_SAFE.encode(format!("{id}:{secret}"));
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "refresh_token")
            .append_pair("refresh_token", "RT-planted-1")
            .finish();
        let text = format!(
            "echo: {secret} | {body} | {} | {} | Basic {basic} | {raw_basic} | {} | {}",
            url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>(),
            url::form_urlencoded::byte_serialize(secret.as_bytes())
                .collect::<String>()
                .to_lowercase(),
            serde_json::to_string(secret).unwrap(),
            base64::engine::general_purpose::STANDARD.encode(secret),
        );
        let out = redact_values(&text, &[secret, "RT-planted-1"]);
        for leaked in [
            "CS-planted",
            "planted/49",
            "RT-planted",
            "planted%2F49",
            "planted%2f49",
        ] {
            assert!(!out.contains(leaked), "{leaked} in {out}");
        }
        // The base64 forms: no 8 characters of the part that encodes the
        // secret ("client-1:" is 12 characters of base64).
        let plain_b64 = base64::engine::general_purpose::STANDARD.encode(secret);
        for (blob, from) in [(&basic, 12), (&raw_basic, 12), (&plain_b64, 0)] {
            let part = &blob[from..blob.trim_end_matches('=').len() - 1];
            for w in part.as_bytes().windows(8) {
                let w = std::str::from_utf8(w).unwrap();
                assert!(!out.contains(w), "{w} of {blob} in {out}");
            }
        }
        assert!(out.contains("echo: [REDACTED]"), "{out}");
        assert!(
            !out.ends_with('…'),
            "nothing was cut before the checks: {out}"
        );
    }

    #[test]
    fn without_the_values_secret_parameters_are_still_taken_out() {
        let out = redact_values(
            "bad request: grant_type=authorization_code&code=AC-123&code_verifier=V-456&client_secret=S-789 Authorization: Bearer eyJ.abc.def",
            &[],
        );
        for leaked in ["AC-123", "V-456", "S-789", "eyJ.abc"] {
            assert!(!out.contains(leaked), "{leaked} in {out}");
        }
        assert!(out.contains("grant_type=authorization_code"), "{out}");
    }

    #[test]
    fn provider_text_is_cut_short_and_has_no_control_characters() {
        let out = redact_values(&format!("a\x1b[2K\r{}", "x".repeat(5000)), &[]);
        assert!(!out.contains('\x1b') && !out.contains('\r'));
        assert!(out.ends_with('…'), "{out}");
        assert!(out.matches('x').count() < MAX_PROVIDER_TEXT, "{out}");
    }
}
