//! Errors that reach the user: a message, a hint they can act on, and an exit code.

use std::fmt;

/// Exit codes (docs/ARCHITECTURE.md, "Exit codes"). `classify` maps
/// every error to one; `meaning` is what `--help` and `man authcfg` say
/// about each (EXIT STATUS), so the documentation is this enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Error = 1,
    Usage = 2,
    NotFound = 3,
    TestFailed = 4,
    NoKey = 5,
    OAuth = 6,
    /// `exec`: the command was found but could not be started (as shells do).
    CannotRun = 126,
    /// `exec`: no such command (as shells do).
    NoCommand = 127,
}

impl Exit {
    pub const ALL: [Exit; 6] = [
        Exit::Error,
        Exit::Usage,
        Exit::NotFound,
        Exit::TestFailed,
        Exit::NoKey,
        Exit::OAuth,
    ];

    /// What the code means, for EXIT STATUS (a match: a new code cannot
    /// go undocumented).
    pub fn meaning(self) -> &'static str {
        match self {
            Exit::Error => "an error: a damaged or unreadable store, a network failure, a refused write (`status`: no store)",
            Exit::Usage => "wrong usage: an unknown command or flag, a bad argument or input file; also a config without its secret, or whose type has no such credential (`token` of a basic config); nothing was changed",
            Exit::NotFound => "no config of that name (the hint names the nearest ones)",
            Exit::TestFailed => "a credential test failed (`test`, `add connector`; `http --fail`: a status that is not 2xx; `webhook verify`: the request's signature does not verify)",
            Exit::NoKey => "no usable master key: no key source worked or the store is locked (`status`), a member attempted an admin's change, or your key is not a recipient yet",
            Exit::OAuth => "an OAuth authorization failed",
            Exit::CannotRun => "`exec`: the command was found but could not be started",
            Exit::NoCommand => "`exec`: no such command",
        }
    }
}

/// What kind of failure it was at a remote party, where that matters to a
/// caller (`test` turns it into a failure class): typed, so that nobody
/// has to read it back out of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The party could not be reached (network, DNS, TLS, timeout).
    Unreachable(Reach),
    /// It refused the credentials (invalid_grant, invalid_client, no refresh token).
    Credentials,
    /// It refused the scope or permission.
    Permission,
    /// It answered something that could not be understood.
    Protocol,
}

/// Why a party could not be reached, from the error's types
/// (`crate::net::reach`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    Timeout,
    Refused,
    Dns,
    Tls,
    /// Something else went wrong on the way (reset, a broken answer).
    Other,
}

/// An error meant for the user. Never holds secret values: build messages
/// from names and kinds only.
#[derive(Debug)]
pub struct UserError {
    pub exit: Exit,
    pub message: String,
    pub hint: Option<String>,
    pub cause: Option<Cause>,
}

impl UserError {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        UserError {
            exit,
            message: message.into(),
            hint: None,
            cause: None,
        }
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn cause(mut self, cause: Cause) -> Self {
        self.cause = Some(cause);
        self
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}

pub fn usage(message: impl Into<String>) -> UserError {
    UserError::new(Exit::Usage, message)
}
pub fn failure(message: impl Into<String>) -> UserError {
    UserError::new(Exit::Error, message)
}
pub fn not_found(name: &str) -> UserError {
    UserError::new(Exit::NotFound, format!("no config named '{name}'"))
        .hint("run `authcfg list` to see the configs in this store")
}
/// `no config named 'NAME'`, with the existing names nearest to it (a
/// typo, or the name without its group: `stripe` for `prod/stripe`).
pub fn config_not_found<'a>(
    name: &str,
    existing: impl Iterator<Item = &'a str> + Clone,
) -> UserError {
    fn leaf(n: &str) -> &str {
        n.rsplit('/').next().unwrap_or(n)
    }
    let mut near: Vec<&str> = existing
        .clone()
        .filter(|n| *n != name && leaf(n) == leaf(name))
        .collect();
    near.sort_unstable();
    for n in nearest(name, existing, 3) {
        if !near.contains(&n) {
            near.push(n);
        }
    }
    near.truncate(3);
    let quoted: Vec<String> = near.iter().map(|n| format!("'{n}'")).collect();
    match quoted.as_slice() {
        [] => not_found(name),
        [one] => UserError::new(Exit::NotFound, format!("no config named '{name}'")).hint(format!(
            "did you mean {one}? (`authcfg list` shows every config)"
        )),
        [first @ .., last] => UserError::new(Exit::NotFound, format!("no config named '{name}'"))
            .hint(format!(
                "did you mean {} or {last}? (`authcfg list` shows every config)",
                first.join(", ")
            )),
    }
}

