//! The store's symmetric and signing primitives (docs/ARCHITECTURE.md,
//! "Authentication"). age encrypts to public keys, which authenticates
//! nothing: anyone can encrypt a file to the store's recipients. What the
//! store trusts is therefore authenticated on top of age:
//!
//! - the header is signed with the **admin key**, an Ed25519 key derived
//!   from the master identity (HKDF-SHA256), so only the master key can sign
//!   it and everyone can verify it;
//! - configs, index, journals and the audit trail carry MACs (or are AEAD
//!   sealed) under **store keys**: random 32-byte keys sealed with age to the
//!   recipients of their scope and listed in the signed header.

use age::x25519;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::XChaCha20Poly1305;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// A 32-byte symmetric key, wiped on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Key32(Zeroizing<[u8; 32]>);

impl Key32 {
    pub fn random() -> Key32 {
        Key32(Zeroizing::new(rand::random()))
    }
    pub fn from_bytes(b: [u8; 32]) -> Key32 {
        Key32(Zeroizing::new(b))
    }
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
    /// A short public name for the key (not a secret: a hash of it).
    pub fn id(&self) -> String {
        hex::encode(&Sha256::digest(&self.0[..])[..6])
    }
    /// A subkey for one purpose, so that no key is used in two roles.
    pub fn derive(&self, purpose: &str) -> Key32 {
        hkdf(&self.0[..], purpose)
    }
}

impl std::fmt::Debug for Key32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Key32({})", self.id())
    }
}

pub fn hkdf(ikm: &[u8], purpose: &str) -> Key32 {
    let hk = hkdf::Hkdf::<Sha256>::new(Some(b"authcfg store v2"), ikm);
    let mut out = Zeroizing::new([0u8; 32]);
    hk.expand(purpose.as_bytes(), &mut out[..])
        .expect("32 bytes is a valid HKDF length");
    Key32(out)
}

/// HMAC-SHA256 over length-prefixed parts, so that no two different part
/// lists give the same input.
pub fn mac(key: &Key32, parts: &[&[u8]]) -> [u8; 32] {
    let mut m = <HmacSha256 as Mac>::new_from_slice(key.bytes()).expect("any key length");
    for p in parts {
        m.update(&(p.len() as u64).to_be_bytes());
        m.update(p);
    }
    m.finalize().into_bytes().into()
}

/// Constant-time check of a hex MAC.
pub fn mac_ok(key: &Key32, parts: &[&[u8]], hex_mac: &str) -> bool {
    let Ok(given) = hex::decode(hex_mac) else {
        return false;
    };
    let mut m = <HmacSha256 as Mac>::new_from_slice(key.bytes()).expect("any key length");
    for p in parts {
        m.update(&(p.len() as u64).to_be_bytes());
        m.update(p);
    }
    m.verify_slice(&given).is_ok()
}

/// Constant-time equality of two MACs written in hex.
pub fn mac_ok_hex(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The bytes a master identity is derived from: its canonical secret
/// string (a deterministic encoding of the X25519 scalar).
fn identity_ikm(id: &x25519::Identity) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(id.to_string().expose_secret().as_bytes().to_vec())
}

/// A key derived from an identity for one purpose (member pins).
pub fn identity_key(id: &x25519::Identity, purpose: &str) -> Key32 {
    hkdf(&identity_ikm(id), purpose)
}

/// The admin signing key of a store whose master key is `id`.
pub struct AdminKey(SigningKey);

impl AdminKey {
    pub fn from_identity(id: &x25519::Identity) -> AdminKey {
        let seed = identity_key(id, "admin signing key");
        AdminKey(SigningKey::from_bytes(seed.bytes()))
    }
    pub fn public(&self) -> AdminPub {
        AdminPub(self.0.verifying_key())
    }
    pub fn sign(&self, context: &str, body: &[u8]) -> String {
        let sig = self.0.sign(&signed_message(context, body));
        b64().encode(sig.to_bytes())
    }
}

