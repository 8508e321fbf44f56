//! `authcfg mcp`: the Model Context Protocol server for agents. stdout
//! carries JSON-RPC only (stdio transport); every notice goes to stderr.

use super::Ctx;
use crate::error::usage;
use crate::mcp::{self, transport, Options, Server};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args)]
#[command(
    after_help = "Tools: list_configs, http_request, sql_query, test_config \
(reveal_secret only with --allow-reveal; run_command only with --allow-run). No tool returns a secret: answers are redacted.\n\n\
Examples:\n  authcfg mcp --expose 'github' --expose 'prod/*'\n  \
authcfg mcp --http 127.0.0.1:8765 --expose 'prod/*' --token-file ~/.config/authcfg-mcp.token"
)]
pub struct Args {
    /// Offer the configs whose names match GLOB (`*`, `?`; repeatable). Default:
    /// AUTHCFG_MCP_EXPOSE (comma-separated), else none
    #[arg(long, value_name = "GLOB")]
    expose: Vec<String>,
    /// Serve streamable HTTP on this loopback address instead of stdio
    /// (127.0.0.1:PORT; port 0 picks a free one)
    #[arg(long, value_name = "127.0.0.1:PORT")]
    http: Option<String>,
    /// Where the HTTP bearer token is written (mode 0600); default
    /// $XDG_STATE_HOME/authcfg/mcp-PORT.token
    #[arg(long, value_name = "FILE", requires = "http")]
    token_file: Option<PathBuf>,
    /// Offer the run_command tool for these programs (looked up in PATH now;
    /// a shell only by its own name): each runs with placeholders, through
    /// the exec proxy, its output masked
    #[arg(long, value_name = "PROG", num_args = 1..)]
    allow_run: Vec<String>,
    /// Pass this variable of the server's environment on to run_command's
    /// programs (repeatable; by default they get only PATH, HOME, LANG,
    /// LC_*, TERM, USER, LOGNAME, TMPDIR, TZ, the configs' variables and
    /// the proxy's)
    #[arg(long, value_name = "VAR", requires = "allow_run")]
    run_env: Vec<String>,
    /// Offer the reveal_secret tool, which returns secret values (not recommended)
    #[arg(long)]
    allow_reveal: bool,
    /// Largest HTTP response body a tool returns, in bytes (at most 256 MiB)
    #[arg(long, value_name = "BYTES", default_value_t = 256 * 1024,
          value_parser = crate::ops::http::parse_max_body)]
    max_body: usize,
    /// Most rows sql_query returns
    #[arg(long, value_name = "N", default_value_t = 500)]
    max_rows: usize,
    /// Seconds one tool call may take (default: AUTHCFG_HTTP_TIMEOUT, 30)
    #[arg(long, value_name = "S")]
    timeout: Option<u64>,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let notice = |m: &str| eprintln!("{m}");
    let mut expose = args.expose.clone();
    if expose.is_empty() {
        if let Some(v) = &ctx.settings.mcp_expose {
            expose = v
                .split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_string)
                .collect();
        }
    }
    let addr = args
        .http
        .as_deref()
        .map(transport::parse_addr)
        .transpose()?;
    if args.max_body == 0 || args.max_rows == 0 {
        return Err(usage("--max-body and --max-rows must be above 0").into());
    }
    let path_var = std::env::var_os("PATH");
    let allow_run = crate::ops::run::allow::resolve(&args.allow_run, path_var.as_deref())?;
    let opts = Options {
        allow_run,
        run_env: args.run_env.clone(),
        expose,
        allow_reveal: args.allow_reveal,
        max_body: args.max_body,
        max_rows: args.max_rows,
        timeout: args
            .timeout
            .map(Duration::from_secs)
            .unwrap_or(ctx.settings.http_timeout),
    };
    // The key comes from the environment or a keyring: a prompt would
    // write to the terminal the client is reading.
    let server = Arc::new(Server::start(
        &ctx.settings,
        ctx.store_dir.clone(),
        &super::UI,
        opts,
    )?);
    let exposed = server.exposed().len();
    if exposed == 0 {
        notice("authcfg mcp: no config is exposed; start it with --expose NAME-OR-GLOB (repeatable) or set AUTHCFG_MCP_EXPOSE");
    } else {
        notice(&format!(
            "authcfg mcp: {exposed} config(s) exposed: {}",
            server.exposed().join(", ")
        ));
    }
    for g in server.unmatched() {
        notice(&format!(
            "authcfg mcp: --expose {g} matches no config (`authcfg list` shows their names)"
        ));
    }
    for a in &server.options().allow_run {
        notice(&format!(
            "authcfg mcp: --allow-run: run_command may run {} ({})",
            a.name,
            a.canonical.display()
        ));
    }
    if server.options().allow_reveal {
        notice(
            "authcfg mcp: --allow-reveal: the reveal_secret tool hands secret values to the client",
        );
    }
    let rt = crate::net::runtime::runtime();
    match addr {
        None => {
            notice("authcfg mcp: serving over stdio");
            rt.block_on(mcp::serve_stdio(server))?;
        }
        Some(addr) => {
            let listener = rt.block_on(transport::bind(addr))?;
            let port = listener.addr.port();
            let token_file = args
                .token_file
                .clone()
                .or_else(|| transport::default_token_file(ctx.settings.state_dir.as_deref(), port))
                .ok_or_else(|| {
                    usage("no state directory for the token file: pass --token-file FILE")
                })?;
            let token = transport::new_token();
            transport::write_token(&token_file, &token)?;
            notice(&format!(
                "authcfg mcp: listening on http://{}{} (bearer token in {})",
                listener.addr,
                transport::PATH,
                token_file.display()
            ));
            // Until SIGTERM or SIGINT; then the token file goes.
            let served = rt.block_on(async {
                tokio::select! {
                    r = transport::serve(server, listener, token) => r,
                    r = crate::platform::stop_requested() => r.map_err(Into::into),
                }
            });
            let _ = std::fs::remove_file(&token_file);
            notice("authcfg mcp: stopped; token file removed");
            served?;
        }
    }
    Ok(())
}
