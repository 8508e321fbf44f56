//! `authcfg mcp`: a Model Context Protocol server (rmcp) whose tools act
//! with a config's secret without showing it (docs/SECURITY.md, "An agent
//! using authcfg mcp").
//!
//! - Only the configs matched by `--expose` globs (or
//!   `AUTHCFG_MCP_EXPOSE`) exist for the client; by default none.
//! - Tools: `list_configs`, `http_request`, `sql_query`, `test_config`;
//!   `reveal_secret` only when the server was started with
//!   `--allow-reveal`; `run_command` only with `--allow-run PROG`
//!   (`ops::run`: placeholders, the proxy, masked and bounded output).
//! - Every tool output passes through one `Redactor` holding every secret
//!   of every exposed config (and the tokens refreshed since), raw and
//!   encoded.
//! - Every call is audited with the actor `mcp:<client name>`; a hand-out
//!   (`http_request`, `sql_query`, `reveal_secret`) is recorded before
//!   anything is sent, as `ops::handout` does for the CLI.
//!
//! Store work (decryption, refresh, audit) runs on a plain thread, network
//! work on the command's runtime. Nothing here prints: notices go through
//! the `Ui` (the CLI writes them to stderr; stdout carries only JSON-RPC).

pub mod transport;

use crate::error::{classify, failure, usage, UserError};
use crate::model::ConfigDoc;
use crate::ops::{Session, Ui};
use crate::redact::Redactor;
use crate::settings::Settings;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Whether a call has its audit record yet.
type Flag = Arc<AtomicBool>;

/// What the user decided when starting the server.
#[derive(Debug, Clone)]
pub struct Options {
    /// Globs of config names (`*` matches any run of characters, `/`
    /// included; `?` one character).
    pub expose: Vec<String>,
    pub allow_reveal: bool,
    pub max_body: usize,
    pub max_rows: usize,
    pub timeout: Duration,
    /// Programs `run_command` may run (`--allow-run`); none: no such tool.
    pub allow_run: Vec<crate::ops::run::allow::Allowed>,
    /// Variables of the server's environment `run_command`'s programs get
    /// beyond `ops::run::BASE_ENV` (`--run-env`).
    pub run_env: Vec<String>,
}

/// At most this many distinct client names get a session of their own;
/// later ones share the last slot's actor name `mcp:other`.
const MAX_CLIENT_NAMES: usize = 32;

pub struct Server {
    settings: Settings,
    root: PathBuf,
    ui: &'static dyn Ui,
    opts: Options,
    sessions: Mutex<HashMap<String, Arc<Session<'static>>>>,
    settings_by_actor: Mutex<HashMap<String, &'static Settings>>,
    redactor: RwLock<Redactor>,
    exposed: Vec<String>,
    clients: crate::ops::http::Clients,
    /// Set once a request of the agent held a secret value of an exposed
    /// config: every later call of this server is refused, so a guess that
    /// hits ends the guessing (docs/SECURITY.md, "An agent using authcfg
    /// mcp", "Guessing").
    tripped: AtomicBool,
}

/// The client's name as the audit trail shows it: printable, short.
pub fn actor_name(client: Option<&str>) -> String {
    let raw = client.unwrap_or("").trim();
    let clean: String = raw
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ' ' | '@' | '/'))
        .take(64)
        .collect();
    if clean.is_empty() {
        "mcp:unknown".into()
    } else {
        format!("mcp:{clean}")
    }
}

/// Runs `f` on a thread of its own (store work, blocking HTTP for OAuth
/// refresh, probes that start their own runtime calls) and waits for it
/// without blocking the runtime.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("authcfg-mcp-store".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| failure(format!("cannot start a thread: {e}")))?;
    rx.await
        .map_err(|_| failure("the store thread ended without an answer"))?
}

impl Server {
    /// Opens the store once (the key must come from the environment or a
    /// keyring: nothing prompts) and reads the exposed configs for the
    /// redactor.
    pub fn start(
        settings: &Settings,
        root: PathBuf,
        ui: &'static dyn Ui,
        opts: Options,
    ) -> anyhow::Result<Server> {
        let mut settings = settings.clone();
        settings.interactive = false;
        let s = Session::open(&settings, &root, ui)?;
        let mut exposed = vec![];
        let mut redactor = Redactor::new();
        for m in s.store.list()? {
            if opts
                .expose
                .iter()
                .any(|g| crate::store::names::glob(g, &m.name))
            {
                // A config this key cannot open (another group's) is not offered.
                if let Ok(doc) = s.store.read(&m.name) {
                    redactor.add_doc(&doc);
                    exposed.push(m.name);
                }
            }
        }
        drop(s);
        Ok(Server {
            settings,
            root,
            ui,
            opts,
            sessions: Mutex::new(HashMap::new()),
            settings_by_actor: Mutex::new(HashMap::new()),
            redactor: RwLock::new(redactor),
            exposed,
            clients: Default::default(),
            tripped: AtomicBool::new(false),
        })
    }

