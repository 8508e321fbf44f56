//! Paper cuts found using authcfg as a new user would: completion of config
//! names in a real shell, `doctor` and `init` agreeing about keyrings, and
//! progress only at a terminal.

use crate::support::*;
use predicates::str::contains;
use std::process::Command;

#[test]
fn config_names_provider_and_connector_ids_complete() {
    let t = T::new();
    t.init();
    t.add("api-key", "prod/stripe", &[], Some(("api_key", "k1")))
        .success();
    t.add("api-key", "prod/github", &[], Some(("api_key", "k2")))
        .success();
    t.add("api-key", "dev/stripe", &[], Some(("api_key", "k3")))
        .success();
    // Real bash, with the registration `authcfg completions bash` prints.
    let mut c = Command::new("bash");
    t.apply(&mut c);
    let dir = std::path::Path::new(BIN)
        .parent()
        .unwrap()
        .display()
        .to_string();
    let out = c
        .env("PATH", format!("{dir}:{}", std::env::var("PATH").unwrap()))
        .args([
            "-c",
            r#"source <(authcfg completions bash)
complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=();
  _clap_complete_authcfg authcfg "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}";
  printf '%s\n' "${COMPREPLY[@]}"; }
echo "--show"; complete_words authcfg show prod/
echo "--export"; complete_words authcfg export dev
echo "--add"; complete_words authcfg add oauth2 goo
echo "--connector"; complete_words authcfg add connector postg"#,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let section = |name: &str| -> Vec<String> {
        text.split(&format!("--{name}\n"))
            .nth(1)
            .unwrap_or("")
            .lines()
            .take_while(|l| !l.starts_with("--"))
            .map(|l| l.split('\t').next().unwrap().trim().to_string())
            .filter(|l| !l.is_empty())
            .collect()
    };
    assert_eq!(
        section("show"),
        vec!["prod/github", "prod/stripe"],
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(section("export"), vec!["dev/stripe"], "{text}");
    assert_eq!(section("add"), vec!["google"], "{text}");
    assert!(
        section("connector").contains(&"postgres".to_string()),
        "{text}"
    );
    // The committed files are this registration (docs_fresh checks them).
    t.cmd()
        .args(["completions", "zsh"])
        .assert()
        .success()
        .stdout(contains("AUTHCFG_COMPLETE"));
    t.cmd()
        .args(["completions", "fish", "--static"])
        .assert()
        .success()
        .stdout(contains("complete -c authcfg"));
}

#[test]
fn doctor_and_init_agree_about_keyrings() {
    // No D-Bus session here: Secret Service is unavailable, and doctor must
    // not say "ok" in front of it.
    let mut t = T::bare();
    t.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    t.env("AUTHCFG_KEYRING", "auto");
    let out = t.cmd().arg("doctor").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let line = |name: &str| {
        text.lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} not in {text}"))
            .to_string()
    };
    let ss = line("keyring secret-service");
    assert!(ss.starts_with("--") && ss.contains("unavailable"), "{ss}");
    let ku = line("keyring keyutils");
    let keyutils_ok = ku.starts_with("ok");
    // init does what doctor said: keyutils when it said available.
    t.env("AUTHCFG_PASSPHRASE", "pass-for-agreement");
    let init = t.cmd().arg("init").output().unwrap();
    let said =
        String::from_utf8_lossy(&init.stdout).to_string() + &String::from_utf8_lossy(&init.stderr);
    if keyutils_ok {
        assert!(init.status.success(), "{ku}\n{said}");
        assert!(said.contains("OS keyring (keyutils)"), "{said}");
        t.extra_env.retain(|(k, _)| k != "AUTHCFG_PASSPHRASE");
        t.cmd().arg("list").assert().success();
        let text = t.stdout(&["doctor"]);
        assert!(
            text.contains("ok   master key             OS keyring (keyutils)"),
            "{text}"
        );
    } else {
        assert!(
            said.contains("keyutils") && !said.contains("OS keyring (keyutils)"),
            "{ku}\n{said}"
        );
    }
}

