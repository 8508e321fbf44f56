//! Joining a team store and living with it, as a newcomer does it: a
//! repository made by a plain `git init --bare` (HEAD → master), a member
//! with no key yet, every hint of the join path run as printed, a clone
//! killed at each step, conflicts shown with both sides and resolved with
//! the derived columns following, and a store restored on a fresh HOME
//! from only what the README's "Recovery" section says to keep. Real git,
//! real gnome-keyring, a real terminal for the passphrase prompts.

use crate::recipients::admin_fingerprint;
use crate::support::*;
use predicates::str::contains;
use rexpect::session::spawn_command;
use std::path::{Path, PathBuf};
use std::process::Command as Std;

const TIMEOUT: Option<u64> = Some(30_000);

fn git(dir: &Path, args: &[&str]) -> String {
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
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A bare repository as `git init --bare` makes it with git's defaults:
/// HEAD names `master`.
fn plain_bare(dir: &Path) -> PathBuf {
    let bare = dir.join("team.git");
    let st = Std::new("git")
        .args(["-c", "init.defaultBranch=master", "init", "-q", "--bare"])
        .arg(&bare)
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(git(&bare, &["symbolic-ref", "HEAD"]), "refs/heads/master");
    bare
}

/// An admin with one config, its store shared to `bare`.
fn admin_sharing(bare: &Path) -> T {
    let admin = T::new();
    admin.init();
    admin
        .add(
            "basic",
            "legacy",
            &["username=app"],
            Some(("password", "Legacy-Pass-0riginal")),
        )
        .success();
    admin
        .cmd()
        .args(["git", "init", "--remote"])
        .arg(bare)
        .assert()
        .success();
    admin
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).to_string()
}

