//! Recovery shares of the master identity (docs/ARCHITECTURE.md, "Recovery
//! shares"): Shamir's scheme over GF(256) from `vsss-rs` (constant-time
//! field arithmetic, no lookup tables), each share a short text for paper
//! in bech32m (the `bech32` crate: a checksum that catches any changed
//! character, an alphabet without 1/b/i/o, case-insensitive).
//!
//! A share holds, in this order: the format (2), the first 8 bytes of the
//! store id, the key's fingerprint (the first 8 bytes of SHA-256 of its
//! public key, `age1…`: the key the shares restore is checked against it,
//! so a forged share restores nothing), the threshold K, the number of
//! shares N, the split's random id (4 bytes: shares of two splits never
//! mix), the share's index and its 32 bytes. Nothing here reads or writes
//! a file or a keyring.

use age::x25519;
use bech32::{primitives::decode::CheckedHrpstring, Bech32m, Hrp};
use std::fmt;
use zeroize::{Zeroize, Zeroizing};

/// What a share starts with (the bech32 human-readable part).
pub const PREFIX: &str = "authcfg-share";
/// 2 since the key's fingerprint (format 1 had none; its shares are not
/// read: a forged one could not be told from a real one).
const FORMAT: u8 = 2;
const KEY_LEN: usize = 32;
/// Bytes of the store id a share carries.
pub const STORE_TAG: usize = 8;
/// Bytes of the key's fingerprint a share carries.
pub const KEY_TAG: usize = 8;
const BODY: usize = 1 + STORE_TAG + KEY_TAG + 1 + 1 + 4 + 1 + KEY_LEN;
/// The most shares a split makes (GF(256) has 255 non-zero points).
pub const MAX_SHARES: u8 = 255;

/// One share, decoded.
pub struct Share {
    pub store: [u8; STORE_TAG],
    pub key: [u8; KEY_TAG],
    pub threshold: u8,
    pub count: u8,
    pub set: [u8; 4],
    pub index: u8,
    value: Zeroizing<[u8; KEY_LEN]>,
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Share")
            .field("store", &hex::encode(self.store))
            .field("key", &hex::encode(self.key))
            .field("index", &self.index)
            .field("threshold", &self.threshold)
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

/// The store id's first bytes as a share carries them: the hex id's bytes
/// (every store `init` made), else a digest of another id.
pub fn store_tag(store_id: &str) -> [u8; STORE_TAG] {
    let mut out = [0u8; STORE_TAG];
    match hex::decode(store_id) {
        Ok(b) if b.len() >= STORE_TAG => out.copy_from_slice(&b[..STORE_TAG]),
        _ => {
            use sha2::Digest;
            out.copy_from_slice(&sha2::Sha256::digest(store_id.as_bytes())[..STORE_TAG]);
        }
    }
    out
}

/// The key's fingerprint as a share carries it: the first bytes of
/// SHA-256 of its public key (`age1…`).
pub fn key_tag(public: &str) -> [u8; KEY_TAG] {
    use sha2::Digest;
    let mut out = [0u8; KEY_TAG];
    out.copy_from_slice(&sha2::Sha256::digest(public.as_bytes())[..KEY_TAG]);
    out
}

/// Why a text is not a usable share. Never holds the text itself.
#[derive(Debug, PartialEq, Eq)]
pub enum ShareError {
    /// No line starts with `authcfg-share1`.
    Missing,
    /// A character outside the share alphabet, at this position (1-based,
    /// counted without spaces).
    BadCharacter(usize),
    /// The checksum does not match: a changed, missing or extra character.
    Checksum,
    /// The right checksum but not a share authcfg can read (another format
    /// or length).
    Format,
}

impl fmt::Display for ShareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShareError::Missing => write!(f, "no line starting with {PREFIX}1"),
            ShareError::BadCharacter(at) => write!(
                f,
                "character {at} is not one a share uses (after the prefix a share has no 1, b, i or o)"
            ),
            ShareError::Checksum => f.write_str(
                "its checksum does not match: a character is changed, missing or extra",
            ),
            ShareError::Format => f.write_str("not a share of this version of authcfg"),
        }
    }
}

