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

/// Where a key that came from a key custody (a key service or an age
/// plugin's custody) keeps its pin: outside the store, in this user's state
/// directory (`$XDG_STATE_HOME/authcfg/custody-pins/`), one private file
/// per store path, service and key. Such an identity is chosen by the
/// unverified header (its `sealed` field), and whoever may encrypt to the
/// service's key (anyone, for a plugin recipient) can seal one they know,
/// for a store of their own with pins they MAC'd themselves; so its pins
/// cannot live in the store directory (docs/SECURITY.md, "Key services").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustodyPin {
    path: std::path::PathBuf,
}

#[derive(Serialize, Deserialize)]
struct CustodyPinFile {
    store: String,
    service: String,
    key: String,
    admin_key: String,
}

impl CustodyPin {
    /// The pin of the store at `root` for the custody `service:key`, if
    /// there is a state directory.
    pub fn new(state_dir: &Path, root: &Path, service: &str, key: &str) -> CustodyPin {
        use sha2::{Digest, Sha256};
        let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        let mut h = Sha256::new();
        for part in [
            root.as_os_str().as_encoded_bytes(),
            service.as_bytes(),
            key.as_bytes(),
        ] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
        CustodyPin {
            path: state_dir
                .join("custody-pins")
                .join(hex::encode(&h.finalize()[..16])),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The admin key pinned for this store and custody, if any.
    pub fn read(&self) -> Option<AdminPub> {
        let bytes = fsutil::read_private(&self.path).ok()??;
        let f: CustodyPinFile = serde_json::from_slice(&bytes).ok()?;
        AdminPub::parse(&f.admin_key)
    }

    /// Pins `admin` (replacing an earlier pin); `store_id`, service and key
    /// are recorded for whoever reads the file.
    pub fn write(
        &self,
        store_id: &str,
        service: &str,
        key: &str,
        admin: &AdminPub,
    ) -> std::io::Result<()> {
        let dir = self.path.parent().expect("custody-pins dir");
        fsutil::ensure_private_dir(dir.parent().expect("state dir"))?;
        fsutil::ensure_private_dir(dir)?;
        let json = serde_json::to_vec_pretty(&CustodyPinFile {
            store: store_id.to_string(),
            service: service.to_string(),
            key: key.to_string(),
            admin_key: admin.encode(),
        })
        .map_err(std::io::Error::other)?;
        fsutil::write_atomic_via(dir, &self.path, &json, false)
    }
}
