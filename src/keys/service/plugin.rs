//! A plugin custody (docs/ARCHITECTURE.md, "Key services"): a teammate who
//! holds only an age plugin identity (a YubiKey, a TPM) gets an X25519
//! identity of its own, sealed with age to the plugin's recipient
//! (`age1NAME1…`) and listed in the signed header like any custody. The
//! plugin opens it; the store then works as for any member (the pins and
//! the member's checks are keyed by the X25519 identity).
//!
//! `wrap` runs the plugin's recipient side (as `recipients add age1NAME1…`
//! does); `unwrap` needs the plugin identity (`AUTHCFG_IDENTITY_FILE`);
//! there are no key versions, so `rewrap` keeps the ciphertext.

use super::KeyService;
use crate::error::{no_key, usage, UserError};
use crate::keys::Prompts;
use crate::store::crypt::{self, AnyRecipient};
use base64::Engine;
use zeroize::Zeroizing;

pub struct Plugin {
    recipient: age::plugin::Recipient,
    identity: Option<age::plugin::Identity>,
    prompts: Prompts,
}

/// The plugin recipient a `plugin:` custody names.
pub fn check_recipient(key: &str) -> Result<age::plugin::Recipient, UserError> {
    match crypt::parse_recipient(key) {
        Some(AnyRecipient::Plugin(p)) => Ok(p),
        _ => Err(usage(format!(
            "'{}' is not an age plugin recipient",
            crate::text::escape(key, 120)
        ))
        .hint("name it as plugin:age1NAME1… (the recipient your plugin prints, e.g. age-plugin-yubikey --list)")),
    }
}

impl Plugin {
    pub fn new(
        key: &str,
        identity: Option<age::plugin::Identity>,
        prompts: Prompts,
    ) -> Result<Plugin, UserError> {
        Ok(Plugin {
            recipient: check_recipient(key)?,
            identity,
            prompts,
        })
    }
}

impl KeyService for Plugin {
    fn wrap(&self, plaintext: &[u8]) -> Result<String, UserError> {
        crypt::check_plugin(self.recipient.plugin())?;
        let sealed = crypt::encrypt_to(
            &[AnyRecipient::Plugin(self.recipient.clone())],
            plaintext,
            self.prompts,
        )
        .map_err(|e| no_key(e.to_string()))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(sealed))
    }

    fn unwrap(&self, sealed: &str) -> Result<Zeroizing<Vec<u8>>, UserError> {
        let Some(id) = &self.identity else {
            return Err(no_key(format!(
                "no age-plugin-{} identity is given to open this custody",
                self.recipient.plugin()
            ))
            .hint("set AUTHCFG_IDENTITY_FILE to your plugin identity file"));
        };
        let data = base64::engine::general_purpose::STANDARD
            .decode(sealed.as_bytes())
            .map_err(|_| no_key("the plugin custody is damaged (not base64)"))?;
        crate::keys::identity::open_with_plugin(&data, id, self.prompts)?.ok_or_else(|| {
            no_key(format!(
                "this custody is not sealed to your age-plugin-{} identity",
                self.recipient.plugin()
            ))
        })
    }

    fn rewrap(&self, sealed: &str) -> Result<String, UserError> {
        Ok(sealed.to_string())
    }

    fn check(&self) -> Result<String, UserError> {
        crypt::check_plugin(self.recipient.plugin())?;
        Ok(format!(
            "age-plugin-{} is installed here",
            self.recipient.plugin()
        ))
    }

    fn describe(&self) -> String {
        format!("age-plugin-{}", self.recipient.plugin())
    }
}
