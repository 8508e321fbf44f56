//! A full disk during add, edit, remove, import and master-key rotation, on a real
//! small tmpfs filled to a few pages short of full at each try: a command
//! that exited non-zero changed nothing, also after space is freed and the
//! next command has run; one that exited 0 kept its change; every config
//! acknowledged before is intact.

use crate::support::*;
use std::collections::BTreeMap;

fn token_var(name: &str) -> String {
    format!("{}_TOKEN", name.replace('/', "_").to_uppercase())
}

/// The token of `name` as the store has it now, or None when it is absent.
fn value_of(t: &T, name: &str) -> Option<String> {
    let o = t
        .cmd()
        .args(["export", name, "--format", "json"])
        .output()
        .unwrap();
    if o.status.code() == Some(3) {
        return None;
    }
    assert!(
        o.status.success(),
        "export {name}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    Some(v[token_var(name)].as_str().unwrap().to_string())
}

#[test]
fn a_write_that_failed_on_a_full_disk_is_never_applied_later() {
    let mut t = T::bare();
    let tmpfs = Tmpfs::mount(&t.dir.path().join("disk"), "1m");
    t.store = tmpfs.0.join("store");
    // The key lives off the full disk; the store on it.
    let keyfile = t.dir.path().join("master.key");
    t.cmd()
        .args(["init", "--identity-file"])
        .arg(&keyfile)
        .assert()
        .success();
    let mut model: BTreeMap<String, String> = BTreeMap::new();
    let items: Vec<String> = (0..12)
        .map(|i| {
            model.insert(format!("c/{i:02}"), format!("v{i}"));
            format!(r#"{{"type":"bearer_token","name":"c/{i:02}","config":{{"token":"v{i}"}}}}"#)
        })
        .collect();
    t.cmd()
        .args(["import", "-"])
        .write_stdin(format!("[{}]", items.join(",")))
        .assert()
        .success();
    let slacks: Vec<u64> = (0..12).map(|p| p * 4096).collect();
    // (operation, failed, succeeded, of which the index was left behind)
    let mut tally: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut applied_later = vec![];
    let mut half_way = 0;
    let mut n = 0;
    for slack in slacks {
        for op in ["add", "edit", "remove", "import", "rotate"] {
            n += 1;
            let names: Vec<String> = model.keys().cloned().collect();
            let some = names[n % names.len()].clone();
            let mut c = t.cmd();
            let (touched, new): (Option<String>, Option<String>) = match op {
                "add" => {
                    let name = format!("n/{n}");
                    let v = format!("add-{n}");
                    c.args(["add", "custom", "bearer", "--name", &name])
                        .args(["--secret-stdin", "token"])
                        .write_stdin(v.clone());
                    (Some(name), Some(v))
                }
                "edit" => {
                    let v = format!("edit-{n}");
                    c.args(["edit", &some, "--secret-stdin", "token"])
                        .write_stdin(v.clone());
                    (Some(some), Some(v))
                }
                "remove" => {
                    c.args(["remove", "--yes", &some]);
                    (Some(some), None)
                }
                "import" => {
                    // Two configs, all or nothing: the second is checked
                    // against the first below.
                    let v = format!("imp-{n}");
                    c.args(["import", "-"]).write_stdin(format!(
                        r#"[{{"type":"bearer_token","name":"i/{n}a","config":{{"token":"{v}"}}}},{{"type":"bearer_token","name":"i/{n}b","config":{{"token":"{v}"}}}}]"#
                    ));
                    (Some(format!("i/{n}a")), Some(v))
                }
                _ => {
                    c.args(["rotate", "--master-key"]);
                    (None, None)
                }
            };
            tmpfs.fill(slack);
            let out = c.output().unwrap();
            tmpfs.free();
            let ok = out.status.success();
            let e = tally.entry(op).or_default();
            if ok {
                e.1 += 1;
                // Done, with the index left for the next command.
                if t.store.join("journal").exists() {
                    e.2 += 1;
                }
            } else {
                e.0 += 1;
                let err = String::from_utf8_lossy(&out.stderr);
                assert_eq!(out.status.code(), Some(1), "{op} at slack {slack}: {err}");
                eprintln!(
                    "{op} at slack {slack}: {}",
                    err.lines().next().unwrap_or("")
                );
            }
            // The next command, with space again: it must not roll a failed
            // write forward.
            let l = t.cmd().arg("list").output().unwrap();
            assert!(
                l.status.success(),
                "{op} at slack {slack}: list: {}",
                String::from_utf8_lossy(&l.stderr)
            );
            if let Some(name) = touched {
                let now = value_of(&t, &name);
                let want = if ok { new } else { model.get(&name).cloned() };
                if now != want {
                    applied_later.push(format!(
                        "{op} of '{name}' at slack {slack} exited {:?} ({}), and now it holds {now:?}",
                        out.status.code(),
                        String::from_utf8_lossy(&out.stderr).trim()
                    ));
                }
                if op == "import" {
                    let b = format!("i/{n}b");
                    let other = value_of(&t, &b);
                    if other != now {
                        applied_later.push(format!(
                            "import at slack {slack}: half applied: {now:?} / {other:?}"
                        ));
                    }
                    if let Some(v) = &other {
                        model.insert(b, v.clone());
                    }
                }
                match now {
                    Some(v) => model.insert(name, v),
                    None => model.remove(&name),
                };
            } else if !ok {
                // A rotation cut short by the disk says it will be
                // completed: reads go on, the next write completes it.
                let err = String::from_utf8_lossy(&out.stderr);
                if t.store.join("admin-journal").exists() {
                    assert!(err.contains("the next change completes it"), "{err}");
                    half_way += 1;
                }
                t.add("bearer", &format!("w/{n}"), &[], Some(("token", "w")))
                    .success();
                model.insert(format!("w/{n}"), "w".into());
                assert!(!t.store.join("admin-journal").exists());
            }
            // Every acknowledged config is intact.
            let names: Vec<String> = model.keys().cloned().collect();
            let vars = t.export_json(&names);
            for (k, v) in &model {
                assert_eq!(
                    vars[token_var(k)],
                    v.as_str(),
                    "after {op} at slack {slack}: '{k}'"
                );
            }
        }
    }
    eprintln!(
        "full disk: (failed, succeeded, of which the index was left to the next command) per operation: {tally:?}; rotations stopped half way and completed by the next write: {half_way}; {} outcomes other than the exit said",
        applied_later.len()
    );
    assert!(applied_later.is_empty(), "{}", applied_later.join("\n"));
    // Each operation met the full disk at least once, and got through once.
    for (op, (failed, succeeded, _)) in &tally {
        assert!(
            *failed > 0 && *succeeded > 0,
            "{op}: {failed} failed, {succeeded} succeeded"
        );
    }
}
