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

/// An age identity: a native X25519 key (`AGE-SECRET-KEY-1…`) or one held
/// by an age plugin (`AGE-PLUGIN-NAME-1…`: a YubiKey, a TPM, the Secure
/// Enclave), which only the plugin binary `age-plugin-NAME` can use
/// (docs/ARCHITECTURE.md, "age plugins").
#[derive(Clone)]
pub enum AnyIdentity {
    X25519(x25519::Identity),
    Plugin(age::plugin::Identity),
}

/// An age recipient: a native X25519 key (`age1…`) or a plugin's
/// (`age1NAME1…`).
#[derive(Clone)]
pub enum AnyRecipient {
    X25519(x25519::Recipient),
    Plugin(age::plugin::Recipient),
}

/// The first identity line of an identity file or string, native or a
/// plugin's (the one parser of identities: `keys::identity::parse` and
/// `parse_identity` are this).
pub fn parse_any_identity(text: &str) -> Option<AnyIdentity> {
    use std::str::FromStr;
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .find_map(|l| {
            x25519::Identity::from_str(l)
                .map(AnyIdentity::X25519)
                .ok()
                .or_else(|| {
                    age::plugin::Identity::from_str(l)
                        .ok()
                        .map(AnyIdentity::Plugin)
                })
        })
}

/// The first identity of `text`, when it is a native X25519 key (a store's
/// master key always is: a plugin identity seals one, `keys`).
pub fn parse_identity(text: &str) -> Option<x25519::Identity> {
    match parse_any_identity(text)? {
        AnyIdentity::X25519(id) => Some(id),
        AnyIdentity::Plugin(_) => None,
    }
}

/// A recipient string, native or a plugin's (the one parser of recipients).
pub fn parse_recipient(s: &str) -> Option<AnyRecipient> {
    use std::str::FromStr;
    let s = s.trim();
    x25519::Recipient::from_str(s)
        .map(AnyRecipient::X25519)
        .ok()
        .or_else(|| {
            age::plugin::Recipient::from_str(s)
                .ok()
                .map(AnyRecipient::Plugin)
        })
}

/// The plugin's side of a person: its messages, confirmations and requests
/// reach the terminal through this (the CLI's `ops::Ui`), or nowhere.
pub trait PluginPrompts: Sync {
    fn message(&self, plugin: &str, message: &str);
    fn confirm(&self, plugin: &str, message: &str, yes: &str, no: Option<&str>) -> Option<bool>;
    fn request(&self, plugin: &str, description: &str, secret: bool) -> Option<String>;
}

/// age's callbacks for a plugin: to `prompts` when there is a person, and
/// otherwise a refusal that is remembered, so that the error can say the
/// plugin asked and there was no terminal to answer.
#[derive(Clone)]
pub struct PluginCallbacks {
    plugin: String,
    prompts: Option<&'static dyn PluginPrompts>,
    unanswered: std::sync::Arc<std::sync::Mutex<Option<String>>>,
}

impl PluginCallbacks {
    pub fn new(plugin: &str, prompts: Option<&'static dyn PluginPrompts>) -> Self {
        PluginCallbacks {
            plugin: plugin.to_string(),
            prompts,
            unanswered: Default::default(),
        }
    }
    /// What the plugin asked that nobody could answer, if anything.
    pub fn unanswered(&self) -> Option<String> {
        self.unanswered.lock().unwrap().clone()
    }
    fn refuse(&self, what: &str) {
        *self.unanswered.lock().unwrap() = Some(what.to_string());
    }
}

impl age::Callbacks for PluginCallbacks {
    fn display_message(&self, message: &str) {
        // Without a terminal a message has nobody to reach; it is not a
        // question, so nothing fails for it.
        if let Some(p) = self.prompts {
            p.message(&self.plugin, message)
        }
    }
    fn confirm(&self, message: &str, yes: &str, no: Option<&str>) -> Option<bool> {
        let answer = self
            .prompts
            .and_then(|p| p.confirm(&self.plugin, message, yes, no));
        if answer.is_none() {
            self.refuse(message);
        }
        answer
    }
    fn request_public_string(&self, description: &str) -> Option<String> {
        let answer = self
            .prompts
            .and_then(|p| p.request(&self.plugin, description, false));
        if answer.is_none() {
            self.refuse(description);
        }
        answer
    }
    fn request_passphrase(&self, description: &str) -> Option<secrecy::SecretString> {
        let answer = self
            .prompts
            .and_then(|p| p.request(&self.plugin, description, true));
        if answer.is_none() {
            self.refuse(description);
        }
        answer.map(secrecy::SecretString::from)
    }
}