/// The commands a message tells the user to run: `authcfg ...` in
/// backquotes, and indented lines that are commands.
fn commands_in(message: &str) -> Vec<String> {
    let mut out = vec![];
    for line in message.lines() {
        let t = line.trim();
        if line.starts_with("    ") && t.starts_with("authcfg ") {
            out.push(t.to_string());
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find('`') {
            let after = &rest[i + 1..];
            let Some(j) = after.find('`') else { break };
            let cmd = &after[..j];
            if cmd.starts_with("authcfg ") {
                out.push(cmd.to_string());
            }
            rest = &after[j + 1..];
        }
    }
    out
}

/// Runs a command line exactly as printed, through `sh`, as this user.
fn run_as_printed(t: &T, line: &str) -> std::process::Output {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let mut c = Std::new("sh");
    t.apply(&mut c);
    c.env(
        "PATH",
        format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    c.arg("-c").arg(line).output().unwrap()
}

/// One step of the join path: the hint, and what running it did.
struct Step {
    who: &'static str,
    command: String,
    code: i32,
    said: String,
}

fn step(log: &mut Vec<Step>, who: &'static str, t: &T, line: &str) -> String {
    let out = run_as_printed(t, line);
    let said = text(&out.stderr) + &text(&out.stdout);
    log.push(Step {
        who,
        command: line.to_string(),
        code: out.status.code().unwrap_or(-1),
        said: said.clone(),
    });
    said
}

fn the(cmds: &[String], start: &str) -> String {
    cmds.iter()
        .find(|c| c.starts_with(start))
        .unwrap_or_else(|| panic!("no `{start}...` among the hints {cmds:?}"))
        .clone()
}

#[test]
fn the_join_path_runs_every_hint_as_printed() {
    let dir = tempfile::tempdir().unwrap();
    let bare = plain_bare(dir.path());
    let url = bare.to_string_lossy().to_string();
    let admin = admin_sharing(&bare);
    // The repository was new: its default branch is now authcfg's, so a
    // plain `git clone` checks the store out too.
    assert_eq!(git(&bare, &["symbolic-ref", "HEAD"]), "refs/heads/main");
    // A host whose HEAD stays `master` (one authcfg cannot change): the
    // clone finds the branch by name anyway.
    git(&bare, &["symbolic-ref", "HEAD", "refs/heads/master"]);

    // A newcomer with a keyring and no key yet.
    let ss = SecretService::start();
    let mut bob = T::bare();
    bob.env("USER", "bob");
    bob.env("AUTHCFG_KEYRING", "secret-service");
    bob.env("DBUS_SESSION_BUS_ADDRESS", &ss.address);
    let mut log = vec![];

    let said = step(&mut log, "bob", &bob, &format!("authcfg git clone {url}"));
    assert_eq!(log.last().unwrap().code, 5, "{said}");
    assert!(said.contains("no key"), "{said}");
    assert!(!bob.store.exists(), "nothing cloned without a key");
    let hints = commands_in(&said);
    let said = step(&mut log, "bob", &bob, &the(&hints, "authcfg key new"));
    assert_eq!(log.last().unwrap().code, 0, "{said}");
    let public = said
        .lines()
        .find(|l| l.starts_with("age1"))
        .expect("the public key on stdout")
        .to_string();
    assert!(said.contains("OS keyring (secret-service)"), "{said}");
    // Not replaced by a second `key new`.
    bob.cmd()
        .args(["key", "new"])
        .assert()
        .code(2)
        .stderr(contains(&public));
    assert_eq!(
        text(&bob.cmd().args(["key", "show"]).output().unwrap().stdout).trim(),
        public
    );

    // Cloned before the admin added the key: a pending clone that says
    // what to send and what the admin runs.
    let said = step(&mut log, "bob", &bob, &the(&hints, "authcfg git clone"));
    assert_eq!(log.last().unwrap().code, 0, "{said}");
    assert!(said.contains("PENDING"), "{said}");
    assert!(said.contains(&public), "the full key: {said}");
    let pending = commands_in(&said);
    let admin_line = the(&pending, "authcfg recipients add");
    assert_eq!(
        admin_line,
        format!("authcfg recipients add {public} --label bob")
    );
    assert!(bob.store.join("authcfg.toml").exists(), "the clone is kept");
    // Anything else on the pending clone says the same, with the full key;
    // the commands it names work here too.
    let said = step(&mut log, "bob", &bob, "authcfg list");
    assert_eq!(log.last().unwrap().code, 5);
    assert!(
        said.contains(&public) && said.contains(&admin_line),
        "{said}"
    );
    let named = commands_in(&said);
    let said = step(&mut log, "bob", &bob, &the(&named, "authcfg key show"));
    assert_eq!(log.last().unwrap().code, 0, "{said}");
    assert!(said.contains(&public), "{said}");
    let said = step(&mut log, "bob", &bob, &the(&named, "authcfg doctor"));
    assert!(said.contains(&public), "doctor names the key: {said}");
    // Trusting the admin key while pending pins it; still pending.
    let said = step(&mut log, "bob", &bob, &the(&pending, "authcfg trust"));
    assert_eq!(log.last().unwrap().code, 0, "{said}");
    assert!(
        said.contains("PENDING") && said.contains("is trusted"),
        "{said}"
    );
    // `sync` before the admin acted: still pending, nothing broken.
    let said = step(&mut log, "bob", &bob, &the(&pending, "authcfg sync"));
    assert_eq!(log.last().unwrap().code, 5, "{said}");
    assert!(said.contains("PENDING"), "{said}");

    // The admin runs the line bob sent, then what its output says.
    let said = step(&mut log, "admin", &admin, &admin_line);
    assert_eq!(log.last().unwrap().code, 0, "{said}");
    let said = step(
        &mut log,
        "admin",
        &admin,
        &the(&commands_in(&said), "authcfg sync"),
    );
    assert_eq!(log.last().unwrap().code, 0, "{said}");

    // bob trusted the admin key already: `sync` fetches and joins.
    let said = step(&mut log, "bob", &bob, &the(&pending, "authcfg sync"));
    assert_eq!(log.last().unwrap().code, 0, "{said}");
    assert!(said.contains("Joined the team store"), "{said}");
    bob.cmd()
        .args(["export", "legacy", "--format", "json"])
        .assert()
        .success()
        .stdout(contains("Legacy-Pass-0riginal"));
    // The key bob joined with lives in the keyring, under no store's id.
    assert!(!bob.home.join(".config/authcfg/key.txt").exists());

    // erin (a CI key in AUTHCFG_IDENTITY) trusts nothing before she is
    // added: her `sync` asks for the trust, and the hint's command joins.
    let (secret, erin_public) = new_identity();
    let mut erin = T::bare();
    erin.env("USER", "erin");
    erin.env("AUTHCFG_IDENTITY", &secret);
    let said = step(&mut log, "erin", &erin, &format!("authcfg git clone {url}"));
    assert_eq!(log.last().unwrap().code, 0, "{said}");
    let pending = commands_in(&said);
    let line = the(&pending, "authcfg recipients add");
    assert!(
        line.contains(&erin_public) && line.ends_with("--label erin"),
        "{line}"
    );
    let said = step(&mut log, "admin", &admin, &line);
    assert_eq!(log.last().unwrap().code, 0, "{said}");
    step(&mut log, "admin", &admin, "authcfg sync");
    let said = step(&mut log, "erin", &erin, &the(&pending, "authcfg sync"));
    assert_eq!(log.last().unwrap().code, 5, "{said}");
    let trust = the(&commands_in(&said), "authcfg trust");
    assert!(trust.contains(&admin_fingerprint(&admin)), "{trust}");
    let said = step(&mut log, "erin", &erin, &trust);
    assert_eq!(log.last().unwrap().code, 0, "{said}");
    assert!(said.contains("Joined the team store"), "{said}");
    let said = step(&mut log, "erin", &erin, "authcfg sync");
    assert_eq!(log.last().unwrap().code, 0, "{said}");

    eprintln!("the join path, each hint run as printed:");
    for s in &log {
        eprintln!(
            "  [{}] $ {}  -> exit {}: {}",
            s.who,
            s.command,
            s.code,
            s.said.lines().find(|l| !l.trim().is_empty()).unwrap_or("")
        );
    }
}

/// While a clone waits for the admin, the remote (or anyone with push
/// access) pushes a tree with a file a store never tracks: the `sync`
/// that would complete the clone refuses it before it is checked out.
#[test]
fn a_pending_clone_refuses_a_forged_tree_when_it_completes() {
    let dir = tempfile::tempdir().unwrap();
    let bare = plain_bare(dir.path());
    let admin = admin_sharing(&bare);
    let (secret, public) = new_identity();
    let mut bob = T::bare();
    bob.env("AUTHCFG_IDENTITY", &secret);
    bob.cmd()
        .args(["git", "clone"])
        .arg(&bare)
        .args(["--trust-admin", &admin_fingerprint(&admin)])
        .assert()
        .success()
        .stderr(contains("PENDING"));
    admin
        .cmd()
        .args(["recipients", "add", &public, "--label", "bob"])
        .assert()
        .success();
    admin.cmd().arg("sync").assert().success();
    // A commit on top that plants a file a store never tracks.
    let work = dir.path().join("forger");
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "-b",
            "main",
            &bare.to_string_lossy(),
            "forger",
        ],
    );
    std::fs::write(work.join("pins.json"), "[]").unwrap();
    git(&work, &["add", "-f", "pins.json"]);
    git(&work, &["commit", "-q", "-m", "plant"]);
    git(&work, &["push", "-q", "origin", "main"]);
    bob.cmd()
        .arg("sync")
        .assert()
        .code(1)
        .stderr(contains("pins.json"))
        .stderr(contains("never tracks"));
    let pins = std::fs::read_to_string(bob.store.join("pins.json")).unwrap_or_default();
    assert_ne!(pins, "[]", "the planted file never reaches the store");
    assert!(
        bob.store.join(".git/authcfg-join").exists(),
        "still not joined"
    );
}

