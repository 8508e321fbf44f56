//! Impostor servers on 127.0.0.1 that ask for the password in a form they
//! can read, and record every byte they receive: a PostgreSQL "server" with
//! a self-signed certificate for attacker.invalid that asks for the
//! cleartext password (the report in the issue), one that asks for MD5
//! without TLS, and a MySQL "server" that asks for caching_sha2's full
//! authentication or switches to mysql_clear_password. authcfg refuses and
//! the recordings hold no password; where the config opts in, the same
//! impostor does record the password, which shows the recording works.

use crate::support::pki::{s, Pki};
use crate::support::*;
use crate::tls_postgres::{add, passed, refused};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// Everything one connection sent after the impostor's request, and a
/// signal when the client has gone.
struct Impostor {
    port: u16,
    received: Arc<Mutex<Vec<u8>>>,
    done: mpsc::Receiver<()>,
}

impl Impostor {
    fn spawn(serve: impl Fn(TcpStream, &Mutex<Vec<u8>>) + Send + 'static) -> Impostor {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let received: Arc<Mutex<Vec<u8>>> = Default::default();
        let r2 = received.clone();
        let (tx, done) = mpsc::channel();
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                serve(s, &r2);
                let _ = tx.send(());
            }
        });
        Impostor {
            port,
            received,
            done,
        }
    }

    /// What the client sent after the request, once it hung up.
    fn recording(&self) -> Vec<u8> {
        self.done
            .recv_timeout(Duration::from_secs(20))
            .expect("the client never hung up");
        self.received.lock().unwrap().clone()
    }
}

fn read_rest(mut s: impl Read, into: &Mutex<Vec<u8>>) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        into.lock().unwrap().extend_from_slice(&buf[..n]);
    }
}

fn tls_server(pair: &crate::support::pki::Pair) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&pair.cert)
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(&pair.key).unwrap();
    Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap(),
    )
}

