//! MySQL and MariaDB: a small client over mysql_common's packet types, so
//! that TLS and the authentication exchange are under this module's control.
//! The `mysql` crate could not be used for this: it trusts only its bundled
//! web roots, takes no custom verifier, and answers caching_sha2_password's
//! "full authentication" by sending the password itself over any TLS
//! (verified or not), or by encrypting it to an RSA key the server supplies
//! on a plain connection; an impostor gets the password either way.
//!
//! Here: TLS per `sslmode` (verified against the system store or `tls_ca`,
//! client certificate from `tls_cert`/`tls_key`); the password in a form
//! the server can read (mysql_clear_password, caching_sha2 full
//! authentication) only over TLS whose server was verified, or when the
//! config opts in (`allow_cleartext_password`); challenge-response
//! (mysql_native_password, caching_sha2's fast path) anywhere.

use super::{connect_tcp, flag, get, port, tls_options};
use crate::connectors::{Class, Outcome};
use crate::model::ConfigDoc;
use crate::net::{ServerIdentity, Tls, TlsFailure, Verify};
use mysql_common::constants::CapabilityFlags;
use mysql_common::io::ParseBuf;
use mysql_common::packets::{
    AuthPlugin, AuthSwitchRequest, HandshakePacket, HandshakeResponse, SslRequest,
};
use mysql_common::proto::MySerialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// An authenticated session.
pub struct MyConn {
    stream: Box<dyn Stream>,
    seq: u8,
    pub identity: ServerIdentity,
    pub server_version: String,
    /// The server's id of this session (what `KILL QUERY` names).
    pub connection_id: u32,
}

/// Why a session could not be opened (or a query failed), typed.
#[derive(Debug)]
pub enum MyFailure {
    Reach(Outcome),
    Tls(TlsFailure),
    /// The server asked for the password in readable form on a connection
    /// whose server identity is not verified; nothing was sent.
    Revealing {
        what: &'static str,
        identity: ServerIdentity,
    },
    Server {
        code: u16,
        message: String,
    },
    Protocol(String),
    Io(std::io::Error),
}

impl MyFailure {
    pub fn message(&self) -> String {
        match self {
            MyFailure::Reach(o) => o.detail.clone(),
            MyFailure::Tls(t) => t.to_string(),
            MyFailure::Revealing { what, .. } => format!(
                "the server asked for {what} over a connection whose server identity is not verified; nothing was sent"
            ),
            MyFailure::Server { message, .. } => message.clone(),
            MyFailure::Protocol(m) => m.clone(),
            MyFailure::Io(e) => e.to_string(),
        }
    }

    pub fn outcome(self) -> Outcome {
        let text = self.message();
        match self {
            MyFailure::Reach(o) => o,
            MyFailure::Tls(t) => Outcome::tls(&t),
            MyFailure::Revealing { identity, .. } => {
                Outcome::fail(Class::CleartextRefused, text).with_identity(identity)
            }
            MyFailure::Server { code, message } => Outcome::fail(
                match code {
                    1045 | 1698 => Class::Auth,
                    1044 | 1142 | 1227 => Class::Permission,
                    _ => Class::Protocol,
                },
                format!("{message} ({code})"),
            ),
            MyFailure::Protocol(m) => Outcome::fail(Class::Protocol, m),
            MyFailure::Io(e) => Outcome::fail(super::io_class(&e).unwrap_or(Class::Protocol), text),
        }
    }
}

impl From<std::io::Error> for MyFailure {
    fn from(e: std::io::Error) -> Self {
        match TlsFailure::find_in(&e) {
            Some(t) => MyFailure::Tls(t),
            None => MyFailure::Io(e),
        }
    }
}

const MAX_PACKET: u32 = 16 * 1024 * 1024;

impl MyConn {
    async fn read_packet(&mut self) -> Result<Vec<u8>, MyFailure> {
        let mut out = Vec::new();
        loop {
            let mut head = [0u8; 4];
            self.stream.read_exact(&mut head).await?;
            let len = u32::from_le_bytes([head[0], head[1], head[2], 0]) as usize;
            self.seq = head[3].wrapping_add(1);
            if out.len() + len > MAX_PACKET as usize {
                return Err(MyFailure::Protocol("packet too large".into()));
            }
            let start = out.len();
            out.resize(start + len, 0);
            self.stream.read_exact(&mut out[start..]).await?;
            if len < 0xff_ffff {
                return Ok(out);
            }
        }
    }

