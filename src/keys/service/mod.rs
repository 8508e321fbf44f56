//! Key custody (docs/ARCHITECTURE.md, "Key services"). Placeholder of the
//! framework (branch keysvc) until it is merged: the trait only.

pub mod awskms;

use crate::error::UserError;
use zeroize::Zeroizing;

/// What a key service does for authcfg.
pub trait KeyService {
    fn wrap(&self, plaintext: &[u8]) -> Result<String, UserError>;
    fn unwrap(&self, sealed: &str) -> Result<Zeroizing<Vec<u8>>, UserError>;
    fn rewrap(&self, sealed: &str) -> Result<String, UserError>;
    fn check(&self) -> Result<String, UserError>;
    fn describe(&self) -> String;
}
