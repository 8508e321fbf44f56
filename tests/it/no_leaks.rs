//! Planted secret values never appear in output (unless asked for), in
//! error messages, in the audit trail or in any plaintext file of the store.

use crate::support::*;

const SECRETS: &[&str] = &[
    "LEAK-apikey-7f3a9c",
    "LEAK-bearer-1b2c3d",
    "LEAK-basicpw-9e8d7c",
    "LEAK-clientsecret-55aa",
    "LEAK-envvar-4242",
];

#[test]
fn secrets_stay_where_they_belong() {
    let t = T::new();
    let mut all_output: Vec<u8> = vec![];
    let mut run = |args: &[&str], stdin: Option<&str>| -> std::process::Output {
        let mut c = t.cmd();
        c.args(args);
        if let Some(s) = stdin {
            c.write_stdin(s.to_string());
        }
        let out = c.output().unwrap();
        all_output.extend_from_slice(&out.stdout);
        all_output.extend_from_slice(&out.stderr);
        out
    };
    run(&["init"], None);
    run(
        &[
            "add",
            "custom",
            "api-key",
            "--name",
            "a",
            "--secret-stdin",
            "api_key",
        ],
        Some(SECRETS[0]),
    );
    run(
        &[
            "add",
            "custom",
            "bearer",
            "--name",
            "b",
            "--secret-stdin",
            "token",
        ],
        Some(SECRETS[1]),
    );
    run(
        &[
            "add",
            "custom",
            "basic",
            "--name",
            "c",
            "--set",
            "username=u",
            "--secret-stdin",
            "password",
        ],
        Some(SECRETS[2]),
    );
    run(
        &[
            "add",
            "custom",
            "oauth2",
            "--name",
            "d",
            "--set",
            "authorization_url=https://idp.example/authorize",
            "--set",
            "token_url=https://idp.example/token",
            "--set",
            "client_id=cid",
            "--secret-stdin",
            "client_secret",
        ],
        Some(SECRETS[3]),
    );
    run(
        &[
            "add",
            "custom",
            "env",
            "--name",
            "e",
            "--secret-stdin",
            "APP_SECRET",
        ],
        Some(SECRETS[4]),
    );
    for args in [
        vec!["list"],
        vec!["list", "--json"],
        vec!["show", "a"],
        vec!["show", "b", "--json"],
        vec!["show", "c"],
        vec!["show", "d", "--json"],
        vec!["show", "e"],
        vec!["log"],
        vec!["log", "--json"],
        vec!["doctor"],
        vec!["doctor", "--json"],
        // Error paths that handle the secret fields.
        vec!["edit", "a", "--set", "location=nowhere"],
        vec!["add", "custom", "api-key", "--name", "a"],
        vec!["header", "e"],
        vec!["token", "c"],
    ] {
        run(&args, None);
    }
    // Bad values for secret fields are described, not echoed.
    let out = run(
        &[
            "edit",
            "b",
            "--set",
            &format!("token={}\nsecond-line", SECRETS[1]),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let out = run(
        &["edit", "a", "--set", &format!("test_url={}", SECRETS[0])],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert_clean("command output", &all_output, SECRETS);

    // Asked-for values do appear (so this test can see a leak if there is one).
    assert!(t.stdout(&["show", "a", "--reveal"]).contains(SECRETS[0]));
    assert!(t.stdout(&["token", "b"]).contains(SECRETS[1]));
    assert!(t.stdout(&["export", "e"]).contains(SECRETS[4]));

    let audit = std::fs::read(t.store.join("audit.jsonl")).unwrap();
    assert!(audit.len() > 500, "the audit trail has records");
    assert_clean("audit trail", &audit, SECRETS);
    for (path, bytes) in t.store_files() {
        assert_clean(&path.display().to_string(), &bytes, SECRETS);
    }
}
