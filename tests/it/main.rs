//! The integration tests: one binary (as ripgrep and jj do), so `support/`
//! is compiled and linked once. Every test runs the real `authcfg` binary
//! against real peers; `support/` starts them.

mod support;

mod age_plugin;
mod audit_trail;
mod aws_sessions;
mod bad_input;
mod cargo_registry;
mod clipboard;
mod concurrency;
mod connectors;
mod conveniences;
mod credential_model;
mod credential_origins;
mod custom_types;
mod docker_registry;
mod docs_fresh;
mod everyday;
mod exec_inject;
mod exec_pty;
mod export_formats;
mod flat_reads;
mod forms;
mod git_credential;
mod handout_rules;
mod http_command;
mod impostors;
mod interactive;
mod interop;
mod key_service;
mod key_sources;
mod kills;
mod kms_custody;
mod kube_exec;
mod leases;
mod loopback_listener;
mod master_key;
mod mcp_run;
mod mcp_server;
mod no_leaks;
mod oauth;
mod oauth_argv;
mod oauth_paths;
mod onboarding;
mod outside_text;
mod plain_errors;
mod probe_pool;
mod project;
mod project_trust;
mod properties;
mod provider_echo;
mod proxy;
mod race;
mod recipients;
mod recovery_shares;
mod redaction;
mod refresh_fit;
mod reliability;
mod rollback;
mod rotation;
mod small_hints;
mod ssh_host_keys;
mod team_sync;
mod terminal_output;
mod tls_amqp;
mod tls_brokers;
mod tls_mysql;
mod tls_postgres;
mod trust_boundary;
mod usage;
mod webhooks;
mod whole_output;
mod write_failures;

/// A test file that is not declared above would silently never run.
#[test]
fn every_test_file_is_declared() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    let main = std::fs::read_to_string(dir.join("main.rs")).unwrap();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "rs") && stem != "main" {
            assert!(
                main.contains(&format!("\nmod {stem};")),
                "tests/it/{stem}.rs is not declared in tests/it/main.rs"
            );
        }
    }
}
