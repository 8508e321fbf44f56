//! SFTP/SSH on russh: the host key is decided in the key exchange
//! (`hostkey::decide`), and only an accepted key lets the probe go on to
//! password or public-key authentication and the SFTP subsystem.

use super::{connect_tcp, get, port};
use crate::connectors::hostkey::{self, Decision, HostKeyPolicy};
use crate::connectors::{Class, Outcome, ProbeSettings};
use crate::model::ConfigDoc;
use crate::net::ServerIdentity;
use std::sync::{Arc, Mutex};

struct Checker {
    policy: HostKeyPolicy,
    decision: Arc<Mutex<Option<Decision>>>,
}

impl russh::client::Handler for Checker {
    type Error = russh::Error;

    /// Called once the server has proven it holds this key, before any
    /// authentication: returning false ends the connection there.
    async fn check_server_key(
        &mut self,
        key: &russh::keys::ssh_key::PublicKey,
    ) -> Result<bool, Self::Error> {
        let d = hostkey::decide(&self.policy, key);
        let ok = d.accepted();
        if let Ok(mut slot) = self.decision.lock() {
            *slot = Some(d);
        }
        Ok(ok)
    }
}

fn refused(d: &Decision, host: &str, port: u16) -> Outcome {
    match d {
        Decision::Unknown { fingerprint } => {
            let mut o = Outcome::fail(
                Class::HostKeyUnknown,
                format!(
                    "the authenticity of host [{host}]:{port} can't be established; its host key fingerprint is {fingerprint}; nothing was sent"
                ),
            );
            o.unknown_host_key = Some(fingerprint.clone());
            o
        }
        Decision::Changed {
            fingerprint,
            recorded,
        } => Outcome::fail(
            Class::HostKeyChanged,
            format!(
                "the host key of [{host}]:{port} is now {fingerprint}, which does not match {recorded}; nothing was sent"
            ),
        ),
        Decision::Accept { .. } => Outcome::fail(Class::Protocol, "connection closed"),
    }
}

pub async fn probe(doc: &ConfigDoc, settings: &ProbeSettings) -> Outcome {
    let host = get(doc, "host");
    let port = port(doc, 22);
    let policy = HostKeyPolicy {
        host: host.to_string(),
        port,
        pinned: doc
            .get("host_key")
            .filter(|k| !k.is_empty())
            .map(str::to_string),
        known_hosts: settings.known_hosts.clone(),
        trusted: settings.trust_host_key.clone(),
    };
    let pinned_already = policy.pinned.is_some();
    let decision = Arc::new(Mutex::new(None));
    let checker = Checker {
        policy,
        decision: decision.clone(),
    };
    let tcp = match connect_tcp(host, port).await {
        Ok(s) => s,
        Err(o) => return o,
    };
    let config = Arc::new(russh::client::Config::default());
    let decided = || decision.lock().ok().and_then(|d| d.clone());
    let mut session = match russh::client::connect_stream(config, tcp, checker).await {
        Ok(s) => s,
        Err(e) => {
            return match decided() {
                Some(d) if !d.accepted() => refused(&d, host, port),
                _ => super::typed_failure(&e, None).unwrap_or_else(|| super::text_failure(&e)),
            }
        }
    };
    let fingerprint = match decided() {
        Some(Decision::Accept { fingerprint, .. }) => fingerprint,
        // russh calls the check before it returns a session.
        _ => return Outcome::fail(Class::Protocol, "the server's host key was not checked"),
    };
    let user = get(doc, "username");
    let result = if !get(doc, "private_key").is_empty() {
        let pass = Some(get(doc, "passphrase")).filter(|p| !p.is_empty());
        let key = match russh::keys::decode_secret_key(get(doc, "private_key"), pass) {
            Ok(k) => k,
            Err(e) => {
                return Outcome::fail(Class::Config, format!("cannot read the private key: {e}"))
            }
        };
        let hash = session
            .best_supported_rsa_hash()
            .await
            .ok()
            .flatten()
            .flatten();
        session
            .authenticate_publickey(
                user,
                russh::keys::PrivateKeyWithHashAlg::new(Arc::new(key), hash),
            )
            .await
    } else {
        session
            .authenticate_password(user, get(doc, "password"))
            .await
    };
    let mut outcome = match result {
        Ok(r) if r.success() => {
            let subsystem = async {
                let channel = session.channel_open_session().await?;
                channel.request_subsystem(true, "sftp").await?;
                let _ = channel.close().await;
                Ok::<_, russh::Error>(())
            }
            .await;
            match subsystem {
                Ok(()) => Outcome::ok(format!(
                    "authenticated; SFTP subsystem available; host key {fingerprint}"
                )),
                Err(e) => Outcome::fail(
                    Class::Permission,
                    format!(
                        "authenticated, but no SFTP subsystem: {}",
                        crate::net::chain(&e)
                    ),
                ),
            }
        }
        Ok(_) => Outcome::fail(Class::Auth, "the server rejected the credentials"),
        Err(e) => Outcome::fail(Class::Protocol, crate::net::chain(&e)),
    };
    let _ = session
        .disconnect(russh::Disconnect::ByApplication, "", "en")
        .await;
    outcome.identity = Some(ServerIdentity::Verified);
    if !pinned_already {
        outcome.host_key_to_pin = Some(fingerprint);
    }
    outcome
}
