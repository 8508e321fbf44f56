//! `authcfg rotate --master-key`: a new age identity for the whole store, as
//! one journaled operation. Steps, each durable before the next:
//! 1. `identity.next.age` (the new key, encrypted to old and new) and
//!    `identity.old.age` (the old key, encrypted to the new one, kept until
//!    `--finish`), then the journal `rotation.toml`;
//! 2. every config and the index re-encrypted, file by file;
//! 3. the key source switched (keyring entry, sealed file, identity file);
//! 4. the header's recipient replaced; the journal removed.
//!
//! Whichever key a later command finds (old or new), it can read
//! `identity.next.age`, so an interrupted run is completed by the next
//! command; no state leaves a config unreadable.

use super::Ctx;
use crate::error::{usage, Exit, UserError};
use crate::keys::{self, identity, keyring, MasterKey, Source};
use crate::store::header::KeyHome;
use crate::store::{crypt, fsutil, Store};
use age::x25519;
use secrecy::ExposeSecret;
use std::path::Path;

pub const JOURNAL: &str = "rotation.toml";
const NEXT: &str = "identity.next.age";
const OLD: &str = "identity.old.age";

#[derive(serde::Serialize, serde::Deserialize)]
struct Journal {
    old_public: String,
    new_public: String,
    started: String,
}

pub fn in_progress(store: &Store) -> bool {
    store.root().join(JOURNAL).exists()
}

/// Crash points for the tests: `AUTHCFG_FAULT_AFTER=k` kills the process
/// (SIGKILL, as a power cut would) after its k-th durable step.
pub fn fault_counter() -> impl FnMut() {
    let limit: Option<u64> = std::env::var("AUTHCFG_FAULT_AFTER")
        .ok()
        .and_then(|v| v.parse().ok());
    let mut n = 0u64;
    move || {
        n += 1;
        if limit == Some(n) {
            unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        }
    }
}

fn seal_to(plain: &[u8], to: &[x25519::Recipient]) -> anyhow::Result<Vec<u8>> {
    crypt::encrypt(to, plain).map_err(|e| anyhow::anyhow!(e.to_string()))
}

pub fn start(
    ctx: &Ctx,
    store: &Store,
    key: MasterKey,
    identity_out: Option<&Path>,
) -> anyhow::Result<i32> {
    let old = key.identity.clone();
    let new = x25519::Identity::generate();
    let mut fault = fault_counter();
    let root = store.root();
    let next_plain = identity::secret_string(&new);
    fsutil::write_atomic(
        &root.join(NEXT),
        &seal_to(next_plain.as_bytes(), &[old.to_public(), new.to_public()])?,
    )?;
    let old_plain = identity::secret_string(&old);
    fsutil::write_atomic(
        &root.join(OLD),
        &seal_to(old_plain.as_bytes(), &[new.to_public()])?,
    )?;
    let j = Journal {
        old_public: old.to_public().to_string(),
        new_public: new.to_public().to_string(),
        started: crate::model::rfc3339(crate::model::now()),
    };
    fsutil::write_atomic(&root.join(JOURNAL), toml::to_string(&j)?.as_bytes())?;
    fault();
    ctx.audit("rotate", None, "started", Some("master key"));
    complete(ctx, store, &key, identity_out, &mut fault)?;
    Ok(0)
}

/// Finishes an interrupted rotation with whichever key is at hand; returns
/// the key to use from now on.
pub fn resume(
    ctx: &Ctx,
    store: &Store,
    key: &MasterKey,
    identity_out: Option<&Path>,
) -> anyhow::Result<MasterKey> {
    if key.source == Source::EnvIdentity && identity_out.is_none() {
        return Err(UserError::new(Exit::NoKey, "a master-key rotation was interrupted and its new key must be handed out")
            .hint("run `authcfg rotate --master-key --identity-out FILE` to finish it, then put FILE's key in AUTHCFG_IDENTITY")
            .into());
    }
    eprintln!("note: finishing an interrupted master-key rotation");
    let mut fault = fault_counter();
    complete(ctx, store, key, identity_out, &mut fault)
}

