//! `authcfg export NAME... --format F`: hand configs to programs. On the hot
//! path: decrypts only the named configs, no index, no network.

use super::Ctx;
use crate::error::usage;
use crate::export::formats::{self, Format};
use crate::export::Var;
use crate::project::Project;
use std::io::{IsTerminal, Write};

#[derive(clap::Args)]
pub struct Args {
    /// Config name(s); none: the variables of the project file
    /// (.authcfg.toml, found from here up)
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    names: Vec<String>,
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value = "env")]
    format: Format,
    /// Prepend P to every variable, or NAME:P to one config's variables
    #[arg(long, value_name = "P")]
    prefix: Vec<String>,
    #[command(flatten)]
    pub project: ProjectArgs,
}

/// Options of the hand-outs that can read the project file.
#[derive(clap::Args)]
pub struct ProjectArgs {
    /// The project file's environment (default: AUTHCFG_ENV, else "default")
    #[arg(long = "env", value_name = "NAME")]
    pub env: Option<String>,
    #[command(flatten)]
    pub consumer: super::ConsumerArgs,
}

impl ProjectArgs {
    /// The project file here when no config is named (`export`, `exec`);
    /// `--env` goes only with it and `--prefix` only with names.
    pub fn select(
        &self,
        ctx: &Ctx,
        named: bool,
        prefixed: bool,
    ) -> anyhow::Result<Option<(Project, String)>> {
        if named {
            if self.env.is_some() {
                return Err(usage(
                    "--env chooses an environment of the project file; it does not apply to named configs",
                )
                .hint("drop the names to use the project file, or drop --env")
                .into());
            }
            return Ok(None);
        }
        if prefixed {
            return Err(usage(
                "--prefix applies to named configs; a project file names its variables itself",
            )
            .into());
        }
        Ok(Some(project_here(ctx, self.env.as_deref())?))
    }
}