/// What a plugin that failed or is missing means, naming it and what to
/// install; `None` for errors that are not the plugin's.
pub fn plugin_failure(
    e: &dyn std::fmt::Display,
    missing: Option<&str>,
    cb: Option<&PluginCallbacks>,
) -> crate::error::UserError {
    if let Some(binary) = missing {
        return crate::error::no_key(format!(
            "the age plugin {binary} is not installed (not found on PATH)"
        ))
        .hint(format!(
            "install {binary} (the plugin of your hardware key: age-plugin-yubikey, age-plugin-tpm, age-plugin-se, ...) and put it on PATH"
        ));
    }
    let plugin = cb.map(|c| c.plugin.as_str()).unwrap_or("plugin");
    if let Some(q) = cb.and_then(PluginCallbacks::unanswered) {
        return crate::error::no_key(format!(
            "the age plugin age-plugin-{plugin} asked \"{}\" and there is no terminal to answer",
            crate::text::escape(&q, 200)
        ))
        .hint("run the command at a terminal");
    }
    // age's own text: its first line, without the isolation marks its
    // translations put around names.
    let said: String = e
        .to_string()
        .lines()
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| !matches!(c, '\u{2068}' | '\u{2069}'))
        .collect();
    crate::error::no_key(format!(
        "the age plugin age-plugin-{plugin} failed: {}",
        crate::text::escape(said.trim(), 400)
    ))
    .hint(format!(
        "check that the device age-plugin-{plugin} uses is present and works (the plugin's own tool can tell)"
    ))
}

/// That the plugin binary `age-plugin-NAME` is on PATH.
pub fn check_plugin(name: &str) -> Result<(), crate::error::UserError> {
    age::plugin::RecipientPluginV1::new(name, &[], &[], PluginCallbacks::new(name, None))
        .map(|_| ())
        .map_err(|_| plugin_failure(&"", Some(&format!("age-plugin-{name}")), None))
}

/// The `age::Recipient`s of `recipients`: plugin recipients grouped by
/// plugin, one plugin process for each (as age does). A plugin not on PATH
/// is an error naming it.
fn recipient_set(
    recipients: &[AnyRecipient],
    prompts: Option<&'static dyn PluginPrompts>,
) -> Result<Vec<Box<dyn age::Recipient>>, crate::error::UserError> {
    let mut out: Vec<Box<dyn age::Recipient>> = vec![];
    let mut plugins: std::collections::BTreeMap<String, Vec<age::plugin::Recipient>> =
        Default::default();
    for r in recipients {
        match r {
            AnyRecipient::X25519(x) => out.push(Box::new(x.clone())),
            AnyRecipient::Plugin(p) => plugins
                .entry(p.plugin().to_string())
                .or_default()
                .push(p.clone()),
        }
    }
    for (name, rs) in plugins {
        let cb = PluginCallbacks::new(&name, prompts);
        let p = age::plugin::RecipientPluginV1::new(&name, &rs, &[], cb)
            .map_err(|_| plugin_failure(&"", Some(&format!("age-plugin-{name}")), None))?;
        out.push(Box::new(p));
    }
    Ok(out)
}

pub fn encrypt(recipients: &[x25519::Recipient], plaintext: &[u8]) -> Result<Vec<u8>, CryptError> {
    let any: Vec<AnyRecipient> = recipients
        .iter()
        .cloned()
        .map(AnyRecipient::X25519)
        .collect();
    encrypt_to(&any, plaintext, None)
}

/// Encrypts to native and plugin recipients; a plugin's questions go to
/// `prompts` (none: it cannot ask).
pub fn encrypt_to(
    recipients: &[AnyRecipient],
    plaintext: &[u8],
    prompts: Option<&'static dyn PluginPrompts>,
) -> Result<Vec<u8>, CryptError> {
    let set = recipient_set(recipients, prompts).map_err(|e| CryptError::Other(e.to_string()))?;
    let encryptor = age::Encryptor::with_recipients(set.iter().map(|r| r.as_ref()))
        .map_err(|e| plugin_encrypt_error(e, recipients))?;
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

/// An encryption error, naming the plugin when one of `recipients` is a
/// plugin's (its error, its exit, or it not being installed).
fn plugin_encrypt_error(e: age::EncryptError, recipients: &[AnyRecipient]) -> CryptError {
    let plugin = recipients.iter().find_map(|r| match r {
        AnyRecipient::Plugin(p) => Some(p.plugin().to_string()),
        AnyRecipient::X25519(_) => None,
    });
    match plugin {
        Some(name) => CryptError::Other(
            plugin_failure(&e, None, Some(&PluginCallbacks::new(&name, None))).to_string(),
        ),
        None => CryptError::Other(e.to_string()),
    }
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
    fn one_parser_reads_native_and_plugin_keys() {
        let text = "# created: now\n# recipient: age1test1w3jhxapdddjhjtfs4pzk40\nAGE-PLUGIN-TEST-1W3JHXAPDDDJHJTFS0KL5KA\n";
        assert!(matches!(
            parse_any_identity(text),
            Some(AnyIdentity::Plugin(p)) if p.plugin() == "test"
        ));
        assert!(parse_identity(text).is_none(), "not a native key");
        let id = x25519::Identity::generate();
        let native = crate::keys::identity::secret_string(&id);
        assert!(matches!(
            parse_any_identity(&native),
            Some(AnyIdentity::X25519(_))
        ));
        assert!(matches!(
            parse_recipient("age1test1w3jhxapdddjhjtfs4pzk40"),
            Some(AnyRecipient::Plugin(p)) if p.plugin() == "test"
        ));
        assert!(matches!(
            parse_recipient(&id.to_public().to_string()),
            Some(AnyRecipient::X25519(_))
        ));
        assert!(parse_recipient("age1nothing").is_none());
    }

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
