//! docker's credential helper (`ops::docker_credential`): docker and the
//! containers tools (skopeo, podman, buildah) run `docker-credential-authcfg
//! ACTION` (a link to authcfg, recognised by its name before clap parses
//! anything) or `authcfg docker credential-helper ACTION`; `authcfg docker
//! setup NAME HOST` binds a registry host to a config and names the helper
//! in the docker config. Never asks at a terminal; nothing secret on stderr.

use super::Ctx;
use crate::error::CommandError;
use crate::ops::bindings::Bindings;
use crate::ops::docker_credential::{self as dk, Answer, NOT_FOUND};
use crate::settings::Settings;
use std::io::{Read, Write};
use zeroize::Zeroizing;

/// The name of a link to authcfg that runs the helper.
pub const LINK_NAME: &str = "docker-credential-authcfg";

/// The helper's action when this process was started by that name.
pub fn invoked_as_helper() -> Option<String> {
    let mut args = std::env::args_os();
    let argv0 = args.next()?;
    let by_name = std::path::Path::new(&argv0)
        .file_name()
        .is_some_and(|n| n == LINK_NAME);
    by_name.then(|| {
        args.next()
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_default()
    })
}

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::ValueEnum, Clone, Copy, PartialEq, Eq)]
enum Action {
    Get,
    Store,
    Erase,
    List,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// The helper docker runs (as docker-credential-authcfg ACTION): the request on stdin
    CredentialHelper {
        /// get (server URL on stdin), store (kept nowhere: fails), erase (unbinds the host), list
        #[arg(value_enum)]
        action: Action,
    },
    /// Make docker, skopeo and podman ask authcfg for one registry host
    #[command(long_about = SETUP_ABOUT)]
    Setup {
        /// A basic, bearer or OAuth2 config
        #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
        name: String,
        /// The registry host, as images name it (registry.example.com, 127.0.0.1:5000)
        host: String,
        /// User name sent with a token (default: the provider's, else oauth2 / x-access-token)
        #[arg(long, value_name = "USER")]
        username: Option<String>,
    },
}

const SETUP_ABOUT: &str = "Make docker, skopeo and podman ask authcfg for one registry host.

Records that HOST is answered by the config NAME (in ~/.config/authcfg/helpers.json) and sets credHelpers.HOST = \"authcfg\" in the docker config ($DOCKER_CONFIG/config.json, else ~/.docker/config.json; other keys are kept, the file is replaced atomically). The client then runs docker-credential-authcfg, a link to authcfg on PATH:

    ln -s \"$(command -v authcfg)\" ~/.local/bin/docker-credential-authcfg

A basic config answers with its user name and password; a bearer or OAuth2 config with its token as the password (refreshed first when due) and --username, the provider's user name, or oauth2. A host no setup bound gets nothing, whatever the docker config says. `docker login` does not store into authcfg (change the config with `authcfg edit`); `docker logout HOST` removes the binding, never the config.

skopeo, podman and buildah read credHelpers too: from $REGISTRY_AUTH_FILE or ${XDG_RUNTIME_DIR}/containers/auth.json first (an entry for HOST there wins), then the docker config.";

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    match args.command {
        Sub::CredentialHelper { action } => {
            let name = match action {
                Action::Get => "get",
                Action::Store => "store",
                Action::Erase => "erase",
                Action::List => "list",
            };
            match helper(&ctx.settings, name) {
                0 => Ok(()),
                _ => Err(CommandError::reported(crate::error::Exit::Error)),
            }
        }
        Sub::Setup {
            name,
            host,
            username,
        } => setup(ctx, &name, &host, username.as_deref()),
    }
}

fn setup(ctx: &Ctx, name: &str, host: &str, username: Option<&str>) -> crate::error::CommandResult {
    let name = crate::store::canonical_name(name)?;
    let s = ctx.session()?;
    let done = dk::setup(&s, &name, host, username)?;
    eprintln!(
        "docker now asks authcfg for {}: '{name}' answers ({} updated)",
        done.host,
        done.docker_config.display()
    );
    if let Some(p) = done.replaced {
        eprintln!("note: {} was answered by '{p}' before", done.host);
    }
    if done.inline_auth {
        super::say(
            "warning: ",
            &format!(
                "{} still holds a credential for {} under \"auths\" (no longer used by docker; remove it)",
                done.docker_config.display(),
                done.host
            ),
        );
    }
    let on_path = ctx
        .settings
        .path
        .as_ref()
        .is_some_and(|p| std::env::split_paths(p).any(|d| d.join(LINK_NAME).exists()));
    if !on_path {
        let exe = std::env::current_exe()?;
        eprintln!(
            "note: {LINK_NAME} is not on PATH; docker runs it: ln -s {} ~/.local/bin/{LINK_NAME}",
            crate::export::formats::sh_quote(&exe.to_string_lossy())
        );
    }
    Ok(())
}