/// The project file that applies here, and the environment chosen.
pub fn project_here(ctx: &Ctx, env: Option<&str>) -> anyhow::Result<(Project, String)> {
    let cwd = std::env::current_dir()?;
    let file = crate::project::find(&cwd).ok_or_else(|| {
        usage(format!(
            "no config names given, and no {} in {} or above it",
            crate::project::FILE_NAME,
            cwd.display()
        ))
        .hint("name the configs, or write a project file (see `authcfg project --help`)")
    })?;
    // The one decision on a repository's file (docs/SECURITY.md, "Project files").
    let project = super::project::trusted(ctx, &file)?;
    let env = env
        .or(ctx.settings.project_env.as_deref())
        .unwrap_or(crate::project::DEFAULT_ENV)
        .to_string();
    project.environment(&env)?;
    Ok((project, env))
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let project = args
        .project
        .select(ctx, !args.names.is_empty(), !args.prefix.is_empty())?;
    let s = ctx.session()?;
    let (used, project_vars) = match &project {
        Some((p, env)) => {
            if args.format == Format::Seed {
                return Err(usage(
                    "--format seed exports named configs, not a project's variables",
                )
                .into());
            }
            let (vars, used) = crate::ops::project::resolve(&s, p, env, "export")?;
            (used, Some(vars))
        }
        None => (
            crate::ops::handout::read_for_use(&s, &canonical(&args.names)?, "export")?,
            None,
        ),
    };
    let docs = &used.docs;
    let out = if args.format == Format::Seed {
        // The one rule of which fields may leave (docs/SECURITY.md,
        // "Hand-out"): a field it keeps is left out, and said so on stderr.
        let items: Vec<_> = docs
            .iter()
            .map(|d| {
                let reveal =
                    |k: &str, v: &crate::secret::Secret| match crate::ops::handout::may_leave(
                        d,
                        k,
                        crate::ops::handout::Door::Seed,
                    ) {
                        Ok(()) => Some(v.expose().to_string()),
                        Err(why) => {
                            eprintln!(
                                "note: '{}': left out of the seed document: {why}",
                                d.meta.name
                            );
                            None
                        }
                    };
                super::show::seed_json(d, &reveal, None)
            })
            .collect();
        let value = if items.len() == 1 {
            items.into_iter().next().unwrap()
        } else {
            serde_json::Value::Array(items)
        };
        serde_json::to_string_pretty(&value)? + "\n"
    } else {
        let vars = match project_vars {
            Some(v) => v,
            None => crate::export::collect_vars(docs, &args.prefix)?,
        };
        match args.format {
            Format::Env => formats::render_env(&vars),
            Format::Fish => formats::render_fish(&vars),
            Format::Powershell => formats::render_powershell(&vars),
            Format::Dotenv => formats::render_dotenv(&vars, "dotenv")?,
            Format::Gitlab => formats::render_dotenv(&vars, "GitLab dotenv")?,
            Format::Json => formats::render_json(&vars),
            Format::Github => github(&vars, ctx.settings.github_env.as_deref())?,
            Format::Seed => unreachable!(),
        }
    };
    used.record(&s)?;
    // The values may be a repository's (a project file's plain `[env]`
    // values are outside text): at a terminal, control, bidirectional and
    // invisible characters are shown escaped, like every outside text;
    // piped (for `eval`, a file), the output is byte for byte what the
    // shell reads (docs/SECURITY.md, "A repository's project file").
    let terminal = std::io::stdout().is_terminal();
    let shown = if terminal {
        crate::text::escape_lines(&out, usize::MAX)
    } else {
        std::borrow::Cow::Borrowed(out.as_str())
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(shown.as_bytes())?;
    stdout.flush()?;
    if matches!(shown, std::borrow::Cow::Owned(_)) {
        eprintln!("note: control and invisible characters were escaped for the terminal; pipe the output for the bytes as they are");
    }
    Ok(())
}

/// Names as the user typed them, in canonical (NFC) form.
pub fn canonical(names: &[String]) -> anyhow::Result<Vec<String>> {
    names
        .iter()
        .map(|n| crate::store::canonical_name(n).map_err(Into::into))
        .collect()
}

/// Masks go to stdout (the runner reads workflow commands there); the
/// variables are appended to $GITHUB_ENV, or printed when it is not set.
fn github(vars: &[Var], github_env: Option<&std::path::Path>) -> anyhow::Result<String> {
    let mut out = formats::github_masks(vars);
    let body = formats::github_env(vars)?;
    match github_env {
        Some(path) => {
            let mut f = open_github_env(path)?;
            f.write_all(body.as_bytes())?;
            let names: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
            eprintln!("Appended {} to $GITHUB_ENV", names.join(", "));
        }
        None => {
            eprintln!("GITHUB_ENV is not set; printing what would be appended to it");
            out.push_str(&body);
        }
    }
    Ok(out)
}

/// Opens `$GITHUB_ENV` to append secrets to it: created 0600 when it does
/// not exist yet; never through a symbolic link (whoever planted it would
/// choose where the secrets go), never a device or a FIFO (which could
/// block); a file others can read is used, since the runner creates it
/// itself, with a warning.
fn open_github_env(path: &std::path::Path) -> anyhow::Result<std::fs::File> {
    let shown = path.display();
    let linked = || {
        usage(format!(
            "$GITHUB_ENV ({shown}) is a symbolic link; refused: the secrets would go wherever it points"
        ))
        .hint("point GITHUB_ENV at the file itself")
    };
    let f = crate::platform::private_open(
        std::fs::OpenOptions::new().create(true).append(true),
        true,
        true,
    )
    .open(path)
    .map_err(|e| {
        if crate::platform::is_link_error(&e) {
            linked()
        } else {
            usage(format!("cannot append to $GITHUB_ENV ({shown}): {e}"))
        }
    })?;
    let meta = f.metadata()?;
    if crate::platform::opened_link(&meta) {
        return Err(linked().into());
    }
    if !meta.is_file() {
        return Err(usage(format!(
            "$GITHUB_ENV ({shown}) is not a regular file; refused"
        ))
        .hint("point GITHUB_ENV at a file")
        .into());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mode = meta.mode() & 0o777;
        if mode & 0o044 != 0 {
            eprintln!(
                "warning: $GITHUB_ENV ({shown}) can be read by other users (mode {mode:04o}); so can the secrets appended to it (chmod 600 {shown})"
            );
        }
    }
    Ok(f)
}
