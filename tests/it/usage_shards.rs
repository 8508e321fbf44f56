//! What `show` needs of the usage log (one config's consumers) comes from
//! that config's shard of the folded log and the short log of recent
//! hand-outs, not from every hand-out ever recorded (docs/ARCHITECTURE.md,
//! "Usage").

use crate::support::*;

fn consumers(t: &T, name: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&t.stdout(&["show", name, "--json"])).unwrap();
    v["authcfg"]["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn show_reads_one_shard_and_the_short_log_not_every_hand_out() {
    let t = T::new();
    t.init();
    let names: Vec<String> = (0..40).map(|i| format!("svc/c{i:02}")).collect();
    let items: Vec<String> = names
        .iter()
        .map(|n| format!(r#"{{"type":"bearer_token","name":"{n}","config":{{"token":"t-{n}"}}}}"#))
        .collect();
    let file = t.dir.path().join("seed.json");
    std::fs::write(&file, format!("[{}]", items.join(","))).unwrap();
    t.cmd().arg("import").arg(&file).assert().success();
    // 40 jobs each take all 40 configs: 1,600 hand-outs, 40 per config.
    for j in 0..40 {
        t.cmd()
            .arg("export")
            .args(&names)
            .args(["--as", &format!("job-{j:02}")])
            .assert()
            .success();
    }
    let log = t.store.join("usage.log");
    let before = std::fs::metadata(&log).unwrap().len();
    assert!(before > 64 * 1024, "{before}");
    // The first reader folds the log into shards; what it shows is whole.
    let mut want: Vec<String> = (0..40).map(|j| format!("job-{j:02}")).collect();
    let mut got = consumers(&t, "svc/c07");
    got.sort();
    assert_eq!(got, want);
    assert!(
        std::fs::metadata(&log).unwrap().len() < 1024,
        "the log was folded"
    );
    let shards: Vec<_> = std::fs::read_dir(t.store.join("usage"))
        .unwrap()
        .flatten()
        .collect();
    assert!(shards.len() > 1, "{} shards", shards.len());
    // A shard holds its own configs only: far less than the log held.
    let largest = shards
        .iter()
        .map(|e| e.metadata().unwrap().len())
        .max()
        .unwrap();
    assert!(largest < before / 4, "{largest} of {before}");
    // New hand-outs after the fold are seen, newest first.
    t.cmd()
        .args(["export", "svc/c07", "--as", "job-new"])
        .assert()
        .success();
    let got = consumers(&t, "svc/c07");
    assert_eq!(got[0], "job-new");
    want.push("job-new".into());
    let mut all = got.clone();
    all.sort();
    want.sort();
    assert_eq!(all, want);
    // `list` and `doctor` see the folded uses too.
    let list: serde_json::Value = serde_json::from_str(&t.stdout(&["list", "--json"])).unwrap();
    let c07 = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "svc/c07")
        .unwrap()
        .clone();
    assert!(c07.to_string().contains("job-new"), "{c07}");
    // A removed config's uses go with the next fold of its shard.
    t.cmd()
        .args(["remove", "--yes", "--force", "svc/c07"])
        .assert()
        .success();
    t.add("bearer", "svc/c07", &[], Some(("token", "x")))
        .success();
    for j in 0..40 {
        t.cmd()
            .arg("export")
            .args(&names[..20])
            .args(["--as", &format!("job-{j:02}")])
            .assert()
            .success();
    }
    let _ = consumers(&t, "svc/c01");
    let got = consumers(&t, "svc/c07");
    assert_eq!(got.len(), 40, "{got:?}");
    assert!(!got.contains(&"job-new".to_string()));
}
