//! cargo's credential provider: this machine's cargo fetches a crate from
//! an `auth-required` sparse registry served by nginx, which checks the
//! token, with the token held by authcfg (`credential-provider =
//! [authcfg, NAME, --index, URL]`, cargo runs `authcfg --cargo-plugin`).
//! The protocol's answers to bad input are cargo's error JSON.

use crate::support::services::*;
use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The cargo and rustc of the toolchain running the tests (the rustup
/// proxies would look for their settings in the test's HOME).
fn toolchain() -> (PathBuf, PathBuf) {
    let cargo = std::env::var_os("CARGO")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.exists())
        .or_else(|| {
            let out = Command::new("rustup")
                .args(["which", "cargo"])
                .output()
                .ok()?;
            Some(PathBuf::from(String::from_utf8(out.stdout).ok()?.trim()))
        })
        .expect("cargo");
    let rustc = cargo.with_file_name("rustc");
    (cargo, rustc)
}

fn cargo_cmd(t: &T, cargo_home: &Path) -> Command {
    let (cargo, rustc) = toolchain();
    let mut c = Command::new(cargo);
    t.apply(&mut c);
    c.env("CARGO_HOME", cargo_home)
        .env("RUSTC", rustc)
        .env_remove("CARGO_REGISTRIES_CRATES_IO_PROTOCOL")
        .env("CARGO_TERM_COLOR", "never");
    c
}

