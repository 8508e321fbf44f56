//! Real service peers for connector tests: users with passwords on the
//! machine's PostgreSQL, MariaDB, Redis and RabbitMQ, and private instances
//! of Mosquitto, NATS, sshd, nginx and an S3 server on loopback ports.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use tempfile::TempDir;

static N: AtomicUsize = AtomicUsize::new(0);

/// A unique, lowercase identifier for users created by this test process.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A port that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A listener that accepts connections (kernel backlog) and never answers.
pub fn silent_listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

pub fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs SQL as the PostgreSQL superuser (trust on this machine).
/// `psql` as the machine's superuser on 127.0.0.1: the command, to run.
pub fn psql_cmd(sql: &str) -> Command {
    let mut c = Command::new("psql");
    c.args([
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-qAtc",
        sql,
    ]);
    c
}

/// Runs `sql` as the superuser; it must succeed.
pub fn psql(sql: &str) {
    run(&mut psql_cmd(sql));
}

pub struct PgRole(pub String);
impl PgRole {
    /// A login role whose password is really checked (member of authcfg_pw,
    /// which pg_hba.conf sends through scram-sha-256: scripts/setup).
    pub fn create(password: &str) -> PgRole {
        let name = unique("authcfg_pg");
        psql(&format!(
            "CREATE ROLE {name} LOGIN PASSWORD '{password}' IN ROLE authcfg_pw"
        ));
        PgRole(name)
    }
}
impl Drop for PgRole {
    fn drop(&mut self) {
        let _ = psql_cmd(&format!("DROP ROLE IF EXISTS {}", self.0)).output();
    }
}

pub fn mariadb(sql: &str) {
    run(Command::new("mariadb").args(["-uroot", "-e", sql]));
}

pub struct MariaUser(pub String);
impl MariaUser {
    pub fn create(password: &str) -> MariaUser {
        let name = unique("acm");
        for host in ["127.0.0.1", "localhost", "%"] {
            mariadb(&format!(
                "CREATE USER '{name}'@'{host}' IDENTIFIED BY '{password}'; GRANT SELECT ON test.* TO '{name}'@'{host}';"
            ));
        }
        MariaUser(name)
    }
}
impl Drop for MariaUser {
    fn drop(&mut self) {
        for host in ["127.0.0.1", "localhost", "%"] {
            let _ = Command::new("mariadb")
                .args([
                    "-uroot",
                    "-e",
                    &format!("DROP USER IF EXISTS '{}'@'{host}'", self.0),
                ])
                .output();
        }
    }
}

pub struct RedisUser(pub String);
impl RedisUser {
    pub fn create(password: &str) -> RedisUser {
        let name = unique("acr");
        run(Command::new("redis-cli").args([
            "-h",
            "127.0.0.1",
            "ACL",
            "SETUSER",
            &name,
            "on",
            &format!(">{password}"),
            "~*",
            "&*",
            "+@all",
        ]));
        RedisUser(name)
    }
}
impl Drop for RedisUser {
    fn drop(&mut self) {
        let _ = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "ACL", "DELUSER", &self.0])
            .output();
    }
}

pub struct RabbitUser(pub String);
impl RabbitUser {
    pub fn create(password: &str) -> RabbitUser {
        let name = unique("acq");
        run(Command::new("rabbitmqctl").args(["-q", "add_user", &name, password]));
        run(Command::new("rabbitmqctl").args([
            "-q",
            "set_permissions",
            "-p",
            "/",
            &name,
            ".*",
            ".*",
            ".*",
        ]));
        RabbitUser(name)
    }
}
impl Drop for RabbitUser {
    fn drop(&mut self) {
        let _ = Command::new("rabbitmqctl")
            .args(["-q", "delete_user", &self.0])
            .output();
    }
}

