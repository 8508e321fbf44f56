//! docker's credential helper with the real client: skopeo (containers/image)
//! copies an image to and from Debian's docker-registry (the CNCF
//! distribution registry, htpasswd auth) behind nginx TLS, asking
//! `docker-credential-authcfg` (a link to authcfg) for the host the
//! docker config's `credHelpers` names. Right credentials copy, wrong ones
//! fail, a host no `docker setup` bound gets nothing.

use crate::support::pki::Pki;
use crate::support::services::*;
use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Writes an OCI image layout (one layer holding hello.txt with argv[2])
/// at argv[1]; prints the layer's digest.
const OCI: &str = r#"
import hashlib, json, tarfile, io, gzip, os, sys
d = sys.argv[1]
os.makedirs(d + '/blobs/sha256', exist_ok=True)
def blob(b):
    h = hashlib.sha256(b).hexdigest()
    open(f'{d}/blobs/sha256/{h}', 'wb').write(b)
    return 'sha256:' + h, len(b)
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode='w') as t:
    data = sys.argv[2].encode()
    ti = tarfile.TarInfo('hello.txt'); ti.size = len(data); ti.mtime = 0
    t.addfile(ti, io.BytesIO(data))
raw = raw.getvalue()
diff = 'sha256:' + hashlib.sha256(raw).hexdigest()
layer, ll = blob(gzip.compress(raw, mtime=0))
cfg, cl = blob(json.dumps({'architecture': 'amd64', 'os': 'linux', 'rootfs': {'type': 'layers', 'diff_ids': [diff]}, 'config': {}}).encode())
man, ml = blob(json.dumps({'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
    'config': {'mediaType': 'application/vnd.oci.image.config.v1+json', 'digest': cfg, 'size': cl},
    'layers': [{'mediaType': 'application/vnd.oci.image.layer.v1.tar+gzip', 'digest': layer, 'size': ll}]}).encode())
open(d + '/oci-layout', 'w').write(json.dumps({'imageLayoutVersion': '1.0.0'}))
open(d + '/index.json', 'w').write(json.dumps({'schemaVersion': 2, 'manifests': [{'mediaType': 'application/vnd.oci.image.manifest.v1+json',
    'digest': man, 'size': ml, 'annotations': {'org.opencontainers.image.ref.name': 'latest'}}]}))
print(layer[len('sha256:'):])
"#;

struct Registry {
    _registry: Daemon,
    nginx: Daemon,
    _pki: Pki,
    /// `--dest-cert-dir`/`--src-cert-dir`: the test CA as `ca.crt`.
    certs: PathBuf,
}