/// Splits a 32-byte key into `count` shares, any `threshold` of which
/// restore it.
fn split_bytes(
    secret: &[u8; KEY_LEN],
    key: [u8; KEY_TAG],
    store_id: &str,
    threshold: u8,
    count: u8,
) -> anyhow::Result<Vec<Share>> {
    use getrandom::rand_core::UnwrapErr;
    anyhow::ensure!(
        (2..=count).contains(&threshold),
        "the threshold must be at least 2 and at most the number of shares"
    );
    let raw = vsss_rs::Gf256::split_bytes(
        threshold as usize,
        count as usize,
        secret,
        UnwrapErr(getrandom::SysRng),
    )
    .map_err(|e| anyhow::anyhow!("cannot split the key: {e:?}"))?;
    let set = rand::random::<[u8; 4]>();
    let store = store_tag(store_id);
    raw.into_iter()
        .map(|mut r| {
            anyhow::ensure!(r.len() == KEY_LEN + 1, "a share of unexpected length");
            let mut value = Zeroizing::new([0u8; KEY_LEN]);
            value.copy_from_slice(&r[1..]);
            let index = r[0];
            r.zeroize();
            Ok(Share {
                store,
                key,
                threshold,
                count,
                set,
                index,
                value,
            })
        })
        .collect()
}

/// Splits `id` (its 32 secret bytes) for the store `store_id`.
pub fn split(
    id: &x25519::Identity,
    store_id: &str,
    threshold: u8,
    count: u8,
) -> anyhow::Result<Vec<Share>> {
    let secret = identity_bytes(id)?;
    let key = key_tag(&id.to_public().to_string());
    split_bytes(&secret, key, store_id, threshold, count)
}

fn identity_bytes(id: &x25519::Identity) -> anyhow::Result<Zeroizing<[u8; KEY_LEN]>> {
    let text = super::identity::secret_string(id);
    let (_, mut data) = bech32::decode(&text)
        .map_err(|_| anyhow::anyhow!("the identity is not an age X25519 key"))?;
    anyhow::ensure!(
        data.len() == KEY_LEN,
        "the identity is not an age X25519 key"
    );
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    out.copy_from_slice(&data);
    data.zeroize();
    Ok(out)
}

fn identity_from_bytes(bytes: &[u8]) -> Option<x25519::Identity> {
    let hrp = Hrp::parse("AGE-SECRET-KEY-").ok()?;
    let text = Zeroizing::new(bech32::encode_upper::<bech32::Bech32>(hrp, bytes).ok()?);
    super::identity::parse(&text)
}