/// A PostgreSQL impostor: TLS with `tls` when the client asks for it, then
/// an authentication request of `method` (3 cleartext, 5 MD5).
fn pg_impostor(tls: Option<Arc<rustls::ServerConfig>>, method: u32) -> Impostor {
    Impostor::spawn(move |mut s, rec| {
        let mut first = [0u8; 8];
        if s.read_exact(&mut first).is_err() {
            return;
        }
        let ssl_request = u32::from_be_bytes([first[4], first[5], first[6], first[7]]) == 80877103;
        let mut request = vec![b'R'];
        let body: Vec<u8> = if method == 5 {
            [5u32.to_be_bytes().as_slice(), b"salt"].concat()
        } else {
            method.to_be_bytes().to_vec()
        };
        request.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
        request.extend_from_slice(&body);
        let startup = |mut io: &mut dyn ReadWrite, already: &[u8]| {
            // The startup message: length, then its body.
            let mut len = [0u8; 4];
            let mut have = already.to_vec();
            if have.len() < 4 {
                io.read_exact(&mut len).unwrap_or_default();
                have.extend_from_slice(&len);
            }
            let n = u32::from_be_bytes([have[0], have[1], have[2], have[3]]) as usize;
            let mut rest = vec![0u8; n.saturating_sub(have.len())];
            let _ = io.read_exact(&mut rest);
            let _ = io.write_all(&request);
            let _ = io.flush();
            read_rest(&mut io, rec);
        };
        match (ssl_request, &tls) {
            (true, Some(cfg)) => {
                s.write_all(b"S").unwrap();
                let conn = rustls::ServerConnection::new(cfg.clone()).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, s);
                startup(&mut tls, &[]);
            }
            (true, None) => {
                s.write_all(b"N").unwrap();
                startup(&mut s, &[]);
            }
            (false, _) => startup(&mut s, &first),
        }
    })
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn pg_sets(port: u16, extra: &[&str]) -> Vec<String> {
    let mut v = vec![
        "host=127.0.0.1".to_string(),
        format!("port={port}"),
        "database=postgres".into(),
        "username=app".into(),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

const CLEARTEXT: &str = "server asked for a cleartext password over an unverified connection";

/// `add` against `imp` with `extra` settings must fail with `label`; what
/// the impostor recorded.
fn refused_by(t: &T, imp: Impostor, extra: &[&str], label: &str, pw: &str) -> Vec<u8> {
    let o = add(
        t,
        "postgres",
        "prod",
        &pg_sets(imp.port, extra),
        Some(("password", pw)),
    );
    refused(t, &o, "prod", label);
    let got = imp.recording();
    assert!(!contains(&got, pw), "the impostor received the password");
    got
}

#[test]
fn postgres_impostor_asking_for_the_cleartext_password_gets_nothing() {
    let t = T::new();
    t.init();
    let pki = Pki::new("impostor");
    let fake = tls_server(&pki.self_signed("attacker", &["attacker.invalid"]));
    let pw = "Pg-Prod-Pa55word!";

    // The report: sslmode=require, self-signed certificate,
    // cleartext request. Refused; the recording has no password message.
    let imp = pg_impostor(Some(fake.clone()), 3);
    let got = refused_by(&t, imp, &["sslmode=require"], CLEARTEXT, pw);
    assert!(!got.contains(&b'p'), "a PasswordMessage was sent: {got:?}");

    // verify-full, the default for a host that is not loopback: the
    // self-signed certificate is refused before authentication starts, with
    // the system store and with the run's CA (which did not sign it).
    let imp = pg_impostor(Some(fake.clone()), 3);
    refused_by(
        &t,
        imp,
        &["sslmode=verify-full"],
        "TLS: certificate not trusted",
        pw,
    );
    let ca = format!("sslrootcert={}", s(&pki.ca));
    let imp = pg_impostor(Some(fake.clone()), 3);
    refused_by(
        &t,
        imp,
        &["sslmode=verify-full", &ca],
        "TLS: certificate not trusted",
        pw,
    );

    // MD5 without TLS: the hash would do as the password.
    let imp = pg_impostor(None, 5);
    let got = refused_by(&t, imp, &["sslmode=disable"], CLEARTEXT, pw);
    assert!(!got.contains(&b'p'), "an MD5 answer was sent: {got:?}");

    // prefer on loopback (the local default) is no excuse either.
    let imp = pg_impostor(Some(fake.clone()), 3);
    refused_by(&t, imp, &[], CLEARTEXT, pw);

    // Opting in hands the password over: the recording sees it, so the
    // refusals above are not an artefact of the impostor.
    let imp = pg_impostor(Some(fake), 3);
    let extra = ["sslmode=require", "require_auth=password"];
    let o = add(
        &t,
        "postgres",
        "prod",
        &pg_sets(imp.port, &extra),
        Some(("password", pw)),
    );
    assert_eq!(
        o.status.code(),
        Some(4),
        "the impostor never completes a login"
    );
    assert!(
        contains(&imp.recording(), pw),
        "the opt-in sent the password"
    );
}

/// A MySQL impostor: a greeting that names caching_sha2_password without
/// TLS, then (after the client's first answer) `then`.
fn mysql_impostor(then: &'static [u8]) -> Impostor {
    Impostor::spawn(move |mut s, rec| {
        let caps: u32 = 0x0000_0001
            | 0x0000_0008
            | 0x0000_0200
            | 0x0000_2000
            | 0x0000_8000
            | 0x0002_0000
            | 0x0008_0000
            | 0x0020_0000;
        let mut g = vec![0x0a];
        g.extend_from_slice(b"8.0.36-impostor\0");
        g.extend_from_slice(&1u32.to_le_bytes());
        g.extend_from_slice(b"abcdefgh\0");
        g.extend_from_slice(&(caps as u16).to_le_bytes());
        g.push(0x21);
        g.extend_from_slice(&2u16.to_le_bytes());
        g.extend_from_slice(&((caps >> 16) as u16).to_le_bytes());
        g.push(21);
        g.extend_from_slice(&[0u8; 10]);
        g.extend_from_slice(b"ijklmnopqrst\0");
        g.extend_from_slice(b"caching_sha2_password\0");
        let packet = |payload: &[u8], seq: u8| {
            let mut p = (payload.len() as u32).to_le_bytes()[..3].to_vec();
            p.push(seq);
            p.extend_from_slice(payload);
            p
        };
        s.write_all(&packet(&g, 0)).unwrap();
        // The client's handshake response.
        let mut head = [0u8; 4];
        if s.read_exact(&mut head).is_err() {
            return;
        }
        let n = u32::from_le_bytes([head[0], head[1], head[2], 0]) as usize;
        let mut body = vec![0u8; n];
        let _ = s.read_exact(&mut body);
        s.write_all(&packet(then, head[3] + 1)).unwrap();
        read_rest(&mut s, rec);
    })
}

#[test]
fn mysql_impostor_asking_for_the_password_itself_gets_nothing() {
    let t = T::new();
    t.init();
    let pw = "My-Prod-Pa55word!";
    let sets = |port: u16, extra: &[&str]| {
        let mut v = vec![
            "host=127.0.0.1".to_string(),
            format!("port={port}"),
            "database=app".into(),
            "username=app".into(),
            "sslmode=disable".into(),
        ];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    // caching_sha2_password "perform full authentication": the client
    // would send the password (or ask the impostor for an RSA key to
    // encrypt it to).
    let imp = mysql_impostor(&[0x01, 0x04]);
    let o = add(
        &t,
        "mysql",
        "db",
        &sets(imp.port, &[]),
        Some(("password", pw)),
    );
    refused(
        &t,
        &o,
        "db",
        "server asked for a cleartext password over an unverified connection",
    );
    let got = imp.recording();
    assert!(!contains(&got, pw), "the impostor received the password");
    assert!(
        got.len() <= 5,
        "nothing after the request but a COM_QUIT at most: {got:?}"
    );

    // A switch to mysql_clear_password.
    let imp = mysql_impostor(b"\xfemysql_clear_password\0");
    let o = add(
        &t,
        "mysql",
        "db",
        &sets(imp.port, &[]),
        Some(("password", pw)),
    );
    refused(
        &t,
        &o,
        "db",
        "server asked for a cleartext password over an unverified connection",
    );
    assert!(!contains(&imp.recording(), pw));

    // The opt-in sends it, and the recording shows it.
    let imp = mysql_impostor(b"\xfemysql_clear_password\0");
    let o = add(
        &t,
        "mysql",
        "db",
        &sets(imp.port, &["allow_cleartext_password=true"]),
        Some(("password", pw)),
    );
    assert_eq!(o.status.code(), Some(4));
    assert!(
        contains(&imp.recording(), pw),
        "the opt-in sent the password"
    );
}

#[test]
fn mariadb_native_password_over_plain_loopback_still_works() {
    // Challenge-response reveals nothing: the local server needs no opt-in.
    let t = T::new();
    t.init();
    let user = crate::support::services::MariaUser::create("maria-Plain-pw3");
    let o = add(
        &t,
        "mariadb",
        "local",
        &[
            "host=127.0.0.1".to_string(),
            "port=3306".into(),
            "database=test".into(),
            format!("username={}", user.0),
        ],
        Some(("password", "maria-Plain-pw3")),
    );
    passed(&o, "local");
}
