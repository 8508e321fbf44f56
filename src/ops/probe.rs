//! Proving a config works (`authcfg test`, the MCP `test_config` tool):
//! the protocol probe of its type; for OAuth2, the token refreshed when due
//! and then introspected or shown to the userinfo endpoint.

use crate::connectors::{self, Class, Outcome, ProbeSettings};
use crate::model::{ConfigDoc, Kind};
use crate::oauth::{self, tokens};
use crate::ops::credential::{Credential, CustomAuth};
use crate::ops::{redact, Session};

/// Every probe of every entry point (`authcfg test`, `add`, the MCP
/// `test_config`): the outcome's detail is often the server's own words, so
/// it comes back with the config's secrets replaced (`redact::own_secrets`)
/// whatever the server echoed (docs/SECURITY.md, "Servers and providers").
pub fn probe(session: &Session, doc: ConfigDoc, settings: &ProbeSettings) -> Outcome {
    let (mut outcome, fresh) = match doc.meta.kind {
        // The probe may have refreshed the token: the new one is a secret
        // too.
        Kind::Oauth2 => (
            probe_oauth(session, doc.clone()),
            session.store.read(&doc.meta.name).ok(),
        ),
        Kind::Custom if CustomAuth::parse(&doc.meta.type_id) == Some(CustomAuth::Totp) => (
            Outcome::not_testable(format!(
                "a TOTP secret has no service to probe; `authcfg otp {}` prints the current code",
                doc.meta.name
            )),
            None,
        ),
        Kind::Custom if CustomAuth::parse(&doc.meta.type_id) == Some(CustomAuth::Env) => (
            Outcome::not_testable("environment-variable configs have nothing to probe"),
            None,
        ),
        Kind::Custom => (probe_custom(&doc, settings.timeout), None),
        Kind::Connector => (probe_connector(&doc, settings), None),
    };
    let mut docs = vec![&doc];
    docs.extend(fresh.as_ref());
    outcome.detail = redact::own_secrets(&docs, &outcome.detail);
    outcome
}

/// The HTTP probe of the custom auth types: a GET of the configured test
/// URL with the config's credential; 2xx passes.
fn probe_custom(doc: &ConfigDoc, timeout: std::time::Duration) -> Outcome {
    let Some(url) = doc.get("test_url").filter(|u| !u.is_empty()) else {
        return Outcome::not_testable(format!(
            "no test_url to request (set one with `authcfg edit {} --set test_url=https://...`)",
            doc.meta.name
        ));
    };
    probe_http(doc, url, &Default::default(), timeout)
}

/// A connector's protocol probe; the catalog's HTTP connectors are probed
/// here, with the credential model, like the custom types (the catalog
/// gives the URL template and any fixed headers, never the auth).
fn probe_connector(doc: &ConfigDoc, settings: &ProbeSettings) -> Outcome {
    match crate::catalog::connectors::find(&doc.meta.type_id) {
        Some(c) if c.probe == crate::catalog::kind::ProbeKind::Http => match &c.http {
            Some(h) => probe_http(doc, &doc.render(&h.url), &h.headers, settings.timeout),
            None => Outcome::not_testable("no HTTP check defined"),
        },
        _ => connectors::probe_with(doc, settings),
    }
}

