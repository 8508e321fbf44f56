//! `authcfg init`: create the store and its master key.

use super::Ctx;
use crate::error::{no_key, usage};
use crate::keys::{self, identity, keyring, keyring::Backend};
use crate::store::header::{Header, KeyHome, Recipient, MASTER};
use crate::store::{fsutil, Store};
use age::x25519;
use anyhow::Context;
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
    /// safe yourself; the store remembers the path
    #[arg(long, value_name = "FILE")]
    identity_file: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let root = &ctx.store_dir;
    Store::check_creatable(root)?;
    let store_id = hex::encode(rand::random::<[u8; 16]>());
    let mut header = Header::new(store_id.clone(), crate::model::rfc3339(crate::model::now()));
    let mut sealed: Option<Vec<u8>> = None;
    let mut notes: Vec<String> = vec![];

    let master = if let Some(k) = keys::from_env(&ctx.settings)? {
        notes.push(format!(
            "master key: {} (no keyring touched); keep it in your CI secret store",
            k.source
        ));
        k.identity
    } else if args.passphrase {
        let id = x25519::Identity::generate();
        let pass = passphrase(ctx)?;
        sealed = Some(identity::seal_with_passphrase(&id, &pass)?);
        header.key_home = KeyHome::Passphrase;
        notes.push(format!(
            "master key: passphrase-protected {} in the store (set AUTHCFG_PASSPHRASE for scripts)",
            identity::PASSPHRASE_FILE
        ));
        id
    } else if let Some(path) = &args.identity_file {
        let id = x25519::Identity::generate();
        let path = std::path::absolute(path)?;
        if path.exists() {
            return Err(usage(format!("{} already exists", path.display()))
                .hint("choose a new file; authcfg never overwrites an identity")
                .into());
        }
        fsutil::write_atomic(&path, identity::to_file_text(&id).as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        header.identity_file = Some(path.clone());
        notes.push(format!(
            "master key: plaintext identity file {} (mode 0600); back it up, anyone who reads it can read the store",
            path.display()
        ));
        id
    } else {
        let id = x25519::Identity::generate();
        let text = identity::secret_string(&id);
        let mut tried = vec![];
        let mut stored = None;
        let candidates = keyring::candidates(ctx.settings.keyring.as_deref()).map_err(usage)?;
        for b in candidates {
            match keyring::set(b, &store_id, &text) {
                Ok(()) => {
                    stored = Some(b);
                    break;
                }
                Err(e) => tried.push(format!("{b}: {e}")),
            }
        }
        match stored {
            Some(b) => {
                header.key_home = KeyHome::Keyring;
                header.keyring_backend = Some(b.as_str().to_string());
                notes.push(format!(
                    "master key: OS keyring ({b}), service '{}', account '{store_id}'",
                    keyring::SERVICE
                ));
                if b == Backend::Keyutils {
                    // Kernel keyrings do not survive a reboot: keep a durable, sealed copy.
                    let pass = match passphrase(ctx) {
                        Ok(p) => p,
                        Err(e) => {
                            let _ = keyring::delete(b, &store_id);
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
            }
            None => {
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
                sealed = Some(identity::seal_with_passphrase(&id, &pass)?);
                header.key_home = KeyHome::Passphrase;
                notes.push("master key: passphrase-protected identity.age in the store".into());
            }
        }
        id
    };
    let public = master.to_public();
    header.recipients.push(Recipient {
        label: MASTER.into(),
        public_key: public.to_string(),
        groups: vec![],
        role: Default::default(),
    });
    let created = Store::create(
        root,
        header.clone(),
        &master,
        crate::ops::session::options(&ctx.settings),
    );
    let store = match created {
        Ok(s) => s,
        Err(e) => {
            if let Some(b) = header.keyring_backend.as_deref().and_then(Backend::parse) {
                let _ = keyring::delete(b, &store_id);
            }
            return Err(e.into());
        }
    };
    if let Some(data) = sealed {
        store.put_file(&store.root().join(identity::PASSPHRASE_FILE), &data)?;
    }
    store.audit(&[crate::store::journal::AuditIntent {
        version: None,
        action: "init".into(),
        config: None,
        outcome: "ok".into(),
        detail: Some(format!("{:?}", header.key_home)),
    }])?;
    outln!("Created store at {}", store.root().display());
    for n in notes {
        outln!("  {n}");
    }
    outln!("  public key: {public}");
    if let Some(p) = store.header().admin_pub() {
        outln!(
            "  admin key:  {} (members check it when they join)",
            p.fingerprint()
        );
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
