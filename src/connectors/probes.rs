//! Protocol probes: each speaks the service's real protocol through a
//! well-kept client crate, authenticates with the config's credentials and
//! classifies what went wrong.

use super::catalog::{render, Connector};
use super::{chain, classify_io, Class, Outcome};
use crate::model::ConfigDoc;
use std::future::Future;
use std::time::Duration;

fn get<'a>(doc: &'a ConfigDoc, f: &str) -> &'a str {
    doc.get(f).unwrap_or_default()
}

fn port(doc: &ConfigDoc, default: u16) -> u16 {
    get(doc, "port").parse().unwrap_or(default)
}

/// Runs an async probe on a private single-threaded runtime, bounded by
/// `timeout`.
fn block_on<F: Future<Output = Outcome>>(timeout: Duration, f: F) -> Outcome {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return Outcome::fail(
                Class::Config,
                format!("cannot start the probe runtime: {e}"),
            )
        }
    };
    rt.block_on(async {
        match tokio::time::timeout(timeout, f).await {
            Ok(o) => o,
            Err(_) => Outcome::fail(
                Class::Timeout,
                format!("no answer within {} s", timeout.as_secs()),
            ),
        }
    })
}

/// Like `block_on`, for futures that return a Result (rotation).
pub fn block_on_result<T, F: Future<Output = Result<T, String>>>(
    timeout: Duration,
    f: F,
) -> Result<T, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        tokio::time::timeout(timeout, f)
            .await
            .unwrap_or_else(|_| Err(format!("no answer within {} s", timeout.as_secs())))
    })
}

fn io_outcome(text: String) -> Outcome {
    Outcome::fail(classify_io(&text, false), text)
}

pub fn run(connector: &Connector, doc: &ConfigDoc, timeout: Duration) -> Outcome {
    match connector.probe.as_str() {
        "postgres" => block_on(timeout, postgres(doc, timeout)),
        "mysql" => mysql(doc, timeout),
        "redis" => redis(doc, timeout),
        "amqp" => block_on(timeout, amqp(doc)),
        "mqtt" => mqtt(doc, timeout),
        "nats" => block_on(timeout, nats(doc, timeout)),
        "kafka" => block_on(timeout, kafka(doc)),
        "s3" => s3(doc, timeout),
        "sftp" => block_on(timeout, sftp(doc)),
        "http" => http(connector, doc, timeout),
        "tcp" => tcp(doc, timeout),
        _ => Outcome::fail(
            Class::Config,
            connector
                .note
                .clone()
                .unwrap_or_else(|| "no probe for this connector".into()),
        ),
    }
}

/// A connected PostgreSQL client, sslmode honoured.
pub async fn pg_connect(
    doc: &ConfigDoc,
    timeout: Duration,
) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    use tokio_postgres::config::SslMode;
    let mut cfg = tokio_postgres::Config::new();
    cfg.host(get(doc, "host"))
        .port(port(doc, 5432))
        .user(get(doc, "username"))
        .dbname(get(doc, "database"))
        .connect_timeout(timeout)
        .application_name("authcfg");
    if !get(doc, "password").is_empty() {
        cfg.password(get(doc, "password"));
    }
    let mode = get(doc, "sslmode");
    if mode == "disable" {
        cfg.ssl_mode(SslMode::Disable);
        let (client, connection) = cfg.connect(tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        Ok(client)
    } else {
        cfg.ssl_mode(SslMode::Require);
        // verify-ca is checked like verify-full: rustls always checks the name.
        let tls = if mode == "require" {
            super::tls::unverified()
        } else {
            super::tls::verified()
        };
        let (client, connection) = cfg
            .connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls))
            .await?;
        tokio::spawn(connection);
        Ok(client)
    }
}

async fn postgres(doc: &ConfigDoc, timeout: Duration) -> Outcome {
    let result = async {
        let client = pg_connect(doc, timeout).await?;
        client.simple_query("SELECT 1").await?;
        let version = client
            .simple_query("SHOW server_version")
            .await
            .ok()
            .and_then(|r| {
                r.into_iter().find_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
                    _ => None,
                })
            })
            .unwrap_or_default();
        Ok::<_, tokio_postgres::Error>(format!("SELECT 1 ok, server {version}"))
    }
    .await;
    match result {
        Ok(detail) => Outcome::ok(detail),
        Err(e) => {
            use tokio_postgres::error::SqlState;
            let text = chain(&e);
            match e.code() {
                Some(c)
                    if *c == SqlState::INVALID_PASSWORD
                        || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
                {
                    Outcome::fail(Class::Auth, text)
                }
                Some(c) if *c == SqlState::INSUFFICIENT_PRIVILEGE => {
                    Outcome::fail(Class::Permission, text)
                }
                Some(_) => Outcome::fail(Class::Protocol, text),
                None if text.contains("password") => Outcome::fail(Class::Auth, text),
                None => io_outcome(text),
            }
        }
    }
}

