//! Peers that speak TLS with the run's own CA (support/pki.rs): a private
//! PostgreSQL with ssl=on, redis-server on a TLS port, Mosquitto and NATS
//! with TLS listeners, nginx with two https origins, sshd with a chosen host
//! key, and tansu (a Kafka-protocol broker) with SASL/SCRAM users. All on
//! 127.0.0.1, each on a free port, each killed when dropped.

use super::pki::Pair;
use super::services::{closed_port, run, spawn_until, Daemon, Guard};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

fn copy_to(dir: &Path, from: &Path, name: &str, mode: u32) -> PathBuf {
    let to = dir.join(name);
    std::fs::copy(from, &to).unwrap();
    std::fs::set_permissions(&to, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
    to
}

// ---------------------------------------------------------------- PostgreSQL

/// A private PostgreSQL cluster (its own data directory, initdb/pg_ctl as
/// the postgres user) with ssl=on, on a free port.
pub struct PgServer {
    pub port: u16,
    pub dir: TempDir,
    bin: PathBuf,
    data: PathBuf,
}

fn pg_bin() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql")
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    dirs.sort();
    dirs.pop().expect("initdb under /usr/lib/postgresql/*/bin")
}

fn as_postgres(bin: &Path, tool: &str) -> Command {
    let mut c = Command::new("runuser");
    c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
    c
}

impl PgServer {
    /// `server` is the certificate the server presents; `ca` the CA whose
    /// client certificates it accepts for `cert` authentication.
    pub fn start(server: &Pair, ca: &Path) -> PgServer {
        let bin = pg_bin();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let cert = copy_to(dir.path(), &server.cert, "server.crt", 0o644);
        let key = copy_to(dir.path(), &server.key, "server.key", 0o600);
        let ca = copy_to(dir.path(), ca, "ca.crt", 0o644);
        run(Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path()));
        run(as_postgres(&bin, "initdb")
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .stdout(Stdio::null())
            .arg(&data));
        let port = closed_port();
        let d = dir.path().display();
        std::fs::write(
            data.join("postgresql.auto.conf"),
            format!(
                "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{d}'\n\
                 ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\nssl_ca_file = '{}'\n\
                 log_connections = on\nfsync = off\nshared_buffers = 16MB\n",
                cert.display(),
                key.display(),
                ca.display()
            ),
        )
        .unwrap();
        // Who may log in how: SCRAM over TLS; cleartext and MD5 for the
        // users made to ask for them; client certificates for certuser.
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\n\
             hostssl all scramuser 127.0.0.1/32 scram-sha-256\n\
             host all clearuser 127.0.0.1/32 password\n\
             host all md5user 127.0.0.1/32 md5\n\
             hostssl all certuser 127.0.0.1/32 cert\n",
        )
        .unwrap();
        run(Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path()));
        // -w: pg_ctl itself waits (bounded) until the server accepts.
        run(as_postgres(&bin, "pg_ctl")
            .args(["-w", "-t", "60", "-D"])
            .arg(&data)
            .arg("-l")
            .arg(dir.path().join("log"))
            .arg("start")
            .stdout(Stdio::null()));
        PgServer {
            port,
            dir,
            bin,
            data,
        }
    }

    pub fn psql(&self, sql: &str) {
        run(as_postgres(&self.bin, "psql")
            .arg("-h")
            .arg(self.dir.path())
            .args([
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-qAtc",
                sql,
            ]));
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let _ = as_postgres(&self.bin, "pg_ctl")
            .args(["-D"])
            .arg(&self.data)
            .args(["-m", "immediate", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

// ---------------------------------------------------------------- Redis

/// redis-server with only a TLS port; `clients` CA set: client certificates
/// required.
pub fn redis_tls(server: &Pair, ca: &Path, password: &str, require_client_cert: bool) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let port = closed_port();
    let mut cmd = Command::new("redis-server");
    cmd.args([
        "--port",
        "0",
        "--tls-port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
    ])
    .arg("--tls-cert-file")
    .arg(&server.cert)
    .arg("--tls-key-file")
    .arg(&server.key)
    .arg("--tls-ca-cert-file")
    .arg(ca)
    .args([
        "--tls-auth-clients",
        if require_client_cert { "yes" } else { "no" },
        "--requirepass",
        password,
        "--save",
        "",
        "--appendonly",
        "no",
        "--logfile",
        "/dev/stderr",
    ])
    .arg("--dir")
    .arg(dir.path());
    spawn_until(cmd, "Ready to accept connections", port, dir)
}

// ---------------------------------------------------------------- Mosquitto

pub fn mosquitto_tls(server: &Pair, user: &str, password: &str) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("passwd");
    run(Command::new("mosquitto_passwd")
        .args(["-b", "-c"])
        .arg(&pw)
        .args([user, password]));
    let cert = copy_to(dir.path(), &server.cert, "server.crt", 0o644);
    let key = copy_to(dir.path(), &server.key, "server.key", 0o644);
    let port = closed_port();
    let conf = dir.path().join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\ncertfile {}\nkeyfile {}\nallow_anonymous false\npassword_file {}\n\
             persistence false\nlog_dest stderr\nlog_type all\n",
            cert.display(),
            key.display(),
            pw.display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new("mosquitto");
    cmd.arg("-c").arg(&conf);
    spawn_until(cmd, "running", port, dir)
}

// ---------------------------------------------------------------- NATS

pub fn nats_tls(server: &Pair, user: &str, password: &str) -> Daemon {
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
    ])
    .arg("--tls")
    .arg("--tlscert")
    .arg(&server.cert)
    .arg("--tlskey")
    .arg(&server.key);
    spawn_until(cmd, "Server is ready", port, dir)
}

