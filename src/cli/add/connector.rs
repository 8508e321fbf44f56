//! `authcfg add connector <connector>`: the seed's flow — fill the form,
//! test the connection, save.

use crate::catalog::connectors as catalog;
use crate::cli::form::{FieldArgs, Form};
use crate::cli::Ctx;
use crate::connectors;
use crate::error::{usage, Exit, UserError};
use crate::model::{ConfigDoc, Kind};
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Connector id or alias (see `authcfg connectors`)
    #[arg(value_name = "CONNECTOR", add = clap_complete::ArgValueCandidates::new(crate::cli::complete::connectors))]
    connector: String,
    /// Config name (default: the connector id); '/' groups configs (prod/postgres)
    #[arg(long, short = 'n')]
    name: Option<String>,
    #[command(flatten)]
    fields: FieldArgs,
    /// Replace an existing config of the same name
    #[arg(long)]
    force: bool,
    /// Only the master key and this recipient group may decrypt it
    #[arg(long, value_name = "GROUP")]
    group: Option<String>,
    /// Save without testing the connection first
    #[arg(long)]
    no_test: bool,
    /// Seconds the connection test may take
    #[arg(long, value_name = "S", default_value_t = 10)]
    timeout: u64,
    /// Trust an SSH server whose host key has this fingerprint (first contact; pinned in the config)
    #[arg(long, value_name = "SHA256:...")]
    trust_host_key: Option<String>,
}

/// The user's OpenSSH known_hosts file.
pub(in crate::cli) fn known_hosts() -> Option<std::path::PathBuf> {
    directories::BaseDirs::new().map(|b| b.home_dir().join(".ssh").join("known_hosts"))
}

/// First contact with an SSH server at a terminal: OpenSSH's question.
pub(in crate::cli) fn confirm_host_key(
    detail: &crate::text::Outside,
    fingerprint: &str,
) -> anyhow::Result<bool> {
    eprintln!("{detail}");
    Ok(dialoguer::Confirm::new()
        .with_prompt(format!(
            "Trust the host key {fingerprint} and pin it in this config?"
        ))
        .default(false)
        .interact()?)
}

pub fn find(name: &str) -> Result<&'static catalog::Connector, UserError> {
    catalog::find(name).ok_or_else(|| {
        let names: Vec<&str> = catalog::all()
            .iter()
            .flat_map(|c| {
                std::iter::once(c.id.as_str()).chain(c.aliases.iter().map(String::as_str))
            })
            .collect();
        let e = usage(format!("unknown connector '{name}'"));
        match crate::cli::form::suggest(&name.to_ascii_lowercase(), names.iter().copied()) {
            Some(s) => e.hint(format!("did you mean '{s}'? See `authcfg connectors`")),
            None => e.hint("see `authcfg connectors` for the catalog"),
        }
    })
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let connector = find(&args.connector)?;
    let form = Form {
        fields: &connector.form,
        free_form: false,
    };
    let name = super::common::config_name_or(ctx, args.name.as_deref(), &connector.id)?;
    let mut warnings = vec![];
    let mut values = form.given(&args.fields, &mut warnings)?;
    catalog::host_defaults(connector, &mut values);
    let s = ctx.session()?;
    super::common::refuse_existing(
        &s,
        &name,
        args.force,
        "choose another --name (e.g. prod/postgres), or pass --force to replace it",
    )?;
    form.complete(&mut values, ctx.interactive && !args.fields.stdin_taken())?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    let mut doc = ConfigDoc::new(&name, Kind::Connector, &connector.id);
    doc.fields = values;
    doc.meta.group = super::common::group(args.group.as_deref())?;
    doc.refresh_account();
    if !args.no_test {
        let mut settings = connectors::ProbeSettings::new(Duration::from_secs(args.timeout.max(1)));
        settings.known_hosts = known_hosts();
        settings.trust_host_key = args.trust_host_key.clone();
        loop {
            let started = std::time::Instant::now();
            let mut outcome = crate::ops::probe::probe(&s, doc.clone(), &settings);
            if let Some(fp) = outcome.unknown_host_key.clone() {
                if ctx.interactive && confirm_host_key(&outcome.summary(), &fp)? {
                    settings.trust_host_key = Some(fp);
                    outcome = crate::ops::probe::probe(&s, doc.clone(), &settings);
                }
            }
            if outcome.class == connectors::Class::NotTestable {
                eprintln!("Not tested: {}", outcome.summary());
                doc.meta.last_test = Some(outcome.record());
                break;
            }
            if outcome.passed() {
                eprintln!(
                    "Connection test passed in {} ms: {}",
                    started.elapsed().as_millis(),
                    outcome.summary()
                );
                if let Some(fp) = &outcome.host_key_to_pin {
                    doc.fields
                        .insert("host_key".into(), crate::secret::Secret::new(fp.clone()));
                }
                doc.meta.last_test = Some(outcome.record());
                break;
            }
            crate::ops::config::note_unsaved_test(&s, &name, &outcome);
            let failed = UserError::new(
                Exit::TestFailed,
                format!(
                    "connection test failed: {} ({}); nothing was saved",
                    outcome.class.label(),
                    outcome.summary()
                ),
            )
            .hint(format!(
                "{}; or pass --no-test to save it anyway",
                outcome.class.remedy()
            ));
            if !ctx.interactive {
                return Err(failed.into());
            }
            // A person is here: the fields are not thrown away.
            eprintln!(
                "Connection test failed: {} ({})\n  {}",
                outcome.class.label(),
                outcome.summary(),
                outcome.class.remedy()
            );
            match after_failure(&form, &mut doc, outcome.class)? {
                Next::TestAgain => {
                    doc.refresh_account();
                    continue;
                }
                Next::SaveUntested => {
                    eprintln!("Saving it untested (as --no-test would)");
                    doc.meta.last_test = None;
                    break;
                }
                Next::Quit => return Err(failed.into()),
            }
        }
    }
    crate::ops::config::create(&s, &doc, args.force, &format!("connector {}", connector.id))?;
    eprintln!("Added '{name}' ({})", connector.title);
    Ok(())
}