/// A child process ended on drop (SIGTERM, a bounded wait, then SIGKILL):
/// the one guard every test peer holds its process in.
pub struct Guard(pub Child);
impl Drop for Guard {
    fn drop(&mut self) {
        stop(&mut self.0);
    }
}
impl std::ops::Deref for Guard {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}
impl std::ops::DerefMut for Guard {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

/// A child process ended on drop, with its private directory.
pub struct Daemon {
    pub port: u16,
    child: Guard,
    pub dir: TempDir,
}

/// Ends a child process: SIGTERM, a bounded wait, then SIGKILL.
pub fn stop(child: &mut Child) {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let _ = kill(Pid::from_raw(child.id() as i32), Signal::SIGTERM);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Spawns `cmd` and reads its stderr until a line contains `ready`.
pub fn spawn_until(mut cmd: Command, ready: &str, port: u16, dir: TempDir) -> Daemon {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (scripts/setup installs it)"));
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if err.read_line(&mut line).unwrap() == 0 {
            panic!("{cmd:?} exited before it was ready:\n{seen}");
        }
        seen.push_str(&line);
        if line.contains(ready) {
            break;
        }
    }
    // Keep draining so the daemon never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
    Daemon {
        port,
        child: Guard(child),
        dir,
    }
}

pub fn mosquitto(user: &str, password: &str) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("passwd");
    run(Command::new("mosquitto_passwd")
        .args(["-b", "-c"])
        .arg(&pw)
        .args([user, password]));
    let port = closed_port();
    let conf = dir.path().join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {}\npersistence false\nlog_dest stderr\nlog_type all\n",
            pw.display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new("mosquitto");
    cmd.arg("-c").arg(&conf);
    spawn_until(cmd, "running", port, dir)
}

pub fn nats(user: &str, password: &str) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let mut cmd = Command::new("nats-server");
    cmd.args([
        "-a",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "--user",
        user,
        "--pass",
        password,
    ]);
    spawn_until(cmd, "Server is ready", port, dir)
}

/// A system user (created if missing) whose password is `password`.
pub fn ensure_user(user: &str, password: &str) {
    let exists = Command::new("id")
        .arg(user)
        .output()
        .unwrap()
        .status
        .success();
    if !exists {
        run(Command::new("useradd").args(["-M", "-s", "/bin/sh", user]));
    }
    let mut chpasswd = Command::new("chpasswd")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut chpasswd.stdin.take().unwrap(),
        format!("{user}:{password}\n").as_bytes(),
    )
    .unwrap();
    assert!(chpasswd.wait().unwrap().success());
}

/// sshd on a loopback port for a system user with a password and a key.
pub fn sshd(user: &str, password: &str, authorized_key: &str) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    ensure_user(user, password);
    let host_key = dir.path().join("host_ed25519");
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&host_key));
    let keys = dir.path().join("authorized_keys");
    std::fs::write(&keys, authorized_key).unwrap();
    std::fs::create_dir_all("/run/sshd").unwrap();
    let port = closed_port();
    let conf = dir.path().join("sshd_config");
    std::fs::write(
        &conf,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\n\
             UsePAM no\nStrictModes no\nAuthorizedKeysFile {}\nPidFile {}/sshd.pid\nSubsystem sftp internal-sftp\nLogLevel INFO\n",
            host_key.display(),
            keys.display(),
            dir.path().display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new("/usr/sbin/sshd");
    cmd.args(["-D", "-e", "-f"]).arg(&conf);
    spawn_until(cmd, "Server listening", port, dir)
}

