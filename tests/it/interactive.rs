//! Prompts through a real pseudo-terminal (rexpect): the interactive form,
//! hidden secret entry, enum selection and the remove confirmation.

use crate::support::*;
use rexpect::session::spawn_command;

const TIMEOUT: Option<u64> = Some(20_000);

#[test]
fn interactive_add_basic_and_api_key() {
    let t = T::new();
    t.init();

    let mut cmd = t.std_cmd();
    cmd.args(["add", "custom", "basic"]);
    let mut p = spawn_command(cmd, TIMEOUT).unwrap();
    p.exp_string("Name for this config").unwrap();
    p.send_line("team/legacy").unwrap();
    p.exp_string("username").unwrap();
    p.send_line("alice").unwrap();
    p.exp_string("password").unwrap();
    p.send_line("pty-planted-secret").unwrap();
    p.exp_string("test_url").unwrap();
    p.send_line("").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(rest.contains("Added 'team/legacy'"), "{rest}");
    assert!(
        !rest.contains("pty-planted-secret"),
        "the password was echoed: {rest}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&t.stdout(&["show", "team/legacy", "--json", "--reveal"])).unwrap();
    assert_eq!(json["config"]["username"], "alice");
    assert_eq!(json["config"]["password"], "pty-planted-secret");

    // api-key: default key name accepted with Enter, location picked from a list.
    let mut cmd = t.std_cmd();
    cmd.args(["add", "custom", "api-key", "--name", "search"]);
    let mut p = spawn_command(cmd, TIMEOUT).unwrap();
    p.exp_string("api_key").unwrap();
    p.send_line("pty-api-key-planted").unwrap();
    p.exp_string("X-API-Key").unwrap();
    p.send_line("").unwrap();
    p.exp_string("location").unwrap();
    p.send("\x1b[B").unwrap(); // down: header -> query
    p.flush().unwrap();
    p.send("\r").unwrap();
    p.flush().unwrap();
    p.exp_string("prefix").unwrap();
    p.send_line("").unwrap();
    p.exp_string("test_url").unwrap();
    p.send_line("https://api.example.com/v1/ping").unwrap();
    p.exp_eof().unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&t.stdout(&["show", "search", "--json", "--reveal"])).unwrap();
    assert_eq!(json["config"]["key_name"], "X-API-Key");
    assert_eq!(json["config"]["location"], "query");
    assert_eq!(json["config"]["api_key"], "pty-api-key-planted");
    assert_eq!(
        json["config"]["test_url"],
        "https://api.example.com/v1/ping"
    );
    assert!(json["config"].get("prefix").is_none());
}

#[test]
fn interactive_validation_and_remove_confirmation() {
    let t = T::new();
    t.init();
    t.add("bearer", "keep", &[], Some(("token", "t1")))
        .success();

    // An invalid URL is re-asked, not saved.
    let mut cmd = t.std_cmd();
    cmd.args(["add", "custom", "none", "--name", "pub"]);
    let mut p = spawn_command(cmd, TIMEOUT).unwrap();
    p.exp_string("test_url").unwrap();
    p.send_line("not a url").unwrap();
    p.exp_string("not an absolute").unwrap();
    p.send_line("https://ok.example/").unwrap();
    p.exp_eof().unwrap();

    // Declining the confirmation removes nothing; accepting removes.
    let mut cmd = t.std_cmd();
    cmd.args(["remove", "keep"]);
    let mut p = spawn_command(cmd, TIMEOUT).unwrap();
    p.exp_string("Remove keep?").unwrap();
    p.send("n").unwrap();
    p.flush().unwrap();
    p.exp_string("cancelled").unwrap();
    p.exp_eof().unwrap();
    assert!(t.stdout(&["list"]).contains("keep"));
    let mut cmd = t.std_cmd();
    cmd.args(["remove", "keep"]);
    let mut p = spawn_command(cmd, TIMEOUT).unwrap();
    p.exp_string("Remove keep?").unwrap();
    p.send("y").unwrap();
    p.flush().unwrap();
    p.exp_string("Removed 'keep'").unwrap();
    p.exp_eof().unwrap();
    t.cmd().args(["show", "keep"]).assert().code(3);
}

/// `init --passphrase` at a terminal says what the passphrase is for and
/// refuses a short one with the same rule as a key backup, then asks
/// again; the store opens with the one accepted.
#[test]
fn init_asks_for_a_passphrase_long_enough_and_says_why() {
    let mut t = T::bare();
    let mut cmd = t.std_cmd();
    cmd.args(["init", "--passphrase"]);
    let mut p = spawn_command(cmd, TIMEOUT).unwrap();
    p.exp_string("seals the key in the store's identity.age; at least 10 characters")
        .unwrap();
    p.send_line("short").unwrap();
    p.exp_string("shorter than 10 characters").unwrap();
    p.send_line("correct horse battery").unwrap();
    p.exp_string("Repeat it").unwrap();
    p.send_line("correct horse battery").unwrap();
    let rest = p.exp_eof().unwrap();
    assert!(!rest.contains("correct horse"), "echoed: {rest}");
    t.env("AUTHCFG_PASSPHRASE", "correct horse battery");
    t.cmd().arg("list").assert().success();
    t.env("AUTHCFG_PASSPHRASE", "short");
    t.cmd().arg("list").assert().code(5);
}