    pub fn exposed(&self) -> &[String] {
        &self.exposed
    }

    /// The `--expose` globs that match no config this key can read.
    pub fn unmatched(&self) -> Vec<&str> {
        self.opts
            .expose
            .iter()
            .filter(|g| !self.exposed.iter().any(|n| crate::store::names::glob(g, n)))
            .map(String::as_str)
            .collect()
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// The session whose audit records name this client.
    fn session(&self, actor: &str) -> anyhow::Result<Arc<Session<'static>>> {
        let mut map = self.sessions.lock().expect("sessions lock");
        let key = if map.len() >= MAX_CLIENT_NAMES && !map.contains_key(actor) {
            "mcp:other".to_string()
        } else {
            actor.to_string()
        };
        if let Some(s) = map.get(&key) {
            return Ok(s.clone());
        }
        let mut leaked = self.settings_by_actor.lock().expect("settings lock");
        let settings: &'static Settings = match leaked.get(&key) {
            Some(s) => s,
            None => {
                let mut settings = self.settings.clone();
                settings.actor = Some(key.clone());
                // One per distinct client name (bounded above), for the
                // life of the process.
                let s: &'static Settings = Box::leak(Box::new(settings));
                leaked.insert(key.clone(), s);
                s
            }
        };
        drop(leaked);
        let s = Arc::new(Session::open(settings, &self.root, self.ui)?);
        map.insert(key, s.clone());
        Ok(s)
    }

    fn is_exposed(&self, name: &str) -> bool {
        self.exposed.iter().any(|n| n == name)
    }

    fn redact_text(&self, t: &str) -> String {
        self.redactor.read().expect("redactor lock").text(t)
    }

    fn learn(&self, doc: &ConfigDoc) {
        self.redactor.write().expect("redactor lock").add_doc(doc);
    }

    /// A snapshot of the redactor, its automaton built once and shared.
    fn redactor(&self) -> Redactor {
        let r = self.redactor.read().expect("redactor lock");
        r.prepare();
        r.clone()
    }

    pub fn tools(&self) -> Vec<Tool> {
        let obj = |v: Value| match v {
            Value::Object(o) => o,
            _ => unreachable!("schemas are objects"),
        };
        let mut tools = vec![
            Tool::new(
                "list_configs",
                "The credentials this server may use: name, type, provider, status and, for HTTP ones, the origins a request may go to. Never a secret value.",
                obj(json!({"type": "object", "properties": {}, "additionalProperties": false})),
            ),
            Tool::new(
                "http_request",
                "An HTTP request made with a config's credential attached by authcfg (API key, bearer, basic, OAuth2 refreshed when due, S3 SigV4). The URL must be on one of the config's allowed origins (see list_configs). Do not add Authorization, Cookie, Range or the config's key header yourself. Returns status, headers and body (capped); any secret in the answer is replaced by [REDACTED:CONFIG/FIELD].",
                obj(json!({
                    "type": "object",
                    "properties": {
                        "config": {"type": "string", "description": "Config name, from list_configs"},
                        "method": {"type": "string", "description": "GET (default), POST, PUT, PATCH, DELETE, HEAD, OPTIONS"},
                        "url": {"type": "string", "description": "Full URL on an allowed origin"},
                        "headers": {"type": "object", "additionalProperties": {"type": "string"}, "description": "Extra request headers"},
                        "body": {"type": "string", "description": "Request body (text)"}
                    },
                    "required": ["config", "url"],
                    "additionalProperties": false
                })),
            ),
            Tool::new(
                "sql_query",
                "One SQL statement on a PostgreSQL or MySQL/MariaDB connector, run with the config's credentials. Read-only (a read-only transaction, rolled back) unless the config allows writes. Rows come back as JSON, capped.",
                obj(json!({
                    "type": "object",
                    "properties": {
                        "config": {"type": "string", "description": "Config name, from list_configs"},
                        "sql": {"type": "string", "description": "One SQL statement"}
                    },
                    "required": ["config", "sql"],
                    "additionalProperties": false
                })),
            ),
            Tool::new(
                "test_config",
                "Proves a config works with its real protocol (HTTP, PostgreSQL, MySQL, Redis, S3, OAuth2 userinfo, ...) and records the result. Returns pass or fail with the reason; never a secret.",
                obj(json!({
                    "type": "object",
                    "properties": {"config": {"type": "string", "description": "Config name, from list_configs"}},
                    "required": ["config"],
                    "additionalProperties": false
                })),
            ),
        ];
        if !self.opts.allow_run.is_empty() {
            let names: Vec<&str> = self
                .opts
                .allow_run
                .iter()
                .map(|a| a.name.as_str())
                .collect();
            tools.push(Tool::new(
                "run_command",
                format!(
                    "Runs one of these programs: {}. Its environment holds each named config's variables (list_configs: run_env) as placeholders, never the secrets; its HTTP(S) requests go through a proxy of authcfg that puts the real values in at the config's allowed origins only, and refuses them anywhere else. No stdin; a time limit; stdout and stderr come back capped, with any secret replaced by [REDACTED:CONFIG/FIELD].",
                    names.join(", ")
                ),
                obj(json!({
                    "type": "object",
                    "properties": {
                        "program": {"type": "string", "description": "One of the allowed programs"},
                        "args": {"type": "array", "items": {"type": "string"}, "description": "Its arguments"},
                        "configs": {"type": "array", "items": {"type": "string"}, "description": "Config names, from list_configs, whose variables the program gets"}
                    },
                    "required": ["program", "configs"],
                    "additionalProperties": false
                })),
            ));
        }
        if self.opts.allow_reveal {
            tools.push(Tool::new(
                "reveal_secret",
                "Returns a secret value of a config. Offered only because the server was started with --allow-reveal.",
                obj(json!({
                    "type": "object",
                    "properties": {
                        "config": {"type": "string"},
                        "field": {"type": "string", "description": "Field name (api_key, token, password, access_token, ...)"}
                    },
                    "required": ["config", "field"],
                    "additionalProperties": false
                })),
            ));
        }
        tools
    }

    /// Runs one tool call; the answer is redacted (except `reveal_secret`).
    pub async fn call(
        self: &Arc<Server>,
        client: Option<&str>,
        tool: &str,
        args: serde_json::Map<String, Value>,
    ) -> CallToolResult {
        let actor = actor_name(client);
        let started = Instant::now();
        // Set once this call has a record in the audit trail; a call that
        // fails before it gets one is recorded as failed below.
        let audited: Flag = Arc::new(AtomicBool::new(false));
        let config = args
            .get("config")
            .and_then(Value::as_str)
            .map(str::to_string);
        let result = match tool {
            _ if self.tripped.load(Ordering::SeqCst) => Err(UserError::new(
                crate::error::Exit::Usage,
                "refused: an earlier request of this session held a secret value; this server answers no more calls",
            )
            .hint("the user restarts `authcfg mcp`; `authcfg log` shows the request")
            .into()),
            "list_configs" => self.list_configs(&actor, audited.clone()).await,
            "http_request" => self.http_request(&actor, args, audited.clone()).await,
            "sql_query" => self.sql_query(&actor, args, audited.clone()).await,
            "test_config" => self.test_config(&actor, args, audited.clone()).await,
            "run_command" if !self.opts.allow_run.is_empty() => {
                self.run_command(&actor, args, audited.clone()).await
            }
            "reveal_secret" if self.opts.allow_reveal => {
                return match self.reveal(&actor, args, audited.clone()).await {
                    Ok(v) => CallToolResult::success(vec![ContentBlock::text(v.to_string())]),
                    Err(e) => {
                        self.audit_failure(&actor, tool, config, &e, &audited).await;
                        self.error_result(tool, &actor, e)
                    }
                };
            }
            other => Err(usage(format!("no tool named '{other}'")).into()),
        };
        match result {
            Ok(v) => {
                self.ui.notice(&format!(
                    "authcfg mcp: {actor} {tool} ok ({} ms)",
                    started.elapsed().as_millis()
                ));
                let mut v = self.redactor.read().expect("redactor lock").json(&v);
                // Answers that describe (accounts, a server's error text)
                // are outside text, escaped after the redaction; bodies and
                // rows are the data the agent asked for (docs/SECURITY.md).
                if matches!(tool, "list_configs" | "test_config") {
                    crate::text::escape_json(&mut v, crate::text::SHOWN);
                }
                CallToolResult::success(vec![ContentBlock::text(
                    serde_json::to_string_pretty(&v).unwrap_or_default(),
                )])
            }
            Err(e) => {
                self.audit_failure(&actor, tool, config, &e, &audited).await;
                self.error_result(tool, &actor, e)
            }
        }
    }

    /// Records a call that failed before it was recorded (bad arguments,
    /// an unknown tool, a store that would not open).
    async fn audit_failure(
        self: &Arc<Server>,
        actor: &str,
        tool: &str,
        config: Option<String>,
        e: &anyhow::Error,
        audited: &Flag,
    ) {
        if audited.load(Ordering::SeqCst) {
            return;
        }
        let me = self.clone();
        let actor = actor.to_string();
        let action = format!(
            "mcp.{}",
            if me.tools().iter().any(|t| t.name == tool) {
                tool
            } else {
                "unknown_tool"
            }
        );
        let config = config.filter(|c| me.is_exposed(c));
        let detail: String = me
            .redact_text(&e.to_string())
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect();
        let _ = blocking(move || {
            let s = me.session(&actor)?;
            s.audit(&action, config.as_deref(), "error", Some(&detail));
            Ok(())
        })
        .await;
    }

    fn error_result(&self, tool: &str, actor: &str, e: anyhow::Error) -> CallToolResult {
        let (_, hint) = classify(&e);
        let mut text = format!("{e:#}");
        if let Some(h) = hint {
            text.push_str(&format!("\nhint: {h}"));
        }
        let text = crate::text::escape_message(&self.redact_text(&text)).into_owned();
        self.ui.notice(&format!(
            "authcfg mcp: {actor} {tool} failed: {}",
            text.lines().next().unwrap_or("")
        ));
        CallToolResult::error(vec![ContentBlock::text(text)])
    }

    fn arg(args: &serde_json::Map<String, Value>, k: &str) -> Result<String, UserError> {
        match args.get(k) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(usage(format!("'{k}' must be a string"))),
            None => Err(usage(format!("'{k}' is required"))),
        }
    }

    /// The config, if exposed; the refusal says nothing of whether an
    /// unexposed one exists.
    fn exposed_name(
        &self,
        s: &Session,
        action: &str,
        name: &str,
        audited: &Flag,
    ) -> Result<String, anyhow::Error> {
        let canon = crate::store::canonical_name(name).unwrap_or_else(|_| name.to_string());
        if self.is_exposed(&canon) {
            return Ok(canon);
        }
        s.audit(
            action,
            None,
            "refused",
            Some("a config that is not exposed"),
        );
        audited.store(true, Ordering::SeqCst);
        Err(UserError::new(
            crate::error::Exit::NotFound,
            format!("no exposed config named '{name}'"),
        )
        .hint("list_configs shows the configs this server offers; the user chooses them with `authcfg mcp --expose GLOB`")
        .into())
    }

    async fn list_configs(self: &Arc<Server>, actor: &str, audited: Flag) -> anyhow::Result<Value> {
        let me = self.clone();
        let actor = actor.to_string();
        blocking(move || {
            let s = me.session(&actor)?;
            let mut out = vec![];
            for m in s.store.list()? {
                if !me.is_exposed(&m.name) {
                    continue;
                }
                let doc = match s.store.read(&m.name) {
                    Ok(d) => d,
                    Err(_) => continue,
                };
                let origins = crate::ops::http::allowed_origins(&doc)
                    .map(|v| v.iter().map(ToString::to_string).collect::<Vec<_>>())
                    .unwrap_or_default();
                let sql = crate::ops::sql::engine(&doc).ok();
                let mut tools = vec!["test_config"];
                // By the credential model: a type that puts nothing on an
                // HTTP request has no http_request (an empty secret still
                // has: the call says what is missing).
                let http_ok = !matches!(
                    crate::ops::credential::Credential::of(&doc),
                    Err(crate::ops::credential::CredentialError::NotHttp { .. })
                );
                if http_ok {
                    tools.push("http_request");
                }
                if sql.is_some() {
                    tools.push("sql_query");
                }
                let mut e = json!({
                    "name": m.name,
                    "kind": m.kind.as_str(),
                    "type": m.type_id,
                    "status": m.status(),
                    "tools": tools,
                });
                if m.kind == crate::model::Kind::Oauth2 {
                    e["provider"] = m.type_id.clone().into();
                    if let Some(x) = m.expires {
                        e["token_expires"] = crate::model::rfc3339(x).into();
                    }
                }
                if let Some(a) = &m.account {
                    e["account"] = a.as_received().into();
                }
                if let Some(t) = &m.last_test {
                    e["last_test"] = json!({"at": crate::model::rfc3339(t.at), "ok": t.ok, "class": t.class});
                }
                if http_ok {
                    e["allowed_origins"] = origins.into();
                }
                if !me.opts.allow_run.is_empty() {
                    tools.push("run_command");
                    e["tools"] = tools.clone().into();
                    let env: Vec<String> =
                        crate::export::vars_for(&doc).into_iter().map(|v| v.name).collect();
                    e["run_env"] = env.into();
                }
                if let Some(engine) = sql {
                    e["engine"] = match engine {
                        crate::ops::sql::Engine::Postgres => "postgres",
                        crate::ops::sql::Engine::Mysql => "mysql",
                    }
                    .into();
                    e["read_only"] = (!crate::ops::sql::allows_writes(&doc)).into();
                }
                out.push(e);
            }
            s.audit(
                "mcp.list_configs",
                None,
                "ok",
                Some(&format!("{} configs", out.len())),
            );
            audited.store(true, Ordering::SeqCst);
            let mut v = json!({ "configs": out });
            if me.exposed.is_empty() {
                v["note"] = "no config is exposed to this client; the user starts the server with `authcfg mcp --expose NAME-OR-GLOB`".into();
            }
            Ok(v)
        })
        .await
    }

    async fn http_request(
        self: &Arc<Server>,
        actor: &str,
        args: serde_json::Map<String, Value>,
        audited: Flag,
    ) -> anyhow::Result<Value> {
        let name = Self::arg(&args, "config")?;
        let url = Self::arg(&args, "url")?;
        let method = match args.get("method") {
            Some(Value::String(m)) => m.clone(),
            None | Some(Value::Null) => String::new(),
            Some(_) => return Err(usage("'method' must be a string").into()),
        };
        let mut headers = vec![];
        match args.get("headers") {
            Some(Value::Object(o)) => {
                for (k, v) in o {
                    match v {
                        Value::String(s) => headers.push((k.clone(), s.clone())),
                        _ => return Err(usage(format!("header '{k}' must be a string")).into()),
                    }
                }
            }
            Some(Value::Array(a)) => {
                for h in a {
                    let line = h.as_str().unwrap_or_default();
                    let (k, v) = line
                        .split_once(':')
                        .ok_or_else(|| usage(format!("'{line}' is not 'Name: value'")))?;
                    headers.push((k.to_string(), v.to_string()));
                }
            }
            None | Some(Value::Null) => {}
            Some(_) => return Err(usage("'headers' must be an object").into()),
        }
        let body = match args.get("body") {
            Some(Value::String(b)) => Some(b.clone().into_bytes()),
            None | Some(Value::Null) => None,
            Some(v) => Some(v.to_string().into_bytes()),
        };
        let req = crate::ops::http::Request {
            method,
            url,
            headers,
            body,
        };
        let action = "mcp.http_request";
        let mut parts: Vec<&[u8]> = vec![req.method.as_bytes(), req.url.as_bytes()];
        for (k, v) in &req.headers {
            parts.push(k.as_bytes());
            parts.push(v.as_bytes());
        }
        parts.extend(req.body.as_deref());
        self.refuse_sent_secrets(actor, action, &name, &parts, &audited)
            .await?;
        let (plan, doc) = self
            .hand_out(
                actor,
                action,
                name,
                audited,
                move |s, name, used, audited| {
                    let doc = used.docs[0].clone();
                    let plan = match crate::ops::http::plan(&doc, &req) {
                        Ok(p) => p,
                        Err(e) => {
                            let origin = url::Url::parse(req.url.trim())
                                .map(|u| crate::net::policy::origin(&u))
                                .unwrap_or_else(|_| "an invalid URL".into());
                            let detail =
                                format!("{} {origin}", crate::ops::http::method_label(&req));
                            s.audit(action, Some(name), "refused", Some(&detail));
                            audited.store(true, Ordering::SeqCst);
                            return Err(e.into());
                        }
                    };
                    used.record(s)?;
                    audited.store(true, Ordering::SeqCst);
                    Ok((plan, doc))
                },
            )
            .await?;
        // A refreshed token is a new secret to look for.
        self.learn(&doc);
        drop(doc);
        let limits = crate::ops::http::Limits {
            timeout: self.opts.timeout,
            max_body: self.opts.max_body,
        };
        let resp =
            crate::ops::http::perform_with(&plan, limits, &self.redactor(), Some(&self.clients))
                .await?;
        Ok(resp.to_json())
    }

    /// Refuses, before anything is sent, a request whose parts (URL,
    /// headers, body, SQL text) hold a secret value of an exposed config in
    /// any form the redactor finds, and trips the server (every later call
    /// refused): redaction would otherwise tell a guessing agent which of
    /// its candidates came back as `[REDACTED:...]`.
    async fn refuse_sent_secrets(
        self: &Arc<Server>,
        actor: &str,
        action: &'static str,
        name: &str,
        parts: &[&[u8]],
        audited: &Flag,
    ) -> anyhow::Result<()> {
        let r = self.redactor();
        if !parts.iter().any(|p| r.finds(p)) {
            return Ok(());
        }
        self.tripped.store(true, Ordering::SeqCst);
        let me = self.clone();
        let actor = actor.to_string();
        let canon = crate::store::canonical_name(name).unwrap_or_else(|_| name.to_string());
        let config = self.is_exposed(&canon).then_some(canon);
        let flag = audited.clone();
        blocking(move || {
            let s = me.session(&actor)?;
            s.audit(
                action,
                config.as_deref(),
                "refused",
                Some("the agent sent a secret value; the session answers no more calls"),
            );
            flag.store(true, Ordering::SeqCst);
            Ok(())
        })
        .await?;
        Err(UserError::new(
            crate::error::Exit::Usage,
            "refused, not sent: the request holds a secret value of an exposed config; this server answers no more calls",
        )
        .into())
    }

    async fn sql_query(
        self: &Arc<Server>,
        actor: &str,
        args: serde_json::Map<String, Value>,
        audited: Flag,
    ) -> anyhow::Result<Value> {
        let name = Self::arg(&args, "config")?;
        let sql = Self::arg(&args, "sql")?;
        let action = "mcp.sql_query";
        self.refuse_sent_secrets(actor, action, &name, &[sql.as_bytes()], &audited)
            .await?;
        let doc = self
            .hand_out(
                actor,
                action,
                name,
                audited,
                move |s, name, used, audited| {
                    let doc = used.docs[0].clone();
                    if let Err(e) = crate::ops::sql::engine(&doc) {
                        s.audit(action, Some(name), "refused", Some("not a SQL connector"));
                        audited.store(true, Ordering::SeqCst);
                        return Err(e.into());
                    }
                    used.record(s)?;
                    audited.store(true, Ordering::SeqCst);
                    Ok(doc)
                },
            )
            .await?;
        // A statement still running at the timeout is cancelled on the
        // server before the call is answered.
        let rows =
            crate::ops::sql::query(&doc, &sql, self.opts.max_rows, self.opts.timeout).await?;
        Ok(serde_json::to_value(rows)?)
    }

    async fn test_config(
        self: &Arc<Server>,
        actor: &str,
        args: serde_json::Map<String, Value>,
        audited: Flag,
    ) -> anyhow::Result<Value> {
        let name = Self::arg(&args, "config")?;
        let me = self.clone();
        let actor = actor.to_string();
        let timeout = self.opts.timeout;
        let (outcome, ms, doc) = blocking(move || {
            let s = me.session(&actor)?;
            let action = "mcp.test_config";
            let name = me.exposed_name(&s, action, &name, &audited)?;
            let doc = s.store.read(&name)?;
            let started = Instant::now();
            let settings = crate::connectors::ProbeSettings::new(timeout);
            let outcome = crate::ops::probe::probe(&s, doc, &settings);
            let ms = started.elapsed().as_millis();
            crate::ops::config::record_test(&s, &name, &outcome, action)?;
            audited.store(true, Ordering::SeqCst);
            // The probe may have refreshed a token.
            let doc = s.store.read(&name).ok();
            Ok((outcome, ms, doc))
        })
        .await?;
        if let Some(d) = doc {
            self.learn(&d);
        }
        Ok(json!({
            "ok": outcome.passed(),
            "result": outcome.class.label(),
            "detail": outcome.summary().as_received(),
            "remedy": if outcome.passed() { "" } else { outcome.class.remedy() },
            "latency_ms": ms,
        }))
    }

    async fn reveal(
        self: &Arc<Server>,
        actor: &str,
        args: serde_json::Map<String, Value>,
        audited: Flag,
    ) -> anyhow::Result<Value> {
        let name = Self::arg(&args, "config")?;
        let field = Self::arg(&args, "field")?;
        let action = "mcp.reveal_secret";
        self.hand_out(
            actor,
            action,
            name,
            audited,
            move |s, name, used, audited| {
                if let Err(why) = crate::ops::handout::may_leave(
                    &used.docs[0],
                    &field,
                    crate::ops::handout::Door::Agent,
                ) {
                    s.audit(
                        action,
                        Some(name),
                        "refused",
                        Some("a field kept by authcfg"),
                    );
                    audited.store(true, Ordering::SeqCst);
                    return Err(usage(why).into());
                }
                let Some(v) = used.docs[0].get(&field).map(str::to_string) else {
                    s.audit(action, Some(name), "error", Some("no such field"));
                    audited.store(true, Ordering::SeqCst);
                    return Err(usage(format!("'{name}' has no field '{field}'")).into());
                };
                used.record(s)?;
                audited.store(true, Ordering::SeqCst);
                Ok(json!({"config": name, "field": field, "value": v}))
            },
        )
        .await
    }

    /// `run_command`: an allowed program with the named configs'
    /// placeholders, through the proxy, its output masked and bounded
    /// (`ops::run`, the mechanism of `exec --placeholders`).
    async fn run_command(
        self: &Arc<Server>,
        actor: &str,
        args: serde_json::Map<String, Value>,
        audited: Flag,
    ) -> anyhow::Result<Value> {
        let strings = |k: &str| -> Result<Vec<String>, UserError> {
            match args.get(k) {
                None | Some(Value::Null) => Ok(vec![]),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| usage(format!("'{k}' must be an array of strings")))
                    })
                    .collect(),
                Some(_) => Err(usage(format!("'{k}' must be an array of strings"))),
            }
        };
        let program = Self::arg(&args, "program")?;
        let argv = strings("args")?;
        let names = strings("configs")?;
        let action = "mcp.run_command";
        let mut parts: Vec<&[u8]> = vec![program.as_bytes()];
        parts.extend(argv.iter().map(|a| a.as_bytes()));
        let first = names.first().cloned().unwrap_or_default();
        self.refuse_sent_secrets(actor, action, &first, &parts, &audited)
            .await?;
        let me = self.clone();
        let actor = actor.to_string();
        blocking(move || {
            let s = me.session(&actor)?;
            let path_var = std::env::var_os("PATH");
            let picked =
                crate::ops::run::allow::pick(&me.opts.allow_run, &program, path_var.as_deref());
            if let Err(crate::ops::run::allow::Refusal::Replaced(p)) = &picked {
                s.audit(
                    action,
                    None,
                    "refused",
                    Some(&format!(
                        "the allowed program {} was replaced or changed since the server started",
                        p.display()
                    )),
                );
                audited.store(true, Ordering::SeqCst);
                return Err(failure(format!(
                    "'{program}' was replaced or changed since the server started: not run"
                ))
                .hint("the user restarts `authcfg mcp` to allow the new file")
                .into());
            }
            let Ok(allowed) = picked else {
                let shown: String = program.chars().take(100).collect();
                s.audit(
                    action,
                    None,
                    "refused",
                    Some(&format!("a program not allowed: {shown}")),
                );
                audited.store(true, Ordering::SeqCst);
                return Err(usage(format!("'{program}' is not a program this server may run"))
                    .hint("the tool's description names the allowed ones; the user allows more with `authcfg mcp --allow-run PROG`")
                    .into());
            };
            if names.is_empty() {
                return Err(usage("'configs' names no config")
                    .hint("name the configs whose variables the program needs (list_configs)")
                    .into());
            }
            let mut canon = Vec::with_capacity(names.len());
            for n in &names {
                let c = me.exposed_name(&s, action, n, &audited)?;
                if !canon.contains(&c) {
                    canon.push(c);
                }
            }
            let mut used = crate::ops::handout::read_for_use(&s, &canon, action)
                .inspect_err(|_| audited.store(true, Ordering::SeqCst))?;
            for d in &used.docs {
                // A refreshed token is a new secret to look for.
                me.learn(d);
            }
            let label = format!("mcp:run:{}", allowed.label());
            used.consumer = Some(crate::store::usage::Consumer::label(&label));
            let vars = crate::export::collect_vars(&used.docs, &[])?;
            let env: Vec<String> = vars.iter().map(|v| v.name.clone()).collect();
            let spec = crate::ops::run::Spec {
                program: allowed.path.clone().into_os_string(),
                arg0: Some(allowed.name.clone()),
                args: argv,
                label,
                action: action.into(),
                guard: format!("{actor} run_command"),
                placeholders: true,
                deny_other: false,
                aws: None,
                env_only: Some(me.opts.run_env.clone()),
                io: crate::ops::run::Io::Capture {
                    max: me.opts.max_body,
                    timeout: me.opts.timeout,
                },
            };
            let mut refused = vec![];
            let mut report = |n: crate::ops::run::Notice| {
                if let crate::ops::run::Notice::Refused(m) = n {
                    refused.push(m)
                }
            };
            // An error before the use was recorded (a variable a
            // placeholder cannot stand in for) is recorded by `call`.
            let ran = crate::ops::run::run(&s, used, vars, spec, &mut report)?;
            audited.store(true, Ordering::SeqCst);
            let done = match ran {
                Ok(d) => d,
                Err(e) => {
                    return Err(failure(format!("cannot run '{}': {e}", allowed.name)).into())
                }
            };
            let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            Ok(json!({
                "program": allowed.name,
                "exit_code": done.status.code(),
                "signal": crate::platform::exit_signal(done.status),
                "timed_out": done.timed_out,
                "stdout": text(&done.stdout.bytes),
                "stderr": text(&done.stderr.bytes),
                "stdout_bytes_dropped": done.stdout.dropped,
                "stderr_bytes_dropped": done.stderr.dropped,
                "refused_requests": refused,
                "env": env,
            }))
        })
        .await
    }

    /// On a store thread, as this client: the exposed config `name` read
    /// for use (an OAuth token refreshed when due), then `f` with the
    /// session, the config's canonical name and the use, which `f` records
    /// once it decides to hand it out.
    async fn hand_out<T: Send + 'static>(
        self: &Arc<Server>,
        actor: &str,
        action: &'static str,
        name: String,
        audited: Flag,
        f: impl FnOnce(&Session, &str, crate::ops::handout::Used, &Flag) -> anyhow::Result<T>
            + Send
            + 'static,
    ) -> anyhow::Result<T> {
        let me = self.clone();
        let actor = actor.to_string();
        blocking(move || {
            let s = me.session(&actor)?;
            let name = me.exposed_name(&s, action, &name, &audited)?;
            let mut used =
                crate::ops::handout::read_for_use(&s, std::slice::from_ref(&name), action)
                    .inspect_err(|_| audited.store(true, Ordering::SeqCst))?;
            // The usage log names the agent: `list` shows it as a connection.
            used.consumer = Some(crate::store::usage::Consumer::label(&actor));
            f(&s, &name, used, &audited)
        })
        .await
    }
}