/// nginx checking an API key in a header, a query parameter and a cookie,
/// a bearer token and HTTP Basic, each on its own path; and, on the paths
/// of the catalog's GitLab and Elasticsearch checks, the key in
/// `PRIVATE-TOKEN` and HTTP Basic.
pub fn nginx(key: &str, token: &str, user: &str, password: &str) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let htpasswd = dir.path().join("htpasswd");
    std::fs::write(&htpasswd, format!("{user}:{{PLAIN}}{password}\n")).unwrap();
    let d = dir.path().display();
    // `return` runs before access checks in nginx: Basic auth guards a file.
    std::fs::write(dir.path().join("ok.txt"), "ok").unwrap();
    let conf = dir.path().join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon off;\npid {d}/nginx.pid;\nerror_log stderr info;\nevents {{ worker_connections 64; }}\nhttp {{\n\
             access_log off;\nclient_body_temp_path {d};\nproxy_temp_path {d};\nfastcgi_temp_path {d};\nuwsgi_temp_path {d};\nscgi_temp_path {d};\n\
             server {{\nlisten 127.0.0.1:{port};\n\
             location = /header {{ if ($http_x_api_key != \"{key}\") {{ return 401; }} return 200 \"ok\"; }}\n\
             location = /prefixed {{ if ($http_authorization != \"Token {key}\") {{ return 401; }} return 200 \"ok\"; }}\n\
             location = /query {{ if ($arg_api_key != \"{key}\") {{ return 401; }} return 200 \"ok\"; }}\n\
             location = /cookie {{ if ($cookie_session != \"{key}\") {{ return 401; }} return 200 \"ok\"; }}\n\
             location = /bearer {{ if ($http_authorization != \"Bearer {token}\") {{ return 401; }} return 200 \"ok\"; }}\n\
             location = /basic {{ auth_basic \"t\"; auth_basic_user_file {}; alias {d}/ok.txt; }}\n\
             location = /forbidden {{ return 403; }}\n\
             location = /api/v4/user {{ if ($http_private_token != \"{key}\") {{ return 401; }} return 200 \"ok\"; }}\n\
             location = /_security/_authenticate {{ auth_basic \"t\"; auth_basic_user_file {}; alias {d}/ok.txt; }}\n}}\n}}\n",
            htpasswd.display(),
            htpasswd.display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new("nginx");
    cmd.arg("-c").arg(&conf).arg("-p").arg(dir.path());
    spawn_until(cmd, "start worker process", port, dir)
}

/// Starts a moto peer of `tests/peer` (`script`), which prints `READY
/// {json}` when it listens: the child and that JSON.
fn moto_peer(script: &str, what: &str) -> (std::process::Child, serde_json::Value) {
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new("python3")
        .arg(format!("{}/{script}", super::PEER_DIR))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let ready = line.strip_prefix("READY ").unwrap_or_else(|| {
        panic!(
            "{what} peer did not start: {line:?} (pip install 'moto[server]')\n{}",
            std::fs::read_to_string(log.path()).unwrap_or_default()
        )
    });
    let j: serde_json::Value = serde_json::from_str(ready).unwrap();
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (child, j)
}

pub struct S3 {
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub bucket: String,
    child: Guard,
}
impl S3 {
    pub fn start() -> S3 {
        let (child, j) = moto_peer("s3.py", "s3");
        S3 {
            endpoint: j["endpoint"].as_str().unwrap().into(),
            access_key_id: j["access_key_id"].as_str().unwrap().into(),
            secret_access_key: j["secret_access_key"].as_str().unwrap().into(),
            bucket: j["bucket"].as_str().unwrap().into(),
            child: Guard(child),
        }
    }
}

/// Repositories served by `git http-backend` behind nginx + fcgiwrap (the
/// Debian packages), where every request needs HTTP Basic whose password
/// is an access token the OpenID peer issued and that is still valid:
/// nginx asks the peer (`auth_request` to its `/_test/git-auth`), so an
/// expired or unknown token is refused.
pub struct GitHttp {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    pub repos: std::path::PathBuf,
    _nginx: Daemon,
    _fcgiwrap: Guard,
}

impl GitHttp {
    pub fn start(peer_issuer: &str) -> GitHttp {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let repos = dir.path().join("repos");
        std::fs::create_dir_all(&repos).unwrap();
        let sock = dir.path().join("fcgi.sock");
        let mut fcgiwrap = Command::new("fcgiwrap")
            .arg("-s")
            .arg(format!("unix:{}", sock.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("fcgiwrap (apt: fcgiwrap; scripts/setup)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !sock.exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "fcgiwrap did not create its socket"
            );
            if let Ok(Some(status)) = fcgiwrap.try_wait() {
                panic!("fcgiwrap exited: {status}");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let port = closed_port();
        let peer = peer_issuer.trim_end_matches('/');
        let conf = dir.path().join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "user root;\ndaemon off;\npid {d}/nginx.pid;\nerror_log stderr info;\nevents {{ worker_connections 64; }}\nhttp {{\n\
                 access_log off;\nclient_body_temp_path {d};\nproxy_temp_path {d};\nfastcgi_temp_path {d};\nuwsgi_temp_path {d};\nscgi_temp_path {d};\n\
                 client_max_body_size 0;\n\
                 server {{\nlisten 127.0.0.1:{port};\n\
                 location = /_auth {{ internal; proxy_pass {peer}/_test/git-auth; proxy_pass_request_body off;\n\
                   proxy_set_header Content-Length \"\"; proxy_set_header Authorization $http_authorization; }}\n\
                 location @unauthorized {{ add_header WWW-Authenticate 'Basic realm=\"git\"' always; return 401; }}\n\
                 location / {{\n  auth_request /_auth;\n  error_page 401 = @unauthorized;\n\
                   fastcgi_pass unix:{sock};\n\
                   fastcgi_param SCRIPT_FILENAME /usr/lib/git-core/git-http-backend;\n\
                   fastcgi_param GIT_PROJECT_ROOT {repos};\n\
                   fastcgi_param GIT_HTTP_EXPORT_ALL \"\";\n\
                   fastcgi_param PATH_INFO $uri;\n\
                   fastcgi_param QUERY_STRING $query_string;\n\
                   fastcgi_param REQUEST_METHOD $request_method;\n\
                   fastcgi_param CONTENT_TYPE $content_type;\n\
                   fastcgi_param CONTENT_LENGTH $content_length;\n\
                   fastcgi_param REMOTE_USER $remote_user;\n\
                   fastcgi_param REMOTE_ADDR $remote_addr;\n\
                   fastcgi_param SERVER_PROTOCOL $server_protocol;\n\
                   fastcgi_param HTTP_CONTENT_ENCODING $http_content_encoding;\n\
                   fastcgi_param GIT_HTTP_MAX_REQUEST_BUFFER 100M;\n}}\n}}\n}}\n",
                sock = sock.display(),
                repos = repos.display(),
            ),
        )
        .unwrap();
        let mut cmd = Command::new("nginx");
        cmd.arg("-c").arg(&conf).arg("-p").arg(dir.path());
        let nginx = spawn_until(cmd, "start worker process", port, dir);
        GitHttp {
            url: format!("http://127.0.0.1:{port}"),
            repos,
            _nginx: nginx,
            _fcgiwrap: Guard(fcgiwrap),
        }
    }

    /// A bare repository `NAME.git` with one commit (a README holding
    /// `content`), accepting pushes.
    pub fn repo(&self, name: &str, content: &str) -> String {
        let bare = self.repos.join(format!("{name}.git"));
        let work = self.repos.join(format!(".seed-{name}"));
        let git = |dir: &std::path::Path, args: &[&str]| {
            run(Command::new("git")
                .current_dir(dir)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .args(["-c", "user.name=seed", "-c", "user.email=seed@example.test"])
                .args(args));
        };
        std::fs::create_dir_all(&work).unwrap();
        git(
            &self.repos,
            &["init", "-q", "--bare", "-b", "main", &format!("{name}.git")],
        );
        git(&bare, &["config", "http.receivepack", "true"]);
        git(&work, &["init", "-q", "-b", "main"]);
        std::fs::write(work.join("README"), content).unwrap();
        git(&work, &["add", "README"]);
        git(&work, &["commit", "-q", "-m", "seed"]);
        git(&work, &["push", "-q", bare.to_str().unwrap(), "main"]);
        std::fs::remove_dir_all(&work).unwrap();
        format!("{}/{name}.git", self.url)
    }
}

/// AWS on loopback (`tests/peer/aws.py`): moto's S3, IAM and STS with
/// signatures checked; a user whose key may only call STS, a role it
/// assumes that may use S3, a bucket holding `hello.txt`.
pub struct Aws {
    pub endpoint: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub role_arn: String,
    pub bucket: String,
    child: Guard,
}
impl Aws {
    pub fn start() -> Aws {
        let (child, j) = moto_peer("aws.py", "aws");
        let s = |k: &str| j[k].as_str().unwrap().to_string();
        Aws {
            endpoint: s("endpoint"),
            access_key_id: s("access_key_id"),
            secret_access_key: s("secret_access_key"),
            role_arn: s("role_arn"),
            bucket: s("bucket"),
            child: Guard(child),
        }
    }

    /// The STS calls the peer has answered (action and the non-secret
    /// parameters), in order.
    pub fn sts_calls(&self) -> Vec<serde_json::Value> {
        reqwest::blocking::get(format!("{}/_authcfg/sts-calls", self.endpoint))
            .unwrap()
            .json()
            .unwrap()
    }
}

/// AWS KMS on loopback (`tests/peer/kms.py`): moto's KMS and IAM with
/// signatures checked, each KMS call authorised against the key it names,
/// disabled keys refused as AWS refuses them; the team's key and another,
/// and the users `operator` (everything), `admin` (use both keys),
/// `runner` (Decrypt and DescribeKey with the team's key), `outsider`.
pub struct Kms {
    pub endpoint: String,
    pub key_arn: String,
    pub other_key_arn: String,
    users: serde_json::Value,
    child: Guard,
}

impl Kms {
    pub fn start() -> Kms {
        let (child, j) = moto_peer("kms.py", "kms");
        let s = |k: &str| j[k].as_str().unwrap().to_string();
        Kms {
            endpoint: s("endpoint"),
            key_arn: s("key_arn"),
            other_key_arn: s("other_key_arn"),
            users: j.clone(),
            child: Guard(child),
        }
    }

    /// A user's (access key id, secret access key).
    pub fn keys(&self, user: &str) -> (String, String) {
        let u = &self.users[user];
        (
            u["access_key_id"].as_str().unwrap().into(),
            u["secret_access_key"].as_str().unwrap().into(),
        )
    }

    /// `aws ARGS` as the operator (its keys in the environment, never in
    /// argv); the output.
    pub fn aws(&self, args: &[&str]) -> String {
        let (id, secret) = self.keys("operator");
        // Debian's AWS CLI v2 (scripts/setup), not a pip shim on PATH.
        let out = Command::new("/usr/bin/aws")
            .args(["--endpoint-url", &self.endpoint, "--region", "us-east-1"])
            .args(args)
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_ACCESS_KEY_ID", id)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_MAX_ATTEMPTS", "1")
            .stdin(Stdio::null())
            .output()
            .expect("/usr/bin/aws (awscli; scripts/setup)");
        assert!(
            out.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// Sets `user`'s KMS policy: these actions on these resources.
    pub fn policy(&self, user: &str, actions: &[&str], resources: &[&str]) {
        let doc = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resources}],
        });
        self.aws(&[
            "iam",
            "put-user-policy",
            "--user-name",
            user,
            "--policy-name",
            "kms",
            "--policy-document",
            &doc.to_string(),
        ]);
    }

    /// From now on the peer lies: each Decrypt answer names the other key.
    pub fn lie(&self) {
        reqwest::blocking::Client::new()
            .post(format!("{}/_authcfg/lie", self.endpoint))
            .send()
            .unwrap()
            .error_for_status()
            .unwrap();
    }

    /// The KMS calls the peer has answered (target, key, encryption
    /// context, caller's access key id), in order.
    pub fn calls(&self) -> Vec<serde_json::Value> {
        reqwest::blocking::get(format!("{}/_authcfg/kms-calls", self.endpoint))
            .unwrap()
            .json()
            .unwrap()
    }
}
