//! Team stores on git: a bare repository and clones with their own homes
//! and keys, real `git` and Debian's `age`. Merges of different configs and
//! fields, conflicts and `resolve`, refused forged membership, removal,
//! Viewers, kills during `sync`, and convergence after random operations.

use crate::recipients::admin_fingerprint;
use crate::support::*;
use predicates::str::contains;
use std::path::{Path, PathBuf};
use std::process::Command as Std;

struct Team {
    _dir: tempfile::TempDir,
    bare: PathBuf,
    admin: T,
}

fn git(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = Std::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn team() -> Team {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("team.git");
    let st = Std::new("git")
        .args(["init", "-q", "--bare", "-b", "main"])
        .arg(&bare)
        .status()
        .unwrap();
    assert!(st.success());
    let admin = T::new();
    admin.init();
    admin
        .add(
            "basic",
            "db",
            &["username=app"],
            Some(("password", "Db-Pass-0riginal")),
        )
        .success();
    admin
        .add("bearer", "api", &[], Some(("token", "Api-Tok-0riginal")))
        .success();
    Team {
        _dir: dir,
        bare,
        admin,
    }
}

impl Team {
    fn url(&self) -> String {
        self.bare.to_string_lossy().to_string()
    }

    /// A member with its own key and home, added by the admin, joined by
    /// `git clone` (the admin shares after adding).
    fn member(&self, label: &str, role: &str) -> T {
        self.member_in(label, role, &[])
    }

    fn member_in(&self, label: &str, role: &str, groups: &[&str]) -> T {
        let (secret, public) = new_identity();
        let mut c = self.admin.cmd();
        c.args([
            "recipients",
            "add",
            &public,
            "--label",
            label,
            "--role",
            role,
        ]);
        for g in groups {
            c.args(["--group", g]);
        }
        c.assert().success();
        self.admin.cmd().arg("sync").assert().success();
        let mut m = T::bare();
        m.env("AUTHCFG_IDENTITY", &secret);
        m.cmd()
            .args(["git", "clone", &self.url()])
            .args(["--trust-admin", &admin_fingerprint(&self.admin)])
            .assert()
            .success()
            .stderr(contains(format!("your role: {role}")));
        m
    }
}

fn reveal(t: &T, name: &str, field: &str) -> String {
    let v = t.export_json(&[name.to_string()]);
    let obj = v.as_object().unwrap();
    // export json: {NAME_FIELD: value} or nested; find the field's value.
    for (k, val) in obj {
        if k.to_lowercase().ends_with(&field.to_lowercase()) {
            return val.as_str().unwrap_or_default().to_string();
        }
    }
    panic!("no {field} in {v}");
}

fn set_secret(t: &T, name: &str, field: &str, value: &str) {
    t.cmd()
        .args(["edit", name, "--secret-stdin", field])
        .write_stdin(value.to_string())
        .assert()
        .success();
}

fn init_shared(team: &Team) {
    team.admin
        .cmd()
        .args(["git", "init", "--remote", &team.url()])
        .assert()
        .success();
}

#[test]
fn different_configs_and_fields_merge_cleanly() {
    let team = team();
    init_shared(&team);
    let bob = team.member("bob", "developer");
    assert_eq!(reveal(&bob, "db", "password"), "Db-Pass-0riginal");
    // The admin changes db's password; bob changes db's user and api.
    set_secret(&team.admin, "db", "password", "Db-Pass-Admin");
    team.admin.cmd().arg("sync").assert().success();
    bob.cmd()
        .args(["edit", "db", "--set", "username=bob-app"])
        .assert()
        .success();
    set_secret(&bob, "api", "token", "Api-Tok-Bob");
    bob.cmd()
        .arg("sync")
        .assert()
        .success()
        .stderr(contains("merged field by field: db"))
        .stderr(contains("pushed"));
    team.admin.cmd().arg("sync").assert().success();
    for t in [&team.admin, &bob] {
        assert_eq!(reveal(t, "db", "password"), "Db-Pass-Admin");
        assert_eq!(reveal(t, "db", "username"), "bob-app");
        assert_eq!(reveal(t, "api", "token"), "Api-Tok-Bob");
    }
    // Both clones at the same commit; the repository is sound.
    let head = |d: &Path| String::from_utf8(git(d, &["rev-parse", "HEAD"]).stdout).unwrap();
    assert_eq!(head(&team.admin.store), head(&bob.store));
    git(&team.bare, &["fsck", "--strict"]);
    // Only the header and configs are tracked.
    let files = String::from_utf8(git(&bob.store, &["ls-files"]).stdout).unwrap();
    for f in files.lines() {
        assert!(
            [".gitignore", ".gitattributes", "authcfg.toml"].contains(&f)
                || (f.starts_with("configs/") && f.ends_with(".age")),
            "tracked: {f}"
        );
    }
    // `git log -p` through the textconv names the changed fields, masked.
    let mut c = Std::new("git");
    bob.apply(&mut c);
    let log = c
        .arg("-C")
        .arg(&bob.store)
        .args(["log", "-p", "--textconv", "-n", "6"])
        .output()
        .unwrap();
    assert!(
        log.status.success(),
        "{}",
        String::from_utf8_lossy(&log.stderr)
    );
    let text = String::from_utf8_lossy(&log.stdout);
    assert!(text.contains("fields.password = ••••"), "{text}");
    assert_clean(
        "git log -p",
        &log.stdout,
        &[
            "Db-Pass-Admin",
            "Db-Pass-0riginal",
            "Api-Tok-Bob",
            "bob-app",
        ],
    );
    // What the git host stores: no value, in any object.
    let objects = git(&team.bare, &["cat-file", "--batch-all-objects", "--batch"]);
    assert_clean(
        "the bare repository",
        &objects.stdout,
        &[
            "Db-Pass-Admin",
            "Db-Pass-0riginal",
            "Api-Tok-Bob",
            "Api-Tok-0riginal",
        ],
    );
}

#[test]
fn the_same_field_changed_twice_is_a_conflict_until_resolved() {
    let team = team();
    init_shared(&team);
    let bob = team.member("bob", "developer");
    set_secret(&team.admin, "db", "password", "Pw-From-Admin");
    team.admin.cmd().arg("sync").assert().success();
    set_secret(&bob, "db", "password", "Pw-From-Bob");
    let remote_before = git(&team.bare, &["rev-parse", "main"]).stdout;
    bob.cmd()
        .arg("sync")
        .assert()
        .code(1)
        .stderr(contains("db"))
        .stderr(contains("authcfg resolve"));
    // Nothing pushed, ours kept (valid), the other side encrypted locally.
    assert_eq!(
        git(&team.bare, &["rev-parse", "main"]).stdout,
        remote_before
    );
    assert_eq!(reveal(&bob, "db", "password"), "Pw-From-Bob");
    for (p, bytes) in bob.store_files() {
        if !p.to_string_lossy().contains("/.git/") {
            assert_clean(
                &p.to_string_lossy(),
                &bytes,
                &["Pw-From-Admin", "Pw-From-Bob", "<<<<<<<"],
            );
        }
    }
    assert!(bob.store.join("conflicts/db.age").exists());
    // Still refused until resolved.
    bob.cmd().arg("sync").assert().code(1);
    bob.cmd()
        .args(["resolve", "db", "--field", "nosuch=theirs"])
        .assert()
        .code(2);
    bob.cmd()
        .args(["resolve", "db", "--field", "password=theirs"])
        .assert()
        .success();
    assert_eq!(reveal(&bob, "db", "password"), "Pw-From-Admin");
    assert!(!bob.store.join("conflicts/db.age").exists());
    bob.cmd().arg("sync").assert().success();
    team.admin.cmd().arg("sync").assert().success();
    assert_eq!(reveal(&team.admin, "db", "password"), "Pw-From-Admin");
}

#[test]
fn a_recipient_change_pushed_by_a_non_admin_is_refused() {
    let team = team();
    init_shared(&team);
    let bob = team.member("bob", "developer");
    let carol = team.member("carol", "developer");
    bob.cmd().arg("sync").assert().success();
    // bob adds his own second key to the header by hand and pushes with git.
    let (_, mallory) = new_identity();
    let header = bob.store.join("authcfg.toml");
    let mut text = std::fs::read_to_string(&header).unwrap();
    text = text.replacen(
        "[[recipients]]",
        &format!(
            "[[recipients]]\nlabel = \"mallory\"\npublic_key = \"{mallory}\"\n\n[[recipients]]"
        ),
        1,
    );
    std::fs::write(&header, text).unwrap();
    git(&bob.store, &["commit", "-qam", "add a key"]);
    git(&bob.store, &["push", "-q", "origin", "main"]);
    for other in [&team.admin, &carol] {
        let before = std::fs::read(other.store.join("authcfg.toml")).unwrap();
        other
            .cmd()
            .arg("sync")
            .assert()
            .failure()
            .stderr(contains("was not accepted"))
            .stderr(contains("+ recipient mallory"));
        assert_eq!(
            std::fs::read(other.store.join("authcfg.toml")).unwrap(),
            before
        );
    }
    // Later writes are encrypted to the real recipients only.
    team.admin
        .add("bearer", "later", &[], Some(("token", "Later-Tok")))
        .success();
    let file = std::fs::read(team.admin.store.join("configs/later.age")).unwrap();
    assert!(!String::from_utf8_lossy(&file).contains(&mallory));
}

/// Outside text (docs/ARCHITECTURE.md, "Outside text"): the refused
/// header's diff names the remote's recipient labels escaped and cut (ESC
/// sequences, OSC 52, a bidirectional override, a forged line, 100 KB).
#[test]
fn a_refused_header_diff_shows_its_labels_escaped() {
    let team = team();
    init_shared(&team);
    let bob = team.member("bob", "developer");
    bob.cmd().arg("sync").assert().success();
    let (_, mallory) = new_identity();
    let label = format!(
        "m\u{1b}[2K\r\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}\u{202e}gpj.exe\nforged: ok{}",
        "y".repeat(100_000)
    );
    let header = bob.store.join("authcfg.toml");
    let mut text = std::fs::read_to_string(&header).unwrap();
    text = text.replacen(
        "[[recipients]]",
        &format!(
            "[[recipients]]\nlabel = {}\npublic_key = \"{mallory}\"\n\n[[recipients]]",
            serde_json::to_string(&label).unwrap()
        ),
        1,
    );
    std::fs::write(&header, text).unwrap();
    git(&bob.store, &["commit", "-qam", "add a key"]);
    git(&bob.store, &["push", "-q", "origin", "main"]);
    let out = team.admin.cmd().arg("sync").output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("+ recipient m\\u{1b}[2K"), "{err:.2000}");
    for c in err.chars() {
        assert!(
            !((c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c)),
            "U+{:04X} in {err:.2000}",
            c as u32
        );
    }
    assert!(!err.lines().any(|l| l.starts_with("forged")), "{err:.2000}");
    assert!(err.len() < 20_000, "{} bytes", err.len());
}

