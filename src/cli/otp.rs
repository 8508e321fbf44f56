//! `authcfg otp NAME`: the current one-time code of a `totp` config (RFC
//! 6238), recorded as a use like `token`.

use super::Ctx;
use crate::error::usage;
use std::io::{IsTerminal, Write};

#[derive(clap::Args)]
pub struct Args {
    /// Config name (a `totp` config: `authcfg add custom totp`)
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    name: String,
    /// The code at this moment (Unix seconds) instead of now
    #[arg(long, value_name = "UNIX", hide = true)]
    at: Option<u64>,
    #[command(flatten)]
    pub consumer: super::ConsumerArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let s = ctx.session()?;
    let names = super::export::canonical(std::slice::from_ref(&args.name))?;
    let used = crate::ops::handout::read_for_use(&s, &names, "otp")?;
    let doc = &used.docs[0];
    let uri = match doc.get("otpauth_uri") {
        Some(u) if crate::catalog::custom::Auth::parse(&doc.meta.type_id) == Some(crate::catalog::custom::Auth::Totp) => u,
        _ => {
            return Err(usage(format!("'{}' is not a TOTP config", doc.meta.name))
                .hint("add one from the service's otpauth:// URI: `authcfg add custom totp --name NAME --secret-stdin otpauth_uri`")
                .into())
        }
    };
    let totp = crate::otp::parse(uri)?;
    let (code, left) = match args.at {
        Some(t) => crate::otp::code_at(&totp, t),
        None => crate::otp::code_now(&totp),
    };
    used.record(&s)?;
    writeln!(std::io::stdout().lock(), "{code}")?;
    if std::io::stderr().is_terminal() {
        eprintln!("(valid for {left} s)");
    }
    Ok(())
}
