//! Use cases (docs/ARCHITECTURE.md, "Layers"): every workflow that changes
//! state lives here, returns typed results and never prints. The CLI gives
//! a `Ui` for the few things that need a person (a passphrase, trusting an
//! admin key) and for progress and notices, and renders the results.

pub mod admin;
pub mod aws;
pub mod bindings;
pub mod cargo_credential;
pub mod config;
pub mod credential;
pub mod docker_credential;
pub mod doctor;
pub mod git_credential;
pub mod handout;
pub mod http;
pub mod init;
pub mod key;
pub mod kube_credential;
pub mod lease;
pub mod master_key;
pub mod probe;
pub mod project;
pub mod proxy;
pub mod recipients;
/// Redaction is a policy below `ops` (oauth and the store use it too); the
/// path `ops::redact` stays for callers that reach it through the use cases.
pub use crate::redact;
pub mod refresh;
pub mod rotate;
pub mod run;
pub mod session;
pub mod sql;
pub mod status;
pub mod team;
pub mod webhook;

pub use session::Session;

/// What the library may ask of, or tell, the person at the terminal.
pub trait Ui: Sync {
    /// Something the user should know (stderr). Never holds a secret.
    fn notice(&self, message: &str);
    /// The store's passphrase, when there is a terminal to ask.
    fn passphrase(&self) -> Option<zeroize::Zeroizing<String>> {
        None
    }
    /// A member trusts the admin key with this fingerprint.
    fn trust_admin(&self, _fingerprint: &str) -> bool {
        false
    }
    /// Progress of long work (`done` of `total`).
    fn progress(&self, _what: &str, _done: usize, _total: usize) {}
    /// Where an age plugin's messages and questions go (touch your key,
    /// a PIN): the terminal, or `None` (the plugin's question then fails
    /// the command, naming the plugin).
    fn plugin_prompts(&self) -> crate::keys::Prompts {
        None
    }
}

/// A `Ui` that asks nothing and says nothing (library tests, MCP).
pub struct Silent;
impl Ui for Silent {
    fn notice(&self, _message: &str) {}
}
