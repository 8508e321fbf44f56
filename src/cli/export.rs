//! `authcfg export NAME... --format F`: hand configs to programs. On the hot
//! path: decrypts only the named configs, no index, no network.

use super::Ctx;
use crate::error::usage;
use crate::export::formats::{self, Format};
use crate::export::{apply_prefixes, check_names, vars_for, Var};
use crate::model::ConfigDoc;
use crate::project::Project;
use std::io::Write;

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
    pub consumer: ConsumerArgs,
}

/// `--as`: who the configs are handed to, for `list`'s Connections.
#[derive(clap::Args)]
pub struct ConsumerArgs {
    /// Record this use as made by LABEL (a job, a service) instead of the
    /// project, CI job or user found (also AUTHCFG_AS)
    #[arg(long = "as", value_name = "LABEL")]
    pub label: Option<String>,
}

pub fn collect_vars(docs: &[ConfigDoc], prefixes: &[String]) -> anyhow::Result<Vec<Var>> {
    for d in docs {
        let free_form = matches!(
            crate::catalog::spec_for(d.meta.kind, &d.meta.type_id),
            Some((_, true))
        );
        if free_form && !d.meta.allow_startup_vars {
            crate::export::refuse_startup_vars(&d.meta.name, d.fields.keys().map(String::as_str))?;
        }
    }
    for p in prefixes {
        if let Some((n, _)) = p.split_once(':') {
            if !docs.iter().any(|d| d.meta.name == n) {
                return Err(
                    usage(format!("--prefix names '{n}', which is not being exported")).into(),
                );
            }
        }
    }
    let mut vars: Vec<Var> = docs.iter().flat_map(vars_for).collect();
    apply_prefixes(&mut vars, prefixes);
    check_names(&vars)?;
    Ok(vars)
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
    let project = crate::project::load(&file)?;
    let env = env
        .or(ctx.settings.project_env.as_deref())
        .unwrap_or(crate::project::DEFAULT_ENV)
        .to_string();
    project.environment(&env)?;
    Ok((project, env))
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<i32> {
    if !args.names.is_empty() && args.project.env.is_some() {
        return Err(usage(
            "--env chooses an environment of the project file; it does not apply to named configs",
        )
        .hint("drop the names to use the project file, or drop --env")
        .into());
    }
    let project = if args.names.is_empty() {
        if !args.prefix.is_empty() {
            return Err(usage(
                "--prefix applies to named configs; a project file names its variables itself",
            )
            .into());
        }
        Some(project_here(ctx, args.project.env.as_deref())?)
    } else {
        None
    };
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
        let reveal = |_: &str, v: &crate::secret::Secret| v.expose().to_string();
        let items: Vec<_> = docs
            .iter()
            .map(|d| super::show::seed_json(d, &reveal, None))
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
            None => collect_vars(docs, &args.prefix)?,
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
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(0)
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
            // Created 0600 when it does not exist yet: it will hold secrets.
            let mut f = crate::store::fsutil::create_private_append(path).map_err(|e| {
                usage(format!(
                    "cannot append to $GITHUB_ENV ({}): {e}",
                    path.display()
                ))
            })?;
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
