//! `authcfg webhook verify|sign NAME`: check a received webhook's signature
//! with a connector's signing secret, or make the headers the service would
//! send (for testing a receiver). The schemes are in `ops::webhook`.

use super::Ctx;
use crate::error::usage;
use crate::ops::webhook;
use std::io::IsTerminal;

pub const ABOUT: &str = "Check a received webhook's signature with a connector's signing secret (GitHub, Stripe, Slack, Shopify, Twilio, or a generic HMAC scheme: `add connector webhook-hmac`), or make the headers the service would send.

The body is read from standard input, byte for byte as received. Headers are given with --header 'NAME: VALUE', or the whole HTTP request (request line, headers, blank line, body) is given on standard input with --raw. Signatures are compared in constant time; a signed timestamp (Stripe, Slack, a generic scheme with a timestamp header) must be within --tolerance seconds of now.

`verify` exits 0 when the request verifies, 4 when it does not (no signature header, a wrong signature, a changed body, a timestamp out of tolerance), 2 for bad usage (Twilio without --url).";

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Check a request's signature (body on stdin; exit 4 when it does not verify)
    Verify(VerifyArgs),
    /// Print the headers the service would send with the body on stdin
    Sign(SignArgs),
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// The connector config holding the signing secret
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    name: String,
    /// A header of the request (repeat for each)
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Standard input is the whole HTTP request, not only its body
    #[arg(long, conflicts_with = "headers")]
    raw: bool,
    /// The URL the service called, with its query (Twilio signs it)
    #[arg(long)]
    url: Option<String>,
    /// Seconds a signed timestamp may be away from now
    #[arg(long, value_name = "SECONDS", default_value_t = webhook::DEFAULT_TOLERANCE)]
    tolerance: u64,
}

#[derive(clap::Args)]
struct SignArgs {
    /// The connector config holding the signing secret
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    name: String,
    /// The URL the service calls (Twilio signs it)
    #[arg(long)]
    url: Option<String>,
    /// The Unix time to sign (default: now)
    #[arg(long, value_name = "SECONDS")]
    timestamp: Option<i64>,
}

/// The body on standard input, never waiting on a terminal.
fn stdin_body() -> anyhow::Result<Vec<u8>> {
    if std::io::stdin().is_terminal() {
        return Err(
            usage("the webhook body is read from standard input, which is a terminal")
                .hint("pipe the body in: `authcfg webhook verify NAME -H '...' < body.json`")
                .into(),
        );
    }
    Ok(crate::input::read(
        std::path::Path::new("-"),
        "the webhook body",
        webhook::MAX_BODY,
    )?)
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    match args.command {
        Sub::Verify(a) => verify(ctx, a),
        Sub::Sign(a) => sign(ctx, a),
    }
}

fn verify(ctx: &Ctx, a: VerifyArgs) -> crate::error::CommandResult {
    let headers = a
        .headers
        .iter()
        .map(|h| webhook::parse_header_arg(h))
        .collect::<Result<Vec<_>, _>>()?;
    let input = stdin_body()?;
    let mut req = if a.raw {
        webhook::parse_raw(&input)?
    } else {
        webhook::Request {
            headers,
            body: input,
            url: None,
        }
    };
    req.url = a.url;
    let s = ctx.session()?;
    let v = webhook::verify(&s, &a.name, &req, now(), a.tolerance)?;
    match v.timestamp {
        Some(t) => outln!(
            "verified: {} signature in {}, signed at {t} ({} s ago)",
            v.service.name(),
            v.header,
            now() - t
        ),
        None => outln!("verified: {} signature in {}", v.service.name(), v.header),
    }
    Ok(())
}

fn sign(ctx: &Ctx, a: SignArgs) -> crate::error::CommandResult {
    let body = stdin_body()?;
    let s = ctx.session()?;
    let headers = webhook::sign(
        &s,
        &a.name,
        &body,
        a.url.as_deref(),
        a.timestamp.unwrap_or_else(now),
    )?;
    for (k, v) in headers {
        outln!("{k}: {v}");
    }
    Ok(())
}