#[test]
fn a_removed_member_opens_nothing_written_after_and_learns_what_to_rotate() {
    let team = team();
    init_shared(&team);
    let bob = team.member("bob", "developer");
    let bob_key = bob
        .extra_env
        .iter()
        .find(|(k, _)| k == "AUTHCFG_IDENTITY")
        .unwrap()
        .1
        .clone();
    let out = team
        .admin
        .cmd()
        .args(["recipients", "remove", "bob"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains("db") && listed.contains("api"), "{listed}");
    team.admin
        .add("bearer", "new-one", &[], Some(("token", "New-Tok")))
        .success();
    team.admin.cmd().arg("sync").assert().success();
    // bob's clone: the new header does not open for him.
    bob.cmd()
        .arg("sync")
        .assert()
        .failure()
        .stderr(contains("not a recipient").or(contains("no longer")));
    // With Debian's age and bob's key, nothing in the pushed commit opens.
    let keyfile = bob.home.join("bob.key");
    std::fs::write(&keyfile, format!("{bob_key}\n")).unwrap();
    for f in ["configs/new-one.age", "configs/db.age", "configs/api.age"] {
        let blob = git(&team.bare, &["show", &format!("main:{f}")]).stdout;
        let p = bob.home.join("blob.age");
        std::fs::write(&p, &blob).unwrap();
        let st = Std::new("age")
            .args(["-d", "-i"])
            .arg(&keyfile)
            .arg(&p)
            .output()
            .unwrap();
        assert!(!st.status.success(), "{f} still opens with bob's key");
    }
}

use predicates::prelude::PredicateBooleanExt;

#[test]
fn a_viewer_reads_but_its_writes_are_refused() {
    let team = team();
    init_shared(&team);
    let vic = team.member("vic", "viewer");
    assert_eq!(reveal(&vic, "api", "token"), "Api-Tok-0riginal");
    vic.cmd()
        .args(["edit", "db", "--set", "username=vic"])
        .assert()
        .code(5)
        .stderr(contains("Viewer"));
    vic.add("bearer", "mine", &[], Some(("token", "x-Vic-Tok")))
        .code(5);
    // A change made around authcfg is not committed by sync.
    std::fs::copy(
        vic.store.join("configs/api.age"),
        vic.store.join("configs/db.age"),
    )
    .unwrap();
    let remote_before = git(&team.bare, &["rev-parse", "main"]).stdout;
    vic.cmd()
        .arg("sync")
        .assert()
        .failure()
        .stderr(contains("Viewer"));
    assert_eq!(
        git(&team.bare, &["rev-parse", "main"]).stdout,
        remote_before
    );
}

#[test]
fn a_forged_tree_is_refused_before_checkout() {
    let team = team();
    init_shared(&team);
    let bob = team.member("bob", "developer");
    // Someone with push access adds a pins file and a symlink.
    let work = team._dir.path().join("evil");
    git(team._dir.path(), &["clone", "-q", &team.url(), "evil"]);
    std::fs::write(work.join("pins.json"), "{}").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", work.join("configs/link.age")).unwrap();
    git(&work, &["add", "-f", "pins.json", "configs/link.age"]);
    git(&work, &["commit", "-qm", "evil"]);
    git(&work, &["push", "-q", "origin", "main"]);
    bob.cmd()
        .arg("sync")
        .assert()
        .failure()
        .stderr(contains("which a store never tracks"));
    assert!(
        !bob.store.join("pins.json").exists()
            || std::fs::read(bob.store.join("pins.json")).unwrap() != b"{}"
    );
    assert!(!bob.store.join("configs/link.age").exists());
    // A new member cannot clone it either; the directory is not left behind.
    let mut m = T::bare();
    m.env("AUTHCFG_IDENTITY", &new_identity().0);
    m.cmd()
        .args(["git", "clone", &team.url()])
        .assert()
        .failure()
        .stderr(contains("which a store never tracks"));
    assert!(!m.store.exists());
}

#[cfg(feature = "fault-injection")]
#[test]
fn sync_killed_at_every_step_is_completed_by_the_next() {
    let team = team();
    init_shared(&team);
    let bob = team.member("bob", "developer");
    let mut k = 1;
    let mut killed = 0;
    loop {
        set_secret(&team.admin, "db", "password", &format!("Pw-Admin-{k}"));
        team.admin.cmd().arg("sync").assert().success();
        set_secret(&bob, "api", "token", &format!("Tok-Bob-{k}"));
        let mut c = bob.cmd();
        c.env("AUTHCFG_FAULT_AFTER", k.to_string()).arg("sync");
        let out = c.output().unwrap();
        let was_killed = out.status.code().is_none();
        if was_killed {
            killed += 1;
        }
        // The next command completes it.
        bob.cmd().arg("sync").assert().success();
        git(&bob.store, &["fsck", "--strict"]);
        assert_eq!(reveal(&bob, "db", "password"), format!("Pw-Admin-{k}"));
        assert_eq!(reveal(&bob, "api", "token"), format!("Tok-Bob-{k}"));
        let st = String::from_utf8(git(&bob.store, &["status", "--porcelain"]).stdout).unwrap();
        assert!(st.is_empty(), "after kill {k}: {st}");
        bob.cmd().args(["log", "--verify"]).assert().success();
        team.admin.cmd().arg("sync").assert().success();
        assert_eq!(reveal(&team.admin, "api", "token"), format!("Tok-Bob-{k}"));
        if !was_killed || k > 12 {
            break;
        }
        k += 1;
    }
    assert!(killed >= 4, "only {killed} kill points in a merging sync");
    eprintln!("sync killed at {killed} points, each completed by the next sync");
}

/// `sync`; at a conflict, keep ours and sync again. Returns the conflicts.
fn sync_resolving(t: &T, names: &[&str]) -> usize {
    let out = t.cmd().arg("sync").output().unwrap();
    if out.status.success() {
        return 0;
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("authcfg resolve"), "sync: {err}");
    let mut n = 0;
    for c in names {
        if t.store.join(format!("conflicts/{c}.age")).exists() {
            n += 1;
            t.cmd().args(["resolve", c, "--ours"]).assert().success();
        }
    }
    assert!(n > 0, "sync failed without a conflict: {err}");
    t.cmd().arg("sync").assert().success();
    n
}

#[test]
fn two_clones_converge_after_random_operations() {
    let team = team();
    init_shared(&team);
    let bob = team.member("bob", "developer");
    let clones = [&team.admin, &bob];
    // A small deterministic generator (no dependency on a seed crate).
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let names = ["n0", "n1", "n2", "n3", "n4", "n5"];
    let mut conflicts = 0;
    let start = std::time::Instant::now();
    for i in 0..100 {
        let t = clones[(i % 2) as usize];
        let name = names[next(names.len() as u64) as usize];
        let exists = t.store.join(format!("configs/{name}.age")).exists();
        match (exists, next(4)) {
            (false, _) => {
                t.add(
                    "basic",
                    name,
                    &["username=u"],
                    Some(("password", &format!("p{i}"))),
                )
                .success();
            }
            (true, 0) => {
                t.cmd()
                    .args(["remove", name, "--yes", "--force"])
                    .assert()
                    .success();
            }
            (true, 1) => {
                t.cmd()
                    .args(["edit", name, "--set", &format!("username=u{i}")])
                    .assert()
                    .success();
            }
            (true, _) => set_secret(t, name, "password", &format!("p{i}")),
        }
        if next(3) == 0 {
            continue;
        }
        conflicts += sync_resolving(t, &names);
    }
    for t in [&team.admin, &bob, &team.admin] {
        conflicts += sync_resolving(t, &names);
    }
    let all = |t: &T| {
        let mut n: Vec<String> =
            serde_json::from_str::<serde_json::Value>(&t.stdout(&["list", "--json"]))
                .unwrap()
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap().to_string())
                .collect();
        n.sort();
        (
            n.clone(),
            if n.is_empty() {
                serde_json::Value::Null
            } else {
                t.export_json(&n)
            },
        )
    };
    assert_eq!(all(&team.admin), all(&bob));
    eprintln!(
        "converged: 100 operations on 2 clones, {conflicts} conflicts resolved, {} configs, {:.1} s",
        all(&bob).0.len(),
        start.elapsed().as_secs_f64()
    );
}