/// The registry's publish endpoint behind nginx (which has checked the
/// token): reads cargo's upload (JSON metadata and the .crate, each after
/// its 32-bit little-endian length) and adds the version to the index.
const PUBLISH: &str = r#"
import hashlib, json, struct, sys, os
from http.server import BaseHTTPRequestHandler, HTTPServer
index = sys.argv[2]
class H(BaseHTTPRequestHandler):
    def do_PUT(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        n = struct.unpack('<I', body[:4])[0]
        meta = json.loads(body[4:4 + n])
        m = struct.unpack('<I', body[4 + n:8 + n])[0]
        crate = body[8 + n:8 + n + m]
        name = meta['name']
        path = os.path.join(index, name[:2], name[2:4], name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        line = {'name': name, 'vers': meta['vers'], 'deps': [], 'cksum': hashlib.sha256(crate).hexdigest(), 'features': {}, 'yanked': False}
        with open(path, 'a') as f:
            f.write(json.dumps(line) + chr(10))
        out = json.dumps({'warnings': {'invalid_categories': [], 'invalid_badges': [], 'other': []}}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def log_message(self, *a):
        pass
srv = HTTPServer(('127.0.0.1', int(sys.argv[1])), H)
print('publish endpoint ready', file=sys.stderr, flush=True)
srv.serve_forever()
"#;

/// A sparse registry holding `acme-util 0.1.0` (packaged by cargo itself),
/// behind nginx that answers 401 (with cargo's WWW-Authenticate) to any
/// request without `Authorization: <token>`; publishing goes through nginx
/// to `PUBLISH`.
fn registry(t: &T, token: &str) -> (Daemon, Daemon) {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let publish_port = closed_port();
    let d = dir.path();
    let src = d.join("acme-util");
    std::fs::create_dir_all(src.join("src")).unwrap();
    std::fs::write(
        src.join("Cargo.toml"),
        "[package]\nname = \"acme-util\"\nversion = \"0.1.0\"\nedition = \"2021\"\ndescription = \"test\"\nlicense = \"MIT\"\n",
    )
    .unwrap();
    std::fs::write(src.join("src/lib.rs"), "pub fn answer() -> u32 { 42 }\n").unwrap();
    let out = cargo_cmd(t, &d.join("pkg-home"))
        .args(["package", "--no-verify", "--allow-dirty", "--offline", "-q"])
        .current_dir(&src)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let krate = std::fs::read(src.join("target/package/acme-util-0.1.0.crate")).unwrap();
    let www = d.join("www");
    std::fs::create_dir_all(www.join("index/ac/me")).unwrap();
    std::fs::create_dir_all(www.join("api/v1/crates/acme-util/0.1.0")).unwrap();
    std::fs::write(www.join("api/v1/crates/acme-util/0.1.0/download"), &krate).unwrap();
    use sha2::Digest;
    let sum = hex::encode(sha2::Sha256::digest(&krate));
    std::fs::write(
        www.join("index/config.json"),
        format!("{{\"dl\":\"http://127.0.0.1:{port}/api/v1/crates\",\"api\":\"http://127.0.0.1:{port}\",\"auth-required\":true}}"),
    )
    .unwrap();
    std::fs::write(
        www.join("index/ac/me/acme-util"),
        format!("{{\"name\":\"acme-util\",\"vers\":\"0.1.0\",\"deps\":[],\"cksum\":\"{sum}\",\"features\":{{}},\"yanked\":false}}\n"),
    )
    .unwrap();
    let dd = d.display();
    let conf = d.join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon off;\npid {dd}/nginx.pid;\nerror_log stderr info;\nevents {{ worker_connections 64; }}\nhttp {{\n\
             access_log {dd}/access.log;\nclient_body_temp_path {dd};\nproxy_temp_path {dd};\nfastcgi_temp_path {dd};\nuwsgi_temp_path {dd};\nscgi_temp_path {dd};\n\
             server {{\nlisten 127.0.0.1:{port};\nroot {};\ndefault_type application/octet-stream;\n\
             location / {{ if ($http_authorization != \"{token}\") {{ add_header WWW-Authenticate 'Cargo login_url=\"http://127.0.0.1:{port}/me\"' always; return 401; }} }}\n\
             location = /api/v1/crates/new {{ if ($http_authorization != \"{token}\") {{ return 401; }} client_max_body_size 10m; proxy_pass http://127.0.0.1:{publish_port}; }}\n}}\n}}\n",
            www.display()
        ),
    )
    .unwrap();
    let pdir = tempfile::tempdir().unwrap();
    let script = pdir.path().join("publish.py");
    std::fs::write(&script, PUBLISH).unwrap();
    let mut py = Command::new("python3");
    py.arg(&script)
        .arg(publish_port.to_string())
        .arg(www.join("index"));
    let publish = spawn_until(py, "publish endpoint ready", publish_port, pdir);
    let mut cmd = Command::new("nginx");
    cmd.arg("-c").arg(&conf).arg("-p").arg(d);
    (spawn_until(cmd, "start worker process", port, dir), publish)
}

/// A project depending on acme-util from the registry `acme`, whose
/// credential provider is authcfg's `reg` bound to `index`.
fn project(t: &T, index: &str, name: &str) -> (PathBuf, PathBuf) {
    let home = t.dir.path().join(format!("cargo-home-{name}"));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join("config.toml"),
        format!(
            "[registries.acme]\nindex = \"{index}\"\ncredential-provider = [\"{BIN}\", \"{name}\", \"--index\", \"{index}\"]\n\n[net]\nretry = 0\n"
        ),
    )
    .unwrap();
    let app = t.dir.path().join(format!("app-{name}"));
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::write(
        app.join("Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nacme-util = { version = \"0.1\", registry = \"acme\" }\n",
    )
    .unwrap();
    std::fs::write(app.join("src/main.rs"), "fn main() {}\n").unwrap();
    (home, app)
}

#[test]
fn cargo_fetches_an_auth_required_registry_with_the_token_authcfg_holds() {
    let token = "cargo-Registry-token-7f3a";
    let t = T::new();
    t.init();
    let (reg, _publish) = registry(&t, token);
    let index = format!("sparse+http://127.0.0.1:{}/index/", reg.port);
    let origin = format!("allowed_origins=http://127.0.0.1:{}", reg.port);
    t.add(
        "bearer_token",
        "reg",
        &["prefix=", &origin],
        Some(("token", token)),
    )
    .success();

    // The right token: cargo fetches the index and the crate.
    let (home, app) = project(&t, &index, "reg");
    let out = cargo_cmd(&t, &home)
        .arg("fetch")
        .current_dir(&app)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("Downloaded acme-util v0.1.0"), "{stderr}");
    let cached = std::fs::read_dir(home.join("registry/cache"))
        .unwrap()
        .flatten()
        .any(|d| d.path().join("acme-util-0.1.0.crate").exists());
    assert!(cached);
    assert_clean("cargo's output", &out.stderr, &[token]);
    assert_clean("cargo's output", &out.stdout, &[token]);
    // nginx saw the token (the requests after the first 401 passed).
    let log = std::fs::read_to_string(reg.dir.path().join("access.log")).unwrap();
    assert!(
        log.contains("GET /api/v1/crates/acme-util/0.1.0/download HTTP/1.1\" 200"),
        "{log}"
    );
    // The use is recorded with its consumer.
    let show = t.stdout(&["show", "reg"]);
    assert!(show.contains(&format!("cargo:{index}")), "{show}");

    // Publishing a new version with the same token (operation "publish").
    let new = t.dir.path().join("acme-new");
    std::fs::create_dir_all(new.join("src")).unwrap();
    std::fs::write(
        new.join("Cargo.toml"),
        "[package]\nname = \"acme-util\"\nversion = \"0.2.0\"\nedition = \"2021\"\ndescription = \"test\"\nlicense = \"MIT\"\npublish = [\"acme\"]\n",
    )
    .unwrap();
    std::fs::write(new.join("src/lib.rs"), "pub fn answer() -> u32 { 43 }\n").unwrap();
    let out = cargo_cmd(&t, &home)
        .args([
            "publish",
            "--registry",
            "acme",
            "--no-verify",
            "--allow-dirty",
        ])
        .current_dir(&new)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("Published acme-util v0.2.0"), "{stderr}");
    assert_clean("cargo's output", &out.stderr, &[token]);
    let log = std::fs::read_to_string(reg.dir.path().join("access.log")).unwrap();
    assert!(
        log.contains("PUT /api/v1/crates/new HTTP/1.1\" 200"),
        "{log}"
    );

    // A wrong token: nginx refuses, cargo fails.
    t.add(
        "bearer_token",
        "wrong",
        &["prefix=", &origin],
        Some(("token", "not-the-token")),
    )
    .success();
    let (home, app) = project(&t, &index, "wrong");
    let out = cargo_cmd(&t, &home)
        .arg("fetch")
        .current_dir(&app)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("401"), "{stderr}");
    assert_clean("cargo's output", &out.stderr, &[token, "not-the-token"]);

    // A config that does not exist: cargo says no provider had a token.
    let (home, app) = project(&t, &index, "missing");
    let out = cargo_cmd(&t, &home)
        .arg("fetch")
        .current_dir(&app)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// One request to `authcfg --cargo-plugin`, as cargo sends it; the hello
/// and the answer.
fn plugin(t: &T, request: &str, argv0: Option<&Path>) -> (String, serde_json::Value) {
    let mut c = match argv0 {
        Some(link) => Command::new(link),
        None => {
            let mut c = Command::new(BIN);
            c.arg("--cargo-plugin");
            c
        }
    };
    t.apply(&mut c);
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(child.stdin.take().unwrap(), "{request}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let hello = lines.next().unwrap().to_string();
    let answer = serde_json::from_str(lines.next().unwrap()).unwrap();
    (hello, answer)
}

#[test]
fn the_provider_answers_bad_requests_with_cargos_error_json() {
    let t = T::new();
    t.init();
    t.add(
        "bearer_token",
        "reg",
        &["prefix=", "allowed_origins=https://cargo.example.com"],
        Some(("token", "tok-abc-123")),
    )
    .success();
    t.add(
        "basic_auth",
        "basic",
        &["username=u", "allowed_origins=https://cargo.example.com"],
        Some(("password", "pw-1")),
    )
    .success();
    // A config meant for another origin: its token does not go to a
    // registry index the request's own arguments name (red team 3, C1).
    t.add(
        "bearer_token",
        "api",
        &["allowed_origins=http://127.0.0.1:8701"],
        Some(("token", "sk_live_api_only_token")),
    )
    .success();
    let idx = "sparse+https://cargo.example.com/index/";
    let req = |kind: &str, index: &str, args: &str| {
        format!(
            r#"{{"v":1,"registry":{{"index-url":"{index}","name":"acme"}},"kind":"{kind}","operation":"read","args":[{args}]}}"#
        )
    };
    let args = format!(r#""reg","--index","{idx}""#);
    let (hello, ok) = plugin(&t, &req("get", idx, &args), None);
    assert_eq!(hello, r#"{"v":[1]}"#);
    assert_eq!(ok["Ok"]["kind"], "get");
    assert_eq!(ok["Ok"]["token"], "tok-abc-123");
    assert_eq!(ok["Ok"]["cache"], "session");
    // Another registry gets nothing: cargo asks its next provider.
    let (_, other) = plugin(
        &t,
        &req("get", "sparse+https://evil.example/index/", &args),
        None,
    );
    assert_eq!(
        other,
        serde_json::json!({"Err": {"kind": "url-not-supported"}})
    );
    // login/logout: authcfg keeps the token.
    let (_, login) = plugin(&t, &req("login", idx, &args), None);
    assert_eq!(login["Err"]["kind"], "operation-not-supported");
    // No such config: not found.
    let (_, nf) = plugin(
        &t,
        &req("get", idx, &format!(r#""nope","--index","{idx}""#)),
        None,
    );
    assert_eq!(nf["Err"]["kind"], "not-found");
    // A Basic config is sent as cargo sends any token: the Authorization value.
    let (_, basic) = plugin(
        &t,
        &req("get", idx, &format!(r#""basic","--index","{idx}""#)),
        None,
    );
    assert_eq!(basic["Ok"]["token"], "Basic dTpwdy0x");
    let evil = "sparse+https://evil.example/index/";
    let (_, refused) = plugin(
        &t,
        &req("get", evil, &format!(r#""api","--index","{evil}""#)),
        None,
    );
    assert_eq!(refused["Err"]["kind"], "other", "{refused}");
    assert!(
        !refused.to_string().contains("sk_live_api_only_token"),
        "{refused}"
    );
    // Malformed: not JSON, another version, no --index.
    for bad in [
        "not json".to_string(),
        r#"{"v":2,"registry":{"index-url":"x"},"kind":"get"}"#.to_string(),
        req("get", idx, r#""reg""#),
    ] {
        let (_, e) = plugin(&t, &bad, None);
        assert_eq!(e["Err"]["kind"], "other", "{bad}");
        assert!(e["Err"]["message"]
            .as_str()
            .unwrap()
            .starts_with("authcfg: "));
    }
    // A link named cargo-credential-authcfg is the provider too.
    let link = t.dir.path().join("cargo-credential-authcfg");
    std::os::unix::fs::symlink(BIN, &link).unwrap();
    let (hello, ok) = plugin(&t, &req("get", idx, &args), Some(&link));
    assert_eq!(hello, r#"{"v":[1]}"#);
    assert_eq!(ok["Ok"]["token"], "tok-abc-123");
    // A locked store (no key): cargo's error JSON, no prompt.
    let mut locked = T::bare();
    locked.store = t.store.clone();
    let (_, e) = plugin(&locked, &req("get", idx, &args), None);
    assert_eq!(e["Err"]["kind"], "other");
    assert!(!e.to_string().contains("tok-abc-123"));
}

/// At a terminal the provider says what it is and exits 2: it never waits
/// for a request a person would have to type.
#[test]
fn the_provider_never_waits_on_a_terminal() {
    let t = T::new();
    t.init();
    let mut cmd = std::process::Command::new(BIN);
    cmd.arg("--cargo-plugin");
    t.apply(&mut cmd);
    let mut p = rexpect::session::spawn_command(cmd, Some(20_000)).unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains(r#"{"v":[1]}"#), "{rest}");
    assert!(rest.contains("cargo's credential provider"), "{rest}");
    assert!(matches!(
        p.process().wait().unwrap(),
        rexpect::process::WaitStatus::Exited(_, 2)
    ));
}
