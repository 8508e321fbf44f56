//! AMQP 0-9-1 (RabbitMQ and friends) on amqprs: PLAIN over AMQPS when the
//! config says `tls` (verified against the system store or `tls_ca`, client
//! certificate from `tls_cert`/`tls_key`), plain AMQP otherwise, and then
//! only to a loopback host unless the config opts in.
//!
//! amqprs reports errors as text (every variant of its error holds a
//! String); the TLS verifier's record and a reachability check before the
//! handshake keep TLS, DNS and refused connections typed. What is left is
//! read in one function, `read_amqprs`: the broker's AMQP reply code, the
//! OS error number, amqprs' peer shutdown.

use super::{connect_tcp, flag, get, plaintext_guard, port, verified_tls};
use crate::connectors::{Class, Outcome};
use crate::model::ConfigDoc;
use crate::net::ServerIdentity;

pub async fn probe(doc: &ConfigDoc) -> Outcome {
    use amqprs::connection::{Connection, OpenConnectionArguments};
    let host = get(doc, "host");
    let tls = flag(doc, "tls");
    let port = port(doc, if tls { 5671 } else { 5672 });
    if !tls {
        if let Some(refused) = plaintext_guard(doc, host, true) {
            return refused;
        }
    }
    // Typed DNS/refused/timeout classification before amqprs' text errors.
    if let Err(o) = connect_tcp(host, port).await {
        return o;
    }
    let mut args =
        OpenConnectionArguments::new(host, port, get(doc, "username"), get(doc, "password"));
    let vhost = if get(doc, "vhost").is_empty() {
        "/"
    } else {
        get(doc, "vhost")
    };
    args.virtual_host(vhost);
    let t = if tls {
        let t = match verified_tls(doc) {
            Ok(t) => t,
            Err(o) => return o,
        };
        args.tls_adaptor(amqprs::tls::TlsAdaptor::new(
            tokio_rustls::TlsConnector::from(t.config.clone()),
            host.to_string(),
        ));
        Some(t)
    } else {
        None
    };
    let identity = || match &t {
        Some(t) => t.identity().unwrap_or(ServerIdentity::Verified),
        None => ServerIdentity::Plaintext,
    };
    match Connection::open(&args).await {
        Ok(conn) => {
            let name = conn.connection_name().to_string();
            let _ = conn.close().await;
            Outcome::ok(format!(
                "AMQP{} connection opened on vhost {vhost} ({name})",
                if tls { "S" } else { "" }
            ))
            .with_identity(identity())
        }
        Err(e) => {
            if let Some(f) = t.as_ref().and_then(|t| t.failure()) {
                return Outcome::tls(&f);
            }
            let text = e.to_string();
            let handshake_done = t.as_ref().is_some_and(|t| t.identity().is_some());
            // RabbitMQ drops the socket after a failed login unless the
            // client asked for a Connection.Close with the reason (amqprs
            // does not): a reset, or over TLS a clean shutdown after a
            // completed handshake.
            let dropped = |text| {
                Outcome::fail(
                    Class::Auth,
                    format!("the broker closed the connection during login ({text})"),
                )
            };
            match read_amqprs(&e) {
                Amqprs::Reply(ACCESS_REFUSED) => Outcome::fail(Class::Auth, text),
                Amqprs::Reply(NOT_ALLOWED) => Outcome::fail(Class::Permission, text),
                Amqprs::Os(n)
                    if std::io::Error::from_raw_os_error(n).kind()
                        == std::io::ErrorKind::ConnectionReset =>
                {
                    dropped(text)
                }
                Amqprs::PeerShutdown if handshake_done => dropped(text),
                Amqprs::Os(n) => Outcome::fail(
                    Class::from(crate::net::reach(&std::io::Error::from_raw_os_error(n))),
                    text,
                ),
                _ => Outcome::fail(Class::Protocol, text),
            }
            .with_identity(identity())
        }
    }
}

/// AMQP reply codes (AMQP 0-9-1, "Constants").
const ACCESS_REFUSED: u16 = 403;
const NOT_ALLOWED: u16 = 530;

/// What an amqprs error says, as far as a probe needs it.
#[derive(Debug, PartialEq, Eq)]
enum Amqprs {
    /// The broker's Connection.Close reply code.
    Reply(u16),
    /// The OS error of a network failure.
    Os(i32),
    /// The broker closed the connection without a word.
    PeerShutdown,
    Other,
}