/// docker-registry on a loopback port (htpasswd, bcrypt) behind nginx
/// with a certificate of a test CA for 127.0.0.1 and localhost.
fn registry(user: &str, password: &str) -> Registry {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let port = closed_port();
    let out = Command::new("htpasswd")
        .args(["-nbB", user, password])
        .output()
        .expect("htpasswd (apache2-utils, scripts/setup)");
    assert!(out.status.success());
    std::fs::write(d.join("htpasswd"), &out.stdout).unwrap();
    std::fs::write(
        d.join("registry.yml"),
        format!(
            "version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: test-only\nauth:\n  htpasswd:\n    realm: test-registry\n    path: {}\n",
            d.join("data").display(),
            d.join("htpasswd").display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new("docker-registry");
    cmd.arg("serve").arg(d.join("registry.yml"));
    let registry = spawn_until(cmd, &format!("listening on 127.0.0.1:{port}"), port, dir);

    let pki = Pki::new("registry");
    let server = pki.server("registry", &["127.0.0.1", "localhost"]);
    let certs = pki.dir.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(&pki.ca, certs.join("ca.crt")).unwrap();
    let ndir = tempfile::tempdir().unwrap();
    let n = ndir.path().display();
    let tls = closed_port();
    let conf = ndir.path().join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon off;\npid {n}/nginx.pid;\nerror_log stderr info;\nevents {{ worker_connections 64; }}\nhttp {{\n\
             access_log {n}/access.log;\nclient_body_temp_path {n};\nproxy_temp_path {n};\nfastcgi_temp_path {n};\nuwsgi_temp_path {n};\nscgi_temp_path {n};\n\
             server {{\nlisten 127.0.0.1:{tls} ssl;\nssl_certificate {};\nssl_certificate_key {};\nclient_max_body_size 0;\nchunked_transfer_encoding on;\n\
             location / {{ proxy_pass http://127.0.0.1:{port}; proxy_set_header Host $http_host; proxy_set_header X-Forwarded-Proto https; proxy_request_buffering off; }}\n}}\n}}\n",
            server.cert.display(),
            server.key.display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new("nginx");
    cmd.arg("-c").arg(&conf).arg("-p").arg(ndir.path());
    let nginx = spawn_until(cmd, "start worker process", tls, ndir);
    Registry {
        _registry: registry,
        nginx,
        _pki: pki,
        certs,
    }
}

/// The test's environment for skopeo and the helper: its own docker
/// config, no containers auth file, and the link on PATH.
fn skopeo(t: &T, bin: &Path, args: &[&str]) -> Output {
    let mut c = Command::new("skopeo");
    t.apply(&mut c);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    c.env("PATH", path)
        .env("XDG_RUNTIME_DIR", t.dir.path().join("run"))
        .env("REGISTRY_AUTH_FILE", t.dir.path().join("no-auth.json"))
        .args(["--command-timeout", "60s"])
        .args(args)
        .stdin(Stdio::null());
    c.output().unwrap()
}

/// One action of the helper run by its link's name, as docker runs it.
fn helper(t: &T, link: &Path, action: &str, input: &str) -> Output {
    let mut c = Command::new(link);
    t.apply(&mut c);
    c.arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

/// A test environment with its own docker config (other entries in it
/// that setup must keep) and the helper's link.
fn env() -> (T, PathBuf, PathBuf) {
    let mut t = T::new();
    let docker = t.dir.path().join("docker");
    std::fs::create_dir_all(&docker).unwrap();
    std::fs::write(
        docker.join("config.json"),
        r#"{"auths":{"other.example":{"auth":"b3RoZXI6cHc="}},"credHelpers":{"gcr.io":"gcloud"},"psFormat":"table {{.ID}}"}"#,
    )
    .unwrap();
    t.env("DOCKER_CONFIG", &docker.display().to_string());
    t.init();
    let bin = t.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(BIN, bin.join("docker-credential-authcfg")).unwrap();
    (t, docker, bin)
}

#[test]
fn skopeo_copies_through_the_registry_with_the_credential_authcfg_holds() {
    let password = "registry-Pw-right-9f2c";
    let wrong = "registry-pw-wrong-11aa";
    let reg = registry("alice", password);
    let (t, docker, bin) = env();
    let host = format!("127.0.0.1:{}", reg.nginx.port);
    t.add(
        "basic_auth",
        "reg",
        &["username=alice"],
        Some(("password", wrong)),
    )
    .success();
    t.cmd()
        .args(["docker", "setup", "reg", &host])
        .assert()
        .success();
    // The docker config gained the helper and kept everything else.
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(docker.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["credHelpers"][&host], "authcfg", "{config}");
    assert_eq!(config["credHelpers"]["gcr.io"], "gcloud", "{config}");
    assert_eq!(config["psFormat"], "table {{.ID}}", "{config}");
    assert_eq!(config["auths"]["other.example"]["auth"], "b3RoZXI6cHc=");

    let oci = t.dir.path().join("oci");
    let out = Command::new("python3")
        .args(["-c", OCI])
        .arg(&oci)
        .arg("hello from the authcfg test\n")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let layer = text(&out.stdout).trim().to_string();
    let src = format!("oci:{}:latest", oci.display());
    let dest = format!("docker://{host}/team/app:1");
    let certs = reg.certs.display().to_string();

    // Wrong credentials: the registry refuses the push.
    let out = skopeo(&t, &bin, &["copy", "--dest-cert-dir", &certs, &src, &dest]);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("unauthorized") || err.contains("authentication required"),
        "{err}"
    );

    // The right password: the push and a pull back go through.
    t.cmd()
        .args(["edit", "reg", "--secret-stdin", "password"])
        .write_stdin(password)
        .assert()
        .success();
    let out = skopeo(&t, &bin, &["copy", "--dest-cert-dir", &certs, &src, &dest]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let back = t.dir.path().join("back");
    let out = skopeo(
        &t,
        &bin,
        &[
            "copy",
            "--src-cert-dir",
            &certs,
            &dest,
            &format!("dir:{}", back.display()),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(back.join(&layer).exists(), "the layer came back");
    for o in [&out.stdout, &out.stderr] {
        assert_clean("skopeo's output", o, &[password]);
    }
    // The use is recorded with its consumer.
    let show = t.stdout(&["show", "reg"]);
    assert!(show.contains(&format!("docker:{host}")), "{show}");

    // Another host, named in the docker config by someone else but bound
    // by no setup: the helper answers "not found", the push is anonymous
    // and refused.
    let mut config = config;
    let other = format!("localhost:{}", reg.nginx.port);
    config["credHelpers"][&other] = "authcfg".into();
    std::fs::write(docker.join("config.json"), config.to_string()).unwrap();
    let out = skopeo(
        &t,
        &bin,
        &[
            "copy",
            "--dest-cert-dir",
            &certs,
            &src,
            &format!("docker://{other}/team/app:2"),
        ],
    );
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains("unauthorized") || err.contains("authentication required"),
        "{err}"
    );
    let link = bin.join("docker-credential-authcfg");
    let out = helper(&t, &link, "get", &other);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout).trim(),
        "credentials not found in native keychain"
    );
    assert_clean("the helper's answer", &out.stdout, &[password]);

    // The helper as docker runs it: get answers the bound host.
    let out = helper(&t, &link, "get", &format!("https://{host}"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["Username"], "alice");
    assert_eq!(got["Secret"], password);
    assert_eq!(got["ServerURL"], format!("https://{host}"));
    assert_clean("the helper's stderr", &out.stderr, &[password]);
    // list: the bound host and its user name, no secret.
    let out = helper(&t, &link, "list", "");
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list, serde_json::json!({ host.clone(): "alice" }));
    // store (docker login) keeps nothing: it fails and says where
    // credentials live; the config is unchanged.
    let offered =
        r#"{"ServerURL":"https://evil.example","Username":"x","Secret":"offered-secret-77"}"#;
    let out = helper(&t, &link, "store", offered);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("authcfg keeps no credential"));
    let out = helper(&t, &link, "get", "evil.example");
    assert_eq!(out.status.code(), Some(1));
    // erase (docker logout) unbinds the host and keeps the config.
    let out = helper(&t, &link, "erase", &host);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let out = helper(&t, &link, "get", &host);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout).trim(),
        "credentials not found in native keychain"
    );
    t.cmd().args(["show", "reg"]).assert().success();
    // The explicit form answers the same.
    t.cmd()
        .args(["docker", "credential-helper", "get"])
        .write_stdin(host.as_str())
        .assert()
        .code(1)
        .stdout("credentials not found in native keychain\n");
}

#[test]
fn the_helper_answers_bad_input_the_way_docker_expects() {
    let (t, docker, bin) = env();
    // A docker config kept by a dotfile manager (a link): setup writes
    // the link's target and the link stays.
    let dotfiles = t.dir.path().join("dotfiles");
    std::fs::create_dir_all(&dotfiles).unwrap();
    std::fs::rename(docker.join("config.json"), dotfiles.join("docker.json")).unwrap();
    std::os::unix::fs::symlink(dotfiles.join("docker.json"), docker.join("config.json")).unwrap();
    let link = bin.join("docker-credential-authcfg");
    t.add(
        "bearer_token",
        "bot",
        &["allowed_origins=https://registry.example.com"],
        Some(("token", "bearer-registry-tok-5e1")),
    )
    .success();
    t.add("env", "vars", &["FOO=bar"], None).success();
    // A config that cannot answer a registry is refused at setup.
    t.cmd()
        .args(["docker", "setup", "vars", "registry.example.com"])
        .assert()
        .code(2);
    // Its origins do not include the host: refused at setup too.
    t.cmd()
        .args(["docker", "setup", "bot", "elsewhere.example.com"])
        .assert()
        .failure();
    t.cmd()
        .args([
            "docker",
            "setup",
            "bot",
            "registry.example.com",
            "--username",
            "ci-bot",
        ])
        .assert()
        .success();
    assert!(std::fs::symlink_metadata(docker.join("config.json"))
        .unwrap()
        .file_type()
        .is_symlink());
    let kept = std::fs::read_to_string(dotfiles.join("docker.json")).unwrap();
    assert!(
        kept.contains("registry.example.com") && kept.contains("gcr.io"),
        "{kept}"
    );
    // A bearer token is the password, with the configured user name.
    let out = helper(&t, &link, "get", "registry.example.com");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["Username"], "ci-bot");
    assert_eq!(got["Secret"], "bearer-registry-tok-5e1");
    // Nothing, garbage, an unknown action: the protocol's answers, exit 1.
    let out = helper(&t, &link, "get", "");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout).trim(), "no credentials server URL");
    let out = helper(&t, &link, "get", "a b\u{0}c");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout).trim(),
        "credentials not found in native keychain"
    );
    let out = helper(&t, &link, "frobnicate", "");
    assert_eq!(out.status.code(), Some(1));
    // A removed config: not found, and why on stderr.
    t.cmd()
        .args(["rm", "bot", "--yes", "--force"])
        .assert()
        .success();
    let out = helper(&t, &link, "get", "registry.example.com");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout).trim(),
        "credentials not found in native keychain"
    );
    assert!(text(&out.stderr).contains("bot"), "{}", text(&out.stderr));
}