/// A GET of `url` with the config's credential (`ops::credential`, the one
/// rule every path uses) and the catalog's fixed `headers`; 2xx passes.
/// The URL is checked when the request is made (https, or http on loopback
/// only), and a redirect to another origin is not followed: the credential
/// goes to the URL's origin and nowhere else.
fn probe_http(
    doc: &ConfigDoc,
    url: &str,
    headers: &std::collections::BTreeMap<String, String>,
    timeout: std::time::Duration,
) -> Outcome {
    let credential = match Credential::of(doc) {
        Ok(c) => c,
        Err(e) => return Outcome::fail(Class::Config, crate::error::UserError::from(e).message),
    };
    let tls = crate::net::TlsOptions::from_fields(
        doc.get("tls_ca"),
        doc.get("tls_cert"),
        doc.get("tls_key"),
    );
    // Belt and braces: no detail may carry a secret.
    let secrets: Vec<&str> = doc
        .fields
        .iter()
        .filter(|(f, _)| crate::catalog::is_secret(doc.meta.kind, &doc.meta.type_id, f))
        .map(|(_, v)| v.expose())
        .collect();
    let attach = |mut req: reqwest::RequestBuilder| {
        for (k, v) in headers {
            req = req.header(k, v);
        }
        credential.apply_to(req)
    };
    crate::net::runtime::block_on(connectors::timed(
        timeout,
        connectors::probes::http::get_with_secret(url, &tls, timeout, attach, &secrets),
    ))
}

fn probe_oauth(session: &Session, doc: ConfigDoc) -> Outcome {
    let name = doc.meta.name.clone();
    let doc = match crate::ops::refresh::ensure_fresh(session, doc, false) {
        Ok(d) => d,
        Err(e) => {
            let text = e.to_string();
            use crate::error::Cause;
            let class = match crate::error::cause(&e) {
                Some(Cause::Credentials) => Class::Auth,
                Some(Cause::Permission) => Class::Permission,
                Some(Cause::Unreachable(r)) => Class::from(r),
                Some(Cause::Protocol) | None => Class::Protocol,
            };
            let hint = crate::error::classify(&e).1.unwrap_or_default();
            return Outcome::fail(class, format!("{text}; {hint}"));
        }
    };
    if doc.get("grant") == Some("client_credentials")
        && doc.get("introspection_url").is_some_and(|u| !u.is_empty())
    {
        let result = oauth::client(&doc, None).and_then(|c| {
            let at =
                oauth2::AccessToken::new(doc.get("access_token").unwrap_or_default().to_string());
            Ok(c.introspect(&at)?
                .request(&oauth::http_client())
                .map_err(|e| oauth::classify_token_error(&e, &name))?)
        });
        return match result {
            Ok(r) if oauth2::TokenIntrospectionResponse::active(&r) => {
                Outcome::ok("token active (introspection)")
            }
            Ok(_) => Outcome::fail(Class::Auth, "the provider says the token is not active"),
            Err(e) => Outcome::fail(Class::Protocol, e.to_string()),
        };
    }
    use tokens::UserinfoError as U;
    let header = match Credential::of(&doc).and_then(|c| c.header()) {
        Ok(h) => h,
        Err(e) => return Outcome::fail(Class::Config, crate::error::UserError::from(e).message),
    };
    match tokens::userinfo(&doc, (&header.0, &header.1)) {
        Ok(claims) => Outcome::ok(format!(
            "token accepted{}",
            tokens::account_from_claims(&claims)
                .map(|a| format!(" for {a}"))
                .unwrap_or_default()
        )),
        Err(U::NoEndpoint) => {
            Outcome::ok("token obtained (provider has no userinfo endpoint to call)")
        }
        Err(U::NotAllowed(r)) => Outcome::fail(
            Class::UrlRefused,
            format!("userinfo_url: the token was not sent: {r}"),
        ),
        Err(U::Network(msg, r)) => Outcome::fail(Class::from(r), msg),
        Err(U::Status(401, www)) => Outcome::fail(
            Class::Auth,
            format!("HTTP 401 from userinfo {www}; re-authorize with `authcfg reauth {name}`"),
        ),
        Err(U::Status(403, www)) => Outcome::fail(
            Class::Permission,
            format!("HTTP 403 from userinfo {www} (insufficient_scope?)"),
        ),
        Err(U::Status(s, _)) => Outcome::fail(Class::Protocol, format!("HTTP {s} from userinfo")),
        Err(U::NotJson) => Outcome::fail(Class::Protocol, "userinfo answer is not JSON"),
    }
}
