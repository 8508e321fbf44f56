//! add/list/show/edit/remove for every custom type, non-interactively, with
//! --json outputs parsed; import of the seed's JSON examples.

use crate::support::*;
use serde_json::Value;

#[test]
fn each_custom_type_round_trips() {
    let t = T::new();
    t.init();
    t.add(
        "none",
        "public/weather",
        &["test_url=https://weather.example/api"],
        None,
    )
    .success();
    t.add(
        "api-key",
        "stripe",
        &[
            "key_name=Authorization",
            "location=header",
            "prefix=Bearer ",
        ],
        Some(("api_key", "sk_live_planted_APIKEY_0001\n")),
    )
    .success();
    t.add(
        "bearer",
        "internal",
        &[],
        Some(("token", "eyJplanted.BEARER.0002")),
    )
    .success();
    t.add(
        "basic",
        "legacy",
        &["username=alice"],
        Some(("password", "pw-planted-BASIC-0003")),
    )
    .success();
    t.add(
        "oauth2",
        "custom-idp",
        &[
            "authorization_url=https://auth.example.com/authorize",
            "token_url=https://auth.example.com/token",
            "client_id=my-client",
            "scopes=read write profile",
            "auth_method=client_secret_post",
        ],
        Some(("client_secret", "cs-planted-OAUTH-0004")),
    )
    .success();
    t.add(
        "env",
        "app",
        &["LOG_LEVEL=debug"],
        Some(("DB_PASSWORD", "env-planted-0005")),
    )
    .success();

    let list: Value = serde_json::from_str(&t.stdout(&["list", "--json"])).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "app",
            "custom-idp",
            "internal",
            "legacy",
            "public/weather",
            "stripe"
        ]
    );
    let legacy = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "legacy")
        .unwrap();
    assert_eq!(legacy["account"], "alice");
    assert_eq!(legacy["type"], "basic_auth");
    assert_eq!(legacy["status"], "Untested");

    let table = t.stdout(&["list"]);
    assert!(table.contains("stripe") && table.contains("API Key") && table.contains("Basic Auth"));

    // show masks, --reveal reveals; --json is the seed's shape.
    let shown = t.stdout(&["show", "stripe"]);
    assert!(shown.contains("****0001"), "{shown}");
    assert!(!shown.contains("sk_live_planted_APIKEY_0001"));
    let json: Value = serde_json::from_str(&t.stdout(&["show", "stripe", "--json"])).unwrap();
    assert_eq!(json["type"], "api_key");
    assert_eq!(json["name"], "stripe");
    assert_eq!(json["config"]["api_key"], "****0001");
    assert_eq!(json["config"]["prefix"], "Bearer ");
    let json: Value =
        serde_json::from_str(&t.stdout(&["show", "stripe", "--json", "--reveal"])).unwrap();
    assert_eq!(json["config"]["api_key"], "sk_live_planted_APIKEY_0001");
    let bearer: Value = serde_json::from_str(&t.stdout(&["show", "internal", "--json"])).unwrap();
    assert_eq!(bearer["type"], "bearer_token");
    assert_eq!(bearer["config"]["header_name"], "Authorization");
    assert_eq!(bearer["config"]["prefix"], "Bearer ");
    let oauth: Value = serde_json::from_str(&t.stdout(&["show", "custom-idp", "--json"])).unwrap();
    assert_eq!(oauth["config"]["auth_method"], "client_secret_post");
    let none: Value =
        serde_json::from_str(&t.stdout(&["show", "public/weather", "--json"])).unwrap();
    assert_eq!(none["type"], "no_auth");

    // edit: change a secret and a plain field; rotated moves, test result clears.
    t.cmd()
        .args([
            "edit",
            "legacy",
            "--set",
            "username=bob",
            "--secret-stdin",
            "password",
        ])
        .write_stdin("pw-planted-BASIC-0003-new")
        .assert()
        .success();
    let json: Value =
        serde_json::from_str(&t.stdout(&["show", "legacy", "--json", "--reveal"])).unwrap();
    assert_eq!(json["config"]["username"], "bob");
    assert_eq!(json["config"]["password"], "pw-planted-BASIC-0003-new");
    t.cmd()
        .args(["edit", "stripe", "--unset", "prefix"])
        .assert()
        .success();
    let json: Value = serde_json::from_str(&t.stdout(&["show", "stripe", "--json"])).unwrap();
    assert!(json["config"].get("prefix").is_none());
    t.cmd()
        .args(["edit", "stripe", "--unset", "api_key"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("required"));

    // remove needs --yes without a terminal.
    t.cmd().args(["remove", "internal"]).assert().code(2);
    assert!(t.stdout(&["list"]).contains("internal"));
    t.cmd()
        .args(["remove", "internal", "--yes"])
        .assert()
        .success();
    assert!(!t.stdout(&["list"]).contains("internal"));
    t.cmd().args(["show", "internal"]).assert().code(3);
    assert!(!t.store.join("configs/internal.age").exists());
    t.cmd()
        .args(["remove", "public/weather", "-y"])
        .assert()
        .success();
    assert!(
        !t.store.join("configs/public").exists(),
        "empty group directory is pruned"
    );

    // The audit trail recorded all of it and is intact.
    let log: Value = serde_json::from_str(&t.stdout(&["log", "--json"])).unwrap();
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    for a in ["init", "add", "update", "reveal", "remove"] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    t.cmd().args(["log", "--verify"]).assert().success();
    let only: Value = serde_json::from_str(&t.stdout(&["log", "legacy", "--json"])).unwrap();
    assert!(only
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["config"] == "legacy"));
}

