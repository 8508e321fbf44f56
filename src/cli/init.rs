//! `authcfg init`: create the store and its master key.

use super::Ctx;
use crate::error::{no_key, usage};
use crate::keys::{self, identity, keyring, keyring::Backend};
use crate::ops::init::{self, KeyPlace};
use crate::store::Store;
use age::x25519;
use std::path::PathBuf;
use zeroize::Zeroizing;

#[derive(clap::Args)]
pub struct Args {
    /// Keep the master key in a passphrase-protected file in the store (age
    /// scrypt) instead of the OS keyring; the passphrase comes from
    /// AUTHCFG_PASSPHRASE or a prompt
    #[arg(long, conflicts_with = "identity_file")]
    passphrase: bool,
    /// Write the new master key to FILE (plaintext, mode 0600) that you keep
    /// safe yourself; the store remembers the path. When FILE exists and
    /// holds an age plugin identity (AGE-PLUGIN-…: a YubiKey, a TPM), the
    /// new master key is sealed to it instead
    #[arg(long, value_name = "FILE")]
    identity_file: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let root = &ctx.store_dir;
    Store::check_creatable(root)?;
    let store_id = init::new_store_id();
    let mut notes: Vec<String> = vec![];

    let (master, place) = if let Some(k) = keys::from_env(&ctx.settings)? {
        notes.push(format!(
            "master key: {} (no keyring touched); keep it in your CI secret store",
            k.source
        ));
        (k.identity, KeyPlace::External)
    } else if args.passphrase {
        let id = x25519::Identity::generate();
        let pass = passphrase(ctx)?;
        let sealed = identity::seal_with_passphrase(&id, &pass)?;
        notes.push(format!(
            "master key: passphrase-protected {} in the store (set AUTHCFG_PASSPHRASE for scripts)",
            identity::PASSPHRASE_FILE
        ));
        (id, KeyPlace::Passphrase { sealed })
    } else if let Some((path, plugin)) = args
        .identity_file
        .as_ref()
        .filter(|p| p.exists())
        .map(|p| plugin_identity(p).map(|id| (p, id)))
        .transpose()?
        .and_then(|(p, id)| id.map(|id| (p, id)))
    {
        // An existing file with an age plugin's identity (a hardware key):
        // a new master key, sealed to it (docs/ARCHITECTURE.md, "age plugins").
        let id = x25519::Identity::generate();
        let prompts = ctx
            .interactive
            .then_some(&super::UI as &dyn crate::store::crypt::PluginPrompts);
        let sealed = identity::seal_with_plugin(&id, &plugin, prompts)?;
        let path = std::path::absolute(path)?;
        notes.push(format!(
            "master key: sealed in {} in the store to the age-plugin-{} identity in {}",
            identity::PLUGIN_FILE,
            plugin.plugin(),
            path.display()
        ));
        (id, KeyPlace::Plugin { file: path, sealed })
    } else if let Some(path) = &args.identity_file {
        let id = x25519::Identity::generate();
        let path = init::write_identity_file(path, &id)?;
        notes.push(format!(
            "master key: plaintext identity file {} (mode 0600); back it up, anyone who reads it can read the store",
            path.display()
        ));
        (id, KeyPlace::IdentityFile(path))
    } else {
        let id = x25519::Identity::generate();
        let candidates = keyring::candidates(ctx.settings.keyring.as_deref()).map_err(usage)?;
        let place = match init::keep_in_keyring(&store_id, &id, &candidates) {
            Ok(b) => {
                notes.push(format!(
                    "master key: OS keyring ({b}), service '{}', account '{store_id}'",
                    keyring::SERVICE
                ));
                let mut sealed = None;
                if b == Backend::Keyutils {
                    // Kernel keyrings do not survive a reboot: keep a durable, sealed copy.
                    let pass = match passphrase(ctx) {
                        Ok(p) => p,
                        Err(e) => {
                            init::forget_keyring(b, &store_id);
                            return Err(e.context(
                                "only the kernel keyring (keyutils) is available, and it is emptied by a reboot; \
                                 a passphrase-protected copy of the key is required",
                            )
                            .into());
                        }
                    };
                    sealed = Some(identity::seal_with_passphrase(&id, &pass)?);
                    notes.push(format!(
                        "kernel keyrings are emptied by a reboot: a passphrase-protected copy is in {}",
                        identity::PASSPHRASE_FILE
                    ));
                }
                KeyPlace::Keyring { backend: b, sealed }
            }
            Err(tried) => {
                let agree = ctx.interactive
                    && dialoguer::Confirm::new()
                        .with_prompt(format!(
                            "No OS keyring works here ({}). Protect the master key with a passphrase instead?",
                            tried.join("; ")
                        ))
                        .default(true)
                        .interact()
                        .unwrap_or(false);
                if !agree {
                    return Err(no_key(format!(
                        "no place to keep a new master key; tried:\n  - {}",
                        if tried.is_empty() { "keyring: disabled by AUTHCFG_KEYRING=none".to_string() } else { tried.join("\n  - ") }
                    ))
                    .hint(
                        "run one of:\n  \
                         authcfg init --passphrase                 (the key sealed with a passphrase in the store; \
                         AUTHCFG_PASSPHRASE for scripts)\n  \
                         authcfg init --identity-file ~/.config/authcfg/key.txt   (a key file you keep)\n  \
                         AUTHCFG_IDENTITY=\"$(age-keygen | grep SECRET)\" authcfg init   (CI: keep it in the CI's secrets)\n\
                         or start a Secret Service first: eval \"$(dbus-launch --sh-syntax)\"; \
                         gnome-keyring-daemon --unlock --components=secrets; then `authcfg init` \
                         (`authcfg doctor` says why each keyring is unavailable)",
                    )
                    .into());
                }
                let pass = passphrase(ctx)?;
                let sealed = identity::seal_with_passphrase(&id, &pass)?;
                notes.push("master key: passphrase-protected identity.age in the store".into());
                KeyPlace::Passphrase { sealed }
            }
        };
        (id, place)
    };
    let created = init::create(&ctx.settings, root, &store_id, &master, place)?;
    outln!("Created store at {}", created.root.display());
    for n in notes {
        outln!("  {n}");
    }
    outln!("  public key: {}", created.public);
    if let Some(fp) = created.admin_fingerprint {
        outln!("  admin key:  {fp} (members check it when they join)");
    }
    Ok(())
}

