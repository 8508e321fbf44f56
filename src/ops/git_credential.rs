//! `git credential` helper (gitcredentials(7)): git asks for a credential
//! for a protocol, host and maybe path; this answers with a config's
//! token as the password, for exactly the URL it was set up for.
//!
//! Safety, as the CVEs of credential helpers taught (CVE-2020-5260,
//! CVE-2024-52006): a request or an answer value holding CR, LF or NUL is
//! refused, never passed on; the protocol and host must be exactly the
//! ones configured (the path too when one was, which needs git's
//! `useHttpPath`); a config's token goes only to https, or http on the
//! loopback. An OAuth2 token is refreshed first when it is due (the
//! single-flight refresh); no browser is ever opened: when a new
//! authorization is needed, the helper says `authcfg reauth NAME` and
//! answers nothing, so git goes on to its next helper or prompt.

use super::credential::{Credential, CredentialError};
use super::Session;
use crate::error::{usage, Exit, UserError};
use crate::model::{ConfigDoc, Kind};
use crate::secret::Secret;
use crate::store::usage::{Consumer, ConsumerKind};

/// The largest request read (git's are a few hundred bytes).
pub const MAX_REQUEST: usize = 64 << 10;

/// One request: `key=value` lines up to a blank line.
#[derive(Debug, Default)]
pub struct Request {
    pub fields: Vec<(String, String)>,
}

impl Request {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Parses git's request. A value with CR or NUL, or a line without `=`,
    /// refuses the whole request.
    pub fn parse(input: &[u8]) -> Result<Request, String> {
        let text =
            std::str::from_utf8(input).map_err(|_| "the request is not UTF-8".to_string())?;
        let mut fields = vec![];
        for line in text.split('\n') {
            if line.is_empty() {
                break;
            }
            if line.contains('\r') || line.contains('\0') {
                return Err(
                    "the request holds a carriage return or NUL character (refused: CVE-2024-52006)"
                        .into(),
                );
            }
            let (k, v) = line
                .split_once('=')
                .ok_or_else(|| "a request line has no '='".to_string())?;
            fields.push((k.to_string(), v.to_string()));
        }
        Ok(Request { fields })
    }
}

/// The URL a helper was set up for: protocol, host (with a port when one
/// was given) and path ("" for the whole host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub protocol: String,
    pub host: String,
    pub path: String,
}

impl Target {
    /// `HOST`, `HOST:PORT` (https), or a URL: https, or http on the loopback.
    pub fn parse(raw: &str) -> Result<Target, UserError> {
        let with_scheme = if raw.contains("://") {
            raw.to_string()
        } else {
            format!("https://{raw}")
        };
        let url = crate::net::check_secret_url(&with_scheme).map_err(|e| {
            usage(format!("{raw}: {e}")).hint("give a host (example.com) or an https:// URL")
        })?;
        if !url.username().is_empty() || url.password().is_some() || url.query().is_some() {
            return Err(usage(format!(
                "{raw}: give the host and path only (no user, password or query)"
            )));
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        let host = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host,
        };
        Ok(Target {
            protocol: url.scheme().to_string(),
            host,
            path: url.path().trim_matches('/').to_string(),
        })
    }

    /// `https://host[/path]`, as git's `credential.<url>` keys name it.
    pub fn url(&self) -> String {
        if self.path.is_empty() {
            format!("{}://{}", self.protocol, self.host)
        } else {
            format!("{}://{}/{}", self.protocol, self.host, self.path)
        }
    }

    /// Whether git's request is for this URL: the same protocol and host;
    /// with a configured path, the request's path (sent only with
    /// `useHttpPath`) must be it or below it.
    pub fn matches(&self, r: &Request) -> bool {
        let protocol = r.get("protocol").unwrap_or_default();
        let host = r.get("host").unwrap_or_default().to_ascii_lowercase();
        if protocol != self.protocol || host != self.host {
            return false;
        }
        if self.path.is_empty() {
            return true;
        }
        let path = r.get("path").unwrap_or_default().trim_matches('/');
        let want = self.path.trim_end_matches(".git");
        let got = path.trim_end_matches(".git");
        got == want || got.starts_with(&format!("{want}/"))
    }
}

/// What `get` answers.
pub enum Answer {
    Credential {
        username: String,
        password: Secret,
        /// Unix seconds (OAuth2 access tokens).
        expiry: Option<i64>,
    },
    /// Nothing; why, for stderr (never a secret).
    Nothing(Option<String>),
}

fn bad_value(v: &str) -> bool {
    v.contains(['\r', '\n', '\0'])
}

