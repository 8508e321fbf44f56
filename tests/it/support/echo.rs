//! nginx for `authcfg http` and the MCP server: origin A (plain http on
//! loopback) checks an API key (header, query, cookie), a bearer token or
//! Basic on its own path and answers with the request's credential
//! headers echoed back; origin B logs every request it gets. Both log
//! every request with the headers that could carry a credential. Under
//! `/git/` origin A asks for Basic credentials (401 with WWW-Authenticate)
//! as a git server does, and refuses whatever it is given (403), so git
//! calls its credential helper once and the log shows what git sent.

use super::services::{closed_port, spawn_until, Daemon};
use base64::Engine;
use std::path::PathBuf;
use std::process::Command;

pub struct Echo {
    pub daemon: Daemon,
    /// `http://127.0.0.1:PORT` of origin A.
    pub a: String,
    /// `http://127.0.0.1:PORT` of origin B.
    pub b: String,
    pub a_log: PathBuf,
    pub b_log: PathBuf,
}

impl Echo {
    pub fn a_log(&self) -> String {
        std::fs::read_to_string(&self.a_log).unwrap_or_default()
    }
    pub fn b_log(&self) -> String {
        std::fs::read_to_string(&self.b_log).unwrap_or_default()
    }
    /// Requests origin A logged so far.
    pub fn a_requests(&self) -> usize {
        self.a_log()
            .lines()
            .filter(|l| l.starts_with("REQ "))
            .count()
    }
}

const ECHO: &str = "method=$request_method uri=$request_uri key=[$http_x_api_key] auth=[$http_authorization] cookie=[$http_cookie] ctype=[$content_type] len=[$content_length] custom=[$http_x_custom]\\n";

pub fn start(key: &str, token: &str, user: &str, password: &str) -> Echo {
    let dir = tempfile::tempdir().unwrap();
    let pa = closed_port();
    let pb = closed_port();
    let d = dir.path().display();
    let a_log = dir.path().join("a.log");
    let b_log = dir.path().join("b.log");
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let conf = dir.path().join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon off;\npid {d}/nginx.pid;\nerror_log stderr info;\nevents {{ worker_connections 256; }}\nhttp {{\n\
             client_body_temp_path {d};\nproxy_temp_path {d};\nfastcgi_temp_path {d};\nuwsgi_temp_path {d};\nscgi_temp_path {d};\n\
             default_type text/plain;\n\
             log_format creds 'REQ $request_method $request_uri key=[$http_x_api_key] auth=[$http_authorization] cookie=[$http_cookie]';\n\
             server {{\nlisten 127.0.0.1:{pa};\naccess_log {a} creds;\n\
             location = /key {{ if ($http_x_api_key != \"{key}\") {{ return 401; }} return 200 \"{ECHO}\"; }}\n\
             location = /prefixed {{ if ($http_authorization != \"Token {key}\") {{ return 401; }} return 200 \"{ECHO}\"; }}\n\
             location = /query {{ if ($arg_api_key != \"{key}\") {{ return 401; }} return 200 \"{ECHO}\"; }}\n\
             location = /cookie {{ if ($cookie_session != \"{key}\") {{ return 401; }} return 200 \"{ECHO}\"; }}\n\
             location = /bearer {{ if ($http_authorization != \"Bearer {token}\") {{ return 401; }} return 200 \"{ECHO}\"; }}\n\
             location = /basic {{ if ($http_authorization != \"Basic {basic}\") {{ return 401; }} return 200 \"{ECHO}\"; }}\n\
             location = /echo {{ return 200 \"{ECHO}\"; }}\n\
             location = /json {{ default_type application/json; return 200 '{{\"auth\":\"$http_authorization\",\"key\":\"$http_x_api_key\"}}'; }}\n\
             location = /missing {{ return 404 \"nothing here\\n\"; }}\n\
             location /git/ {{ if ($http_authorization = \"\") {{ add_header WWW-Authenticate 'Basic realm=\"git\"' always; return 401; }} return 403; }}\n\
             location = /same {{ return 302 /echo; }}\n\
             location = /away {{ return 302 http://127.0.0.1:{pb}/landing; }}\n\
             }}\n\
             server {{\nlisten 127.0.0.1:{pb};\naccess_log {b} creds;\nlocation / {{ return 200 \"landed\\n\"; }}\n}}\n}}\n",
            a = a_log.display(),
            b = b_log.display(),
        ),
    )
    .unwrap();
    let mut cmd = Command::new("nginx");
    cmd.arg("-c").arg(&conf).arg("-p").arg(dir.path());
    let daemon = spawn_until(cmd, "start worker process", pa, dir);
    Echo {
        daemon,
        a: format!("http://127.0.0.1:{pa}"),
        b: format!("http://127.0.0.1:{pb}"),
        a_log,
        b_log,
    }
}

/// Adds the four configs the echo server checks, each allowed on origin A
/// (the origin of its test URL): `key` (X-API-Key header), `query`,
/// `cookie`, `bearer`, `basic`.
pub fn add_configs(t: &super::T, e: &Echo, key: &str, token: &str, user: &str, password: &str) {
    let a = &e.a;
    t.add(
        "api-key",
        "key",
        &[&format!("test_url={a}/key"), "key_name=X-API-Key"],
        Some(("api_key", key)),
    )
    .success();
    t.add(
        "api-key",
        "query",
        &[
            &format!("test_url={a}/query"),
            "key_name=api_key",
            "location=query",
        ],
        Some(("api_key", key)),
    )
    .success();
    t.add(
        "api-key",
        "cookie",
        &[
            &format!("test_url={a}/cookie"),
            "key_name=session",
            "location=cookie",
        ],
        Some(("api_key", key)),
    )
    .success();
    t.add(
        "bearer",
        "bearer",
        &[&format!("test_url={a}/bearer")],
        Some(("token", token)),
    )
    .success();
    t.add(
        "basic",
        "basic",
        &[&format!("test_url={a}/basic"), &format!("username={user}")],
        Some(("password", password)),
    )
    .success();
}
