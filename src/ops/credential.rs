//! The credential model (docs/ARCHITECTURE.md, "Credential model"): what a
//! config puts on an HTTP request, decided once from the config
//! (`Credential::of`) and put on a request by one function
//! (`Credential::apply`). `header`, `token`, `http`, the MCP `http_request`
//! tool, the HTTP probe of `test` (custom types, and OAuth2 at the userinfo
//! endpoint) and the git credential helper all take it from here, so one
//! config is sent the same way by every path.
//!
//! Decided here, once:
//! - an `api_key` config without `location` sends its key as a header
//!   (the form's default); an unknown location is an error;
//! - OAuth2 (providers and the custom `oauth2` type): `Authorization:
//!   <token_type> <access_token>`, the token type as the token response
//!   gave it, `Bearer` when there is none or it is any case of "bearer";
//! - the field holding the secret must not be empty (`api_key`, `token`,
//!   `password`, `access_token`, S3's secret key, a connector's secret):
//!   `CredentialError::Empty`, exit 2, on every path;
//! - a header name or value that HTTP cannot carry (a line break) is
//!   refused when the credential is built, not sent half;
//! - custom type ids are parsed once (`catalog::custom::Auth`: the seed's
//!   names and the CLI ids, so `basic_auth` and `basic` are one type).
//!
//! A token due for refresh is refreshed before this is built: the callers
//! read their config with `handout::read_for_use` (single-flight refresh,
//! `ops::refresh`) or, for `test`, `refresh::ensure_fresh`.

pub use crate::catalog::custom::Auth as CustomAuth;
use crate::error::{failure, usage, UserError};
use crate::model::{ConfigDoc, Kind};
use base64::Engine;
use reqwest::header::{HeaderName, HeaderValue};
use zeroize::Zeroizing;

/// Where an API key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Header,
    Query,
    Cookie,
}

/// How a credential is attached to a request.
pub enum How {
    /// Nothing (`no_auth`, a connector without auth).
    None,
    /// A key, after an optional prefix, in a header, query parameter or
    /// cookie (`api_key`; a connector's header or query secret).
    Key {
        location: Location,
        name: String,
        prefix: String,
        key: Zeroizing<String>,
    },
    /// A token in a header after a prefix: a custom bearer (its header and
    /// prefix), OAuth2 (`Authorization`, `<token_type> `).
    Token {
        header: String,
        prefix: String,
        token: Zeroizing<String>,
    },
    /// HTTP Basic.
    Basic {
        username: String,
        password: Zeroizing<String>,
    },
    /// AWS Signature Version 4, computed per request (S3 connectors).
    SigV4 {
        access_key_id: String,
        secret_access_key: Zeroizing<String>,
        session_token: Option<Zeroizing<String>>,
        region: String,
        service: String,
    },
}

/// What one config puts on a request.
pub struct Credential {
    /// The config's name and type id, for messages.
    pub config: String,
    pub type_id: String,
    /// Whether it is an OAuth2 provider config (git's user name).
    pub provider: bool,
    pub how: How,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match &self.how {
            How::None => "none",
            How::Key { .. } => "key",
            How::Token { .. } => "token",
            How::Basic { .. } => "basic",
            How::SigV4 { .. } => "sigv4",
        };
        write!(f, "Credential({}, {how}, ****)", self.config)
    }
}

/// Why a config gives no credential for a use. Never holds a secret value;
/// `UserError::from` gives each its message, hint and exit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialError {
    /// The type puts nothing on an HTTP request (env, a database).
    NotHttp { config: String, type_id: String },
    /// The field holding the secret is empty or absent.
    Empty {
        config: String,
        field: String,
        /// An OAuth2 provider config: a new authorization gets one.
        provider: bool,
        /// The manual `oauth2` custom type's access token: `reauth`
        /// authorizes it, or a token one has is set by hand.
        manual_oauth2: bool,
    },
    /// A non-secret field the credential needs is empty (`key_name`).
    Missing { config: String, field: &'static str },
    /// A field holds what HTTP cannot carry, or a value not allowed.
    Invalid {
        config: String,
        field: &'static str,
        why: &'static str,
    },
    /// `header`: the credential is not one fixed header.
    NotAHeader {
        config: String,
        type_id: String,
        /// The query parameter, for an API key sent in the URL.
        query: Option<String>,
        sigv4: bool,
    },
    /// `token`: the credential is not one token (Basic, none, SigV4).
    NoToken { config: String, type_id: String },
    /// git: only a token or a password can be git's password.
    NotForGit { config: String, type_id: String },
    /// SigV4 signing failed.
    Sign(String),
}