    async fn write_packet(&mut self, payload: &[u8]) -> Result<(), MyFailure> {
        let len = payload.len() as u32;
        let mut buf = Vec::with_capacity(payload.len() + 4);
        buf.extend_from_slice(&len.to_le_bytes()[..3]);
        buf.push(self.seq);
        buf.extend_from_slice(payload);
        self.seq = self.seq.wrapping_add(1);
        self.stream.write_all(&buf).await?;
        self.stream.flush().await?;
        Ok(())
    }

    /// COM_QUERY; the rows of its first result set as text (None: NULL).
    pub async fn query(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>, MyFailure> {
        self.query_columns(sql).await.map(|(_, rows)| rows)
    }

    /// `query`, with the column names of the result set (none for a
    /// statement that returns no rows).
    pub async fn query_columns(
        &mut self,
        sql: &str,
    ) -> Result<(Vec<String>, Vec<Vec<Option<String>>>), MyFailure> {
        self.seq = 0;
        let mut payload = vec![0x03];
        payload.extend_from_slice(sql.as_bytes());
        self.write_packet(&payload).await?;
        let first = self.read_packet().await?;
        match first.first() {
            Some(0x00) => return Ok((vec![], vec![])),
            Some(0xff) => return Err(server_error(&first)),
            _ => {}
        }
        let (columns, _) =
            lenenc_int(&first).ok_or_else(|| MyFailure::Protocol("bad column count".into()))?;
        let mut names = vec![];
        for _ in 0..columns {
            let def = self.read_packet().await?;
            names.push(column_name(&def).unwrap_or_default());
        }
        // EOF after the column definitions (CLIENT_DEPRECATE_EOF is not set).
        let eof = self.read_packet().await?;
        if eof.first() != Some(&0xfe) {
            return Err(MyFailure::Protocol("expected EOF after the columns".into()));
        }
        let mut rows = vec![];
        loop {
            let p = self.read_packet().await?;
            match p.first() {
                Some(0xfe) if p.len() < 9 => return Ok((names, rows)),
                Some(0xff) => return Err(server_error(&p)),
                _ => {}
            }
            let mut row = vec![];
            let mut rest = &p[..];
            for _ in 0..columns {
                if rest.first() == Some(&0xfb) {
                    row.push(None);
                    rest = &rest[1..];
                    continue;
                }
                let (len, used) =
                    lenenc_int(rest).ok_or_else(|| MyFailure::Protocol("bad row".into()))?;
                let end = used + len as usize;
                if end > rest.len() {
                    return Err(MyFailure::Protocol("short row".into()));
                }
                row.push(Some(String::from_utf8_lossy(&rest[used..end]).into_owned()));
                rest = &rest[end..];
            }
            rows.push(row);
        }
    }

    pub async fn execute(&mut self, sql: &str) -> Result<(), MyFailure> {
        self.query(sql).await.map(drop)
    }

    pub async fn close(mut self) {
        self.seq = 0;
        let _ = self.write_packet(&[0x01]).await; // COM_QUIT
    }
}

/// The name in a ColumnDefinition41 packet: its fifth length-encoded
/// string (after catalog, schema, table and original table).
fn column_name(def: &[u8]) -> Option<String> {
    let mut rest = def;
    for i in 0..5 {
        let (len, used) = lenenc_int(rest)?;
        let end = used.checked_add(usize::try_from(len).ok()?)?;
        let s = rest.get(used..end)?;
        if i == 4 {
            return Some(String::from_utf8_lossy(s).into_owned());
        }
        rest = &rest[end..];
    }
    None
}

fn lenenc_int(b: &[u8]) -> Option<(u64, usize)> {
    match *b.first()? {
        x @ 0..=0xfa => Some((x as u64, 1)),
        0xfc => Some((u16::from_le_bytes([*b.get(1)?, *b.get(2)?]) as u64, 3)),
        0xfd => Some((
            u32::from_le_bytes([*b.get(1)?, *b.get(2)?, *b.get(3)?, 0]) as u64,
            4,
        )),
        0xfe => {
            let bytes: [u8; 8] = b.get(1..9)?.try_into().ok()?;
            Some((u64::from_le_bytes(bytes), 9))
        }
        _ => None,
    }
}

fn server_error(p: &[u8]) -> MyFailure {
    if p.len() < 3 {
        return MyFailure::Protocol("short error packet".into());
    }
    let code = u16::from_le_bytes([p[1], p[2]]);
    let msg = if p.get(3) == Some(&b'#') && p.len() >= 9 {
        &p[9..]
    } else {
        &p[3..]
    };
    MyFailure::Server {
        code,
        message: String::from_utf8_lossy(msg).into_owned(),
    }
}

/// Opens an authenticated session as the config says.
pub async fn connect(doc: &ConfigDoc) -> Result<MyConn, MyFailure> {
    let host = get(doc, "host");
    let mode = get(doc, "sslmode");
    let verify = match mode {
        "" | "verify-full" => Some(Verify::Full),
        "verify-ca" => Some(Verify::CaOnly),
        "require" | "prefer" => Some(Verify::Nothing),
        "disable" => None,
        other => {
            return Err(MyFailure::Reach(Outcome::fail(
                Class::Config,
                format!("unknown sslmode '{other}'"),
            )))
        }
    };
    let tcp = connect_tcp(host, port(doc, 3306))
        .await
        .map_err(MyFailure::Reach)?;
    let mut conn = MyConn {
        stream: Box::new(tcp),
        seq: 0,
        identity: ServerIdentity::Plaintext,
        server_version: String::new(),
        connection_id: 0,
    };
    let greeting = conn.read_packet().await?;
    if greeting.first() == Some(&0xff) {
        return Err(server_error(&greeting));
    }
    let hs: HandshakePacket<'_> = ParseBuf(&greeting)
        .parse(())
        .map_err(|e| MyFailure::Protocol(format!("not a MySQL greeting: {e}")))?;
    conn.server_version = String::from_utf8_lossy(hs.server_version_ref()).into_owned();
    conn.connection_id = hs.connection_id();
    let mut nonce = hs.nonce();
    let server_caps = hs.capabilities();
    let db = Some(get(doc, "database")).filter(|d| !d.is_empty());
    let mut caps = CapabilityFlags::CLIENT_PROTOCOL_41
        | CapabilityFlags::CLIENT_SECURE_CONNECTION
        | CapabilityFlags::CLIENT_PLUGIN_AUTH
        | CapabilityFlags::CLIENT_LONG_PASSWORD
        | CapabilityFlags::CLIENT_TRANSACTIONS
        | CapabilityFlags::CLIENT_MULTI_RESULTS
        | CapabilityFlags::CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA;
    if db.is_some() {
        caps |= CapabilityFlags::CLIENT_CONNECT_WITH_DB;
    }
    let offers_tls = server_caps.contains(CapabilityFlags::CLIENT_SSL);
    let use_tls = match (verify, offers_tls) {
        (None, _) => None,
        (Some(_), false) if mode == "prefer" => None,
        (Some(_), false) => return Err(MyFailure::Tls(TlsFailure::NotOffered)),
        (Some(v), true) => Some(v),
    };
    let mut tls_used = None;
    if let Some(v) = use_tls {
        caps |= CapabilityFlags::CLIENT_SSL;
        let t = Tls::new(v, &tls_options(doc)).map_err(MyFailure::Tls)?;
        let req = SslRequest::new(caps & server_caps, MAX_PACKET, hs.default_collation());
        let mut buf = vec![];
        req.serialize(&mut buf);
        conn.write_packet(&buf).await?;
        let seq = conn.seq;
        // Swap the plain stream for the TLS one on the same socket.
        let plain: Box<dyn Stream> =
            std::mem::replace(&mut conn.stream, Box::new(tokio::io::empty()));
        let tls_stream = t.connect(host, plain).await.map_err(MyFailure::Tls)?;
        conn.stream = Box::new(tls_stream);
        conn.seq = seq;
        conn.identity = t.identity().unwrap_or(ServerIdentity::Unverified);
        tls_used = Some(t);
    }
    let caps = caps & (server_caps | CapabilityFlags::CLIENT_SSL);
    let verified = conn.identity.verified();
    let opted_in = flag(doc, "allow_cleartext_password");
    let password = get(doc, "password");
    let user = get(doc, "username");
    let mut plugin = hs
        .auth_plugin()
        .map(|p| p.into_owned())
        .unwrap_or(AuthPlugin::MysqlNativePassword);
    let identity = conn.identity;
    let refuse = |what: &'static str| MyFailure::Revealing { what, identity };
    let clear_ok = verified || opted_in;
    if matches!(plugin, AuthPlugin::MysqlClearPassword) && !clear_ok {
        return Err(refuse("the password in clear text (mysql_clear_password)"));
    }
    let data = plugin
        .gen_data(Some(password).filter(|p| !p.is_empty()), &nonce)
        .map(|d| {
            let mut b = vec![];
            d.serialize(&mut b);
            if matches!(plugin, AuthPlugin::MysqlClearPassword) {
                b
            } else {
                d.to_vec()
            }
        })
        .unwrap_or_default();
    let version = hs.server_version_parsed().unwrap_or((5, 7, 0));
    let resp = HandshakeResponse::new(
        Some(data),
        version,
        Some(user.as_bytes()),
        db.map(str::as_bytes),
        Some(plugin.clone()),
        caps,
        None,
        MAX_PACKET,
    );
    let mut buf = vec![];
    resp.serialize(&mut buf);
    conn.write_packet(&buf).await?;
    let mut switched = false;
    loop {
        let p = conn.read_packet().await?;
        match p.first() {
            Some(0x00) => return Ok(conn),
            Some(0xff) => return Err(server_error(&p)),
            Some(0xfe) if !switched => {
                switched = true;
                let req: AuthSwitchRequest<'_> = ParseBuf(&p)
                    .parse(())
                    .map_err(|e| MyFailure::Protocol(format!("bad auth switch: {e}")))?;
                plugin = req.auth_plugin().into_owned();
                nonce = req.plugin_data().to_vec();
                if nonce.last() == Some(&0) {
                    nonce.pop();
                }
                if matches!(plugin, AuthPlugin::MysqlClearPassword) && !clear_ok {
                    return Err(refuse("the password in clear text (mysql_clear_password)"));
                }
                let answer = match plugin.gen_data(Some(password).filter(|p| !p.is_empty()), &nonce) {
                    Some(d) => {
                        let mut b = vec![];
                        d.serialize(&mut b);
                        b
                    }
                    None if password.is_empty() => vec![],
                    None => {
                        return Err(MyFailure::Protocol(format!(
                            "the server asks for the {} authentication plugin, which this probe does not speak",
                            String::from_utf8_lossy(plugin.as_bytes())
                        )))
                    }
                };
                conn.write_packet(&answer).await?;
            }
            // caching_sha2_password: fast path done, OK follows.
            Some(0x01) if p.get(1) == Some(&0x03) => {}
            // caching_sha2_password: "full authentication": the server
            // wants the password itself.
            Some(0x01) if p.get(1) == Some(&0x04) => {
                if !(tls_used.is_some() && (verified || opted_in)) {
                    return Err(refuse(
                        "the password itself (caching_sha2_password full authentication)",
                    ));
                }
                let mut pass = password.as_bytes().to_vec();
                pass.push(0);
                conn.write_packet(&pass).await?;
            }
            _ => {
                return Err(MyFailure::Protocol(
                    "unexpected packet during authentication".into(),
                ))
            }
        }
    }
}

pub async fn probe(doc: &ConfigDoc) -> Outcome {
    let mut conn = match connect(doc).await {
        Ok(c) => c,
        Err(f) => return f.outcome(),
    };
    let identity = conn.identity;
    let outcome = match conn.query("SELECT 1").await {
        Ok(_) => Outcome::ok(format!("SELECT 1 ok, server {}", conn.server_version)),
        Err(f) => f.outcome(),
    };
    conn.close().await;
    outcome.with_identity(identity)
}
