//! Issue 18, item 7: one config file put back from an older authentic copy
//! (a backup, a snapshot) on a store without team sync. The copy opens and
//! authenticates (same store, same name, same key); the keyed, anchored
//! audit trail records the version each write gave the config, so `doctor`
//! and `log --verify` see the file is older than what was written.

use crate::support::*;

fn edit(t: &T, value: &str) {
    t.cmd()
        .args(["edit", "svc", "--secret-stdin", "api_key"])
        .write_stdin(value.to_string())
        .assert()
        .success();
}

fn verify(t: &T) -> (Option<i32>, String) {
    let out = t.cmd().args(["log", "--verify"]).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

fn doctor_trail(t: &T) -> serde_json::Value {
    let out = t.cmd().args(["doctor", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "audit trail")
        .cloned()
        .unwrap_or_else(|| panic!("no audit trail check in {v}"))
}

#[test]
fn an_older_authentic_copy_of_one_config_file_is_detected() {
    let t = T::new();
    t.init();
    t.add(
        "api-key",
        "svc",
        &[],
        Some(("api_key", "old-key-revoked-1")),
    )
    .success();
    t.add("api-key", "other", &[], Some(("api_key", "other-key-2")))
        .success();
    let file = t.store.join("configs/svc.age");
    let old = std::fs::read(&file).unwrap();
    // The key is rotated because the old one leaked.
    edit(&t, "new-key-current-3");
    assert_eq!(verify(&t).0, Some(0), "{}", verify(&t).1);
    assert_eq!(doctor_trail(&t)["ok"], true);
    // An older authentic copy put back: it still opens and authenticates,
    // and would hand out the leaked key.
    std::fs::write(&file, &old).unwrap();
    let got = t.export_json(&["svc".into()]);
    assert_eq!(got["SVC_API_KEY"], "old-key-revoked-1");
    let (code, text) = verify(&t);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("'svc' is version 1 but version 2 was written"),
        "{text}"
    );
    assert!(!text.contains("'other'"), "{text}");
    let d = doctor_trail(&t);
    assert_eq!(d["ok"], false, "{d}");
    assert!(d["detail"].as_str().unwrap().contains("older copy"), "{d}");
    // A write on top of the rolled-back copy does not hide it.
    edit(&t, "written-on-the-old-copy-4");
    let (code, text) = verify(&t);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("an older copy of its file had been put back"),
        "{text}"
    );
}

#[test]
fn removal_and_import_keep_versions_consistent() {
    let t = T::new();
    t.init();
    t.add("api-key", "svc", &[], Some(("api_key", "k1")))
        .success();
    edit(&t, "k2");
    edit(&t, "k3");
    // Removed and added again: its versions start afresh, no false alarm.
    t.cmd().args(["remove", "svc", "--yes"]).assert().success();
    t.add("api-key", "svc", &[], Some(("api_key", "k4")))
        .success();
    // Imported over an existing config: the version goes on.
    t.cmd()
        .args(["import", "-", "--force"])
        .write_stdin(
            serde_json::json!({"type": "api_key", "name": "svc", "config": {"api_key": "k5"}})
                .to_string(),
        )
        .assert()
        .success();
    edit(&t, "k6");
    let (code, text) = verify(&t);
    assert_eq!(code, Some(0), "{text}");
}