/// A connected MySQL/MariaDB session.
pub fn mysql_connect(doc: &ConfigDoc, timeout: Duration) -> Result<mysql::Conn, mysql::Error> {
    let mut opts = mysql::OptsBuilder::new()
        .ip_or_hostname(Some(get(doc, "host")))
        .tcp_port(port(doc, 3306))
        .user(Some(get(doc, "username")))
        .pass(Some(get(doc, "password")))
        .tcp_connect_timeout(Some(timeout))
        .read_timeout(Some(timeout))
        .write_timeout(Some(timeout))
        .prefer_socket(false);
    if !get(doc, "database").is_empty() {
        opts = opts.db_name(Some(get(doc, "database")));
    }
    match get(doc, "sslmode") {
        "disable" | "" => {}
        "require" => {
            opts = opts.ssl_opts(Some(
                mysql::SslOpts::default()
                    .with_danger_accept_invalid_certs(true)
                    .with_danger_skip_domain_validation(true),
            ))
        }
        _ => opts = opts.ssl_opts(Some(mysql::SslOpts::default())),
    }
    mysql::Conn::new(opts)
}

fn mysql(doc: &ConfigDoc, timeout: Duration) -> Outcome {
    use mysql::prelude::Queryable;
    let result = mysql_connect(doc, timeout).and_then(|mut c| {
        c.query_drop("SELECT 1")?;
        let v: Option<String> = c.query_first("SELECT VERSION()")?;
        Ok(v.unwrap_or_default())
    });
    match result {
        Ok(v) => Outcome::ok(format!("SELECT 1 ok, server {v}")),
        Err(mysql::Error::MySqlError(e)) => {
            let class = match e.code {
                1045 | 1698 => Class::Auth,
                1044 | 1142 | 1227 => Class::Permission,
                _ => Class::Protocol,
            };
            Outcome::fail(class, format!("{} ({})", e.message, e.code))
        }
        Err(mysql::Error::DriverError(mysql::DriverError::ConnectTimeout)) => {
            Outcome::fail(Class::Timeout, "connect timed out")
        }
        Err(e) => io_outcome(chain(&e)),
    }
}

/// An authenticated Redis connection.
pub fn redis_connect(
    doc: &ConfigDoc,
    timeout: Duration,
) -> Result<redis::Connection, redis::RedisError> {
    let info = redis::ConnectionInfo {
        addr: if get(doc, "tls") == "true" {
            redis::ConnectionAddr::TcpTls {
                host: get(doc, "host").to_string(),
                port: port(doc, 6379),
                insecure: false,
                tls_params: None,
            }
        } else {
            redis::ConnectionAddr::Tcp(get(doc, "host").to_string(), port(doc, 6379))
        },
        redis: redis::RedisConnectionInfo {
            db: get(doc, "database").parse().unwrap_or(0),
            username: Some(get(doc, "username").to_string()).filter(|s| !s.is_empty()),
            password: Some(get(doc, "password").to_string()).filter(|s| !s.is_empty()),
            protocol: redis::ProtocolVersion::RESP2,
        },
    };
    let c = redis::Client::open(info)?;
    let con = c.get_connection_with_timeout(timeout)?;
    con.set_read_timeout(Some(timeout))?;
    Ok(con)
}

fn redis(doc: &ConfigDoc, timeout: Duration) -> Outcome {
    let result = redis_connect(doc, timeout)
        .and_then(|mut con| redis::cmd("PING").query::<String>(&mut con));
    match result {
        Ok(pong) => Outcome::ok(format!("PING -> {pong}")),
        Err(e) => {
            let text = e.to_string();
            if e.kind() == redis::ErrorKind::AuthenticationFailed
                || text.contains("WRONGPASS")
                || text.contains("NOAUTH")
            {
                Outcome::fail(Class::Auth, text)
            } else if text.contains("NOPERM") {
                Outcome::fail(Class::Permission, text)
            } else if e.is_timeout() {
                Outcome::fail(Class::Timeout, text)
            } else if e.is_connection_refusal() {
                Outcome::fail(Class::Refused, text)
            } else {
                io_outcome(chain(&e))
            }
        }
    }
}

