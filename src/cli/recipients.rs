//! `authcfg recipients list|add|remove`: who can decrypt the store (team
//! members, CI keys). Changes are the admin's (`ops::recipients`).

use super::Ctx;
use crate::store::header::Access;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// The recipients every config is encrypted to, and the admin key
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add an age public key (age1...), or a key held in custody
    /// (bao:transit/keys/NAME, awskms:arn:aws:kms:..., plugin:age1NAME1...),
    /// and re-encrypt every config to it
    Add {
        /// The recipient's age public key; or bao:MOUNT/keys/NAME: a new key
        /// sealed by that OpenBao / Vault transit key; or
        /// awskms:arn:aws:kms:REGION:ACCOUNT:key/ID: a new key sealed by that
        /// AWS KMS key; or plugin:age1NAME1...: a new key sealed to that age
        /// plugin recipient (a teammate who holds only a YubiKey, a TPM)
        public_key: String,
        /// With bao:...: the OpenBao / Vault server for this call (default
        /// AUTHCFG_BAO_ADDR, BAO_ADDR, VAULT_ADDR); readers use their own
        #[arg(long, value_name = "URL")]
        addr: Option<String>,
        /// A name for it (alice, ci-prod)
        #[arg(long)]
        label: String,
        /// Groups it belongs to (repeatable): it can read configs of these groups
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        /// developer: reads, adds and edits; viewer: reads only
        #[arg(long, value_enum, default_value = "developer")]
        role: Access,
    },
    /// Make a recipient a developer or a viewer
    Role {
        label: String,
        #[arg(value_enum)]
        role: Access,
    },
    /// Remove a recipient by label, re-encrypt every config without it and
    /// replace the store keys it knew
    Remove { label: String },
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    let s = ctx.session()?;
    match args.action {
        Action::List { json } => {
            let header = s.store.header();
            let admin = header
                .admin_pub()
                .map(|p| p.fingerprint())
                .unwrap_or_default();
            if json {
                return super::print_json(&serde_json::json!({
                    "admin_key": admin,
                    "recipients": header.recipients,
                }))
                .map_err(Into::into);
            }
            outln!("admin key (signs the store header): {admin}");
            for r in &header.recipients {
                let groups = if r.label == crate::store::header::MASTER {
                    "(all configs)".to_string()
                } else if r.groups.is_empty() {
                    "(configs without a group)".to_string()
                } else {
                    format!("groups: {}", r.groups.join(", "))
                };
                let role = if r.label == crate::store::header::MASTER {
                    "admin"
                } else {
                    r.role.as_str()
                };
                let kind = match &r.custody {
                    Some(c) => format!("  ({}:{})", c.service, c.key),
                    None => String::new(),
                };
                // Labels come with a pulled header (a teammate's words).
                outln!(
                    "{:<16} {:<9} {}  {}{}",
                    crate::text::escape(&r.label, 100),
                    role,
                    crate::text::escape(&r.public_key, 200),
                    crate::text::escape(&groups, 300),
                    crate::text::escape(&kind, 300)
                );
            }
            Ok(())
        }
        Action::Add {
            public_key,
            addr,
            label,
            groups,
            role,
        } => {
            let c = crate::ops::recipients::add(
                &s,
                &public_key,
                &label,
                &groups,
                role,
                addr.as_deref(),
            )?;
            eprintln!(
                "Re-encrypted {} configs to {} recipient(s)",
                c.files, c.recipients
            );
            if let Some(p) = s.store.header().admin_pub() {
                eprintln!(
                    "Give '{label}' the admin key's fingerprint to trust on first use: {}",
                    p.fingerprint()
                );
            }
            let team = s.store.root().join(".git").is_dir();
            drop(s);
            if team && crate::ops::team::autosync(&ctx.store_dir) == crate::ops::team::AutoSync::Off
            {
                eprintln!("Share the change with `authcfg sync`; then '{label}' runs `authcfg sync` in their clone (or `authcfg git clone URL`, when they have none yet).");
            }
            super::sync::after_write(ctx)?;
            Ok(())
        }
        Action::Remove { label } => {
            let c = crate::ops::recipients::remove(&s, &label)?;
            eprintln!(
                "Re-encrypted {} configs to {} recipient(s) under new store keys",
                c.files, c.recipients
            );
            if c.exposed.is_empty() {
                eprintln!("'{label}' could read no config");
            } else {
                eprintln!(
                    "'{label}' could read {} config(s); copies made before this change (backups, git history) still open with that key. Rotate their secrets:",
                    c.exposed.len()
                );
                for n in &c.exposed {
                    outln!("{n}");
                }
            }
            drop(s);
            super::sync::after_write(ctx)?;
            Ok(())
        }
        Action::Role { label, role } => {
            crate::ops::recipients::set_role(&s, &label, role)?;
            eprintln!("'{label}' is now a {}", role.as_str());
            drop(s);
            super::sync::after_write(ctx)?;
            Ok(())
        }
    }
}
