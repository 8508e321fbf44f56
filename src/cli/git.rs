//! `authcfg git-credential get|store|erase` (the helper git runs) and
//! `authcfg git setup NAME [HOST]` (which tells git to run it).

use super::Ctx;
use crate::error::{failure, usage};
use crate::export::formats::sh_quote;
use crate::ops::git_credential::{self as gc, Answer, Request, Target};
use std::io::{Read, Write};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Action {
    Get,
    Store,
    Erase,
}

#[derive(clap::Args)]
pub struct CredentialArgs {
    /// What git asks (it passes the request on standard input)
    action: Action,
    /// The config whose token answers
    #[arg(long, value_name = "NAME", add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    config: String,
    /// The only URL answered: https://HOST[:PORT][/PATH] (http on the loopback)
    #[arg(long, value_name = "URL")]
    url: String,
    /// User name to send (default: the config's, or the provider's convention)
    #[arg(long, value_name = "USER")]
    username: Option<String>,
    #[command(flatten)]
    pub consumer: super::export::ConsumerArgs,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Make git use a config for one host: writes credential.https://HOST.helper
    Setup {
        /// An OAuth2, bearer or basic config
        #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
        name: String,
        /// HOST, HOST:PORT or https://HOST/PATH (default: the provider's git host,
        /// e.g. github.com for the github provider); a path also sets useHttpPath
        host: Option<String>,
        /// User name git sends with the token
        #[arg(long, value_name = "USER")]
        username: Option<String>,
        /// Write to this repository's config instead of ~/.gitconfig
        #[arg(long)]
        local: bool,
    },
}

