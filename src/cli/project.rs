//! `authcfg project check|allow|deny`: the project file of the current
//! directory (`.authcfg.toml`, found from here up).

use super::Ctx;
use crate::error::{failure, Exit};
use crate::project::{self, trust, Approval};

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

A variable that a whole config exports (PGHOST, PGPORT, ...) can be replaced by [env]
only when the file says so: [overrides] default = [\"PGHOST\"].

A project file is used only when it is yours (it and the directories above it up to the
repository's root belong to you or root, and no other user can write them) and you
approved it as it is: `authcfg project allow` (at a terminal, the first use asks,
showing what the file wants). A changed file needs a new approval. CI opts in with
AUTHCFG_TRUST_PROJECT=<the file's SHA-256> or =<the checkout's directory>.

With direnv, .envrc (`export` refuses a file you did not allow, so a pull that changes
only .authcfg.toml loads nothing until you allow it again):
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
    /// Approve this project file as it is now (exec, export, the hook and
    /// direnv use only approved files)
    Allow {
        /// The project file (default: the one found from here up)
        file: Option<std::path::PathBuf>,
        /// Approve only if the file's SHA-256 is this (as the refusal names it)
        #[arg(long, value_name = "HEX")]
        sha256: Option<String>,
    },
    /// Withdraw `allow`
    Deny,
}

fn find_here() -> anyhow::Result<std::path::PathBuf> {
    let cwd = std::env::current_dir()?;
    Ok(project::find(&cwd).ok_or_else(|| {
        crate::error::usage(format!(
            "no {} in {} or above it",
            project::FILE_NAME,
            cwd.display()
        ))
        .hint("see `authcfg project --help` for the format")
    })?)
}

fn here() -> anyhow::Result<project::Project> {
    Ok(project::load(&find_here()?)?)
}

/// The project file `file`, if it may be used (`project::trust::open`):
/// at a terminal, a file not approved yet is shown and asked about.
pub fn trusted(ctx: &Ctx, file: &std::path::Path) -> anyhow::Result<project::Project> {
    let ask = |p: &project::Project| -> bool {
        eprintln!("{}", describe(p));
        dialoguer::Confirm::new()
            .with_prompt("Use this project file (and allow it as it is now)?")
            .default(false)
            .interact()
            .unwrap_or(false)
    };
    let how = trust::Ask {
        ask: ctx
            .interactive
            .then_some(&ask as &dyn Fn(&project::Project) -> bool),
        ..trust::Ask::quiet(&ctx.settings)
    };
    trust::open(file, &how).map_err(|r| r.into_error().into())
}

/// What a project file wants, for the approval question and `allow`:
/// each environment's configs, variables and overrides. The file is a
/// repository's: everything from it is outside text.
pub fn describe(p: &project::Project) -> String {
    use std::fmt::Write as _;
    let o = |t: &str| crate::text::escape(t, crate::text::SHOWN).into_owned();
    let mut out = format!(
        "{} (SHA-256 {}) wants:\n",
        o(&p.file.display().to_string()),
        p.digest
    );
    for (name, e) in &p.envs {
        let _ = writeln!(out, "  environment {}:", o(name));
        if !e.configs.is_empty() {
            let c: Vec<String> = e.configs.iter().map(|c| o(c)).collect();
            let _ = writeln!(out, "    every variable of: {}", c.join(", "));
        }
        for (var, value) in &e.vars {
            let v = match value {
                project::Value::Ref(r) => o(&r.to_string()),
                project::Value::Literal(l) => format!("= {}", o(&format!("{l:?}"))),
            };
            let over = if e.overrides.contains(var) {
                "  (OVERRIDES a pulled-in config's own value)"
            } else if !e.configs.is_empty() && project::family(var).is_some() {
                // A client setting (PGHOSTADDR): an override of a pulled-in
                // config of that client, refused unless declared.
                "  (a client setting: OVERRIDES a pulled-in config of that client; refused without [overrides])"
            } else {
                ""
            };
            let _ = writeln!(out, "    {} {v}{over}", o(var));
        }
    }
    if p.envs.is_empty() {
        out.push_str("  nothing (no [env] or [configs])\n");
    }
    out
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    match args.command {
        Sub::Check { envs, json } => check(ctx, envs, json),
        Sub::Allow { file, sha256 } => {
            let file = match file {
                Some(f) if f.is_dir() => f.join(project::FILE_NAME),
                Some(f) => f,
                None => find_here()?,
            };
            let file = std::path::absolute(&file)?;
            // Another user's file is refused; what is judged is what is read.
            let p = project::load_checked(&file).map_err(trust::Refusal::into_error)?;
            if let Some(want) = sha256 {
                let want = want.trim().trim_start_matches("sha256:");
                if !want.eq_ignore_ascii_case(&p.digest) {
                    return Err(failure(format!(
                        "{} is not the file you reviewed: its SHA-256 is {}, not {want}",
                        crate::text::Outside::new(p.file.display().to_string()),
                        p.digest
                    ))
                    .hint("review it again; nothing was allowed")
                    .into());
                }
            }
            project::allow(ctx.settings.state_dir.as_deref(), &p)
                .map_err(|e| failure(format!("cannot record the approval: {e}")))?;
            eprint!("{}", describe(&p));
            eprintln!(
                "Allowed as it is now: exec, export, the hook and direnv use it (a change needs a new `authcfg project allow`)"
            );
            Ok(())
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
            Ok(())
        }
    }
}

fn check(ctx: &Ctx, envs: Vec<String>, json: bool) -> crate::error::CommandResult {
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
                "note: the file changed since it was allowed; it is not used until `authcfg project allow`"
            ),
            Approval::Never => eprintln!(
                "note: this file is used only after `authcfg project allow`"
            ),
        }
    }
    if failed > 0 {
        if !json {
            eprintln!("{failed} reference(s) do not resolve");
        }
        return Err(crate::error::CommandError::reported(Exit::Error));
    }
    Ok(())
}