#[test]
fn progress_is_shown_at_a_terminal_only() {
    let t = T::new();
    t.init();
    let items: Vec<serde_json::Value> = (0..1200)
        .map(|i| {
            serde_json::json!({"type": "bearer_token", "name": format!("bulk/c{i:04}"),
                "config": {"token": format!("tok-{i:04}")}})
        })
        .collect();
    let file = t.dir.path().join("bulk.json");
    std::fs::write(&file, serde_json::to_vec(&items).unwrap()).unwrap();
    // Not a terminal: only the result.
    let out = t.cmd().arg("import").arg(&file).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Imported 1200 config(s)\n"
    );
    // At a terminal: a progress line while it works.
    let mut cmd = t.std_cmd();
    cmd.args(["import", "--force"]).arg(&file);
    let mut p = rexpect::session::spawn_command(cmd, Some(60_000)).unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("importing"), "{rest}");
    assert!(rest.contains("Imported 1200 config(s)"), "{rest}");
}

/// `completions install` and `man install` put the files where
/// bash-completion, zsh, fish and man-db look for a user's own (the XDG
/// places, README "Install"); a real bash loads the installed registration
/// through bash-completion's own on-demand loader, and `man` finds the
/// installed pages.
#[test]
fn completions_and_man_pages_install_into_the_xdg_places() {
    let t = T::new();
    t.init();
    t.add("api-key", "prod/stripe", &[], Some(("api_key", "k1")))
        .success();
    let data = t.home.join(".local/share");
    let config = t.home.join(".config");
    let out = t.cmd().args(["completions", "install"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let listed = String::from_utf8_lossy(&out.stdout).to_string();
    let printed = |shell: &str| {
        t.cmd()
            .args(["completions", shell])
            .output()
            .unwrap()
            .stdout
    };
    for (shell, path) in [
        ("bash", data.join("bash-completion/completions/authcfg")),
        ("zsh", data.join("zsh/site-functions/_authcfg")),
        ("fish", config.join("fish/completions/authcfg.fish")),
    ] {
        assert!(listed.contains(&path.display().to_string()), "{listed}");
        assert_eq!(std::fs::read(&path).unwrap(), printed(shell), "{shell}");
    }
    // One shell only: nothing else is written.
    std::fs::remove_dir_all(&config).unwrap();
    t.cmd()
        .args(["completions", "install", "--shell", "bash"])
        .assert()
        .success();
    assert!(!config.exists());

    // bash-completion finds it by itself (no `source` of ours).
    let bin_dir = std::path::Path::new(BIN)
        .parent()
        .unwrap()
        .display()
        .to_string();
    let mut c = Command::new("bash");
    t.apply(&mut c);
    let out = c
        .env(
            "PATH",
            format!("{bin_dir}:{}", std::env::var("PATH").unwrap()),
        )
        .args([
            "-c",
            r#"source /usr/share/bash-completion/bash_completion
_completion_loader authcfg
COMP_WORDS=(authcfg show prod/); COMP_CWORD=2; COMPREPLY=()
_clap_complete_authcfg authcfg prod/ show
printf '%s\n' "${COMPREPLY[@]}""#,
        ])
        .output()
        .unwrap();
    let words = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        words
            .lines()
            .map(|l| l.split('\t').next().unwrap().trim())
            .collect::<Vec<_>>(),
        vec!["prod/stripe"],
        "{words}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = t.cmd().args(["man", "install"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let man1 = data.join("man/man1");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        man1.display().to_string()
    );
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for page in ["authcfg.1", "authcfg-export.1", "authcfg-man-install.1"] {
        assert_eq!(
            std::fs::read(man1.join(page)).unwrap(),
            std::fs::read(root.join("man").join(page)).unwrap(),
            "{page}"
        );
    }
    // man-db finds them from ~/.local/bin on PATH (its PATH-derived manpath).
    let local_bin = t.home.join(".local/bin");
    std::fs::create_dir_all(&local_bin).unwrap();
    let mut c = Command::new("man");
    t.apply(&mut c);
    let out = c
        .env_remove("MANPATH")
        .env("PATH", format!("{}:/usr/bin:/bin", local_bin.display()))
        .args(["-w", "authcfg-export"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        man1.join("authcfg-export.1").display().to_string(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
