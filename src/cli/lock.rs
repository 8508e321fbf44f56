//! `authcfg lock`: drop the master key cached in the session keyring
//! (`AUTHCFG_KEY_CACHE`); the next command asks the key source again.

use super::Ctx;
use crate::store::header::Parsed;
use crate::store::Store;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(ctx: &Ctx, _args: Args) -> crate::error::CommandResult {
    let id = match Store::read_header(&ctx.store_dir)? {
        Parsed::Current(h) => h.id,
        Parsed::Legacy(h) => h.id,
    };
    if crate::keys::cache::forget(&id) {
        eprintln!(
            "Dropped the cached master key of {}",
            ctx.store_dir.display()
        );
    } else {
        eprintln!("No cached master key for {}", ctx.store_dir.display());
    }
    Ok(())
}