/// A clone into a directory of its own, while AUTHCFG_HOME names another
/// store: every command it prints names that directory; a wrong admin
/// fingerprint removes the clone.
#[test]
fn a_clone_elsewhere_prints_commands_for_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let bare = plain_bare(dir.path());
    let url = bare.to_string_lossy().to_string();
    let admin = admin_sharing(&bare);
    let fp = admin_fingerprint(&admin);
    let mut carol = T::bare();
    carol.env("USER", "carol");
    carol
        .cmd()
        .args(["key", "new"])
        .assert()
        .code(5)
        .stderr(contains("authcfg key new --file"));
    let out = carol.cmd().args(["key", "new", "--file"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let public = text(&out.stdout).trim().to_string();
    let keyfile = carol.home.join(".config/authcfg/key.txt");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&keyfile).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let there = dir.path().join("carol's team store");
    // A fingerprint that is not this repository's admin key: refused, and
    // nothing is left behind.
    carol
        .cmd()
        .args(["git", "clone", &url])
        .arg(&there)
        .args([
            "--trust-admin",
            "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ])
        .assert()
        .code(1)
        .stderr(contains(&fp));
    assert!(!there.exists(), "the clone was removed");
    let out = carol
        .cmd()
        .args(["git", "clone", &url])
        .arg(&there)
        .args(["--trust-admin", &fp])
        .output()
        .unwrap();
    let said = text(&out.stderr);
    assert!(out.status.success() && said.contains("PENDING"), "{said}");
    let cmds = commands_in(&said);
    let sync = the(&cmds, "authcfg --store");
    assert!(sync.ends_with(" sync"), "{sync}");
    assert!(said.contains("is trusted"), "{said}");
    admin
        .cmd()
        .args(["recipients", "add", &public, "--label", "carol"])
        .assert()
        .success();
    admin.cmd().arg("sync").assert().success();
    let out = run_as_printed(&carol, &sync);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("Joined"),
        "{}",
        text(&out.stderr)
    );
    let out = run_as_printed(
        &carol,
        &format!("{} export legacy --format json", &sync[..sync.len() - 5]),
    );
    assert!(text(&out.stdout).contains("Legacy-Pass-0riginal"));

    // frank has no key yet and clones elsewhere: the hint's clone names
    // that directory.
    let frank_dir = dir.path().join("frank store");
    let mut frank = T::bare();
    frank.env("USER", "frank");
    let out = frank
        .cmd()
        .args(["git", "clone", &url])
        .arg(&frank_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    let again = the(&commands_in(&text(&out.stderr)), "authcfg git clone");
    assert!(
        again.ends_with("'/frank store'") || again.contains("frank store"),
        "{again}"
    );
    // With a key the admin added already, but no fingerprint and no
    // terminal: the clone stays, and the hint's `trust` (for that
    // directory) completes it.
    let (secret, public) = new_identity();
    frank.env("AUTHCFG_IDENTITY", &secret);
    admin
        .cmd()
        .args(["recipients", "add", &public, "--label", "frank"])
        .assert()
        .success();
    admin.cmd().arg("sync").assert().success();
    let out = run_as_printed(&frank, &again);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    let trust = the(&commands_in(&text(&out.stderr)), "authcfg --store");
    assert!(trust.contains(" trust SHA256:"), "{trust}");
    let out = run_as_printed(&frank, &trust);
    assert!(
        out.status.success() && text(&out.stderr).contains("Joined"),
        "{}",
        text(&out.stderr)
    );
    assert!(!frank.store.exists(), "nothing in the default store");
}

/// SIGKILL at every step of `git clone` (AUTHCFG_FAULT_AFTER): running the
/// same clone again either completes it or cleans up and clones afresh,
/// and the store works.
#[test]
fn a_clone_killed_at_each_step_is_completed_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let bare = plain_bare(dir.path());
    let url = bare.to_string_lossy().to_string();
    let admin = admin_sharing(&bare);
    let fp = admin_fingerprint(&admin);
    let (secret, public) = new_identity();
    admin
        .cmd()
        .args(["recipients", "add", &public, "--label", "dave"])
        .assert()
        .success();
    admin.cmd().arg("sync").assert().success();
    // Someone who can write the parent directory plants the staging path
    // as a link to a directory of the user's: refused, nothing removed.
    {
        let mut eve = T::bare();
        eve.env("AUTHCFG_IDENTITY", &secret);
        let precious = eve.dir.path().join("precious");
        std::fs::create_dir(&precious).unwrap();
        std::fs::write(precious.join("keep.txt"), "keep").unwrap();
        std::os::unix::fs::symlink(&precious, eve.dir.path().join(".store.authcfg-clone")).unwrap();
        eve.cmd()
            .args(["git", "clone", &url, "--trust-admin", &fp])
            .assert()
            .code(1)
            .stderr(contains("in the way"));
        assert!(precious.join("keep.txt").exists());
        assert!(!eve.store.exists());
    }
    let mut killed = 0;
    for k in 1..=40u32 {
        let mut dave = T::bare();
        dave.env("AUTHCFG_IDENTITY", &secret);
        let out = dave
            .cmd()
            .args(["git", "clone", &url, "--trust-admin", &fp])
            .env("AUTHCFG_FAULT_AFTER", k.to_string())
            .output()
            .unwrap();
        if out.status.code().is_some() {
            assert!(out.status.success(), "k={k}: {}", text(&out.stderr));
            assert!(k > 3, "the clone has crash points of its own");
            break;
        }
        killed += 1;
        let out = dave
            .cmd()
            .args(["git", "clone", &url, "--trust-admin", &fp])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "after a kill at step {k}: {}",
            text(&out.stderr)
        );
        dave.cmd()
            .args(["export", "legacy", "--format", "json"])
            .assert()
            .success()
            .stdout(contains("Legacy-Pass-0riginal"));
        assert!(
            !dave.store.join(".git/authcfg-join").exists(),
            "k={k}: joined"
        );
        let leftovers: Vec<_> = std::fs::read_dir(dave.dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.contains("authcfg-clone"))
            .collect();
        assert!(leftovers.is_empty(), "k={k}: {leftovers:?}");
        dave.cmd().arg("sync").assert().success();
        git(&dave.store, &["fsck", "--strict"]);
    }
    assert!(killed >= 3, "killed {killed} times");
}

