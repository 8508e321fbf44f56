//! Concurrent writers: every config lands, readable, with no temp files left.

use crate::support::*;

#[test]
fn eight_processes_add_twenty_five_each() {
    let t = T::new();
    t.init();
    std::thread::scope(|s| {
        for p in 0..8 {
            let t = &t;
            s.spawn(move || {
                for i in 0..25 {
                    let name = format!("p{p}/c{i:02}");
                    let value = format!("v-{p}-{i}");
                    t.add("bearer", &name, &[], Some(("token", &value)))
                        .success();
                }
            });
        }
    });
    // A second wave: 8 `import` processes of 25 configs each, at once.
    let files: Vec<_> = (0..8)
        .map(|p| {
            let items: Vec<String> = (0..25)
                .map(|i| format!(r#"{{"type":"bearer_token","name":"imp{p}/c{i:02}","config":{{"token":"w-{p}-{i}"}}}}"#))
                .collect();
            let f = t.dir.path().join(format!("imp{p}.json"));
            std::fs::write(&f, format!("[{}]", items.join(","))).unwrap();
            f
        })
        .collect();
    let children: Vec<_> = files
        .iter()
        .map(|f| {
            t.std_cmd()
                .arg("import")
                .arg(f)
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }

    let list: serde_json::Value = serde_json::from_str(&t.stdout(&["list", "--json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 400);
    // Every value reads back (one export call decrypts each named config).
    let mut names = vec![];
    let mut expected = vec![];
    for p in 0..8 {
        for i in 0..25 {
            names.push(format!("p{p}/c{i:02}"));
            expected.push(format!("v-{p}-{i}"));
            names.push(format!("imp{p}/c{i:02}"));
            expected.push(format!("w-{p}-{i}"));
        }
    }
    let vars = t.export_json(&names);
    for (n, v) in names.iter().zip(&expected) {
        let var = format!("{}_TOKEN", n.replace('/', "_").to_uppercase());
        assert_eq!(vars[&var], v.as_str(), "{n}");
    }
    let leftovers: Vec<_> = t
        .store_files()
        .into_iter()
        .filter(|(p, _)| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".tmp-")
        })
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    assert!(!t.store.join("journal.toml").exists());
    t.cmd().args(["log", "--verify"]).assert().success();
    let log: serde_json::Value = serde_json::from_str(&t.stdout(&["log", "--json"])).unwrap();
    let adds = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "add" || r["action"] == "import")
        .count();
    assert_eq!(adds, 400, "every write has its audit record, chain intact");
}

/// A writer that meets a running whole-store change waits for it, says
/// whom it waits for after a second, and then succeeds.
#[test]
fn a_writer_waits_for_a_running_rotation_and_says_so() {
    let t = T::bare();
    t.init_with_key_file();
    t.add("bearer", "a", &[], Some(("token", "x"))).success();
    let held = t.dir.path().join("held");
    let mut rotation = t
        .std_cmd()
        .args(["rotate", "--master-key"])
        .env("AUTHCFG_FAULT_HOLD", format!("2:{}", held.display()))
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Bounded wait for the rotation to reach its second step (lock held).
    wait_for_file(&held, "the rotation never got going");
    let mut writer = t
        .std_cmd()
        .args(["add", "custom", "bearer", "--name", "b", "--set", "token=y"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read the writer's stderr until it says it waits; then let the rotation go.
    let (mut err, said) = until_waiting(&mut writer);
    assert!(said.contains("rotating the master key"), "{said}");
    std::fs::remove_file(&held).unwrap();
    assert!(rotation.wait().unwrap().success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    assert!(writer.wait().unwrap().success(), "{said}{rest}");
    // Both landed: the new key reads both configs.
    let v = t.export_json(&["a".into(), "b".into()]);
    assert_eq!(
        (v["A_TOKEN"].as_str(), v["B_TOKEN"].as_str()),
        (Some("x"), Some("y"))
    );
}

/// Someone who can write the store directory puts another store (one the
/// same key opens) in its place while a writer waits for the lock: the
/// writer refuses it, and nothing is written to either store
/// (docs/SECURITY.md, "Key services": a red-team finding, there with a
/// cached custody key).
#[test]
fn a_store_swapped_in_while_a_writer_waits_is_refused() {
    let t = T::new();
    t.init();
    t.add("bearer", "a", &[], Some(("token", "x"))).success();
    let other = t.dir.path().join("other");
    t.cmd()
        .env("AUTHCFG_HOME", &other)
        .arg("init")
        .assert()
        .success();
    let held = t.dir.path().join("held");
    let gate = t.dir.path().join("gate");
    std::fs::write(&gate, "").unwrap();
    // The attacker holds the writer lock (bounded: at most 60 s).
    let mut holder = std::process::Command::new("flock")
        .arg(t.store.join(".lock"))
        .args([
            "sh",
            "-c",
            "touch \"$1\"; i=0; while [ -e \"$2\" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done",
            "sh",
        ])
        .arg(&held)
        .arg(&gate)
        .spawn()
        .unwrap();
    wait_for_file(&held, "flock never held");
    let mut writer = t
        .std_cmd()
        .args(["add", "custom", "bearer", "--name", "b", "--set", "token=y"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (mut err, said) = until_waiting(&mut writer);
    // The swap: everything but the lock file.
    for e in std::fs::read_dir(&t.store).unwrap() {
        let e = e.unwrap();
        if e.file_name() == ".lock" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            std::fs::remove_dir_all(e.path()).unwrap();
        } else {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    for e in std::fs::read_dir(&other).unwrap() {
        let e = e.unwrap();
        if e.file_name() == ".lock" {
            continue;
        }
        let dest = t.store.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
    std::fs::remove_file(&gate).unwrap();
    assert!(holder.wait().unwrap().success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut err, &mut rest).unwrap();
    let status = writer.wait().unwrap();
    assert!(!status.success(), "the write landed: {said}{rest}");
    assert!(
        rest.contains("now belongs to another store"),
        "{said}{rest}"
    );
    // Nothing was written into the store put in its place.
    let configs: Vec<_> = std::fs::read_dir(t.store.join("configs"))
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(configs.is_empty(), "{configs:?}");
}

/// Bounded wait (30 s) for a process to create `file`.
fn wait_for_file(file: &std::path::Path, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !file.exists() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Reads a writer's stderr until it says it waits for the lock: the rest
/// of its stderr, and what it said so far.
fn until_waiting(
    writer: &mut std::process::Child,
) -> (std::io::BufReader<std::process::ChildStderr>, String) {
    use std::io::BufRead;
    let mut err = std::io::BufReader::new(writer.stderr.take().unwrap());
    let mut said = String::new();
    let mut line = String::new();
    while err.read_line(&mut line).unwrap() > 0 {
        said.push_str(&line);
        if line.contains("waiting for another authcfg process") {
            break;
        }
        line.clear();
    }
    (err, said)
}
