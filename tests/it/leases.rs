//! Database leases (`exec --lease`, `leases`) against the machine's
//! PostgreSQL and MariaDB: the child gets only a temporary user that works
//! while it runs and not after; a lease that ends while the child runs is
//! dropped then; `kill -9` of authcfg leaves a record the next sweep acts
//! on; concurrent leases are distinct users; `leases revoke` drops one now.

use crate::support::services::*;
use crate::support::*;
use predicates::str::contains;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A PostgreSQL admin (LOGIN CREATEROLE, password checked: member of
/// authcfg_pw) and the role its lease users inherit (also a member of
/// authcfg_pw, so a lease user's password is checked too).
struct PgLeaseSetup {
    admin: String,
    role: String,
}

impl PgLeaseSetup {
    fn create(password: &str) -> PgLeaseSetup {
        let admin = unique("authcfg_la");
        let role = unique("authcfg_lr");
        psql(&format!(
            "CREATE ROLE {role} NOLOGIN IN ROLE authcfg_pw; CREATE ROLE {admin} LOGIN CREATEROLE PASSWORD '{password}' IN ROLE authcfg_pw"
        ));
        PgLeaseSetup { admin, role }
    }

    /// Lease users (members of this setup's role) that still exist.
    fn lease_users(&self) -> Vec<String> {
        pg_rows(&format!(
            "SELECT r.rolname FROM pg_roles r JOIN pg_auth_members m ON m.member = r.oid JOIN pg_roles g ON g.oid = m.roleid WHERE g.rolname = '{}' AND r.rolname LIKE 'authcfg_lease_%'",
            self.role
        ))
    }
}

impl Drop for PgLeaseSetup {
    fn drop(&mut self) {
        for u in self.lease_users() {
            let _ = pg_try(&format!("DROP ROLE IF EXISTS {u}"));
        }
        let _ = pg_try(&format!(
            "DROP ROLE IF EXISTS {}; DROP ROLE IF EXISTS {}",
            self.admin, self.role
        ));
    }
}

/// `exec --lease 15m CONFIG -- sleep` in the background, once its child
/// runs: authcfg (the holder) and the child's pid.
fn hold_lease(t: &T, config: &str) -> (std::process::Child, i32) {
    let ready = t.dir.path().join(format!("ready-{config}"));
    let _ = std::fs::remove_file(&ready);
    let script = format!(
        "echo $$ > {}.tmp && mv {0}.tmp {0} && exec sleep 120",
        ready.display()
    );
    let holder = t
        .std_cmd()
        .args(["exec", "--lease", "15m", config, "--", "sh", "-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the child", || ready.exists());
    let child: i32 = std::fs::read_to_string(&ready)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    (holder, child)
}

fn pg_try(sql: &str) -> std::process::Output {
    services::psql_cmd(sql).output().unwrap()
}

fn pg_rows(sql: &str) -> Vec<String> {
    let out = pg_try(sql);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

fn pg_exists(user: &str) -> bool {
    !pg_rows(&format!("SELECT 1 FROM pg_roles WHERE rolname = '{user}'")).is_empty()
}

/// Logs in to PostgreSQL as `user` with `password` (scram: the role is a
/// member of authcfg_pw); whether it worked.
fn pg_login(user: &str, password: &str) -> bool {
    Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            user,
            "-d",
            "postgres",
            "-XAtc",
            "select 1",
        ])
        .env("PGPASSWORD", password)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

fn add_pg(t: &T, name: &str, setup: &PgLeaseSetup, password: &str) {
    t.cmd()
        .args(["add", "connector", "postgres", "--name", name, "--no-test"])
        .args([
            "--set",
            "host=127.0.0.1",
            "--set",
            "port=5432",
            "--set",
            "database=postgres",
        ])
        .args([
            "--set",
            &format!("username={}", setup.admin),
            "--set",
            "sslmode=disable",
        ])
        .args(["--set", &format!("lease_role={}", setup.role)])
        .args(["--secret-stdin", "password"])
        .write_stdin(password.to_string())
        .assert()
        .success();
}

/// The `created in N ms` and `dropped in M ms` of authcfg's stderr.
fn timings(stderr: &str) -> (u64, u64) {
    let num = |after: &str| -> u64 {
        let at = stderr
            .find(after)
            .unwrap_or_else(|| panic!("no '{after}' in {stderr}"));
        stderr[at + after.len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (num("created in "), num("dropped in "))
}

/// Polls `cond` until it holds (bounded: a lease appears in a few
/// hundred ms).
fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let started = Instant::now();
    while !cond() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "waited too long for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn postgres_lease_works_during_and_fails_after() {
    let admin_pw = "lease-Admin-pw-1";
    let setup = PgLeaseSetup::create(admin_pw);
    let t = T::new();
    t.init();
    add_pg(&t, "pg", &setup, admin_pw);
    let seen = t.dir.path().join("seen");
    // The child logs in with what it was handed, and keeps it for later.
    let script = format!(
        "psql -XAtc \"select session_user, current_user, rolvaliduntil is not null from pg_roles where rolname = session_user\" && printf '%s\\n%s\\n' \"$PGUSER\" \"$PGPASSWORD\" > {} && env",
        seen.display()
    );
    let out = t
        .cmd()
        .args(["exec", "--lease", "15m", "pg", "--", "sh", "-c", &script])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let first = stdout.lines().next().unwrap();
    let parts: Vec<&str> = first.split('|').collect();
    assert!(parts[0].starts_with("authcfg_lease_"), "{first}");
    assert_eq!(parts[1], setup.role, "sessions act as the lease role");
    assert_eq!(parts[2], "t", "VALID UNTIL is set");
    let kept = std::fs::read_to_string(&seen).unwrap();
    let mut kept = kept.lines();
    let (user, password) = (
        kept.next().unwrap().to_string(),
        kept.next().unwrap().to_string(),
    );
    assert_eq!(user, parts[0]);
    assert!(password.len() >= 32);
    // The child has only the lease's user: never the admin's password or name.
    assert!(!stdout.contains(admin_pw));
    assert!(!stdout.contains(&format!("PGUSER={}", setup.admin)));
    assert!(stdout.contains(&format!(
        "DATABASE_URL=postgresql://{user}:{password}@127.0.0.1:5432/postgres"
    )));
    // authcfg says nothing secret.
    assert_clean("stderr", stderr.as_bytes(), &[admin_pw, &password]);
    // After: the user is gone, and its password opens nothing.
    assert!(!pg_exists(&user));
    assert!(!pg_login(&user, &password));
    assert!(t.stdout(&["leases"]).contains("no leases"));
    let (create, drop) = timings(&stderr);
    eprintln!("postgres lease: created in {create} ms, dropped in {drop} ms");
    // The admin's config is unchanged and still works.
    assert!(pg_login(&setup.admin, admin_pw));
    // The child's exit code is exec's.
    t.cmd()
        .args(["exec", "--lease", "1m", "pg", "--", "sh", "-c", "exit 7"])
        .assert()
        .code(7);
    t.cmd()
        .args(["exec", "--lease", "1m", "pg", "--", "no-such-command-xyz"])
        .assert()
        .code(127);
    assert!(setup.lease_users().is_empty());
    // The uses are in the audit trail.
    let log = t.stdout(&["log"]);
    assert!(log.contains("lease") && log.contains("lease-end"), "{log}");
}

#[test]
fn a_lease_that_ends_while_the_child_runs_is_dropped_then() {
    let admin_pw = "lease-Admin-pw-2";
    let setup = PgLeaseSetup::create(admin_pw);
    let t = T::new();
    t.init();
    add_pg(&t, "pg", &setup, admin_pw);
    // An admin that may end other roles' sessions (pg_signal_backend):
    // the lease's open session ends with it.
    psql(&format!("GRANT pg_signal_backend TO {}", setup.admin));
    // The child works at first; its long statement is cut when the lease
    // ends; then it waits (bounded) until its user is gone.
    let script = "psql -XAtc 'select 1' >/dev/null || exit 10; \
        psql -XAtc 'select pg_sleep(60)' >/dev/null 2>&1 && exit 13; \
        psql -XAtc 'select 1' >/dev/null 2>&1 && exit 14; i=0; \
        while [ \"$(PGPASSWORD= psql -U postgres -XAtc \"select count(*) from pg_roles where rolname = '$PGUSER'\")\" != 0 ]; do i=$((i+1)); [ $i -gt 300 ] && exit 12; sleep 0.1; done; exit 0";
    let started = Instant::now();
    let out = t
        .cmd()
        .args(["exec", "--lease", "2s", "pg", "--", "sh", "-c", script])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("ended while the command ran"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(setup.lease_users().is_empty());
}

#[test]
fn kill_9_of_authcfg_leaves_nothing_after_the_next_sweep() {
    let admin_pw = "lease-Admin-pw-3";
    let setup = PgLeaseSetup::create(admin_pw);
    let t = T::new();
    t.init();
    add_pg(&t, "pg", &setup, admin_pw);
    let (mut holder, child) = hold_lease(&t, "pg");
    let users = setup.lease_users();
    assert_eq!(users.len(), 1);
    let records: Vec<_> = std::fs::read_dir(t.store.join("leases")).unwrap().collect();
    assert_eq!(records.len(), 1, "one record per lease");
    // kill -9: authcfg cannot drop anything.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(holder.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    holder.wait().unwrap();
    assert!(pg_exists(&users[0]), "the user outlives a killed authcfg");
    t.cmd()
        .args(["leases", "--json"])
        .assert()
        .success()
        .stderr(contains(format!("dropped lease {}", users[0])))
        .stderr(contains("its holder is gone"));
    assert!(!pg_exists(&users[0]));
    assert_eq!(
        std::fs::read_dir(t.store.join("leases")).unwrap().count(),
        0
    );
    // The orphaned child (ours) is ended by its pid.
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child),
        nix::sys::signal::Signal::SIGKILL,
    );

    // The same through `exec --lease`, which sweeps first.
    let (mut holder, child) = hold_lease(&t, "pg");
    let users = setup.lease_users();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(holder.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    holder.wait().unwrap();
    let started = Instant::now();
    t.cmd()
        .args(["exec", "--lease", "1m", "pg", "--", "true"])
        .assert()
        .success()
        .stderr(contains(format!("dropped lease {}", users[0])));
    eprintln!(
        "sweep after kill -9 + a new lease: {} ms",
        started.elapsed().as_millis()
    );
    assert!(setup.lease_users().is_empty());
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child),
        nix::sys::signal::Signal::SIGKILL,
    );
}

#[test]
fn concurrent_leases_are_distinct_users_and_revoke_drops_one() {
    let admin_pw = "lease-Admin-pw-4";
    let setup = PgLeaseSetup::create(admin_pw);
    let t = T::new();
    t.init();
    add_pg(&t, "pg", &setup, admin_pw);
    let n = 20;
    let children: Vec<_> = (0..n)
        .map(|_| {
            t.std_cmd()
                .args([
                    "exec",
                    "--lease",
                    "5m",
                    "pg",
                    "--",
                    "psql",
                    "-XAtc",
                    "select session_user",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut users = std::collections::BTreeSet::new();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let u = String::from_utf8(out.stdout).unwrap().trim().to_string();
        assert!(u.starts_with("authcfg_lease_"), "{u}");
        users.insert(u);
    }
    assert_eq!(users.len(), n, "{users:?}");
    assert!(setup.lease_users().is_empty());

    // `leases revoke ID` drops a held lease now; its holder then says so.
    let ready = t.dir.path().join("ready");
    let gone = t.dir.path().join("gone");
    let script = format!(
        "touch {}; i=0; while psql -XAtc 'select 1' >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 300 ] && exit 11; sleep 0.1; done; touch {}",
        ready.display(),
        gone.display()
    );
    let holder = t
        .std_cmd()
        .args(["exec", "--lease", "15m", "pg", "--", "sh", "-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the child", || ready.exists());
    let listed: serde_json::Value = serde_json::from_str(&t.stdout(&["leases", "--json"])).unwrap();
    let rows = listed.as_array().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["state"], "active");
    let id = rows[0]["id"].as_str().unwrap().to_string();
    t.cmd()
        .args(["leases", "revoke", &id])
        .assert()
        .success()
        .stdout(contains("revoked 1 lease"));
    let out = holder.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(
        gone.exists(),
        "the child's login failed after the revocation"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("already revoked"));
    assert!(setup.lease_users().is_empty());
    t.cmd()
        .args(["leases", "revoke", "nosuchlease1"])
        .assert()
        .code(3);
    t.cmd().args(["leases", "revoke"]).assert().code(2);

    // `leases revoke --all` drops every held lease.
    let marks: Vec<_> = (0..2)
        .map(|i| t.dir.path().join(format!("held-{i}")))
        .collect();
    let holders: Vec<_> = marks
        .iter()
        .map(|m| {
            let script = format!(
                "touch {}; i=0; while psql -XAtc 'select 1' >/dev/null 2>&1; do i=$((i+1)); [ $i -gt 300 ] && exit 11; sleep 0.1; done",
                m.display()
            );
            t.std_cmd()
                .args(["exec", "--lease", "15m", "pg", "--", "sh", "-c", &script])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    wait_for("both children", || marks.iter().all(|m| m.exists()));
    assert_eq!(setup.lease_users().len(), 2);
    t.cmd()
        .args(["leases", "revoke", "--all"])
        .assert()
        .success()
        .stdout(contains("revoked 2 lease(s)"));
    for h in holders {
        assert!(h.wait_with_output().unwrap().status.success());
    }
    assert!(setup.lease_users().is_empty());
}

#[test]
fn mariadb_lease_works_during_and_fails_after() {
    let admin = unique("acla");
    let admin_pw = "maria-Lease-admin-1";
    mariadb(&format!(
        "CREATE USER '{admin}'@'%' IDENTIFIED BY '{admin_pw}'; GRANT CREATE USER ON *.* TO '{admin}'@'%'; GRANT SELECT ON test.* TO '{admin}'@'%' WITH GRANT OPTION;"
    ));
    struct Cleanup(String);
    impl Drop for Cleanup {
        fn drop(&mut self) {
            let _ = Command::new("mariadb")
                .args([
                    "-uroot",
                    "-e",
                    &format!("DROP USER IF EXISTS '{}'@'%'", self.0),
                ])
                .output();
        }
    }
    let _cleanup = Cleanup(admin.clone());
    let t = T::new();
    t.init();
    t.cmd()
        .args(["add", "connector", "mariadb", "--name", "my", "--no-test"])
        .args([
            "--set",
            "host=127.0.0.1",
            "--set",
            "port=3306",
            "--set",
            "database=test",
        ])
        .args([
            "--set",
            &format!("username={admin}"),
            "--set",
            "sslmode=disable",
        ])
        .args(["--set", "lease_grants=SELECT ON test.*"])
        .args(["--secret-stdin", "password"])
        .write_stdin(admin_pw.to_string())
        .assert()
        .success();
    let n = 5;
    let children: Vec<_> = (0..n)
        .map(|_| {
            t.std_cmd()
                .args(["exec", "--lease", "15m", "my", "--", "sh", "-c"])
                .arg("mariadb -h \"$MYSQL_HOST\" -P \"$MYSQL_TCP_PORT\" -u \"$MYSQL_USER\" -N -e 'select current_user(); show grants' && echo \"pw=$MYSQL_PWD\"")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut users = std::collections::BTreeMap::new();
    let mut times = vec![];
    for c in children {
        let out = c.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "{stderr}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        let user = stdout
            .lines()
            .next()
            .unwrap()
            .trim_end_matches("@%")
            .to_string();
        assert!(user.starts_with("authcfg_lease_"), "{stdout}");
        assert!(stdout.contains("GRANT SELECT ON `test`.*"), "{stdout}");
        assert!(!stdout.contains(admin_pw));
        let pw = stdout
            .lines()
            .find_map(|l| l.strip_prefix("pw="))
            .unwrap()
            .to_string();
        assert_clean("stderr", stderr.as_bytes(), &[admin_pw, &pw]);
        times.push(timings(&stderr));
        users.insert(user, pw);
    }
    assert_eq!(users.len(), n, "distinct users");
    eprintln!("mariadb leases (created ms, dropped ms): {times:?}");
    // After: none exists, and their passwords open nothing.
    for (user, pw) in &users {
        let ok = Command::new("mariadb")
            .args(["-h", "127.0.0.1", "-u", user, "-e", "select 1"])
            .env("MYSQL_PWD", pw)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success();
        assert!(!ok, "{user} still logs in");
    }
    let out = Command::new("mariadb")
        .args([
            "-uroot",
            "-N",
            "-e",
            "select count(*) from mysql.user where user like 'authcfg_lease_%'",
        ])
        .output()
        .unwrap();
    let left: Vec<String> = users.keys().cloned().collect();
    let still = Command::new("mariadb")
        .args([
            "-uroot",
            "-N",
            "-e",
            &format!(
                "select count(*) from mysql.user where user in ({})",
                left.iter()
                    .map(|u| format!("'{u}'"))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&still.stdout).trim(), "0");

    // kill -9 of the holder: the next sweep drops the MariaDB user (no
    // VALID UNTIL there: the sweep is what ends it).
    let (mut holder, child) = hold_lease(&t, "my");
    let listed: serde_json::Value = serde_json::from_str(&t.stdout(&["leases", "--json"])).unwrap();
    let user = listed[0]["user"].as_str().unwrap().to_string();
    let count = |user: &str| {
        let out = Command::new("mariadb")
            .args([
                "-uroot",
                "-N",
                "-e",
                &format!("select count(*) from mysql.user where user = '{user}'"),
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(count(&user), "1");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(holder.id() as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    holder.wait().unwrap();
    t.cmd()
        .args(["leases"])
        .assert()
        .success()
        .stderr(contains(format!("dropped lease {user}")))
        .stdout(contains("no leases"));
    assert_eq!(count(&user), "0");
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child),
        nix::sys::signal::Signal::SIGKILL,
    );
}

#[test]
fn bad_lease_requests_exit_2() {
    let t = T::new();
    t.init();
    t.add("bearer_token", "api", &[], Some(("token", "tok-1")))
        .success();
    t.cmd()
        .args(["exec", "--lease", "15m", "api", "--", "true"])
        .assert()
        .code(2)
        .stderr(contains("is not a PostgreSQL or MySQL/MariaDB connector"));
    t.cmd()
        .args(["add", "connector", "postgres", "--name", "pg", "--no-test"])
        .args([
            "--set",
            "host=127.0.0.1",
            "--set",
            "database=postgres",
            "--set",
            "username=nobody",
            "--set",
            "sslmode=disable",
        ])
        .assert()
        .success();
    t.cmd()
        .args(["exec", "--lease", "15m", "pg", "--", "true"])
        .assert()
        .code(2)
        .stderr(contains("'pg' has no lease_role"));
    for bad in ["0", "15x", "8d", ""] {
        t.cmd()
            .args(["exec", "--lease", bad, "pg", "--", "true"])
            .assert()
            .code(2)
            .stderr(contains("is not a lease duration"));
    }
    t.cmd()
        .args(["exec", "--lease", "1m", "pg", "api", "--", "true"])
        .assert()
        .code(2)
        .stderr(contains("exactly one config"));
    // Nothing was recorded as a lease.
    assert!(t.stdout(&["leases"]).contains("no leases"));
}

/// A child that undoes its `SET role`, sets its own password and leaves
/// default privileges behind (so that a plain DROP ROLE fails) is still
/// locked out and dropped at the end (red team 3, L1: it kept logging in
/// with its own password after the lease).
#[test]
fn a_lease_user_that_digs_in_is_locked_out_and_dropped() {
    let admin_pw = "lease-Admin-pw-3";
    let setup = PgLeaseSetup::create(admin_pw);
    let t = T::new();
    t.init();
    add_pg(&t, "pg", &setup, admin_pw);
    let seen = t.dir.path().join("user");
    let script = format!(
        "printf '%s' \"$PGUSER\" > {} && psql -XAt -v ON_ERROR_STOP=1 <<'SQL'
SET ROLE NONE;
ALTER ROLE CURRENT_USER PASSWORD 'attacker-Known-pw-9';
ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC;
ALTER ROLE CURRENT_USER SET role TO DEFAULT;
SQL",
        seen.display()
    );
    let out = t
        .cmd()
        .args(["exec", "--lease", "15m", "pg", "--", "sh", "-c", &script])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let user = std::fs::read_to_string(&seen).unwrap();
    assert!(user.starts_with("authcfg_lease_"), "{user}");
    assert!(
        !pg_login(&user, "attacker-Known-pw-9"),
        "the lease user still logs in with the password it set"
    );
    assert!(
        !pg_exists(&user),
        "the lease user was not dropped: {stderr}"
    );
    assert!(t.stdout(&["leases"]).contains("no leases"));
}