impl std::fmt::Display for CredentialError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&UserError::from(self.clone()).message)
    }
}

// Not `std::error::Error` on purpose: `?` into `anyhow` would then lose
// the exit code. Callers convert with `UserError::from` (docs/ARCHITECTURE.md,
// "Exit codes").

impl From<CredentialError> for UserError {
    fn from(e: CredentialError) -> UserError {
        use CredentialError as E;
        match e {
            E::NotHttp { config, type_id } => usage(format!(
                "'{config}' ({type_id}) is not an HTTP credential"
            ))
            .hint("HTTP credentials are api-key, bearer, basic, oauth2 and none configs, OAuth2 providers, S3 connectors and the catalog's HTTP connectors"),
            E::Empty {
                config,
                field,
                provider: true,
                ..
            } => usage(format!("'{config}' has no {field} yet"))
                .hint(format!("authorize it again: `authcfg reauth {config}`")),
            E::Empty {
                config,
                field,
                manual_oauth2: true,
                ..
            } => usage(format!("'{config}' has no {field} yet")).hint(format!(
                "authorize it: `authcfg reauth {config}` (or set a token you have: `authcfg edit {config} --secret-stdin {field}`)"
            )),
            E::Empty { config, field, .. } => usage(format!("'{config}' has no {field} yet"))
                .hint(format!(
                    "set it with `authcfg edit {config} --secret-stdin {field}`"
                )),
            E::Missing { config, field } => usage(format!("'{config}' has no {field}"))
                .hint(format!("set it with `authcfg edit {config} --set {field}=...`")),
            E::Invalid { config, field, why } => {
                usage(format!("'{config}': {field} {why}")).hint(format!(
                    "fix it with `authcfg edit {config}`"
                ))
            }
            E::NotAHeader {
                config,
                query: Some(key),
                ..
            } => usage(format!(
                "'{config}' sends its key as the query parameter '{key}', not as a header"
            ))
            .hint(format!(
                "append it to the URL: \"https://host/path?{key}=$(authcfg token {config})\""
            )),
            E::NotAHeader {
                config,
                sigv4: true,
                ..
            } => usage(format!(
                "'{config}' signs each request (AWS SigV4): it has no fixed HTTP header"
            ))
            .hint(format!("send the request with `authcfg http {config} URL`")),
            E::NotAHeader {
                config, type_id, ..
            } => usage(format!("'{config}' ({type_id}) has no HTTP header"))
                .hint("headers exist for bearer, api-key, basic and OAuth2 configs"),
            E::NoToken { config, type_id } => usage(format!(
                "'{config}' ({type_id}) has no token"
            ))
            .hint("tokens exist for bearer, api-key and OAuth2 configs; use `authcfg header` or `authcfg export` for the others"),
            E::NotForGit { config, type_id } => usage(format!(
                "'{config}' ({type_id}) cannot answer git: only OAuth2, bearer and basic configs can"
            )),
            E::Sign(why) => failure(format!("cannot sign: {why}")),
        }
    }
}

fn header_name(config: &str, raw: &str, field: &'static str) -> Result<String, CredentialError> {
    // Host, Cookie, Content-Length, ...: the secret would replace what
    // routes or frames the request (red team 2, #26).
    if is_reserved_header(raw) {
        return Err(CredentialError::Invalid {
            config: config.to_string(),
            field,
            why: "names a header that routes or frames the request (Host, Cookie, Content-Length, ...), not one a credential goes in",
        });
    }
    HeaderName::from_bytes(raw.as_bytes())
        .map(|_| raw.to_string())
        .map_err(|_| CredentialError::Invalid {
            config: config.to_string(),
            field,
            why: "is not a valid HTTP header name",
        })
}

fn header_value(config: &str, value: &str, field: &'static str) -> Result<(), CredentialError> {
    HeaderValue::from_str(value)
        .map(|_| ())
        .map_err(|_| CredentialError::Invalid {
            config: config.to_string(),
            field,
            why: "holds a line break or another character an HTTP header cannot carry",
        })
}