/// The user name sent with the token: the one configured (`git setup
/// --username`), a Basic credential's own, the provider's (`git_username`
/// in the catalog, else `oauth2`), else `x-access-token`.
pub fn username_for(credential: &Credential, configured: Option<&str>) -> Option<String> {
    if let Some(u) = configured.filter(|u| !u.is_empty()) {
        return Some(u.to_string());
    }
    match credential.git_password() {
        Ok((_, Some(user))) => Some(user.to_string()).filter(|u| !u.is_empty()),
        _ if credential.provider => Some(
            crate::catalog::providers::find(&credential.type_id)
                .and_then(|p| p.git_username.clone())
                .unwrap_or_else(|| "oauth2".into()),
        ),
        _ => Some("x-access-token".into()),
    }
}

/// Whether a config can answer git (`git setup`): a token (OAuth2,
/// bearer) or a Basic password, by the credential model. An OAuth2
/// provider config whose access token is not there yet can: `get`
/// refreshes it first.
pub fn check(doc: &ConfigDoc, username: Option<&str>) -> Result<(), UserError> {
    let credential = match Credential::of(doc) {
        Ok(c) => c,
        Err(CredentialError::Empty { provider: true, .. }) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    credential.git_password()?;
    if username_for(&credential, username).is_none() {
        return Err(
            usage(format!("'{}' has no user name to send", doc.meta.name))
                .hint("pass --username NAME"),
        );
    }
    Ok(())
}

/// Whether `doc` may answer git for `target`: the origin rule `http` asks
/// (`http::check_origin`), against the config's own `allowed_origins`. A
/// config without them goes to the host the user named at `git setup`:
/// the defaults `http` falls back on are API origins (a provider's API,
/// a test URL), not git hosts (`api.github.com` is not `github.com`).
pub fn check_origin(doc: &ConfigDoc, target: &Target) -> Result<(), UserError> {
    if doc
        .get("allowed_origins")
        .is_none_or(|l| l.trim().is_empty())
    {
        return Ok(());
    }
    let rules = super::http::allowed_origins(doc)?;
    let url =
        url::Url::parse(&target.url()).map_err(|e| usage(format!("{}: {e}", target.url())))?;
    super::http::check_origin(doc, &url, &rules)
}

/// The consumer of a git hand-out: as any hand-out, except that a plain
/// use is attributed to git and the URL rather than to the user.
fn consumer(s: &Session, name: &str, target: &Target) -> Consumer {
    let c = super::handout::consumer(s.settings, None, &[name]);
    if c.kind == ConsumerKind::Direct {
        Consumer::label(&format!("git {}", target.url()))
    } else {
        c
    }
}

/// Answers `get` for `name`, set up for `target`.
pub fn get(
    s: &Session,
    name: &str,
    target: &Target,
    username: Option<&str>,
    req: &Request,
) -> anyhow::Result<Answer> {
    if !target.matches(req) {
        return Ok(Answer::Nothing(None));
    }
    let used = match super::handout::read_for_use(s, &[name.to_string()], "git-credential") {
        Ok(u) => u,
        Err(e) => {
            let (exit, _) = crate::error::classify(&e);
            let oauth = s
                .store
                .lookup_meta(name)
                .is_some_and(|m| m.kind == Kind::Oauth2);
            return Ok(Answer::Nothing(Some(if oauth && exit == Exit::OAuth {
                format!("'{name}' needs a new authorization ({e}); run: authcfg reauth {name}")
            } else {
                format!("cannot read '{name}': {e:#}")
            })));
        }
    };
    let mut used = used;
    let doc = used.docs[0].clone();
    let doc = &doc;
    if let Err(e) = check_origin(doc, target) {
        return Ok(Answer::Nothing(Some(e.message)));
    }
    let credential = match Credential::of(doc) {
        Ok(c) => c,
        Err(CredentialError::Empty { provider: true, .. }) => {
            return Ok(Answer::Nothing(Some(format!(
                "'{name}' has no access token; run: authcfg reauth {name}"
            ))))
        }
        // No secret, or one a header (and git's protocol) cannot carry:
        // answer nothing and say why.
        Err(e @ (CredentialError::Empty { .. } | CredentialError::Invalid { .. })) => {
            return Ok(Answer::Nothing(Some(UserError::from(e).message)))
        }
        Err(e) => return Err(UserError::from(e).into()),
    };
    let (password, _) = credential.git_password().map_err(UserError::from)?;
    let Some(user) = username_for(&credential, username) else {
        return Ok(Answer::Nothing(Some(format!(
            "'{name}' has no user name; set one with `authcfg git setup {name} HOST --username NAME`"
        ))));
    };
    if let Some(asked) = req.get("username").filter(|u| !u.is_empty()) {
        if asked != user {
            return Ok(Answer::Nothing(None));
        }
    }
    if bad_value(&user) || bad_value(password) {
        return Ok(Answer::Nothing(Some(format!(
            "'{name}' holds a line break or NUL in its user name or password; refused (it could inject fields into git's credential protocol)"
        ))));
    }
    used.consumer = Some(consumer(s, name, target));
    used.record(s)?;
    Ok(Answer::Credential {
        username: user,
        password: Secret::new(password.to_string()),
        expiry: (doc.meta.kind == Kind::Oauth2)
            .then_some(doc.meta.expires)
            .flatten()
            .map(|e| e.unix_timestamp()),
    })
}

/// `erase`: git says the credential it was given did not work. An OAuth2
/// access token equal to the rejected password is dropped (the next `get`
/// gets a new one); the config itself is never removed.
pub fn erase(s: &Session, name: &str, target: &Target, req: &Request) -> anyhow::Result<bool> {
    if !target.matches(req) {
        return Ok(false);
    }
    let Some(rejected) = req.get("password").filter(|p| !p.is_empty()) else {
        return Ok(false);
    };
    let is_oauth = s
        .store
        .lookup_meta(name)
        .map(|m| m.kind == Kind::Oauth2)
        .unwrap_or(true);
    if !is_oauth {
        return Ok(false);
    }
    let mut dropped = false;
    s.store.update_if(name, |d| {
        if d.meta.kind != Kind::Oauth2 || d.get("access_token") != Some(rejected) {
            return Ok(None);
        }
        d.fields
            .insert("access_token".into(), Secret::new(String::new()));
        d.meta.expires = Some(crate::model::now());
        dropped = true;
        Ok(Some(crate::store::journal::AuditIntent {
            version: None,
            action: "git-credential erase".into(),
            config: Some(name.to_string()),
            outcome: "ok".into(),
            detail: Some("git rejected the access token; it was dropped".into()),
        }))
    })?;
    Ok(dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: &str) -> Request {
        Request::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn parses_and_refuses_cr_and_nul() {
        let r = req("protocol=https\nhost=example.com\npath=a/b.git\n\n");
        assert_eq!(r.get("host"), Some("example.com"));
        assert!(Request::parse(b"protocol=https\nhost=example.com\r\n").is_err());
        assert!(Request::parse(b"protocol=https\nhost=evil\0.com\n").is_err());
        assert!(Request::parse(b"protocol=https\nnovalue\n").is_err());
        // Everything after the blank line is not part of the request.
        assert_eq!(req("host=a\n\nhost=b\n").get("host"), Some("a"));
    }

    #[test]
    fn matches_exactly() {
        let t = Target::parse("github.com").unwrap();
        assert_eq!(t.url(), "https://github.com");
        assert!(t.matches(&req("protocol=https\nhost=github.com\n")));
        assert!(t.matches(&req("protocol=https\nhost=GitHub.com\npath=o/r.git\n")));
        assert!(!t.matches(&req("protocol=http\nhost=github.com\n")));
        assert!(!t.matches(&req("protocol=https\nhost=github.com.evil.com\n")));
        assert!(!t.matches(&req("protocol=https\nhost=github.com:8443\n")));
        assert!(!t.matches(&req("protocol=https\n")));
        let p = Target::parse("https://git.example.com:8443/team/app.git").unwrap();
        assert_eq!(p.host, "git.example.com:8443");
        assert!(p.matches(&req(
            "protocol=https\nhost=git.example.com:8443\npath=team/app.git\n"
        )));
        assert!(p.matches(&req(
            "protocol=https\nhost=git.example.com:8443\npath=team/app\n"
        )));
        // Without useHttpPath git sends no path: a path-bound helper answers nothing.
        assert!(!p.matches(&req("protocol=https\nhost=git.example.com:8443\n")));
        assert!(!p.matches(&req(
            "protocol=https\nhost=git.example.com:8443\npath=team/other.git\n"
        )));
        assert!(!p.matches(&req(
            "protocol=https\nhost=git.example.com:8443\npath=team/app-evil.git\n"
        )));
    }

    #[test]
    fn answer_values_with_line_breaks_are_refused() {
        for v in ["a\nhost=evil", "a\rb", "a\0b"] {
            assert!(bad_value(v), "{v:?}");
        }
        assert!(!bad_value("ghp_token-value.with/odd+chars="));
    }

    #[test]
    fn cleartext_only_on_loopback() {
        assert!(Target::parse("http://127.0.0.1:8080").is_ok());
        assert!(Target::parse("http://git.example.com").is_err());
        assert!(Target::parse("ftp://git.example.com").is_err());
        assert!(Target::parse("https://user:pw@git.example.com").is_err());
    }
}