#[test]
fn conflicts_show_both_sides_and_resolve_refreshes_the_account() {
    let dir = tempfile::tempdir().unwrap();
    let bare = plain_bare(dir.path());
    let admin = admin_sharing(&bare);
    let (secret, public) = new_identity();
    admin
        .cmd()
        .args(["recipients", "add", &public, "--label", "bob"])
        .assert()
        .success();
    admin.cmd().arg("sync").assert().success();
    let mut bob = T::bare();
    bob.env("AUTHCFG_IDENTITY", &secret);
    bob.cmd()
        .args(["git", "clone"])
        .arg(&bare)
        .args(["--trust-admin", &admin_fingerprint(&admin)])
        .assert()
        .success();
    let edit = |t: &T, user: &str, pass: &str| {
        t.cmd()
            .args(["edit", "legacy", "--set", &format!("username={user}")])
            .assert()
            .success();
        t.cmd()
            .args(["edit", "legacy", "--secret-stdin", "password"])
            .write_stdin(pass.to_string())
            .assert()
            .success();
    };
    // The other side's user name carries a bidirectional override: it is
    // outside text wherever it is shown.
    edit(&admin, "admin-db\u{202e}exe.txt", "Admin-Secret-Pass-4242");
    admin.cmd().arg("sync").assert().success();
    edit(&bob, "bob-db", "Bob-Secret-Pass-7777");
    let out = bob.cmd().arg("sync").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out.stderr);
    assert!(said.contains("legacy (password, username)"), "{said}");
    assert!(said.contains("authcfg conflicts"), "{said}");

    let out = bob.cmd().arg("conflicts").output().unwrap();
    assert!(out.status.success());
    let shown = text(&out.stdout);
    assert!(shown.contains("username  ours: bob-db"), "{shown}");
    assert!(
        shown.contains("theirs: admin-db\\u{202e}exe.txt"),
        "{shown}"
    );
    assert!(
        shown.contains("ours: ****7777") && shown.contains("theirs: ****4242"),
        "{shown}"
    );
    assert!(
        !shown.contains('\u{202e}'),
        "no raw override reaches the terminal"
    );
    assert_clean(
        "conflicts",
        &out.stdout,
        &["Admin-Secret-Pass", "Bob-Secret-Pass"],
    );
    let v: serde_json::Value = serde_json::from_str(&bob.stdout(&["conflicts", "--json"])).unwrap();
    assert_eq!(v[0]["name"], "legacy");
    assert_eq!(v[0]["fields"][0]["field"], "password");
    assert_eq!(v[0]["fields"][0]["secret"], true);
    // list, show and doctor mark it.
    assert!(bob.stdout(&["list"]).contains("in conflict"));
    let rows: serde_json::Value = serde_json::from_str(&bob.stdout(&["list", "--json"])).unwrap();
    assert_eq!(rows[0]["conflict"], true);
    let show = bob.stdout(&["show", "legacy"]);
    assert!(
        show.contains("in conflict") && show.contains("theirs: ****4242"),
        "{show}"
    );
    assert_clean(
        "show",
        show.as_bytes(),
        &["Admin-Secret-Pass", "Bob-Secret-Pass"],
    );
    let doctor = text(&bob.cmd().arg("doctor").output().unwrap().stdout);
    assert!(
        doctor.contains("WARN team conflicts") && doctor.contains("legacy (password, username)"),
        "{doctor}"
    );

    // Their user name, our password: the Account column follows on both
    // clones, and the status says that pair was never tested.
    bob.cmd()
        .args([
            "resolve",
            "legacy",
            "--field",
            "username=theirs",
            "--field",
            "password=ours",
        ])
        .assert()
        .success()
        .stderr(contains("took the other side's username"));
    let account = |t: &T| {
        let rows: serde_json::Value = serde_json::from_str(&t.stdout(&["list", "--json"])).unwrap();
        (rows[0]["account"].clone(), rows[0]["conflict"].clone())
    };
    // Outside text: JSON carries it escaped too (src/text.rs, `Outside`).
    let want = serde_json::json!("admin-db\\u{202e}exe.txt");
    assert_eq!(account(&bob), (want.clone(), serde_json::json!(false)));
    bob.cmd().arg("sync").assert().success();
    admin.cmd().arg("sync").assert().success();
    assert_eq!(account(&admin), (want, serde_json::json!(false)));
}

