//! Intent journal for writes that touch more than one file. Written (durably)
//! before the first file changes, removed after the last; a later command
//! that finds it redoes the derived part from the files themselves.

use serde::{Deserialize, Serialize};

pub const JOURNAL_FILE: &str = "journal.toml";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journal {
    /// What was under way: `put` or `delete` of the named configs.
    pub op: String,
    pub names: Vec<String>,
}
