//! `authcfg recipients list|add|remove`: who can decrypt the store (team
//! members, CI keys). Every change re-encrypts every config, journaled: the
//! target header is written first, so an interrupted run is completed by
//! the next command (the master key reads every file in either state).

use super::Ctx;
use crate::error::usage;
use crate::store::header::{Header, Recipient};
use crate::store::{fsutil, Store};
use std::str::FromStr;

pub const JOURNAL: &str = "recipients.toml";

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// The recipients every config is encrypted to
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add an age public key (age1...) and re-encrypt every config to it
    Add {
        /// The recipient's age public key
        public_key: String,
        /// A name for it (alice, ci-prod)
        #[arg(long)]
        label: String,
        /// Groups it belongs to (repeatable): it can read configs of these groups
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
    },
    /// Remove a recipient by label and re-encrypt every config without it
    Remove { label: String },
}

pub fn in_progress(store: &Store) -> bool {
    store.root().join(JOURNAL).exists()
}

/// Completes an interrupted change: re-encrypt to the journaled header.
pub fn resume(ctx: &Ctx, store: &Store, key: &crate::keys::MasterKey) -> anyhow::Result<()> {
    let target: Header = toml::from_str(&std::fs::read_to_string(store.root().join(JOURNAL))?)?;
    apply(ctx, store, key, target, "resumed")
}

fn apply(
    ctx: &Ctx,
    store: &Store,
    key: &crate::keys::MasterKey,
    target: Header,
    what: &str,
) -> anyhow::Result<()> {
    let journal = store.root().join(JOURNAL);
    fsutil::write_atomic(&journal, toml::to_string(&target)?.as_bytes())?;
    let mut fault = super::master_key::fault_counter();
    fault();
    let n = store.reencrypt_all(&[&key.identity], &target, &mut fault)?;
    store.rewrite_header(&target)?;
    std::fs::remove_file(&journal)?;
    fsutil::sync_dir(store.root())?;
    ctx.audit(
        "recipients",
        None,
        "ok",
        Some(&format!("{what}; {n} files re-encrypted")),
    );
    eprintln!(
        "Re-encrypted {n} files to {} recipient(s)",
        target.recipients.len()
    );
    Ok(())
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<i32> {
    let (store, key) = ctx.unlock()?;
    let mut header = store.header().clone();
    match args.action {
        Action::List { json } => {
            if json {
                return super::print_json(&header.recipients).map(|_| 0);
            }
            for r in &header.recipients {
                let groups = if r.label == "master" {
                    "(all configs)".to_string()
                } else if r.groups.is_empty() {
                    "(configs without a group)".to_string()
                } else {
                    format!("groups: {}", r.groups.join(", "))
                };
                println!("{:<16} {}  {groups}", r.label, r.public_key);
            }
            Ok(0)
        }
        Action::Add {
            public_key,
            label,
            groups,
        } => {
            for g in &groups {
                check_group(g)?;
            }
            age::x25519::Recipient::from_str(&public_key).map_err(|_| {
                usage("not an age X25519 public key")
                    .hint("it starts with age1...; `age-keygen -y KEYFILE` prints one")
            })?;
            if header.recipients.iter().any(|r| r.label == label) {
                return Err(usage(format!("a recipient labelled '{label}' exists")).into());
            }
            if header.recipients.iter().any(|r| r.public_key == public_key) {
                return Err(usage("that key is already a recipient").into());
            }
            header.recipients.push(Recipient {
                label: label.clone(),
                public_key,
                groups,
            });
            apply(ctx, &store, &key, header, &format!("added {label}"))?;
            Ok(0)
        }
        Action::Remove { label } => {
            if label == "master" {
                return Err(usage("the master key cannot be removed")
                    .hint("rotate it with `authcfg rotate --master-key`")
                    .into());
            }
            let before = header.recipients.len();
            header.recipients.retain(|r| r.label != label);
            if header.recipients.len() == before {
                return Err(usage(format!("no recipient labelled '{label}'"))
                    .hint("see `authcfg recipients list`")
                    .into());
            }
            apply(ctx, &store, &key, header, &format!("removed {label}"))?;
            eprintln!("note: copies of the store made before this change can still be read with that key; rotate secrets it saw");
            Ok(0)
        }
    }
}

/// Group names are short tokens: admins, prod-ci.
pub fn check_group(g: &str) -> Result<(), crate::error::UserError> {
    if g.is_empty()
        || g.len() > 64
        || !g
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(usage(format!(
            "invalid group name '{}'",
            g.chars().take(64).collect::<String>()
        ))
        .hint("use letters, digits, '-' and '_' (e.g. admins, prod-ci)"));
    }
    Ok(())
}
