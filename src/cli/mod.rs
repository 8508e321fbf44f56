//! The command line: one file per subcommand, each with its clap `Args` and
//! its `run`. Only this module prints or prompts.

/// `println!` that returns the write error (a closed pipe ends the command
/// quietly in `main`) instead of panicking.
macro_rules! outln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($t)*)?
    }};
}

mod add;
mod aws;
mod cargo;
mod clip;
mod complete;
mod completions;
mod connectors;
mod docker;
mod doctor;
mod edit;
mod exec;
mod export;
pub mod form;
mod gendocs;
mod git;
mod header;
mod history;
mod hook;
mod http;
mod import;
mod init;
mod inject;
mod key;
mod kube;
mod leases;
mod list;
mod lock;
mod log;
mod man;
mod manual;
mod mcp;
mod oauth_flow;
mod otp;
mod project;
mod providers;
mod reauth;
mod recipients;
mod refresh;
mod remove;
mod rotate;
mod show;
mod status;
mod sync;
mod term;
mod test;
mod token;
mod trust;
mod webhook;

use crate::error::{classify, CommandError, CommandResult, Exit};
use crate::ops::{Session, Ui};
use crate::settings::Settings;
use crate::store::Store;
use clap::{CommandFactory, Parser, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;

const DOCKER_ABOUT: &str = "docker's credential helper and its setup for a registry host.

docker, skopeo and podman run `docker-credential-authcfg ACTION` (a link to authcfg) for the hosts the docker config's credHelpers names; `authcfg docker setup NAME HOST` binds a host to a config and writes that entry. Only bound hosts get a credential.";

/// `--as`: who the configs are handed to, for `list`'s Connections.
#[derive(clap::Args)]
pub struct ConsumerArgs {
    /// Record this use as made by LABEL (a job, a service) instead of the
    /// project, CI job or user found (also AUTHCFG_AS)
    #[arg(long = "as", value_name = "LABEL")]
    pub label: Option<String>,
}

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
    /// Store directory (default: $AUTHCFG_HOME, else the platform data dir,
    /// ~/.local/share/authcfg on Linux)
    // Not clap's `env`: clap would then print `--store <DIR>` in usage
    // lines as if it had to be given; `Settings` reads AUTHCFG_HOME.
    #[arg(long, global = true, value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// None: plain `authcfg` prints the short help (`short_help`).
    #[command(subcommand)]
    pub command: Option<Command>,
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
    /// Import configs: the seed's JSON ({"type", "name", "config"}) or a .env file
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
    /// Print the current one-time code of a TOTP config
    Otp(otp::Args),
    /// The project file (.authcfg.toml): check its references, allow the shell hook
    #[command(long_about = project::ABOUT)]
    Project(project::Args),
    /// Shell hook that loads a project's variables on `cd` (bash, zsh, fish)
    #[command(long_about = hook::ABOUT)]
    Hook(hook::Args),
    /// git's credential helper: answers git with a config's token (see `git setup`)
    GitCredential(git::CredentialArgs),
    /// Team stores on git (init, clone, autosync), and git's use of a config's token (setup)
    Git(git::Args),
    /// cargo's credential provider (cargo runs `authcfg --cargo-plugin`; see `man authcfg`)
    CargoCredential(cargo::Args),
    /// docker's credential helper (docker-credential-authcfg) and its setup for a registry host
    #[command(long_about = DOCKER_ABOUT)]
    Docker(docker::Args),
    /// kubectl's exec credential plugin and its setup for a context
    Kube(kube::Args),
    /// AWS sessions: credential_process for the AWS CLI and SDKs, start one with an MFA code
    Aws(aws::Args),
    /// Database leases of `exec --lease`: list them (after dropping those that ended), revoke
    Leases(leases::Args),
    /// Make an HTTP request with a config's credential attached (never printed)
    Http(http::Args),
    /// Check or make a webhook's signature with a connector's signing secret
    #[command(long_about = webhook::ABOUT)]
    Webhook(webhook::Args),
    /// Serve the configs as MCP tools for agents (stdio, or HTTP on loopback)
    Mcp(mcp::Args),
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
    /// Share a team store through git: commit, fetch, verify, merge, push
    #[command(long_about = sync::SYNC_ABOUT)]
    Sync(sync::Args),
    /// Show the configs a team sync left in conflict: each field with both sides
    Conflicts(sync::ConflictsArgs),
    /// End a merge conflict of a team store: keep ours, take theirs, or per field
    Resolve(sync::ResolveArgs),
    /// Trust the store's admin key (members: keys other than the master key)
    Trust(trust::Args),
    /// Your own key (to join a team) and a passphrase-protected backup of the key in use
    #[command(long_about = key::ABOUT)]
    Key(key::Args),
    /// Drop the master key cached in the session keyring (AUTHCFG_KEY_CACHE)
    Lock(lock::Args),
    /// Previous values of a config's secrets
    History(history::Args),
    /// Restore a previous value from the history
    Rollback(history::RollbackArgs),
    /// The native connector catalog (its size is filled in by `command`)
    Connectors(connectors::Args),
    /// The built-in OAuth2 provider catalog
    Providers(providers::Args),
    /// Show the audit trail
    Log(log::Args),
    /// Which store, which key, locked or not, and the configs that need attention
    Status(status::Args),
    /// Check the key source, permissions, store health and audit chain
    Doctor(doctor::Args),
    /// Print shell completions, or install them (`completions install`)
    Completions(completions::Args),
    /// Install the man pages into your XDG data directory
    Man(man::Args),
    #[command(hide = true)]
    GenerateDocs(gendocs::Args),
}

