//! `authcfg hook bash|zsh|fish`: loads a project's variables into the
//! shell on `cd` into the project and unloads them on the way out, as
//! direnv does. `eval "$(authcfg hook bash)"` defines a prompt hook that
//! runs `authcfg hook bash --apply`, which prints what the shell must run:
//! nothing while the directory's project (root, environment, file) is the
//! one loaded, else restore what the last project changed and load the new
//! one. A variable that existed before is put back on the way out.
//!
//! Only files the user allowed (`authcfg project allow`, for the content
//! as it is) are loaded: a cloned repository's file does not put
//! credentials into the shell before the user read it.

use super::Ctx;
use crate::export::formats::{fish_quote, sh_quote};
use crate::project::{self, trust};
use crate::text::Outside;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

pub const ABOUT: &str = "\
Shell hook that loads a project's variables (.authcfg.toml) on `cd` into the project and
unloads them on the way out, as direnv does; a variable you had before gets its value back.
Only files you allowed as they are (`authcfg project allow`) are loaded.

  bash (~/.bashrc):                 eval \"$(authcfg hook bash)\"
  zsh (~/.zshrc):                   eval \"$(authcfg hook zsh)\"
  fish (~/.config/fish/config.fish): authcfg hook fish | source

AUTHCFG_ENV picks the environment (default: \"default\").";

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HookShell {
    Bash,
    Zsh,
    Fish,
}

#[derive(clap::Args)]
pub struct Args {
    /// bash, zsh or fish
    shell: HookShell,
    /// Print the commands that bring the shell up to date (run by the hook)
    #[arg(long, hide = true)]
    apply: bool,
}

/// `AUTHCFG_PROJECT_STATE`: what the hook loaded into this shell.
#[derive(Serialize, Deserialize, PartialEq, Eq)]
struct State {
    root: String,
    env: String,
    stamp: String,
    vars: Vec<String>,
    /// Not loaded because the file is not allowed: approval is checked
    /// again at each prompt.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    blocked: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    if args.apply {
        let out = apply(ctx, args.shell);
        print!("{out}");
        return Ok(());
    }
    let exe = std::env::current_exe()?;
    let exe = exe.to_string_lossy();
    let script = match args.shell {
        HookShell::Bash => BASH.replace("AUTHCFG_BIN", &sh_quote(&exe)),
        HookShell::Zsh => ZSH.replace("AUTHCFG_BIN", &sh_quote(&exe)),
        HookShell::Fish => FISH.replace("AUTHCFG_BIN", &fish_quote(&exe)),
    };
    print!("{script}");
    Ok(())
}

const BASH: &str = r#"__authcfg_save() {
  local __v
  for __v in "$@"; do
    if [[ -v "$__v" ]]; then printf -v "__authcfg_saved_$__v" '%s' "${!__v}"; fi
  done
}
__authcfg_restore() {
  local __v __s
  for __v in "$@"; do
    __s="__authcfg_saved_$__v"
    if [[ -v "$__s" ]]; then export "$__v=${!__s}"; unset "$__s"; else unset "$__v"; fi
  done
}
_authcfg_hook() {
  local __status=$?
  eval "$(AUTHCFG_BIN hook bash --apply)"
  return $__status
}
if [[ ";${PROMPT_COMMAND[*]:-};" != *";_authcfg_hook;"* ]]; then
  PROMPT_COMMAND="_authcfg_hook${PROMPT_COMMAND:+;$PROMPT_COMMAND}"
fi
"#;

const ZSH: &str = r#"__authcfg_save() {
  local __v
  for __v in "$@"; do
    if [[ -v $__v ]]; then typeset -g "__authcfg_saved_$__v=${(P)__v}"; fi
  done
}
__authcfg_restore() {
  local __v __s
  for __v in "$@"; do
    __s="__authcfg_saved_$__v"
    if [[ -v $__s ]]; then export "$__v=${(P)__s}"; unset "$__s"; else unset "$__v"; fi
  done
}
_authcfg_hook() {
  eval "$(AUTHCFG_BIN hook zsh --apply)"
}
typeset -ag precmd_functions chpwd_functions
if (( ! ${precmd_functions[(I)_authcfg_hook]} )); then
  precmd_functions=(_authcfg_hook $precmd_functions)
fi
if (( ! ${chpwd_functions[(I)_authcfg_hook]} )); then
  chpwd_functions=(_authcfg_hook $chpwd_functions)
fi
"#;

const FISH: &str = r#"function __authcfg_save
    for v in $argv
        if set -q $v
            set -g __authcfg_saved_$v $$v
        end
    end
end
function __authcfg_restore
    for v in $argv
        set -l s __authcfg_saved_$v
        if set -q $s
            set -gx $v $$s
            set -e $s
        else
            set -e $v
        end
    end
end
function __authcfg_hook --on-variable PWD --on-event fish_prompt
    AUTHCFG_BIN hook fish --apply | source
end
"#;