async fn amqp(doc: &ConfigDoc) -> Outcome {
    use amqprs::connection::{Connection, OpenConnectionArguments};
    let mut args = OpenConnectionArguments::new(
        get(doc, "host"),
        port(doc, 5672),
        get(doc, "username"),
        get(doc, "password"),
    );
    let vhost = if get(doc, "vhost").is_empty() {
        "/"
    } else {
        get(doc, "vhost")
    };
    args.virtual_host(vhost);
    match Connection::open(&args).await {
        Ok(conn) => {
            let name = conn.connection_name().to_string();
            let _ = conn.close().await;
            Outcome::ok(format!("AMQP connection opened on vhost {vhost} ({name})"))
        }
        Err(e) => {
            let text = e.to_string();
            if text.contains("ACCESS_REFUSED")
                || text.contains("403")
                || text.contains("authentication")
            {
                Outcome::fail(Class::Auth, text)
            } else if text.contains("reset by peer") {
                // RabbitMQ drops the socket after a failed login unless the
                // client asked for a Connection.Close with the reason.
                Outcome::fail(
                    Class::Auth,
                    format!("the broker closed the connection during login ({text})"),
                )
            } else if text.contains("NOT_ALLOWED") || text.contains("530") {
                Outcome::fail(Class::Permission, text)
            } else {
                io_outcome(text)
            }
        }
    }
}

fn mqtt(doc: &ConfigDoc, timeout: Duration) -> Outcome {
    use rumqttc::{ConnectReturnCode, ConnectionError, Event, Packet};
    let client_id = if get(doc, "client_id").is_empty() {
        "authcfg"
    } else {
        get(doc, "client_id")
    };
    let mut opts = rumqttc::MqttOptions::new(
        format!("{client_id}-{}", std::process::id()),
        get(doc, "host"),
        port(doc, 1883),
    );
    opts.set_keep_alive(Duration::from_secs(30));
    if !get(doc, "username").is_empty() {
        opts.set_credentials(get(doc, "username"), get(doc, "password"));
    }
    if get(doc, "tls") == "true" {
        return Outcome::fail(
            Class::Config,
            "MQTT over TLS is not supported by this probe yet",
        );
    }
    let (client, mut connection) = rumqttc::Client::new(opts, 10);
    let outcome = match connection.recv_timeout(timeout) {
        Err(_) => Outcome::fail(
            Class::Timeout,
            format!("no CONNACK within {} s", timeout.as_secs()),
        ),
        Ok(Ok(Event::Incoming(Packet::ConnAck(ack)))) if ack.code == ConnectReturnCode::Success => {
            Outcome::ok("CONNACK accepted")
        }
        Ok(Ok(other)) => Outcome::fail(
            Class::Protocol,
            format!("unexpected first packet: {other:?}"),
        ),
        Ok(Err(ConnectionError::ConnectionRefused(code))) => match code {
            ConnectReturnCode::BadUserNamePassword => {
                Outcome::fail(Class::Auth, "bad user name or password")
            }
            ConnectReturnCode::NotAuthorized => Outcome::fail(Class::Auth, "not authorized"),
            other => Outcome::fail(
                Class::Protocol,
                format!("connection refused by the broker: {other:?}"),
            ),
        },
        Ok(Err(e)) => io_outcome(chain(&e)),
    };
    let _ = client.disconnect();
    outcome
}

async fn nats(doc: &ConfigDoc, timeout: Duration) -> Outcome {
    use async_nats::ConnectErrorKind as K;
    let opts = if !get(doc, "token").is_empty() {
        async_nats::ConnectOptions::with_token(get(doc, "token").to_string())
    } else if !get(doc, "username").is_empty() {
        async_nats::ConnectOptions::with_user_and_password(
            get(doc, "username").to_string(),
            get(doc, "password").to_string(),
        )
    } else {
        async_nats::ConnectOptions::new()
    };
    let servers: Vec<String> = get(doc, "servers")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    match opts.connection_timeout(timeout).connect(servers).await {
        Ok(client) => {
            let ok = client.flush().await.is_ok();
            let info = client.server_info();
            if ok {
                Outcome::ok(format!(
                    "connected to {} {}",
                    info.server_name, info.version
                ))
            } else {
                Outcome::fail(
                    Class::Protocol,
                    "connected but the server did not answer a flush",
                )
            }
        }
        Err(e) => {
            let text = e.to_string();
            match e.kind() {
                K::AuthorizationViolation | K::Authentication => Outcome::fail(Class::Auth, text),
                K::TimedOut => Outcome::fail(Class::Timeout, text),
                K::Dns => Outcome::fail(Class::Dns, text),
                K::Tls => Outcome::fail(Class::Tls, text),
                _ => io_outcome(chain(&e)),
            }
        }
    }
}