/// The secret in `field` of `doc`, or `CredentialError::Empty`: the one
/// rule of what an empty secret is, for request credentials (`Credential::of`)
/// and for the other secrets a config holds for a tool (a webhook's
/// signing secret, `ops::webhook`).
pub fn secret_field(doc: &ConfigDoc, field: &str) -> Result<Zeroizing<String>, CredentialError> {
    match doc.get(field) {
        // Only spaces is as empty as nothing (red team 2, #25).
        Some(v) if !v.trim().is_empty() => Ok(Zeroizing::new(v.to_string())),
        _ => Err(CredentialError::Empty {
            config: doc.meta.name.clone(),
            field: field.to_string(),
            provider: doc.meta.kind == Kind::Oauth2,
            manual_oauth2: doc.meta.kind == Kind::Custom
                && CustomAuth::parse(&doc.meta.type_id) == Some(CustomAuth::OAuth2)
                && field == "access_token",
        }),
    }
}

impl Credential {
    /// The one rule that turns a config into a request credential.
    pub fn of(doc: &ConfigDoc) -> Result<Credential, CredentialError> {
        let config = doc.meta.name.as_str();
        let text = |f: &str| doc.get(f).unwrap_or_default().to_string();
        let secret = |f: &str| secret_field(doc, f);
        let not_http = || CredentialError::NotHttp {
            config: config.to_string(),
            type_id: doc.meta.type_id.clone(),
        };
        let token = |header: String, prefix: String, field: &str| -> Result<How, CredentialError> {
            let token = secret(field)?;
            let header = header_name(config, &header, "header_name")?;
            header_value(config, &format!("{prefix}{}", token.as_str()), "token")?;
            Ok(How::Token {
                header,
                prefix,
                token,
            })
        };
        let key = |location: Location,
                   name: String,
                   prefix: String,
                   field: &str|
         -> Result<How, CredentialError> {
            let key = secret(field)?;
            if name.is_empty() {
                return Err(CredentialError::Missing {
                    config: config.to_string(),
                    field: "key_name",
                });
            }
            if location != Location::Query {
                let name = header_name(config, &name, "key_name")?;
                header_value(
                    config,
                    &format!("{name}={prefix}{}", key.as_str()),
                    "api_key",
                )?;
            }
            Ok(How::Key {
                location,
                name,
                prefix,
                key,
            })
        };
        let oauth2 = || {
            let ty = doc
                .get("token_type")
                .map(str::trim)
                .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case("bearer"))
                .unwrap_or("Bearer");
            token("Authorization".into(), format!("{ty} "), "access_token")
        };
        let how = match doc.meta.kind {
            Kind::Oauth2 => oauth2()?,
            Kind::Custom => match CustomAuth::parse(&doc.meta.type_id) {
                Some(CustomAuth::None) => How::None,
                Some(CustomAuth::ApiKey) => {
                    let location = match doc.get("location").map(str::trim).unwrap_or_default() {
                        "" | "header" => Location::Header,
                        "query" => Location::Query,
                        "cookie" => Location::Cookie,
                        _ => {
                            return Err(CredentialError::Invalid {
                                config: config.to_string(),
                                field: "location",
                                why: "must be header, query or cookie",
                            })
                        }
                    };
                    key(location, text("key_name"), text("prefix"), "api_key")?
                }
                Some(CustomAuth::Bearer) => token(
                    doc.get("header_name")
                        .filter(|h| !h.is_empty())
                        .unwrap_or("Authorization")
                        .to_string(),
                    text("prefix"),
                    "token",
                )?,
                Some(CustomAuth::Basic) => How::Basic {
                    password: secret("password")?,
                    username: text("username"),
                },
                Some(CustomAuth::OAuth2) => oauth2()?,
                Some(CustomAuth::Env) | Some(CustomAuth::Totp) | None => return Err(not_http()),
            },
            Kind::Connector => {
                use crate::connectors::{HttpAuth, ProbeKind};
                let c = crate::catalog::connectors::find(&doc.meta.type_id).ok_or_else(not_http)?;
                match (c.probe, &c.http) {
                    (ProbeKind::S3, _) => How::SigV4 {
                        access_key_id: text("access_key_id"),
                        secret_access_key: secret("secret_access_key")?,
                        session_token: doc
                            .get("session_token")
                            .filter(|t| !t.is_empty())
                            .map(|t| Zeroizing::new(t.to_string())),
                        region: doc
                            .get("region")
                            .filter(|r| !r.is_empty())
                            .unwrap_or("us-east-1")
                            .to_string(),
                        service: "s3".into(),
                    },
                    (_, Some(h)) => {
                        let render = |t: &str| doc.render(t);
                        let field = h.secret.as_deref().unwrap_or_default();
                        let prefix = h.prefix.clone().unwrap_or_default();
                        match h.auth {
                            HttpAuth::Basic => How::Basic {
                                username: render(h.user.as_deref().unwrap_or("")),
                                password: Zeroizing::new(render(
                                    h.password.as_deref().unwrap_or(""),
                                )),
                            },
                            HttpAuth::Bearer => {
                                token("Authorization".into(), "Bearer ".into(), field)?
                            }
                            HttpAuth::Header => token(
                                h.header.clone().unwrap_or_else(|| "Authorization".into()),
                                prefix,
                                field,
                            )?,
                            HttpAuth::Query => key(
                                Location::Query,
                                h.header.clone().unwrap_or_else(|| "api_key".into()),
                                String::new(),
                                field,
                            )?,
                            HttpAuth::None => How::None,
                        }
                    }
                    _ => return Err(not_http()),
                }
            }
        };
        Ok(Credential {
            config: config.to_string(),
            type_id: doc.meta.type_id.clone(),
            provider: doc.meta.kind == Kind::Oauth2,
            how,
        })
    }

    /// The one header this credential is, when it is one (`authcfg header`).
    pub fn header(&self) -> Result<(String, Zeroizing<String>), CredentialError> {
        match &self.how {
            How::Key {
                location: Location::Header,
                name,
                prefix,
                key,
            } => Ok((
                name.clone(),
                Zeroizing::new(format!("{prefix}{}", key.as_str())),
            )),
            How::Key {
                location: Location::Cookie,
                name,
                prefix,
                key,
            } => Ok((
                "Cookie".into(),
                Zeroizing::new(format!("{name}={prefix}{}", key.as_str())),
            )),
            How::Token {
                header,
                prefix,
                token,
            } => Ok((
                header.clone(),
                Zeroizing::new(format!("{prefix}{}", token.as_str())),
            )),
            How::Basic { username, password } => Ok((
                "Authorization".into(),
                Zeroizing::new(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD
                        .encode(format!("{username}:{}", password.as_str()))
                )),
            )),
            How::Key {
                location: Location::Query,
                name,
                ..
            } => Err(self.not_a_header(Some(name.clone()), false)),
            How::SigV4 { .. } => Err(self.not_a_header(None, true)),
            How::None => Err(self.not_a_header(None, false)),
        }
    }

    fn not_a_header(&self, query: Option<String>, sigv4: bool) -> CredentialError {
        CredentialError::NotAHeader {
            config: self.config.clone(),
            type_id: self.type_id.clone(),
            query,
            sigv4,
        }
    }

    /// `Name: value`, as `curl -H` takes it.
    pub fn header_line(&self) -> Result<Zeroizing<String>, CredentialError> {
        let (name, value) = self.header()?;
        Ok(Zeroizing::new(format!("{name}: {}", value.as_str())))
    }

    /// The bare secret (`authcfg token`): a key or a token, without prefix.
    pub fn token(&self) -> Result<&str, CredentialError> {
        match &self.how {
            How::Key { key, .. } => Ok(key),
            How::Token { token, .. } => Ok(token),
            How::Basic { .. } | How::SigV4 { .. } | How::None => Err(CredentialError::NoToken {
                config: self.config.clone(),
                type_id: self.type_id.clone(),
            }),
        }
    }

    /// What git gets as its password: a token (bearer, OAuth2) or a Basic
    /// password; with the user name of a Basic credential.
    pub fn git_password(&self) -> Result<(&str, Option<&str>), CredentialError> {
        match &self.how {
            How::Token { token, .. } => Ok((token, None)),
            How::Basic { username, password } => Ok((password, Some(username))),
            _ => Err(CredentialError::NotForGit {
                config: self.config.clone(),
                type_id: self.type_id.clone(),
            }),
        }
    }

    /// The header a caller may not set because the credential is in it.
    pub fn own_header(&self) -> Option<&str> {
        match &self.how {
            How::Key {
                location: Location::Header,
                name,
                ..
            } => Some(name),
            How::Token { header, .. } => Some(header),
            _ => None,
        }
    }

    /// The query parameter the credential is in.
    pub fn query_name(&self) -> Option<&str> {
        match &self.how {
            How::Key {
                location: Location::Query,
                name,
                ..
            } => Some(name),
            _ => None,
        }
    }

    /// Puts the credential on `req`: the one place every request gets it.
    /// SigV4 signs the method, the final URL, the headers set so far and
    /// the body, so it is applied last but for headers that are not signed.
    pub fn apply(&self, req: &mut reqwest::Request) -> Result<(), CredentialError> {
        let sensitive = |v: &str| {
            let mut v = HeaderValue::from_str(v).map_err(|_| CredentialError::Invalid {
                config: self.config.clone(),
                field: "the credential",
                why: "cannot be carried by an HTTP header",
            })?;
            v.set_sensitive(true);
            Ok::<_, CredentialError>(v)
        };
        let name = |n: &str| {
            HeaderName::from_bytes(n.as_bytes()).map_err(|_| CredentialError::Invalid {
                config: self.config.clone(),
                field: "header_name",
                why: "is not a valid HTTP header name",
            })
        };
        match &self.how {
            How::None => {}
            How::Key {
                location: Location::Query,
                name,
                prefix,
                key,
            } => {
                let value = Zeroizing::new(format!("{prefix}{}", key.as_str()));
                req.url_mut().query_pairs_mut().append_pair(name, &value);
            }
            How::Key {
                location: Location::Cookie,
                ..
            } => {
                let (_, v) = self.header()?;
                req.headers_mut()
                    .append(reqwest::header::COOKIE, sensitive(&v)?);
            }
            How::Key { .. } | How::Token { .. } | How::Basic { .. } => {
                let (h, v) = self.header()?;
                req.headers_mut().insert(name(&h)?, sensitive(&v)?);
            }
            How::SigV4 {
                access_key_id,
                secret_access_key,
                session_token,
                region,
                service,
            } => {
                let creds = crate::connectors::probes::s3::Credentials {
                    access_key_id,
                    secret_access_key,
                    session_token: session_token.as_ref().map(|t| t.as_str()),
                    region,
                    service,
                };
                let headers: Vec<(String, String)> = req
                    .headers()
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_string(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect();
                let signed: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let body = req.body().and_then(|b| b.as_bytes()).unwrap_or_default();
                let added = crate::connectors::probes::s3::sign_v4(
                    &creds,
                    req.method().as_str(),
                    req.url().as_str(),
                    &signed,
                    body,
                )
                .map_err(CredentialError::Sign)?;
                for (k, v) in added {
                    let v = sensitive(&v)?;
                    req.headers_mut().insert(name(&k)?, v);
                }
            }
        }
        Ok(())
    }

    /// `apply` on a request being built (the probes' builders).
    pub fn apply_to(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, String> {
        let (client, req) = builder.build_split();
        let mut req = req.map_err(|e| crate::net::chain(&e.without_url()))?;
        self.apply(&mut req)
            .map_err(|e| UserError::from(e).message)?;
        Ok(reqwest::RequestBuilder::from_parts(client, req))
    }
}

/// Headers a caller may never set: they carry or frame a credential, or
/// they choose what form the answer takes, which redaction must see whole
/// (docs/SECURITY.md, "An agent using authcfg mcp").
pub(crate) const RESERVED: [&str; 12] = [
    "authorization",
    // A compressed answer could not be scanned for secrets: authcfg asks
    // for identity and withholds any other encoding.
    "accept-encoding",
    // A slice of the answer (bytes=0-9, then bytes=10-99) would hand a
    // secret out in pieces none of which is the secret; so could another
    // character set.
    "range",
    "if-range",
    "request-range",
    "accept-charset",
    "proxy-authorization",
    "cookie",
    "host",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// Headers that frame the message or the connection: the HTTP client sets
/// them from the request itself.
pub(crate) const FRAMING: [&str; 7] = [
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
];

/// Whether `name` (any case) is a header a config may not put its
/// credential in either: reserved or framing above, or an HTTP/2
/// pseudo-header (`ops::credential` asks it for `key_name` and
/// `header_name`; `Authorization` itself is the credential's own place).
pub fn is_reserved_header(name: &str) -> bool {
    let lk = name.trim().to_ascii_lowercase();
    lk.starts_with(':')
        || (lk != "authorization"
            && (RESERVED.contains(&lk.as_str()) || FRAMING.contains(&lk.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(kind: Kind, ty: &str, fields: &[(&str, &str)]) -> ConfigDoc {
        let mut d = ConfigDoc::new("c", kind, ty);
        for (k, v) in fields {
            d.fields
                .insert(k.to_string(), crate::secret::Secret::new(v.to_string()));
        }
        d
    }

    fn line(d: &ConfigDoc) -> Result<String, CredentialError> {
        Ok(Credential::of(d)?.header_line()?.to_string())
    }

    #[test]
    fn each_disagreement_is_decided_once() {
        // An api_key without location is a header.
        let k = doc(
            Kind::Custom,
            "api_key",
            &[("api_key", "k1"), ("key_name", "X-Key")],
        );
        assert_eq!(line(&k).unwrap(), "X-Key: k1");
        // The CLI id is an alias of the seed's name.
        let b = doc(
            Kind::Custom,
            "basic",
            &[("username", "u"), ("password", "p")],
        );
        assert_eq!(line(&b).unwrap(), "Authorization: Basic dTpw");
        // token_type honoured for the custom oauth2 type as for providers;
        // "bearer" in any case is written Bearer.
        for kind in [Kind::Custom, Kind::Oauth2] {
            let ty = if kind == Kind::Custom {
                "oauth2"
            } else {
                "github"
            };
            let o = doc(kind, ty, &[("access_token", "at"), ("token_type", "DPoP")]);
            assert_eq!(line(&o).unwrap(), "Authorization: DPoP at");
            let o = doc(
                kind,
                ty,
                &[("access_token", "at"), ("token_type", "bearer")],
            );
            assert_eq!(line(&o).unwrap(), "Authorization: Bearer at");
        }
        // An empty secret is refused, whatever the type.
        for (kind, ty, field) in [
            (Kind::Custom, "api_key", "api_key"),
            (Kind::Custom, "bearer_token", "token"),
            (Kind::Custom, "basic_auth", "password"),
            (Kind::Custom, "oauth2", "access_token"),
            (Kind::Oauth2, "github", "access_token"),
        ] {
            let d = doc(kind, ty, &[(field, ""), ("key_name", "X-Key")]);
            assert!(
                matches!(Credential::of(&d), Err(CredentialError::Empty { field: ref f, .. }) if f == field),
                "{ty}"
            );
        }
        // A line break never reaches a header.
        let bad = doc(Kind::Custom, "bearer_token", &[("token", "a\r\nX-Evil: 1")]);
        assert!(matches!(
            Credential::of(&bad),
            Err(CredentialError::Invalid { .. })
        ));
        // Env configs are no HTTP credential.
        assert!(matches!(
            Credential::of(&doc(Kind::Custom, "env_vars", &[])),
            Err(CredentialError::NotHttp { .. })
        ));
    }

    /// What the model costs a hand-out (`token`, `header`, `http`): building
    /// the credential and its header line, in-process (a whole command is
    /// milliseconds of start-up and decryption). Prints; asserts nothing.
    #[test]
    #[ignore = "benchmark: cargo test --release credential_cost -- --ignored --nocapture"]
    fn credential_cost() {
        let d = doc(
            Kind::Custom,
            "api_key",
            &[("api_key", &"k".repeat(40)), ("key_name", "X-API-Key")],
        );
        let n = 200_000;
        let started = std::time::Instant::now();
        let mut len = 0;
        for _ in 0..n {
            len += Credential::of(&d).unwrap().header_line().unwrap().len();
        }
        let per = started.elapsed().as_secs_f64() * 1e9 / n as f64;
        println!("Credential::of + header_line: {per:.0} ns per call ({len} bytes)");
    }

    #[test]
    fn debug_shows_no_secret() {
        let d = doc(Kind::Custom, "bearer_token", &[("token", "s3cr3t-token")]);
        let c = Credential::of(&d).unwrap();
        assert!(!format!("{c:?}").contains("s3cr3t"));
    }
}