/// The candidates closest to `word` by edit distance, nearest first (then
/// by name), each close enough to be a typo of it: the one did-you-mean
/// of fields, types, providers, connectors and config names.
pub fn nearest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str>,
    max: usize,
) -> Vec<&'a str> {
    let mut near: Vec<(usize, &str)> = candidates
        .map(|c| (strsim::levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3))
        .collect();
    near.sort_unstable();
    near.dedup();
    near.into_iter().take(max).map(|(_, c)| c).collect()
}

/// The closest candidate by edit distance, if it is close enough.
pub fn suggest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    nearest(word, candidates, 1).pop()
}

pub fn no_key(message: impl Into<String>) -> UserError {
    UserError::new(Exit::NoKey, message)
}

/// Finds the exit code and hint for any error chain.
pub fn classify(err: &anyhow::Error) -> (Exit, Option<String>) {
    for cause in err.chain() {
        if let Some(u) = cause.downcast_ref::<UserError>() {
            return (u.exit, u.hint.clone());
        }
    }
    (Exit::Error, None)
}

/// The typed cause of an error chain, if one was given.
pub fn cause(err: &anyhow::Error) -> Option<Cause> {
    err.chain()
        .find_map(|c| c.downcast_ref::<UserError>())
        .and_then(|u| u.cause)
}

pub type Result<T, E = anyhow::Error> = std::result::Result<T, E>;

/// What every command returns: `Ok(())` (exit 0) or a `CommandError`, which
/// carries its exit class. The exit code of any run is decided here, in
/// `CommandError::code`, and nowhere else (as jj's `command_error.rs`).
pub type CommandResult = std::result::Result<(), CommandError>;

/// A command's failure and its exit class. Either an error still to be
/// shown (`main` prints it with its causes and hint), or one the command
/// already reported in its own output (`test`'s table, `doctor`'s checks):
/// then only the exit code is left.
#[derive(Debug)]
pub struct CommandError {
    exit: Exit,
    error: Option<anyhow::Error>,
    /// `exec --lease`: the child's own exit code (authcfg waited for it).
    child: Option<i32>,
}

impl CommandError {
    /// A failure the command has already shown (its output says what
    /// failed): exits with `exit`, prints nothing more.
    pub fn reported(exit: Exit) -> CommandError {
        CommandError {
            exit,
            error: None,
            child: None,
        }
    }
    /// `exec --lease`: authcfg ran the command and waited for it; the exit
    /// code is the command's own (128 + N when signal N ended it, as
    /// shells say).
    pub fn child(code: i32) -> CommandError {
        CommandError {
            exit: Exit::Error,
            error: None,
            child: Some(code),
        }
    }
    /// The error to show, if the command has not shown it itself.
    pub fn error(&self) -> Option<&anyhow::Error> {
        self.error.as_ref()
    }
    pub fn exit(&self) -> Exit {
        self.exit
    }
    /// The process's exit code: the documented table (README, "Exit codes").
    pub fn code(&self) -> i32 {
        self.child.unwrap_or(self.exit as i32)
    }
}

/// Any error becomes a command error with the exit class its chain carries
/// (a `UserError`'s, else 1): `?` works on every error in a command.
impl<E: Into<anyhow::Error>> From<E> for CommandError {
    fn from(e: E) -> Self {
        let error = e.into();
        let (exit, _) = classify(&error);
        CommandError {
            exit,
            error: Some(error),
            child: None,
        }
    }
}
