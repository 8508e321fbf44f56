//! `authcfg add connector <connector>`: the seed's flow — fill the form,
//! test the connection, save.

use super::form::{FieldArgs, Form};
use super::Ctx;
use crate::catalog::connectors as catalog;
use crate::connectors;
use crate::error::{usage, Exit, UserError};
use crate::model::{ConfigDoc, Kind};
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Connector id or alias (see `authcfg connectors`)
    #[arg(value_name = "CONNECTOR", add = clap_complete::ArgValueCandidates::new(super::complete::connectors))]
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
pub(super) fn known_hosts() -> Option<std::path::PathBuf> {
    directories::BaseDirs::new().map(|b| b.home_dir().join(".ssh").join("known_hosts"))
}

/// First contact with an SSH server at a terminal: OpenSSH's question.
pub(super) fn confirm_host_key(
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
        match super::form::suggest(&name.to_ascii_lowercase(), names.iter().copied()) {
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
    let name = super::add::config_name_or(ctx, args.name.as_deref(), &connector.id)?;
    let mut warnings = vec![];
    let mut values = form.given(&args.fields, &mut warnings)?;
    catalog::host_defaults(connector, &mut values);
    let s = ctx.session()?;
    super::add::refuse_existing(
        &s,
        &name,
        args.force,
        "choose another --name (e.g. prod/postgres), or pass --force to replace it",
    )?;
    form.complete(
        &mut values,
        ctx.interactive && args.fields.secret_stdin.is_none(),
    )?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    let mut doc = ConfigDoc::new(&name, Kind::Connector, &connector.id);
    doc.fields = values;
    doc.meta.group = super::add::group(args.group.as_deref())?;
    doc.refresh_account();
    if !args.no_test {
        let started = std::time::Instant::now();
        let mut settings = connectors::ProbeSettings::new(Duration::from_secs(args.timeout.max(1)));
        settings.known_hosts = known_hosts();
        settings.trust_host_key = args.trust_host_key.clone();
        let mut outcome = crate::ops::probe::probe(&s, doc.clone(), &settings);
        if let Some(fp) = outcome.unknown_host_key.clone() {
            if ctx.interactive && confirm_host_key(&outcome.summary(), &fp)? {
                settings.trust_host_key = Some(fp);
                outcome = crate::ops::probe::probe(&s, doc.clone(), &settings);
            }
        }
        let record = outcome.record();
        if outcome.class == connectors::Class::NotTestable {
            eprintln!("Not tested: {}", outcome.summary());
        } else if !outcome.passed() {
            s.audit("test", Some(&name), "failed", Some(outcome.class.label()));
            return Err(UserError::new(
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
            ))
            .into());
        }
        if outcome.passed() {
            eprintln!(
                "Connection test passed in {} ms: {}",
                started.elapsed().as_millis(),
                outcome.summary()
            );
        }
        if let Some(fp) = &outcome.host_key_to_pin {
            doc.fields
                .insert("host_key".into(), crate::secret::Secret::new(fp.clone()));
        }
        doc.meta.last_test = Some(record);
    }
    super::add::save_new(&s, &doc, args.force, &format!("connector {}", connector.id))?;
    eprintln!("Added '{name}' ({})", connector.title);
    Ok(())
}
