//! `authcfg project check|allow|deny`: the project file of the current
//! directory (`.authcfg.toml`, found from here up).

use super::Ctx;
use crate::error::{failure, Exit};
use crate::project::{self, Approval};

pub const ABOUT: &str = "\
A project file, .authcfg.toml at a repository's root, says which credentials the
project needs, as references to configs, never as values:

  [env]                                    # the default environment
  STRIPE_KEY = \"authcfg://dev/stripe/api_key\"
  LOG_LEVEL = \"debug\"                      # plain values are allowed, secrets are not
  [env.production]
  STRIPE_KEY = \"authcfg://prod/stripe/api_key\"
  [configs]                                # whole configs: all their variables
  default    = [\"dev/pg\"]                  # PGHOST, PGUSER, PGPASSWORD, DATABASE_URL, ...
  production = [\"prod/pg\"]

`authcfg exec -- CMD` and `authcfg export` with no names use it (`--env production`
or AUTHCFG_ENV picks a section; environments do not inherit from each other).
Variables in [env] win over a whole config's. A value that looks like a secret
(a known token prefix, a private key, a password in a URL, a long random string) is
refused with the reason; variables that change how programs start (PATH, LD_*, ...)
cannot be set.

With direnv, .envrc:
  watch_file .authcfg.toml
  eval \"$(authcfg export --format env)\"

Without it: `eval \"$(authcfg hook bash)\"` (or zsh; fish: `authcfg hook fish | source`)
in your shell's start-up file loads the variables on `cd` into the project and
unloads them on the way out, once you `authcfg project allow` the file.";

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Which references do not resolve, and why (no value is shown or handed out)
    Check {
        /// Only these environments (default: all)
        #[arg(long = "env", value_name = "NAME")]
        envs: Vec<String>,
        /// Machine-readable output
        #[arg(long)]
        json: bool,
    },
    /// Let `authcfg hook` load this project file, as it is now
    Allow,
    /// Withdraw `allow`
    Deny,
}

fn here() -> anyhow::Result<project::Project> {
    let cwd = std::env::current_dir()?;
    let file = project::find(&cwd).ok_or_else(|| {
        crate::error::usage(format!(
            "no {} in {} or above it",
            project::FILE_NAME,
            cwd.display()
        ))
        .hint("see `authcfg project --help` for the format")
    })?;
    Ok(project::load(&file)?)
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<i32> {
    match args.command {
        Sub::Check { envs, json } => check(ctx, envs, json),
        Sub::Allow => {
            let p = here()?;
            let path = project::allow(ctx.settings.state_dir.as_deref(), &p)
                .map_err(|e| failure(format!("cannot record the approval: {e}")))?;
            let _ = path;
            eprintln!(
                "Allowed {} as it is now; `authcfg hook` loads it (a change needs a new `authcfg project allow`)",
                crate::text::Outside::new(p.file.display().to_string())
            );
            Ok(0)
        }
        Sub::Deny => {
            let p = here()?;
            let was = project::deny(ctx.settings.state_dir.as_deref(), &p)
                .map_err(|e| failure(format!("cannot remove the approval: {e}")))?;
            eprintln!(
                "{} {}",
                if was {
                    "No longer allowed:"
                } else {
                    "Was not allowed:"
                },
                crate::text::Outside::new(p.file.display().to_string())
            );
            Ok(0)
        }
    }
}

fn check(ctx: &Ctx, envs: Vec<String>, json: bool) -> anyhow::Result<i32> {
    let p = here()?;
    let s = ctx.session()?;
    let rows = crate::ops::project::check(&s, &p, &envs)?;
    let failed = rows.iter().filter(|r| !r.ok).count();
    if json {
        let mut v = serde_json::json!({
            "file": p.file.display().to_string(),
            "allowed": project::approval(ctx.settings.state_dir.as_deref(), &p) == Approval::Allowed,
            "ok": failed == 0,
            "references": rows,
        });
        // The file's path and names are a repository's: outside text.
        crate::text::escape_json(&mut v, crate::text::SHOWN);
        super::print_json(&v)?;
    } else {
        // The file and what it names are a repository's: outside text.
        let esc = |t: &str| crate::text::escape(t, crate::text::SHOWN).into_owned();
        println!("{}", esc(&p.file.display().to_string()));
        let w_env = rows.iter().map(|r| r.env.len()).max().unwrap_or(0);
        let w_var = rows.iter().map(|r| r.variable.len()).max().unwrap_or(0);
        for r in &rows {
            println!(
                "{} {:w_env$}  {:w_var$}  {}: {}",
                if r.ok { "ok  " } else { "FAIL" },
                esc(&r.env),
                esc(&r.variable),
                esc(&r.reference),
                esc(&r.detail)
            );
        }
        if rows.is_empty() {
            println!("(the file declares no variables or configs)");
        }
        match project::approval(ctx.settings.state_dir.as_deref(), &p) {
            Approval::Allowed => {}
            Approval::Changed => eprintln!(
                "note: the file changed since it was allowed; `authcfg hook` will not load it until `authcfg project allow`"
            ),
            Approval::Never => eprintln!(
                "note: `authcfg hook` loads this file only after `authcfg project allow`"
            ),
        }
    }
    if failed > 0 {
        if !json {
            eprintln!("{failed} reference(s) do not resolve");
        }
        return Ok(Exit::Error as i32);
    }
    Ok(0)
}
