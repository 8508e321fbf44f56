//! Recovery shares (docs/ARCHITECTURE.md, "Recovery shares"): the master
//! key split 3-of-5 on a machine whose key lives in a real gnome-keyring,
//! restored on fresh HOMEs (a new keyring each) from several subsets of
//! three shares; two shares restore nothing; a share of another store, of
//! another split, the same share twice and a share with one changed
//! character are each refused by name. Both steps are in the audit trail.

use crate::support::*;
use predicates::str::contains;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command as Std;

/// A store (key in the Secret Service) with two configs, split 3-of-5 into
/// `out`; the store directory copied to `copy` as a backup would be.
fn split_store(ss: &SecretService, out: &Path, copy: &Path) -> (T, Vec<PathBuf>) {
    let mut t = T::bare();
    t.env("AUTHCFG_KEYRING", "secret-service");
    t.env("DBUS_SESSION_BUS_ADDRESS", &ss.address);
    t.init();
    t.add(
        "basic",
        "db",
        &["username=app"],
        Some(("password", "Db-Pass-Shares-1")),
    )
    .success();
    t.add("bearer", "api", &[], Some(("token", "Api-Tok-Shares-2")))
        .success();
    split(&t, 5, 3, out)
        .success()
        .stderr(contains("any 3 of them restore it"));
    let files: Vec<PathBuf> = (1..=5)
        .map(|i| out.join(format!("authcfg-share-{i}-of-5.txt")))
        .collect();
    for f in &files {
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
        let text = std::fs::read_to_string(f).unwrap();
        assert!(text.contains("authcfg-share1 "), "{text}");
        assert!(!text.contains("AGE-SECRET-KEY"), "{text}");
    }
    // No share reaches the store (audit trail, any file) or the output of
    // a later command.
    let values: Vec<String> = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let line = text
                .lines()
                .find(|l| l.starts_with("authcfg-share1"))
                .unwrap();
            line.split(' ')
                .skip(8)
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let refs: Vec<&str> = values.iter().map(String::as_str).collect();
    for (p, bytes) in t.store_files() {
        assert_clean(&p.display().to_string(), &bytes, &refs);
    }
    let log = t.cmd().args(["log"]).output().unwrap();
    assert_clean("log", &log.stdout, &refs);
    // Nothing but the five shares in the directory (no temp file left).
    assert_eq!(std::fs::read_dir(out).unwrap().count(), 5);
    // The split is audited with the key's public half; doctor counts it.
    let log: Vec<serde_json::Value> = serde_json::from_str(&t.stdout(&["log", "--json"])).unwrap();
    let rec = log
        .iter()
        .find(|r| r["action"] == "key recovery split")
        .expect("a split record");
    assert!(
        rec["detail"]
            .as_str()
            .unwrap()
            .contains("into 5 shares, any 3 restore it"),
        "{rec}"
    );
    let doctor = t.stdout(&["doctor"]);
    assert!(
        doctor.contains("ok   recovery") && doctor.contains("key recovery split"),
        "{doctor}"
    );
    // A second split never overwrites the first one's files.
    split(&t, 5, 3, out)
        .code(2)
        .stderr(contains("already exists"));
    let st = Std::new("cp")
        .arg("-a")
        .arg(&t.store)
        .arg(copy)
        .status()
        .unwrap();
    assert!(st.success());
    (t, files)
}

/// A fresh HOME with a new keyring and the store directory put back.
fn fresh(ss: &SecretService, copy: &Path) -> T {
    let mut f = T::bare();
    f.env("AUTHCFG_KEYRING", "secret-service");
    f.env("DBUS_SESSION_BUS_ADDRESS", &ss.address);
    let st = Std::new("cp")
        .arg("-a")
        .arg(copy)
        .arg(&f.store)
        .status()
        .unwrap();
    assert!(st.success());
    f.cmd().arg("list").assert().code(5);
    f
}

/// `key recovery split --shares N --threshold K --out-dir DIR`.
fn split(t: &T, n: u32, k: u32, dir: impl AsRef<Path>) -> assert_cmd::assert::Assert {
    t.cmd()
        .args(["key", "recovery", "split", "--shares"])
        .arg(n.to_string())
        .arg("--threshold")
        .arg(k.to_string())
        .arg("--out-dir")
        .arg(dir.as_ref())
        .assert()
}

