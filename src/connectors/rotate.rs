//! Server-side password changes for two-phase rotation: connect with the
//! admin credentials, set the new password, so the caller can then prove it
//! with a fresh connection before saving.

use super::probes;
use crate::model::ConfigDoc;
use std::time::Duration;

/// Whether this connector's passwords can be rotated on the server.
pub fn supported(probe: &str) -> bool {
    matches!(probe, "postgres" | "mysql" | "redis" | "amqp")
}

fn get<'a>(doc: &'a ConfigDoc, f: &str) -> &'a str {
    doc.get(f).unwrap_or_default()
}

/// Sets `user`'s password to `new`, connected as `admin`. The error is the
/// server's own reason.
pub fn set_password(
    probe: &str,
    admin: &ConfigDoc,
    user: &str,
    new: &str,
    timeout: Duration,
) -> Result<(), String> {
    match probe {
        "postgres" => probes::block_on_result(timeout, postgres(admin, user, new, timeout)),
        "mysql" => mysql(admin, user, new, timeout),
        "redis" => redis(admin, user, new, timeout),
        "amqp" => rabbitmq(admin, user, new, timeout),
        other => Err(format!(
            "rotation on the server is not supported for the {other} probe"
        )),
    }
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

async fn postgres(
    admin: &ConfigDoc,
    user: &str,
    new: &str,
    timeout: Duration,
) -> Result<(), String> {
    let client = probes::pg_connect(admin, timeout).await.map_err(|e| {
        e.as_db_error()
            .map(|d| d.message().to_string())
            .unwrap_or_else(|| super::chain(&e))
    })?;
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

fn mysql(admin: &ConfigDoc, user: &str, new: &str, timeout: Duration) -> Result<(), String> {
    use mysql::prelude::Queryable;
    let mut conn = probes::mysql_connect(admin, timeout).map_err(|e| match e {
        mysql::Error::MySqlError(m) => m.message,
        other => super::chain(&other),
    })?;
    let result = if get(admin, "username") == user {
        conn.query_drop(format!("SET PASSWORD = PASSWORD({})", mysql_quote(new)))
    } else {
        let hosts: Vec<String> = conn
            .exec("SELECT Host FROM mysql.user WHERE User = ?", (user,))
            .map_err(|e| super::chain(&e))?;
        if hosts.is_empty() {
            return Err(format!("no account named '{user}' on this server"));
        }
        hosts.iter().try_for_each(|h| {
            conn.query_drop(format!(
                "ALTER USER {}@{} IDENTIFIED BY {}",
                mysql_quote(user),
                mysql_quote(h),
                mysql_quote(new)
            ))
        })
    };
    result.map_err(|e| match e {
        mysql::Error::MySqlError(m) => m.message,
        other => super::chain(&other),
    })
}

fn redis(admin: &ConfigDoc, user: &str, new: &str, timeout: Duration) -> Result<(), String> {
    let mut con = probes::redis_connect(admin, timeout).map_err(|e| e.to_string())?;
    let r = if user.is_empty() || user == "default" && get(admin, "username").is_empty() {
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("requirepass")
            .arg(new)
            .query::<String>(&mut con)
    } else {
        redis::cmd("ACL")
            .arg("SETUSER")
            .arg(user)
            .arg("resetpass")
            .arg(format!(">{new}"))
            .query::<String>(&mut con)
    };
    r.map(|_| ()).map_err(|e| e.to_string())
}

/// RabbitMQ has no password change in AMQP itself: its management HTTP API
/// sets it (keeping the user's tags).
fn rabbitmq(admin: &ConfigDoc, user: &str, new: &str, timeout: Duration) -> Result<(), String> {
    let base = match admin.get("management_url").filter(|u| !u.is_empty()) {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => format!("http://{}:15672", get(admin, "host")),
    };
    let http = reqwest::blocking::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| e.to_string())?;
    let url = format!(
        "{base}/api/users/{}",
        url::form_urlencoded::byte_serialize(user.as_bytes()).collect::<String>()
    );
    let auth = |r: reqwest::blocking::RequestBuilder| {
        r.basic_auth(get(admin, "username"), Some(get(admin, "password")))
    };
    let current: serde_json::Value = auth(http.get(&url))
        .send()
        .map_err(|e| super::chain(&e.without_url()))
        .and_then(|r| match r.status().as_u16() {
            200 => r.json().map_err(|e| e.to_string()),
            401 | 403 => Err(
                "not authorized to manage users (the admin account needs the administrator tag)"
                    .into(),
            ),
            s => Err(format!("management API answered HTTP {s}")),
        })?;
    let tags = current
        .get("tags")
        .cloned()
        .unwrap_or(serde_json::json!([]));
    let resp = auth(http.put(&url))
        .json(&serde_json::json!({ "password": new, "tags": tags }))
        .send()
        .map_err(|e| super::chain(&e.without_url()))?;
    match resp.status().as_u16() {
        200..=299 => Ok(()),
        401 | 403 => Err("not authorized to change the password".into()),
        s => Err(format!("management API answered HTTP {s}")),
    }
}
