//! `authcfg completions SHELL`.

use clap_complete::Shell;

#[derive(clap::Args)]
pub struct Args {
    /// bash, zsh, fish, elvish or powershell
    shell: Shell,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let mut cmd = super::command();
    clap_complete::generate(args.shell, &mut cmd, "authcfg", &mut std::io::stdout());
    Ok(0)
}
