//! The HTTP(S) probe of the custom auth types: a GET of the configured test
//! URL with the config's credentials (API key in header, query or cookie;
//! bearer; basic); 2xx passes. The URL is checked when the request is made
//! (https, or http on loopback only), and a redirect to another origin is
//! not followed: the credential goes to the test URL's origin and nowhere
//! else.

use super::probes::http::get_with_secret;
use super::Outcome;
use crate::model::ConfigDoc;
use crate::net::TlsOptions;
use std::time::Duration;

/// Runs the probe on the command's runtime, bounded by `timeout`.
pub fn probe(doc: &ConfigDoc, timeout: Duration) -> Outcome {
    crate::net::runtime::block_on(super::timed(timeout, probe_async(doc, timeout)))
}

pub async fn probe_async(doc: &ConfigDoc, timeout: Duration) -> Outcome {
    let Some(url) = doc.get("test_url").filter(|u| !u.is_empty()) else {
        return Outcome::not_testable(format!(
            "no test_url to request (set one with `authcfg edit {} --set test_url=https://...`)",
            doc.meta.name
        ));
    };
    let get = |f: &str| doc.get(f).unwrap_or_default();
    let tls = TlsOptions::from_fields(doc.get("tls_ca"), doc.get("tls_cert"), doc.get("tls_key"));
    let value = format!("{}{}", get("prefix"), get("api_key"));
    let attach = |req: reqwest::RequestBuilder| match doc.meta.type_id.as_str() {
        "api_key" => match get("location") {
            "query" => req.query(&[(get("key_name"), value.as_str())]),
            "cookie" => req.header("Cookie", format!("{}={value}", get("key_name"))),
            _ => req.header(get("key_name"), value.as_str()),
        },
        "bearer_token" => {
            let header = doc
                .get("header_name")
                .filter(|h| !h.is_empty())
                .unwrap_or("Authorization");
            req.header(header, format!("{}{}", get("prefix"), get("token")))
        }
        "basic_auth" => req.basic_auth(get("username"), Some(get("password"))),
        "oauth2" => req.bearer_auth(get("access_token")),
        _ => req,
    };
    // Belt and braces: no detail may carry a secret.
    let secrets = [
        get("api_key"),
        get("token"),
        get("password"),
        get("access_token"),
    ];
    get_with_secret(url, &tls, timeout, attach, &secrets).await
}
