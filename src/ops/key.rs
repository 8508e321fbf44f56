//! Your own key and its backup (docs/ARCHITECTURE.md, "Master key" and
//! "Recovery"): `authcfg key new` makes the key a team member joins with
//! (kept in a durable keyring, or a private file), `key export` seals the
//! key in use into a passphrase-protected age file (scrypt) that `age -d`
//! also opens, and `key import` puts such a file's key back where the
//! store looks for it. Also the one "not a recipient yet" error and the
//! admin's line that adds a key, which every join step shows.

use super::Session;
use crate::error::{no_key, usage};
use crate::keys::keyring::{self, Backend};
use crate::keys::{identity, shares, MasterKey, OWN_ACCOUNT};
use crate::settings::{Settings, ENV_IDENTITY_FILE};
use crate::store::header::{KeyHome, Parsed, MASTER};
use crate::store::{fsutil, Store};
use age::x25519;
use anyhow::Context;
use std::fmt;
use std::path::{Path, PathBuf};

/// The audit action of an export: `doctor` looks for it.
pub const EXPORT_ACTION: &str = "key export";

/// Where a key is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A keyring entry (service `authcfg`) under this account.
    Keyring(Backend, String),
    File(PathBuf),
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Keyring(b, account) => write!(
                f,
                "the OS keyring ({b}), service '{}', account '{account}'",
                keyring::SERVICE
            ),
            Place::File(p) => write!(f, "the file {} (mode 0600)", p.display()),
        }
    }
}

pub struct Made {
    pub public: String,
    pub place: Place,
    /// Set when the file is not where authcfg looks by itself: the user
    /// points `AUTHCFG_IDENTITY_FILE` at it.
    pub needs_env: bool,
}

pub use super::session::{admin_line, not_recipient, suggested_label};

/// A key from the environment, else your own key (`key new`/`key import`).
pub fn yours(settings: &Settings) -> anyhow::Result<Option<MasterKey>> {
    if let Some(k) = crate::keys::from_env(settings)? {
        return Ok(Some(k));
    }
    Ok(crate::keys::own_key(settings)?)
}

/// The key commands would use here: the store's (as a command would load
/// it, without verifying the store) or, with no store, yours.
pub fn current(settings: &Settings, root: &Path, ui: &dyn super::Ui) -> anyhow::Result<MasterKey> {
    if let Ok(parsed) = Store::read_header(root) {
        let prompt = || {
            if settings.interactive {
                ui.passphrase()
            } else {
                None
            }
        };
        return Ok(crate::keys::load(
            settings,
            root,
            &super::session::location(&parsed),
            &prompt,
            if settings.interactive {
                ui.plugin_prompts()
            } else {
                None
            },
        )?);
    }
    yours(settings)?.ok_or_else(|| {
        no_key("there is no store here and you have no key of your own")
            .hint("make one with `authcfg key new`")
            .into()
    })
}

/// `authcfg key new`: a new key of your own, in a durable keyring or a
/// private file (`file`: `Some(None)` is the default file). Never
/// replaces a key.
pub fn new_own(settings: &Settings, file: Option<Option<PathBuf>>) -> anyhow::Result<Made> {
    let id = x25519::Identity::generate();
    let public = id.to_public().to_string();
    let default = settings.key_file.clone();
    match file {
        Some(path) => {
            let Some(path) = path.or(default.clone()) else {
                return Err(usage("no home directory to keep a key file in")
                    .hint("name one: `authcfg key new --file PATH`")
                    .into());
            };
            let path = std::path::absolute(&path)?;
            let is_default = default.as_deref() == Some(path.as_path());
            if is_default {
                refuse_second_own(settings)?;
            }
            write_new_key_file(&path, &id)?;
            Ok(Made {
                public,
                place: Place::File(path),
                needs_env: !is_default,
            })
        }
        None => {
            refuse_second_own(settings)?;
            let b = keep_in_keyring(settings, OWN_ACCOUNT, &id).map_err(|tried| {
                no_key(format!(
                    "no durable keyring here to keep your key (tried: {tried})"
                ))
                .hint(format!(
                    "keep it in a private file instead: `authcfg key new --file` ({})",
                    default
                        .as_deref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| "name one".into())
                ))
            })?;
            Ok(Made {
                public,
                place: Place::Keyring(b, OWN_ACCOUNT.into()),
                needs_env: false,
            })
        }
    }
}