impl Share {
    /// The share as text: the prefix, then the rest in groups of five
    /// (spaces are ignored when read back).
    pub fn encode(&self) -> Zeroizing<String> {
        let mut body = Zeroizing::new(Vec::with_capacity(BODY));
        body.push(FORMAT);
        body.extend_from_slice(&self.store);
        body.extend_from_slice(&self.key);
        body.push(self.threshold);
        body.push(self.count);
        body.extend_from_slice(&self.set);
        body.push(self.index);
        body.extend_from_slice(&self.value[..]);
        let hrp = Hrp::parse(PREFIX).expect("a valid prefix");
        let plain = Zeroizing::new(
            bech32::encode::<Bech32m>(hrp, &body).expect("a share fits a bech32m string"),
        );
        let head = PREFIX.len() + 1;
        let mut out = Zeroizing::new(String::with_capacity(plain.len() * 6 / 5 + 2));
        out.push_str(&plain[..head]);
        for (i, c) in plain[head..].chars().enumerate() {
            if i % 5 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }

    /// The store tag as hex, as the share's text shows it.
    pub fn store_hex(&self) -> String {
        hex::encode(self.store)
    }

    pub fn key_hex(&self) -> String {
        hex::encode(self.key)
    }

    pub fn set_hex(&self) -> String {
        hex::encode(self.set)
    }

    /// Reads the first share line of `text` (other lines, such as the
    /// explanation a share file starts with, are skipped).
    pub fn parse(text: &str) -> Result<Share, ShareError> {
        let prefix = format!("{PREFIX}1");
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| {
                l.len() >= prefix.len()
                    && l.is_char_boundary(prefix.len())
                    && l[..prefix.len()].eq_ignore_ascii_case(&prefix)
            })
            .ok_or(ShareError::Missing)?;
        let compact: Zeroizing<String> = Zeroizing::new(
            line.chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| c.to_ascii_lowercase())
                .collect(),
        );
        const CHARSET: &str = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
        if let Some(at) = compact[prefix.len()..]
            .chars()
            .position(|c| !CHARSET.contains(c))
        {
            return Err(ShareError::BadCharacter(prefix.len() + at + 1));
        }
        let checked = CheckedHrpstring::new::<Bech32m>(&compact).map_err(|e| match e {
            bech32::primitives::decode::CheckedHrpstringError::Checksum(_) => ShareError::Checksum,
            _ => ShareError::Format,
        })?;
        if !checked.hrp().as_str().eq_ignore_ascii_case(PREFIX) {
            return Err(ShareError::Missing);
        }
        let body: Zeroizing<Vec<u8>> = Zeroizing::new(checked.byte_iter().collect());
        if body.len() != BODY || body[0] != FORMAT {
            return Err(ShareError::Format);
        }
        let mut store = [0u8; STORE_TAG];
        store.copy_from_slice(&body[1..1 + STORE_TAG]);
        let mut key = [0u8; KEY_TAG];
        key.copy_from_slice(&body[1 + STORE_TAG..1 + STORE_TAG + KEY_TAG]);
        let at = 1 + STORE_TAG + KEY_TAG;
        let (threshold, count) = (body[at], body[at + 1]);
        let mut set = [0u8; 4];
        set.copy_from_slice(&body[at + 2..at + 6]);
        let index = body[at + 6];
        let mut value = Zeroizing::new([0u8; KEY_LEN]);
        value.copy_from_slice(&body[at + 7..]);
        if threshold < 2 || threshold > count || index == 0 {
            return Err(ShareError::Format);
        }
        Ok(Share {
            store,
            key,
            threshold,
            count,
            set,
            index,
            value,
        })
    }
}

/// Why shares of one split did not restore their key.
#[derive(Debug, PartialEq, Eq)]
pub enum CombineError {
    /// The first `threshold` shares give a key other than the one they name
    /// (or none): one of them is forged or altered.
    WrongKey,
    /// The share at this position (of those given) does not agree with
    /// the others: forged or altered.
    Disagrees(usize),
}

/// The key from `threshold` (or more) shares of one split: the caller has
/// checked they agree (store, key, split, threshold) and are distinct. The
/// key the first `threshold` give must be the one the shares name (its
/// fingerprint), and each further share must give it too with
/// `threshold - 1` of the first: every share given is checked.
pub fn combine(shares: &[&Share]) -> Result<x25519::Identity, CombineError> {
    let Some(first) = shares.first() else {
        return Err(CombineError::WrongKey);
    };
    let k = first.threshold as usize;
    if shares.len() < k {
        return Err(CombineError::WrongKey);
    }
    let matches = |id: &x25519::Identity| key_tag(&id.to_public().to_string()) == first.key;
    let id = interpolate(&shares[..k])
        .filter(|id| matches(id))
        .ok_or(CombineError::WrongKey)?;
    for (i, extra) in shares.iter().enumerate().skip(k) {
        let mut pick: Vec<&Share> = shares[..k - 1].to_vec();
        pick.push(extra);
        if !interpolate(&pick).is_some_and(|other| matches(&other)) {
            return Err(CombineError::Disagrees(i));
        }
    }
    Ok(id)
}

