//! `authcfg completions SHELL`: the shell code that registers dynamic
//! completion (the shell asks `authcfg` itself, so config names, provider
//! and connector ids complete as they are now), or with `--static` a
//! script of the command line's shape alone.

use clap_complete::env::EnvCompleter;
use clap_complete::Shell;

/// The variable the registration sets when it asks for completions (not
/// clap's generic `COMPLETE`, which another program may also use).
pub const VAR: &str = "AUTHCFG_COMPLETE";

#[derive(clap::Args)]
pub struct Args {
    /// bash, zsh, fish, elvish or powershell
    shell: Shell,
    /// A fixed script (subcommands and flags only; no config names)
    #[arg(long = "static")]
    fixed: bool,
}

pub fn run(args: Args) -> crate::error::CommandResult {
    write(args.shell, args.fixed, &mut std::io::stdout().lock())?;
    Ok(())
}

/// The completion script for `shell` (also what `generate-docs` commits).
pub fn write(shell: Shell, fixed: bool, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    if fixed {
        let mut cmd = super::command();
        clap_complete::generate(shell, &mut cmd, "authcfg", out);
        return Ok(());
    }
    let completer: &dyn EnvCompleter = match shell {
        Shell::Bash => &clap_complete::env::Bash,
        Shell::Zsh => &clap_complete::env::Zsh,
        Shell::Fish => &clap_complete::env::Fish,
        Shell::Elvish => &clap_complete::env::Elvish,
        Shell::PowerShell => &clap_complete::env::Powershell,
        _ => {
            return Err(crate::error::usage("this shell has no dynamic completion")
                .hint("pass --static")
                .into())
        }
    };
    completer.write_registration(VAR, "authcfg", "authcfg", "authcfg", out)?;
    Ok(())
}
