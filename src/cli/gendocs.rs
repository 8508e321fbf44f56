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
    for (name, page) in man_pages()? {
        std::fs::write(man.join(name), page)?;
    }
    Ok(())
}

/// Every man page, as (file name, roff): as clap_mangen::generate_to,
/// except that `authcfg.1` gets the reference sections (`manual`) in place
/// of clap's one "EXTRA".
pub fn man_pages() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let mut cmd = super::command().disable_help_subcommand(true);
    cmd.build();
    fn pages(cmd: &clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            pages(sub, out)?;
            let man = clap_mangen::Man::new(sub.clone());
            let mut page = Vec::new();
            man.render(&mut page)?;
            out.push((man.get_filename(), page));
        }
        Ok(())
    }
    let mut all = Vec::new();
    pages(&cmd, &mut all)?;
    let page = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    page.render_title(&mut out)?;
    page.render_name_section(&mut out)?;
    page.render_synopsis_section(&mut out)?;
    page.render_description_section(&mut out)?;
    page.render_options_section(&mut out)?;
    page.render_subcommands_section(&mut out)?;
    super::manual::roff().to_writer(&mut out)?;
    page.render_version_section(&mut out)?;
    all.push((page.get_filename(), out));
    Ok(all)
}
