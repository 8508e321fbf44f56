//! Hidden `generate-docs`: writes the committed `completions/` and `man/`
//! from the clap tree. A test runs it into a temp dir and compares.

use clap_complete::Shell;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Directory that receives completions/ and man/
    #[arg(long, default_value = ".")]
    out: PathBuf,
}

pub fn run(args: Args) -> crate::error::CommandResult {
    let comp = args.out.join("completions");
    let man = args.out.join("man");
    std::fs::create_dir_all(&comp)?;
    std::fs::create_dir_all(&man)?;
    // The dynamic registration (the shell asks `authcfg`, so config names
    // complete), under the names shells look for.
    for (shell, file) in [
        (Shell::Bash, "authcfg.bash"),
        (Shell::Zsh, "_authcfg"),
        (Shell::Fish, "authcfg.fish"),
        (Shell::Elvish, "authcfg.elv"),
        (Shell::PowerShell, "_authcfg.ps1"),
    ] {
        let mut out = Vec::new();
        super::completions::write(shell, false, &mut out)?;
        std::fs::write(comp.join(file), out)?;
    }
    let cmd = super::command();
    clap_mangen::generate_to(cmd, &man)?;
    Ok(())
}
