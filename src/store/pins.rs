//! Members' pins of the admin key. A member (a recipient other than the
//! master key) cannot derive the admin key, so it verifies the header with
//! the admin key's public half that it pinned when it joined (`authcfg trust
//! FINGERPRINT`, `AUTHCFG_TRUST_ADMIN`, or a confirmation at a terminal).
//! Each pin is MAC'd with a key derived from the member's own identity, so
//! a pin can live in the store directory: whoever writes that directory
//! without the member's key cannot plant or change one
//! (docs/SECURITY.md, "Members").

use super::crypto::{self, AdminPub};
use super::fsutil;
use age::x25519;
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const PINS_FILE: &str = "pins.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pin {
    member: String,
    admin_key: String,
    mac: String,
}

fn pin_mac(id: &x25519::Identity, store_id: &str, admin: &str) -> String {
    let k = crypto::identity_key(id, "admin pin");
    hex::encode(crypto::mac(
        &k,
        &[b"authcfg pin", store_id.as_bytes(), admin.as_bytes()],
    ))
}

fn read(root: &Path) -> Vec<Pin> {
    fsutil::read_private(&root.join(PINS_FILE))
        .ok()
        .flatten()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// The admin key this member pinned for this store, if its pin is authentic.
pub fn pinned(root: &Path, store_id: &str, id: &x25519::Identity) -> Option<AdminPub> {
    let me = id.to_public().to_string();
    read(root)
        .into_iter()
        .filter(|p| p.member == me)
        .find(|p| crypto::mac_ok_hex(&pin_mac(id, store_id, &p.admin_key), &p.mac))
        .and_then(|p| AdminPub::parse(&p.admin_key))
}

/// Pins `admin` for this member (replacing its earlier pin).
pub fn pin(
    root: &Path,
    store_id: &str,
    id: &x25519::Identity,
    admin: &AdminPub,
) -> std::io::Result<()> {
    let me = id.to_public().to_string();
    let mut pins: Vec<Pin> = read(root).into_iter().filter(|p| p.member != me).collect();
    let admin_key = admin.encode();
    pins.push(Pin {
        mac: pin_mac(id, store_id, &admin_key),
        member: me,
        admin_key,
    });
    let json = serde_json::to_vec_pretty(&pins).map_err(std::io::Error::other)?;
    fsutil::write_atomic_via(&root.join("tmp"), &root.join(PINS_FILE), &json, true)
}
