//! `authcfg doctor`: renders what `ops::doctor` found.

use super::Ctx;
use crate::ops::doctor::{Check, Limits, Status};

#[derive(clap::Args)]
pub struct Args {
    /// Machine-readable output
    #[arg(long)]
    json: bool,
    /// Warn about credentials not rotated for more than DAYS days
    #[arg(long, value_name = "DAYS", default_value_t = 90)]
    max_age: i64,
    /// Warn about configs nobody used for more than DAYS days
    #[arg(long, value_name = "DAYS", default_value_t = crate::store::usage::RECENT_DAYS)]
    unused_days: i64,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let limits = Limits {
        max_age_days: args.max_age,
        unused_days: args.unused_days,
    };
    let mut checks: Vec<Check> =
        crate::ops::doctor::run(&ctx.settings, &ctx.store_dir, || ctx.session(), &limits)?;
    let ok = checks.iter().all(|c| c.ok);
    // A detail can hold outside text (an error quoting a planted header, a
    // keyring's message, a file name): shown escaped, one check per line.
    for c in &mut checks {
        if let std::borrow::Cow::Owned(e) = crate::text::escape(&c.detail, DETAIL) {
            c.detail = e;
        }
    }
    if args.json {
        super::print_json(&checks)?;
    } else {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        for c in &checks {
            use super::term::{out as paint, Tone};
            let status = match c.status {
                Status::Ok => paint("ok  ", Tone::Good),
                Status::Warn => paint("WARN", Tone::Warn),
                Status::Info => "--  ".into(),
                Status::Fail => paint("FAIL", Tone::Bad),
            };
            writeln!(out, "{status} {:<22} {}", c.check, c.detail)?;
        }
    }
    if !ok {
        return Err(crate::error::CommandError::reported(
            crate::error::Exit::Error,
        ));
    }
    Ok(())
}

/// The longest detail a check shows (twenty stray files fit).
const DETAIL: usize = 4000;