/// The public half of an admin key, written `ed25519:BASE64`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct AdminPub(VerifyingKey);

impl AdminPub {
    pub fn parse(s: &str) -> Option<AdminPub> {
        let b = b64().decode(s.strip_prefix("ed25519:")?).ok()?;
        let arr: [u8; 32] = b.try_into().ok()?;
        VerifyingKey::from_bytes(&arr).ok().map(AdminPub)
    }
    pub fn encode(&self) -> String {
        format!("ed25519:{}", b64().encode(self.0.as_bytes()))
    }
    /// `SHA256:…` as OpenSSH prints key fingerprints.
    pub fn fingerprint(&self) -> String {
        let d = Sha256::digest(self.0.as_bytes());
        format!(
            "SHA256:{}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode(d)
        )
    }
    pub fn verify(&self, context: &str, body: &[u8], signature: &str) -> bool {
        let Ok(bytes) = b64().decode(signature) else {
            return false;
        };
        let Ok(sig) = ed25519_dalek::Signature::from_slice(&bytes) else {
            return false;
        };
        self.0
            .verify_strict(&signed_message(context, body), &sig)
            .is_ok()
    }
}

fn signed_message(context: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(body.len() + context.len() + 16);
    m.extend_from_slice(b"authcfg-signature\0");
    m.extend_from_slice(context.as_bytes());
    m.push(0);
    m.extend_from_slice(body);
    m
}

pub fn b64() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

const NONCE: usize = 24;

/// XChaCha20-Poly1305 with a random nonce: `nonce || ciphertext`. `aad`
/// binds the blob to its place (file name, store id).
pub fn seal(key: &Key32, aad: &[u8], plain: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.bytes().into());
    let nonce: [u8; NONCE] = rand::random();
    let ct = cipher
        .encrypt(&nonce.into(), Payload { msg: plain, aad })
        .expect("encryption of an in-memory buffer cannot fail");
    let mut out = Vec::with_capacity(NONCE + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

/// Opens a `seal`ed blob; `None` when it was modified, is sealed under
/// another key or belongs elsewhere (other `aad`).
pub fn open(key: &Key32, aad: &[u8], data: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if data.len() < NONCE {
        return None;
    }
    let cipher = XChaCha20Poly1305::new(key.bytes().into());
    let (nonce, ct) = data.split_at(NONCE);
    cipher
        .decrypt(nonce.into(), Payload { msg: ct, aad })
        .ok()
        .map(Zeroizing::new)
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_key_is_deterministic_and_verifies() {
        let id = x25519::Identity::generate();
        let a = AdminKey::from_identity(&id);
        let b = AdminKey::from_identity(&id);
        assert_eq!(a.public(), b.public());
        let sig = a.sign("header", b"body");
        let p = AdminPub::parse(&a.public().encode()).unwrap();
        assert!(p.verify("header", b"body", &sig));
        assert!(!p.verify("header", b"bodY", &sig));
        assert!(!p.verify("journal", b"body", &sig));
        let other = AdminKey::from_identity(&x25519::Identity::generate());
        assert_ne!(other.public(), a.public());
        assert!(!other.public().verify("header", b"body", &sig));
    }

    #[test]
    fn seal_open_and_tamper() {
        let k = Key32::random();
        let s = seal(&k, b"here", b"secret");
        assert_eq!(&open(&k, b"here", &s).unwrap()[..], b"secret");
        assert!(open(&k, b"there", &s).is_none());
        assert!(open(&Key32::random(), b"here", &s).is_none());
        let mut t = s.clone();
        t[30] ^= 1;
        assert!(open(&k, b"here", &t).is_none());
    }

    #[test]
    fn macs_are_framed() {
        let k = Key32::random();
        let m = hex::encode(mac(&k, &[b"ab", b"c"]));
        assert!(mac_ok(&k, &[b"ab", b"c"], &m));
        assert!(!mac_ok(&k, &[b"a", b"bc"], &m));
        assert!(!mac_ok(&k.derive("x"), &[b"ab", b"c"], &m));
    }
}
