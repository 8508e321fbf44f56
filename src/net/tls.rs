//! TLS client configuration for every protocol authcfg speaks: the server
//! is verified against the system trust store, or against the config's own
//! CA file when it names one (libpq's `sslrootcert` rule: that file only);
//! a client certificate is presented where the config has one.
//!
//! Each `Tls` carries a recorder: its certificate verifier notes what it saw
//! (verified, verified without the name, not verified, or the typed rustls
//! failure), so a probe can classify a handshake failure even when the
//! client library in between turned the error into text, and can say
//! whether the server's identity was verified.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    AlertDescription, CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore,
    SignatureScheme,
};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Chain to a trusted root and the host name (libpq verify-full).
    Full,
    /// Chain to a trusted root; any name (libpq verify-ca).
    CaOnly,
    /// Encryption only: any certificate (libpq require). The server's
    /// identity is not verified.
    Nothing,
}

#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Trust only the CAs in this PEM file instead of the system store.
    pub ca_file: Option<PathBuf>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

impl TlsOptions {
    /// From a config's field values (empty means unset).
    pub fn from_fields(ca: Option<&str>, cert: Option<&str>, key: Option<&str>) -> TlsOptions {
        let path = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(PathBuf::from);
        TlsOptions {
            ca_file: path(ca),
            client_cert: path(cert),
            client_key: path(key),
        }
    }
}

/// What a probe can say about whom it talked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerIdentity {
    /// TLS; certificate chain and host name verified.
    Verified,
    /// TLS; certificate chain verified, host name not checked (verify-ca).
    CaOnly,
    /// TLS without any certificate check.
    Unverified,
    /// No TLS at all.
    Plaintext,
}

impl ServerIdentity {
    pub fn verified(self) -> bool {
        self == ServerIdentity::Verified
    }

    /// A plain sentence for `test`'s output.
    pub fn describe(self) -> &'static str {
        match self {
            ServerIdentity::Verified => "server identity verified (TLS certificate and host name)",
            ServerIdentity::CaOnly => {
                "server certificate chain verified, host name NOT checked (verify-ca)"
            }
            ServerIdentity::Unverified => {
                "server identity NOT verified (TLS without certificate check)"
            }
            ServerIdentity::Plaintext => "server identity NOT verified (no TLS)",
        }
    }
}

/// Why a TLS connection was refused or failed, from rustls' typed errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsFailure {
    /// The chain does not lead to a trusted CA (self-signed, unknown CA,
    /// bad signature).
    NotTrusted,
    /// A trusted certificate for another name.
    NameMismatch {
        expected: String,
        presented: Vec<String>,
    },
    Expired,
    NotYetValid,
    Revoked,
    /// The certificate may not be used by a TLS server.
    WrongPurpose,
    /// The server wants a client certificate and none was configured.
    ClientCertRequired,
    /// The server refused the client certificate.
    ClientCertRejected,
    /// The server does not offer TLS where the config requires it.
    NotOffered,
    /// The CA file or client certificate/key could not be used.
    Config(String),
    /// Any other handshake failure.
    Handshake(String),
}

impl std::fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsFailure::NotTrusted => {
                f.write_str("the server's certificate is not signed by a trusted CA")
            }
            TlsFailure::NameMismatch {
                expected,
                presented,
            } => write!(
                f,
                "the server's certificate is for {}, not {expected}",
                if presented.is_empty() {
                    "other names".to_string()
                } else {
                    presented.join(", ")
                }
            ),
            TlsFailure::Expired => f.write_str("the server's certificate has expired"),
            TlsFailure::NotYetValid => f.write_str("the server's certificate is not valid yet"),
            TlsFailure::Revoked => f.write_str("the server's certificate is revoked"),
            TlsFailure::WrongPurpose => {
                f.write_str("the server's certificate is not meant for TLS servers")
            }
            TlsFailure::ClientCertRequired => {
                f.write_str("the server asks for a client certificate")
            }
            TlsFailure::ClientCertRejected => {
                f.write_str("the server refused the client certificate")
            }
            TlsFailure::NotOffered => f.write_str("the server does not offer TLS"),
            TlsFailure::Config(m) => f.write_str(m),
            TlsFailure::Handshake(m) => write!(f, "TLS handshake failed: {m}"),
        }
    }
}

impl std::error::Error for TlsFailure {}