fn restore(t: &T, files: &[&PathBuf]) -> assert_cmd::assert::Assert {
    t.cmd()
        .args(["key", "recovery", "restore"])
        .args(files)
        .assert()
}

#[test]
fn any_three_of_five_shares_restore_the_store_on_a_fresh_home() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shares");
    let copy = dir.path().join("store-copy");
    let files = {
        let ss = SecretService::start();
        split_store(&ss, &out, &copy).1
    };
    for pick in [[0usize, 1, 2], [4, 2, 0], [1, 3, 4]] {
        let ss = SecretService::start();
        let f = fresh(&ss, &copy);
        let chosen: Vec<&PathBuf> = pick.iter().map(|&i| &files[i]).collect();
        // Two of them restore nothing, and say how many are needed.
        restore(&f, &chosen[..2]).code(5).stderr(contains(
            "2 share(s) given, but any 3 of the 5 shares are needed",
        ));
        f.cmd().arg("list").assert().code(5);
        restore(&f, &chosen)
            .success()
            .stderr(contains(
                "from 3 of 5 shares into the OS keyring (secret-service)",
            ))
            .stderr(contains("opens with it: 2 config(s)"));
        let all = f.export_json(&["db".into(), "api".into()]).to_string();
        assert!(
            all.contains("Db-Pass-Shares-1") && all.contains("Api-Tok-Shares-2"),
            "{pick:?}: {all}"
        );
        f.cmd().args(["log", "--verify"]).assert().success();
        let log: Vec<serde_json::Value> =
            serde_json::from_str(&f.stdout(&["log", "--json"])).unwrap();
        let rec = log
            .iter()
            .find(|r| r["action"] == "key recovery restore")
            .expect("a restore record");
        assert!(
            rec["detail"]
                .as_str()
                .unwrap()
                .contains("from 3 of 5 shares"),
            "{rec}"
        );
        // The restored key is the admin's: it can still write.
        f.add("bearer", "after", &[], Some(("token", "tok-after-shares")))
            .success();
    }
    // Standard input, one share a line (the other lines are skipped).
    let ss = SecretService::start();
    let f = fresh(&ss, &copy);
    let text: String = [0, 3, 4]
        .iter()
        .map(|&i| std::fs::read_to_string(&files[i]).unwrap())
        .collect();
    f.cmd()
        .args(["key", "recovery", "restore", "--stdin"])
        .write_stdin(text)
        .assert()
        .success();
    f.stdout(&["show", "db"]);
}

#[test]
fn a_wrong_share_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let ss = SecretService::start();
    let out = dir.path().join("shares");
    let copy = dir.path().join("store-copy");
    let (t, files) = split_store(&ss, &out, &copy);
    // Another store's shares, and a second split of this store.
    let other_out = dir.path().join("other");
    let other = {
        let ss2 = SecretService::start();
        split_store(&ss2, &other_out, &dir.path().join("other-copy")).1
    };
    let second = dir.path().join("second");
    split(&t, 3, 2, &second).success();
    let second_share = second.join("authcfg-share-3-of-3.txt");
    let ss_fresh = SecretService::start();
    let f = fresh(&ss_fresh, &copy);
    let name = |p: &PathBuf| p.display().to_string();

    restore(&f, &[&files[0], &files[1], &other[2]])
        .code(2)
        .stderr(contains(format!(
            "the share in {} is a share of another store",
            name(&other[2])
        )))
        .stderr(contains("not of the store at"));
    restore(&f, &[&files[0], &files[1], &files[1]])
        .code(2)
        .stderr(contains(format!(
            "the share in {} is share 2 again (the share in {} is share 2 too)",
            name(&files[1]),
            name(&files[1])
        )));

    // One changed character: named, with what is wrong.
    let text = std::fs::read_to_string(&files[2]).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("authcfg-share1"))
        .unwrap();
    let at = text.find(line).unwrap() + line.len() - 3;
    let c = text.as_bytes()[at];
    let swapped = if c == b'q' { "p" } else { "q" };
    let mut bad = text.clone();
    bad.replace_range(at..at + 1, swapped);
    let bad_file = dir.path().join("changed.txt");
    std::fs::write(&bad_file, &bad).unwrap();
    let refused = f
        .cmd()
        .args(["key", "recovery", "restore"])
        .args([&files[0], &bad_file, &files[3]])
        .output()
        .unwrap();
    let line = line
        .split(' ')
        .skip(8)
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    assert_clean("a refused restore's output", &refused.stderr, &[&line]);
    restore(&f, &[&files[0], &bad_file, &files[3]])
        .code(2)
        .stderr(contains(format!(
            "the share in {} is not a usable recovery share: its checksum does not match",
            name(&bad_file)
        )));
    // A character no share uses.
    let mut bad = text.clone();
    bad.replace_range(at..at + 1, "b");
    std::fs::write(&bad_file, &bad).unwrap();
    restore(&f, &[&bad_file])
        .code(2)
        .stderr(contains("is not one a share uses"));

    // Shares of two splits of the same store never mix.
    restore(&f, &[&files[0], &files[1], &second_share])
        .code(2)
        .stderr(contains(format!(
            "the share in {} comes from another split",
            second_share.display()
        )));
    f.cmd().arg("list").assert().code(5);
    // Nothing was restored by any refused attempt; three good ones do it.
    restore(&f, &[&files[0], &files[2], &files[3]]).success();
    f.stdout(&["show", "db"]);
}

