//! `authcfg key new|show|export|import|recovery`: your own key (a team
//! member joins with it), a passphrase-protected backup of the key in use,
//! and recovery shares of it (`ops::key`; README, "Recovery";
//! docs/ARCHITECTURE.md, "Recovery shares").

use super::Ctx;
use crate::error::usage;
use crate::ops::key as ops;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use zeroize::Zeroizing;

pub const ABOUT: &str = "Your own key and a backup of the key in use.

`authcfg key new` makes the key you join a team store with (`authcfg git clone URL`): kept in the OS keyring (Secret Service), or with --file in a private file (~/.config/authcfg/key.txt unless you name one). It prints the public key the store's admin adds with `authcfg recipients add`.

`authcfg key export FILE` writes the key this store is opened with to FILE, sealed with a passphrase (an age file with scrypt, which `age -d` opens too). Keep it, with a backup of the store directory (or the team's git repository), somewhere other than this machine: that is what restores the store when the keyring is lost. `authcfg key import FILE` puts the key back where the store looks for it (README, \"Recovery\").

`authcfg key recovery split` splits the key instead into shares for several custodians, any K of which restore it (`authcfg key recovery restore`).";

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(clap::Subcommand)]
enum Action {
    /// Make your own key (to join a team store), in the OS keyring or a private file
    New {
        /// Keep it in a file (mode 0600) instead of the keyring: FILE, or
        /// ~/.config/authcfg/key.txt when no FILE is given (found there by itself)
        #[arg(long, value_name = "FILE", num_args = 0..=1)]
        file: Option<Option<PathBuf>>,
    },
    /// Print the public key of the key in use (the one the admin adds)
    Show,
    /// Write the key in use to FILE, sealed with a passphrase (age scrypt)
    Export {
        /// The backup file to create (never overwritten)
        file: PathBuf,
        /// Read the passphrase from standard input (its first line) instead of asking
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Put the key of a `key export` backup back where the store looks for it
    Import {
        /// The backup made by `authcfg key export`
        file: PathBuf,
        /// Read the passphrase from standard input (its first line) instead of asking
        #[arg(long)]
        passphrase_stdin: bool,
        /// Keep the key in this file (mode 0600) instead; then set AUTHCFG_IDENTITY_FILE
        #[arg(long, value_name = "FILE")]
        to_file: Option<PathBuf>,
    },
    /// Recovery shares of the key in use (Shamir): split for custodians, restore from them
    #[command(long_about = RECOVERY_ABOUT)]
    Recovery {
        #[command(subcommand)]
        action: Recovery,
    },
}

const RECOVERY_ABOUT: &str = "Recovery shares: the key in use split for several custodians (Shamir's scheme), and restored from them.

`authcfg key recovery split --shares 5 --threshold 3` splits the key this store is opened with into 5 shares, any 3 of which restore it; fewer tell nothing about it. Each share is a short text for paper (bech32: a checksum catches a changed character) naming the store, the split, its number and the threshold. Give each to a different custodian, and keep a backup of the store directory (or the team's repository).

`authcfg key recovery restore SHARE-FILE...` (or the shares typed when asked, or on standard input with --stdin) puts the key back where the store looks for it, as `authcfg key import` does (README, \"Recovery\").";

#[derive(clap::Subcommand)]
enum Recovery {
    /// Split the key in use into N shares, any K of which restore it
    Split {
        /// How many shares to make (2 to 255)
        #[arg(long, value_name = "N")]
        shares: u8,
        /// How many shares restore the key (2 to N)
        #[arg(long, value_name = "K")]
        threshold: u8,
        /// Write each share to its own new file here (mode 0600) instead of printing them
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
    /// Restore the key from K shares (files, standard input or typed when asked)
    Restore {
        /// Files holding one share each (as `split --out-dir` writes them)
        files: Vec<PathBuf>,
        /// Read the shares from standard input, one a line
        #[arg(long, conflicts_with = "files")]
        stdin: bool,
        /// Keep the key in this file (mode 0600) instead; then set AUTHCFG_IDENTITY_FILE
        #[arg(long, value_name = "FILE")]
        to_file: Option<PathBuf>,
    },
}

pub fn run(ctx: &Ctx, args: Args) -> crate::error::CommandResult {
    match args.action {
        Action::New { file } => {
            let m = ops::new_own(&ctx.settings, file)?;
            outln!("{}", m.public);
            eprintln!("Made your key, kept in {}.", m.place);
            if m.needs_env {
                if let ops::Place::File(p) = &m.place {
                    eprintln!(
                        "authcfg looks for it when AUTHCFG_IDENTITY_FILE={} is set.",
                        crate::export::formats::sh_quote(&p.to_string_lossy())
                    );
                }
            }
            eprintln!(
                "Send the public key above to the store's admin, who adds it with\n\n    {}\n\nthen join with `authcfg git clone URL` (you can clone before: the clone waits).",
                ops::admin_line(&ctx.settings, &m.public)
            );
            Ok(())
        }
        Action::Show => {
            let k = ops::current(&ctx.settings, &ctx.store_dir, &super::UI)?;
            outln!("{}", k.identity.to_public());
            eprintln!("from {}", k.source);
            Ok(())
        }
        Action::Export {
            file,
            passphrase_stdin,
        } => {
            let pass = passphrase(ctx, passphrase_stdin, true)?;
            let public = if crate::store::Store::read_header(&ctx.store_dir).is_ok() {
                let s = ctx.session()?;
                ops::export(&s, &file, &pass)?
            } else {
                ops::export_own(&ctx.settings, &file, &pass)?
            };
            eprintln!(
                "Wrote the key {public} to {}, sealed with your passphrase (age scrypt; `age -d` opens it too).\nKeep it and the passphrase away from this machine, with a backup of the store directory: `authcfg key import {}` restores the key (README, \"Recovery\").",
                file.display(),
                file.display()
            );
            Ok(())
        }
        Action::Import {
            file,
            passphrase_stdin,
            to_file,
        } => {
            let data = crate::input::read(&file, "the key backup", 1 << 16)?;
            let pass = passphrase(ctx, passphrase_stdin, false)?;
            let i = ops::import(&ctx.settings, &ctx.store_dir, &data, &pass, to_file)?;
            eprintln!("Restored the key {} into {}.", i.public, i.place);
            if i.needs_env {
                if let ops::Place::File(p) = &i.place {
                    eprintln!(
                        "authcfg uses it when AUTHCFG_IDENTITY_FILE={} is set.",
                        crate::export::formats::sh_quote(&p.to_string_lossy())
                    );
                    return Ok(());
                }
            }
            if crate::store::Store::read_header(&ctx.store_dir).is_ok() {
                let s = ctx.session()?;
                eprintln!(
                    "The store at {} opens with it ({}): {} config(s).",
                    ctx.store_dir.display(),
                    if i.admin {
                        "its master key"
                    } else {
                        "a member's key"
                    },
                    s.store.scan_names()?.len()
                );
            } else {
                eprintln!("No store at {} yet: put its directory back from your backup, or join the team again with `authcfg git clone URL`.", ctx.store_dir.display());
            }
            Ok(())
        }
        Action::Recovery { action } => recovery(ctx, action),
    }
}

fn recovery(ctx: &Ctx, action: Recovery) -> crate::error::CommandResult {
    match action {
        Recovery::Split {
            shares,
            threshold,
            out_dir,
        } => {
            let s = ctx.session()?;
            let split = ops::split(&s, threshold, shares, out_dir.as_deref())?;
            if split.files.is_empty() {
                for (i, t) in split.texts.iter().enumerate() {
                    if i > 0 {
                        outln!("{}", "-".repeat(40));
                    }
                    outln!("{}", t.trim_end());
                }
            } else {
                for f in &split.files {
                    eprintln!("wrote {}", f.display());
                }
            }
            eprintln!(
                "Split the key {} into {} shares; any {} of them restore it (split {}).\nGive each share to a different custodian (on paper, or its file), and keep a backup of the store directory: `authcfg key recovery restore` brings the key back (README, \"Recovery\").",
                split.public, split.count, split.threshold, split.set
            );
            Ok(())
        }
        Recovery::Restore {
            files,
            stdin,
            to_file,
        } => {
            let inputs = share_inputs(ctx, &files, stdin)?;
            let r = ops::restore(&ctx.settings, &ctx.store_dir, &inputs, to_file)?;
            let i = &r.imported;
            eprintln!(
                "Restored the key {} from {} of {} shares into {}.",
                i.public, r.used, r.count, i.place
            );
            // The store is opened with the restored key (a file of the
            // user's choice: that file) to record the restore.
            let mut settings = ctx.settings.clone();
            if i.needs_env {
                if let ops::Place::File(p) = &i.place {
                    eprintln!(
                        "authcfg uses it when AUTHCFG_IDENTITY_FILE={} is set.",
                        crate::export::formats::sh_quote(&p.to_string_lossy())
                    );
                    settings.identity = None;
                    settings.identity_file = Some(p.clone());
                }
            }
            if crate::store::Store::read_header(&ctx.store_dir).is_ok() {
                let s = crate::ops::Session::open(&settings, &ctx.store_dir, &super::UI)?;
                ops::record_restore(&s, &r);
                eprintln!(
                    "The store at {} opens with it: {} config(s).",
                    ctx.store_dir.display(),
                    s.store.scan_names()?.len()
                );
            } else {
                eprintln!("No store at {} yet: put its directory back from your backup, or join the team again with `authcfg git clone URL`.", ctx.store_dir.display());
            }
            Ok(())
        }
    }
}

/// The shares to restore from: each named file, the lines of standard
/// input (`--stdin`), or typed at a terminal (hidden) until the first
/// share's threshold is reached. Never from the command line.
fn share_inputs(ctx: &Ctx, files: &[PathBuf], stdin: bool) -> anyhow::Result<Vec<ops::ShareInput>> {
    const MAX: u64 = 1 << 14;
    // A share typed as an argument (whole or in its groups of five) is
    // refused before any file is read, and never quoted: it is already in
    // the shell's history and `ps`, and not in an error too.
    let prefix = format!("{}1", crate::keys::shares::PREFIX);
    if files.iter().any(|f| {
        f.to_string_lossy().to_ascii_lowercase().contains(&prefix)
            && std::fs::symlink_metadata(f).is_err()
    }) {
        return Err(usage("a recovery share was given on the command line; it is not read there (not shown here)")
            .hint("shares are never read from the command line; use --stdin or a file (or type them when asked)")
            .into());
    }
    if !files.is_empty() {
        return files
            .iter()
            .map(|f| {
                let text = Zeroizing::new(crate::input::read_text(f, "a recovery share", MAX)?);
                Ok(ops::ShareInput {
                    from: format!("the share in {}", f.display()),
                    text,
                })
            })
            .collect();
    }
    if stdin {
        let mut text = Zeroizing::new(String::new());
        std::io::stdin().take(MAX * 16).read_to_string(&mut text)?;
        let prefix = format!("{}1", crate::keys::shares::PREFIX);
        return Ok(text
            .lines()
            .enumerate()
            .filter(|(_, l)| {
                let l = l.trim();
                l.len() >= prefix.len()
                    && l.is_char_boundary(prefix.len())
                    && l[..prefix.len()].eq_ignore_ascii_case(&prefix)
            })
            .map(|(n, l)| ops::ShareInput {
                from: format!("the share on line {} of standard input", n + 1),
                text: Zeroizing::new(l.to_string()),
            })
            .collect());
    }
    if !ctx.interactive || !std::io::stdin().is_terminal() {
        return Err(usage("no terminal to ask for the recovery shares")
            .hint("name the share files, or pass the shares on standard input with --stdin")
            .into());
    }
    let mut out: Vec<ops::ShareInput> = vec![];
    let mut need = 2usize;
    while out.len() < need {
        let n = out.len() + 1;
        let line = Zeroizing::new(
            dialoguer::Password::new()
                .with_prompt(format!("Share {n} (hidden; spaces and case do not matter)"))
                .allow_empty_password(true)
                .interact()?,
        );
        if line.trim().is_empty() {
            return Err(usage("no share typed").into());
        }
        let input = ops::ShareInput {
            from: format!("share {n} (typed)"),
            text: line,
        };
        match ops::parse_share(&input) {
            Ok(sh) => {
                if out.is_empty() {
                    need = sh.threshold as usize;
                    eprintln!(
                        "Share {} of {}: {} of them restore the key.",
                        sh.index, sh.count, sh.threshold
                    );
                }
                out.push(input);
            }
            Err(e) => eprintln!("{e}; type it again"),
        }
    }
    Ok(out)
}

/// The backup's passphrase: the first line of standard input, or asked
/// (hidden; twice for a new backup) at a terminal.
fn passphrase(ctx: &Ctx, from_stdin: bool, new: bool) -> anyhow::Result<Zeroizing<String>> {
    if from_stdin {
        let mut text = Zeroizing::new(String::new());
        std::io::stdin().take(4096).read_to_string(&mut text)?;
        let line = Zeroizing::new(text.lines().next().unwrap_or("").to_string());
        if new {
            crate::keys::identity::check_new_passphrase(&line)?;
        }
        return Ok(line);
    }
    if !ctx.interactive || !std::io::stdin().is_terminal() {
        return Err(usage("no terminal to ask for the backup's passphrase")
            .hint("pass it on standard input with --passphrase-stdin")
            .into());
    }
    if !new {
        let p = dialoguer::Password::new()
            .with_prompt("Passphrase of the key backup")
            .interact()?;
        return Ok(Zeroizing::new(p));
    }
    for _ in 0..3 {
        let p = Zeroizing::new(
            dialoguer::Password::new()
                .with_prompt(format!(
                    "Passphrase for the key backup (at least {} characters)",
                    crate::keys::identity::MIN_PASSPHRASE
                ))
                .with_confirmation("Repeat it", "The passphrases differ")
                .interact()?,
        );
        match crate::keys::identity::check_new_passphrase(&p) {
            Ok(()) => return Ok(p),
            Err(e) => eprintln!("{}; try again", e.message),
        }
    }
    Err(usage("no passphrase long enough after three tries").into())
}