/// The one reading of amqprs' text errors (its variants hold Strings
/// only): the reply code of a Connection.Close, which amqprs writes with
/// the frame's Debug (`reply_code: CODE`) or the method's Display
/// (`'CODE: TEXT'`); the `(os error N)` std writes after an io error; and
/// amqprs' own `peer shutdown`. The tests below hold it to a real broker.
fn read_amqprs(e: &amqprs::error::Error) -> Amqprs {
    use amqprs::error::Error as E;
    let text = match e {
        E::ConnectionOpenError(t) | E::NetworkError(t) => t.as_str(),
        _ => return Amqprs::Other,
    };
    let code = |after: &str| -> Option<u16> {
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok().filter(|c| (300..600).contains(c))
    };
    if let Some(c) = text
        .split_once("reply_code: ")
        .and_then(|(_, rest)| code(rest))
        .or_else(|| {
            text.match_indices('\'')
                .filter_map(|(i, _)| text[i + 1..].split_once(": "))
                .find_map(|(c, _)| c.parse::<u16>().ok().filter(|c| (300..600).contains(c)))
        })
    {
        return Amqprs::Reply(c);
    }
    if let Some(n) = text
        .rsplit_once("(os error ")
        .and_then(|(_, rest)| rest.strip_suffix(')'))
        .and_then(|n| n.parse().ok())
    {
        return Amqprs::Os(n);
    }
    if matches!(e, E::NetworkError(_)) && text.ends_with("peer shutdown") {
        return Amqprs::PeerShutdown;
    }
    Amqprs::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the real broker (RabbitMQ on 127.0.0.1:5672): a wrong
    /// password is read as reply code 403, a vhost the user may not open
    /// as 530, a closed port as ECONNREFUSED. Skipped when no broker runs.
    #[tokio::test]
    async fn read_amqprs_against_rabbitmq() {
        use amqprs::connection::{Connection, OpenConnectionArguments};
        if std::net::TcpStream::connect("127.0.0.1:5672").is_err() {
            eprintln!("no broker on 127.0.0.1:5672: skipped");
            return;
        }
        let wrong = OpenConnectionArguments::new("127.0.0.1", 5672, "guest", "not-the-password");
        let e = Connection::open(&wrong)
            .await
            .err()
            .expect("a wrong password fails");
        // RabbitMQ may also just drop the socket after a refused login.
        let got = read_amqprs(&e);
        assert!(
            matches!(
                got,
                Amqprs::Reply(ACCESS_REFUSED) | Amqprs::Os(libc::ECONNRESET) | Amqprs::PeerShutdown
            ),
            "{got:?} from {e}"
        );
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let refused = OpenConnectionArguments::new("127.0.0.1", port, "guest", "guest");
        let e = Connection::open(&refused)
            .await
            .err()
            .expect("nothing listens");
        assert_eq!(read_amqprs(&e), Amqprs::Os(libc::ECONNREFUSED), "{e}");
    }

    #[test]
    fn read_amqprs_reads_the_close_frame_and_os_errors() {
        use amqprs::error::Error as E;
        let close = E::ConnectionOpenError(
            "failed to open connection, reason: Close('403: ACCESS_REFUSED - Login was refused', (class_id = 0, method_id = 0))".into(),
        );
        assert_eq!(read_amqprs(&close), Amqprs::Reply(403));
        let vhost = E::ConnectionOpenError(
            "failed to open connection, reason: Close('530: NOT_ALLOWED - vhost x not found', (class_id = 10, method_id = 40))".into(),
        );
        assert_eq!(read_amqprs(&vhost), Amqprs::Reply(530));
        let debug = E::ConnectionOpenError(
            "failed to open connection, reason: Close(MethodHeader { class_id: 10, method_id: 50 }, Close { reply_code: 530, reply_text: ShortStr(35, \"NOT_ALLOWED - vhost v403 not found\"), class_id: 10, method_id: 40 })".into(),
        );
        assert_eq!(read_amqprs(&debug), Amqprs::Reply(530));
        let reset =
            E::NetworkError("network io error: Connection reset by peer (os error 104)".into());
        assert_eq!(read_amqprs(&reset), Amqprs::Os(104));
        assert_eq!(
            read_amqprs(&E::NetworkError("peer shutdown".into())),
            Amqprs::PeerShutdown
        );
    }
}