fn passphrase(ctx: &Ctx) -> anyhow::Result<Zeroizing<String>> {
    if let Some(p) = &ctx.settings.passphrase {
        if p.is_empty() {
            return Err(usage("AUTHCFG_PASSPHRASE is empty").into());
        }
        return Ok(p.clone());
    }
    if !ctx.interactive {
        return Err(
            usage("a passphrase is needed and there is no terminal to ask for it")
                .hint("set AUTHCFG_PASSPHRASE")
                .into(),
        );
    }
    let p = dialoguer::Password::new()
        .with_prompt(format!(
            "New passphrase for the master key (it seals the key in the store's identity.age; at least {} characters)",
            identity::MIN_PASSPHRASE
        ))
        .with_confirmation("Repeat it", "The passphrases differ")
        .validate_with(|p: &String| -> Result<(), String> {
            identity::check_new_passphrase(p).map_err(|e| e.message)
        })
        .interact()?;
    if p.is_empty() {
        return Err(usage("the passphrase is empty").into());
    }
    Ok(Zeroizing::new(p))
}

/// The age plugin identity in an existing identity file, if it holds one
/// (`keys::read_identity_file`: the file's checks and the one parser).
fn plugin_identity(path: &std::path::Path) -> anyhow::Result<Option<age::plugin::Identity>> {
    Ok(match keys::read_identity_file(path, None)? {
        crate::store::crypt::AnyIdentity::Plugin(p) => Some(p),
        crate::store::crypt::AnyIdentity::X25519(_) => None,
    })
}
