//! The audit trail on a full disk and over years: appends are all or
//! nothing, a torn record is cut off and noted, the trail is sealed into
//! chained segments and old ones are dropped behind a checkpoint
//! (docs/ARCHITECTURE.md, "Audit trail").

use crate::support::*;
use predicates::str::contains;
use std::path::{Path, PathBuf};

/// A tmpfs of `size` mounted at a new directory, unmounted on drop.
/// Fills the file system of `dir` with `filler` until at most `left`
/// bytes are free.
fn fill(filler: &Path, left: u64) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(filler)
        .unwrap();
    let chunk = vec![0u8; 4096];
    loop {
        let free = free_bytes(filler.parent().unwrap());
        if free <= left {
            return;
        }
        let n = ((free - left) as usize).min(chunk.len());
        if f.write_all(&chunk[..n]).is_err() {
            return;
        }
    }
}

fn free_bytes(dir: &Path) -> u64 {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).unwrap();
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::statvfs(c.as_ptr(), &mut s) }, 0);
    s.f_bavail as u64 * s.f_frsize as u64
}

fn verify_passes(t: &T) {
    let out = t.cmd().args(["log", "--verify"]).output().unwrap();
    assert!(
        out.status.success(),
        "log --verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let doctor: serde_json::Value =
        serde_json::from_slice(&t.cmd().args(["doctor", "--json"]).output().unwrap().stdout)
            .unwrap();
    let audit = doctor
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "audit trail")
        .expect("doctor checks the audit trail");
    assert_eq!(audit["status"], "ok", "{audit}");
}

#[test]
fn a_full_disk_never_breaks_the_trail_or_loses_an_acknowledged_config() {
    let mut t = T::new();
    let mnt = t.dir.path().join("disk");
    let _fs = Tmpfs::mount(&mnt, "3m");
    t.store = mnt.join("store");
    t.init();
    let filler = mnt.join("filler");
    let mut acknowledged: Vec<(String, String)> = vec![];
    let mut failed = 0;
    // Each round leaves a little less room, so the disk fills at a
    // different step of the write each time (the config file, the audit
    // append, the index), for adds and for imports.
    for round in 0..24u64 {
        fill(&filler, 24 * 1024 - round * 1024);
        for i in 0..6 {
            let name = format!("r{round}/c{i}");
            let value = format!("v-{round}-{i}-{}", "s".repeat(200));
            let ok = t
                .cmd()
                .args(["add", "custom", "bearer", "--name", &name])
                .args(["--secret-stdin", "token"])
                .write_stdin(value.clone())
                .output()
                .unwrap();
            if ok.status.success() {
                acknowledged.push((name, value));
            } else {
                failed += 1;
                let err = String::from_utf8_lossy(&ok.stderr);
                assert!(!err.contains("panicked"), "{err}");
                // A full disk is a failed write, never a "cannot read".
                assert!(!err.contains("cannot read"), "{err}");
            }
        }
        let items: Vec<String> = (0..10)
            .map(|i| {
                format!(
                    r#"{{"type":"bearer_token","name":"imp{round}/c{i}","config":{{"token":"w-{round}-{i}-{}"}}}}"#,
                    "t".repeat(200)
                )
            })
            .collect();
        let file = t.dir.path().join(format!("imp{round}.json"));
        std::fs::write(&file, format!("[{}]", items.join(","))).unwrap();
        if t.cmd()
            .arg("import")
            .arg(&file)
            .output()
            .unwrap()
            .status
            .success()
        {
            for i in 0..10 {
                acknowledged.push((
                    format!("imp{round}/c{i}"),
                    format!("w-{round}-{i}-{}", "t".repeat(200)),
                ));
            }
        } else {
            failed += 1;
        }
        // Space comes back: the trail verifies and every acknowledged
        // config reads back with its value.
        std::fs::remove_file(&filler).unwrap();
        verify_passes(&t);
    }
    assert!(failed > 0, "the disk never filled");
    assert!(!acknowledged.is_empty(), "nothing was written");
    let names: Vec<String> = acknowledged.iter().map(|(n, _)| n.clone()).collect();
    let vars = t.export_json(&names);
    for (n, v) in &acknowledged {
        let var = format!("{}_TOKEN", n.replace('/', "_").to_uppercase());
        assert_eq!(vars[&var], v.as_str(), "{n}");
    }
    // The trail goes on after the full disk, one chain without a restart.
    t.add("bearer", "after", &[], Some(("token", "x")))
        .success();
    verify_passes(&t);
    let log: Vec<serde_json::Value> = serde_json::from_str(&t.stdout(&["log", "--json"])).unwrap();
    for (i, r) in log.iter().enumerate() {
        assert_eq!(r["seq"], i as u64 + 1, "{r}");
    }
}