async fn kafka(doc: &ConfigDoc) -> Outcome {
    use rskafka::client::{ClientBuilder, Credentials, SaslConfig};
    let brokers: Vec<String> = get(doc, "bootstrap_servers")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    // rskafka retries unreachable brokers with backoff; reach one first so a
    // dead cluster is reported as such instead of as a timeout.
    let mut reachable = false;
    let mut last_err = String::from("no bootstrap servers");
    for b in &brokers {
        match tokio::net::TcpStream::connect(b.as_str()).await {
            Ok(_) => {
                reachable = true;
                break;
            }
            Err(e) => last_err = format!("{b}: {e}"),
        }
    }
    if !reachable {
        return io_outcome(last_err);
    }
    let mut builder = ClientBuilder::new(brokers);
    let proto = get(doc, "security_protocol");
    if proto.starts_with("SASL") {
        let creds = Credentials::new(
            get(doc, "username").to_string(),
            get(doc, "password").to_string(),
        );
        builder = builder.sasl_config(match get(doc, "sasl_mechanism") {
            "SCRAM-SHA-256" => SaslConfig::ScramSha256(creds),
            "SCRAM-SHA-512" => SaslConfig::ScramSha512(creds),
            _ => SaslConfig::Plain(creds),
        });
    }
    if proto.ends_with("SSL") {
        builder = builder.tls_config(std::sync::Arc::new(super::tls::verified()));
    }
    match builder.build().await {
        Ok(client) => match client.list_topics().await {
            Ok(topics) => Outcome::ok(format!("metadata ok: {} topics", topics.len())),
            Err(e) => Outcome::fail(Class::Protocol, chain(&e)),
        },
        Err(e) => {
            let text = chain(&e);
            let lower = text.to_lowercase();
            if lower.contains("sasl") || lower.contains("authentication") {
                Outcome::fail(Class::Auth, text)
            } else {
                io_outcome(text)
            }
        }
    }
}

/// ListObjectsV2 (max-keys=1) signed with SigV4 by AWS's own signer.
fn s3(doc: &ConfigDoc, timeout: Duration) -> Outcome {
    use aws_sigv4::http_request::{
        sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
        SigningSettings,
    };
    let region = get(doc, "region");
    let bucket = get(doc, "bucket");
    let path_style = get(doc, "path_style") == "true"
        || !get(doc, "endpoint").is_empty() && get(doc, "path_style") != "false";
    let base = if get(doc, "endpoint").is_empty() {
        format!("https://s3.{region}.amazonaws.com")
    } else {
        get(doc, "endpoint").trim_end_matches('/').to_string()
    };
    let Ok(mut url) = url::Url::parse(&base) else {
        return Outcome::fail(Class::Config, "endpoint is not a URL");
    };
    if path_style {
        url.set_path(&format!("/{bucket}"));
    } else {
        let host = format!("{bucket}.{}", url.host_str().unwrap_or_default());
        if url.set_host(Some(&host)).is_err() {
            return Outcome::fail(
                Class::Config,
                "bucket name does not fit in a host name; set path_style=true",
            );
        }
        url.set_path("/");
    }
    url.set_query(Some("list-type=2&max-keys=1"));
    let identity = aws_credential_types::Credentials::new(
        get(doc, "access_key_id"),
        get(doc, "secret_access_key"),
        None,
        None,
        "authcfg",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    let params = match aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("s3")
        .time(std::time::SystemTime::now())
        .settings(settings)
        .build()
    {
        Ok(p) => p.into(),
        Err(e) => return Outcome::fail(Class::Config, e.to_string()),
    };
    let headers = match SignableRequest::new(
        "GET",
        url.as_str(),
        std::iter::empty(),
        SignableBody::Bytes(&[]),
    )
    .and_then(|r| sign(r, &params))
    {
        Ok(out) => out.into_parts().0.into_parts().0,
        Err(e) => return Outcome::fail(Class::Config, e.to_string()),
    };
    let client = match reqwest::blocking::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .build()
    {
        Ok(c) => c,
        Err(e) => return Outcome::fail(Class::Config, e.to_string()),
    };
    let mut req = client.get(url.as_str());
    for h in &headers {
        req = req.header(h.name(), h.value());
    }
    match req.send() {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let body = resp.text().unwrap_or_default();
            let code = body
                .split("<Code>")
                .nth(1)
                .and_then(|s| s.split("</Code>").next())
                .unwrap_or("")
                .to_string();
            match (status, code.as_str()) {
                (200, _) => Outcome::ok(format!("ListObjectsV2 on bucket {bucket} ok (SigV4)")),
                (
                    _,
                    "InvalidAccessKeyId"
                    | "SignatureDoesNotMatch"
                    | "InvalidClientTokenId"
                    | "AuthorizationHeaderMalformed",
                ) => Outcome::fail(Class::Auth, code),
                (_, "NoSuchBucket") => {
                    Outcome::fail(Class::Config, format!("bucket {bucket} does not exist"))
                }
                (_, "AccessDenied") | (403, _) => {
                    Outcome::fail(Class::Permission, format!("HTTP {status} {code}"))
                }
                _ => Outcome::fail(Class::Protocol, format!("HTTP {status} {code}")),
            }
        }
        Err(e) => super::classify_reqwest(&e.without_url()),
    }
}

