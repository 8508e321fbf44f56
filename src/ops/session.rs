//! Opening a store: find the master key, verify the header with it (the
//! key is the root of trust), upgrade a format-1 store, complete an
//! interrupted whole-store change, and note failed attempts.

use super::Ui;
use crate::error::{classify, no_key, Exit, UserError};
use crate::keys::{self, KeyLocation, MasterKey};
use crate::settings::Settings;
use crate::store::audit::Actor;
use crate::store::header::{LegacyHeader, Parsed};
use crate::store::{Options, Role, Store, Trust};
use age::x25519;
use std::path::Path;

pub struct Session<'a> {
    pub settings: &'a Settings,
    pub store: Store,
    pub key: MasterKey,
    pub ui: &'static dyn Ui,
}

pub fn options(settings: &Settings) -> Options {
    Options {
        lock_timeout: settings.lock_timeout,
        actor: Actor {
            user: settings.user.clone(),
            actor: settings.actor.clone(),
        },
        fault_after: settings.fault_after,
        fault_hold: settings.fault_hold.clone(),
        state_dir: settings.state_dir.clone(),
        // An unusable setting keeps the default (`doctor` says why).
        audit_retention: settings
            .audit_keep
            .as_deref()
            .and_then(|k| crate::store::audit::Retention::parse(k).ok())
            .unwrap_or_default(),
        custody: None,
        trust_admin: settings.trust_admin.clone(),
    }
}

/// `options`, for the key `source` gave: a key from a key custody keeps its
/// pin outside the store (docs/SECURITY.md, "Key services").
pub fn options_for(settings: &Settings, source: &crate::keys::Source) -> Options {
    let mut o = options(settings);
    if let crate::keys::Source::KeyService { service, key, .. } = source {
        o.custody = Some((service.clone(), key.clone()));
    }
    o
}

/// Where the (unverified) header says the key lives.
pub fn location(parsed: &Parsed) -> KeyLocation {
    match parsed {
        Parsed::Current(h) => KeyLocation {
            store_id: h.id.clone(),
            key_home: h.key_home,
            keyring_backend: h.keyring_backend.clone(),
            identity_file: h.identity_file.clone(),
            custody: h
                .recipients
                .iter()
                .filter(|r| r.custody.is_some())
                .cloned()
                .collect(),
            listed: h
                .recipients
                .iter()
                .filter(|r| r.custody.is_none())
                .map(|r| r.public_key.clone())
                .collect(),
        },
        Parsed::Legacy(h) => KeyLocation {
            store_id: h.id.clone(),
            key_home: h.key_home,
            keyring_backend: h.keyring_backend.clone(),
            identity_file: h.identity_file.clone(),
            custody: vec![],
            listed: vec![],
        },
    }
}

