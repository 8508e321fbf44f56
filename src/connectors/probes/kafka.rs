//! Kafka on rskafka: metadata request after SASL (PLAIN, SCRAM-SHA-256,
//! SCRAM-SHA-512) and/or TLS as `security_protocol` says. TLS is verified
//! against the system store or `tls_ca` (client certificate from
//! `tls_cert`/`tls_key`). SASL PLAIN hands the password over, so it is used
//! only inside TLS unless the config opts in; SCRAM reveals nothing and is
//! fine on any connection.

use super::{connect_tcp, flag, get, typed_failure, verified_tls};
use crate::connectors::{Class, Outcome};
use crate::model::ConfigDoc;
use crate::net::ServerIdentity;

pub async fn probe(doc: &ConfigDoc) -> Outcome {
    use rskafka::client::{ClientBuilder, Credentials, SaslConfig};
    let brokers: Vec<String> = get(doc, "bootstrap_servers")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let proto = get(doc, "security_protocol");
    let (sasl, tls) = match proto {
        "PLAINTEXT" => (false, false),
        "SSL" => (false, true),
        "SASL_PLAINTEXT" => (true, false),
        "SASL_SSL" | "" => (true, true),
        other => return Outcome::fail(Class::Config, format!("unknown security_protocol {other}")),
    };
    let mechanism = get(doc, "sasl_mechanism");
    if sasl && !tls && matches!(mechanism, "PLAIN" | "") && !flag(doc, "allow_cleartext_password") {
        return Outcome::fail(
            Class::PlaintextRefused,
            "SASL PLAIN without TLS would send the password in the clear; nothing was sent",
        );
    }
    // rskafka retries unreachable brokers with backoff; reach one first so a
    // dead cluster is reported as such (typed) instead of as a timeout.
    let mut reach = Err(Outcome::fail(Class::Config, "no bootstrap servers"));
    for b in &brokers {
        let Some((host, port)) = b.rsplit_once(':') else {
            return Outcome::fail(Class::Config, format!("{b}: expected host:port"));
        };
        let Ok(port) = port.parse::<u16>() else {
            return Outcome::fail(Class::Config, format!("{b}: bad port"));
        };
        reach = connect_tcp(host.trim_start_matches('[').trim_end_matches(']'), port)
            .await
            .map(drop);
        if reach.is_ok() {
            break;
        }
    }
    if let Err(o) = reach {
        return o;
    }
    // One attempt: rskafka would retry a refused login forever.
    let mut builder = ClientBuilder::new(brokers).backoff_config(rskafka::BackoffConfig {
        init_backoff: std::time::Duration::from_millis(100),
        max_backoff: std::time::Duration::from_secs(1),
        base: 2.0,
        deadline: Some(std::time::Duration::ZERO),
    });
    if sasl {
        let creds = Credentials::new(
            get(doc, "username").to_string(),
            get(doc, "password").to_string(),
        );
        builder = builder.sasl_config(match mechanism {
            "SCRAM-SHA-256" => SaslConfig::ScramSha256(creds),
            "SCRAM-SHA-512" => SaslConfig::ScramSha512(creds),
            _ => SaslConfig::Plain(creds),
        });
    }
    let t = if tls {
        match verified_tls(doc) {
            Ok(t) => {
                builder = builder.tls_config(t.config.clone());
                Some(t)
            }
            Err(o) => return o,
        }
    } else {
        None
    };
    let identity = || match &t {
        Some(t) => t.identity().unwrap_or(ServerIdentity::Verified),
        None => ServerIdentity::Plaintext,
    };
    match builder.build().await {
        Ok(client) => match client.list_topics().await {
            Ok(topics) => Outcome::ok(format!(
                "{}metadata ok: {} topics",
                if sasl {
                    format!(
                        "SASL {} accepted; ",
                        if mechanism.is_empty() {
                            "PLAIN"
                        } else {
                            mechanism
                        }
                    )
                } else {
                    String::new()
                },
                topics.len()
            ))
            .with_identity(identity()),
            Err(e) => failure(&e, t.as_ref()),
        },
        Err(e) => failure(&e, t.as_ref()),
    }
}

/// rskafka folds the errors of a connection attempt into a private
/// `MultiError` that only displays them. The markers are taken from
/// rskafka's own typed errors' Display, not written here, so a change of
/// wording there cannot silently misclassify a failed login.
fn sasl_markers() -> (String, String) {
    let unsupported = rskafka::SaslError::UnsupportedSaslMechanism;
    let inner = unsupported.to_string();
    let outer = rskafka::ConnectionError::SaslFailed(rskafka::SaslError::UnsupportedSaslMechanism)
        .to_string();
    let prefix = outer.strip_suffix(&inner).unwrap_or(&outer).to_string();
    (prefix, inner)
}

fn failure(e: &rskafka::client::error::Error, tls: Option<&crate::net::Tls>) -> Outcome {
    use rskafka::client::error::Error as E;
    use rskafka::ConnectionError as C;
    if let Some(f) = tls.and_then(|t| t.failure()) {
        return Outcome::tls(&f);
    }
    let text = crate::net::chain(e);
    let (sasl_failed, unsupported) = sasl_markers();
    if let E::Connection(C::RetryFailed(_)) = e {
        if text.contains(&format!("{sasl_failed}{unsupported}")) {
            return Outcome::fail(
                Class::Config,
                format!("{text}: the broker does not offer this SASL mechanism"),
            );
        }
        if text.contains(&sasl_failed) {
            return Outcome::fail(Class::Auth, text);
        }
    }
    match e {
        E::Connection(C::SaslFailed(rskafka::SaslError::ApiError(_))) => {
            Outcome::fail(Class::Auth, text)
        }
        E::Connection(C::SaslFailed(rskafka::SaslError::UnsupportedSaslMechanism)) => {
            Outcome::fail(
                Class::Config,
                format!("{text}: the broker does not offer this SASL mechanism"),
            )
        }
        E::Connection(C::SaslFailed(_)) => Outcome::fail(Class::Auth, text),
        E::Connection(C::Transport { error, .. }) => {
            typed_failure(error, tls).unwrap_or_else(|| Outcome::fail(Class::Protocol, text))
        }
        _ => typed_failure(e, tls).unwrap_or_else(|| Outcome::fail(Class::Protocol, text)),
    }
}