#[test]
fn token_refreshes_on_two_clones_merge_without_a_conflict() {
    let peer = Peer::start();
    let team = team();
    peer.add_robot(&team.admin, "robot").success();
    init_shared(&team);
    let bob = team.member("bob", "developer");
    let token = |t: &T| t.stdout(&["token", "robot"]).trim().to_string();
    assert_eq!(token(&team.admin), token(&bob));
    let before = peer.grants("client_credentials");
    // Both clones get a new token before either syncs; bob's is obtained
    // in a later second (tokens record whole seconds).
    team.admin
        .cmd()
        .args(["refresh", "robot", "--force"])
        .assert()
        .success();
    let admin_at = std::time::SystemTime::now();
    while std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        <= admin_at
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    bob.cmd()
        .args(["refresh", "robot", "--force"])
        .assert()
        .success();
    assert_eq!(peer.grants("client_credentials"), before + 2);
    let newest = token(&bob);
    assert_ne!(newest, token(&team.admin));
    team.admin.cmd().arg("sync").assert().success();
    bob.cmd()
        .arg("sync")
        .assert()
        .success()
        .stderr(contains("merged field by field: robot"));
    team.admin.cmd().arg("sync").assert().success();
    assert!(!bob.store.join("conflicts").join("robot.age").exists());
    assert_eq!(token(&team.admin), newest);
    assert_eq!(token(&bob), newest);
    assert_eq!(peer.introspect(&newest)["active"], true);
}

