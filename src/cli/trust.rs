//! `authcfg trust FINGERPRINT`: a member (a key other than the master key)
//! pins the store's admin key, after checking its fingerprint with the
//! admin. The header is then verified with it on every command.

use super::Ctx;

#[derive(clap::Args)]
pub struct Args {
    /// The admin key's fingerprint (SHA256:...), as `authcfg recipients list` shows it
    fingerprint: String,
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let mut settings = crate::settings::Settings::empty();
    settings.identity = ctx.settings.identity.clone();
    settings.identity_file = ctx.settings.identity_file.clone();
    settings.passphrase = ctx.settings.passphrase.clone();
    settings.keyring = ctx.settings.keyring.clone();
    settings.user = ctx.settings.user.clone();
    settings.lock_timeout = ctx.settings.lock_timeout;
    settings.state_dir = ctx.settings.state_dir.clone();
    settings.key_file = ctx.settings.key_file.clone();
    // A key-service runner's key comes through its service settings.
    settings.bao = ctx.settings.bao.clone();
    settings.kms = ctx.settings.kms.clone();
    settings.http_timeout = ctx.settings.http_timeout;
    settings.trust_admin = Some(args.fingerprint.clone());
    if crate::ops::team::joining(&ctx.store_dir) {
        // A clone that has not joined: trusting completes it, or pins the
        // admin key while the clone waits for the admin to add this key.
        let cloned = crate::ops::team::complete_join(&settings, &ctx.store_dir, &super::UI, true)?;
        super::git::render_cloned(ctx, &cloned);
        return Ok(());
    }
    let s = crate::ops::Session::open(&settings, &ctx.store_dir, &super::UI)?;
    match s.store.role() {
        crate::store::Role::Admin => {
            eprintln!("This key is the store's master key: it needs no trust")
        }
        crate::store::Role::Member => {
            s.audit(
                "trust",
                None,
                "ok",
                Some(&format!("admin key {}", args.fingerprint)),
            );
            eprintln!("Trusted the admin key {} for this store", args.fingerprint)
        }
    }
    Ok(())
}