#[test]
fn import_seed_examples() {
    let t = T::new();
    t.init();
    // The seed's three examples, with its `// Optional prefix` comment removed (JSON has none).
    let seed = r#"[
      {"type": "no_auth", "name": "Public Weather API"},
      {"type": "api_key", "name": "Stripe API",
       "config": {"api_key": "sk_live_seed_planted_1", "key_name": "Authorization", "location": "header", "prefix": "Bearer "}},
      {"type": "bearer_token", "name": "Internal Service Auth",
       "config": {"token": "eyJhbGciOiJIUzI1NiIs_seed_planted", "header_name": "Authorization", "prefix": "Bearer "}}
    ]"#;
    let file = t.dir.path().join("seed.json");
    std::fs::write(&file, seed).unwrap();
    t.cmd().arg("import").arg(&file).assert().success();
    let json: Value =
        serde_json::from_str(&t.stdout(&["show", "Stripe API", "--json", "--reveal"])).unwrap();
    assert_eq!(json["type"], "api_key");
    assert_eq!(json["config"]["api_key"], "sk_live_seed_planted_1");
    assert_eq!(json["config"]["location"], "header");
    let json: Value =
        serde_json::from_str(&t.stdout(&["show", "Public Weather API", "--json"])).unwrap();
    assert_eq!(json["type"], "no_auth");
    assert!(json.get("config").is_none());

    // show --json --reveal | import round-trips into another store.
    let t2 = T::new();
    t2.init();
    let out = t.stdout(&["show", "Internal Service Auth", "--json", "--reveal"]);
    t2.cmd()
        .args(["import", "-"])
        .write_stdin(out)
        .assert()
        .success();
    let json: Value =
        serde_json::from_str(&t2.stdout(&["show", "Internal Service Auth", "--json", "--reveal"]))
            .unwrap();
    assert_eq!(json["config"]["token"], "eyJhbGciOiJIUzI1NiIs_seed_planted");

    // Importing again is refused as a whole; --force replaces.
    t.cmd()
        .arg("import")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("already exists"));
    t.cmd()
        .arg("import")
        .arg(&file)
        .arg("--force")
        .assert()
        .success();

    // One bad entry: nothing from the file is saved.
    let bad = r#"[{"type": "bearer_token", "name": "ok-one", "config": {"token": "t"}},
                  {"type": "api_key", "name": "bad-one", "config": {"api_key": "k", "location": "body"}}]"#;
    std::fs::write(&file, bad).unwrap();
    t.cmd()
        .arg("import")
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("location"));
    t.cmd().args(["show", "ok-one"]).assert().code(3);
}