/// The README's "Recovery" section names what to keep; a store comes back
/// on a fresh HOME (a new keyring, no state) from exactly that: the key
/// backup (made at a terminal), its passphrase, a copy of the store
/// directory. `doctor` says whether a backup exists.
#[test]
fn a_store_is_restored_on_a_fresh_home_from_what_the_readme_keeps() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("\n## Recovery")
        .nth(1)
        .expect("README has a Recovery section")
        .split("\n## ")
        .next()
        .unwrap()
        .to_string();
    for kept in [
        "authcfg key export",
        "passphrase",
        "store directory",
        "authcfg key import",
    ] {
        assert!(section.contains(kept), "Recovery does not mention {kept}");
    }

    let backups = tempfile::tempdir().unwrap();
    let backup = backups.path().join("authcfg-key.age");
    let store_copy = backups.path().join("store");
    {
        let ss = SecretService::start();
        let mut t = T::bare();
        t.env("AUTHCFG_KEYRING", "secret-service");
        t.env("DBUS_SESSION_BUS_ADDRESS", &ss.address);
        t.init();
        t.add(
            "basic",
            "db",
            &["username=app"],
            Some(("password", "Db-Pass-Restored-1")),
        )
        .success();
        t.add("bearer", "api", &[], Some(("token", "Api-Tok-Restored-2")))
            .success();
        let doctor = t.stdout(&["doctor"]);
        assert!(
            doctor.contains("WARN recovery") && doctor.contains("authcfg key export"),
            "{doctor}"
        );
        // At a terminal: the passphrase asked hidden, twice; a short one refused.
        let mut cmd = t.std_cmd();
        cmd.args(["key", "export"]).arg(&backup);
        let mut p = spawn_command(cmd, TIMEOUT).unwrap();
        p.exp_string("Passphrase for the key backup").unwrap();
        p.send_line("short").unwrap();
        p.exp_string("Repeat it").unwrap();
        p.send_line("short").unwrap();
        p.exp_string("shorter than").unwrap();
        p.send_line("correct horse battery staple").unwrap();
        p.exp_string("Repeat it").unwrap();
        p.send_line("correct horse battery staple").unwrap();
        let rest = p.exp_eof().unwrap();
        assert!(rest.contains("Wrote the key"), "{rest}");
        assert!(
            !rest.contains("correct horse"),
            "the passphrase was echoed: {rest}"
        );
        let doctor = t.stdout(&["doctor"]);
        assert!(
            doctor.contains("ok   recovery") && doctor.contains("backup of this key"),
            "{doctor}"
        );
        // An age file: Debian's age opens it with the passphrase too.
        let mut cmd = Std::new("age");
        cmd.arg("-d").arg(&backup);
        let mut p = spawn_command(cmd, TIMEOUT).unwrap();
        p.exp_string("passphrase").unwrap();
        p.send_line("correct horse battery staple").unwrap();
        let opened = p.exp_eof().unwrap();
        assert!(opened.contains("AGE-SECRET-KEY-1"), "age -d: {opened}");
        // The store directory, as any backup copies it.
        let st = Std::new("cp")
            .arg("-a")
            .arg(&t.store)
            .arg(&store_copy)
            .status()
            .unwrap();
        assert!(st.success());
        // The machine is lost: keyring, home, store.
    }

    let ss = SecretService::start();
    let mut fresh = T::bare();
    fresh.env("AUTHCFG_KEYRING", "secret-service");
    fresh.env("DBUS_SESSION_BUS_ADDRESS", &ss.address);
    let st = Std::new("cp")
        .arg("-a")
        .arg(&store_copy)
        .arg(&fresh.store)
        .status()
        .unwrap();
    assert!(st.success());
    fresh.cmd().arg("list").assert().code(5);
    // A wrong passphrase changes nothing.
    fresh
        .cmd()
        .args(["key", "import"])
        .arg(&backup)
        .arg("--passphrase-stdin")
        .write_stdin("wrong passphrase here\n")
        .assert()
        .code(5)
        .stderr(contains("wrong passphrase"));
    let mut cmd = fresh.std_cmd();
    cmd.args(["key", "import"]).arg(&backup);
    let mut p = spawn_command(cmd, TIMEOUT).unwrap();
    p.exp_string("Passphrase of the key backup").unwrap();
    p.send_line("correct horse battery staple").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(
        rest.contains("opens with it (its master key): 2 config(s)"),
        "{rest}"
    );
    let v = fresh.export_json(&["db".into(), "api".into()]);
    let all = v.to_string();
    assert!(
        all.contains("Db-Pass-Restored-1") && all.contains("Api-Tok-Restored-2"),
        "{all}"
    );
    fresh.cmd().args(["log", "--verify"]).assert().success();
    fresh
        .add("bearer", "after", &[], Some(("token", "tok-after-restore")))
        .success();
}

