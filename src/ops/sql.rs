//! The MCP `sql_query` tool: one SQL statement on a PostgreSQL or
//! MySQL/MariaDB connector, with the connection code, TLS policy and
//! password guards of the probes (`connectors::probes`).
//!
//! Read-only unless the config says `allow_writes = true`:
//! - PostgreSQL: the statement runs inside `BEGIN READ ONLY ... ROLLBACK`
//!   and must be a single statement (it is first parsed as a prepared
//!   statement, which refuses several commands), so it cannot end the
//!   read-only transaction and write in a new one;
//! - MySQL/MariaDB: the session and the transaction are read-only
//!   (`SET SESSION TRANSACTION READ ONLY`, `START TRANSACTION READ ONLY`),
//!   multi-statements are off (the client never asks for them), and the
//!   transaction is rolled back.
//!
//! Each call opens its own connection, so nothing a statement sets outlives
//! it. The database role's own privileges remain the real limit: give an
//! agent a role that can only read.

use crate::connectors::probes::{self, postgres::PgFailure, MyConn};
use crate::connectors::ProbeKind;
use crate::error::{failure, usage, UserError};
use crate::model::{ConfigDoc, Kind};
use serde_json::Value;

/// What a statement returned.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
    /// Rows the statement returned (before the cap) or affected.
    pub row_count: u64,
    /// More rows than the cap; only the first ones are here.
    pub truncated: bool,
    pub read_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Mysql,
}

/// Which engine a config speaks, or why it is not a SQL database here.
pub fn engine(doc: &ConfigDoc) -> Result<Engine, UserError> {
    let c = (doc.meta.kind == Kind::Connector)
        .then(|| crate::connectors::catalog::find(&doc.meta.type_id))
        .flatten();
    match c.map(|c| c.probe) {
        Some(ProbeKind::Postgres) => Ok(Engine::Postgres),
        Some(ProbeKind::Mysql) => Ok(Engine::Mysql),
        _ => Err(usage(format!(
            "'{}' is not a PostgreSQL or MySQL/MariaDB connector",
            doc.meta.name
        ))),
    }
}

pub fn allows_writes(doc: &ConfigDoc) -> bool {
    doc.get("allow_writes") == Some("true")
}

/// Runs `sql` with the config's credentials; at most `max_rows` rows come
/// back. Errors are the server's message (the caller redacts).
pub async fn query(doc: &ConfigDoc, sql: &str, max_rows: usize) -> anyhow::Result<Rows> {
    if sql.trim().is_empty() {
        return Err(usage("no SQL statement").into());
    }
    let writes = allows_writes(doc);
    match engine(doc)? {
        Engine::Postgres => postgres(doc, sql, max_rows, !writes).await,
        Engine::Mysql => mysql(doc, sql, max_rows, !writes).await,
    }
}

fn pg_error(e: tokio_postgres::Error) -> anyhow::Error {
    failure(PgFailure::Server(e).message()).into()
}

async fn postgres(
    doc: &ConfigDoc,
    sql: &str,
    max_rows: usize,
    read_only: bool,
) -> anyhow::Result<Rows> {
    use tokio_postgres::SimpleQueryMessage as M;
    let session = probes::postgres::connect(doc)
        .await
        .map_err(|f| failure(f.outcome().summary()))?;
    let client = session.client;
    if read_only {
        // A superuser's read-only transaction still runs COPY ... TO
        // PROGRAM, pg_reload_conf(), CHECKPOINT: read-only mode needs a role
        // that is not one.
        let su = client
            .query_one(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
                &[],
            )
            .await
            .map_err(pg_error)?;
        if su.get::<_, bool>(0) {
            return Err(failure(format!(
                "'{}' logs in as a PostgreSQL superuser: a read-only transaction does not stop a superuser's side effects (COPY ... TO PROGRAM, pg_reload_conf), so sql_query refuses it",
                doc.meta.name
            ))
            .hint("give the config a role without SUPERUSER (GRANT it SELECT on what the agent may read)")
            .into());
        }
        client
            .batch_execute("BEGIN READ ONLY")
            .await
            .map_err(pg_error)?;
        // One statement only: a prepared statement cannot hold several,
        // so `COMMIT; INSERT ...` is refused before anything runs.
        if let Err(e) = client.prepare(sql).await {
            let _ = client.batch_execute("ROLLBACK").await;
            let text = PgFailure::Server(e).message();
            let hint = if text.contains("multiple commands") {
                "one statement per call in read-only mode"
            } else {
                "the statement was not run"
            };
            return Err(failure(format!("{text} ({hint})")).into());
        }
    }
    let result = client.simple_query(sql).await;
    if read_only {
        let _ = client.batch_execute("ROLLBACK").await;
    }
    let messages = result.map_err(pg_error)?;
    let mut out = Rows {
        columns: vec![],
        rows: vec![],
        row_count: 0,
        truncated: false,
        read_only,
    };
    let mut counted = 0u64;
    for m in messages {
        match m {
            M::RowDescription(cols) if out.columns.is_empty() => {
                out.columns = cols.iter().map(|c| c.name().to_string()).collect();
            }
            M::Row(row) => {
                if out.columns.is_empty() {
                    out.columns = row.columns().iter().map(|c| c.name().to_string()).collect();
                }
                counted += 1;
                if out.rows.len() < max_rows {
                    out.rows.push(
                        (0..row.len())
                            .map(|i| row.get(i).map_or(Value::Null, |v| v.into()))
                            .collect(),
                    );
                } else {
                    out.truncated = true;
                }
            }
            M::CommandComplete(n) => out.row_count = n.max(counted),
            _ => {}
        }
    }
    out.row_count = out.row_count.max(counted);
    Ok(out)
}

fn my_error(f: probes::MyFailure) -> anyhow::Error {
    failure(f.message()).into()
}

async fn mysql(
    doc: &ConfigDoc,
    sql: &str,
    max_rows: usize,
    read_only: bool,
) -> anyhow::Result<Rows> {
    let mut conn: MyConn = probes::mysql_connect(doc)
        .await
        .map_err(|f| failure(f.outcome().summary()))?;
    if read_only {
        for s in [
            "SET SESSION TRANSACTION READ ONLY",
            "START TRANSACTION READ ONLY",
        ] {
            if let Err(f) = conn.execute(s).await {
                conn.close().await;
                return Err(my_error(f));
            }
        }
    }
    let result = conn.query_columns(sql).await;
    if read_only {
        let _ = conn.execute("ROLLBACK").await;
    }
    conn.close().await;
    let (columns, rows) = result.map_err(my_error)?;
    let count = rows.len() as u64;
    let truncated = rows.len() > max_rows;
    Ok(Rows {
        columns,
        rows: rows
            .into_iter()
            .take(max_rows)
            .map(|r| {
                r.into_iter()
                    .map(|v| v.map_or(Value::Null, Value::String))
                    .collect()
            })
            .collect(),
        row_count: count,
        truncated,
        read_only,
    })
}
