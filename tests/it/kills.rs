//! SIGKILL at random points across add, edit, remove, OAuth refresh,
//! master-key rotation and recipient changes: the next command completes
//! (or cleanly drops) the interrupted change (a master-key rotation: reads
//! go on with it under way, the next write completes it), and nothing else
//! is lost.
//! `AUTHCFG_TEST_KILL_POINTS` sets how many points (default 100; CI may run
//! fewer); the seed is printed so a failure can be replayed
//! (`AUTHCFG_TEST_KILL_SEED`).

use crate::support::*;
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn env_u64(k: &str) -> Option<u64> {
    std::env::var(k).ok().and_then(|v| v.parse().ok())
}

fn token_var(name: &str) -> String {
    format!("{}_TOKEN", name.replace('/', "_").to_uppercase())
}

#[test]
fn sigkill_at_random_points_loses_nothing() {
    let points = env_u64("AUTHCFG_TEST_KILL_POINTS").unwrap_or(100);
    let seed = env_u64("AUTHCFG_TEST_KILL_SEED").unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1
    });
    eprintln!("kill test: {points} points, seed {seed}");
    let mut rng = Rng(seed);
    let peer = Peer::start();
    let t = T::bare();
    t.init_with_key_file();
    let n0 = 60;
    let items: Vec<String> = (0..n0)
        .map(|i| {
            format!(r#"{{"type":"bearer_token","name":"k/{i:02}","config":{{"token":"v{i}-0"}}}}"#)
        })
        .collect();
    t.cmd()
        .args(["import", "-"])
        .write_stdin(format!("[{}]", items.join(",")))
        .assert()
        .success();
    peer.add_robot(&t, "robot").success();
    let (_, mate_public) = new_identity();
    let mut mate = false;
    // The model: every config's token.
    let mut model: BTreeMap<String, String> = (0..n0)
        .map(|i| (format!("k/{i:02}"), format!("v{i}-0")))
        .collect();
    let mut next_id = n0;
    let mut killed = 0;
    let mut by_op: BTreeMap<&str, usize> = BTreeMap::new();
    let mut pending_rotation = false;
    for p in 0..points {
        let configs = model.len() as u64;
        let pick = rng.below(100);
        let names: Vec<String> = model.keys().cloned().collect();
        let some = names[rng.below(names.len() as u64) as usize].clone();
        let mut c = t.cmd();
        // (operation, its durable steps, the config it touches, the new value)
        let (op, steps, touched, new): (&str, u64, Option<String>, Option<String>) = match pick {
            0..=24 => {
                let name = format!("k/n{next_id}");
                next_id += 1;
                let v = format!("new-{p}");
                c.args([
                    "add",
                    "custom",
                    "bearer",
                    "--name",
                    &name,
                    "--secret-stdin",
                    "token",
                ])
                .write_stdin(v.clone());
                ("add", 4, Some(name), Some(v))
            }
            25..=49 => {
                let v = format!("edit-{p}");
                c.args(["edit", &some, "--secret-stdin", "token"])
                    .write_stdin(v.clone());
                ("edit", 4, Some(some), Some(v))
            }
            50..=64 => {
                c.args(["remove", "--yes", &some]);
                ("remove", 3, Some(some), None)
            }
            65..=79 => {
                c.args(["refresh", "--force", "robot"]);
                ("refresh", 4, None, None)
            }
            80..=89 => {
                c.args(["rotate", "--master-key"]);
                ("rotate", 1 + configs + 1 + 2, None, None)
            }
            _ => {
                if mate {
                    c.args(["recipients", "remove", "mate"]);
                } else {
                    c.args(["recipients", "add", &mate_public, "--label", "mate"]);
                }
                ("recipients", 1 + configs + 1 + 1, None, None)
            }
        };
        let k = 1 + rng.below(steps);
        let out = c
            .env("AUTHCFG_FAULT_AFTER", k.to_string())
            .output()
            .unwrap();
        let was_killed = out.status.signal() == Some(9);
        assert!(
            was_killed || out.status.success(),
            "point {p} ({op} at step {k}): {:?}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        if was_killed {
            killed += 1;
            *by_op.entry(op).or_default() += 1;
        }
        // The next command completes or drops whatever was cut short.
        let l = t.cmd().arg("list").output().unwrap();
        assert!(
            l.status.success(),
            "point {p} ({op} at step {k}): list: {}",
            String::from_utf8_lossy(&l.stderr)
        );
        assert!(!t.store.join("journal").exists(), "point {p}: journal left");
        // A master-key rotation is read through, not completed, by reads
        // (the next write completes it); any other change is completed.
        assert!(
            !t.store.join("admin-journal").exists() || op == "rotate" || pending_rotation,
            "point {p} ({op} at step {k}): admin journal left"
        );
        pending_rotation = t.store.join("admin-journal").exists();
        // The touched config is in its old or its new state, wholly.
        if let Some(name) = touched {
            let now = t
                .cmd()
                .args(["export", &name, "--format", "json"])
                .output()
                .unwrap();
            let value: Option<String> = now.status.success().then(|| {
                serde_json::from_slice::<serde_json::Value>(&now.stdout).unwrap()[token_var(&name)]
                    .as_str()
                    .unwrap()
                    .to_string()
            });
            let old = model.get(&name).cloned();
            assert!(
                value == old || value == new,
                "point {p} ({op} at step {k}) '{name}': {value:?} is neither {old:?} nor {new:?}"
            );
            match value {
                Some(v) => model.insert(name, v),
                None => model.remove(&name),
            };
        }
        if op == "recipients" && !was_killed {
            mate = !mate;
        } else if op == "recipients" {
            mate = t.stdout(&["recipients", "list"]).contains("mate ");
        }
        // Nothing else was lost.
        let names: Vec<String> = model.keys().cloned().collect();
        let vars = t.export_json(&names);
        for (n, v) in &model {
            assert_eq!(
                vars[token_var(n)],
                v.as_str(),
                "point {p} ({op} at step {k}): '{n}'"
            );
        }
    }
    if pending_rotation {
        t.add("bearer", "k/last", &[], Some(("token", "l")))
            .success();
        assert!(!t.store.join("admin-journal").exists());
    }
    t.cmd().args(["log", "--verify"]).assert().success();
    t.cmd().arg("doctor").assert().success();
    eprintln!("kill test: {killed} of {points} runs killed mid-change ({by_op:?}); every change completed or dropped whole");
    assert!(
        killed * 10 >= points as usize * 8,
        "most points must fall inside a change: {killed}/{points}"
    );
}
