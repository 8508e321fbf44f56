//! kubectl's exec credential plugin with the real client: this machine's
//! kubectl runs `authcfg kube credential` (written into the kubeconfig by
//! `authcfg kube setup`) against a loopback TLS endpoint that accepts only
//! a token the OIDC test peer says is active (RFC 7662 introspection);
//! after the token expires, kubectl runs the plugin again and authcfg
//! refreshes it once.

use crate::support::pki::Pki;
use crate::support::services::*;
use crate::support::*;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// An API endpoint over TLS (argv: port, cert, key, issuer, log): any GET
/// with `Authorization: Bearer T` where the peer says T is active gets an
/// APIVersions answer, anything else 401. Each request's token (or NONE)
/// and verdict go to the log.
const API: &str = r#"
import base64, json, ssl, sys, urllib.parse, urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
port, cert, key, issuer, log = sys.argv[1:6]
def active(tok):
    req = urllib.request.Request(issuer + '/token/introspection',
        data=urllib.parse.urlencode({'token': tok}).encode(),
        headers={'Authorization': 'Basic ' + base64.b64encode(b'conf-basic:basic-secret-planted-7c1').decode()})
    return json.load(urllib.request.urlopen(req)).get('active') is True
class H(BaseHTTPRequestHandler):
    def do_GET(self):
        a = self.headers.get('Authorization', '')
        tok = a[len('Bearer '):] if a.startswith('Bearer ') else ''
        ok = bool(tok) and active(tok)
        with open(log, 'a') as f:
            f.write('%s %s %s\n' % ('OK' if ok else 'DENY', self.path, tok or 'NONE'))
        if ok:
            body = json.dumps({'kind': 'APIVersions', 'versions': ['v1'], 'serverAddressByClientCIDRs': [{'clientCIDR': '0.0.0.0/0', 'serverAddress': '127.0.0.1'}]}).encode()
            self.send_response(200)
        else:
            body = json.dumps({'kind': 'Status', 'apiVersion': 'v1', 'status': 'Failure', 'message': 'Unauthorized', 'reason': 'Unauthorized', 'code': 401}).encode()
            self.send_response(401)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
srv = HTTPServer(('127.0.0.1', int(port)), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print('api ready', file=sys.stderr, flush=True)
srv.serve_forever()
"#;

fn api(pki: &Pki, issuer: &str) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let server = pki.server(&format!("api-{port}"), &["127.0.0.1"]);
    let script = dir.path().join("api.py");
    std::fs::write(&script, API).unwrap();
    let mut cmd = Command::new("python3");
    cmd.arg(&script)
        .arg(port.to_string())
        .arg(&server.cert)
        .arg(&server.key)
        .arg(issuer)
        .arg(dir.path().join("requests.log"));
    spawn_until(cmd, "api ready", port, dir)
}

fn requests(api: &Daemon) -> String {
    std::fs::read_to_string(api.dir.path().join("requests.log")).unwrap_or_default()
}

/// The last token the endpoint accepted.
fn last_ok(api: &Daemon) -> String {
    requests(api)
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("OK "))
        .and_then(|l| l.split(' ').nth(1))
        .expect("a token was accepted")
        .to_string()
}

fn kubectl(t: &T, args: &[&str]) -> Output {
    let mut c = Command::new("kubectl");
    t.apply(&mut c);
    c.args(args).stdin(Stdio::null());
    c.output().unwrap()
}

