//! Writers racing whole-store changes: four processes of mixed writes
//! (add, edit, remove, OAuth token refresh) while recipient changes and
//! master-key rotations run in a fifth. Every write must succeed and land,
//! and afterwards every config must open with exactly the intended keys,
//! checked file by file with Debian's `age -d`.

use crate::support::*;
use std::sync::atomic::{AtomicBool, Ordering};

const WRITERS: usize = 4;
const OPS: usize = 50;

fn identity_of(file: &std::path::Path) -> String {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap()
        .to_string()
}

fn opens(file: &std::path::Path, key_file: &std::path::Path) -> bool {
    std::process::Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(key_file)
        .arg(file)
        .output()
        .unwrap()
        .status
        .success()
}

#[test]
fn writers_race_recipient_changes_and_master_key_rotations() {
    let peer = Peer::start();
    let t = T::bare();
    let keyfile = t.init_with_key_file();
    let first_master = t.dir.path().join("first-master.key");
    std::fs::copy(&keyfile, &first_master).unwrap();
    let items: Vec<String> = (0..300)
        .map(|i| {
            format!(r#"{{"type":"bearer_token","name":"base/{i:03}","config":{{"token":"b{i}"}}}}"#)
        })
        .collect();
    t.cmd()
        .args(["import", "-"])
        .write_stdin(format!("[{}]", items.join(",")))
        .assert()
        .success();
    for w in 0..WRITERS {
        peer.add_robot(&t, &format!("robot{w}")).success();
    }
    let grants_before = peer.grants("client_credentials");
    let (mate_secret, mate_public) = new_identity();
    let mate_key = t.dir.path().join("mate.key");
    std::fs::write(&mate_key, &mate_secret).unwrap();

    let writers_done = AtomicBool::new(false);
    let started = std::time::Instant::now();
    let (failures, admin_ops, mate_present) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..WRITERS)
            .map(|w| {
                let t = &t;
                s.spawn(move || {
                    let mut failed = vec![];
                    for i in 0..OPS {
                        let block = i / 5;
                        let mut c = t.cmd();
                        match i % 5 {
                            0 | 1 => {
                                c.args([
                                    "add",
                                    "custom",
                                    "bearer",
                                    "--name",
                                    &format!("w{w}/c{i:02}"),
                                    "--secret-stdin",
                                    "token",
                                ])
                                .write_stdin(format!("v{w}-{i}"));
                            }
                            2 => {
                                c.args([
                                    "edit",
                                    &format!("w{w}/c{:02}", block * 5),
                                    "--set",
                                    "prefix=Edited ",
                                ]);
                            }
                            3 => {
                                c.args(["remove", "--yes", &format!("w{w}/c{:02}", block * 5 + 1)]);
                            }
                            _ => {
                                c.args(["refresh", "--force", &format!("robot{w}")]);
                            }
                        }
                        let o = c.output().unwrap();
                        if !o.status.success() {
                            failed.push(format!(
                                "writer {w} op {i}: {:?}: {}",
                                o.status,
                                String::from_utf8_lossy(&o.stderr)
                            ));
                        }
                    }
                    failed
                })
            })
            .collect();
        let admin = s.spawn(|| {
            // Whole-store changes, one after the other, while writers run.
            let ops = [
                "add", "rotate", "remove", "rotate", "add", "rotate", "remove", "add",
            ];
            let mut present = false;
            let mut done = 0;
            for op in ops {
                if writers_done.load(Ordering::SeqCst) && done >= 3 {
                    break;
                }
                let mut c = t.cmd();
                match op {
                    "add" => c.args(["recipients", "add", &mate_public, "--label", "mate"]),
                    "remove" => c.args(["recipients", "remove", "mate"]),
                    _ => c.args(["rotate", "--master-key"]),
                };
                let o = c.output().unwrap();
                assert!(
                    o.status.success(),
                    "admin {op}: {}",
                    String::from_utf8_lossy(&o.stderr)
                );
                match op {
                    "add" => present = true,
                    "remove" => present = false,
                    _ => {}
                }
                done += 1;
            }
            (done, present)
        });
        let mut failures = vec![];
        for h in handles {
            failures.extend(h.join().unwrap());
        }
        writers_done.store(true, Ordering::SeqCst);
        let (done, present) = admin.join().unwrap();
        (failures, done, present)
    });
    assert!(
        failures.is_empty(),
        "{} failed writes:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(admin_ops >= 3, "whole-store changes ran: {admin_ops}");
    eprintln!(
        "race: {} writes by {WRITERS} processes and {admin_ops} whole-store changes in {:.1} s, 0 failed",
        WRITERS * OPS,
        started.elapsed().as_secs_f64()
    );
    assert!(!t.store.join("admin-journal").exists() && !t.store.join("journal").exists());

    // Every write landed, with the values written.
    let list: serde_json::Value = serde_json::from_str(&t.stdout(&["list", "--json"])).unwrap();
    let names: std::collections::BTreeSet<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect();
    let mut expected: std::collections::BTreeSet<String> =
        (0..300).map(|i| format!("base/{i:03}")).collect();
    for w in 0..WRITERS {
        expected.insert(format!("robot{w}"));
        for b in 0..OPS / 5 {
            expected.insert(format!("w{w}/c{:02}", b * 5));
        }
    }
    assert_eq!(names, expected);
    let written: Vec<String> = (0..WRITERS)
        .flat_map(|w| (0..OPS / 5).map(move |b| format!("w{w}/c{:02}", b * 5)))
        .collect();
    let v = t.export_json(&written);
    for w in 0..WRITERS {
        for b in 0..OPS / 5 {
            let stem = format!("W{w}_C{:02}", b * 5);
            assert_eq!(v[format!("{stem}_TOKEN")], format!("v{w}-{}", b * 5));
            assert_eq!(v[format!("{stem}_PREFIX")], "Edited ");
        }
    }
    assert_eq!(
        peer.grants("client_credentials"),
        grants_before + (WRITERS * OPS / 5) as u64,
        "every refresh reached the provider once"
    );
    t.cmd().args(["log", "--verify"]).assert().success();

    // Exactly the intended keys open each file: the current master key,
    // the teammate only while it is a recipient, the first master key never.
    let master_now = t.dir.path().join("master-now.key");
    std::fs::write(&master_now, identity_of(&keyfile)).unwrap();
    let files: Vec<_> = t
        .store_files()
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| p.starts_with(t.store.join("configs")))
        .collect();
    assert_eq!(files.len(), expected.len());
    for f in &files {
        assert!(
            opens(f, &master_now),
            "{} does not open with the master key",
            f.display()
        );
        assert_eq!(
            opens(f, &mate_key),
            mate_present,
            "{}: teammate access",
            f.display()
        );
        assert!(
            !opens(f, &first_master),
            "{} opens with the rotated-away key",
            f.display()
        );
    }
}
