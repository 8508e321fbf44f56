//! authcfg: an encrypted command-line credential manager.
//!
//! Layers (docs/ARCHITECTURE.md): `cli/` parses, prompts and prints;
//! `ops/` holds every workflow that changes state and never prints;
//! `store/` keeps the encrypted, authenticated files; `keys/` finds the
//! master key; `settings` reads the environment once; `catalog/` holds the
//! data that describes config types; `export/` hands secrets to programs.

pub mod catalog;
pub mod cli;
pub mod connectors;
pub mod env_names;
pub mod error;
pub mod export;
pub mod input;
pub mod keys;
pub mod leave;
pub mod mcp;
pub mod model;
pub mod net;
pub mod oauth;
pub mod ops;
pub mod otp;
pub mod platform;
pub mod project;
pub mod redact;
pub mod secret;
pub mod settings;
pub mod store;
pub mod text;