/// At a terminal the shares are asked, hidden, until the first share's
/// threshold is reached; a mistyped one is refused with what is wrong and
/// asked again. The key goes back to the identity file the store names.
#[test]
fn shares_typed_at_a_terminal_restore_the_key_file() {
    use rexpect::session::spawn_command;
    let t = T::bare();
    let keyfile = t.init_with_key_file();
    t.add("bearer", "api", &[], Some(("token", "Tok-Typed-Shares-3")))
        .success();
    let out = t.dir.path().join("shares");
    split(&t, 4, 2, &out).success();
    let share = |i: usize| {
        let text =
            std::fs::read_to_string(out.join(format!("authcfg-share-{i}-of-4.txt"))).unwrap();
        text.lines()
            .find(|l| l.starts_with("authcfg-share1"))
            .unwrap()
            .to_string()
    };
    std::fs::remove_file(&keyfile).unwrap();
    t.cmd().arg("list").assert().code(5);

    let mut cmd = t.std_cmd();
    cmd.args(["key", "recovery", "restore"]);
    let mut p = spawn_command(cmd, Some(30_000)).unwrap();
    p.exp_string("Share 1").unwrap();
    // Upper case and without the spaces: the same share.
    p.send_line(&share(4).replace(' ', "").to_uppercase())
        .unwrap();
    p.exp_string("Share 4 of 4: 2 of them restore the key")
        .unwrap();
    p.exp_string("Share 2").unwrap();
    let mut typo = share(2);
    let last = typo.pop().unwrap();
    typo.push(if last == 'q' { 'p' } else { 'q' });
    p.send_line(&typo).unwrap();
    p.exp_string("share 2 (typed) is not a usable recovery share: its checksum does not match")
        .unwrap();
    p.exp_string("Share 2").unwrap();
    p.send_line(&share(2)).unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("from 2 of 4 shares into the file"), "{rest}");
    assert!(
        !rest.contains(&share(2)[20..]),
        "a share was echoed: {rest}"
    );
    let mode = std::fs::metadata(&keyfile).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(t.stdout(&["export", "api"]).contains("Tok-Typed-Shares-3"));
    // Into a file of the user's choice (from standard input): the store is
    // opened with it to record the restore.
    std::fs::remove_file(&keyfile).unwrap();
    let chosen = t.dir.path().join("chosen.key");
    t.cmd()
        .args(["key", "recovery", "restore", "--stdin", "--to-file"])
        .arg(&chosen)
        .write_stdin(format!("{}\n{}\n", share(1), share(3)))
        .assert()
        .success()
        .stderr(contains("AUTHCFG_IDENTITY_FILE="));
    let log = t
        .cmd()
        .env("AUTHCFG_IDENTITY_FILE", &chosen)
        .args(["log", "--json"])
        .output()
        .unwrap();
    assert!(log.status.success());
    let log: Vec<serde_json::Value> = serde_json::from_slice(&log.stdout).unwrap();
    let restores: Vec<_> = log
        .iter()
        .filter(|r| r["action"] == "key recovery restore")
        .collect();
    assert_eq!(restores.len(), 2, "{log:?}");
    assert!(restores[1]["detail"]
        .as_str()
        .unwrap()
        .contains("from 2 of 4 shares"));
    // No terminal and no files: told how to pass them.
    t.cmd()
        .args(["key", "recovery", "restore"])
        .assert()
        .code(2)
        .stderr(contains("--stdin"));
}

