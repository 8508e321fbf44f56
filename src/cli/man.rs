//! `authcfg man install`: the man pages (`authcfg.1` and one per
//! subcommand, as `generate-docs` commits them in `man/`) into the user's
//! XDG data directory, where man-db finds them.

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Write the man pages into $XDG_DATA_HOME/man/man1 (~/.local/share/man/man1)
    #[command(long_about = INSTALL_ABOUT)]
    Install(InstallArgs),
}

const INSTALL_ABOUT: &str = "Write `authcfg.1` and a page per subcommand into \
$XDG_DATA_HOME/man/man1 (XDG_DATA_HOME defaults to ~/.local/share). man-db \
searches it when ~/.local/bin is on your PATH; otherwise add the directory's \
parent to MANPATH. A packaged authcfg (the Debian package) installs the same \
pages in /usr/share/man/man1.";

#[derive(clap::Args)]
struct InstallArgs {}

pub fn run(args: Args) -> crate::error::CommandResult {
    let Action::Install(InstallArgs {}) = args.action;
    let base = super::install_base()?;
    let dir = base.data_dir().join("man/man1");
    for (name, page) in super::gendocs::man_pages()? {
        super::install_file(&dir.join(name), &page)?;
    }
    outln!("{}", dir.display());
    Ok(())
}