/// kubectl's minor version (Debian's kubernetes-client is 1.20).
fn kubectl_minor() -> u32 {
    let out = Command::new("kubectl")
        .args(["version", "--client", "-o", "json"])
        .output()
        .expect("kubectl (scripts/setup)");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["clientVersion"]["minor"]
        .as_str()
        .unwrap()
        .trim_end_matches('+')
        .parse()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

fn kubeconfig(path: &Path, ca: &Path, dev: u16, other: u16) {
    std::fs::write(
        path,
        format!(
            "apiVersion: v1\nkind: Config\npreferences: {{}}\ncurrent-context: dev\n\
             clusters:\n- name: dev-cluster\n  cluster:\n    server: https://127.0.0.1:{dev}\n    certificate-authority: {ca}\n\
             - name: other-cluster\n  cluster:\n    server: https://127.0.0.1:{other}\n    certificate-authority: {ca}\n\
             contexts:\n- name: dev\n  context:\n    cluster: dev-cluster\n    user: someone\n    namespace: team\n\
             users:\n- name: someone\n  user:\n    token: not-a-real-token\n",
            ca = ca.display()
        ),
    )
    .unwrap();
}

#[test]
fn kubectl_gets_the_api_with_the_token_authcfg_refreshes() {
    let peer = Peer::start();
    let pki = Pki::new("kube");
    let dev = api(&pki, &peer.issuer);
    let elsewhere = api(&pki, &peer.issuer);
    let mut t = T::new();
    let kc = t.dir.path().join("kubeconfig");
    kubeconfig(&kc, &pki.ca, dev.port, elsewhere.port);
    t.env("KUBECONFIG", &kc.display().to_string());
    t.init();
    peer.set_access_ttl(8);
    peer.add_robot(&t, "kube").success();

    // v1 where kubectl speaks it (1.22 and later), else v1beta1 twice.
    let first_version = if kubectl_minor() >= 22 {
        "v1"
    } else {
        "v1beta1"
    };
    t.cmd()
        .args([
            "kube",
            "setup",
            "kube",
            "dev",
            "--api-version",
            first_version,
        ])
        .assert()
        .success();
    // The kubeconfig kept its entries; the context's user runs authcfg.
    let written = std::fs::read_to_string(&kc).unwrap();
    for kept in [
        "name: someone",
        "token: not-a-real-token",
        "name: other-cluster",
        "namespace: team",
        "current-context: dev",
    ] {
        assert!(written.contains(kept), "{kept}:\n{written}");
    }
    assert!(written.contains("user: authcfg-kube"), "{written}");
    assert!(written.contains("interactiveMode: Never"), "{written}");
    assert!(written.contains("provideClusterInfo: true"), "{written}");
    assert!(!written.contains("AGE-SECRET"), "{written}");

    // kubectl runs the plugin and the endpoint accepts its token.
    let grants = peer.grants("client_credentials");
    let out = kubectl(&t, &["get", "--raw", "/api"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("APIVersions"),
        "{}",
        text(&out.stdout)
    );
    let first = last_ok(&dev);
    assert_clean("kubectl's output", &out.stderr, &[&first]);
    assert_clean("kubectl's output", &out.stdout, &[&first]);
    let show = t.stdout(&["show", "kube"]);
    assert!(show.contains("kubectl:dev"), "{show}");
    let after_first = peer.grants("client_credentials");
    assert!(after_first <= grants + 1);

    // The token expires (the peer says so), then kubectl, speaking
    // v1beta1 now, runs the plugin again: one refresh, a new token.
    let deadline = Instant::now() + Duration::from_secs(30);
    while peer.introspect(&first)["active"] == true {
        assert!(Instant::now() < deadline, "the token never expired");
        std::thread::sleep(Duration::from_millis(200));
    }
    t.cmd()
        .args(["kube", "setup", "kube", "dev", "--api-version", "v1beta1"])
        .assert()
        .success();
    assert!(std::fs::read_to_string(&kc)
        .unwrap()
        .contains("client.authentication.k8s.io/v1beta1"));
    let out = kubectl(&t, &["get", "--raw", "/api"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("APIVersions"));
    let second = last_ok(&dev);
    assert_ne!(first, second, "a new token after expiry");
    assert_eq!(
        peer.grants("client_credentials"),
        after_first + 1,
        "refreshed exactly once"
    );

    // A context added later (a kubeconfig merged from elsewhere) that
    // reuses authcfg's user for another cluster: the plugin refuses, in
    // one line, and that cluster never sees a token.
    let out = kubectl(
        &t,
        &[
            "config",
            "set-context",
            "borrowed",
            "--cluster=other-cluster",
            "--user=authcfg-kube",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = kubectl(&t, &["--context", "borrowed", "get", "--raw", "/api"]);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("is not the one 'kube' was set up for"),
        "{err}"
    );
    assert!(!requests(&elsewhere).contains(&second));
    assert!(
        !requests(&elsewhere).lines().any(|l| !l.ends_with(" NONE")),
        "{}",
        requests(&elsewhere)
    );
}

#[test]
fn the_plugin_fails_in_one_line_for_bad_requests() {
    let mut t = T::new();
    let kc = t.dir.path().join("kubeconfig");
    let pki = Pki::new("kube-bad");
    kubeconfig(&kc, &pki.ca, closed_port(), closed_port());
    t.env("KUBECONFIG", &kc.display().to_string());
    t.init();
    t.add(
        "bearer_token",
        "tok",
        &[],
        Some(("token", "kube-bearer-tok-8d2")),
    )
    .success();
    t.add(
        "basic_auth",
        "basic",
        &["username=u"],
        Some(("password", "pw-3")),
    )
    .success();
    // Basic has no bearer token: refused at setup.
    t.cmd()
        .args(["kube", "setup", "basic", "dev"])
        .assert()
        .code(2);
    // No such context.
    t.cmd()
        .args(["kube", "setup", "tok", "nope"])
        .assert()
        .code(2);
    // Not bound yet.
    let one_line = |a: assert_cmd::assert::Assert| {
        let out = a.get_output().clone();
        assert!(!out.status.success());
        assert!(out.stdout.is_empty());
        let err = text(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert_clean("the plugin's stderr", &out.stderr, &["kube-bearer-tok-8d2"]);
        err
    };
    let err = one_line(
        t.cmd()
            .args(["kube", "credential", "tok", "--context", "dev"])
            .assert(),
    );
    assert!(err.contains("not bound"), "{err}");
    t.cmd()
        .args(["kube", "setup", "tok", "dev"])
        .assert()
        .success();
    // A person trying it: v1, the token, no expiry (a bearer token).
    let out = t.stdout(&["kube", "credential", "tok", "--context", "dev"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["apiVersion"], "client.authentication.k8s.io/v1");
    assert_eq!(v["kind"], "ExecCredential");
    assert_eq!(v["status"]["token"], "kube-bearer-tok-8d2");
    assert!(v["status"].get("expirationTimestamp").is_none());
    // kubectl's request without the cluster, an unknown version, garbage.
    for info in [
        r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#,
        r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v9","spec":{}}"#,
        "not json",
    ] {
        one_line(
            t.cmd()
                .args(["kube", "credential", "tok", "--context", "dev"])
                .env("KUBERNETES_EXEC_INFO", info)
                .assert(),
        );
    }
    // v1beta1 asked, v1beta1 answered (the cluster as kubectl reports it:
    // the CA file's bytes, base64).
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&pki.ca).unwrap());
    let kc_text = std::fs::read_to_string(&kc).unwrap();
    let server = kc_text
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap()
        .to_string();
    let out = t
        .cmd()
        .args(["kube", "credential", "tok", "--context", "dev"])
        .env(
            "KUBERNETES_EXEC_INFO",
            format!(
                r#"{{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{{"cluster":{{"server":"{server}","certificate-authority-data":"{ca}"}},"interactive":false}}}}"#
            ),
        )
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["apiVersion"], "client.authentication.k8s.io/v1beta1");
}

/// A TCP listener that only records whether anything arrived.
struct Listener {
    port: u16,
    got: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

fn listener() -> Listener {
    use std::io::Read;
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let g = got.clone();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { continue };
            let g = g.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = c.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    g.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
        }
    });
    Listener { port, got }
}

#[test]
fn a_borrowed_context_through_another_proxy_or_trust_gets_no_token() {
    let token = "kube-bearer-tok-proxy-4f9";
    let mut t = T::new();
    let kc = t.dir.path().join("kubeconfig");
    let pki = Pki::new("kube-pin");
    let attacker = Pki::new("kube-attacker");
    let port = closed_port();
    kubeconfig(&kc, &pki.ca, port, closed_port());
    t.env("KUBECONFIG", &kc.display().to_string());
    t.init();
    t.add("bearer_token", "tok", &[], Some(("token", token)))
        .success();
    t.cmd()
        .args(["kube", "setup", "tok", "dev"])
        .assert()
        .success();
    let proxy = listener();
    let server = format!("https://127.0.0.1:{port}");
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    let ca = format!("--certificate-authority={}", pki.ca.display());
    let other_ca = format!("--certificate-authority={}", attacker.ca.display());
    let variants: [(&str, Vec<String>); 4] = [
        (
            "insecure",
            vec![
                format!("--proxy-url={proxy_url}"),
                "--insecure-skip-tls-verify=true".into(),
            ],
        ),
        (
            "other-ca",
            vec![format!("--proxy-url={proxy_url}"), other_ca],
        ),
        (
            "other-name",
            vec![
                format!("--proxy-url={proxy_url}"),
                ca.clone(),
                "--tls-server-name=elsewhere.example".into(),
            ],
        ),
        ("proxied", vec![format!("--proxy-url={proxy_url}"), ca]),
    ];
    for (cluster, flags) in &variants {
        let mut args = vec![
            "config".to_string(),
            "set-cluster".into(),
            cluster.to_string(),
            format!("--server={server}"),
        ];
        args.extend(flags.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = kubectl(&t, &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let ctx = format!("borrowed-{cluster}");
        let cluster_flag = format!("--cluster={cluster}");
        let out = kubectl(
            &t,
            &[
                "config",
                "set-context",
                &ctx,
                &cluster_flag,
                "--user=authcfg-tok",
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let out = kubectl(
            &t,
            &[
                "--context",
                &ctx,
                "--request-timeout=5s",
                "get",
                "--raw",
                "/api",
            ],
        );
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{cluster}: {err}");
        assert!(
            err.contains("otherwise than when 'tok' was set up"),
            "{cluster}: {err}"
        );
        assert_clean("kubectl's output", &out.stderr, &[token]);
        assert!(
            proxy.got.lock().unwrap().is_empty(),
            "{cluster}: the proxy got {:?}",
            String::from_utf8_lossy(&proxy.got.lock().unwrap())
        );
    }
    // The bound context itself still gets its token from kubectl (the CA
    // file's digest is what kubectl sends): the plugin answers, then the
    // closed port refuses the connection.
    let out = kubectl(
        &t,
        &[
            "--context",
            "dev",
            "--request-timeout=5s",
            "get",
            "--raw",
            "/api",
        ],
    );
    let err = text(&out.stderr);
    assert!(!out.status.success());
    assert!(!err.contains("getting credentials"), "{err}");
    assert!(!err.contains("authcfg:"), "{err}");

    // insecure-skip-tls-verify is refused at setup unless asked for.
    let out = kubectl(
        &t,
        &[
            "config",
            "set-context",
            "insecure",
            "--cluster=insecure",
            "--user=someone",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = t
        .cmd()
        .args(["kube", "setup", "tok", "insecure"])
        .assert()
        .code(2);
    let err = text(&out.get_output().stderr);
    assert!(err.contains("insecure-skip-tls-verify"), "{err}");
    t.cmd()
        .args([
            "kube",
            "setup",
            "tok",
            "insecure",
            "--allow-insecure-skip-tls-verify",
        ])
        .assert()
        .success();

    // A binding recorded before the connection was pinned answers nothing
    // until setup runs again.
    let bindings = t.home.join(".config/authcfg/helpers.json");
    let mut b: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&bindings).unwrap()).unwrap();
    b["kube"]["dev"]
        .as_object_mut()
        .unwrap()
        .remove("connection")
        .expect("the connection is recorded");
    std::fs::write(&bindings, serde_json::to_vec(&b).unwrap()).unwrap();
    let out = t
        .cmd()
        .args(["kube", "credential", "tok", "--context", "dev"])
        .assert()
        .code(2);
    let o = out.get_output();
    assert!(o.stdout.is_empty());
    let err = text(&o.stderr);
    assert!(err.contains("authcfg kube setup tok dev"), "{err}");
    t.cmd()
        .args(["kube", "setup", "tok", "dev"])
        .assert()
        .success();
    let out = t.stdout(&["kube", "credential", "tok", "--context", "dev"]);
    assert!(out.contains(token));
}

#[test]
fn setup_shows_no_control_characters_from_the_kubeconfig() {
    let mut t = T::new();
    let kc = t.dir.path().join("kubeconfig");
    std::fs::write(
        &kc,
        "apiVersion: v1\nkind: Config\n\
         clusters:\n- name: evil\n  cluster:\n    server: \"https://127.0.0.1:1/\\e]0;pwned\\a\\e[2J\"\n\
         contexts:\n- name: dev\n  context:\n    cluster: evil\n    user: someone\n\
         users:\n- name: someone\n  user:\n    token: x\n",
    )
    .unwrap();
    t.env("KUBECONFIG", &kc.display().to_string());
    t.init();
    t.add(
        "bearer_token",
        "tok",
        &[],
        Some(("token", "kube-tok-esc-1")),
    )
    .success();
    let out = t
        .cmd()
        .args(["kube", "setup", "tok", "dev"])
        .assert()
        .code(2);
    let o = out.get_output();
    for (what, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        assert!(
            !bytes.contains(&0x1b) && !bytes.contains(&0x07),
            "{what}: {:?}",
            text(bytes)
        );
    }
    assert!(
        text(&o.stderr).contains("control characters"),
        "{}",
        text(&o.stderr)
    );
    // Nothing bound, the kubeconfig unchanged.
    assert!(!std::fs::read_to_string(&kc)
        .unwrap()
        .contains("authcfg-tok"));
}
