//! authcfg: an encrypted command-line credential manager.
//!
//! Layout (DESIGN §8): `cli/` parses, prompts and prints; `store/` keeps the
//! encrypted files; `keys/` finds the master key; `catalog/` holds the data
//! that describes config types; `export/` hands secrets to programs.

pub mod audit;
pub mod catalog;
pub mod cli;
pub mod connectors;
pub mod error;
pub mod export;
pub mod keys;
pub mod model;
pub mod net;
pub mod oauth;
pub mod secret;
pub mod store;