enum Next {
    TestAgain,
    SaveUntested,
    Quit,
}

/// The fields a failure of this class most likely points at, first.
fn suspects(class: connectors::Class) -> &'static [&'static str] {
    use connectors::Class as C;
    match class {
        C::Dns => &["host"],
        C::Refused | C::Timeout | C::Protocol => &["host", "port"],
        C::Auth => &[
            "password",
            "username",
            "user",
            "token",
            "api_key",
            "secret_key",
        ],
        C::Permission => &["username", "user", "database"],
        C::TlsUntrusted => &["sslrootcert", "tls_ca", "sslmode", "tls"],
        C::TlsNameMismatch => &["host"],
        C::TlsClientCert => &["sslcert", "sslkey", "tls_cert", "tls_key"],
        C::TlsNotOffered | C::Tls | C::CleartextRefused | C::PlaintextRefused => {
            &["sslmode", "tls", "security_protocol", "require_auth"]
        }
        _ => &[],
    }
}

/// After a failed test at a terminal: fix a field and test again, save
/// untested, or quit. Changes `doc` when a field is fixed.
fn after_failure(
    form: &Form,
    doc: &mut ConfigDoc,
    class: connectors::Class,
) -> anyhow::Result<Next> {
    let choice = dialoguer::Select::new()
        .with_prompt("What now?")
        .items([
            "Fix a field and test again",
            "Save it without a passing test (as --no-test)",
            "Quit (nothing is saved)",
        ])
        .default(0)
        .interact()?;
    match choice {
        1 => return Ok(Next::SaveUntested),
        2 => return Ok(Next::Quit),
        _ => {}
    }
    // The fields the failure points at first, then the rest of the form.
    let mut specs: Vec<&crate::catalog::FieldSpec> = form.fields.iter().collect();
    let rank = |name: &str| {
        suspects(class)
            .iter()
            .position(|s| *s == name)
            .unwrap_or(usize::MAX)
    };
    specs.sort_by_key(|f| (rank(&f.name), !f.prompt));
    let items: Vec<String> = specs
        .iter()
        .map(|f| {
            let now = match doc.fields.get(&f.name) {
                None => "(not set)".to_string(),
                Some(v) if f.secret => v.masked(),
                Some(v) => crate::text::escape(v.expose(), 60).into_owned(),
            };
            let likely = if rank(&f.name) < usize::MAX {
                "  ← likely"
            } else {
                ""
            };
            format!("{} = {now}{likely}", f.name)
        })
        .collect();
    let i = dialoguer::Select::new()
        .with_prompt("Which field?")
        .items(&items)
        .default(0)
        .max_length(12)
        .interact()?;
    let spec = specs[i];
    let current = doc.fields.get(&spec.name).map(|v| v.expose().to_string());
    match crate::cli::form::prompt_with(spec, current.as_deref())? {
        Some(v) => {
            doc.fields.insert(spec.name.clone(), v);
        }
        None => {
            doc.fields.remove(&spec.name);
        }
    }
    form.validate(&doc.fields)?;
    Ok(Next::TestAgain)
}