/// The key at the point 0 of the shares' polynomial, if a key.
fn interpolate(shares: &[&Share]) -> Option<x25519::Identity> {
    let raw: Vec<Zeroizing<Vec<u8>>> = shares
        .iter()
        .map(|s| {
            let mut v = Zeroizing::new(Vec::with_capacity(KEY_LEN + 1));
            v.push(s.index);
            v.extend_from_slice(&s.value[..]);
            v
        })
        .collect();
    let plain: Vec<Vec<u8>> = raw.iter().map(|v| v.to_vec()).collect();
    let result = vsss_rs::Gf256::combine_bytes(&plain);
    for mut p in plain {
        p.zeroize();
    }
    let bytes = Zeroizing::new(result.ok()?);
    identity_from_bytes(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> x25519::Identity {
        x25519::Identity::generate()
    }

    #[test]
    fn any_k_of_n_restore_and_text_round_trips() {
        let key = id();
        let shares = split(&key, "00112233445566778899aabbccddeeff", 3, 5).unwrap();
        let texts: Vec<_> = shares.iter().map(|s| s.encode()).collect();
        let back: Vec<Share> = texts.iter().map(|t| Share::parse(t).unwrap()).collect();
        assert_eq!(back[0].store_hex(), "0011223344556677");
        for pick in [[0, 1, 2], [0, 2, 4], [4, 3, 1], [1, 2, 3]] {
            let chosen: Vec<&Share> = pick.iter().map(|&i| &back[i]).collect();
            let got = combine(&chosen).unwrap();
            assert_eq!(got.to_public(), key.to_public());
        }
        // All five combine too.
        let all: Vec<&Share> = back.iter().collect();
        assert_eq!(combine(&all).unwrap().to_public(), key.to_public());
        // Two shares of a 3-of-5 split give another key (or none).
        let two = interpolate(&[&back[0], &back[1]]).map(|k| k.to_public());
        assert_ne!(two, Some(key.to_public()));
        assert_eq!(
            combine(&[&back[0], &back[1]]).err(),
            Some(CombineError::WrongKey)
        );
    }

    #[test]
    fn a_forged_share_restores_nothing() {
        let key = id();
        let made = split(&key, "00112233445566778899aabbccddeeff", 2, 3).unwrap();
        // Its header copied, a random value: a valid share text.
        let forged = Share {
            store: made[2].store,
            key: made[2].key,
            threshold: 2,
            count: 3,
            set: made[2].set,
            index: 3,
            value: Zeroizing::new(rand::random()),
        };
        let forged = Share::parse(&forged.encode()).unwrap();
        assert_eq!(
            combine(&[&made[0], &forged]).err(),
            Some(CombineError::WrongKey)
        );
        // Beyond the threshold: the key is restored, the forged one named.
        assert_eq!(
            combine(&[&made[0], &made[1], &forged]).err(),
            Some(CombineError::Disagrees(2))
        );
        assert_eq!(
            combine(&[&made[0], &made[1], &made[2]])
                .unwrap()
                .to_public(),
            key.to_public()
        );
    }

    #[test]
    fn a_changed_character_is_caught() {
        let s = split(&id(), "ab", 2, 2).unwrap();
        let text = s[0].encode().to_string();
        let n = PREFIX.len() + 4;
        let c = text.as_bytes()[n];
        let other = if c == b'q' { 'p' } else { 'q' };
        let mut bad = text.clone();
        bad.replace_range(n..n + 1, &other.to_string());
        assert_eq!(Share::parse(&bad).unwrap_err(), ShareError::Checksum);
        let mut bad = text.clone();
        bad.replace_range(n..n + 1, "b");
        assert!(matches!(
            Share::parse(&bad).unwrap_err(),
            ShareError::BadCharacter(_)
        ));
        assert!(Share::parse(&text.to_uppercase()).is_ok());
        assert_eq!(Share::parse("hello").unwrap_err(), ShareError::Missing);
    }
}
