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
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    /// bash, zsh, fish, elvish or powershell
    #[arg(required = true)]
    shell: Option<Shell>,
    /// A fixed script (subcommands and flags only; no config names)
    #[arg(long = "static")]
    fixed: bool,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Write the registration for bash, zsh and fish into your XDG places
    #[command(long_about = INSTALL_ABOUT)]
    Install(InstallArgs),
}

const INSTALL_ABOUT: &str =
    "Write the dynamic registration (as `authcfg completions SHELL` prints it) \
where each shell looks for a user's completions:

  bash  $XDG_DATA_HOME/bash-completion/completions/authcfg (loaded on demand by bash-completion)
  zsh   $XDG_DATA_HOME/zsh/site-functions/_authcfg (add that directory to your fpath)
  fish  $XDG_CONFIG_HOME/fish/completions/authcfg.fish

XDG_DATA_HOME defaults to ~/.local/share and XDG_CONFIG_HOME to ~/.config. \
A packaged authcfg (the Debian package) installs the same files in the system places.";

#[derive(clap::Args)]
struct InstallArgs {
    /// Only this shell (repeatable; default: bash, zsh and fish)
    #[arg(long = "shell", value_name = "SHELL", value_parser = ["bash", "zsh", "fish"])]
    shells: Vec<String>,
}

pub fn run(args: Args) -> crate::error::CommandResult {
    if let Some(Action::Install(a)) = args.action {
        return install(a);
    }
    let shell = args
        .shell
        .expect("clap requires SHELL without a subcommand");
    write(shell, args.fixed, &mut std::io::stdout().lock())?;
    Ok(())
}

/// Where each shell looks for a user's completion file (see INSTALL_ABOUT).
fn place(shell: Shell, base: &directories::BaseDirs) -> std::path::PathBuf {
    match shell {
        Shell::Bash => base.data_dir().join("bash-completion/completions/authcfg"),
        Shell::Zsh => base.data_dir().join("zsh/site-functions/_authcfg"),
        _ => base.config_dir().join("fish/completions/authcfg.fish"),
    }
}

fn install(args: InstallArgs) -> crate::error::CommandResult {
    let base = super::install_base()?;
    let shells: Vec<Shell> = if args.shells.is_empty() {
        vec![Shell::Bash, Shell::Zsh, Shell::Fish]
    } else {
        let mut v: Vec<Shell> = args
            .shells
            .iter()
            .map(|s| s.parse().expect("clap checked the name"))
            .collect();
        v.dedup();
        v
    };
    for shell in shells {
        let mut text = Vec::new();
        write(shell, false, &mut text)?;
        let path = place(shell, &base);
        super::install_file(&path, &text)?;
        outln!("{}", path.display());
        if shell == Shell::Zsh {
            eprintln!(
                "zsh: add {} to your fpath (before compinit) if it is not there",
                path.parent().unwrap().display()
            );
        }
    }
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