/// Says why on stderr (never a secret).
fn why(m: &str) {
    super::say("authcfg: ", &m);
}

/// An answer on stdout.
fn answer(text: &str) -> std::io::Result<()> {
    let mut o = std::io::stdout().lock();
    o.write_all(text.as_bytes())?;
    o.write_all(b"\n")?;
    o.flush()
}

/// Runs one action of the helper; the exit code (0, or 1 with the
/// failure's message on stdout, as the protocol has it).
pub fn helper(settings: &Settings, action: &str) -> i32 {
    let mut settings = settings.clone();
    // The client owns the terminal: never ask there.
    settings.interactive = false;
    let fail = |m: &str| {
        let _ = answer(m);
        1
    };
    let read = || -> Result<Zeroizing<Vec<u8>>, String> {
        let stdin = std::io::stdin();
        if std::io::IsTerminal::is_terminal(&stdin) {
            return Err(
                "standard input is a terminal: docker runs the credential helper (see `authcfg docker setup --help`)"
                    .into(),
            );
        }
        let mut input = Zeroizing::new(Vec::new());
        stdin
            .lock()
            .take(dk::MAX_REQUEST as u64 + 1)
            .read_to_end(&mut input)
            .map_err(|e| e.to_string())?;
        if input.len() > dk::MAX_REQUEST {
            return Err("the request is too long".into());
        }
        Ok(input)
    };
    let bindings_file = settings.helper_bindings.clone();
    match action {
        "get" => {
            let input = match read() {
                Ok(i) => i,
                Err(e) => return fail(&e),
            };
            let server_url = String::from_utf8_lossy(&input).trim().to_string();
            if server_url.is_empty() {
                return fail("no credentials server URL");
            }
            let host = match dk::host_of(&server_url) {
                Ok(h) => h,
                Err(e) => {
                    why(&e);
                    return fail(NOT_FOUND);
                }
            };
            let bindings = match Bindings::load(bindings_file.as_deref()) {
                Ok(b) => b,
                Err(e) => return fail(&format!("authcfg: {e:#}")),
            };
            let Some(b) = bindings.docker.get(&host) else {
                return fail(NOT_FOUND);
            };
            let opened = crate::store::Store::locate(Some(b.store.clone()))
                .and_then(|dir| crate::ops::Session::open(&settings, &dir, &crate::ops::Silent));
            let s = match opened {
                Ok(s) => s,
                Err(e) => return fail(&format!("authcfg: {e:#}")),
            };
            match dk::get(&s, &host, b) {
                Ok(Answer::Found { username, secret }) => {
                    let json = dk::found_json(&server_url, &username, &secret);
                    match answer(&json) {
                        Ok(()) => 0,
                        Err(_) => 1,
                    }
                }
                Ok(Answer::NotFound(reason)) => {
                    if let Some(r) = reason {
                        why(&r);
                    }
                    fail(NOT_FOUND)
                }
                Err(e) => fail(&format!("authcfg: {e:#}")),
            }
        }
        "store" => {
            // Read (and wipe) what docker offers; keep none of it.
            let _ = read();
            fail("authcfg keeps no credential from `docker login`: a registry's credential is a config (`authcfg add`, `authcfg edit`), bound to its host with `authcfg docker setup NAME HOST`")
        }
        "erase" => {
            let input = match read() {
                Ok(i) => i,
                Err(e) => return fail(&e),
            };
            let Ok(host) = dk::host_of(&String::from_utf8_lossy(&input)) else {
                return fail(NOT_FOUND);
            };
            match dk::erase(bindings_file.as_deref(), &host) {
                Ok(Some(b)) => {
                    why(&format!(
                        "{host} is no longer answered by '{}' (the config is kept)",
                        b.config
                    ));
                    0
                }
                Ok(None) => fail(NOT_FOUND),
                Err(e) => fail(&format!("authcfg: {e:#}")),
            }
        }
        "list" => match Bindings::load(bindings_file.as_deref()) {
            Ok(b) => match answer(&dk::list(&b).to_string()) {
                Ok(()) => 0,
                Err(_) => 1,
            },
            Err(e) => fail(&format!("authcfg: {e:#}")),
        },
        "version" => match answer(&format!("authcfg {}", env!("CARGO_PKG_VERSION"))) {
            Ok(()) => 0,
            Err(_) => 1,
        },
        other => fail(&format!(
            "authcfg: unknown action '{}': get, store, erase or list",
            other.escape_debug()
        )),
    }
}
