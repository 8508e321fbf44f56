//! cargo's credential provider protocol, version 1 (the Cargo book,
//! "Credential Provider Protocol"): cargo starts `authcfg --cargo-plugin`
//! (only that argument; the ones configured after the path come in each
//! request's `args`), authcfg says hello (`{"v":[1]}`), and answers each
//! request line with one line, `{"Ok":{...}}` or `{"Err":{"kind":...}}`.
//!
//! Configured in `~/.cargo/config.toml`:
//!
//! ```toml
//! [registries.acme]
//! index = "sparse+https://cargo.acme.example/index/"
//! credential-provider = ["/usr/bin/authcfg", "NAME", "--index", "sparse+https://cargo.acme.example/index/"]
//! ```
//!
//! A token goes only to the registry index it was set up for (any other
//! is `url-not-supported`, so cargo asks its next provider), comes from
//! the credential model (`ops::credential`: the `Authorization` value of a
//! bearer, API-key or OAuth2 config, refreshed first when due), and the
//! use is recorded (consumer `cargo:<index>`). `login` and `logout` are
//! `operation-not-supported`: authcfg keeps the token (`authcfg edit`).
//! Nothing is asked at a terminal and nothing secret goes to stderr.

use super::credential::Credential;
use super::Session;
use crate::error::{usage, UserError};
use crate::store::usage::{Consumer, ConsumerKind};
use serde_json::{json, Value};
use std::path::PathBuf;

/// The largest request line read (cargo's are a few hundred bytes).
pub const MAX_LINE: usize = 64 << 10;

/// What cargo's configuration gave us (each request's `args`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setup {
    pub name: String,
    /// The registry index the token is for, as cargo names it
    /// (`sparse+https://...`).
    pub index: String,
    pub store: Option<PathBuf>,
}

impl Setup {
    /// `[cargo-credential] NAME --index URL [--store DIR]`.
    pub fn parse(args: &[String]) -> Result<Setup, String> {
        let mut it = args.iter().peekable();
        if it.peek().is_some_and(|a| *a == "cargo-credential") {
            it.next();
        }
        let (mut name, mut index, mut store) = (None, None, None);
        while let Some(a) = it.next() {
            let mut value = |flag: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{flag} needs a value"))
            };
            match a.as_str() {
                "--index" => index = Some(value("--index")?),
                "--store" => store = Some(PathBuf::from(value("--store")?)),
                f if f.starts_with('-') => return Err(format!("unknown option '{f}'")),
                n if name.is_none() => name = Some(n.to_string()),
                _ => return Err("give one config name".into()),
            }
        }
        let name = name.ok_or(
            "no config name: credential-provider = [\"authcfg\", \"NAME\", \"--index\", \"URL\"]",
        )?;
        let index = index.ok_or("no --index: the registry index URL the token is for")?;
        Ok(Setup { name, index, store })
    }

    /// Whether cargo's registry is the one set up (a trailing `/` aside).
    pub fn matches(&self, index_url: &str) -> bool {
        self.index.trim_end_matches('/') == index_url.trim_end_matches('/')
    }
}

/// `{"v":[1]}`.
pub fn hello() -> Value {
    json!({ "v": [1] })
}

fn err(kind: &str) -> Value {
    json!({ "Err": { "kind": kind } })
}

/// cargo's error JSON for a failure it shows to the user (`other`).
pub fn other(message: &str) -> Value {
    json!({ "Err": { "kind": "other", "message": message, "caused-by": [] } })
}

/// A request line, checked before any store access: the version, the
/// `args` (our setup) and the registry.
pub struct Request {
    pub kind: String,
    pub index_url: String,
    pub setup: Setup,
}

