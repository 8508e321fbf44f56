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
    pub consumer: super::ConsumerArgs,
}

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(clap::Subcommand)]
enum Sub {
    /// Make the store a git repository shared by a team (the admin)
    #[command(long_about = TEAM_ABOUT)]
    Init {
        /// The team's repository (a bare repository, an SSH or HTTPS URL); pushed to
        #[arg(long, value_name = "URL")]
        remote: Option<String>,
    },
    /// Join a team store: clone its repository with your own key
    #[command(long_about = CLONE_ABOUT)]
    Clone {
        /// The team's repository
        url: String,
        /// Where the store goes (default: the --store directory)
        dir: Option<std::path::PathBuf>,
        /// The admin key's fingerprint (SHA256:...), checked with the admin
        #[arg(long, value_name = "FINGERPRINT")]
        trust_admin: Option<String>,
    },
    /// Sync by itself after writes: off, push (commit and push) or pull-push
    Autosync {
        #[arg(value_enum)]
        mode: crate::ops::team::AutoSync,
    },
    /// git's merge driver for configs (run by git; see .gitattributes)
    #[command(hide = true)]
    MergeDriver {
        base: std::path::PathBuf,
        ours: std::path::PathBuf,
        theirs: std::path::PathBuf,
        path: String,
    },
    /// git's textconv for configs: fields with masked values (run by git)
    #[command(hide = true)]
    Textconv { file: std::path::PathBuf },
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

/// A clone's error whose hint names commands for the clone: with its
/// directory when this command line selects another store (`authcfg
/// trust` gets `--store DIR`, `authcfg git clone URL` gets `DIR`), so
/// they work as printed.
fn clone_error(ctx: &Ctx, dir: &std::path::Path, mut e: anyhow::Error) -> anyhow::Error {
    let flag = super::store_flag(ctx, dir);
    if flag.is_empty() {
        return e;
    }
    if let Some(u) = e.downcast_mut::<crate::error::UserError>() {
        if let Some(h) = &u.hint {
            let mut h = h.replace("`authcfg trust ", &format!("`authcfg{flag} trust "));
            let clone = "`authcfg git clone ";
            if let Some(i) = h.find(clone) {
                if let Some(j) = h[i + 1..].find('`') {
                    let end = i + 1 + j;
                    h.insert_str(end, &format!(" {}", sh_quote(&dir.to_string_lossy())));
                }
            }
            u.hint = Some(h);
        }
    }
    e
}

/// What a clone (or the `sync`/`trust` that completes one) did: joined,
/// or pending with what to send to the admin and what to run then.
pub fn render_cloned(ctx: &Ctx, cloned: &crate::ops::team::Cloned) {
    use crate::ops::team::Cloned;
    match cloned {
        Cloned::Joined(j) => {
            eprintln!(
                "Joined the team store in {}: {} config(s), admin key {}, your role: {}",
                j.dir.display(),
                j.configs,
                j.admin,
                j.role.map(|r| r.as_str()).unwrap_or("admin")
            );
            if j.dir != ctx.store_dir {
                eprintln!(
                    "Use it with `authcfg --store {} ...` (or AUTHCFG_HOME={})",
                    sh_quote(&j.dir.to_string_lossy()),
                    sh_quote(&j.dir.to_string_lossy())
                );
            }
            if !j.forged.is_empty() {
                eprintln!(
                    "warning: {} config(s) fail authentication (not written by the store's members): {}",
                    j.forged.len(),
                    j.forged.join(", ")
                );
            }
            if !j.unreadable.is_empty() {
                eprintln!(
                    "{} config(s) are for groups your key is not in: {}",
                    j.unreadable.len(),
                    j.unreadable.join(", ")
                );
            }
        }
        Cloned::Pending(p) => {
            let here = super::store_flag(ctx, &p.dir);
            eprintln!(
                "The team store is cloned into {}, but it is PENDING: your key is not a recipient yet.\n\n\
                 Send your public key to the store's admin:\n\n    {}\n\n\
                 The admin adds it and shares the change:\n\n    {}\n    authcfg sync\n\n\
                 Then complete the clone here (it fetches the change):\n\n    authcfg{here} sync",
                p.dir.display(),
                p.public,
                p.admin_line,
            );
            if p.trusted {
                eprintln!(
                    "\nThe admin key {} is trusted (pinned) for this store.",
                    p.admin
                );
            } else {
                eprintln!(
                    "\nThe store's admin key has the fingerprint {}: check it with the admin. `authcfg sync` asks at a terminal; elsewhere run `authcfg{here} trust {}` first.",
                    p.admin, p.admin
                );
            }
        }
    }
}

/// The helper git runs. Whatever happens, it exits 0 and either answers
/// or says nothing (git then asks its next helper or the user); reasons go
/// to stderr.
pub fn credential(ctx: &Ctx, args: CredentialArgs) -> crate::error::CommandResult {
    let mut input = Vec::new();
    std::io::stdin()
        .take(gc::MAX_REQUEST as u64)
        .read_to_end(&mut input)?;
    if args.action == Action::Store {
        // git offers back what worked; nothing is kept from it.
        return Ok(());
    }
    let say = |m: &str| super::say("authcfg: ", &m);
    let target = match Target::parse(&args.url) {
        Ok(t) => t,
        Err(e) => {
            say(&e.to_string());
            return Ok(());
        }
    };
    let req = match Request::parse(&input) {
        Ok(r) => r,
        Err(e) => {
            say(&e);
            return Ok(());
        }
    };
    let name = match crate::store::canonical_name(&args.config) {
        Ok(n) => n,
        Err(e) => {
            say(&e.to_string());
            return Ok(());
        }
    };
    if !target.matches(&req) {
        return Ok(());
    }
    let s = match ctx.session() {
        Ok(s) => s,
        Err(e) => {
            say(&format!("{e:#}"));
            return Ok(());
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
    Ok(())
}

const TEAM_ABOUT: &str = "Make the store a git repository shared by a team (the admin).

Only the signed header (authcfg.toml) and the encrypted configs are tracked; the index, journals, audit trail, usage records, pins, a passphrase-sealed key and conflict records stay local (.gitignore is written by authcfg). git is told to merge and diff configs through authcfg (decrypted, field by field; diffs show masked values). Members make a key (`authcfg key new`) and join with `authcfg git clone URL`; you add their public key with `authcfg recipients add KEY --label NAME [--role viewer]` and `authcfg sync` (a clone made before waits for it); then `authcfg sync` shares changes.";

const CLONE_ABOUT: &str = "Join a team store: clone its repository with your own key.

Your key comes from AUTHCFG_IDENTITY / AUTHCFG_IDENTITY_FILE, or is your own key (`authcfg key new`: the keyring, or ~/.config/authcfg/key.txt). authcfg's branch (main) is found by name, whatever the remote's HEAD says. The clone's tree is checked before anything is checked out (only a header and configs), the header must be signed by the admin key whose fingerprint you confirm (--trust-admin, or a question at a terminal), and every config is authenticated.

Cloned before the admin added your key, the clone is kept pending: it prints your public key and the admin's `authcfg recipients add` line, and your next `authcfg sync` completes it. An interrupted clone is completed by running the same clone again.";

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    use crate::ops::team;
    let command = match args.command {
        Sub::Init { remote } => {
            let s = ctx.session()?;
            let r = team::init(&s, remote.as_deref())?;
            eprintln!(
                "The store at {} is a git repository: {} config(s) committed{}",
                ctx.store_dir.display(),
                r.configs,
                if r.pushed { " and pushed" } else { "" }
            );
            if r.default_branch {
                eprintln!(
                    "The repository was new: its default branch is now '{}'",
                    team::BRANCH
                );
            }
            if let Some(p) = s.store.header().admin_pub() {
                eprintln!(
                    "Members trust the admin key {} when they clone",
                    p.fingerprint()
                );
            }
            return Ok(());
        }
        Sub::Clone {
            url,
            dir,
            trust_admin,
        } => {
            let dir = dir.unwrap_or_else(|| ctx.store_dir.clone());
            let mut settings = ctx.settings.clone();
            if trust_admin.is_some() {
                settings.trust_admin = trust_admin;
            }
            let out = team::clone(&settings, &url, &dir, &super::UI)
                .map_err(|e| clone_error(ctx, &dir, e))?;
            for n in &out.notes {
                eprintln!("note: {n}");
            }
            render_cloned(ctx, &out.cloned);
            return Ok(());
        }
        Sub::Autosync { mode } => {
            team::set_autosync(&ctx.store_dir, mode)?;
            return Ok(());
        }
        Sub::MergeDriver {
            base,
            ours,
            theirs,
            path,
        } => {
            let s = ctx.session()?;
            let clean = team::merge_driver(&s, &base, &ours, &theirs, &path)?;
            if !clean {
                eprintln!("authcfg: {path}: the same field changed on both sides; kept ours, resolve with `authcfg resolve`");
                return Err(crate::error::CommandError::reported(
                    crate::error::Exit::Error,
                ));
            }
            return Ok(());
        }
        Sub::Textconv { file } => {
            let s = ctx.session()?;
            let text = team::textconv(&s, &file)?;
            use std::io::Write as _;
            std::io::stdout().lock().write_all(text.as_bytes())?;
            return Ok(());
        }
        other => other,
    };
    match command {
        Sub::Setup {
            name,
            host,
            username,
            local,
        } => setup(ctx, &name, host.as_deref(), username.as_deref(), local),
        _ => unreachable!("handled above"),
    }
}

fn setup(
    ctx: &Ctx,
    name: &str,
    host: Option<&str>,
    username: Option<&str>,
    local: bool,
) -> crate::error::CommandResult {
    let name = crate::store::canonical_name(name)?;
    let s = ctx.session()?;
    let doc = s.store.read(&name)?;
    gc::check(&doc, username)?;
    let raw = match host {
        Some(h) => h.to_string(),
        None => provider_url(&doc).ok_or_else(|| {
            usage(format!("which host should '{name}' answer for?"))
                .hint(format!("authcfg git setup {name} HOST (e.g. github.com, or https://git.example.com/team/repo.git)"))
        })?,
    };
    let target = Target::parse(&raw)?;
    // The origin rule `http` asks: a config is set up only for its origins.
    gc::check_origin(&doc, &target)?;
    if let Some(u) = username {
        if u.contains(['\r', '\n', '\0']) || u.is_empty() {
            return Err(usage("--username must be one line of text").into());
        }
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
    Ok(())
}

/// The provider's git host (catalog `git_url`), filled with the config's
/// parameters (a self-managed GitLab's base_url).
fn provider_url(doc: &crate::model::ConfigDoc) -> Option<String> {
    if doc.meta.kind != crate::model::Kind::Oauth2 {
        return None;
    }
    let p = crate::catalog::providers::find(&doc.meta.type_id)?;
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
    crate::catalog::providers::fill(template, &values).ok()
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
