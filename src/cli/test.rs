//! `authcfg test [NAME... | --all]`: prove configs work, in parallel, and
//! record the result for `list`'s Status column.

use super::Ctx;
use crate::connectors::{self, classify_io, Class, Outcome};
use crate::error::{usage, Exit};
use crate::model::{ConfigDoc, Kind};
use crate::oauth::{self, tokens};
use crate::ops::Session;
use comfy_table::{presets::UTF8_FULL_CONDENSED, Table};
use serde::Serialize;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// Config name(s)
    names: Vec<String>,
    /// Every config in the store
    #[arg(long, conflicts_with = "names")]
    all: bool,
    /// Seconds each probe may take
    #[arg(long, value_name = "S", default_value_t = 10)]
    timeout: u64,
    /// Machine-readable output
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row {
    name: String,
    ok: bool,
    result: &'static str,
    class: Class,
    latency_ms: u128,
    detail: String,
    remedy: &'static str,
}

pub fn run(ctx: &Ctx, args: Args) -> anyhow::Result<i32> {
    let session = ctx.session()?;
    let names: Vec<String> = if args.all {
        session.store.list()?.keys().cloned().collect()
    } else if args.names.is_empty() {
        return Err(usage("name the configs to test, or pass --all").into());
    } else {
        super::export::canonical(&args.names)?
    };
    let mut docs = vec![];
    for n in &names {
        docs.push(session.store.read(n)?);
    }
    let timeout = Duration::from_secs(args.timeout.max(1));
    let rows = run_probes(&session, docs, timeout);
    for r in &rows {
        let rec = Outcome::fail(r.class, r.detail.clone()).record();
        session.store.update_if(&r.name, |d| {
            d.meta.last_test = Some(rec);
            Ok(Some(crate::store::journal::AuditIntent {
                action: "test".into(),
                config: Some(r.name.clone()),
                outcome: if r.ok { "ok" } else { "failed" }.into(),
                detail: Some(r.result.into()),
            }))
        })?;
    }
    let failed = rows.iter().filter(|r| !r.ok).count();
    if args.json {
        super::print_json(&rows)?;
    } else {
        let mut table = Table::new();
        table
            .load_style(UTF8_FULL_CONDENSED)
            .set_header(["Name", "Result", "Latency", "Detail"]);
        for r in &rows {
            table.add_row([
                r.name.clone(),
                r.result.to_string(),
                format!("{} ms", r.latency_ms),
                r.detail.chars().take(100).collect(),
            ]);
        }
        println!("{table}");
        for r in rows.iter().filter(|r| !r.ok) {
            eprintln!("{}: {} — {}", r.name, r.result, r.remedy);
        }
    }
    Ok(if failed > 0 {
        Exit::TestFailed as i32
    } else {
        0
    })
}

/// One thread per probe; a probe that outlives its timeout is reported as
/// such and left behind (the process ends soon after).
fn run_probes(session: &Session, docs: Vec<ConfigDoc>, timeout: Duration) -> Vec<Row> {
    std::thread::scope(|s| {
        let handles: Vec<_> = docs
            .into_iter()
            .map(|doc| {
                let name = doc.meta.name.clone();
                let (tx, rx) = std::sync::mpsc::channel();
                let start = Instant::now();
                s.spawn(move || {
                    let _ = tx.send(probe(session, doc, timeout));
                });
                (name, rx, start)
            })
            .collect();
        handles
            .into_iter()
            .map(|(name, rx, start)| {
                let grace = timeout + Duration::from_secs(2);
                let outcome = rx
                    .recv_timeout(grace.saturating_sub(start.elapsed()))
                    .unwrap_or_else(|_| {
                        Outcome::fail(
                            Class::Timeout,
                            format!("no answer within {} s", timeout.as_secs()),
                        )
                    });
                Row {
                    name,
                    ok: outcome.passed(),
                    result: outcome.class.label(),
                    class: outcome.class,
                    latency_ms: start.elapsed().as_millis(),
                    remedy: outcome.class.remedy(),
                    detail: outcome.detail,
                }
            })
            .collect()
    })
}

fn probe(session: &Session, doc: ConfigDoc, timeout: Duration) -> Outcome {
    match doc.meta.kind {
        Kind::Oauth2 => probe_oauth(session, doc),
        Kind::Custom if doc.meta.type_id == "env_vars" => Outcome::fail(
            Class::Config,
            "environment-variable configs have nothing to test",
        ),
        Kind::Custom => connectors::http::probe(&doc, timeout),
        Kind::Connector => connectors::probe(&doc, timeout),
    }
}

fn probe_oauth(session: &Session, doc: ConfigDoc) -> Outcome {
    let name = doc.meta.name.clone();
    let doc = match crate::ops::refresh::ensure_fresh(session, doc, false) {
        Ok(d) => d,
        Err(e) => {
            let text = e.to_string();
            let class = if text.contains("invalid_grant")
                || text.contains("invalid_client")
                || text.contains("refresh token")
            {
                Class::Auth
            } else if text.contains("cannot reach") {
                classify_io(&text, false)
            } else {
                Class::Protocol
            };
            let hint = crate::error::classify(&e).1.unwrap_or_default();
            return Outcome::fail(class, format!("{text}; {hint}"));
        }
    };
    if doc.get("grant") == Some("client_credentials")
        && doc.get("introspection_url").is_some_and(|u| !u.is_empty())
    {
        let result = oauth::client(&doc, None).and_then(|c| {
            let at =
                oauth2::AccessToken::new(doc.get("access_token").unwrap_or_default().to_string());
            Ok(c.introspect(&at)?
                .request(&oauth::http_client())
                .map_err(|e| oauth::classify_token_error(&e, &name))?)
        });
        return match result {
            Ok(r) if oauth2::TokenIntrospectionResponse::active(&r) => {
                Outcome::ok("token active (introspection)")
            }
            Ok(_) => Outcome::fail(Class::Auth, "the provider says the token is not active"),
            Err(e) => Outcome::fail(Class::Protocol, e.to_string()),
        };
    }
    match tokens::userinfo(&doc) {
        Ok(claims) => Outcome::ok(format!(
            "token accepted{}",
            tokens::account_from_claims(&claims)
                .map(|a| format!(" for {a}"))
                .unwrap_or_default()
        )),
        Err((0, msg)) if msg == "no userinfo endpoint" => {
            Outcome::ok("token obtained (provider has no userinfo endpoint to call)")
        }
        Err((0, msg)) => Outcome::fail(classify_io(&msg, false), msg),
        Err((401, www)) => Outcome::fail(
            Class::Auth,
            format!("HTTP 401 from userinfo {www}; re-authorize with `authcfg reauth {name}`"),
        ),
        Err((403, www)) => Outcome::fail(
            Class::Permission,
            format!("HTTP 403 from userinfo {www} (insufficient_scope?)"),
        ),
        Err((s, _)) => Outcome::fail(Class::Protocol, format!("HTTP {s} from userinfo")),
    }
}