impl Command {
    /// `--as LABEL` of a hand-out.
    fn consumer_label(&self) -> Option<&str> {
        match self {
            Command::Export(a) => a.project.consumer.label.as_deref(),
            Command::Exec(a) => a.project.consumer.label.as_deref(),
            Command::Inject(a) => a.consumer.label.as_deref(),
            Command::Token(a) => a.consumer.label.as_deref(),
            Command::Header(a) => a.consumer.label.as_deref(),
            Command::Otp(a) => a.consumer.label.as_deref(),
            Command::GitCredential(a) => a.consumer.label.as_deref(),
            _ => None,
        }
    }
}

/// What every command needs: where the store is, the settings read once
/// from the environment, and whether a person is there.
pub struct Ctx {
    pub store_dir: PathBuf,
    pub settings: Settings,
    pub interactive: bool,
}

/// The terminal side of `ops::Ui`: notices on stderr, prompts with
/// dialoguer, progress bars only when stderr is a terminal.
pub struct CliUi;
pub static UI: CliUi = CliUi;

static PROGRESS: std::sync::Mutex<Option<indicatif::ProgressBar>> = std::sync::Mutex::new(None);

/// Writes a message authcfg composed (an error, a warning, a notice) to
/// stderr: `prefix`, then the message through `text::escape_message`, the
/// net for outside text that reached a message without being escaped when
/// it was put in (docs/ARCHITECTURE.md, "Outside text").
pub fn say(prefix: &str, message: &dyn std::fmt::Display) {
    let tone = match prefix.trim_start() {
        p if p.starts_with("error") => Some(term::Tone::Bad),
        p if p.starts_with("warning") => Some(term::Tone::Warn),
        _ => None,
    };
    let prefix = match tone {
        Some(t) => term::err(prefix, t),
        None => std::borrow::Cow::Borrowed(prefix),
    };
    eprintln!(
        "{prefix}{}",
        crate::text::escape_message(&message.to_string())
    );
}

/// An age plugin's messages and questions (touch your key, a PIN), at the
/// terminal; its text is outside text, escaped (docs/ARCHITECTURE.md, "age
/// plugins").
impl crate::store::crypt::PluginPrompts for CliUi {
    fn message(&self, plugin: &str, message: &str) {
        self.notice(&format!("age-plugin-{plugin}: {message}"));
    }
    fn confirm(&self, plugin: &str, message: &str, yes: &str, no: Option<&str>) -> Option<bool> {
        let prompt = format!("age-plugin-{plugin}: {}", crate::text::escape(message, 300));
        match no {
            Some(no) => dialoguer::Select::new()
                .with_prompt(prompt)
                .items(&[crate::text::escape(yes, 60), crate::text::escape(no, 60)])
                .default(0)
                .interact_opt()
                .ok()
                .flatten()
                .map(|i| i == 0),
            None => dialoguer::Confirm::new()
                .with_prompt(prompt)
                .default(true)
                .interact_opt()
                .ok()
                .flatten(),
        }
    }
    fn request(&self, plugin: &str, description: &str, secret: bool) -> Option<String> {
        let prompt = format!(
            "age-plugin-{plugin}: {}",
            crate::text::escape(description, 300)
        );
        if secret {
            dialoguer::Password::new()
                .with_prompt(prompt)
                .interact()
                .ok()
        } else {
            dialoguer::Input::<String>::new()
                .with_prompt(prompt)
                .interact_text()
                .ok()
        }
    }
}