#[test]
fn an_oauth2_config_answers_its_fresh_access_token_as_the_password() {
    let peer = Peer::start();
    let (t, _docker, bin) = env();
    let link = bin.join("docker-credential-authcfg");
    peer.set_access_ttl(4);
    peer.add_robot(&t, "robot").success();
    t.cmd()
        .args(["docker", "setup", "robot", "registry.example.com"])
        .assert()
        .success();
    let get = || {
        let out = helper(&t, &link, "get", "registry.example.com");
        assert!(out.status.success(), "{}", text(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["Username"], "oauth2", "{v}");
        assert_ne!(v["Username"], "<token>", "never docker's identity token");
        v["Secret"].as_str().unwrap().to_string()
    };
    let first = get();
    assert_eq!(peer.introspect(&first)["active"], true);
    // After it expires, the next get refreshes (once) and answers the new one.
    let deadline = Instant::now() + Duration::from_secs(30);
    while peer.introspect(&first)["active"] == true {
        assert!(Instant::now() < deadline, "the token never expired");
        std::thread::sleep(Duration::from_millis(200));
    }
    let grants = peer.grants("client_credentials");
    let second = get();
    assert_ne!(first, second);
    assert_eq!(peer.introspect(&second)["active"], true);
    assert_eq!(peer.grants("client_credentials"), grants + 1);
}

#[test]
fn setup_changes_nothing_when_the_binding_cannot_be_recorded() {
    let (t, docker, _bin) = env();
    t.add(
        "bearer_token",
        "bot",
        &[],
        Some(("token", "bearer-registry-tok-0b7")),
    )
    .success();
    // authcfg's bindings file is a link: refused, so setup fails, and the
    // docker config is as it was.
    let config_dir = t.home.join(".config/authcfg");
    std::fs::create_dir_all(&config_dir).unwrap();
    let elsewhere = t.dir.path().join("elsewhere.json");
    std::fs::write(&elsewhere, "{}\n").unwrap();
    std::os::unix::fs::symlink(&elsewhere, config_dir.join("helpers.json")).unwrap();
    let before = std::fs::read(docker.join("config.json")).unwrap();
    t.cmd()
        .args(["docker", "setup", "bot", "registry.example.com"])
        .assert()
        .failure();
    assert_eq!(
        String::from_utf8_lossy(&std::fs::read(docker.join("config.json")).unwrap()),
        String::from_utf8_lossy(&before)
    );
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "{}\n");
}