/// The share line of a split's file.
fn share_line(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("authcfg-share1"))
        .unwrap()
        .to_string()
}

/// A forged share (red team, F5): a real share's header, a random value,
/// a valid checksum. Without a store to compare with, the key the shares
/// restore is checked against the fingerprint each share carries: refused,
/// nothing written; beyond the threshold the forged share is named.
#[test]
fn a_forged_share_restores_nothing_even_without_a_store() {
    use bech32::{primitives::decode::CheckedHrpstring, Bech32m, Hrp};
    let t = T::new();
    t.init();
    let out = t.dir.path().join("shares");
    split(&t, 3, 2, &out).success();
    let real = |i: usize| share_line(&out.join(format!("authcfg-share-{i}-of-3.txt")));
    let compact: String = real(2).chars().filter(|c| *c != ' ').collect();
    let checked = CheckedHrpstring::new::<Bech32m>(&compact).unwrap();
    let mut body: Vec<u8> = checked.byte_iter().collect();
    let n = body.len();
    body[n - 32..].copy_from_slice(&rand::random::<[u8; 32]>());
    let forged = bech32::encode::<Bech32m>(Hrp::parse("authcfg-share").unwrap(), &body).unwrap();
    // A fresh machine: no store, no key.
    let f = T::bare();
    let kept = f.dir.path().join("restored.key");
    let restore = |lines: &[&str]| {
        f.cmd()
            .args(["key", "recovery", "restore", "--stdin", "--to-file"])
            .arg(&kept)
            .write_stdin(lines.join("\n"))
            .output()
            .unwrap()
    };
    let o = restore(&[&real(1), &forged]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("forged or altered; nothing was kept"), "{err}");
    assert!(!kept.exists(), "a wrong key was written");
    // Three given, the forged one last: named.
    let o = restore(&[&real(1), &real(3), &forged]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the share on line 3 of standard input does not agree with the other shares"),
        "{err}"
    );
    assert!(!kept.exists(), "a key was written");
    // The real ones restore the store's key.
    restore(&[&real(3), &real(2)]);
    assert!(kept.exists());
    let public = t.stdout(&["key", "show"]);
    let restored = f
        .cmd()
        .env("AUTHCFG_IDENTITY_FILE", &kept)
        .args(["key", "show"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&restored.stdout), public);
}

/// A share given as an argument (F5b) is refused without being quoted,
/// quoted whole or split by the shell into its groups; a directory other
/// users can write is no place for shares (they could swap one).
#[test]
fn a_share_on_the_command_line_is_not_echoed_and_an_open_directory_is_refused() {
    let t = T::new();
    t.init();
    let out = t.dir.path().join("shares");
    split(&t, 2, 2, &out).success();
    let line = share_line(&out.join("authcfg-share-1-of-2.txt"));
    let tail: String = line
        .split(' ')
        .skip(3)
        .take(4)
        .collect::<Vec<_>>()
        .join(" ");
    let groups: Vec<&str> = line.split(' ').collect();
    for args in [vec![line.as_str()], groups.clone()] {
        let o = t
            .cmd()
            .args(["key", "recovery", "restore"])
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains("shares are never read from the command line; use --stdin or a file"),
            "{err}"
        );
        assert_clean("a refused restore's output", &o.stderr, &[&tail, groups[3]]);
        assert_clean("a refused restore's output", &o.stdout, &[&tail, groups[3]]);
    }
    // A directory everyone can write.
    let open = t.dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    split(&t, 2, 2, &open)
        .code(2)
        .stderr(contains("other users can write it (mode 0777)"))
        .stderr(contains("chmod go-w"));
    assert_eq!(std::fs::read_dir(&open).unwrap().count(), 0);
    // Made private, it is used.
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o700)).unwrap();
    split(&t, 2, 2, &open).success();
}
