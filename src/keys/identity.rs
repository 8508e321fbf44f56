//! Parsing age X25519 identities from strings and identity files, and the
//! passphrase-protected identity file (age scrypt).

use crate::store::crypt::{plugin_failure, PluginCallbacks, PluginPrompts};
use age::x25519;
use secrecy::{ExposeSecret, SecretString};
use std::io::{Read, Write};
use zeroize::Zeroizing;

pub const PASSPHRASE_FILE: &str = crate::store::layout::SEALED_IDENTITY;

/// The first identity line, native or an age plugin's (`AGE-PLUGIN-…`).
pub use crate::store::crypt::parse_any_identity as parse_any;
/// The first `AGE-SECRET-KEY-1…` line of an identity file or string.
pub use crate::store::crypt::parse_identity as parse;

pub const PLUGIN_FILE: &str = crate::store::layout::PLUGIN_SEALED_IDENTITY;

/// Seals the master key to a plugin identity (age encrypts to the
/// identity's own recipient through the plugin, which may ask the person
/// through `prompts`).
pub fn seal_with_plugin(
    id: &x25519::Identity,
    plugin_id: &age::plugin::Identity,
    prompts: Option<&'static dyn PluginPrompts>,
) -> Result<Vec<u8>, crate::error::UserError> {
    let name = plugin_id.plugin().to_string();
    let cb = PluginCallbacks::new(&name, prompts);
    let p = age::plugin::RecipientPluginV1::new(
        &name,
        &[],
        std::slice::from_ref(plugin_id),
        cb.clone(),
    )
    .map_err(|_| plugin_failure(&"", Some(&format!("age-plugin-{name}")), None))?;
    let fail = |e: &dyn std::fmt::Display| plugin_failure(e, None, Some(&cb));
    let enc = age::Encryptor::with_recipients(std::iter::once(&p as &dyn age::Recipient))
        .map_err(|e| fail(&e))?;
    let mut out = Vec::new();
    let mut w = enc.wrap_output(&mut out).map_err(|e| fail(&e))?;
    w.write_all(to_file_text(id).as_bytes())
        .and_then(|_| w.finish().map(|_| ()))
        .map_err(|e| fail(&e))?;
    Ok(out)
}

/// Opens a master key sealed to a plugin identity: the plugin runs, and
/// its prompts (touch the key, a PIN) go to `prompts`. A plugin that is
/// missing or fails is an error naming it; nothing falls back.
pub fn unseal_with_plugin(
    data: &[u8],
    plugin_id: &age::plugin::Identity,
    prompts: Option<&'static dyn PluginPrompts>,
) -> Result<x25519::Identity, crate::error::UserError> {
    let name = plugin_id.plugin().to_string();
    let bytes = match open_with_plugin(data, plugin_id, prompts)? {
        Some(b) => b,
        None => {
            return Err(crate::error::no_key(format!(
                "the master key is not sealed to this age-plugin-{name} identity"
            ))
            .hint("use the plugin identity the store was created with"))
        }
    };
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| crate::error::no_key("the plugin-sealed master key holds no identity"))?;
    parse(text)
        .ok_or_else(|| crate::error::no_key("the plugin-sealed master key holds no identity"))
}

/// What an age file sealed to a plugin identity holds, opened by the
/// plugin (`None`: not sealed to this identity). The one plugin decryption
/// of a master key and of a plugin custody (docs/ARCHITECTURE.md, "Key
/// services").
pub fn open_with_plugin(
    data: &[u8],
    plugin_id: &age::plugin::Identity,
    prompts: Option<&'static dyn PluginPrompts>,
) -> Result<Option<Zeroizing<Vec<u8>>>, crate::error::UserError> {
    let name = plugin_id.plugin().to_string();
    let cb = PluginCallbacks::new(&name, prompts);
    let p = age::plugin::IdentityPluginV1::new(&name, std::slice::from_ref(plugin_id), cb.clone())
        .map_err(|_| plugin_failure(&"", Some(&format!("age-plugin-{name}")), None))?;
    let dec = age::Decryptor::new_buffered(data)
        .map_err(|e| crate::error::no_key(format!("the plugin-sealed key is damaged: {e}")))?;
    let mut reader = match dec.decrypt(std::iter::once(&p as &dyn age::Identity)) {
        Ok(r) => r,
        Err(age::DecryptError::NoMatchingKeys) if cb.unanswered().is_none() => return Ok(None),
        Err(e) => return Err(plugin_failure(&e, None, Some(&cb))),
    };
    let mut out = Zeroizing::new(Vec::new());
    reader
        .read_to_end(&mut out)
        .map_err(|e| plugin_failure(&e, None, Some(&cb)))?;
    Ok(Some(out))
}

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
