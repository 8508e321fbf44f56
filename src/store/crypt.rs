//! age encryption of store files to the store's X25519 recipients.

use age::x25519;
use std::io::{Read, Write};

#[derive(Debug, thiserror::Error)]
pub enum CryptError {
    #[error("not an age file or truncated header")]
    Format,
    #[error("no identity that this file was encrypted to")]
    NoMatchingKey,
    #[error("authentication failed: the file was modified, truncated or corrupted")]
    Tampered,
    #[error("{0}")]
    Other(String),
}

/// The first `AGE-SECRET-KEY-1…` line of an identity file or string (the
/// one parser of identities: `keys::identity::parse` is this).
pub fn parse_identity(text: &str) -> Option<x25519::Identity> {
    use std::str::FromStr;
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .find_map(|l| x25519::Identity::from_str(l).ok())
}

pub fn encrypt(recipients: &[x25519::Recipient], plaintext: &[u8]) -> Result<Vec<u8>, CryptError> {
    let encryptor =
        age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .map_err(|e| CryptError::Other(e.to_string()))?;
    let mut out = Vec::with_capacity(plaintext.len() + 256);
    let mut w = encryptor
        .wrap_output(&mut out)
        .map_err(|e| CryptError::Other(e.to_string()))?;
    w.write_all(plaintext)
        .and_then(|_| w.finish().map(|_| ()))
        .map_err(|e| CryptError::Other(e.to_string()))?;
    Ok(out)
}

pub fn decrypt(identity: &x25519::Identity, ciphertext: &[u8]) -> Result<Vec<u8>, CryptError> {
    decrypt_any(&[identity], ciphertext)
}

/// Decrypts with whichever of `identities` the file was encrypted to.
pub fn decrypt_any(
    identities: &[&x25519::Identity],
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptError> {
    let decryptor = age::Decryptor::new_buffered(ciphertext).map_err(map_decrypt_err)?;
    let mut reader = decryptor
        .decrypt(identities.iter().map(|i| *i as &dyn age::Identity))
        .map_err(map_decrypt_err)?;
    let mut out = Vec::with_capacity(ciphertext.len());
    reader
        .read_to_end(&mut out)
        .map_err(|_| CryptError::Tampered)?;
    Ok(out)
}

fn map_decrypt_err(e: age::DecryptError) -> CryptError {
    use age::DecryptError as D;
    match e {
        D::NoMatchingKeys => CryptError::NoMatchingKey,
        D::InvalidHeader | D::UnknownFormat | D::Io(_) => CryptError::Format,
        D::InvalidMac | D::DecryptionFailed | D::KeyDecryptionFailed => CryptError::Tampered,
        other => CryptError::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_tamper() {
        let id = x25519::Identity::generate();
        let ct = encrypt(&[id.to_public()], b"hello").unwrap();
        assert_eq!(decrypt(&id, &ct).unwrap(), b"hello");
        let mut bad = ct.clone();
        let n = bad.len();
        bad[n - 3] ^= 1;
        assert!(matches!(decrypt(&id, &bad), Err(CryptError::Tampered)));
        assert!(decrypt(&id, &ct[..ct.len() - 10]).is_err());
        let other = x25519::Identity::generate();
        assert!(matches!(
            decrypt(&other, &ct),
            Err(CryptError::NoMatchingKey)
        ));
    }
}
