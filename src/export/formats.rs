//! Output formats. Each quotes values so that any text (NUL aside, which no
//! environment can hold) round-trips through its consumer, or refuses a value
//! its consumer cannot represent.

use super::Var;
use crate::error::{usage, UserError};
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// `export K='v'` for eval in bash, zsh, dash, ksh
    Env,
    /// `set -gx K 'v'` for fish
    Fish,
    /// `$env:K = 'v'` for PowerShell
    Powershell,
    /// `K=v` lines as `docker --env-file` reads them (no quoting; no line breaks)
    Dotenv,
    /// dotenv artifact for GitLab CI `artifacts:reports:dotenv`
    Gitlab,
    /// `::add-mask::` lines plus `K<<DELIM` entries appended to $GITHUB_ENV
    Github,
    /// {"K": "v"}
    Json,
    /// The seed's {"type", "name", "config"} shape
    Seed,
}

/// POSIX sh single quotes: everything literal, `'` written as `'\''`.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// fish single quotes: only `\` and `'` are special.
pub fn fish_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'"))
}

/// PowerShell verbatim strings: `'` doubled. PowerShell also ends a
/// single-quoted string at the typographic quotes U+2018/2019/201A/201B.
pub fn ps_quote(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

pub fn render_env(vars: &[Var]) -> String {
    let mut out = String::new();
    for v in vars {
        let _ = writeln!(out, "export {}={}", v.name, sh_quote(v.value.expose()));
    }
    out
}

pub fn render_fish(vars: &[Var]) -> String {
    let mut out = String::new();
    for v in vars {
        let _ = writeln!(out, "set -gx {} {}", v.name, fish_quote(v.value.expose()));
    }
    out
}

pub fn render_powershell(vars: &[Var]) -> String {
    let mut out = String::new();
    for v in vars {
        let _ = writeln!(out, "$env:{} = {}", v.name, ps_quote(v.value.expose()));
    }
    out
}

/// `docker --env-file` takes everything after the first `=` literally, up to
/// the end of the line (a trailing CR is dropped by its line reader). So a
/// value is written raw, and line breaks cannot be represented.
pub fn render_dotenv(vars: &[Var], what: &str) -> Result<String, UserError> {
    let mut out = String::new();
    for v in vars {
        let val = v.value.expose();
        if val.contains(['\n', '\r']) {
            return Err(usage(format!(
                "{} contains a line break, which the {what} format cannot hold",
                v.name
            ))
            .hint("use --format env or json, or `authcfg exec` to pass it directly"));
        }
        let _ = writeln!(out, "{}={val}", v.name);
    }
    Ok(out)
}

pub fn render_json(vars: &[Var]) -> String {
    let map: serde_json::Map<String, serde_json::Value> = vars
        .iter()
        .map(|v| {
            (
                v.name.clone(),
                serde_json::Value::String(v.value.expose().to_string()),
            )
        })
        .collect();
    serde_json::to_string_pretty(&map).unwrap_or_default() + "\n"
}

/// GitHub Actions workflow-command data escaping.
fn gh_escape(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The `::add-mask::` lines for every secret value, one per line of a
/// multi-line value (the runner masks line by line).
pub fn github_masks(vars: &[Var]) -> String {
    let mut out = String::new();
    for v in vars.iter().filter(|v| v.secret) {
        for line in v.value.expose().split(['\n', '\r']) {
            if !line.trim().is_empty() {
                let _ = writeln!(out, "::add-mask::{}", gh_escape(line));
            }
        }
    }
    out
}

/// `$GITHUB_ENV` entries in the heredoc form, each with a random delimiter
/// that occurs in no line of its value.
pub fn github_env(vars: &[Var]) -> Result<String, UserError> {
    let mut out = String::new();
    for v in vars {
        let val = v.value.expose();
        if val.contains('\r') {
            return Err(usage(format!(
                "{} contains a carriage return, which the runner would read as a line break",
                v.name
            ))
            .hint("use `authcfg exec` to pass it to the step directly"));
        }
        let delim = loop {
            let d = format!("ghadelimiter_{}", hex::encode(rand::random::<[u8; 16]>()));
            if !val.contains(&d) {
                break d;
            }
        };
        let _ = write!(out, "{}<<{delim}\n{val}\n{delim}\n", v.name);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("it's"), r"'it'\''s'");
        assert_eq!(fish_quote(r"a\b'c"), r"'a\\b\'c'");
        assert_eq!(ps_quote("it's"), "'it''s'");
        assert_eq!(gh_escape("50%\r\n"), "50%25%0D%0A");
    }
}