/// The rmcp handler of one connection (stdio) or one HTTP session.
#[derive(Clone)]
pub struct Handler(pub Arc<Server>);

impl rmcp::ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        let mut info = ServerConfig::new(ServerCapabilities::builder().enable_tools().build());
        info.server_info = Implementation::new("authcfg", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(
            "authcfg acts with stored credentials without showing them: call list_configs, then http_request, sql_query or test_config with a config name. Secrets never appear in answers ([REDACTED:CONFIG/FIELD] stands in their place)."
                .into(),
        );
        info
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, McpError> {
        Ok(ListToolsResult::with_all_items(self.0.tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, McpError> {
        let client = context.peer.peer_info().map(|i| i.client_info.name.clone());
        let args = request.arguments.clone().unwrap_or_default();
        Ok(self
            .0
            .call(client.as_deref(), &request.name, args)
            .await
            .into())
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.0.tools().into_iter().find(|t| t.name == name)
    }
}

/// Serves one client on stdin/stdout until it closes them.
pub async fn serve_stdio(server: Arc<Server>) -> anyhow::Result<()> {
    use rmcp::ServiceExt;
    let running = Handler(server)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| failure(format!("MCP handshake failed: {e}")))?;
    running
        .waiting()
        .await
        .map_err(|e| failure(format!("MCP session ended: {e}")))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_names() {
        assert_eq!(actor_name(Some("claude-ai")), "mcp:claude-ai");
        assert_eq!(actor_name(Some("a\nb\u{1b}[31m")), "mcp:ab31m");
        assert_eq!(actor_name(None), "mcp:unknown");
    }
}
