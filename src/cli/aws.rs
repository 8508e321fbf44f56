//! `authcfg aws`: STS sessions of AWS configs (`ops::aws`;
//! docs/ARCHITECTURE.md, "AWS sessions"). `credential-process` answers the
//! AWS CLI and SDKs (`credential_process` in ~/.aws/config) with a session,
//! never the config's long-lived keys; `session` starts or renews one
//! (with an MFA code) and says until when, printing no secret.

use super::Ctx;
use std::io::Write;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Print a session as AWS's credential_process JSON (for ~/.aws/config:
    /// credential_process = authcfg aws credential-process NAME)
    CredentialProcess(ProcessArgs),
    /// Start (or renew) the session of an AWS config and say until when;
    /// prints no secret
    Session(SessionArgs),
}

#[derive(clap::Args)]
struct ProcessArgs {
    /// The AWS config (s3, dynamodb, amazon-sqs, amazon-sns, amazon-kinesis)
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    name: String,
    /// The MFA device's current code, when the config has mfa_serial and no
    /// mfa_totp and a new session is needed
    #[arg(long, value_name = "CODE")]
    mfa_code: Option<String>,
}

#[derive(clap::Args)]
struct SessionArgs {
    /// The AWS config
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    name: String,
    /// The MFA device's current code (config with mfa_serial)
    #[arg(long, value_name = "CODE")]
    mfa_code: Option<String>,
    /// Start a new session even if the cached one is still fresh
    #[arg(long)]
    renew: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    match args.command {
        Sub::CredentialProcess(a) => {
            // The AWS CLI runs this with its own pipes: never ask at a
            // terminal (a prompt nobody sees would hang it).
            let mut settings = ctx.settings.clone();
            settings.interactive = false;
            let s = crate::ops::Session::open(&settings, &ctx.store_dir, &super::UI)?;
            let name = crate::store::canonical_name(&a.name)?;
            let creds = crate::ops::aws::session_for_tool(&s, &name, a.mfa_code.as_deref())?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", creds.process_json().as_str())?;
            out.flush()?;
            Ok(())
        }
        Sub::Session(a) => {
            let s = ctx.session()?;
            let name = crate::store::canonical_name(&a.name)?;
            crate::store::validate_name(&name)?;
            let doc = s.store.read(&name)?;
            crate::ops::aws::check_aws(&doc)?;
            let doc = crate::ops::aws::ensure_session(&s, doc, a.mfa_code.as_deref(), a.renew)?;
            let until = crate::ops::aws::cached(&doc)
                .map(|c| c.expiration())
                .unwrap_or_default();
            println!(
                "session of '{}' until {until}",
                crate::text::escape(&name, crate::text::SHOWN)
            );
            Ok(())
        }
    }
}
