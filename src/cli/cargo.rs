//! cargo's credential provider (`ops::cargo_credential`): cargo runs
//! `authcfg --cargo-plugin` (or a link named `cargo-credential-authcfg`),
//! authcfg says hello and answers each request line on stdout. Never asks
//! at a terminal; nothing secret on stderr.

use crate::ops::cargo_credential::{self as cc, Request};
use crate::settings::Settings;
use std::io::{BufRead, Read, Write};

/// The name of a link to authcfg that runs the provider.
pub const LINK_NAME: &str = "cargo-credential-authcfg";

/// Whether this process was started as cargo's credential provider.
pub fn invoked_as_plugin() -> bool {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let by_name = args
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .is_some_and(|n| n == LINK_NAME);
    by_name || (args.len() == 2 && args[1] == "--cargo-plugin")
}

#[derive(clap::Args)]
pub struct Args {
    /// What cargo passes (accepted, not needed)
    #[arg(long)]
    cargo_plugin: bool,
}

pub fn run(settings: &Settings, _args: Args) -> crate::error::CommandResult {
    serve(settings)?;
    Ok(())
}

/// The protocol on stdin/stdout until cargo closes stdin.
pub fn serve(settings: &Settings) -> anyhow::Result<()> {
    let mut settings = settings.clone();
    // cargo owns the terminal: never ask there.
    settings.interactive = false;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", cc::hello())?;
    out.flush()?;
    let stdin = std::io::stdin();
    if std::io::IsTerminal::is_terminal(&stdin) {
        // Only cargo speaks this protocol: never wait on a person.
        writeln!(
            out,
            "{}",
            cc::other("authcfg: this is cargo's credential provider; cargo runs it (see `authcfg help cargo-credential`)")
        )?;
        return Err(crate::error::usage(
            "standard input is a terminal: cargo runs the credential provider",
        )
        .into());
    }
    let mut input = stdin.lock().take(u64::MAX);
    loop {
        let mut line = Vec::new();
        input.set_limit(cc::MAX_LINE as u64 + 1);
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let answer = if line.len() > cc::MAX_LINE {
            cc::other("authcfg: the request is too long")
        } else {
            match Request::parse(&String::from_utf8_lossy(&line)) {
                Err(e) => e,
                Ok(req) => answer(&settings, &req),
            }
        };
        writeln!(out, "{answer}")?;
        out.flush()?;
        if line.len() > cc::MAX_LINE {
            return Ok(());
        }
    }
}

fn answer(settings: &Settings, req: &Request) -> serde_json::Value {
    if !req.setup.matches(&req.index_url) || req.kind != "get" {
        // Decided without the store.
        let e = crate::error::failure("not opened");
        return cc::answer(Err(&e), req);
    }
    let opened = crate::store::Store::locate(
        req.setup
            .store
            .clone()
            .or_else(|| settings.store_dir.clone()),
    )
    .and_then(|dir| {
        crate::ops::Session::open(settings, &dir, &crate::ops::Silent).map(|s| (s, dir))
    });
    match opened {
        Ok((s, _)) => cc::answer(Ok(&s), req),
        Err(e) => {
            let (exit, hint) = crate::error::classify(&e);
            let mut u = crate::error::UserError::new(exit, format!("{e:#}"));
            u.hint = hint;
            cc::answer(Err(&u), req)
        }
    }
}
