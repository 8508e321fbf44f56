//! `authcfg header NAME`: the ready HTTP header line, for `curl -H "$(authcfg header X)"`.

use super::Ctx;
use crate::error::usage;
use crate::model::ConfigDoc;
use base64::Engine;
use std::io::Write;

#[derive(clap::Args)]
pub struct Args {
    /// Config name
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    name: String,
    #[command(flatten)]
    pub consumer: super::export::ConsumerArgs,
}

pub fn header_of(doc: &ConfigDoc) -> anyhow::Result<String> {
    let get = |f: &str| doc.get(f).unwrap_or_default();
    let name = &doc.meta.name;
    let line = match doc.meta.type_id.as_str() {
        _ if doc.meta.kind == crate::model::Kind::Oauth2 => format!(
            "Authorization: {} {}",
            doc.get("token_type")
                .filter(|t| !t.is_empty())
                .unwrap_or("Bearer"),
            super::token::token_of(doc)?
        ),
        "bearer_token" => format!(
            "{}: {}{}",
            doc.get("header_name")
                .filter(|h| !h.is_empty())
                .unwrap_or("Authorization"),
            get("prefix"),
            get("token")
        ),
        "api_key" => match get("location") {
            "header" => format!("{}: {}{}", get("key_name"), get("prefix"), get("api_key")),
            "cookie" => format!(
                "Cookie: {}={}{}",
                get("key_name"),
                get("prefix"),
                get("api_key")
            ),
            _ => {
                return Err(usage(format!(
                    "'{name}' sends its key as the query parameter '{}', not as a header",
                    get("key_name")
                ))
                .hint(format!(
                    "append it to the URL: \"https://host/path?{}=$(authcfg token {name})\"",
                    get("key_name")
                ))
                .into())
            }
        },
        "basic_auth" => format!(
            "Authorization: Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                get("username"),
                get("password")
            ))
        ),
        "oauth2" => format!("Authorization: Bearer {}", super::token::token_of(doc)?),
        other => {
            return Err(usage(format!("'{name}' ({other}) has no HTTP header"))
                .hint("headers exist for bearer, api-key, basic and OAuth2 configs")
                .into())
        }
    };
    Ok(line)
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<i32> {
    let s = ctx.session()?;
    let names = super::export::canonical(std::slice::from_ref(&args.name))?;
    let used = crate::ops::handout::read_for_use(&s, &names, "header")?;
    let line = zeroize::Zeroizing::new(header_of(&used.docs[0])?);
    used.record(&s)?;
    let mut o = std::io::stdout().lock();
    writeln!(o, "{}", *line)?;
    Ok(0)
}