impl TlsFailure {
    pub fn from_rustls(e: &rustls::Error) -> TlsFailure {
        match e {
            rustls::Error::InvalidCertificate(c) => match c {
                CertificateError::NotValidForNameContext {
                    expected,
                    presented,
                } => TlsFailure::NameMismatch {
                    expected: server_name_text(expected),
                    presented: presented.iter().map(|p| presented_name(p)).collect(),
                },
                CertificateError::NotValidForName => TlsFailure::NameMismatch {
                    expected: String::new(),
                    presented: vec![],
                },
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    TlsFailure::Expired
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    TlsFailure::NotYetValid
                }
                CertificateError::Revoked => TlsFailure::Revoked,
                CertificateError::InvalidPurpose
                | CertificateError::InvalidPurposeContext { .. } => TlsFailure::WrongPurpose,
                CertificateError::UnknownIssuer
                | CertificateError::BadSignature
                | CertificateError::BadEncoding => TlsFailure::NotTrusted,
                other => TlsFailure::Handshake(format!("{other:?}")),
            },
            rustls::Error::AlertReceived(AlertDescription::CertificateRequired) => {
                TlsFailure::ClientCertRequired
            }
            rustls::Error::AlertReceived(
                AlertDescription::BadCertificate
                | AlertDescription::UnknownCA
                | AlertDescription::CertificateUnknown
                | AlertDescription::UnsupportedCertificate
                | AlertDescription::CertificateExpired
                | AlertDescription::CertificateRevoked
                | AlertDescription::AccessDenied,
            ) => TlsFailure::ClientCertRejected,
            rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
                TlsFailure::NotOffered
            }
            other => TlsFailure::Handshake(other.to_string()),
        }
    }

    /// The rustls error anywhere in an error's chain, looking inside
    /// `io::Error`s too (tokio-rustls wraps them so).
    pub fn find_in(e: &(dyn std::error::Error + 'static)) -> Option<TlsFailure> {
        let mut cur = Some(e);
        while let Some(err) = cur {
            if let Some(r) = err.downcast_ref::<rustls::Error>() {
                return Some(TlsFailure::from_rustls(r));
            }
            if let Some(t) = err.downcast_ref::<TlsFailure>() {
                return Some(t.clone());
            }
            if let Some(io) = err.downcast_ref::<std::io::Error>() {
                if let Some(inner) = io.get_ref() {
                    if let Some(found) = TlsFailure::find_in(inner) {
                        return Some(found);
                    }
                }
            }
            cur = err.source();
        }
        None
    }
}

/// rustls gives the certificate's names in their Debug form
/// (`DnsName("db.example")`, `IpAddress(V4(..))`): the name itself.
fn presented_name(p: &str) -> String {
    if let Some(inner) = p
        .strip_prefix("DnsName(\"")
        .and_then(|r| r.strip_suffix("\")"))
    {
        return inner.to_string();
    }
    if let Some(ip) = p
        .strip_prefix("IpAddress(")
        .and_then(|r| r.strip_suffix(')'))
    {
        let digits: Vec<&str> = ip
            .split(|c: char| !c.is_ascii_digit())
            .filter(|d| !d.is_empty())
            .collect();
        if ip.starts_with("V4") && digits.len() == 4 {
            return digits.join(".");
        }
    }
    p.to_string()
}

fn server_name_text(n: &ServerName<'_>) -> String {
    match n {
        ServerName::DnsName(d) => d.as_ref().to_string(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        _ => "the host".to_string(),
    }
}

/// What the verifier saw on the last handshake.
#[derive(Debug, Default)]
pub struct Seen(Mutex<Option<Result<ServerIdentity, TlsFailure>>>);

impl Seen {
    fn set(&self, v: Result<ServerIdentity, TlsFailure>) {
        if let Ok(mut g) = self.0.lock() {
            *g = Some(v);
        }
    }
    /// None: no certificate was ever presented (no TLS handshake got that far).
    pub fn get(&self) -> Option<Result<ServerIdentity, TlsFailure>> {
        self.0.lock().ok().and_then(|g| g.clone())
    }
    pub fn failure(&self) -> Option<TlsFailure> {
        self.get().and_then(Result::err)
    }
    pub fn identity(&self) -> Option<ServerIdentity> {
        self.get().and_then(Result::ok)
    }
}

/// A client config plus what its verifier records.
#[derive(Clone)]
pub struct Tls {
    pub config: Arc<ClientConfig>,
    pub seen: Arc<Seen>,
    pub verify: Verify,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").field("verify", &self.verify).finish()
    }
}

pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    static P: OnceLock<Arc<rustls::crypto::CryptoProvider>> = OnceLock::new();
    P.get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// The system's trust store (OpenSSL's locations, or SSL_CERT_FILE /
/// SSL_CERT_DIR as rustls-native-certs reads them), loaded once. Falls back
/// to the Mozilla roots built into webpki-roots when the system has none.
pub fn system_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut store = RootCertStore::empty();
            let found = rustls_native_certs::load_native_certs();
            let (_added, _ignored) = store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            Arc::new(store)
        })
        .clone()
}

fn read_ca_file(path: &Path) -> Result<Arc<RootCertStore>, TlsFailure> {
    let shown = path.display();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .map_err(|e| TlsFailure::Config(format!("cannot read the CA file {shown}: {e}")))?
        .collect::<Result<_, _>>()
        .map_err(|e| TlsFailure::Config(format!("cannot read the CA file {shown}: {e}")))?;
    if certs.is_empty() {
        return Err(TlsFailure::Config(format!(
            "the CA file {shown} holds no PEM certificate"
        )));
    }
    let mut store = RootCertStore::empty();
    for c in certs {
        store
            .add(c)
            .map_err(|e| TlsFailure::Config(format!("the CA file {shown}: {e}")))?;
    }
    Ok(Arc::new(store))
}

