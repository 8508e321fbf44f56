//! The HTTP(S) probe: a GET of the configured test URL with the config's
//! credentials (API key in header, query or cookie; bearer; basic); 2xx passes.

use super::{Class, Outcome};
use crate::model::ConfigDoc;
use std::time::Duration;

pub fn probe(doc: &ConfigDoc, timeout: Duration) -> Outcome {
    let Some(url) = doc.get("test_url").filter(|u| !u.is_empty()) else {
        return Outcome::fail(
            Class::Config,
            "no test_url to request (set one with `authcfg edit NAME --set test_url=https://...`)",
        );
    };
    let client = match super::http_client(timeout) {
        Ok(c) => c,
        Err(o) => return o,
    };
    let get = |f: &str| doc.get(f).unwrap_or_default();
    let mut req = client.get(url);
    match doc.meta.type_id.as_str() {
        "api_key" => {
            let value = format!("{}{}", get("prefix"), get("api_key"));
            req = match get("location") {
                "query" => req.query(&[(get("key_name"), value.as_str())]),
                "cookie" => req.header("Cookie", format!("{}={value}", get("key_name"))),
                _ => req.header(get("key_name"), value),
            };
        }
        "bearer_token" => {
            let header = doc
                .get("header_name")
                .filter(|h| !h.is_empty())
                .unwrap_or("Authorization");
            req = req.header(header, format!("{}{}", get("prefix"), get("token")));
        }
        "basic_auth" => req = req.basic_auth(get("username"), Some(get("password"))),
        "oauth2" => req = req.bearer_auth(get("access_token")),
        _ => {}
    }
    let mut o = super::http_outcome(req.send());
    // Belt and braces: no error text may carry the key.
    if !o.passed() && !get("api_key").is_empty() {
        o.detail = o.detail.replace(get("api_key"), "****");
    }
    o
}
