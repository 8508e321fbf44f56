//! Who uses what: every hand-out records its consumer (a label, a CI job,
//! a project and environment, or the user) in the encrypted usage log;
//! `list` counts connections, `show` names them, `remove` refuses a config
//! in use, `doctor` names configs nobody uses.

use crate::support::*;
use predicates::str::contains;

fn store() -> T {
    let t = T::new();
    t.init();
    t.add(
        "api-key",
        "prod/stripe",
        &[],
        Some(("api_key", "sk-planted-usage-1")),
    )
    .success();
    t.add(
        "bearer",
        "idle",
        &[],
        Some(("token", "tok-planted-usage-2")),
    )
    .success();
    t
}

#[test]
fn consumers_are_recorded_sealed_and_counted() {
    let mut t = store();
    let project = t.dir.path().join("shop-app");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(
        project.join(".authcfg.toml"),
        "[env.production]\nSTRIPE_KEY = \"authcfg://prod/stripe/api_key\"\n",
    )
    .unwrap();
    // 1. a label
    t.cmd()
        .args(["export", "prod/stripe", "--as", "nightly-billing"])
        .assert()
        .success();
    // 2. the project, from a subdirectory, in its production environment
    t.cmd()
        .current_dir(&project)
        .args(["project", "allow"])
        .assert()
        .success();
    t.cmd()
        .current_dir(project.join("src"))
        .args(["exec", "--env", "production", "--", "true"])
        .assert()
        .success();
    // 3. a CI job
    t.cmd()
        .args(["token", "prod/stripe"])
        .env("GITHUB_REPOSITORY", "acme/shop")
        .env("GITHUB_WORKFLOW", "deploy")
        .assert()
        .success();
    // 4. the user at a shell: a use, not a connection
    t.cmd().args(["header", "prod/stripe"]).assert().success();
    // AUTHCFG_AS labels too; a label with control characters is refused.
    t.env("AUTHCFG_AS", "cron-report");
    t.cmd().args(["export", "prod/stripe"]).assert().success();
    t.extra_env.retain(|(k, _)| k != "AUTHCFG_AS");
    t.cmd()
        .args(["token", "prod/stripe", "--as", "bad\nlabel"])
        .assert()
        .code(2);

    let list: serde_json::Value = serde_json::from_str(&t.stdout(&["list", "--json"])).unwrap();
    let by_name = |list: &serde_json::Value, n: &str| -> serde_json::Value {
        list.as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == n)
            .unwrap()
            .clone()
    };
    let row = &by_name(&list, "prod/stripe");
    assert_eq!(row["connections"], 4, "{row}");
    let consumers: Vec<&str> = row["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    let root = std::fs::canonicalize(&project).unwrap();
    for want in [
        "label nightly-billing".to_string(),
        "label cron-report".to_string(),
        "ci github:acme/shop deploy".to_string(),
        format!("project {}, env production", root.display()),
    ] {
        assert!(
            consumers.contains(&want.as_str()),
            "{want} not in {consumers:?}"
        );
    }
    assert!(row["last_used"].is_string());
    assert_eq!(by_name(&list, "idle")["connections"], 0);
    assert!(by_name(&list, "idle")["last_used"].is_null());
    let table = t.stdout(&["list"]);
    assert!(table.lines().next().unwrap().contains("Connections"));

    t.cmd()
        .args(["show", "prod/stripe"])
        .assert()
        .success()
        .stdout(contains("Used by:"))
        .stdout(contains("label nightly-billing"))
        .stdout(contains("direct use by"))
        .stdout(contains(format!(
            "project {}, env production",
            root.display()
        )));
    let shown: serde_json::Value =
        serde_json::from_str(&t.stdout(&["show", "prod/stripe", "--json"])).unwrap();
    assert_eq!(shown["authcfg"]["consumers"].as_array().unwrap().len(), 5);

    // Sealed: nothing of it is readable in the store.
    let log = std::fs::read(t.store.join("usage.log")).unwrap();
    assert_clean(
        "usage.log",
        &log,
        &[
            "nightly-billing",
            "acme/shop",
            "shop-app",
            "prod/stripe",
            "production",
            "sk-planted-usage-1",
        ],
    );
    for (path, bytes) in t.store_files() {
        assert_clean(&path.display().to_string(), &bytes, &["sk-planted-usage-1"]);
    }
    // Another store's key opens none of it: a copied log counts nothing.
    let other = T::new();
    other.init();
    other
        .add("api-key", "prod/stripe", &[], Some(("api_key", "x")))
        .success();
    std::fs::copy(t.store.join("usage.log"), other.store.join("usage.log")).unwrap();
    let list: serde_json::Value = serde_json::from_str(&other.stdout(&["list", "--json"])).unwrap();
    assert_eq!(list[0]["connections"], 0);
    other
        .cmd()
        .arg("doctor")
        .assert()
        .success()
        .stdout(contains("do not open with this store's key"));

    // Not recorded when asked not to (the audit trail still has the use).
    let before = std::fs::read(t.store.join("usage.log")).unwrap();
    t.cmd()
        .args(["token", "idle"])
        .env("AUTHCFG_USAGE", "off")
        .assert()
        .success();
    assert_eq!(std::fs::read(t.store.join("usage.log")).unwrap(), before);
}