fn complete(
    ctx: &Ctx,
    store: &Store,
    key: &MasterKey,
    identity_out: Option<&Path>,
    fault: &mut dyn FnMut(),
) -> anyhow::Result<MasterKey> {
    let root = store.root();
    let j: Journal = toml::from_str(&std::fs::read_to_string(root.join(JOURNAL))?)?;
    let open = |file: &str, with: &x25519::Identity| -> anyhow::Result<x25519::Identity> {
        let bytes = std::fs::read(root.join(file))?;
        let plain = zeroize::Zeroizing::new(
            crypt::decrypt(with, &bytes).map_err(|e| anyhow::anyhow!("{file}: {e}"))?,
        );
        identity::parse(std::str::from_utf8(&plain)?)
            .ok_or_else(|| anyhow::anyhow!("{file} holds no identity"))
    };
    let new = open(NEXT, &key.identity)?;
    let old = if key.identity.to_public().to_string() == j.old_public {
        key.identity.clone()
    } else {
        open(OLD, &new)?
    };
    let mut header = store.header().clone();
    for r in header.recipients.iter_mut() {
        if r.public_key == j.old_public {
            r.public_key = j.new_public.clone();
        }
    }
    let n = store.reencrypt_all(&[&old, &new], &header, fault)?;
    let message = switch_source(store, &new, identity_out)?;
    fault();
    store.rewrite_header(&header)?;
    fault();
    let _ = std::fs::remove_file(root.join(NEXT));
    std::fs::remove_file(root.join(JOURNAL))?;
    fsutil::sync_dir(root)?;
    ctx.audit(
        "rotate",
        None,
        "ok",
        Some(&format!("master key; {n} files re-encrypted")),
    );
    eprintln!(
        "Rotated the master key: {n} files re-encrypted to {}",
        crate::store::short_key(&j.new_public)
    );
    eprintln!("{message}");
    eprintln!("The old key is kept, encrypted to the new one, until `authcfg rotate --master-key --finish`.");
    Ok(MasterKey {
        identity: new,
        source: key.source.clone(),
    })
}

/// Puts the new key where the old one came from.
fn switch_source(
    store: &Store,
    new: &x25519::Identity,
    identity_out: Option<&Path>,
) -> anyhow::Result<String> {
    let header = store.header();
    let secret = identity::secret_string(new);
    let backend = header
        .keyring_backend
        .as_deref()
        .and_then(keyring::Backend::parse);
    let mut notes = vec![];
    if header.key_home == KeyHome::Keyring {
        let b = backend.expect("keyring stores record their backend");
        keyring::set(b, &header.id, &secret)
            .map_err(|e| anyhow::anyhow!("cannot store the new key in the keyring ({b}): {e}"))?;
        notes.push(format!("the OS keyring ({b}) now holds the new key"));
    }
    if store.root().join(identity::PASSPHRASE_FILE).exists() {
        let pass = std::env::var(keys::ENV_PASSPHRASE).map_err(|_| {
            usage("the passphrase-sealed key must be re-sealed: set AUTHCFG_PASSPHRASE")
                .hint("then run the command again to finish the rotation")
        })?;
        fsutil::write_atomic(
            &store.root().join(identity::PASSPHRASE_FILE),
            &identity::seal_with_passphrase(new, &pass)?,
        )?;
        notes.push("identity.age is re-sealed with the same passphrase".into());
    }
    if let Some(path) = &header.identity_file {
        fsutil::write_atomic(path, identity::to_file_text(new).as_bytes())?;
        notes.push(format!("{} now holds the new key", path.display()));
    }
    if header.key_home == KeyHome::External && header.identity_file.is_none() {
        match identity_out {
            Some(p) => {
                fsutil::write_atomic(
                    &std::path::absolute(p)?,
                    identity::to_file_text(new).as_bytes(),
                )?;
                notes.push(format!("the new key is in {} (mode 0600): put it in the CI secret behind AUTHCFG_IDENTITY", p.display()));
            }
            None => {
                println!("{}", new.to_string().expose_secret());
                notes.push("the new key was printed on stdout: put it in the CI secret behind AUTHCFG_IDENTITY".into());
            }
        }
    }
    Ok(notes.join("; "))
}

/// Forgets the retained old key.
pub fn finish(ctx: &Ctx, store: &Store) -> anyhow::Result<i32> {
    if in_progress(store) {
        return Err(usage("a rotation is still in progress")
            .hint("run any command to complete it first")
            .into());
    }
    let old = store.root().join(OLD);
    if !old.exists() {
        eprintln!("No retained old key: nothing to finish");
        return Ok(0);
    }
    std::fs::remove_file(&old)?;
    fsutil::sync_dir(store.root())?;
    ctx.audit("rotate", None, "ok", Some("master key: old key forgotten"));
    eprintln!("The old master key is forgotten; only the new one opens this store");
    Ok(0)
}

/// How long the old master key is kept (sealed to the new one) when nobody
/// runs `--finish`.
pub const RETAIN_DAYS: u64 = 30;

/// Forgets a retained old key once the retention period has passed.
pub fn expire_retained(ctx: &Ctx, store: &Store) {
    let old = store.root().join(OLD);
    let expired = std::fs::metadata(&old)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age.as_secs() > RETAIN_DAYS * 86_400);
    if expired && std::fs::remove_file(&old).is_ok() {
        ctx.audit(
            "rotate",
            None,
            "ok",
            Some("master key: retention passed, old key forgotten"),
        );
    }
}
