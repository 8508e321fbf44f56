//! The command line: one file per subcommand, each with its clap `Args` and
//! its `run`. Only this module prints or prompts.

mod add;
mod add_connector;
mod add_oauth2;
mod completions;
mod connectors;
mod doctor;
mod edit;
mod exec;
mod export;
pub mod form;
mod gendocs;
mod header;
mod history;
mod import;
mod init;
mod inject;
mod list;
mod log;
pub mod master_key;
mod oauth_flow;
mod providers;
mod reauth;
mod recipients;
mod refresh;
mod remove;
mod rotate;
mod show;
mod test;
mod token;

use crate::error::{classify, Exit};
use crate::keys::{self, MasterKey};
use crate::store::Store;
use clap::{CommandFactory, Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "authcfg",
    version,
    about = "Encrypted credential manager: OAuth2 accounts, connectors and custom auth, tested and handed to programs safely",
    long_about = None,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Store directory (default: the platform data dir, ~/.local/share/authcfg on Linux)
    #[arg(long, global = true, env = "AUTHCFG_HOME", value_name = "DIR")]
    pub store: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create the store and its master key
    Init(init::Args),
    /// Add a config: an OAuth2 account or a custom auth type
    Add(add::Args),
    /// List configs
    #[command(visible_alias = "ls")]
    List(list::Args),
    /// Show one config (secrets masked unless --reveal)
    Show(show::Args),
    /// Change fields of a config
    Edit(edit::Args),
    /// Remove a config
    #[command(visible_alias = "rm")]
    Remove(remove::Args),
    /// Import configs from the seed's JSON shape ({"type", "name", "config"})
    Import(import::Args),
    /// Print configs as environment variables or files for other programs
    Export(export::Args),
    /// Run a command with configs in its environment
    Exec(exec::Args),
    /// Render {{ authcfg://NAME/FIELD }} references in a template
    Inject(inject::Args),
    /// Print a config's token (bearer token, OAuth2 access token, API key)
    Token(token::Args),
    /// Print a config's ready HTTP header line
    Header(header::Args),
    /// Prove configs work against the real service
    Test(test::Args),
    /// Refresh OAuth2 access tokens (automatic on use anyway)
    Refresh(refresh::Args),
    /// Run a new OAuth2 authorization for an existing config
    Reauth(reauth::Args),
    /// Rotate a credential (database passwords in two phases on the server)
    Rotate(rotate::Args),
    /// Who can decrypt the store: team members' and CI keys
    Recipients(recipients::Args),
    /// Previous values of a config's secrets
    History(history::Args),
    /// Restore a previous value from the history
    Rollback(history::RollbackArgs),
    /// The native connector catalog (100+ services)
    Connectors(connectors::Args),
    /// The built-in OAuth2 provider catalog
    Providers(providers::Args),
    /// Show the audit trail
    Log(log::Args),
    /// Check the key source, permissions, store health and audit chain
    Doctor(doctor::Args),
    /// Print shell completions
    Completions(completions::Args),
    #[command(hide = true)]
    GenerateDocs(gendocs::Args),
}

/// What every command needs: where the store is and whether a person is there.
pub struct Ctx {
    pub store_dir: PathBuf,
    pub interactive: bool,
}

impl Ctx {
    pub fn open(&self) -> anyhow::Result<Store> {
        Store::open(&self.store_dir)
    }

    /// The store and its master key, checked against the store's recipients.
    pub fn unlock(&self) -> anyhow::Result<(Store, MasterKey)> {
        let store = self.open()?;
        let interactive = self.interactive;
        let prompt = move || {
            if !interactive {
                return None;
            }
            dialoguer::Password::new()
                .with_prompt("Passphrase for the authcfg store")
                .interact()
                .ok()
                .map(zeroize::Zeroizing::new)
        };
        let mut key = keys::load(&store, &prompt)?;
        if recipients::in_progress(&store) {
            recipients::resume(self, &store, &key)?;
            let store = self.open()?;
            store.check_identity(&key.identity)?;
            return Ok((store, key));
        }
        if master_key::in_progress(&store) {
            key = master_key::resume(self, &store, &key, None)?;
            let store = self.open()?;
            store.check_identity(&key.identity)?;
            return Ok((store, key));
        }
        store.check_identity(&key.identity)?;
        master_key::expire_retained(self, &store);
        Ok((store, key))
    }

    pub fn audit(&self, action: &str, config: Option<&str>, outcome: &str, detail: Option<&str>) {
        if let Err(e) = crate::audit::append(&self.store_dir, action, config, outcome, detail) {
            eprintln!("warning: could not write the audit trail: {e}");
        }
    }
}

pub fn command() -> clap::Command {
    Cli::command()
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage as i32
            } else {
                0
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            let (exit, hint) = classify(&err);
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            if let Some(h) = hint {
                eprintln!("hint: {h}");
            }
            exit as i32
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    let store_dir = Store::locate(cli.store)?;
    let ctx = Ctx {
        store_dir,
        interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal(),
    };
    match cli.command {
        Command::Init(a) => init::run(&ctx, a),
        Command::Add(a) => add::run(&ctx, a),
        Command::List(a) => list::run(&ctx, a),
        Command::Show(a) => show::run(&ctx, a),
        Command::Edit(a) => edit::run(&ctx, a),
        Command::Remove(a) => remove::run(&ctx, a),
        Command::Import(a) => import::run(&ctx, a),
        Command::Export(a) => export::run(&ctx, a),
        Command::Exec(a) => exec::run(&ctx, a),
        Command::Inject(a) => inject::run(&ctx, a),
        Command::Token(a) => token::run(&ctx, a),
        Command::Header(a) => header::run(&ctx, a),
        Command::Log(a) => log::run(&ctx, a),
        Command::Test(a) => test::run(&ctx, a),
        Command::Refresh(a) => refresh::run(&ctx, a),
        Command::Reauth(a) => reauth::run(&ctx, a),
        Command::Providers(a) => providers::run(a),
        Command::Connectors(a) => connectors::run(a),
        Command::Rotate(a) => rotate::run(&ctx, a),
        Command::History(a) => history::run(&ctx, a),
        Command::Recipients(a) => recipients::run(&ctx, a),
        Command::Rollback(a) => history::rollback(&ctx, a),
        Command::Doctor(a) => doctor::run(&ctx, a),
        Command::Completions(a) => completions::run(a),
        Command::GenerateDocs(a) => gendocs::run(a),
    }
}

/// Prints JSON to stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
