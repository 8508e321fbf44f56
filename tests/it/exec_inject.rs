//! exec (environment only, argv clean, exit codes, signals, no nesting),
//! inject, token and header.

use crate::support::*;
use predicates::str::contains;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

const TOKEN: &str = "exec-planted-TOKEN-31337";

fn setup() -> T {
    let t = T::new();
    t.init();
    t.add("bearer", "svc", &[], Some(("token", TOKEN)))
        .success();
    t
}

#[test]
fn child_gets_variables_in_env_not_argv_and_keeps_the_pid() {
    let t = setup();
    let mut child = t
        .std_cmd()
        .env("SVC_TOKEN", "inherited-stale-value")
        .args(["exec", "svc", "--", "sh", "-c", "echo $$; read x"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let pid: u32 = line.trim().parse().unwrap();
    assert_eq!(
        pid,
        child.id(),
        "the command runs in authcfg's own process (exec)"
    );
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert_clean("child argv", &cmdline, &[TOKEN]);
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    let vars: Vec<&[u8]> = environ.split(|&b| b == 0).collect();
    assert!(
        vars.contains(&format!("SVC_TOKEN={TOKEN}").as_bytes()),
        "variable given, inherited one replaced"
    );
    assert!(!vars.contains(&b"SVC_TOKEN=inherited-stale-value".as_slice()));
    assert!(vars.iter().any(|v| v.starts_with(b"AUTHCFG_EXEC=svc")));
    // SIGTERM reaches the command, whose death by signal is the status.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGTERM));
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_clean("stderr", err.as_bytes(), &[TOKEN]);
}

#[test]
fn exit_codes_nesting_and_missing_commands() {
    let t = setup();
    t.cmd()
        .args(["exec", "svc", "--", "sh", "-c", "exit 7"])
        .assert()
        .code(7);
    t.cmd()
        .args(["exec", "svc", "--", "sh", "-c", "test -n \"$SVC_TOKEN\""])
        .assert()
        .success();
    // The shell reports 128+signal for a command killed by a signal.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} exec svc -- sh -c 'kill -INT $$'; echo code=$?",
            BIN
        ))
        .envs(
            t.std_cmd()
                .get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("code=130"),
        "{out:?}"
    );
    // Nesting is refused with a clear message.
    let bin = BIN;
    t.cmd()
        .args(["exec", "svc", "--", bin, "exec", "svc", "--", "true"])
        .assert()
        .code(2)
        .stderr(contains("already inside `authcfg exec`"));
    t.cmd()
        .args(["exec", "svc", "--", "/nonexistent/cmd"])
        .assert()
        .code(127)
        .stderr(contains("cannot run"));
    t.cmd()
        .args(["exec", "nope", "--", "true"])
        .assert()
        .code(3);
    t.cmd().args(["exec", "svc"]).assert().code(2);
}

#[test]
fn inject_renders_or_writes_nothing() {
    let t = setup();
    t.add(
        "basic",
        "db",
        &["username=app"],
        Some(("password", "inj'pw\"$x")),
    )
    .success();
    let tpl = t.dir.path().join("app.tpl");
    std::fs::write(
        &tpl,
        "token: {{ authcfg://svc/token }}\nuser: {{authcfg://db/username}}\npass: \"{{ authcfg://db/password }}\"\nkeep: {{ not.a.ref }}\n",
    )
    .unwrap();
    let out = t.dir.path().join("out/app.yml");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    t.cmd()
        .args(["inject", "-i"])
        .arg(&tpl)
        .arg("-o")
        .arg(&out)
        .assert()
        .success()
        .stdout("");
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        format!("token: {TOKEN}\nuser: app\npass: \"inj'pw\"$x\"\nkeep: {{{{ not.a.ref }}}}\n")
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // A missing field or config fails before anything is written.
    for bad in [
        "{{ authcfg://svc/nofield }}",
        "{{ authcfg://missing/token }}",
    ] {
        std::fs::write(
            &tpl,
            format!("a: {{{{ authcfg://svc/token }}}}\nb: {bad}\n"),
        )
        .unwrap();
        let out2 = t.dir.path().join("never.yml");
        let code = if bad.contains("missing") { 3 } else { 2 };
        t.cmd()
            .args(["inject", "-i"])
            .arg(&tpl)
            .arg("-o")
            .arg(&out2)
            .assert()
            .code(code);
        assert!(!out2.exists(), "nothing written for {bad}");
    }
    // stdin to stdout
    t.cmd()
        .args(["inject", "-i", "-"])
        .write_stdin("Bearer {{ authcfg://svc/token }}")
        .assert()
        .success()
        .stdout(format!("Bearer {TOKEN}"));
}

#[test]
fn token_and_header_lines() {
    let t = setup();
    t.add(
        "api-key",
        "hdr",
        &["key_name=X-API-Key"],
        Some(("api_key", "ak1")),
    )
    .success();
    t.add(
        "api-key",
        "qry",
        &["key_name=api_key", "location=query"],
        Some(("api_key", "ak2")),
    )
    .success();
    t.add(
        "api-key",
        "ck",
        &["key_name=session", "location=cookie", "prefix=v1."],
        Some(("api_key", "ak3")),
    )
    .success();
    t.add(
        "basic",
        "b",
        &["username=Aladdin"],
        Some(("password", "open sesame")),
    )
    .success();
    t.add("none", "n", &[], None).success();
    assert_eq!(t.stdout(&["token", "svc"]), format!("{TOKEN}\n"));
    assert_eq!(
        t.stdout(&["header", "svc"]),
        format!("Authorization: Bearer {TOKEN}\n")
    );
    assert_eq!(t.stdout(&["token", "hdr"]), "ak1\n");
    assert_eq!(t.stdout(&["header", "hdr"]), "X-API-Key: ak1\n");
    assert_eq!(t.stdout(&["header", "ck"]), "Cookie: session=v1.ak3\n");
    // RFC 7617's example.
    assert_eq!(
        t.stdout(&["header", "b"]),
        "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\n"
    );
    t.cmd()
        .args(["header", "qry"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("query parameter 'api_key'"))
        .stderr(contains("?api_key=$(authcfg token qry)"));
    t.cmd()
        .args(["token", "n"])
        .assert()
        .code(2)
        .stderr(contains("has no token"));
    t.cmd().args(["token", "b"]).assert().code(2);
    // Reads are audited and mark the config used.
    let list: serde_json::Value = serde_json::from_str(&t.stdout(&["list", "--json"])).unwrap();
    let svc = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "svc")
        .unwrap();
    assert!(svc["last_used"].is_string());
    let n = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "n")
        .unwrap();
    assert!(n["last_used"].is_null(), "a failed token read is not a use");
}
