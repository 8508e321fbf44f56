use super::*;

#[test]
fn sql_writes_only_where_the_config_allows_them() {
    let t = T::new();
    t.init();
    let pg = pg_table();
    add_pg(&t, "ro", &pg, &[]);
    add_pg(&t, "rw", &pg, &["allow_writes=true"]);
    let table = &pg.table;
    let rev: String = PG_PASS.chars().rev().collect();
    let insert = |c: &str, id: u32| {
        json!({"name": "sql_query", "arguments": {"config": c,
            "sql": format!("INSERT INTO {table} VALUES ({id}, 'x')")}})
    };
    let calls = json!([
        {"name": "list_configs"},
        insert("ro", 10),
        insert("rw", 11),
        {"name": "sql_query", "arguments": {"config": "rw", "sql": format!("SELECT count(*) AS n FROM {table}")}},
        {"name": "sql_query", "arguments": {"config": "ro", "sql": "SELECT current_setting('transaction_read_only') AS ro"}},
        // A row holding a secret of an exposed config comes back redacted
        // (the SQL turns it back from a form the request check does not
        // decode: docs/SECURITY.md, "Guessing, what is left").
        {"name": "sql_query", "arguments": {"config": "ro", "sql": format!("SELECT 'x' || reverse('{rev}') AS pw, encode(convert_to(reverse('{rev}'), 'UTF8'), 'base64') AS b64")}},
        // The secret itself in the SQL: refused, unsent; then nothing more.
        {"name": "sql_query", "arguments": {"config": "ro", "sql": format!("SELECT '{PG_PASS}' AS pw")}},
        {"name": "list_configs"},
    ]);
    let (v, raw, stderr) = run_client(
        "node",
        "client.mjs",
        &stdio_spec(&t, &["--expose", "r?"], calls),
    );
    let r = v["results"].as_array().unwrap();
    let list = ok_json(&r[0]);
    let flags: Vec<(String, bool)> = list["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["read_only"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(flags, [("ro".into(), true), ("rw".into(), false)]);
    refused(&r[1], "read-only transaction");
    let ins = ok_json(&r[2]);
    assert_eq!(ins["row_count"], 1, "{ins}");
    assert_eq!(ins["read_only"], false);
    assert_eq!(ok_json(&r[3])["rows"], json!([["3"]]));
    assert_eq!(ok_json(&r[4])["rows"], json!([["on"]]));
    assert_eq!(pg_count(table), "3");
    let row = &ok_json(&r[5])["rows"][0];
    assert!(
        row[0].as_str().unwrap().starts_with("x[REDACTED:r"),
        "{row}"
    );
    assert!(row[1].as_str().unwrap().starts_with("[REDACTED:r"), "{row}");
    refused(&r[6], "refused, not sent");
    refused(&r[7], "answers no more calls");
    all_clean(&t, "SQL transcript", &[&raw, &stderr]);
}

#[test]
fn a_superuser_config_is_refused_in_read_only_mode() {
    let t = T::new();
    t.init();
    let pg = pg_table();
    // The same role made superuser: a read-only transaction would still let
    // it run COPY ... TO PROGRAM.
    psql(&format!("ALTER ROLE {} SUPERUSER", pg.role.0));
    add_pg(&t, "su", &pg, &[]);
    let marker = t.home.join("program-ran");
    let calls = json!([
        {"name": "sql_query", "arguments": {"config": "su", "sql": "SELECT 1 AS one"}},
        {"name": "sql_query", "arguments": {"config": "su",
            "sql": format!("COPY (SELECT 1) TO PROGRAM 'touch {}'", marker.display())}},
    ]);
    let (v, _raw, _stderr) = run_client(
        "node",
        "client.mjs",
        &stdio_spec(&t, &["--expose", "su"], calls),
    );
    refused(&v["results"][0], "superuser");
    refused(&v["results"][1], "superuser");
    assert!(!marker.exists());
}

/// One value from the database as its administrator sees it.
fn admin_value(program: &str, sql: &str) -> String {
    let out = match program {
        "psql" => Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-qAtc",
                sql,
            ])
            .output(),
        _ => Command::new("mariadb")
            .args(["-uroot", "-N", "-e", sql])
            .output(),
    }
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn a_statement_past_the_timeout_is_cancelled_on_the_server() {
    let t = T::new();
    t.init();
    let pg = pg_table();
    add_pg(&t, "pg", &pg, &[]);
    let user = MariaUser::create(MY_PASS);
    t.cmd()
        .args(["add", "connector", "mariadb", "--name", "my"])
        .args(["--set", "host=127.0.0.1", "--set", "port=3306"])
        .args(["--set", "database=test", "--set", "sslmode=disable"])
        .args(["--set", &format!("username={}", user.0)])
        .args(["--secret-stdin", "password"])
        .write_stdin(MY_PASS)
        .assert()
        .success();
    let pg_mark = unique("cancel_pg");
    let my_mark = unique("cancel_my");
    let calls = json!([
        {"name": "sql_query", "arguments": {"config": "pg",
            "sql": format!("SELECT pg_sleep(30), '{pg_mark}' AS mark")}},
        {"name": "sql_query", "arguments": {"config": "my",
            "sql": format!("SELECT SLEEP(30), '{my_mark}' AS mark")}},
    ]);
    let started = std::time::Instant::now();
    let (v, raw, stderr) = run_client(
        "node",
        "client.mjs",
        &stdio_spec(&t, &["--expose", "*", "--timeout", "2"], calls),
    );
    refused(
        &v["results"][0],
        "the statement was cancelled on the server",
    );
    refused(
        &v["results"][1],
        "the statement was cancelled on the server",
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(25));
    // The statements ended before the calls were answered: neither runs
    // on the server now (without the cancellation both would for 30 s).
    let pg_running = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%{pg_mark}%' AND pid <> pg_backend_pid()"
    );
    let my_running = format!(
        "SELECT COUNT(*) FROM information_schema.processlist WHERE INFO LIKE '%{my_mark}%' AND ID <> CONNECTION_ID()"
    );
    assert_eq!(admin_value("psql", &pg_running), "0");
    assert_eq!(admin_value("mariadb", &my_running), "0");
    // And their sessions are closed (the server notices within moments).
    let pg_backend = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%{pg_mark}%' AND pid <> pg_backend_pid()"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while admin_value("psql", &pg_backend) != "0" {
        assert!(
            std::time::Instant::now() < deadline,
            "the PostgreSQL backend is still there"
        );
    }
    all_clean(&t, "SQL cancel", &[&raw, &stderr]);
}