impl Ui for CliUi {
    fn plugin_prompts(&self) -> crate::keys::Prompts {
        Some(&UI)
    }
    fn notice(&self, message: &str) {
        let message = crate::text::escape_message(message);
        match PROGRESS.lock().unwrap().as_ref() {
            Some(pb) => pb.println(message),
            None => eprintln!("{message}"),
        }
    }
    fn passphrase(&self) -> Option<zeroize::Zeroizing<String>> {
        dialoguer::Password::new()
            .with_prompt("Passphrase for the authcfg store")
            .interact()
            .ok()
            .map(zeroize::Zeroizing::new)
    }
    fn trust_admin(&self, fingerprint: &str) -> bool {
        eprintln!("This key is a member of the store. Its admin key has the fingerprint\n\n  {fingerprint}\n\nCheck it with the store's admin (`authcfg recipients list` shows it) before you trust it.");
        dialoguer::Confirm::new()
            .with_prompt("Trust this admin key for this store?")
            .default(false)
            .interact()
            .unwrap_or(false)
    }
    /// A bar of `done` of `total`, or a counter when the total is not known
    /// (`total` 0: an import streams its input); `done >= total > 0` ends it.
    fn progress(&self, what: &str, done: usize, total: usize) {
        if !std::io::stderr().is_terminal() {
            return;
        }
        let mut slot = PROGRESS.lock().unwrap();
        let known = total > 0;
        if slot
            .as_ref()
            .is_some_and(|pb| pb.length().is_some() != known)
        {
            if let Some(pb) = slot.take() {
                pb.finish_and_clear();
            }
        }
        let pb = slot.get_or_insert_with(|| {
            let (pb, template) = if known {
                (
                    indicatif::ProgressBar::new(total as u64),
                    "{msg} {bar:30} {pos}/{len} ({eta})",
                )
            } else {
                (indicatif::ProgressBar::no_length(), "{spinner} {msg} {pos}")
            };
            pb.set_style(
                indicatif::ProgressStyle::with_template(template).expect("valid template"),
            );
            pb.enable_steady_tick(std::time::Duration::from_millis(120));
            pb
        });
        pb.set_message(what.to_string());
        if known {
            pb.set_length(total as u64);
        }
        pb.set_position(done as u64);
        if known && done >= total {
            pb.finish_and_clear();
            *slot = None;
        }
    }
}

impl Ctx {
    /// The store unlocked and verified, an interrupted change completed.
    pub fn session(&self) -> anyhow::Result<Session<'_>> {
        Session::open(&self.settings, &self.store_dir, &UI)
    }
}

/// The command line as clap sees it (parsing, `--help`, completions, man
/// pages): the derive, with the catalog's real size in `connectors`' help.
pub fn command() -> clap::Command {
    Cli::command()
        .mut_subcommand("connectors", |c| {
            c.about(format!(
                "The native connector catalog ({} services)",
                crate::catalog::connectors::count()
            ))
        })
        .after_long_help(manual::plain())
}

/// The commands plain `authcfg` names, in the order a newcomer uses them.
const FIRST_COMMANDS: &[&str] = &[
    "init", "add", "list", "show", "test", "export", "exec", "status", "doctor",
];

/// What plain `authcfg` prints (stdout, exit 0: asking for nothing is
/// asking what the tool does): the about, the first commands with their
/// one-line help from the same clap tree as `--help`, and where to go on.
pub fn short_help() -> String {
    let cmd = command();
    let mut out = format!(
        "authcfg {}: {}\n\nUsage: authcfg [--store DIR] <COMMAND> [ARGS]\n\nFirst commands:\n",
        env!("CARGO_PKG_VERSION"),
        cmd.get_about().map(|a| a.to_string()).unwrap_or_default()
    );
    for name in FIRST_COMMANDS {
        if let Some(sub) = cmd.find_subcommand(name) {
            let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
            out.push_str(&format!("  {name:<8}  {about}\n"));
        }
    }
    let shown = cmd
        .get_subcommands()
        .filter(|c| !c.is_hide_set() && c.get_name() != "help")
        .count();
    out.push_str(&format!(
        "\n`authcfg --help` lists all {shown} commands, `authcfg help COMMAND` explains one,\n\
         and `man authcfg` has the exit codes, the environment and examples.\n"
    ));
    out
}