type ClientAuth = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn read_client_auth(opts: &TlsOptions) -> Result<Option<ClientAuth>, TlsFailure> {
    match (&opts.client_cert, &opts.client_key) {
        (None, None) => Ok(None),
        (Some(_), None) | (None, Some(_)) => Err(TlsFailure::Config(
            "a client certificate needs both its certificate file and its key file".into(),
        )),
        (Some(cert), Some(key)) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                .and_then(|it| it.collect::<Result<_, _>>())
                .map_err(|e| {
                    TlsFailure::Config(format!(
                        "cannot read the client certificate {}: {e}",
                        cert.display()
                    ))
                })?;
            if certs.is_empty() {
                return Err(TlsFailure::Config(format!(
                    "the client certificate file {} holds no PEM certificate",
                    cert.display()
                )));
            }
            // The key's own bytes never appear in the message.
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                TlsFailure::Config(format!(
                    "cannot read the client key {}: {}",
                    key.display(),
                    match e {
                        rustls::pki_types::pem::Error::Io(io) => io.to_string(),
                        rustls::pki_types::pem::Error::NoItemsFound =>
                            "no PEM private key in it".into(),
                        _ => "not a PEM private key".into(),
                    }
                ))
            })?;
            Ok(Some((certs, key)))
        }
    }
}

impl Tls {
    /// A client config that verifies as `verify` says, with the options'
    /// CA file (or the system store) and client certificate.
    pub fn new(verify: Verify, opts: &TlsOptions) -> Result<Tls, TlsFailure> {
        let roots = match &opts.ca_file {
            Some(p) => read_ca_file(p)?,
            None => system_roots(),
        };
        let inner = WebPkiServerVerifier::builder_with_provider(roots, provider())
            .build()
            .map_err(|e| {
                TlsFailure::Config(format!("cannot build the certificate verifier: {e}"))
            })?;
        let seen = Arc::new(Seen::default());
        let verifier = Arc::new(Recording {
            inner,
            verify,
            seen: seen.clone(),
        });
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsFailure::Config(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let config = match read_client_auth(opts)? {
            Some((certs, key)) => builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| TlsFailure::Config(format!("the client certificate: {e}")))?,
            None => builder.with_no_client_auth(),
        };
        Ok(Tls {
            config: Arc::new(config),
            seen,
            verify,
        })
    }

    /// For plain-http requests to loopback: no trust store is read (a
    /// command start-up pays nothing for TLS it will not use), and any
    /// TLS handshake made with it fails, as no root is trusted.
    pub fn no_roots() -> Tls {
        let config = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("the ring provider supports the default versions")
            .with_root_certificates(RootCertStore::empty())
            .with_no_client_auth();
        Tls {
            config: Arc::new(config),
            seen: Arc::new(Seen::default()),
            verify: Verify::Full,
        }
    }

    /// Verified against the system store, no client certificate.
    pub fn system() -> Tls {
        Tls::new(Verify::Full, &TlsOptions::default())
            .expect("the system trust store needs no file")
    }

    /// What the last handshake established, if it got as far as a
    /// certificate.
    pub fn identity(&self) -> Option<ServerIdentity> {
        self.seen.identity()
    }

    /// The recorded verification failure, if the last handshake had one.
    pub fn failure(&self) -> Option<TlsFailure> {
        self.seen.failure()
    }

    /// The server name rustls checks for `host` (an IP address or a DNS name).
    pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsFailure> {
        let h = host.trim_start_matches('[').trim_end_matches(']');
        ServerName::try_from(h.to_string())
            .map_err(|_| TlsFailure::Config(format!("'{host}' is not a valid TLS server name")))
    }

    /// A TLS stream over `tcp` to `host`: for protocols whose client crate
    /// takes a ready stream.
    pub async fn connect<S>(
        &self,
        host: &str,
        tcp: S,
    ) -> Result<tokio_rustls::client::TlsStream<S>, TlsFailure>
    where
        S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    {
        let name = Tls::server_name(host)?;
        tokio_rustls::TlsConnector::from(self.config.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| {
                self.failure()
                    .or_else(|| TlsFailure::find_in(&e))
                    .unwrap_or_else(|| TlsFailure::Handshake(e.to_string()))
            })
    }
}

/// rustls' WebPKI verifier, with the verify-ca and require relaxations and
/// a record of the outcome.
#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    verify: Verify,
    seen: Arc<Seen>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.verify == Verify::Nothing {
            self.seen.set(Ok(ServerIdentity::Unverified));
            return Ok(ServerCertVerified::assertion());
        }
        match self
            .inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Ok(v) => {
                self.seen.set(Ok(ServerIdentity::Verified));
                Ok(v)
            }
            // WebPKI checks the chain before the name: a name mismatch
            // means the chain is trusted, which is all verify-ca asks.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.verify == Verify::CaOnly => {
                self.seen.set(Ok(ServerIdentity::CaOnly));
                Ok(ServerCertVerified::assertion())
            }
            Err(e) => {
                self.seen.set(Err(TlsFailure::from_rustls(&e)));
                Err(e)
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
