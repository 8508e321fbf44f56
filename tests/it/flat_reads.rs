//! Reads that stay flat: what `show` needs of the usage log (one config's
//! consumers) comes from that config's shard of the folded log and the
//! short log of recent hand-outs, not from every hand-out ever recorded
//! (docs/ARCHITECTURE.md, "Usage"); `doctor` does not decrypt again a file
//! whose exact bytes this key verified under the same header, and still
//! finds every file that changed.

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

fn doctor_configs(t: &T) -> serde_json::Value {
    let out = t.cmd().args(["doctor", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "configs")
        .unwrap()
        .clone()
}

#[test]
fn doctor_skips_only_files_this_key_verified_under_this_header() {
    let mut t = T::new();
    t.env("XDG_STATE_HOME", t.home.join("state").to_str().unwrap());
    t.init();
    for n in ["a", "b"] {
        t.add("bearer", n, &[], Some(("token", &format!("tok-{n}"))))
            .success();
    }
    assert_eq!(doctor_configs(&t)["status"], "ok");
    let record = std::fs::read_dir(t.home.join("state/authcfg/verified"))
        .unwrap()
        .next()
        .expect("the verified files are recorded")
        .unwrap()
        .path();
    // Another config's file under this name: checked, and refused.
    let a = t.store.join("configs/a.age");
    let b = t.store.join("configs/b.age");
    let original = std::fs::read(&a).unwrap();
    std::fs::copy(&b, &a).unwrap();
    let c = doctor_configs(&t);
    assert_eq!(c["status"], "fail", "{c}");
    std::fs::write(&a, &original).unwrap();
    assert_eq!(doctor_configs(&t)["status"], "ok");
    // A forged record is no record: everything is checked.
    let mut forged = std::fs::read(&record).unwrap();
    let n = forged.len();
    forged[n - 1] ^= 1;
    std::fs::write(&record, &forged).unwrap();
    std::fs::copy(&b, &a).unwrap();
    assert_eq!(doctor_configs(&t)["status"], "fail");
    std::fs::write(&a, &original).unwrap();
    // A header change (a recipient removed: new store keys) voids the
    // record: a file put back from before the change is decrypted again,
    // and refused (its MAC is under the old keys).
    let (_, member) = new_identity();
    t.cmd()
        .args(["recipients", "add", &member, "--label", "bob"])
        .assert()
        .success();
    assert_eq!(doctor_configs(&t)["status"], "ok");
    let old_b = std::fs::read(&b).unwrap();
    t.cmd()
        .args(["recipients", "remove", "bob"])
        .assert()
        .success();
    std::fs::write(&b, &old_b).unwrap();
    let c = doctor_configs(&t);
    assert_eq!(c["status"], "fail", "{c}");
}