/// A team store's admin who lost the machine: the key backup and the
/// team's repository bring the store back (README, "Recovery"), still the
/// admin's.
#[test]
fn a_team_admin_restores_from_the_repository_and_a_key_backup() {
    let dir = tempfile::tempdir().unwrap();
    let bare = plain_bare(dir.path());
    let admin = admin_sharing(&bare);
    let backup = dir.path().join("admin-key.age");
    admin
        .cmd()
        .args(["key", "export"])
        .arg(&backup)
        .arg("--passphrase-stdin")
        .write_stdin("a long enough passphrase\n")
        .assert()
        .success();
    // Scripts cannot choose a weak one either.
    admin
        .cmd()
        .args(["key", "export"])
        .arg(dir.path().join("weak.age"))
        .arg("--passphrase-stdin")
        .write_stdin("short\n")
        .assert()
        .code(2);
    assert!(!dir.path().join("weak.age").exists());
    let fp = admin_fingerprint(&admin);
    drop(admin);

    let fresh = T::bare();
    fresh
        .cmd()
        .args(["key", "import"])
        .arg(&backup)
        .arg("--passphrase-stdin")
        .write_stdin("a long enough passphrase\n")
        .assert()
        .success()
        .stderr(contains("No store at"));
    fresh
        .cmd()
        .args(["git", "clone"])
        .arg(&bare)
        .assert()
        .success()
        .stderr(contains("your role: admin"));
    assert_eq!(admin_fingerprint(&fresh), fp);
    fresh
        .cmd()
        .args(["export", "legacy", "--format", "json"])
        .assert()
        .success()
        .stdout(contains("Legacy-Pass-0riginal"));
    let (_, public) = new_identity();
    fresh
        .cmd()
        .args(["recipients", "add", &public, "--label", "newbie"])
        .assert()
        .success();
    fresh.cmd().arg("sync").assert().success();
}