#[test]
fn a_git_pull_by_hand_merges_through_the_driver() {
    let team = team();
    init_shared(&team);
    let bob = team.member("bob", "developer");
    set_secret(&team.admin, "db", "password", "Pw-Admin-Hand");
    team.admin.cmd().arg("sync").assert().success();
    team.admin
        .add("bearer", "fresh", &[], Some(("token", "Fresh-Tok")))
        .success();
    team.admin.cmd().arg("sync").assert().success();
    bob.cmd()
        .args(["edit", "db", "--set", "username=bob-by-hand"])
        .assert()
        .success();
    // bob commits and pulls with git itself (his key in his environment,
    // as for any authcfg command).
    let run = |args: &[&str]| {
        let mut c = Std::new("git");
        bob.apply(&mut c);
        let out = c
            .arg("-C")
            .arg(&bob.store)
            .args([
                "-c",
                "user.name=bob",
                "-c",
                "user.email=bob@example.invalid",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    run(&["commit", "-qam", "bob by hand"]);
    run(&["pull", "-q", "--no-rebase", "--no-edit", "origin", "main"]);
    // git wrote with the user's umask: the store refuses loose files until
    // the next sync makes them private again, brings the index up to date
    // and shares the merge.
    bob.cmd()
        .args(["show", "fresh"])
        .assert()
        .failure()
        .stderr(contains("accessible by other users"));
    bob.cmd().arg("sync").assert().success();
    assert_eq!(reveal(&bob, "db", "password"), "Pw-Admin-Hand");
    assert_eq!(reveal(&bob, "db", "username"), "bob-by-hand");
    assert!(bob.stdout(&["list"]).contains("fresh"));
    team.admin.cmd().arg("sync").assert().success();
    assert_eq!(reveal(&team.admin, "db", "username"), "bob-by-hand");
}

/// Commits FILE as PATH in a clone of the bare repository made with plain
/// git and no authcfg key (what a git host or anyone with push access can
/// do), and pushes it.
fn push_by_hand(team: &Team, path: &str, bytes: Option<&[u8]>) {
    let work = team._dir.path().join(format!("hand-{}", rand_suffix()));
    git(
        team._dir.path(),
        &["clone", "-q", &team.url(), work.to_str().unwrap()],
    );
    match bytes {
        Some(b) => std::fs::write(work.join(path), b).unwrap(),
        None => {
            git(&work, &["rm", "-q", path]);
        }
    }
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-qm", "by hand"]);
    git(&work, &["push", "-q", "origin", "main"]);
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::SeqCst).to_string()
}

#[test]
fn an_older_authentic_version_put_back_is_refused_and_the_clone_recovers() {
    let team = team();
    init_shared(&team);
    let bob = team.member("bob", "developer");
    let old = git(&team.bare, &["show", "main:configs/db.age"]).stdout;
    set_secret(&team.admin, "db", "password", "Pw-Newer");
    team.admin.cmd().arg("sync").assert().success();
    let good = git(&team.bare, &["rev-parse", "main"]).stdout;
    // The host (no key) puts the older, authentic file back.
    push_by_hand(&team, "configs/db.age", Some(&old));
    // The admin saw the newer version: the replay is refused. (bob never
    // saw it: to him the commit changes nothing; see SECURITY.md on held
    // back updates.)
    team.admin
        .cmd()
        .arg("sync")
        .assert()
        .failure()
        .stderr(contains("this clone already had and replaced (a replay)"));
    assert_eq!(reveal(&team.admin, "db", "password"), "Pw-Newer");
    // Once the repository is repaired, the clones sync again (nothing of
    // the refused commit is retried).
    let good = String::from_utf8(good).unwrap();
    git(&team.bare, &["update-ref", "refs/heads/main", good.trim()]);
    for t in [&bob, &team.admin] {
        t.cmd().arg("sync").assert().success();
    }
    assert_eq!(reveal(&bob, "db", "password"), "Pw-Newer");
}

#[test]
fn a_file_the_admin_cannot_open_is_refused() {
    let team = team();
    init_shared(&team);
    let (_, mallory) = new_identity();
    let forged = std::process::Command::new("age")
        .args(["-r", &mallory])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(b"name = \"db\"\n")?;
            c.wait_with_output()
        })
        .unwrap()
        .stdout;
    push_by_hand(&team, "configs/db.age", Some(&forged));
    team.admin
        .cmd()
        .arg("sync")
        .assert()
        .failure()
        .stderr(contains("no key of this store opens it"));
    assert_eq!(reveal(&team.admin, "db", "password"), "Db-Pass-0riginal");
}