#[test]
fn a_torn_record_at_the_end_is_cut_off_and_the_repair_noted() {
    let t = T::new();
    t.init();
    for i in 0..3 {
        t.add("bearer", &format!("c{i}"), &[], Some(("token", "x")))
            .success();
    }
    let trail = t.store.join("audit.jsonl");
    let whole = std::fs::read(&trail).unwrap();
    // What a write cut short leaves: the start of a record, no newline.
    let torn = br#"{"seq":9,"time":"2026-01-01T00:00:00Z","action":"add","con"#;
    let mut bytes = whole.clone();
    bytes.extend_from_slice(torn);
    std::fs::write(&trail, &bytes).unwrap();
    // `log --verify` cuts it off (the store is writable), notes it, passes.
    verify_passes(&t);
    let after = std::fs::read(&trail).unwrap();
    assert!(after.starts_with(&whole), "no whole record was touched");
    let log: Vec<serde_json::Value> = serde_json::from_str(&t.stdout(&["log", "--json"])).unwrap();
    let repair = log
        .iter()
        .find(|r| r["action"] == "audit repair")
        .expect("the repair is in the trail");
    assert!(
        repair["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("{} bytes", torn.len())),
        "{repair}"
    );
    // The same on the next write, with no verify in between.
    let mut bytes = std::fs::read(&trail).unwrap();
    bytes.extend_from_slice(torn);
    std::fs::write(&trail, &bytes).unwrap();
    t.add("bearer", "c9", &[], Some(("token", "x"))).success();
    verify_passes(&t);
    let log: Vec<serde_json::Value> = serde_json::from_str(&t.stdout(&["log", "--json"])).unwrap();
    assert_eq!(
        log.iter().filter(|r| r["action"] == "audit repair").count(),
        2
    );
    // A complete but edited last record is not "torn": it is reported.
    let text = std::fs::read_to_string(&trail).unwrap();
    let edited = text.replacen("\"c9\"", "\"cX\"", 1);
    assert_ne!(text, edited);
    std::fs::write(&trail, edited).unwrap();
    t.cmd()
        .args(["log", "--verify"])
        .assert()
        .code(1)
        .stdout(contains("MAC does not match"));
}

/// Runs `n` audited commands (one record each).
fn records(t: &T, n: usize) {
    for _ in 0..n {
        t.cmd().args(["show", "c0", "--reveal"]).assert().success();
    }
}

fn segments(t: &T) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(t.store.join("audit"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn the_trail_is_sealed_into_chained_segments_and_retention_keeps_it_bounded() {
    let mut t = T::new();
    // 32K kept: segments of 4K (about a dozen records each).
    t.env("AUTHCFG_AUDIT_KEEP", "32K");
    t.init();
    t.add("bearer", "c0", &[], Some(("token", "x"))).success();
    records(&t, 60);
    let segs = segments(&t);
    assert!(segs.len() >= 3, "sealed segments: {segs:?}");
    verify_passes(&t);
    // Every record is there, in one chain through the segments.
    let log: Vec<serde_json::Value> = serde_json::from_str(&t.stdout(&["log", "--json"])).unwrap();
    assert!(log.len() > 60);
    assert!(log.iter().any(|r| r["action"] == "audit checkpoint"));

    // Retention: many more records, the trail stays bounded and the
    // oldest segments are gone behind a checkpoint that verifies.
    records(&t, 200);
    let segs = segments(&t);
    let total: u64 = segs
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(total <= 32 * 1024, "kept {total} bytes in {segs:?}");
    let first = segs[0].file_stem().unwrap().to_str().unwrap().to_string();
    assert_ne!(first, "000001", "the oldest segments were dropped");
    verify_passes(&t);
    let doctor = t.stdout(&["doctor"]);
    assert!(doctor.contains("audit retention"), "{doctor}");
    let log: Vec<serde_json::Value> = serde_json::from_str(&t.stdout(&["log", "--json"])).unwrap();
    assert!(log[0]["seq"].as_u64().unwrap() > 1, "{}", log[0]);

    let saved: Vec<(PathBuf, Vec<u8>)> = t
        .store_files()
        .into_iter()
        .filter(|(p, _)| p.starts_with(t.store.join("audit")) || p.ends_with("audit.jsonl"))
        .collect();
    let restore = || {
        for (p, _) in t.store_files() {
            if p.starts_with(t.store.join("audit")) {
                std::fs::remove_file(p).unwrap();
            }
        }
        for (p, b) in &saved {
            std::fs::write(p, b).unwrap();
            std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o600))
                .unwrap();
        }
        verify_passes(&t);
    };
    let segs = segments(&t);
    assert!(segs.len() >= 3);

    // The oldest segment kept, removed.
    std::fs::remove_file(&segs[0]).unwrap();
    t.verify_fails("is missing");
    restore();
    // One in the middle, removed.
    std::fs::remove_file(&segs[1]).unwrap();
    t.verify_fails("is missing");
    restore();
    // The newest sealed one, removed.
    std::fs::remove_file(segs.last().unwrap()).unwrap();
    t.verify_fails("is missing");
    restore();
    // Every sealed segment, removed.
    for s in &segs {
        std::fs::remove_file(s).unwrap();
    }
    t.verify_fails("is missing");
    restore();
    // A record of an old segment, altered.
    let text = std::fs::read_to_string(&segs[1]).unwrap();
    std::fs::write(&segs[1], text.replacen("\"c0\"", "\"cX\"", 1)).unwrap();
    t.verify_fails("MAC does not match");
    restore();
    // The last record of an old segment, removed (the chain is relinked
    // by the checkpoint after it only under the key).
    let text = std::fs::read_to_string(&segs[1]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(
        &segs[1],
        lines[..lines.len() - 1]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    )
    .unwrap();
    t.verify_fails("changed after it was sealed");
    restore();
    // The tail of the live file, cut.
    let live = t.store.join("audit.jsonl");
    let text = std::fs::read_to_string(&live).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(
        &live,
        lines[..lines.len() - 1]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    )
    .unwrap();
    t.verify_fails("cut off");
    restore();
}

#[test]
fn a_bad_retention_setting_is_named_by_doctor() {
    let mut t = T::new();
    t.init();
    t.env("AUTHCFG_AUDIT_KEEP", "lots");
    t.cmd()
        .arg("doctor")
        .assert()
        .code(1)
        .stdout(contains("AUTHCFG_AUDIT_KEEP=lots"));
}
