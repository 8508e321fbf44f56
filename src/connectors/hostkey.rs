//! SSH host keys, decided the way OpenSSH decides them: a key pinned in the
//! config or recorded in known_hosts must match; a different key for the
//! same host is refused (never replaced silently); an unknown host is
//! accepted only when the user vouched for its fingerprint (a yes at the
//! terminal, or `--trust-host-key SHA256:...`). The decision is made in
//! the key exchange, before any password or key signature is sent.

use russh::keys::{HashAlg, PublicKey};
use std::path::PathBuf;

/// What the probe checks a server's key against.
#[derive(Debug, Clone, Default)]
pub struct HostKeyPolicy {
    pub host: String,
    pub port: u16,
    /// The config's `host_key` (a SHA256 fingerprint).
    pub pinned: Option<String>,
    /// The user's known_hosts file.
    pub known_hosts: Option<PathBuf>,
    /// A fingerprint the user vouched for.
    pub trusted: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    Pinned,
    KnownHosts { line: usize },
    Vouched,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Accept {
        fingerprint: String,
        by: Accepted,
    },
    /// First contact: show the fingerprint, ask.
    Unknown {
        fingerprint: String,
    },
    /// The key on record differs.
    Changed {
        fingerprint: String,
        /// Where the old key is recorded.
        recorded: String,
    },
}

impl Decision {
    pub fn accepted(&self) -> bool {
        matches!(self, Decision::Accept { .. })
    }
}

/// `SHA256:...` as OpenSSH prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// Accepts `SHA256:xxx` as ssh-keygen prints it (a missing `SHA256:` and
/// trailing `=` are tolerated).
pub fn normalize(fp: &str) -> String {
    let fp = fp.trim();
    let body = fp
        .strip_prefix("SHA256:")
        .unwrap_or(fp)
        .trim_end_matches('=');
    format!("SHA256:{body}")
}

pub fn decide(policy: &HostKeyPolicy, key: &PublicKey) -> Decision {
    let fp = fingerprint(key);
    if let Some(pinned) = policy.pinned.as_deref().filter(|p| !p.is_empty()) {
        return if normalize(pinned) == fp {
            Decision::Accept {
                fingerprint: fp,
                by: Accepted::Pinned,
            }
        } else {
            Decision::Changed {
                fingerprint: fp,
                recorded: format!("the config's host_key {}", normalize(pinned)),
            }
        };
    }
    if let Some(path) = &policy.known_hosts {
        // Lines that fail to parse are skipped by ssh as well; an unreadable
        // file is as good as an empty one.
        let entries =
            russh::keys::known_hosts::known_host_keys_path(&policy.host, policy.port, path)
                .unwrap_or_default();
        let same_algorithm: Vec<&(usize, PublicKey)> = entries
            .iter()
            .filter(|(_, k)| k.algorithm() == key.algorithm())
            .collect();
        if let Some((line, _)) = same_algorithm
            .iter()
            .find(|(_, k)| k.key_data() == key.key_data())
        {
            return Decision::Accept {
                fingerprint: fp,
                by: Accepted::KnownHosts { line: *line },
            };
        }
        if let Some((line, _)) = same_algorithm.first() {
            return Decision::Changed {
                fingerprint: fp,
                recorded: format!("{}:{line}", path.display()),
            };
        }
    }
    match policy.trusted.as_deref() {
        Some(t) if normalize(t) == fp => Decision::Accept {
            fingerprint: fp,
            by: Accepted::Vouched,
        },
        Some(t) => Decision::Changed {
            fingerprint: fp,
            recorded: format!("the fingerprint you vouched for ({})", normalize(t)),
        },
        None => Decision::Unknown { fingerprint: fp },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> PublicKey {
        let sk = russh::keys::PrivateKey::from(
            russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&[seed; 32]),
        );
        sk.public_key().clone()
    }

    #[test]
    fn pinned_known_hosts_and_vouched() {
        let k = key(1);
        let other = key(2);
        let fp = fingerprint(&k);
        assert!(fp.starts_with("SHA256:"));
        let mut p = HostKeyPolicy {
            host: "127.0.0.1".into(),
            port: 2222,
            ..Default::default()
        };
        assert_eq!(
            decide(&p, &k),
            Decision::Unknown {
                fingerprint: fp.clone()
            }
        );
        p.trusted = Some(fp.trim_start_matches("SHA256:").to_string());
        assert!(decide(&p, &k).accepted());
        assert!(matches!(decide(&p, &other), Decision::Changed { .. }));
        p.trusted = None;
        p.pinned = Some(fp.clone());
        assert!(decide(&p, &k).accepted());
        assert!(matches!(decide(&p, &other), Decision::Changed { .. }));

        let dir = tempfile::tempdir().unwrap();
        let kh = dir.path().join("known_hosts");
        std::fs::write(
            &kh,
            format!("# comment\n[127.0.0.1]:2222 {}\n", k.to_openssh().unwrap()),
        )
        .unwrap();
        let p = HostKeyPolicy {
            host: "127.0.0.1".into(),
            port: 2222,
            known_hosts: Some(kh.clone()),
            ..Default::default()
        };
        assert_eq!(
            decide(&p, &k),
            Decision::Accept {
                fingerprint: fp,
                by: Accepted::KnownHosts { line: 1 }
            }
        );
        match decide(&p, &other) {
            Decision::Changed { recorded, .. } => assert!(recorded.ends_with(":1"), "{recorded}"),
            d => panic!("{d:?}"),
        }
        // Another port is another host.
        let p = HostKeyPolicy { port: 22, ..p };
        assert!(matches!(decide(&p, &k), Decision::Unknown { .. }));
    }
}