#[test]
fn stray_files_and_planted_git_settings_are_not_used() {
    let team = team();
    init_shared(&team);
    let bob = team.member("bob", "developer");
    // An editor's backup with a value in it never leaves the machine.
    std::fs::write(bob.store.join("configs/notes.txt"), "Plain-Note-Secret").unwrap();
    std::fs::write(bob.store.join("configs/db.age~"), "Backup-Secret").unwrap();
    set_secret(&bob, "api", "token", "Api-Tok-Bob2");
    bob.cmd().arg("sync").assert().success();
    let tracked =
        String::from_utf8(git(&team.bare, &["ls-tree", "-r", "--name-only", "main"]).stdout)
            .unwrap();
    assert!(
        !tracked.contains("notes.txt") && !tracked.contains("db.age~"),
        "{tracked}"
    );
    team.admin.cmd().arg("sync").assert().success();
    // Someone who can write the store directory plants a hook and a
    // setting that runs a command: authcfg runs neither.
    let proof = bob.home.join("ran");
    let hook = bob.store.join(".git/hooks/pre-push");
    std::fs::write(&hook, format!("#!/bin/sh\ntouch {}\n", proof.display())).unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(&hook).unwrap().permissions(),
        0o755,
    );
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    set_secret(&bob, "api", "token", "Api-Tok-Bob3");
    bob.cmd()
        .arg("sync")
        .assert()
        .success()
        .stderr(contains("pushed"));
    assert!(!proof.exists(), "the planted pre-push hook ran");
    git(
        &bob.store,
        &[
            "config",
            "core.sshCommand",
            &format!("touch {}", proof.display()),
        ],
    );
    bob.cmd()
        .arg("sync")
        .assert()
        .failure()
        .stderr(contains("settings authcfg did not write"))
        .stderr(contains("core.sshcommand"));
    assert!(!proof.exists());
}

