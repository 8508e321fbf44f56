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

pub fn run(args: Args) -> anyhow::Result<i32> {
    let comp = args.out.join("completions");
    let man = args.out.join("man");
    std::fs::create_dir_all(&comp)?;
    std::fs::create_dir_all(&man)?;
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::PowerShell,
    ] {
        let mut cmd = super::command();
        clap_complete::generate_to(shell, &mut cmd, "authcfg", &comp)?;
    }
    let cmd = super::command();
    clap_mangen::generate_to(cmd, &man)?;
    Ok(0)
}