/// The shell commands that bring this shell to the directory's project.
/// Problems are told on stderr; the state is still recorded so that the
/// message is not repeated at every prompt.
fn apply(ctx: &Ctx, shell: HookShell) -> String {
    let loaded: Option<State> = ctx
        .settings
        .project_state
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok());
    let env = ctx
        .settings
        .project_env
        .clone()
        .unwrap_or_else(|| project::DEFAULT_ENV.to_string());
    let file = std::env::current_dir()
        .ok()
        .and_then(|cwd| project::find(&cwd));
    let here = file.as_ref().map(|f| State {
        root: f
            .parent()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        env: env.clone(),
        stamp: project::stamp(f).unwrap_or_default(),
        vars: vec![],
        blocked: false,
    });
    let same = match (&loaded, &here, &file) {
        (Some(a), Some(b), Some(f)) => {
            a.root == b.root
                && a.env == b.env
                && a.stamp == b.stamp
                && !(a.blocked && now_allowed(ctx, f))
        }
        (None, None, _) => true,
        _ => false,
    };
    if same {
        return String::new();
    }
    let mut out = String::new();
    if let Some(old) = &loaded {
        if !old.vars.is_empty() {
            out += &call(shell, "__authcfg_restore", &old.vars);
            eprintln!(
                "authcfg: unloaded {} variable(s) of {}",
                old.vars.len(),
                Outside::new(old.root.as_str())
            );
        }
        out += &unset(shell, "AUTHCFG_PROJECT_STATE");
    }
    let (Some(file), Some(mut state)) = (file, here) else {
        return out;
    };
    match load(ctx, &file, &env) {
        Ok(vars) => {
            let names: Vec<String> = vars.iter().map(|(n, _)| n.clone()).collect();
            out += &call(shell, "__authcfg_save", &names);
            for (n, v) in &vars {
                out += &export(shell, n, v);
            }
            eprintln!(
                "authcfg: loaded {} variable(s) from {} ({})",
                names.len(),
                shown(&file),
                Outside::new(env.as_str())
            );
            state.vars = names;
        }
        Err(Refused::NotAllowed(why)) => {
            eprintln!("authcfg: {} not loaded: {}", shown(&file), Outside::new(why));
            state.blocked = true;
        }
        Err(Refused::Failed(why)) => eprintln!(
            "authcfg: {} not loaded: {}\n(tried again when the file changes; or run `unset AUTHCFG_PROJECT_STATE`)",
            shown(&file),
            Outside::new(why)
        ),
    }
    out += &export(
        shell,
        "AUTHCFG_PROJECT_STATE",
        &serde_json::to_string(&state).expect("state serializes"),
    );
    out
}

/// A project file's path: a repository's directory names, outside text
/// (docs/ARCHITECTURE.md, "Outside text").
fn shown(file: &std::path::Path) -> Outside {
    Outside::new(file.display().to_string())
}

/// Why a file was not loaded quotes the file (a variable name it holds):
/// printed as [`Outside`].
enum Refused {
    NotAllowed(String),
    Failed(String),
}

fn now_allowed(ctx: &Ctx, file: &std::path::Path) -> bool {
    trust::open(file, &trust::Ask::quiet(&ctx.settings)).is_ok()
}

fn load(
    ctx: &Ctx,
    file: &std::path::Path,
    env: &str,
) -> Result<Vec<(String, zeroize::Zeroizing<String>)>, Refused> {
    let failed = |e: String| Refused::Failed(e);
    // The one decision on a repository's file; the hook never asks (it
    // runs at each prompt, its output evaluated by the shell).
    let p = match trust::open(file, &trust::Ask::quiet(&ctx.settings)) {
        Ok(p) => p,
        Err(trust::Refusal::NotApproved { changed, .. }) => {
            return Err(Refused::NotAllowed(if changed {
                "it changed since you allowed it; review it, then run `authcfg project allow`"
                    .into()
            } else {
                "review it, then run `authcfg project allow` to load it here".into()
            }))
        }
        Err(trust::Refusal::Unsafe(e)) => {
            return Err(Refused::NotAllowed(match e.hint {
                Some(h) => format!("{} ({h})", e.message),
                None => e.message,
            }))
        }
        Err(trust::Refusal::Invalid(e)) => return Err(failed(e.to_string())),
    };
    p.environment(env).map_err(|e| failed(e.to_string()))?;
    let s = ctx.session().map_err(|e| failed(format!("{e:#}")))?;
    let (vars, used) =
        crate::ops::project::resolve(&s, &p, env, "hook").map_err(|e| failed(format!("{e:#}")))?;
    used.record(&s).map_err(|e| failed(format!("{e:#}")))?;
    Ok(vars
        .into_iter()
        .map(|v| {
            (
                v.name,
                zeroize::Zeroizing::new(v.value.expose().to_string()),
            )
        })
        .collect())
}

fn call(shell: HookShell, f: &str, names: &[String]) -> String {
    if names.is_empty() {
        return String::new();
    }
    let mut out = f.to_string();
    for n in names {
        // Names were checked (letters, digits, '_'); quoted anyway.
        let _ = write!(
            out,
            " {}",
            if shell == HookShell::Fish {
                fish_quote(n)
            } else {
                sh_quote(n)
            }
        );
    }
    out.push('\n');
    out
}

fn export(shell: HookShell, name: &str, value: &str) -> String {
    match shell {
        HookShell::Fish => format!("set -gx {name} {}\n", fish_quote(value)),
        _ => format!("export {name}={}\n", sh_quote(value)),
    }
}

fn unset(shell: HookShell, name: &str) -> String {
    match shell {
        HookShell::Fish => format!("set -e {name}\n"),
        _ => format!("unset {name}\n"),
    }
}
