//! Issuer discovery: OpenID Connect (`/.well-known/openid-configuration`),
//! falling back to RFC 8414 (`/.well-known/oauth-authorization-server`).

use crate::error::{Exit, UserError};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: String,
    pub device_authorization_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub introspection_endpoint: Option<String>,
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Vec<String>,
    #[serde(default)]
    pub scopes_supported: Vec<String>,
}

impl Metadata {
    /// The identity scopes the issuer supports, for when the user names none.
    pub fn default_scopes(&self) -> String {
        ["openid", "email", "profile", "offline_access"]
            .into_iter()
            .filter(|s| self.scopes_supported.iter().any(|x| x == s))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

pub fn discover(issuer: &str) -> Result<Metadata, UserError> {
    let base = super::check_endpoint("--issuer", issuer)?;
    let trimmed = base.as_str().trim_end_matches('/').to_string();
    let http = super::http_client();
    let mut tried = vec![];
    for suffix in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let url = format!("{trimmed}{suffix}");
        match http.get(&url).send() {
            Ok(r) if r.status().is_success() => {
                let meta: Metadata = r.json().map_err(|e| {
                    UserError::new(
                        Exit::OAuth,
                        format!("{url} is not valid discovery metadata: {e}"),
                    )
                })?;
                if meta.issuer.trim_end_matches('/') != trimmed {
                    return Err(UserError::new(
                        Exit::OAuth,
                        format!(
                            "{url} names issuer {}, not {trimmed}",
                            // The provider's words: escaped, cut.
                            crate::text::Outside::new(meta.issuer.as_str())
                        ),
                    )
                    .hint("use the exact issuer URL the provider documents"));
                }
                return Ok(meta);
            }
            Ok(r) => tried.push(format!("{url}: HTTP {}", r.status().as_u16())),
            Err(e) => tried.push(format!("{url}: {e}")),
        }
    }
    Err(UserError::new(Exit::OAuth, format!("discovery failed for {trimmed}: {}", tried.join("; ")))
        .hint("check the issuer URL, or give the endpoints with --set authorization_url=... --set token_url=..."))
}