fn head_of(bare: &Path) -> String {
    String::from_utf8(git(bare, &["rev-parse", "main"]).stdout)
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn group_moves_sync_everywhere_and_an_old_move_cannot_be_replayed() {
    let team = team();
    init_shared(&team);
    let bob = team.member_in("bob", "developer", &["ops"]);
    let erin = team.member_in("erin", "developer", &["ops"]);
    let dave = team.member("dave", "developer");
    for t in [&bob, &erin, &dave] {
        t.cmd().arg("sync").assert().success();
    }
    // Into the group: dave (outside) keeps syncing, and can no longer read it.
    bob.cmd()
        .args(["edit", "db", "--group", "ops"])
        .assert()
        .success();
    bob.cmd().arg("sync").assert().success();
    let c2 = head_of(&team.bare);
    dave.cmd()
        .arg("sync")
        .assert()
        .success()
        .stderr(contains("readable only by a group"));
    dave.cmd()
        .args(["show", "db", "--reveal"])
        .assert()
        .failure();
    // Out of the group and edited again while erin and the admin were behind:
    // the proof of the move travels with the config.
    bob.cmd()
        .args(["edit", "db", "--no-group"])
        .assert()
        .success();
    bob.cmd().arg("sync").assert().success();
    let c3 = head_of(&team.bare);
    set_secret(&bob, "db", "password", "Pw-Out-Of-Ops");
    bob.cmd().arg("sync").assert().success();
    for t in [&erin, &team.admin, &dave] {
        t.cmd().arg("sync").assert().success();
        assert_eq!(reveal(t, "db", "password"), "Pw-Out-Of-Ops");
    }
    // Back into the group; then the host grafts the old "out of ops" file
    // onto an old base (C2) to take it out of the group again.
    bob.cmd()
        .args(["edit", "db", "--group", "ops"])
        .assert()
        .success();
    bob.cmd().arg("sync").assert().success();
    let idx = team._dir.path().join("graft-index");
    let run = |args: &[&str]| {
        let out = Std::new("git")
            .arg("-C")
            .arg(&team.bare)
            .args(args)
            .env("GIT_INDEX_FILE", &idx)
            .env("GIT_AUTHOR_NAME", "host")
            .env("GIT_AUTHOR_EMAIL", "host@example.invalid")
            .env("GIT_COMMITTER_NAME", "host")
            .env("GIT_COMMITTER_EMAIL", "host@example.invalid")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let old_blob = run(&["rev-parse", &format!("{c3}:configs/db.age")]);
    run(&["read-tree", &c2]);
    run(&[
        "update-index",
        "--cacheinfo",
        &format!("100644,{old_blob},configs/db.age"),
    ]);
    let tree = run(&["write-tree"]);
    let graft = run(&["commit-tree", &tree, "-p", &c2, "-m", "graft"]);
    run(&["update-ref", "refs/heads/main", &graft]);
    for t in [&bob, &erin, &team.admin] {
        t.cmd()
            .arg("sync")
            .assert()
            .failure()
            .stderr(contains("replay").or(contains("older file put back")));
    }
    assert!(bob.stdout(&["show", "db", "--json"]).contains("\"ops\""));
}

#[test]
fn a_planted_file_this_clone_cannot_open_is_not_committed() {
    let team = team();
    init_shared(&team);
    let bob = team.member("bob", "developer");
    let (_, other) = new_identity();
    let junk = Std::new("age")
        .args(["-r", &other, "-o"])
        .arg(bob.store.join("configs/evil.age"))
        .arg("/etc/hostname")
        .status()
        .unwrap();
    assert!(junk.success());
    std::fs::set_permissions(
        bob.store.join("configs/evil.age"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let before = head_of(&team.bare);
    bob.cmd()
        .arg("sync")
        .assert()
        .failure()
        .stderr(contains("this key cannot open it"));
    assert_eq!(head_of(&team.bare), before);
}

#[test]
fn autosync_shares_each_write() {
    let team = team();
    init_shared(&team);
    let bob = team.member("bob", "developer");
    team.admin
        .cmd()
        .args(["git", "autosync", "push"])
        .assert()
        .success();
    bob.cmd()
        .args(["git", "autosync", "pull-push"])
        .assert()
        .success();
    let before = head_of(&team.bare);
    team.admin
        .add("bearer", "auto", &[], Some(("token", "Auto-Tok")))
        .success();
    assert_ne!(head_of(&team.bare), before, "the admin's add was pushed");
    // bob's write pulls the admin's first, then pushes both.
    set_secret(&bob, "db", "password", "Pw-Auto-Bob");
    assert_eq!(reveal(&bob, "auto", "token"), "Auto-Tok");
    team.admin.cmd().arg("sync").assert().success();
    assert_eq!(reveal(&team.admin, "db", "password"), "Pw-Auto-Bob");
    // A sync that fails does not undo the write: a warning, exit 0.
    git(
        &team.admin.store,
        &["remote", "set-url", "origin", "/nonexistent/repo.git"],
    );
    team.admin
        .add("bearer", "offline", &[], Some(("token", "Off-Tok")))
        .success()
        .stderr(contains("saved, but not synced"));
    assert_eq!(reveal(&team.admin, "offline", "token"), "Off-Tok");
}

#[test]
fn a_planted_conflict_record_is_not_taken() {
    let team = team();
    init_shared(&team);
    let bob = team.member("bob", "developer");
    // Someone who can write bob's store plants a "conflict" whose other
    // side is a value of their choosing, encrypted to bob's public key.
    let v: serde_json::Value =
        serde_json::from_str(&team.admin.stdout(&["recipients", "list", "--json"])).unwrap();
    let bob_pub = v["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"] == "bob")
        .unwrap()["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    let record = "fields = [\"fields.password\"]\n[theirs]\nformat = 1\nname = \"db\"\nkind = \"custom\"\ntype = \"basic\"\ncreated = \"2026-01-01T00:00:00Z\"\nupdated = \"2026-01-01T00:00:00Z\"\nrotated = \"2026-01-01T00:00:00Z\"\n[theirs.fields]\npassword = \"Planted-By-Attacker\"\n";
    std::fs::create_dir_all(bob.store.join("conflicts")).unwrap();
    let out = Std::new("age")
        .args(["-r", &bob_pub, "-o"])
        .arg(bob.store.join("conflicts/db.age"))
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(record.as_bytes())?;
            c.wait()
        })
        .unwrap();
    assert!(out.success());
    for p in [
        bob.store.join("conflicts"),
        bob.store.join("conflicts/db.age"),
    ] {
        let mode = if p.is_dir() { 0o700 } else { 0o600 };
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
    }
    bob.cmd()
        .args(["resolve", "db", "--theirs"])
        .assert()
        .failure()
        .stderr(contains("failed authentication"));
    assert_eq!(reveal(&bob, "db", "password"), "Db-Pass-0riginal");
}

#[test]
fn a_master_key_rotation_reaches_members_with_their_edits_merged() {
    let mut team = team();
    init_shared(&team);
    let bob = team.member("bob", "developer");
    let new_key = team.admin.home.join("new.key");
    team.admin
        .cmd()
        .args(["rotate", "--master-key", "--identity-out"])
        .arg(&new_key)
        .assert()
        .success();
    let key = std::fs::read_to_string(&new_key).unwrap();
    let key = key
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap()
        .to_string();
    team.admin.identity = Some(key);
    set_secret(&team.admin, "db", "password", "Pw-After-Rotation");
    team.admin.cmd().arg("sync").assert().success();
    // bob edited meanwhile under the old store keys; he follows the admin's
    // endorsed new key and his edit is merged under the new keys.
    bob.cmd()
        .args(["edit", "db", "--set", "username=bob-rot"])
        .assert()
        .success();
    bob.cmd()
        .arg("sync")
        .assert()
        .success()
        .stderr(contains("the store header changed"));
    team.admin.cmd().arg("sync").assert().success();
    for t in [&team.admin, &bob] {
        assert_eq!(reveal(t, "db", "password"), "Pw-After-Rotation");
        assert_eq!(reveal(t, "db", "username"), "bob-rot");
    }
}