impl Request {
    pub fn parse(line: &str) -> Result<Request, Value> {
        let v: Value = serde_json::from_str(line)
            .map_err(|_| other("authcfg: the request from cargo is not JSON"))?;
        if v["v"] != json!(1) {
            return Err(other(
                "authcfg: unsupported protocol version (authcfg speaks 1)",
            ));
        }
        let args: Vec<String> = v["args"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let setup = Setup::parse(&args).map_err(|e| other(&format!("authcfg: {e}")))?;
        let index_url = v["registry"]["index-url"]
            .as_str()
            .ok_or_else(|| other("authcfg: the request names no registry index"))?
            .to_string();
        Ok(Request {
            kind: v["kind"].as_str().unwrap_or_default().to_string(),
            index_url,
            setup,
        })
    }
}

/// The answer to a request whose store is open in `s` (`None`: it could
/// not be opened, and why).
pub fn answer(s: Result<&Session, &UserError>, req: &Request) -> Value {
    if !req.setup.matches(&req.index_url) {
        return err("url-not-supported");
    }
    if req.kind != "get" {
        return err("operation-not-supported");
    }
    let s = match s {
        Ok(s) => s,
        Err(e) => return other(&format!("authcfg: {}", e.message)),
    };
    match token(s, &req.setup) {
        Ok((token, expires)) => {
            let mut ok = json!({
                "kind": "get",
                "token": token.as_str(),
                "cache": "session",
                "operation_independent": true,
            });
            if let Some(t) = expires {
                ok["cache"] = json!("expires");
                ok["expiration"] = json!(t);
            }
            json!({ "Ok": ok })
        }
        Err(e) if e.exit == crate::error::Exit::NotFound => err("not-found"),
        Err(e) => other(&format!("authcfg: {}", e.message)),
    }
}

/// The token for `setup`: the `Authorization` value of its credential
/// (prefix and all, as cargo sends it), else its bare token; and when an
/// OAuth2 access token expires.
fn token(
    s: &Session,
    setup: &Setup,
) -> Result<(zeroize::Zeroizing<String>, Option<i64>), UserError> {
    let fail = |e: anyhow::Error| -> UserError {
        let (exit, hint) = crate::error::classify(&e);
        let mut u = UserError::new(exit, format!("{e:#}"));
        u.hint = hint;
        u
    };
    let mut used =
        super::handout::read_for_use(s, std::slice::from_ref(&setup.name), "cargo-credential")
            .map_err(fail)?;
    let doc = &used.docs[0];
    // The index is the request's word (cargo's configuration, which a
    // project can bring): the token goes there only if the config allows
    // that origin, by the same rule `http` follows (red team 3, C1).
    let index = setup.index.strip_prefix("sparse+").unwrap_or(&setup.index);
    let url = url::Url::parse(index)
        .map_err(|e| usage(format!("--index {}: not a URL: {e}", setup.index)))?;
    crate::net::policy::check_parsed(&url).map_err(|r| {
        usage(format!("the token does not go to {index}: {r}"))
            .hint("a registry index is https, or plain http on a loopback host")
    })?;
    super::http::check_origin(doc, &url, &super::http::allowed_origins(doc)?)?;
    let cred = Credential::of(doc).map_err(UserError::from)?;
    let value = match cred.header() {
        Ok((h, v)) if h.eq_ignore_ascii_case("authorization") => v,
        _ => zeroize::Zeroizing::new(cred.token().map_err(UserError::from)?.to_string()),
    };
    if value.contains(['\r', '\n']) {
        return Err(usage("the token holds a line break"));
    }
    let expires = doc.meta.expires.map(|t| t.unix_timestamp());
    let c = super::handout::consumer(s.settings, None, &[setup.name.as_str()]);
    used.consumer = Some(if c.kind == ConsumerKind::Direct {
        Consumer::label(&format!("cargo:{}", setup.index))
    } else {
        c
    });
    used.record(s).map_err(fail)?;
    Ok((value, expires))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_and_requests_parse() {
        let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let s = Setup::parse(&a(&[
            "cargo-credential",
            "reg",
            "--index",
            "sparse+http://x/index/",
        ]))
        .unwrap();
        assert_eq!(s.name, "reg");
        assert!(s.matches("sparse+http://x/index"));
        assert!(!s.matches("sparse+http://y/index/"));
        assert!(Setup::parse(&a(&["reg"])).is_err());
        assert!(Setup::parse(&a(&["a", "b", "--index", "u"])).is_err());
        let r = Request::parse(r#"{"v":1,"registry":{"index-url":"sparse+http://x/index/","name":"x"},"kind":"get","operation":"read","args":["reg","--index","sparse+http://x/index/"]}"#).unwrap();
        assert_eq!(r.kind, "get");
        assert_eq!(r.setup.name, "reg");
        assert!(Request::parse(r#"{"v":2}"#).is_err());
        assert!(Request::parse("not json").is_err());
        // Another registry: cargo asks its next provider.
        let other = Request::parse(r#"{"v":1,"registry":{"index-url":"sparse+http://evil/index/"},"kind":"get","operation":"read","args":["reg","--index","sparse+http://x/index/"]}"#).unwrap();
        let e = UserError::new(crate::error::Exit::Error, "no store");
        assert_eq!(
            answer(Err(&e), &other),
            json!({"Err":{"kind":"url-not-supported"}})
        );
        let login = Request::parse(r#"{"v":1,"registry":{"index-url":"sparse+http://x/index/"},"kind":"login","args":["reg","--index","sparse+http://x/index/"]}"#).unwrap();
        assert_eq!(
            answer(Err(&e), &login),
            json!({"Err":{"kind":"operation-not-supported"}})
        );
    }
}