pub fn main() -> i32 {
    quiet_closed_stdout();
    // A panic that is a print to a stdout whose reader has gone ends the
    // command quietly, destructors run (every other panic goes on).
    match std::panic::catch_unwind(main_inner) {
        Ok(code) => code,
        Err(_) if STDOUT_GONE.load(std::sync::atomic::Ordering::SeqCst) => 0,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Set by the panic hook when a print failed because stdout's reader has
/// gone.
static STDOUT_GONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `authcfg show NAME | head -1`: the one place a closed stdout is handled
/// for every print. Writes through `outln!` return the error (`main`
/// ends quietly on it, `is_broken_pipe`); a `println!`, clap's or
/// clap_complete's writer panic instead, and this hook turns that panic
/// into the same quiet end (no "panicked", no exit 101) when stdout's
/// reader is really gone. Every other panic keeps the default report.
fn quiet_closed_stdout() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        let pipe = payload.contains("Broken pipe") || payload.contains("BrokenPipe");
        if pipe && stdout_reader_gone() {
            STDOUT_GONE.store(true, std::sync::atomic::Ordering::SeqCst);
            return;
        }
        default(info)
    }));
}

fn main_inner() -> i32 {
    // `AUTHCFG_COMPLETE=bash authcfg ...`: the shell asks for completions
    // (prints them and exits); otherwise this returns at once.
    clap_complete::CompleteEnv::with_factory(command)
        .var(completions::VAR)
        .complete();
    // Settings first, then no child can inherit a key (docs/SECURITY.md).
    let settings = Settings::from_env();
    term::init(&settings.display);
    Settings::scrub_environment();
    crate::oauth::set_request_timeout(settings.http_timeout);
    // `show --copy`'s clipboard holder (authcfg started again by itself).
    {
        let argv: Vec<String> = std::env::args().take(3).collect();
        if argv.get(1).map(String::as_str) == Some(clip::HOLD_ARG) {
            return clip::hold(argv.get(2).map(String::as_str).unwrap_or("45"));
        }
    }
    // cargo starts its credential provider with `--cargo-plugin` only.
    if cargo::invoked_as_plugin() {
        return match cargo::serve(&settings) {
            Ok(()) => 0,
            Err(e) => report(&e.into()),
        };
    }
    // docker runs its helper by name: `docker-credential-authcfg ACTION`.
    if let Some(action) = docker::invoked_as_helper() {
        return docker::helper(&settings, &action);
    }
    use clap::FromArgMatches;
    let cli = match command()
        .try_get_matches()
        .and_then(|mut m| Cli::from_arg_matches_mut(&mut m))
    {
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
    match run(cli, settings) {
        Ok(()) => 0,
        Err(e) => report(&e),
    }
}

/// Shows a command's error (unless the command already did) and returns
/// its exit code, which `CommandError::code` decides.
fn report(e: &CommandError) -> i32 {
    let Some(err) = e.error() else {
        return e.code();
    };
    // `authcfg log | head`: whoever read our output has seen enough;
    // nothing to report (as ripgrep does).
    if is_broken_pipe(err) {
        return 0;
    }
    say("error: ", err);
    for cause in err.chain().skip(1) {
        say("  caused by: ", cause);
    }
    if let (_, Some(h)) = classify(err) {
        say("hint: ", &h);
    }
    e.code()
}

/// Whether the error is a write to our stdout after its reader has gone:
/// a broken pipe in the error's chain, and stdout a pipe with no reader (a
/// broken pipe to a network peer is a real failure, not this).
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    let in_chain = err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == BrokenPipe)
            // serde_json's error hides its io::Error from the chain.
            || e.downcast_ref::<serde_json::Error>()
                .is_some_and(|e| e.io_error_kind() == Some(BrokenPipe))
    });
    in_chain && stdout_reader_gone()
}

fn stdout_reader_gone() -> bool {
    crate::platform::stdout_reader_gone()
}

fn run(cli: Cli, mut settings: Settings) -> CommandResult {
    let Some(command) = cli.command else {
        outln!("{}", short_help().trim_end());
        return Ok(());
    };
    let store_dir = Store::locate(cli.store.or_else(|| settings.store_dir.clone()))?;
    if let Some(label) = command.consumer_label() {
        crate::ops::handout::check_label(label)?;
        settings.consumer_label = Some(label.to_string());
    }
    let ctx = Ctx {
        store_dir,
        interactive: settings.interactive,
        settings,
    };
    let writes = matches!(
        command,
        Command::Add(_)
            | Command::Edit(_)
            | Command::Remove(_)
            | Command::Import(_)
            | Command::Rotate(_)
            | Command::Rollback(_)
            | Command::Resolve(_)
    );
    dispatch(&ctx, command)?;
    if writes {
        sync::after_write(&ctx)?;
    }
    Ok(())
}

