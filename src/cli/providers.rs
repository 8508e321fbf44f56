//! `authcfg providers [ID] [--json]`: the OAuth2 provider catalog.

use crate::catalog::providers as catalog;
use crate::error::usage;

#[derive(clap::Args)]
pub struct Args {
    /// Show one provider in full
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::providers))]
    id: Option<String>,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> crate::error::CommandResult {
    if let Some(id) = &args.id {
        let p = catalog::find(id).ok_or_else(|| {
            usage(format!("unknown provider '{id}'")).hint("see `authcfg providers`")
        })?;
        if args.json {
            super::print_json(p)?;
        } else {
            outln!("{}", toml::to_string_pretty(p)?);
        }
        return Ok(());
    }
    if args.json {
        super::print_json(&catalog::all())?;
        return Ok(());
    }
    let mut table = super::term::table(&[
        "Id",
        "Provider",
        "Device",
        "Revoke",
        "Default scopes",
        "Parameters",
    ]);
    for p in catalog::all() {
        let yes = |b: bool| if b { "yes" } else { "-" };
        table.add_row([
            p.id.clone(),
            p.title.clone(),
            yes(p.device_url.is_some()).into(),
            yes(p.revocation_url.is_some()).into(),
            p.scopes.join(" "),
            p.params
                .iter()
                .map(|x| x.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    super::term::fit_table(&mut table, &[0, 2, 3], &[5, 4]);
    outln!("{table}");
    outln!("Any other provider: `authcfg add oauth2 custom --issuer URL` or --set authorization_url=... --set token_url=...");
    Ok(())
}