impl<'a> Session<'a> {
    /// The store at `root`, unlocked and verified; an interrupted change is
    /// completed first.
    pub fn open(
        settings: &'a Settings,
        root: &Path,
        ui: &'static dyn Ui,
    ) -> anyhow::Result<Session<'a>> {
        Session::open_with(settings, root, ui, None)
    }

    /// `open`, with where a new environment key goes when an interrupted
    /// master-key rotation is completed (`rotate --master-key --identity-out`).
    pub fn open_with(
        settings: &'a Settings,
        root: &Path,
        ui: &'static dyn Ui,
        identity_out: Option<&Path>,
    ) -> anyhow::Result<Session<'a>> {
        let mut parsed = Store::read_header(root)?;
        let key = load_key(settings, root, &parsed, ui)?;
        if let Parsed::Legacy(legacy) = parsed {
            Store::refuse_downgrade(root, settings.state_dir.as_deref(), &key.identity)?;
            upgrade(settings, root, legacy, &key.identity, ui)?;
            parsed = Store::read_header(root)?;
        }
        let Parsed::Current(header) = parsed else {
            unreachable!("upgraded above")
        };
        let ask = |fp: &str| ui.trust_admin(fp);
        let trust = match (&settings.trust_admin, settings.interactive) {
            (Some(fp), _) => Trust::Fingerprint(fp),
            (None, true) => Trust::Ask(&ask),
            (None, false) => Trust::None,
        };
        let mut key = key;
        let mut store = match Store::unlock(
            root,
            header.clone(),
            &key.identity,
            trust,
            options_for(settings, &key.source),
        ) {
            Ok(s) => s,
            Err(_) if key.source == crate::keys::Source::Cache => {
                // A stale cached key (rotated since): drop it, ask the source.
                crate::keys::cache::forget(&header.id);
                let mut no_cache = settings.clone();
                no_cache.key_cache = None;
                key = load_key(&no_cache, root, &Parsed::Current(header.clone()), ui)?;
                let ask = |fp: &str| ui.trust_admin(fp);
                let trust = match (&settings.trust_admin, settings.interactive) {
                    (Some(fp), _) => Trust::Fingerprint(fp),
                    (None, true) => Trust::Ask(&ask),
                    (None, false) => Trust::None,
                };
                Store::unlock(
                    root,
                    header,
                    &key.identity,
                    trust,
                    options_for(settings, &key.source),
                )
                .inspect_err(|e| {
                    note_failure(settings, root, e);
                })?
            }
            Err(e) => {
                note_failure(settings, root, &e);
                // A key the header does not list: the one error that says
                // what to send to whom (a member waiting to be added).
                let me = key.identity.to_public().to_string();
                if classify(&e).0 == Exit::NoKey
                    && !header.recipients.iter().any(|r| r.public_key == me)
                {
                    return Err(not_recipient(settings, root, &me).into());
                }
                return Err(e);
            }
        };
        if let Some(ttl) = settings.key_cache {
            if matches!(
                key.source,
                crate::keys::Source::Keyring(_)
                    | crate::keys::Source::Passphrase
                    | crate::keys::Source::Plugin { .. }
                    | crate::keys::Source::KeyService { .. }
            ) {
                let _ = crate::keys::cache::put(&store.header().id, &key.identity, ttl);
            }
        }
        store.on_wait(move |holder| {
            ui.notice(&match holder {
                Some(h) => format!("waiting for another authcfg process to finish ({h}) ..."),
                None => "waiting for another authcfg process to finish ...".to_string(),
            })
        });
        store.fold_failed_access();
        // A key unsealed with the passphrase goes back into the kernel
        // keyring (emptied by a reboot) when the verified header keeps it
        // there and the settings allow keyrings.
        let verified = store.header();
        if key.source == crate::keys::Source::Passphrase
            && verified.keyring_backend.as_deref() == Some("keyutils")
            && settings.keyring.as_deref() != Some("none")
        {
            let _ = crate::keys::keyring::set(
                crate::keys::keyring::Backend::Keyutils,
                &verified.id,
                &crate::keys::identity::secret_string(&key.identity),
            );
        }
        let reload_settings = settings.clone();
        let reload_root = root.to_path_buf();
        store.set_key_reloader(Box::new(move || {
            let parsed = Store::read_header(&reload_root).ok()?;
            keys::load(
                &reload_settings,
                &reload_root,
                &location(&parsed),
                &|| None,
                None,
            )
            .ok()
            .map(|k| k.identity)
        }));
        if let Some((message, hint)) = store.forged_journal() {
            ui.notice(&format!("warning: {message}\nhint: {hint}\n(configs are read as usual; changes are refused until this is resolved)"));
        }
        let mut session = Session {
            settings,
            store,
            key,
            ui,
        };
        let mut ctx = super::admin::AdminCtx::new(&session);
        ctx.identity_out = identity_out.map(Path::to_path_buf);
        session.store.set_resumer(Box::new(move |store, txn| {
            super::master_key::resume(store, txn, &ctx)
        }));
        if session.store.has_stale_journal() {
            // Taking the lock removes it (and says so in the trail).
            let _ = session.store.begin("removing a stale journal");
        }
        // An interrupted recipient change is completed now. A master-key
        // rotation is not: the store reads with either key meanwhile, so a
        // read never waits for one (running or interrupted); the next write
        // (`Store::begin`) completes it (docs/ARCHITECTURE.md, "Whole-store
        // changes").
        let pending = session.store.pending_admin().map(|j| j.op);
        if pending.is_some_and(|op| op != crate::store::journal::AdminOp::MasterKey)
            && session.store.role() == Role::Admin
        {
            // Taking the lock completes it (or waits for the process doing it).
            drop(session.store.begin("completing an interrupted change")?);
            session.key = MasterKey {
                identity: session.store.identity(),
                source: session.key.source.clone(),
            };
        }
        if session.store.role() == Role::Admin {
            super::master_key::expire_retained(&session);
        }
        Ok(session)
    }

    pub fn audit(&self, action: &str, config: Option<&str>, outcome: &str, detail: Option<&str>) {
        let e = crate::store::journal::AuditIntent {
            version: None,
            action: action.into(),
            config: config.map(str::to_string),
            outcome: outcome.into(),
            detail: detail.map(str::to_string),
        };
        if let Err(err) = self.store.audit(&[e]) {
            self.ui.notice(&format!(
                "warning: could not write the audit trail: {err:#}"
            ));
        }
    }
}

