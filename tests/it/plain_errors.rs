//! Errors that say what failed: a write is not called a read, a home that
//! is not there is not created, a project file's broken reference names the
//! file and line, and a template reference inside other braces is refused.

use crate::support::*;
use predicates::prelude::*;
use predicates::str::contains;

#[test]
fn a_write_to_a_read_only_store_is_reported_as_a_write() {
    let mut t = T::new();
    let mnt = t.dir.path().join("ro");
    let _m = Tmpfs::mount(&mnt, "4m");
    t.store = mnt.join("store");
    t.init();
    t.add("bearer", "c0", &[], Some(("token", "tok-ro-1")))
        .success();
    _m.read_only();
    t.add("bearer", "c1", &[], Some(("token", "x")))
        .failure()
        .stderr(contains("cannot write").and(contains("Read-only file system")))
        .stderr(contains("cannot read").not());
}

#[test]
fn a_missing_or_relative_home_gets_an_error_not_a_directory() {
    let t = T::new();
    let cwd = t.dir.path().join("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let missing = t.dir.path().join("nonexistent");
    for (home, why) in [
        (missing.to_str().unwrap(), "is not an existing directory"),
        ("relhome", "is not an absolute path"),
    ] {
        t.cmd()
            .current_dir(&cwd)
            .env("HOME", home)
            .env_remove("AUTHCFG_HOME")
            .env_remove("XDG_DATA_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_STATE_HOME")
            .arg("init")
            .assert()
            .failure()
            .stderr(contains(format!("HOME ({home}) {why}")))
            .stderr(contains("--store"));
        assert!(!missing.exists(), "created {}", missing.display());
        assert_eq!(
            std::fs::read_dir(&cwd).unwrap().count(),
            0,
            "created something under the working directory"
        );
    }
    // With the store given, the missing home is not created either (no
    // anchor, no state under it).
    t.cmd()
        .current_dir(&cwd)
        .env("HOME", &missing)
        .env_remove("XDG_DATA_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_STATE_HOME")
        .arg("init")
        .assert()
        .success();
    assert!(!missing.exists(), "created {}", missing.display());
}

#[test]
fn a_broken_project_reference_names_the_file_and_line() {
    let t = T::new();
    t.init();
    t.add("bearer", "dev/api", &[], Some(("token", "tok-p-1")))
        .success();
    let repo = t.dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let file = repo.join(".authcfg.toml");
    std::fs::write(
        &file,
        "[env]\nGOOD = \"authcfg://dev/api/token\"\nMISSING = \"authcfg://nope/token\"\n",
    )
    .unwrap();
    // The file is approved as it is (docs/SECURITY.md, "A repository's
    // project file"); CI-style, by its hash.
    let approve = |c: &mut assert_cmd::Command| {
        use sha2::Digest;
        let digest = hex::encode(sha2::Sha256::digest(std::fs::read(&file).unwrap()));
        c.env("AUTHCFG_TRUST_PROJECT", digest);
    };
    let mut c = t.cmd();
    approve(&mut c);
    c.current_dir(&repo)
        .args(["export"])
        .assert()
        .code(3)
        .stderr(contains(format!("{}:3", file.display())))
        .stderr(contains("nope"));
    std::fs::write(
        &file,
        "[env]\nGOOD = \"authcfg://dev/api/token\"\n\nNO_FIELD = \"authcfg://dev/api/secret\"\n",
    )
    .unwrap();
    let mut c = t.cmd();
    approve(&mut c);
    c.current_dir(&repo)
        .args(["export"])
        .assert()
        .code(2)
        .stderr(contains(format!("{}:4", file.display())))
        .stderr(contains("no field 'secret'"));
}

#[test]
fn inject_refuses_a_reference_inside_other_braces() {
    let t = T::new();
    t.init();
    t.add(
        "basic",
        "a",
        &["username=u"],
        Some(("password", "s3cret-nest")),
    )
    .success();
    for template in [
        "x: {{ {{ authcfg://a/password }} }}\n",
        "x: {{{ authcfg://a/password }}}\n",
        "ok: {{ authcfg://a/username }}\ny: {{{{ authcfg://a/password }}}}\n",
        // Red team 2, #7: across lines, and behind an invisible character.
        "{{\n{{ authcfg://a/password }}\n}}\n",
        "x: {{ authcfg://a/password }}\u{200B}}\n",
        "x: {\u{200B}{{ authcfg://a/password }}\n",
    ] {
        let out = t
            .cmd()
            .args(["inject", "-i", "-"])
            .write_stdin(template)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{template}");
        assert!(out.stdout.is_empty(), "{template}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("inside other braces"), "{err}");
        assert!(!err.contains("s3cret-nest"));
    }
    // Other template syntax beside a reference is fine.
    let out = t
        .cmd()
        .args(["inject", "-i", "-"])
        .write_stdin("a: {{ .Values.x }} b: {{ authcfg://a/username }}\n{{ end }}\n")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "a: {{ .Values.x }} b: u\n{{ end }}\n"
    );
}
