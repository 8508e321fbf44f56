//! `authcfg header NAME`: the ready HTTP header line, for `curl -H "$(authcfg header X)"`.

use super::Ctx;
use crate::error::UserError;
use crate::ops::credential::Credential;
use std::io::Write;

#[derive(clap::Args)]
pub struct Args {
    /// Config name
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    name: String,
    #[command(flatten)]
    pub consumer: super::ConsumerArgs,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let s = ctx.session()?;
    let names = super::export::canonical(std::slice::from_ref(&args.name))?;
    let used = crate::ops::handout::read_for_use(&s, &names, "header")?;
    let line = Credential::of(&used.docs[0])
        .and_then(|c| c.header_line())
        .map_err(UserError::from)?;
    used.record(&s)?;
    let mut o = std::io::stdout().lock();
    writeln!(o, "{}", *line)?;
    Ok(())
}