/// The key from its source; a failure is noted for the audit trail.
fn load_key(
    settings: &Settings,
    root: &Path,
    parsed: &Parsed,
    ui: &dyn Ui,
) -> anyhow::Result<MasterKey> {
    let prompt = || {
        if settings.interactive {
            ui.passphrase()
        } else {
            None
        }
    };
    let prompts = if settings.interactive {
        ui.plugin_prompts()
    } else {
        None
    };
    keys::load(settings, root, &location(parsed), &prompt, prompts).map_err(|e| {
        let e = anyhow::Error::from(e);
        note_failure(settings, root, &e);
        e
    })
}

/// Every failed unlock is an access attempt the trail should show.
fn note_failure(settings: &Settings, root: &Path, e: &anyhow::Error) {
    let first = e.to_string();
    let reason = first.lines().next().unwrap_or("");
    let kind = if classify(e).0 == Exit::NoKey {
        "no usable key"
    } else {
        "refused"
    };
    crate::store::audit::note_failed_access(root, &settings.user, &format!("{kind}: {reason}"));
}

/// The label the admin's `recipients add` line suggests: the user name,
/// reduced to what a label may hold.
pub fn suggested_label(settings: &Settings) -> String {
    let l: String = settings
        .user
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.@".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    if l.trim_matches('-').is_empty() {
        "member".into()
    } else {
        l
    }
}

/// The exact command the store's admin runs to add this key.
pub fn admin_line(settings: &Settings, public: &str) -> String {
    format!(
        "authcfg recipients add {public} --label {}",
        suggested_label(settings)
    )
}

/// The key in use is not (yet) a recipient of the store: its full public
/// key, where it goes, and what to run once it is added.
pub fn not_recipient(settings: &Settings, root: &Path, public: &str) -> UserError {
    let then = if root.join(".git").is_dir() {
        "then run `authcfg sync` here: it fetches the change and completes the clone"
    } else {
        "then run your command again"
    };
    no_key(format!(
        "your key is not a recipient of the store at {} (yet); your public key is\n\n    {public}\n",
        root.display()
    ))
    .hint(format!(
        "send that public key to the store's admin, who adds it (and syncs, for a team store):\n\n    {}\n\n  {then}. (Not the key you meant? `authcfg key show` and `authcfg doctor` say which key is in use.)",
        admin_line(settings, public)
    ))
}

/// Upgrading a format-1 store when its admin first opens it with this
/// version (the work is in `store::upgrade`; this says what happened).
pub fn upgrade(
    settings: &Settings,
    root: &Path,
    legacy: LegacyHeader,
    key: &x25519::Identity,
    ui: &dyn Ui,
) -> anyhow::Result<()> {
    ui.notice("note: upgrading the store to format 2 (signed header, authenticated configs and audit trail)");
    let done =
        crate::store::upgrade::upgrade(root, legacy, key, options(settings), &|done, total| {
            ui.progress("upgrading", done, total)
        })?;
    if let Some(u) = done {
        ui.notice(&format!(
            "upgraded: {} configs re-encrypted with MACs; the header is signed with these recipients:",
            u.configs
        ));
        for (label, key) in &u.recipients {
            ui.notice(&format!("  {label:<16} {key}"));
        }
        ui.notice(&format!(
            "check them: remove any you do not know with `authcfg recipients remove LABEL`; the format-1 audit trail ({} records) is kept in audit.v1.jsonl",
            u.legacy_records
        ));
    }
    Ok(())
}
