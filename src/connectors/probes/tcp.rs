//! Reachability only, for protocols without a native probe: no credential
//! is sent.

use super::{connect_tcp, get, port};
use crate::connectors::Outcome;
use crate::model::ConfigDoc;

pub async fn probe(doc: &ConfigDoc) -> Outcome {
    match connect_tcp(get(doc, "host"), port(doc, 0)).await {
        Ok(s) => Outcome::ok(format!(
            "{} reachable; credentials not verified (no native probe for this protocol yet)",
            s.peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_else(|_| get(doc, "host").to_string())
        )),
        Err(o) => o,
    }
}