// ---------------------------------------------------------------- nginx

/// nginx with two https origins on 127.0.0.1 (two ports): origin A checks
/// an API key, redirects within itself, redirects to origin B, and has a
/// path that wants a client certificate; origin B logs every request with
/// every header that could carry a credential.
pub struct Origins {
    pub daemon: Daemon,
    pub a: String,
    pub b: String,
    pub b_log: PathBuf,
}

pub fn nginx_origins(server: &Pair, ca: &Path, key: &str) -> Origins {
    let dir = tempfile::tempdir().unwrap();
    let pa = closed_port();
    let pb = closed_port();
    let d = dir.path().display();
    let b_log = dir.path().join("b.log");
    let conf = dir.path().join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "daemon off;\npid {d}/nginx.pid;\nerror_log stderr info;\nevents {{ worker_connections 64; }}\nhttp {{\n\
             client_body_temp_path {d};\nproxy_temp_path {d};\nfastcgi_temp_path {d};\nuwsgi_temp_path {d};\nscgi_temp_path {d};\n\
             log_format creds 'REQ $request_uri key=[$http_x_api_key] auth=[$http_authorization] cookie=[$http_cookie]';\n\
             ssl_certificate {cert};\nssl_certificate_key {skey};\n\
             server {{\nlisten 127.0.0.1:{pa} ssl;\naccess_log off;\n\
             ssl_client_certificate {ca};\nssl_verify_client optional;\n\
             location = /header {{ if ($http_x_api_key != \"{key}\") {{ return 401; }} return 200 \"ok\"; }}\n\
             location = /same {{ return 302 /header; }}\n\
             location = /away {{ return 302 https://127.0.0.1:{pb}/landing; }}\n\
             location = /mtls {{ if ($ssl_client_verify != SUCCESS) {{ return 403; }} if ($http_x_api_key != \"{key}\") {{ return 401; }} return 200 \"ok\"; }}\n\
             }}\n\
             server {{\nlisten 127.0.0.1:{pb} ssl;\naccess_log {b} creds;\nlocation / {{ return 200 \"landed\"; }}\n}}\n}}\n",
            cert = server.cert.display(),
            skey = server.key.display(),
            ca = ca.display(),
            b = b_log.display(),
        ),
    )
    .unwrap();
    let mut cmd = Command::new("nginx");
    cmd.arg("-c").arg(&conf).arg("-p").arg(dir.path());
    let daemon = spawn_until(cmd, "start worker process", pa, dir);
    Origins {
        daemon,
        a: format!("https://127.0.0.1:{pa}"),
        b: format!("https://127.0.0.1:{pb}"),
        b_log,
    }
}

// ---------------------------------------------------------------- sshd

/// sshd on `port` (0: a free one) with the given host key file; its log
/// (LogLevel DEBUG1: every authentication request) is collected as it comes.
pub struct Sshd {
    pub port: u16,
    log: std::sync::Arc<(std::sync::Mutex<String>, std::sync::Condvar)>,
    child: Guard,
    _dir: TempDir,
}

pub fn new_host_key(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    run(Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&path));
    path
}

/// `ssh-keygen -lf`: the SHA256 fingerprint OpenSSH prints.
pub fn fingerprint(host_key: &Path) -> String {
    let out = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(host_key.with_extension("pub"))
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string()
}