fn refuse_second_own(settings: &Settings) -> anyhow::Result<()> {
    if let Some(k) = crate::keys::own_key(settings)? {
        return Err(usage(format!(
            "you have a key already ({}) in {}",
            k.identity.to_public(),
            k.source
        ))
        .hint("`authcfg key show` prints it; authcfg never replaces a key (a second one: `authcfg key new --file PATH`)")
        .into());
    }
    Ok(())
}

/// Keeps `id` under `account` in the first durable keyring that takes it;
/// the error lists what was tried.
fn keep_in_keyring(
    settings: &Settings,
    account: &str,
    id: &x25519::Identity,
) -> Result<Backend, String> {
    let backends = keyring::candidates(settings.keyring.as_deref())?;
    let mut tried = vec![];
    for b in backends {
        if !b.is_durable() {
            tried.push(format!("{b}: emptied by a reboot"));
            continue;
        }
        match keyring::set(b, account, &identity::secret_string(id)) {
            Ok(()) => return Ok(b),
            Err(e) => tried.push(format!("{b}: {e}")),
        }
    }
    if tried.is_empty() {
        tried.push("keyrings are off (AUTHCFG_KEYRING=none)".into());
    }
    Err(tried.join("; "))
}

fn write_new_key_file(path: &Path, id: &x25519::Identity) -> anyhow::Result<()> {
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(usage(format!("{} already exists", path.display()))
            .hint("choose a new file; authcfg never overwrites a key")
            .into());
    }
    if let Some(dir) = path.parent() {
        fsutil::create_dirs(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    fsutil::write_atomic(path, identity::to_file_text(id).as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `authcfg key export FILE`: the key this store is opened with, sealed
/// with a passphrase (age scrypt), recorded in the audit trail with its
/// public key (so `doctor` knows which key has a backup).
pub fn export(s: &Session, out: &Path, passphrase: &str) -> anyhow::Result<String> {
    let public = seal_to_file(&s.key.identity, out, passphrase)?;
    s.audit(
        EXPORT_ACTION,
        None,
        "ok",
        Some(&format!("{public} to {}", out.display())),
    );
    Ok(public)
}

/// `key export` without a store: your own key.
pub fn export_own(settings: &Settings, out: &Path, passphrase: &str) -> anyhow::Result<String> {
    let k = yours(settings)?.ok_or_else(|| {
        no_key("there is no store here and you have no key of your own")
            .hint("make one with `authcfg key new`")
    })?;
    seal_to_file(&k.identity, out, passphrase)
}

fn seal_to_file(id: &x25519::Identity, out: &Path, passphrase: &str) -> anyhow::Result<String> {
    identity::check_new_passphrase(passphrase)?;
    if std::fs::symlink_metadata(out).is_ok() {
        return Err(usage(format!("{} already exists", out.display()))
            .hint("choose a new file; authcfg never overwrites a key backup")
            .into());
    }
    let sealed = identity::seal_with_passphrase(id, passphrase)?;
    fsutil::write_atomic(out, &sealed)
        .with_context(|| format!("cannot write {}", out.display()))?;
    Ok(id.to_public().to_string())
}

pub struct Imported {
    pub public: String,
    pub place: Place,
    /// Whether the key is the store's master key (else a member's, or no
    /// store is here yet).
    pub admin: bool,
    pub needs_env: bool,
}

/// `authcfg key import FILE`: the key of a backup made by `key export`,
/// kept where the store at `root` looks for it: the keyring entry or the
/// identity file its header names for the master key, else your own key's
/// place (or `file`). Refused when a store is here and does not list the
/// key, and never replaces another key.
pub fn import(
    settings: &Settings,
    root: &Path,
    sealed: &[u8],
    passphrase: &str,
    file: Option<PathBuf>,
) -> anyhow::Result<Imported> {
    let id = identity::unseal_with_passphrase(sealed, passphrase).map_err(|e| match e {
        identity::UnsealError::WrongPassphrase => {
            no_key("wrong passphrase for the key backup").hint("type it again")
        }
        identity::UnsealError::Damaged(why) => {
            usage(format!("not a key backup of `authcfg key export`: {why}"))
        }
    })?;
    keep(settings, root, &id, file, "the key in the backup")
}

/// Keeps a recovered key (`key import`, `key recovery restore`) where the
/// store at `root` looks for it: the keyring entry or the identity file
/// its header names for the master key, else your own key's place (or
/// `file`). Refused when a store is here and does not list the key, and
/// never replaces another key.
pub fn keep(
    settings: &Settings,
    root: &Path,
    id: &x25519::Identity,
    file: Option<PathBuf>,
    what: &str,
) -> anyhow::Result<Imported> {
    let id = id.clone();
    let public = id.to_public().to_string();
    let header = match Store::read_header(root) {
        Ok(Parsed::Current(h)) => Some(h),
        _ => None,
    };
    let mut admin = false;
    if let Some(h) = &header {
        match h.recipients.iter().find(|r| r.public_key == public) {
            None => {
                return Err(usage(format!(
                    "{what} ({public}) is not a recipient of the store at {}",
                    root.display()
                ))
                .hint("restore this store's key, or choose the store with --store DIR")
                .into())
            }
            Some(r) => admin = r.label == MASTER,
        }
    }
    if let Some(path) = file {
        let path = std::path::absolute(&path)?;
        write_new_key_file(&path, &id)?;
        let needs_env = settings.key_file.as_deref() != Some(path.as_path());
        return Ok(Imported {
            public,
            place: Place::File(path),
            admin,
            needs_env,
        });
    }
    // The master key goes back where its store looks first.
    if let (true, Some(h)) = (admin, &header) {
        if h.key_home == KeyHome::Keyring {
            if let Some(b) = h.keyring_backend.as_deref().and_then(Backend::parse) {
                match keyring::get(b, &h.id) {
                    Ok(v) if identity::parse(&v).is_some_and(|k| k.to_public().to_string() == public) => {
                        return Ok(Imported {
                            public,
                            place: Place::Keyring(b, h.id.clone()),
                            admin,
                            needs_env: false,
                        });
                    }
                    Ok(_) => {
                        return Err(usage(format!(
                            "the keyring ({b}) already holds another key for this store (account {})",
                            h.id
                        ))
                        .hint("authcfg never replaces a key: keep this one in a file with `authcfg key import FILE --to-file PATH`")
                        .into())
                    }
                    Err(_) => {}
                }
                if keyring::set(b, &h.id, &identity::secret_string(&id)).is_ok() {
                    return Ok(Imported {
                        public,
                        place: Place::Keyring(b, h.id.clone()),
                        admin,
                        needs_env: false,
                    });
                }
            }
        }
        if let Some(path) = &h.identity_file {
            if std::fs::symlink_metadata(path).is_err() {
                write_new_key_file(path, &id)?;
                return Ok(Imported {
                    public,
                    place: Place::File(path.clone()),
                    admin,
                    needs_env: false,
                });
            }
        }
    }
    // Otherwise your own key's place (found when the store keeps no key
    // here: `keys::own_key`).
    if let Some(k) = crate::keys::own_key(settings)? {
        if k.identity.to_public().to_string() == public {
            return Ok(Imported {
                public,
                place: match k.source {
                    crate::keys::Source::Keyring(b) => Place::Keyring(b, OWN_ACCOUNT.into()),
                    crate::keys::Source::IdentityFile(p) => Place::File(p),
                    other => Place::File(PathBuf::from(other.to_string())),
                },
                admin,
                needs_env: false,
            });
        }
        return Err(usage(format!(
            "you have another key of your own already ({}, in {})",
            k.identity.to_public(),
            k.source
        ))
        .hint(format!(
            "keep this one in a file: `authcfg key import FILE --to-file PATH`, then set {ENV_IDENTITY_FILE}=PATH"
        ))
        .into());
    }
    match keep_in_keyring(settings, OWN_ACCOUNT, &id) {
        Ok(b) => Ok(Imported {
            public,
            place: Place::Keyring(b, OWN_ACCOUNT.into()),
            admin,
            needs_env: false,
        }),
        Err(_) => {
            let Some(path) = settings.key_file.clone() else {
                return Err(usage("no keyring and no home directory to keep the key in")
                    .hint("name a file: `authcfg key import FILE --to-file PATH`")
                    .into());
            };
            write_new_key_file(&path, &id)?;
            Ok(Imported {
                public,
                place: Place::File(path),
                admin,
                needs_env: false,
            })
        }
    }
}

/// The audit action of a split into recovery shares: `doctor` counts it
/// as a backup of the key.
pub const SPLIT_ACTION: &str = "key recovery split";
/// The audit action of a restore from recovery shares.
pub const RESTORE_ACTION: &str = "key recovery restore";

/// A split of the key in use (docs/ARCHITECTURE.md, "Recovery shares").
pub struct Split {
    pub public: String,
    pub threshold: u8,
    pub count: u8,
    /// The split's id (hex), in the audit record and on each share.
    pub set: String,
    /// Each share's paper text, in index order.
    pub texts: Vec<zeroize::Zeroizing<String>>,
    /// The files written (`--out-dir`), in the same order.
    pub files: Vec<PathBuf>,
}

/// The name of share `index` of `count` in `--out-dir`.
pub fn share_file_name(index: u8, count: u8) -> String {
    format!("authcfg-share-{index}-of-{count}.txt")
}

/// A share's paper text: what it is, how it is used, then the share.
fn paper(share: &shares::Share, public: &str, store_id: &str) -> zeroize::Zeroizing<String> {
    let mut t = zeroize::Zeroizing::new(format!(
        "authcfg recovery share {} of {}: any {} of the {} shares restore the key\n\
         store {store_id}, key {public}, split {}\n\
         Restore on a new machine, with the store directory (or the team's repository):\n\
         authcfg key recovery restore FILE... (or type the shares when asked)\n\n",
        share.index,
        share.count,
        share.threshold,
        share.count,
        share.set_hex(),
    ));
    t.push_str(&share.encode());
    t.push('\n');
    t
}

/// `authcfg key recovery split`: the key this store is opened with, split
/// into `count` shares any `threshold` of which restore it; written as new
/// 0600 files in `out_dir` (created 0700 if missing; no file is replaced:
/// all are checked before any is written) or returned for printing.
/// Audited with the key's public half, so `doctor` knows a backup exists.
pub fn split(
    s: &Session,
    threshold: u8,
    count: u8,
    out_dir: Option<&Path>,
) -> anyhow::Result<Split> {
    if count < 2 || threshold < 2 || threshold > count {
        return Err(usage(format!(
            "cannot split into {count} share(s) with a threshold of {threshold}"
        ))
        .hint("the threshold is at least 2 and at most the number of shares (at most 255), e.g. --shares 5 --threshold 3")
        .into());
    }
    let store_id = s.store.header().id.clone();
    let made = shares::split(&s.key.identity, &store_id, threshold, count)?;
    let public = s.key.identity.to_public().to_string();
    let set = made[0].set_hex();
    let texts: Vec<_> = made
        .iter()
        .map(|sh| paper(sh, &public, &store_id))
        .collect();
    let mut files = vec![];
    if let Some(dir) = out_dir {
        let dir = std::path::absolute(dir)?;
        fsutil::create_dirs(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        // Another user who can write the directory could swap a share for
        // one of their own (docs/SECURITY.md, "Recovery shares").
        let why = crate::project::trust::others_may_write(&dir)
            .with_context(|| format!("cannot read {}", dir.display()))?;
        if let Some(why) = why {
            return Err(usage(format!(
                "{} is not a place for recovery shares: {why}",
                dir.display()
            ))
            .hint("another user could swap a share there: name a new directory (authcfg makes it 0700), or one only you can write (`chmod go-w DIR`)")
            .into());
        }
        let paths: Vec<PathBuf> = made
            .iter()
            .map(|sh| dir.join(share_file_name(sh.index, count)))
            .collect();
        if let Some(p) = paths.iter().find(|p| std::fs::symlink_metadata(p).is_ok()) {
            return Err(usage(format!("{} already exists", p.display()))
                .hint("choose an empty directory; authcfg never overwrites a share")
                .into());
        }
        for (p, t) in paths.iter().zip(&texts) {
            fsutil::write_new(p, t.as_bytes()).map_err(|e| crate::store::write_error(p, e))?;
        }
        files = paths;
    }
    s.audit(
        SPLIT_ACTION,
        None,
        "ok",
        Some(&format!(
            "{public} into {count} shares, any {threshold} restore it, split {set}{}",
            match out_dir {
                Some(d) => format!(", written to {}", d.display()),
                None => ", printed".into(),
            }
        )),
    );
    Ok(Split {
        public,
        threshold,
        count,
        set,
        texts,
        files,
    })
}

/// A share handed to `restore`: where it came from (a file, a line of
/// standard input, the n-th typed) and its text.
pub struct ShareInput {
    pub from: String,
    pub text: zeroize::Zeroizing<String>,
}

/// Reads one share, naming where it came from when it is not one.
pub fn parse_share(input: &ShareInput) -> anyhow::Result<shares::Share> {
    shares::Share::parse(&input.text).map_err(|e| {
        usage(format!(
            "{} is not a usable recovery share: {e}",
            input.from
        ))
        .hint("compare it with the paper, character by character (case and spaces do not matter)")
        .into()
    })
}

pub struct Restored {
    pub imported: Imported,
    pub used: usize,
    pub threshold: u8,
    pub count: u8,
    pub set: String,
}

/// `authcfg key recovery restore`: the key from `threshold` shares of one
/// split, kept as `key import` keeps a key (`keep`). Each share is checked
/// and a bad one named: not a share, another store (than the first share,
/// or than the store here), another split, the same share twice; fewer
/// shares than the threshold restore nothing.
pub fn restore(
    settings: &Settings,
    root: &Path,
    inputs: &[ShareInput],
    file: Option<PathBuf>,
) -> anyhow::Result<Restored> {
    let Some(first_in) = inputs.first() else {
        return Err(no_key("no recovery share given")
            .hint("name the share files, or pass the shares on standard input with --stdin")
            .into());
    };
    let parsed = inputs
        .iter()
        .map(parse_share)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let first = &parsed[0];
    let here = match Store::read_header(root) {
        Ok(Parsed::Current(h)) => Some(h),
        _ => None,
    };
    if let Some(h) = &here {
        let tag = shares::store_tag(&h.id);
        if let Some((i, sh)) = parsed.iter().enumerate().find(|(_, sh)| sh.store != tag) {
            return Err(usage(format!(
                "{} is a share of another store (store {}…), not of the store at {} (store {}…)",
                inputs[i].from,
                sh.store_hex(),
                root.display(),
                hex::encode(tag)
            ))
            .hint("use the shares of this store's key, or choose the store with --store DIR")
            .into());
        }
    }
    for (i, sh) in parsed.iter().enumerate().skip(1) {
        let from = &inputs[i].from;
        if sh.store != first.store {
            return Err(usage(format!(
                "{from} is a share of another store (store {}…) than {} (store {}…)",
                sh.store_hex(),
                first_in.from,
                first.store_hex()
            ))
            .hint("use shares of one store's key")
            .into());
        }
        if sh.set != first.set
            || sh.key != first.key
            || sh.threshold != first.threshold
            || sh.count != first.count
        {
            return Err(usage(format!(
                "{from} comes from another split (split {}) than {} (split {})",
                sh.set_hex(),
                first_in.from,
                first.set_hex()
            ))
            .hint("shares of two `authcfg key recovery split` runs never combine: use shares of one split (the split is named on each share)")
            .into());
        }
        if let Some(j) = parsed[..i].iter().position(|o| o.index == sh.index) {
            return Err(usage(format!(
                "{from} is share {} again ({} is share {} too)",
                sh.index, inputs[j].from, sh.index
            ))
            .hint("each share counts once: bring another one")
            .into());
        }
    }
    if parsed.len() < first.threshold as usize {
        return Err(no_key(format!(
            "{} share(s) given, but any {} of the {} shares are needed to restore the key",
            parsed.len(),
            first.threshold,
            first.count
        ))
        .hint(format!(
            "bring {} more share(s) of the same split (split {}); fewer restore nothing",
            first.threshold as usize - parsed.len(),
            first.set_hex()
        ))
        .into());
    }
    let refs: Vec<&shares::Share> = parsed.iter().collect();
    // The restored key is checked against the fingerprint the shares
    // carry, with or without a store here (docs/SECURITY.md, "Recovery
    // shares"): a forged share restores nothing.
    let id = shares::combine(&refs).map_err(|e| match e {
        shares::CombineError::WrongKey => usage(format!(
            "the shares do not restore the key they were split from (key {}…): one of them is forged or altered; nothing was kept",
            first.key_hex()
        ))
        .hint("try another set of shares; a share that makes every set fail is the bad one"),
        shares::CombineError::Disagrees(i) => usage(format!(
            "{} does not agree with the other shares (key {}…): it is forged or altered; nothing was kept",
            inputs[i].from,
            first.key_hex()
        ))
        .hint("restore without it"),
    })?;
    let imported = keep(settings, root, &id, file, "the key the shares restore")?;
    Ok(Restored {
        imported,
        used: parsed.len(),
        threshold: first.threshold,
        count: first.count,
        set: first.set_hex(),
    })
}

/// The audit record of a restore, written by the opened store.
pub fn record_restore(s: &Session, r: &Restored) {
    s.audit(
        RESTORE_ACTION,
        None,
        "ok",
        Some(&format!(
            "{} from {} of {} shares (any {} restore it), split {}, kept in {}",
            r.imported.public, r.used, r.count, r.threshold, r.set, r.imported.place
        )),
    );
}

/// What `doctor` says about recovery: whether losing this machine's
/// keyring would lose the store, and the last backup of the key in use.
pub struct Recovery {
    pub ok: bool,
    pub detail: String,
}

pub fn recovery(s: &Session) -> Recovery {
    use crate::keys::Source;
    let public = s.key.identity.to_public().to_string();
    let exported = crate::store::audit::read_all(s.store.root())
        .unwrap_or_default()
        .into_iter()
        .rev()
        .find(|r| {
            (r.action == EXPORT_ACTION || r.action == SPLIT_ACTION)
                && r.outcome == "ok"
                && r.detail
                    .as_deref()
                    .is_some_and(|d| d.split(' ').next() == Some(public.as_str()))
        })
        .map(|r| {
            let how = if r.action == SPLIT_ACTION {
                "`authcfg key recovery split`"
            } else {
                "`authcfg key export`"
            };
            (r.time, how)
        });
    let member = s.store.role() == crate::store::Role::Member;
    let backup = match &exported {
        Some((t, how)) => format!("a backup of this key was made on {t} ({how})"),
        None => String::new(),
    };
    let (ok, text) = match (&s.key.source, exported.is_some()) {
        (_, true) => (true, backup),
        (Source::Passphrase, _) => (
            true,
            "the key is sealed in identity.age in the store: a backup of the store directory and the passphrase restore it".into(),
        ),
        (Source::EnvIdentity, _) => (
            true,
            "the key comes from AUTHCFG_IDENTITY: whoever sets it keeps it (a CI secret store)".into(),
        ),
        (Source::Plugin { plugin, file }, _) => (
            true,
            format!("the key is sealed in identity.plugin.age in the store to the age-plugin-{plugin} identity in {}: the device, that file and a backup of the store directory restore it", file.display()),
        ),
        (Source::IdentityFile(p), _) => (
            true,
            format!("the key is the file {}: keep a copy of it (or `authcfg key export FILE`)", p.display()),
        ),
        (Source::KeyService { service, key, .. }, _) => (
            true,
            format!("the key is sealed in the store's header by the key service {service}:{key}: the service and its access policy keep it; there is nothing to back up on this machine"),
        ),
        (_, false) if member => (
            false,
            "your key lives only in this machine's keyring: if it is lost, make a new one (`authcfg key new`) and ask the admin to add it, or keep a backup now: `authcfg key export FILE` (README, \"Recovery\")".into(),
        ),
        (_, false) => (
            false,
            "the master key lives only in this machine's keyring: losing the keyring loses the store. Keep a passphrase-protected copy (`authcfg key export FILE`) and a backup of the store directory (README, \"Recovery\")".into(),
        ),
    };
    Recovery { ok, detail: text }
}
