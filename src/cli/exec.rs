//! `authcfg exec NAME... -- CMD [ARGS]`: run CMD with the configs in its
//! environment. authcfg replaces itself with CMD (execvp), so CMD keeps its
//! PID: signals reach it directly and its exit status is the command's own.
//! Secrets are only in CMD's environment: never in argv, never in a file.

use super::Ctx;
use crate::error::usage;
use std::os::unix::process::CommandExt;

use crate::settings::{ENV_EXEC_GUARD as GUARD, KEY_BEARING};

#[derive(clap::Args)]
pub struct Args {
    /// Config name(s); none: the variables of the project file
    /// (.authcfg.toml, found from here up)
    #[arg(add = clap_complete::ArgValueCandidates::new(super::complete::config_names))]
    names: Vec<String>,
    /// Prepend P to every variable, or NAME:P to one config's variables
    #[arg(long, value_name = "P")]
    prefix: Vec<String>,
    #[command(flatten)]
    pub project: super::export::ProjectArgs,
    /// The command and its arguments, after --
    #[arg(last = true, required = true, value_name = "CMD")]
    command: Vec<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    if let Some(outer) = &ctx.settings.exec_guard {
        return Err(usage(format!(
            "already inside `authcfg exec` (for {outer}); refusing to nest"
        ))
        .hint(format!(
            "run the inner command directly, or unset {GUARD} if nesting is really meant"
        ))
        .into());
    }
    let project = args
        .project
        .select(ctx, !args.names.is_empty(), !args.prefix.is_empty())?;
    let s = ctx.session()?;
    let (vars, used) = match &project {
        Some((p, env)) => crate::ops::project::resolve(&s, p, env, "exec")?,
        None => {
            let names = super::export::canonical(&args.names)?;
            let used = crate::ops::handout::read_for_use(&s, &names, "exec")?;
            let vars = super::export::collect_vars(&used.docs, &args.prefix)?;
            (vars, used)
        }
    };
    used.record(&s)?;
    let store_id = s.store.header().id;
    let guard = match &project {
        Some((p, env)) => format!("{} ({env})", p.file.display()),
        None => args.names.join(","),
    };
    drop(used);
    drop(s);
    // The child must not possess the session keyring holding a cached key.
    if ctx.settings.key_cache.is_some() || crate::keys::cache::get(&store_id).is_some() {
        crate::keys::cache::leave_session();
    }
    let mut cmd = std::process::Command::new(&args.command[0]);
    cmd.args(&args.command[1..]);
    // Already removed from this process at start-up; removed again here so
    // that no future change can hand a key to the child.
    for k in KEY_BEARING {
        cmd.env_remove(k);
    }
    for v in &vars {
        // Replaces any inherited variable of the same name.
        cmd.env(&v.name, v.value.expose());
    }
    cmd.env(GUARD, guard);
    let err = cmd.exec();
    // Only reached when the command could not be started; shells use 127/126.
    eprintln!("error: cannot run '{}': {err}", args.command[0]);
    eprintln!("hint: check the command name and your PATH");
    Err(crate::error::CommandError::reported(
        if err.kind() == std::io::ErrorKind::NotFound {
            crate::error::Exit::NoCommand
        } else {
            crate::error::Exit::CannotRun
        },
    ))
}
