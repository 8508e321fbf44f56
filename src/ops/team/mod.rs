//! Team stores on git (docs/ARCHITECTURE.md, "Team stores"): `git init`,
//! `git clone`, `sync`, `resolve`, and the merge driver and textconv git
//! runs for `configs/**`. authcfg shells out to the user's `git` (their SSH
//! config, credential helpers and signing keep working) and writes no
//! transport of its own. Everything that arrives is verified before it is
//! used: the tree holds only what a store tracks, the header is signed by
//! the admin key this clone trusts, and every changed config authenticates
//! under that header. Merges compare decrypted documents (`store::merge`)
//! and are computed from git objects only, so an interrupted sync is
//! completed by running the same steps again.

use super::{Session, Ui};
use crate::error::{failure, usage, UserError};
use crate::model::ConfigDoc;
use crate::settings::Settings;
use crate::store::header::{Access, Header, Parsed, HEADER_FILE};
use crate::store::journal::AuditIntent;
use crate::store::merge;
use crate::store::storekeys::StoreKeys;
use crate::store::{canonical_name, validate_name, Store, Txn};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod apply;
mod drivers;
mod git;
mod resolve;
mod setup;
mod sync;

use apply::*;
pub use drivers::*;
pub use git::*;
pub use resolve::*;
pub use setup::*;
pub use sync::*;

/// Only the signed header and the configs are shared; everything else in
/// the store (index, journals, audit trail, usage, pins, a sealed
/// identity, conflicts) stays local.
pub const GITIGNORE: &str =
    "# written by authcfg: a team store shares only its signed header and its configs\n\
/*\n\
!/.gitignore\n\
!/.gitattributes\n\
!/authcfg.toml\n\
!/configs/\n";

pub const GITATTRIBUTES: &str =
    "# written by authcfg: configs merge and diff decrypted, never as bytes\n\
configs/** merge=authcfg diff=authcfg -text\n";

/// In `.git/`: the sync under way (local and remote commit).
const MARKER: &str = "authcfg-sync";
/// How often a push that lost a race is retried.
const PUSH_ATTEMPTS: usize = 5;

#[cfg(test)]
mod tests {
    #[test]
    fn userinfo_is_hidden_from_git_messages() {
        let t =
            "fatal: unable to access 'https://bob:ghp_Secret123@git.example.com/team.git/': 403";
        let h = super::hide_userinfo(t);
        assert!(!h.contains("ghp_Secret123") && !h.contains("bob"), "{h}");
        assert!(h.contains("https://***@git.example.com/team.git/"), "{h}");
        assert_eq!(
            super::hide_userinfo("ssh://git.example.com/x"),
            "ssh://git.example.com/x"
        );
        assert_eq!(super::hide_userinfo("no url"), "no url");
    }
}
