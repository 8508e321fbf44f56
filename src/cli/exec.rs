//! `authcfg exec NAME... -- CMD [ARGS]`: run CMD with the configs in its
//! environment. authcfg replaces itself with CMD (execvp), so CMD keeps its
//! PID: signals reach it directly and its exit status is the command's own.
//! Secrets are only in CMD's environment: never in argv, never in a file.

use super::Ctx;
use crate::error::usage;
use std::os::unix::process::CommandExt;

/// Set in the child's environment; its presence refuses nesting.
pub const GUARD: &str = "AUTHCFG_EXEC";

#[derive(clap::Args)]
pub struct Args {
    /// Config name(s)
    #[arg(required = true)]
    names: Vec<String>,
    /// Prepend P to every variable, or NAME:P to one config's variables
    #[arg(long, value_name = "P")]
    prefix: Vec<String>,
    /// The command and its arguments, after --
    #[arg(last = true, required = true, value_name = "CMD")]
    command: Vec<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<i32> {
    if let Ok(outer) = std::env::var(GUARD) {
        return Err(usage(format!(
            "already inside `authcfg exec` (for {outer}); refusing to nest"
        ))
        .hint(format!(
            "run the inner command directly, or unset {GUARD} if nesting is really meant"
        ))
        .into());
    }
    let used = super::export::read_for_use(ctx, &args.names, "exec")?;
    let vars = super::export::collect_vars(&used.docs, &args.prefix)?;
    used.done(ctx);
    drop(used);
    let mut cmd = std::process::Command::new(&args.command[0]);
    cmd.args(&args.command[1..]);
    for v in &vars {
        // Replaces any inherited variable of the same name.
        cmd.env(&v.name, v.value.expose());
    }
    cmd.env(GUARD, args.names.join(","));
    let err = cmd.exec();
    // Only reached when the command could not be started; shells use 127/126.
    eprintln!("error: cannot run '{}': {err}", args.command[0]);
    eprintln!("hint: check the command name and your PATH");
    Ok(if err.kind() == std::io::ErrorKind::NotFound {
        127
    } else {
        126
    })
}
