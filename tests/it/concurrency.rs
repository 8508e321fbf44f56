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