#[test]
fn remove_refuses_a_config_in_use_and_names_its_consumers() {
    let t = store();
    t.cmd()
        .args([
            "exec",
            "prod/stripe",
            "--as",
            "payments-worker",
            "--",
            "true",
        ])
        .assert()
        .success();
    t.cmd()
        .args(["remove", "prod/stripe", "--yes"])
        .assert()
        .code(1)
        .stderr(contains("'prod/stripe' is used by label payments-worker"))
        .stderr(contains("--force"));
    assert!(t.stdout(&["list"]).contains("prod/stripe"));
    // The user's own use is not a connection: `idle` goes without --force.
    t.cmd().args(["token", "idle"]).assert().success();
    t.cmd().args(["remove", "idle", "--yes"]).assert().success();
    t.cmd()
        .args(["remove", "prod/stripe", "--yes", "--force"])
        .assert()
        .success();
    assert!(!t.stdout(&["list"]).contains("prod/stripe"));
}

#[test]
fn doctor_names_unused_configs() {
    let t = store();
    // Nothing is older than 90 days here: no warning.
    t.cmd()
        .arg("doctor")
        .assert()
        .success()
        .stdout(contains("ok   unused configs"));
    // Everything created before now and never used counts as unused when
    // the window is zero days.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    t.cmd()
        .args(["doctor", "--unused-days", "0"])
        .assert()
        .success()
        .stdout(contains("WARN unused configs"))
        .stdout(contains("2 not used by anyone for 0 days"));
}

#[test]
fn appends_from_many_processes_are_all_kept() {
    let t = store();
    let children: Vec<_> = (0..12)
        .map(|i| {
            t.std_cmd()
                .args(["token", "prod/stripe", "--as", &format!("worker-{i}")])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let list: serde_json::Value =
        serde_json::from_str(&t.stdout(&["list", "--json", "prod/"])).unwrap();
    assert_eq!(list[0]["connections"], 12);
}

#[test]
fn list_filters_keep_the_json_fields() {
    let t = store();
    t.add(
        "basic",
        "dev/db",
        &["username=app"],
        Some(("password", "pw-planted-3")),
    )
    .success();
    let names = |args: &[&str]| -> Vec<String> {
        let mut a = vec!["list", "--json"];
        a.extend_from_slice(args);
        let v: serde_json::Value = serde_json::from_str(&t.stdout(&a)).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                assert!(r.get("connections").is_some() && r.get("last_used").is_some());
                r["name"].as_str().unwrap().to_string()
            })
            .collect()
    };
    assert_eq!(names(&["--type", "api-key"]), vec!["prod/stripe"]);
    assert_eq!(names(&["--type", "basic"]), vec!["dev/db"]);
    assert_eq!(names(&["--type", "custom"]).len(), 3);
    assert_eq!(names(&["--type", "oauth2"]).len(), 0);
    assert_eq!(names(&["*/db"]), vec!["dev/db"]);
    assert_eq!(names(&["prod/"]), vec!["prod/stripe"]);
    assert_eq!(names(&["?dle"]), vec!["idle"]);
    assert_eq!(names(&["--status", "untested"]).len(), 3);
    assert_eq!(names(&["--status", "active"]).len(), 0);
    assert_eq!(names(&["--provider", "postgres"]).len(), 0);
    t.cmd()
        .args(["list", "--status", "sleepy"])
        .assert()
        .code(2)
        .stderr(contains("active, expired, error, untested"));
    t.cmd()
        .args(["list", "nomatch*"])
        .assert()
        .success()
        .stderr(contains("No config matches"));
}