fn dispatch(ctx: &Ctx, command: Command) -> CommandResult {
    match command {
        Command::Init(a) => init::run(ctx, a),
        Command::Add(a) => add::run(ctx, a),
        Command::List(a) => list::run(ctx, a),
        Command::Show(a) => show::run(ctx, a),
        Command::Edit(a) => edit::run(ctx, a),
        Command::Remove(a) => remove::run(ctx, a),
        Command::Import(a) => import::run(ctx, a),
        Command::Export(a) => export::run(ctx, a),
        Command::Exec(a) => exec::run(ctx, a),
        Command::Inject(a) => inject::run(ctx, a),
        Command::Token(a) => token::run(ctx, a),
        Command::Header(a) => header::run(ctx, a),
        Command::Otp(a) => otp::run(ctx, a),
        Command::Project(a) => project::run(ctx, a),
        Command::Hook(a) => hook::run(ctx, a),
        Command::GitCredential(a) => git::credential(ctx, a),
        Command::Git(a) => git::run(ctx, a),
        Command::CargoCredential(a) => cargo::run(&ctx.settings, a),
        Command::Docker(a) => docker::run(ctx, a),
        Command::Kube(a) => kube::run(ctx, a),
        Command::Aws(a) => aws::run(ctx, a),
        Command::Leases(a) => leases::run(ctx, a),
        Command::Http(a) => http::run(ctx, a),
        Command::Webhook(a) => webhook::run(ctx, a),
        Command::Mcp(a) => mcp::run(ctx, a),
        Command::Log(a) => log::run(ctx, a),
        Command::Test(a) => test::run(ctx, a),
        Command::Refresh(a) => refresh::run(ctx, a),
        Command::Reauth(a) => reauth::run(ctx, a),
        Command::Providers(a) => providers::run(a),
        Command::Connectors(a) => connectors::run(a),
        Command::Rotate(a) => rotate::run(ctx, a),
        Command::History(a) => history::run(ctx, a),
        Command::Recipients(a) => recipients::run(ctx, a),
        Command::Sync(a) => sync::run(ctx, a),
        Command::Conflicts(a) => sync::conflicts(ctx, a),
        Command::Resolve(a) => sync::resolve(ctx, a),
        Command::Key(a) => key::run(ctx, a),
        Command::Trust(a) => trust::run(ctx, a),
        Command::Lock(a) => lock::run(ctx, a),
        Command::Rollback(a) => history::rollback(ctx, a),
        Command::Status(a) => status::run(ctx, a),
        Command::Doctor(a) => doctor::run(ctx, a),
        Command::Completions(a) => completions::run(a),
        Command::Man(a) => man::run(a),
        Command::GenerateDocs(a) => gendocs::run(a),
    }
}

/// ` --store DIR` when a command about the store in `dir` must name it
/// (it is not the store this command line selects), else nothing: hints
/// name commands that work as printed.
pub fn store_flag(ctx: &Ctx, dir: &std::path::Path) -> String {
    let abs = |p: &std::path::Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    if abs(dir) == abs(&ctx.store_dir) {
        String::new()
    } else {
        format!(
            " --store {}",
            crate::export::formats::sh_quote(&dir.to_string_lossy())
        )
    }
}

/// The user's base directories for `completions install` and `man
/// install`, or a usage error saying why there are none.
fn install_base() -> anyhow::Result<directories::BaseDirs> {
    crate::settings::base_dirs().map_err(|why| {
        crate::error::failure(format!("{why}: nowhere to install for this user"))
            .hint("set HOME to your home directory")
            .into()
    })
}

/// Writes an installed file (completion script, man page), making its
/// directory; modes as the umask says (others may read these).
fn install_file(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().expect("an installed file has a directory");
    std::fs::create_dir_all(dir).map_err(|e| crate::store::write_error(dir, e))?;
    std::fs::write(path, bytes).map_err(|e| crate::store::write_error(path, e))?;
    Ok(())
}

/// Prints JSON to stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    use std::io::Write;
    // stdout is line-buffered: without this, one write per line.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}