impl Sshd {
    pub fn start(user: &str, password: &str, host_key: &Path, port: u16) -> Sshd {
        let dir = tempfile::tempdir().unwrap();
        super::services::ensure_user(user, password);
        std::fs::create_dir_all("/run/sshd").unwrap();
        let port = if port == 0 { closed_port() } else { port };
        let conf = dir.path().join("sshd_config");
        std::fs::write(
            &conf,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\n\
                 UsePAM no\nStrictModes no\nAuthorizedKeysFile none\nPidFile {}/sshd.pid\nSubsystem sftp internal-sftp\nLogLevel DEBUG1\n",
                host_key.display(),
                dir.path().display()
            ),
        )
        .unwrap();
        let mut child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log: std::sync::Arc<(std::sync::Mutex<String>, std::sync::Condvar)> =
            Default::default();
        let log2 = log.clone();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut r = BufReader::new(err);
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 {
                let (text, cv) = &*log2;
                text.lock().unwrap().push_str(&line);
                cv.notify_all();
                line.clear();
            }
        });
        let sshd = Sshd {
            port,
            log,
            child: Guard(child),
            _dir: dir,
        };
        assert!(
            sshd.wait_for("Server listening", 1),
            "sshd did not start:\n{}",
            sshd.log()
        );
        sshd
    }

    pub fn log(&self) -> String {
        self.log.0.lock().unwrap().clone()
    }

    /// Waits (bounded) until `needle` appears `count` times in the log.
    pub fn wait_for(&self, needle: &str, count: usize) -> bool {
        let (text, cv) = &*self.log;
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut g = text.lock().unwrap();
        while g.matches(needle).count() < count {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            g = cv.wait_timeout(g, deadline - now).unwrap().0;
        }
        true
    }
}

// ---------------------------------------------------------------- TLS front

/// nginx's stream module terminating TLS on `port` (0: a free one) for a
/// plain TCP backend: for peers that cannot serve TLS themselves (tansu
/// 0.6.0's `--cert` and `--key` share a clap group, so the CLI rejects
/// the pair that enabling TLS needs).
pub fn tls_front(server: &Pair, port: u16, backend: u16) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let port = if port == 0 { closed_port() } else { port };
    let d = dir.path().display();
    let conf = dir.path().join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "load_module /usr/lib/nginx/modules/ngx_stream_module.so;\ndaemon off;\npid {d}/nginx.pid;\n\
             error_log stderr info;\nevents {{ worker_connections 64; }}\n\
             stream {{\nserver {{\nlisten 127.0.0.1:{port} ssl;\nssl_certificate {};\nssl_certificate_key {};\n\
             proxy_pass 127.0.0.1:{backend};\n}}\n}}\n",
            server.cert.display(),
            server.key.display()
        ),
    )
    .unwrap();
    let mut cmd = Command::new("nginx");
    cmd.arg("-c").arg(&conf).arg("-p").arg(dir.path());
    spawn_until(cmd, "start worker process", port, dir)
}

// ---------------------------------------------------------------- tansu

/// tansu, a Kafka-protocol broker, with SASL users: started once without
/// authentication to create the users (stored in its own SQLite file), then
/// restarted with `--authentication` (and TLS when `tls` is given).
pub struct Tansu {
    pub port: u16,
    child: Guard,
    pub dir: TempDir,
}

fn tansu_start(dir: &Path, port: u16, auth: bool, advertised: &str) -> Child {
    let url = format!("tcp://127.0.0.1:{port}");
    let advertised = format!("tcp://{advertised}");
    let mut cmd = Command::new("tansu");
    cmd.args([
        "broker",
        "--listener-url",
        &url,
        "--advertised-listener-url",
        &advertised,
    ])
    // Relative to the broker's directory: tansu reads sqlite:///abs as
    // relative anyway.
    .args(["--storage-engine", "sqlite://tansu.db"])
    .current_dir(dir);
    if auth {
        cmd.arg("--authentication");
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tansu (scripts/setup installs it)");
    // tansu prints "ready in ..." when it accepts.
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    for pipe in [Box::new(out) as Box<dyn Read + Send>, Box::new(err)] {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let mut r = BufReader::new(pipe);
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 {
                let _ = tx.send(line.clone());
                line.clear();
            }
        });
    }
    // Both pipes closed (tansu exited) ends the wait below at once.
    drop(tx);
    let started = Instant::now();
    let mut seen = String::new();
    loop {
        match rx.recv_timeout(Duration::from_secs(30).saturating_sub(started.elapsed())) {
            Ok(l) if l.contains("ready in") => break,
            Ok(l) => seen.push_str(&l),
            Err(_) => panic!("tansu did not start (auth={auth}):\n{seen}"),
        }
    }
    child
}

