//! `authcfg http NAME URL`: an HTTP request with the config's credential
//! attached by authcfg (like `gh api` or `oauth2l curl`); the secret is
//! never printed, and an answer that echoes it shows `[REDACTED:...]`.

use super::Ctx;
use crate::error::{usage, Exit, UserError};
use crate::ops::http::{Limits, Request};
use crate::text::{escape, escape_lines};
use std::borrow::Cow;
use std::io::{IsTerminal, Read, Write};
use std::time::Duration;

#[derive(clap::Args)]
#[command(
    after_help = "The URL must be https (or http on a loopback host) and on one of the config's \
allowed origins (field allowed_origins; default: the origin of its test URL or base URL, or the \
provider's API origins). Redirects are followed only within the origin. Caller headers may not set \
Authorization, Cookie, Host or the config's own key header.\n\nExamples:\n  \
authcfg http github https://api.github.com/user\n  \
authcfg http prod/stripe https://api.stripe.com/v1/charges -d amount=100 -d currency=eur\n  \
authcfg http prod/api https://api.example.com/items -X PUT -H 'Content-Type: application/json' -d @item.json --fail"
)]
pub struct Args {
    /// Config name
    name: String,
    /// Request URL
    url: String,
    /// Method (default: GET, or POST with a body)
    #[arg(short = 'X', long = "request", value_name = "METHOD")]
    method: Option<String>,
    /// Extra header 'Name: value' (repeatable)
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    headers: Vec<String>,
    /// Body: text, or @FILE (repeated: joined with '&', as curl does)
    #[arg(
        short = 'd',
        long = "data",
        value_name = "BODY|@FILE",
        conflicts_with = "data_stdin"
    )]
    data: Vec<String>,
    /// Read the body from standard input
    #[arg(long)]
    data_stdin: bool,
    /// Print the status line and response headers before the body
    #[arg(short = 'i', long, conflicts_with = "json")]
    include: bool,
    /// Exit with code 4 on a status that is not 2xx (the body is not printed)
    #[arg(short = 'f', long)]
    fail: bool,
    /// Print {status, reason, headers, body} as JSON
    #[arg(long)]
    json: bool,
    /// Seconds the request may take (default: AUTHCFG_HTTP_TIMEOUT, 30)
    #[arg(long, value_name = "S")]
    max_time: Option<u64>,
    /// Largest body kept, in bytes (at most 256 MiB); a longer answer is cut (and says so)
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024,
          value_parser = crate::ops::http::parse_max_body)]
    max_body: usize,
}

/// The longest header name or value shown at a terminal.
const HEADER: usize = 4096;

fn body(args: &Args) -> anyhow::Result<Option<Vec<u8>>> {
    if args.data_stdin {
        let mut b = vec![];
        std::io::stdin().read_to_end(&mut b)?;
        return Ok(Some(b));
    }
    if args.data.is_empty() {
        return Ok(None);
    }
    let mut parts = vec![];
    for d in &args.data {
        match d.strip_prefix('@') {
            Some(path) => parts.push(crate::input::read(
                std::path::Path::new(path),
                "the request body",
                crate::input::MAX_INPUT,
            )?),
            None => parts.push(d.as_bytes().to_vec()),
        }
    }
    Ok(Some(parts.join(&b'&')))
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let mut headers = vec![];
    for h in &args.headers {
        let (k, v) = h
            .split_once(':')
            .ok_or_else(|| usage(format!("'{h}' is not 'Name: value'")))?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let req = Request {
        method: args.method.clone().unwrap_or_default(),
        url: args.url.clone(),
        headers,
        body: body(&args)?,
    };
    let s = ctx.session()?;
    let name = super::export::canonical(std::slice::from_ref(&args.name))?.remove(0);
    let limits = Limits {
        timeout: args
            .max_time
            .map(Duration::from_secs)
            .unwrap_or(ctx.settings.http_timeout),
        max_body: args.max_body,
    };
    let resp = crate::ops::http::request(&s, &name, &req, limits, "http")?;
    let ok = (200..300).contains(&resp.status);
    if args.fail && !ok {
        return Err(UserError::new(
            Exit::TestFailed,
            format!("HTTP {} {}", resp.status, resp.reason),
        )
        .into());
    }
    // The answer is the server's (outside text): at a terminal it is shown
    // escaped, one header per line; piped, it is passed on as received.
    let terminal = std::io::stdout().is_terminal();
    let mut escaped = false;
    let mut o = std::io::stdout().lock();
    if args.json {
        let json = serde_json::to_string_pretty(&resp.to_json())?;
        if terminal {
            // Still JSON of the same value (hidden characters as \uXXXX).
            let shown = crate::text::escape_json_text(&json);
            escaped |= matches!(shown, Cow::Owned(_));
            writeln!(o, "{shown}")?;
        } else {
            writeln!(o, "{json}")?;
        }
    } else {
        if args.include {
            write!(o, "HTTP {} {}\r\n", resp.status, resp.reason)?;
            for (k, v) in &resp.headers {
                if terminal {
                    let (k, v) = (escape(k, HEADER), escape(v, HEADER));
                    escaped |= matches!(k, Cow::Owned(_)) || matches!(v, Cow::Owned(_));
                    write!(o, "{k}: {v}\r\n")?;
                } else {
                    write!(o, "{k}: {v}\r\n")?;
                }
            }
            write!(o, "\r\n")?;
        }
        if terminal {
            let text = String::from_utf8_lossy(&resp.body);
            let shown = escape_lines(&text, usize::MAX);
            escaped |= matches!(shown, Cow::Owned(_)) || matches!(text, Cow::Owned(_));
            o.write_all(shown.as_bytes())?;
        } else {
            o.write_all(&resp.body)?;
        }
    }
    o.flush()?;
    if escaped {
        eprintln!("note: control and invisible characters of the answer were escaped for the terminal; pipe the output for the bytes as received");
    }
    if resp.truncated {
        eprintln!(
            "warning: the answer was longer than {} bytes and was cut",
            args.max_body
        );
    }
    Ok(())
}
