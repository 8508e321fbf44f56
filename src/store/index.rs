//! The index: every config's `Meta` in one encrypted JSON file, so that
//! `list` costs one decryption whatever the store's size. It is derived data:
//! each config file is the truth, and the journal repairs the index after an
//! interrupted write.

use crate::model::Meta;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const INDEX_FILE: &str = "index.age";

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Index {
    pub configs: BTreeMap<String, Meta>,
}
