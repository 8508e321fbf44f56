//! `authcfg token NAME`: the config's token, for `curl -H "Authorization: Bearer $(authcfg token X)"`.

use super::Ctx;
use crate::error::usage;
use crate::model::ConfigDoc;
use std::io::Write;

#[derive(clap::Args)]
pub struct Args {
    /// Config name
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    name: String,
    #[command(flatten)]
    pub consumer: super::export::ConsumerArgs,
}

/// The field that holds a config's token, by type.
pub fn token_of(doc: &ConfigDoc) -> anyhow::Result<&str> {
    let field = match doc.meta.type_id.as_str() {
        _ if doc.meta.kind == crate::model::Kind::Oauth2 => "access_token",
        "bearer_token" => "token",
        "api_key" => "api_key",
        "oauth2" => "access_token",
        other => {
            return Err(usage(format!("'{}' ({other}) has no token", doc.meta.name))
                .hint("tokens exist for bearer, api-key and OAuth2 configs; use `authcfg export` for the others")
                .into())
        }
    };
    doc.get(field).filter(|v| !v.is_empty()).ok_or_else(|| {
        usage(format!("'{}' has no {field} yet", doc.meta.name))
            .hint(format!(
                "set it with `authcfg edit {} --secret-stdin {field}`",
                doc.meta.name
            ))
            .into()
    })
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<i32> {
    let s = ctx.session()?;
    let names = super::export::canonical(std::slice::from_ref(&args.name))?;
    let used = crate::ops::handout::read_for_use(&s, &names, "token")?;
    let token = token_of(&used.docs[0])?;
    used.record(&s)?;
    let mut o = std::io::stdout().lock();
    writeln!(o, "{token}")?;
    Ok(0)
}
