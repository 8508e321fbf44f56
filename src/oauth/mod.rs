//! OAuth2 (docs/ARCHITECTURE.md, "OAuth2"): provider catalog, authorization flows, token refresh
//! and revocation, on the `oauth2` crate with a blocking reqwest client.
//! Nothing here prints: `cli/` drives the flows and talks to the user.

pub mod browser;
pub mod catalog;
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

/// Network timeout for each request to a provider.
pub fn request_timeout() -> Duration {
    Duration::from_secs(
        std::env::var("AUTHCFG_HTTP_TIMEOUT")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(30),
    )
}

/// No redirects: the `oauth2` crate requires it (a redirected token request
/// could leak the code or the secret). TLS is verified against the system
/// trust store, as for every other credential.
pub fn http_client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .use_preconfigured_tls((*crate::net::Tls::system().config).clone())
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

/// Builds the client from a config's stored fields.
pub fn client(doc: &ConfigDoc, redirect: Option<&str>) -> anyhow::Result<OClient> {
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

/// What went wrong at the provider, in the seed's troubleshooting terms.
pub fn classify_token_error<RE: std::error::Error + 'static, T: oauth2::ErrorResponse + 'static>(
    err: &oauth2::RequestTokenError<RE, T>,
    name: &str,
) -> UserError {
    use oauth2::RequestTokenError as R;
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
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            let e = oauth_error(format!("the provider refused: {code}{desc}"));
            match code.as_str() {
                "invalid_client" | "unauthorized_client" => {
                    e.hint("invalid client credentials: verify the Client ID and Client Secret (`authcfg edit NAME --secret-stdin client_secret`)")
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
            oauth_error(format!("cannot reach the provider: {text}"))
                .hint("check network connectivity and firewall rules, and the endpoint URLs (`authcfg show NAME`)")
        }
        // The body may hold tokens: never shown.
        R::Parse(_, _) => oauth_error("the provider's response could not be understood")
            .hint("check that the token URL points at an OAuth2 token endpoint"),
        R::Other(s) => oauth_error(format!("OAuth error: {s}")),
    }
}