/// The helper git runs. Whatever happens, it exits 0 and either answers
/// or says nothing (git then asks its next helper or the user); reasons go
/// to stderr.
pub fn credential(ctx: &Ctx, args: CredentialArgs) -> anyhow::Result<i32> {
    let mut input = Vec::new();
    std::io::stdin()
        .take(gc::MAX_REQUEST as u64)
        .read_to_end(&mut input)?;
    if args.action == Action::Store {
        // git offers back what worked; nothing is kept from it.
        return Ok(0);
    }
    let say = |m: &str| eprintln!("authcfg: {m}");
    let target = match Target::parse(&args.url) {
        Ok(t) => t,
        Err(e) => {
            say(&e.to_string());
            return Ok(0);
        }
    };
    let req = match Request::parse(&input) {
        Ok(r) => r,
        Err(e) => {
            say(&e);
            return Ok(0);
        }
    };
    let name = match crate::store::canonical_name(&args.config) {
        Ok(n) => n,
        Err(e) => {
            say(&e.to_string());
            return Ok(0);
        }
    };
    if !target.matches(&req) {
        return Ok(0);
    }
    let s = match ctx.session() {
        Ok(s) => s,
        Err(e) => {
            say(&format!("{e:#}"));
            return Ok(0);
        }
    };
    match args.action {
        Action::Get => match gc::get(&s, &name, &target, args.username.as_deref(), &req) {
            Ok(Answer::Credential {
                username,
                password,
                expiry,
            }) => {
                let mut out = zeroize::Zeroizing::new(format!(
                    "username={username}\npassword={}\n",
                    password.expose()
                ));
                if let Some(e) = expiry {
                    out.push_str(&format!("password_expiry_utc={e}\n"));
                }
                let mut o = std::io::stdout().lock();
                o.write_all(out.as_bytes())?;
                o.flush()?;
            }
            Ok(Answer::Nothing(why)) => {
                if let Some(w) = why {
                    say(&w);
                }
            }
            Err(e) => say(&format!("{e:#}")),
        },
        Action::Erase => {
            if let Err(e) = gc::erase(&s, &name, &target, &req) {
                say(&format!("{e:#}"));
            }
        }
        Action::Store => unreachable!("handled above"),
    }
    Ok(0)
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<i32> {
    match args.command {
        Sub::Setup {
            name,
            host,
            username,
            local,
        } => setup(ctx, &name, host.as_deref(), username.as_deref(), local),
    }
}

fn setup(
    ctx: &Ctx,
    name: &str,
    host: Option<&str>,
    username: Option<&str>,
    local: bool,
) -> anyhow::Result<i32> {
    let name = crate::store::canonical_name(name)?;
    let s = ctx.session()?;
    let doc = s.store.read(&name)?;
    gc::password_field(&doc)?;
    let raw = match host {
        Some(h) => h.to_string(),
        None => provider_url(&doc).ok_or_else(|| {
            usage(format!("which host should '{name}' answer for?"))
                .hint(format!("authcfg git setup {name} HOST (e.g. github.com, or https://git.example.com/team/repo.git)"))
        })?,
    };
    let target = Target::parse(&raw)?;
    if let Some(u) = username {
        if u.contains(['\r', '\n', '\0']) || u.is_empty() {
            return Err(usage("--username must be one line of text").into());
        }
    }
    if gc::username_for(&doc, username).is_none() {
        return Err(usage(format!("'{name}' has no user name to send"))
            .hint("pass --username NAME")
            .into());
    }
    let exe = std::env::current_exe()?;
    let store = std::path::absolute(&ctx.store_dir)?;
    let mut helper = format!(
        "!{} --store {} git-credential --config {} --url {}",
        sh_quote(&exe.to_string_lossy()),
        sh_quote(&store.to_string_lossy()),
        sh_quote(&name),
        sh_quote(&target.url()),
    );
    if let Some(u) = username {
        helper.push_str(&format!(" --username {}", sh_quote(u)));
    }
    let scope = if local { "--local" } else { "--global" };
    let key = format!("credential.{}.helper", target.url());
    // An empty helper first: git forgets the helpers configured before it
    // for this URL, so the token is the only answer.
    git_config(&[scope, "--replace-all", &key, ""])?;
    git_config(&[scope, "--add", &key, &helper])?;
    let path_key = format!("credential.{}.useHttpPath", target.url());
    if target.path.is_empty() {
        let _ = git_config(&[scope, "--unset-all", &path_key]);
    } else {
        git_config(&[scope, &path_key, "true"])?;
    }
    s.audit(
        "git setup",
        Some(&name),
        "ok",
        Some(&format!("{} ({})", target.url(), &scope[2..])),
    );
    eprintln!(
        "git now asks authcfg for {} ({} config): '{name}' answers{}",
        target.url(),
        &scope[2..],
        if doc.meta.kind == crate::model::Kind::Oauth2 {
            ", its access token refreshed when due"
        } else {
            ""
        }
    );
    Ok(0)
}

/// The provider's git host (catalog `git_url`), filled with the config's
/// parameters (a self-managed GitLab's base_url).
fn provider_url(doc: &crate::model::ConfigDoc) -> Option<String> {
    if doc.meta.kind != crate::model::Kind::Oauth2 {
        return None;
    }
    let p = crate::oauth::catalog::find(&doc.meta.type_id)?;
    let template = p.git_url.as_deref()?;
    let mut values: std::collections::BTreeMap<String, String> = p
        .params
        .iter()
        .filter_map(|x| x.default.clone().map(|d| (x.name.clone(), d)))
        .collect();
    for x in &p.params {
        if let Some(v) = doc.get(&x.name).filter(|v| !v.is_empty()) {
            values.insert(x.name.clone(), v.to_string());
        }
    }
    crate::oauth::catalog::fill(template, &values).ok()
}

fn git_config(args: &[&str]) -> anyhow::Result<()> {
    let out = std::process::Command::new("git")
        .arg("config")
        .args(args)
        .output()
        .map_err(|e| failure(format!("cannot run git: {e}")).hint("install git"))?;
    // `--unset-all` of a key that is not there exits 5: not an error here.
    let nothing_to_unset = args.contains(&"--unset-all") && out.status.code() == Some(5);
    if !(out.status.success() || nothing_to_unset) {
        return Err(failure(format!(
            "git config {} failed: {}",
            args[..args.len().min(3)].join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
        .into());
    }
    Ok(())
}
