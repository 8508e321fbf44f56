//! Server-side password changes for two-phase rotation: connect with the
//! admin credentials, set the new password, so the caller can then prove it
//! with a fresh connection before saving.

use super::probes;
use super::ProbeKind;
use crate::model::ConfigDoc;
use crate::net::http::{self as nethttp, HttpFailure, Redirects};
use crate::net::{Tls, Verify};
use std::time::Duration;

/// Whether this connector's passwords can be rotated on the server.
pub fn supported(probe: &ProbeKind) -> bool {
    matches!(
        probe,
        ProbeKind::Postgres | ProbeKind::Mysql | ProbeKind::Redis | ProbeKind::Amqp
    )
}

fn get<'a>(doc: &'a ConfigDoc, f: &str) -> &'a str {
    doc.get(f).unwrap_or_default()
}

/// Sets `user`'s password to `new`, connected as `admin` with the same
/// trust rules as the probes. The error is the server's own reason.
pub fn set_password(
    probe: &ProbeKind,
    admin: &ConfigDoc,
    user: &str,
    new: &str,
    timeout: Duration,
) -> Result<(), String> {
    let work = async {
        match probe {
            ProbeKind::Postgres => postgres(admin, user, new).await,
            ProbeKind::Mysql => mysql(admin, user, new).await,
            ProbeKind::Redis => redis(admin, user, new).await,
            ProbeKind::Amqp => rabbitmq(admin, user, new, timeout).await,
            other => Err(format!(
                "rotation on the server is not supported for the {other} probe"
            )),
        }
    };
    crate::net::runtime::block_on_timeout(timeout, work)
        .unwrap_or_else(|| Err(format!("no answer within {} s", timeout.as_secs())))
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

async fn postgres(admin: &ConfigDoc, user: &str, new: &str) -> Result<(), String> {
    let client = probes::postgres::connect(admin)
        .await
        .map_err(|f| f.message())?
        .client;
    // Sent as a SCRAM verifier computed here: the plaintext never reaches
    // the server or its statement log.
    let verifier = postgres_protocol::password::scram_sha_256(new.as_bytes());
    client
        .batch_execute(&format!(
            "ALTER ROLE {} PASSWORD '{verifier}'",
            quote_ident(user)
        ))
        .await
        .map_err(|e| {
            e.as_db_error()
                .map(|d| d.message().to_string())
                .unwrap_or_else(|| super::chain(&e))
        })
}

fn mysql_quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

async fn mysql(admin: &ConfigDoc, user: &str, new: &str) -> Result<(), String> {
    let mut conn = probes::mysql_connect(admin)
        .await
        .map_err(|f| f.message())?;
    let result = if get(admin, "username") == user {
        conn.execute(&format!("SET PASSWORD = PASSWORD({})", mysql_quote(new)))
            .await
    } else {
        let rows = conn
            .query(&format!(
                "SELECT Host FROM mysql.user WHERE User = {}",
                mysql_quote(user)
            ))
            .await
            .map_err(|f| f.message())?;
        let hosts: Vec<String> = rows
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .collect();
        if hosts.is_empty() {
            return Err(format!("no account named '{user}' on this server"));
        }
        let mut result = Ok(());
        for h in &hosts {
            result = conn
                .execute(&format!(
                    "ALTER USER {}@{} IDENTIFIED BY {}",
                    mysql_quote(user),
                    mysql_quote(h),
                    mysql_quote(new)
                ))
                .await;
            if result.is_err() {
                break;
            }
        }
        result
    };
    conn.close().await;
    result.map_err(|f| f.message())
}

async fn redis(admin: &ConfigDoc, user: &str, new: &str) -> Result<(), String> {
    let mut con = probes::redis::connect(admin)
        .await
        .map_err(|o| o.detail)?
        .con;
    let r = if user.is_empty() || user == "default" && get(admin, "username").is_empty() {
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("requirepass")
            .arg(new)
            .query_async::<String>(&mut con)
            .await
    } else {
        redis::cmd("ACL")
            .arg("SETUSER")
            .arg(user)
            .arg("resetpass")
            .arg(format!(">{new}"))
            .query_async::<String>(&mut con)
            .await
    };
    r.map(|_| ()).map_err(|e| e.to_string())
}

/// The management API's base URL: the config's, or the broker's host on
/// RabbitMQ's default port, https when the config uses TLS.
pub fn management_base(admin: &ConfigDoc) -> String {
    match admin.get("management_url").filter(|u| !u.is_empty()) {
        Some(u) => u.trim_end_matches('/').to_string(),
        None if get(admin, "tls") == "true" => format!("https://{}:15671", get(admin, "host")),
        None => format!("http://{}:15672", get(admin, "host")),
    }
}

/// RabbitMQ has no password change in AMQP itself: its management HTTP API
/// sets it (keeping the user's tags). The URL is checked when it is used
/// (https, or http on loopback), TLS is verified with the config's trust,
/// and no redirect is followed: the request carries the admin's Basic
/// credentials and the new password.
async fn rabbitmq(
    admin: &ConfigDoc,
    user: &str,
    new: &str,
    timeout: Duration,
) -> Result<(), String> {
    let base = management_base(admin);
    let url = format!(
        "{base}/api/users/{}",
        url::form_urlencoded::byte_serialize(user.as_bytes()).collect::<String>()
    );
    let url =
        crate::net::check_secret_url(&url).map_err(|r| format!("management API: not sent: {r}"))?;
    let tls = Tls::new(Verify::Full, &probes::tls_options(admin)).map_err(|f| f.to_string())?;
    let http = nethttp::client(&tls, timeout, Redirects::Never).map_err(|f| f.to_string())?;
    let auth = |r: reqwest::RequestBuilder| {
        r.basic_auth(get(admin, "username"), Some(get(admin, "password")))
    };
    let explain = |f: HttpFailure| format!("management API: {f}");
    let current = nethttp::send(&tls, &url, auth(http.get(url.clone())))
        .await
        .map_err(explain)?
        .response;
    let current: serde_json::Value =
        match current.status().as_u16() {
            200 => current.json().await.map_err(|e| e.to_string())?,
            401 | 403 => return Err(
                "not authorized to manage users (the admin account needs the administrator tag)"
                    .into(),
            ),
            s => return Err(format!("management API answered HTTP {s}")),
        };
    let tags = current
        .get("tags")
        .cloned()
        .unwrap_or(serde_json::json!([]));
    let resp = nethttp::send(
        &tls,
        &url,
        auth(http.put(url.clone())).json(&serde_json::json!({ "password": new, "tags": tags })),
    )
    .await
    .map_err(explain)?
    .response;
    match resp.status().as_u16() {
        200..=299 => Ok(()),
        401 | 403 => Err("not authorized to change the password".into()),
        s => Err(format!("management API answered HTTP {s}")),
    }
}
