//! Parsing age X25519 identities from strings and identity files, and the
//! passphrase-protected identity file (age scrypt).

use age::x25519;
use secrecy::{ExposeSecret, SecretString};
use std::io::{Read, Write};
use zeroize::Zeroizing;

pub const PASSPHRASE_FILE: &str = crate::store::layout::SEALED_IDENTITY;

/// The first `AGE-SECRET-KEY-1…` line of an identity file or string.
pub use crate::store::crypt::parse_identity as parse;

/// The identity file body, as `age-keygen` writes it.
pub fn to_file_text(id: &x25519::Identity) -> Zeroizing<String> {
    Zeroizing::new(format!(
        "# created: {}\n# public key: {}\n{}\n",
        crate::model::rfc3339(crate::model::now()),
        id.to_public(),
        id.to_string().expose_secret()
    ))
}

/// The bare `AGE-SECRET-KEY-1…` string, as kept in a keyring entry.
pub fn secret_string(id: &x25519::Identity) -> Zeroizing<String> {
    Zeroizing::new(id.to_string().expose_secret().to_string())
}

/// The shortest passphrase that may seal a master key (`init
/// --passphrase`, a key backup): a sealed key can be copied and guessed
/// offline against age's scrypt, which slows each guess but does not make
/// a short passphrase safe. One rule for every place a person chooses one.
pub const MIN_PASSPHRASE: usize = 10;

/// Whether a new passphrase is long enough (`MIN_PASSPHRASE`).
pub fn check_new_passphrase(p: &str) -> Result<(), crate::error::UserError> {
    if p.chars().count() < MIN_PASSPHRASE {
        return Err(crate::error::usage(format!(
            "the passphrase is shorter than {MIN_PASSPHRASE} characters"
        ))
        .hint("a sealed key can be copied and guessed offline: use a longer passphrase (several words)"));
    }
    Ok(())
}

pub fn seal_with_passphrase(id: &x25519::Identity, passphrase: &str) -> anyhow::Result<Vec<u8>> {
    let enc = age::Encryptor::with_user_passphrase(SecretString::from(passphrase.to_owned()));
    let mut out = Vec::new();
    let mut w = enc.wrap_output(&mut out)?;
    w.write_all(to_file_text(id).as_bytes())?;
    w.finish()?;
    Ok(out)
}

#[derive(Debug)]
pub enum UnsealError {
    WrongPassphrase,
    Damaged(String),
}

pub fn unseal_with_passphrase(
    data: &[u8],
    passphrase: &str,
) -> Result<x25519::Identity, UnsealError> {
    let dec =
        age::Decryptor::new_buffered(data).map_err(|e| UnsealError::Damaged(e.to_string()))?;
    let mut scrypt_id = age::scrypt::Identity::new(SecretString::from(passphrase.to_owned()));
    scrypt_id.set_max_work_factor(22);
    let mut reader = dec
        .decrypt(std::iter::once(&scrypt_id as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed
            | age::DecryptError::KeyDecryptionFailed
            | age::DecryptError::NoMatchingKeys => UnsealError::WrongPassphrase,
            other => UnsealError::Damaged(other.to_string()),
        })?;
    let mut text = Zeroizing::new(String::new());
    reader
        .read_to_string(&mut text)
        .map_err(|e| UnsealError::Damaged(e.to_string()))?;
    parse(&text).ok_or_else(|| UnsealError::Damaged("no identity inside".into()))
}
