//! A certificate authority made for one test run (rcgen), server and client
//! certificates it signs, and certificates it does not (self-signed, or
//! from another CA), written as PEM files for the peers and for authcfg.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use std::path::{Path, PathBuf};
use tempfile::TempDir;

pub struct Pki {
    pub dir: TempDir,
    /// The CA certificate (PEM): what a config's CA file names.
    pub ca: PathBuf,
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, as files.
#[derive(Clone)]
pub struct Pair {
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn write(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode)).unwrap();
}

fn name(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

impl Pki {
    pub fn new(label: &str) -> Pki {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name =
            name(&format!("authcfg test CA {label} {}", std::process::id()));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let ca = dir.path().join("ca.pem");
        write(&ca, &issuer.pem(), 0o644);
        Pki { dir, ca, issuer }
    }

    fn leaf(&self, file: &str, names: &[&str], client: bool, signed: bool) -> Pair {
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name = name(names.first().copied().unwrap_or("client"));
        params.extended_key_usages = vec![if client {
            ExtendedKeyUsagePurpose::ClientAuth
        } else {
            ExtendedKeyUsagePurpose::ServerAuth
        }];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().unwrap();
        let cert = if signed {
            params.signed_by(&key, &*self.issuer).unwrap()
        } else {
            params.self_signed(&key).unwrap()
        };
        let pair = Pair {
            cert: self.dir.path().join(format!("{file}.crt")),
            key: self.dir.path().join(format!("{file}.key")),
        };
        write(&pair.cert, &cert.pem(), 0o644);
        write(&pair.key, &key.serialize_pem(), 0o600);
        pair
    }

    /// A server certificate from this CA for `names` (DNS names or IPs).
    pub fn server(&self, file: &str, names: &[&str]) -> Pair {
        self.leaf(file, names, false, true)
    }

    /// A self-signed server certificate (no CA vouches for it).
    pub fn self_signed(&self, file: &str, names: &[&str]) -> Pair {
        self.leaf(file, names, false, false)
    }

    /// A client certificate from this CA.
    pub fn client(&self, file: &str, cn: &str) -> Pair {
        self.leaf(file, &[cn], true, true)
    }
}

/// The path as a `--set` value.
pub fn s(p: &Path) -> String {
    p.display().to_string()
}