struct AnyHostKey;

impl russh::client::Handler for AnyHostKey {
    type Error = russh::Error;
    // A credential test, not a session: the host key is not pinned here.
    async fn check_server_key(
        &mut self,
        _key: &russh::keys::ssh_key::PublicKey,
    ) -> Result<bool, Self::Error> {
        Ok(true)
    }
}

async fn sftp(doc: &ConfigDoc) -> Outcome {
    let config = std::sync::Arc::new(russh::client::Config::default());
    let addr = (get(doc, "host").to_string(), port(doc, 22));
    let mut session = match russh::client::connect(config, addr, AnyHostKey).await {
        Ok(s) => s,
        Err(e) => return io_outcome(chain(&e)),
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
                russh::keys::PrivateKeyWithHashAlg::new(std::sync::Arc::new(key), hash),
            )
            .await
    } else {
        session
            .authenticate_password(user, get(doc, "password"))
            .await
    };
    match result {
        Ok(r) if r.success() => {}
        Ok(_) => return Outcome::fail(Class::Auth, "the server rejected the credentials"),
        Err(e) => return Outcome::fail(Class::Protocol, chain(&e)),
    }
    let subsystem = async {
        let channel = session.channel_open_session().await?;
        channel.request_subsystem(true, "sftp").await?;
        let _ = channel.close().await;
        Ok::<_, russh::Error>(())
    }
    .await;
    let _ = session
        .disconnect(russh::Disconnect::ByApplication, "", "en")
        .await;
    match subsystem {
        Ok(()) => Outcome::ok("authenticated; SFTP subsystem available"),
        Err(e) => Outcome::fail(
            Class::Permission,
            format!("authenticated, but no SFTP subsystem: {}", chain(&e)),
        ),
    }
}

fn http(connector: &Connector, doc: &ConfigDoc, timeout: Duration) -> Outcome {
    let Some(h) = &connector.http else {
        return Outcome::fail(Class::Config, "no HTTP check defined");
    };
    let url = render(&h.url, doc);
    let client = match super::http_client(timeout) {
        Ok(c) => c,
        Err(o) => return o,
    };
    let secret = h.secret.as_deref().map(|f| get(doc, f)).unwrap_or_default();
    let prefix = h.prefix.as_deref().unwrap_or("");
    let mut req = client.get(&url);
    match h.auth.as_str() {
        "basic" => {
            let user = render(h.user.as_deref().unwrap_or(""), doc);
            let pass = render(h.password.as_deref().unwrap_or(""), doc);
            req = req.basic_auth(user, Some(pass));
        }
        "bearer" => req = req.bearer_auth(secret),
        "header" => {
            req = req.header(
                h.header.as_deref().unwrap_or("Authorization"),
                format!("{prefix}{secret}"),
            )
        }
        "query" => req = req.query(&[(h.header.as_deref().unwrap_or("api_key"), secret)]),
        _ => {}
    }
    for (k, v) in &h.headers {
        req = req.header(k, v);
    }
    super::http_outcome(req.send())
}

fn tcp(doc: &ConfigDoc, timeout: Duration) -> Outcome {
    use std::net::ToSocketAddrs;
    let host = get(doc, "host");
    let addrs = match (host, port(doc, 0)).to_socket_addrs() {
        Ok(a) => a.collect::<Vec<_>>(),
        Err(e) => return Outcome::fail(Class::Dns, e.to_string()),
    };
    let mut last = String::from("no address");
    for a in addrs {
        match std::net::TcpStream::connect_timeout(&a, timeout) {
            Ok(_) => {
                return Outcome::ok(format!(
                "{a} reachable; credentials not verified (no native probe for this protocol yet)"
            ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                return Outcome::fail(Class::Timeout, e.to_string())
            }
            Err(e) => last = e.to_string(),
        }
    }
    io_outcome(last)
}