impl Tansu {
    /// `users`: (name, password, mechanism "scram256" | "scram512");
    /// `advertised`: the host:port the broker names in metadata (its own
    /// address unless a TLS front stands before it).
    pub fn start(users: &[(&str, &str, &str)], advertised: Option<String>) -> Tansu {
        let dir = tempfile::tempdir().unwrap();
        let port = closed_port();
        let own = format!("127.0.0.1:{port}");
        let mut open = tansu_start(dir.path(), port, false, &own);
        for (name, password, mechanism) in users {
            run(Command::new("tansu").args([
                "user",
                "create",
                "--broker",
                &format!("tcp://127.0.0.1:{port}"),
                "--mechanism",
                mechanism,
                name,
                password,
            ]));
        }
        let _ = open.kill();
        let _ = open.wait();
        let child = tansu_start(
            dir.path(),
            port,
            true,
            advertised.as_deref().unwrap_or(&own),
        );
        Tansu {
            port,
            child: Guard(child),
            dir,
        }
    }
}

// ---------------------------------------------------------------- RabbitMQ

/// A private RabbitMQ node: AMQPS only (no plain listener) and the
/// management API over https, both with `server`'s certificate; one
/// administrator created at first boot.
pub struct RabbitTls {
    pub port: u16,
    pub mgmt_port: u16,
    child: Guard,
    _dir: TempDir,
}

impl RabbitTls {
    pub fn start(server: &Pair, admin: &str, password: &str) -> RabbitTls {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("home")).unwrap();
        let (port, mgmt_port, dist_port) = (closed_port(), closed_port(), closed_port());
        let (cert, key) = (server.cert.display(), server.key.display());
        std::fs::write(
            d.join("rabbitmq.conf"),
            format!(
                "listeners.tcp = none\nlisteners.ssl.default = 127.0.0.1:{port}\n\
                 ssl_options.certfile = {cert}\nssl_options.keyfile = {key}\n\
                 ssl_options.verify = verify_none\nssl_options.fail_if_no_peer_cert = false\n\
                 management.ssl.port = {mgmt_port}\nmanagement.ssl.ip = 127.0.0.1\n\
                 management.ssl.certfile = {cert}\nmanagement.ssl.keyfile = {key}\n\
                 loopback_users = none\ndefault_user = {admin}\ndefault_pass = {password}\n\
                 default_user_tags.administrator = true\ndefault_permissions.configure = .*\n\
                 default_permissions.read = .*\ndefault_permissions.write = .*\n"
            ),
        )
        .unwrap();
        std::fs::write(d.join("enabled_plugins"), "[rabbitmq_management].\n").unwrap();
        let node = format!("authcfg{}x{port}@localhost", std::process::id());
        let mut child = Command::new("/usr/lib/rabbitmq/bin/rabbitmq-server")
            .env("HOME", d.join("home"))
            .env("RABBITMQ_NODENAME", &node)
            .env("RABBITMQ_CONFIG_FILE", d.join("rabbitmq"))
            .env("RABBITMQ_MNESIA_BASE", d.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", d.join("log"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", d.join("enabled_plugins"))
            .env("RABBITMQ_DIST_PORT", dist_port.to_string())
            .env("RABBITMQ_PID_FILE", d.join("pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("rabbitmq-server");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                panic!("rabbitmq-server exited before it was ready:\n{seen}");
            }
            seen.push_str(&line);
            if line.contains("Starting broker... completed") {
                break;
            }
        }
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        RabbitTls {
            port,
            mgmt_port,
            child: Guard(child),
            _dir: dir,
        }
    }
}

// ---------------------------------------------------------------- MariaDB

/// A private MariaDB (its own data directory) with TLS, on a free port.
pub struct MariaTls {
    pub port: u16,
    pub dir: TempDir,
    child: Guard,
}

impl MariaTls {
    pub fn start(server: &Pair, ca: &Path) -> MariaTls {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        run(Command::new("mariadb-install-db")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", d.join("data").display()))
            .args([
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ])
            .stdout(Stdio::null()));
        let port = closed_port();
        let mut child = Command::new("/usr/sbin/mariadbd")
            .arg("--no-defaults")
            .arg(format!("--datadir={}", d.join("data").display()))
            .arg(format!("--socket={}", d.join("sock").display()))
            .args([
                &format!("--port={port}"),
                "--bind-address=127.0.0.1",
                "--user=root",
            ])
            .arg(format!("--ssl-cert={}", server.cert.display()))
            .arg(format!("--ssl-key={}", server.key.display()))
            .arg(format!("--ssl-ca={}", ca.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mariadbd");
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        loop {
            let mut line = String::new();
            if err.read_line(&mut line).unwrap_or(0) == 0 {
                panic!("mariadbd exited before it was ready:\n{seen}");
            }
            seen.push_str(&line);
            if line.contains("ready for connections") {
                break;
            }
        }
        std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
        MariaTls {
            port,
            dir,
            child: Guard(child),
        }
    }

    pub fn sql(&self, sql: &str) {
        run(Command::new("mariadb")
            .arg("-S")
            .arg(self.dir.path().join("sock"))
            .args(["-uroot", "-e", sql]));
    }
}
