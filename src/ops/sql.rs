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
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::time::Instant;

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
        .then(|| crate::catalog::connectors::find(&doc.meta.type_id))
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

/// How often a statement still running at its deadline is cancelled
/// again, and how long each attempt waits for it to end.
const CANCEL_TRIES: u32 = 3;
const CANCEL_WAIT: Duration = Duration::from_secs(2);

/// Runs `sql` with the config's credentials; at most `max_rows` rows come
/// back. Errors are the server's message (the caller redacts).
///
/// The whole call, connecting included, may take `timeout`. A statement
/// still running then is cancelled on the server (docs/SECURITY.md, "An
/// agent using authcfg mcp"): PostgreSQL gets a cancel request, MySQL and
/// MariaDB a `KILL QUERY` on a second connection, repeated until the
/// statement has ended (at most `CANCEL_TRIES` times); only then is the
/// session closed and the call answered.
pub async fn query(
    doc: &ConfigDoc,
    sql: &str,
    max_rows: usize,
    timeout: Duration,
) -> anyhow::Result<Rows> {
    if sql.trim().is_empty() {
        return Err(usage("no SQL statement").into());
    }
    let writes = allows_writes(doc);
    let deadline = Instant::now() + timeout;
    match engine(doc)? {
        Engine::Postgres => postgres(doc, sql, max_rows, !writes, deadline, timeout).await,
        Engine::Mysql => mysql(doc, sql, max_rows, !writes, deadline, timeout).await,
    }
}

fn too_slow(timeout: Duration, what: &str) -> anyhow::Error {
    failure(format!("no answer within {} s; {what}", timeout.as_secs())).into()
}

/// Runs `work` until `deadline`; past it, `cancel` is sent (and sent again)
/// until `work` ends, then the call fails with the timeout.
async fn until<T, W, C, F>(
    deadline: Instant,
    timeout: Duration,
    stop: &AtomicBool,
    work: W,
    cancel: C,
) -> anyhow::Result<T>
where
    W: std::future::Future<Output = anyhow::Result<T>>,
    C: Fn() -> F,
    F: std::future::Future<Output = Result<(), String>>,
{
    tokio::pin!(work);
    if let Ok(r) = tokio::time::timeout_at(deadline, &mut work).await {
        return r;
    }
    // Nothing new starts; what runs is cancelled.
    stop.store(true, Ordering::SeqCst);
    let mut why = String::from("the server did not answer the cancellation");
    for _ in 0..CANCEL_TRIES {
        match tokio::time::timeout(CANCEL_WAIT, cancel()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => why = e,
            Err(_) => why = "the cancellation timed out".into(),
        }
        if tokio::time::timeout(CANCEL_WAIT, &mut work).await.is_ok() {
            return Err(too_slow(
                timeout,
                "the statement was cancelled on the server",
            ));
        }
    }
    Err(too_slow(
        timeout,
        &format!("cancelling the statement on the server failed ({why}); it may still run there"),
    ))
}

fn stopped(stop: &AtomicBool) -> anyhow::Result<()> {
    if stop.load(Ordering::SeqCst) {
        return Err(failure("cancelled").into());
    }
    Ok(())
}

fn pg_error(e: tokio_postgres::Error) -> anyhow::Error {
    failure(PgFailure::Server(e).message()).into()
}

async fn postgres(
    doc: &ConfigDoc,
    sql: &str,
    max_rows: usize,
    read_only: bool,
    deadline: Instant,
    timeout: Duration,
) -> anyhow::Result<Rows> {
    let session = tokio::time::timeout_at(deadline, probes::postgres::connect(doc))
        .await
        .map_err(|_| too_slow(timeout, "no session was opened"))?
        .map_err(|f| failure(f.outcome().summary().to_string()))?;
    let client = session.client;
    let token = client.cancel_token();
    let stop = AtomicBool::new(false);
    let work = pg_run(&client, doc, sql, max_rows, read_only, &stop);
    let cancel = || async {
        probes::postgres::cancel(doc, &token)
            .await
            .map_err(|f| f.message())
    };
    until(deadline, timeout, &stop, work, cancel).await
}

async fn pg_run(
    client: &tokio_postgres::Client,
    doc: &ConfigDoc,
    sql: &str,
    max_rows: usize,
    read_only: bool,
    stop: &AtomicBool,
) -> anyhow::Result<Rows> {
    use tokio_postgres::SimpleQueryMessage as M;
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
        stopped(stop)?;
        client
            .batch_execute("BEGIN READ ONLY")
            .await
            .map_err(pg_error)?;
        // One statement only: a prepared statement cannot hold several,
        // so `COMMIT; INSERT ...` is refused before anything runs.
        if let Err(e) = client.prepare(sql).await {
            let _ = client.batch_execute("ROLLBACK").await;
            // PostgreSQL refuses several statements in one Parse with
            // SQLSTATE 42601 and no position; a syntax error of one
            // statement always points at where it is.
            let several = e.as_db_error().is_some_and(|d| {
                *d.code() == tokio_postgres::error::SqlState::SYNTAX_ERROR && d.position().is_none()
            });
            let text = PgFailure::Server(e).message();
            let hint = if several {
                "one statement per call in read-only mode"
            } else {
                "the statement was not run"
            };
            return Err(failure(format!("{text} ({hint})")).into());
        }
    }
    stopped(stop)?;
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
    deadline: Instant,
    timeout: Duration,
) -> anyhow::Result<Rows> {
    let conn: MyConn = tokio::time::timeout_at(deadline, probes::mysql_connect(doc))
        .await
        .map_err(|_| too_slow(timeout, "no session was opened"))?
        .map_err(|f| failure(f.outcome().summary().to_string()))?;
    let id = conn.connection_id;
    let stop = AtomicBool::new(false);
    let work = my_run(conn, sql, max_rows, read_only, &stop);
    // KILL QUERY from a second session of the same account (which may end
    // its own statements).
    let cancel = || async move {
        let mut other = probes::mysql_connect(doc).await.map_err(|f| f.message())?;
        let r = other.execute(&format!("KILL QUERY {id}")).await;
        other.close().await;
        r.map_err(|f| f.message())
    };
    until(deadline, timeout, &stop, work, cancel).await
}

async fn my_run(
    mut conn: MyConn,
    sql: &str,
    max_rows: usize,
    read_only: bool,
    stop: &AtomicBool,
) -> anyhow::Result<Rows> {
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
    if let Err(e) = stopped(stop) {
        conn.close().await;
        return Err(e);
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
