//! `authcfg mcp --http 127.0.0.1:PORT`: rmcp's streamable HTTP service on
//! loopback only, behind three checks made before rmcp sees the request
//! (rmcp validates Host and Origin too; this does not depend on it, see
//! GHSA-89vp-x53w-74fx):
//! - `Host` must name this listener (127.0.0.1, localhost or [::1] with
//!   its port), else 403: a DNS-rebinding page cannot reach it;
//! - `Origin`, when present, must be this listener's own http origin, else
//!   403: another web page in a browser cannot call it;
//! - `Authorization: Bearer TOKEN` with the random token written to a 0600
//!   file, else 401: another local user's process cannot call it.

use super::{Handler, Server};
use crate::error::{failure, usage};
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const PATH: &str = "/mcp";

/// The listener address: an IP address on loopback with a port.
pub fn parse_addr(raw: &str) -> Result<SocketAddr, crate::error::UserError> {
    let addr: SocketAddr = raw.parse().map_err(|_| {
        usage(format!("'{raw}' is not IP:PORT"))
            .hint("use --http 127.0.0.1:PORT (0 picks a free port)")
    })?;
    if !addr.ip().is_loopback() {
        return Err(usage(format!(
            "{raw} is not a loopback address: the MCP server listens on 127.0.0.1 or [::1] only"
        )));
    }
    Ok(addr)
}

/// A fresh random token (256 bits, hex).
pub fn new_token() -> zeroize::Zeroizing<String> {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rng().fill_bytes(&mut b);
    zeroize::Zeroizing::new(hex::encode(b))
}

/// Writes the token to `path`, mode 0600, replacing what was there
/// without following a link.
pub fn write_token(path: &Path, token: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            crate::platform::create_private_dirs(dir)
                .map_err(|e| failure(format!("cannot create {}: {e}", dir.display())))?;
        }
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(failure(format!("cannot replace {}: {e}", path.display())).into()),
    }
    let mut f = crate::platform::private_open(
        std::fs::OpenOptions::new().write(true).create_new(true),
        true,
        false,
    )
    .open(path)
    .map_err(|e| failure(format!("cannot write {}: {e}", path.display())))?;
    f.write_all(token.as_bytes())?;
    f.write_all(b"\n")?;
    Ok(())
}

/// The checks of every request.
struct Gate {
    hosts: Vec<String>,
    origins: Vec<String>,
    token: zeroize::Zeroizing<String>,
}

type Resp = http::Response<BoxBody<Bytes, Infallible>>;

fn plain(status: u16, text: &str) -> Resp {
    http::Response::builder()
        .status(status)
        .header("content-type", "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(format!("{text}\n"))).boxed())
        .expect("static response")
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Gate {
    fn new(port: u16, token: zeroize::Zeroizing<String>) -> Gate {
        let hosts = vec![
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ];
        let origins = hosts.iter().map(|h| format!("http://{h}")).collect();
        Gate {
            hosts,
            origins,
            token,
        }
    }

    fn check<B>(&self, req: &http::Request<B>) -> Result<(), Box<Resp>> {
        let header = |n: &str| req.headers().get(n).and_then(|v| v.to_str().ok());
        let host = header("host").unwrap_or("").to_ascii_lowercase();
        if !self.hosts.contains(&host) || req.headers().get_all("host").iter().count() > 1 {
            return Err(Box::new(plain(
                403,
                "forbidden: Host is not this loopback listener",
            )));
        }
        if req.headers().get_all("origin").iter().count() > 1 {
            return Err(Box::new(plain(403, "forbidden: more than one Origin")));
        }
        if let Some(origin) = req.headers().get("origin") {
            let o = origin.to_str().unwrap_or("").to_ascii_lowercase();
            if !self.origins.contains(&o) {
                return Err(Box::new(plain(
                    403,
                    "forbidden: Origin is not this listener",
                )));
            }
        }
        let presented = header("authorization")
            .and_then(|a| {
                let (scheme, rest) = a.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(rest.trim())
            })
            .unwrap_or("");
        if !ct_eq(presented.as_bytes(), self.token.as_bytes()) {
            let mut r = plain(
                401,
                "unauthorized: a bearer token is required (the token file named at start-up)",
            );
            r.headers_mut().insert(
                "www-authenticate",
                http::HeaderValue::from_static("Bearer realm=\"authcfg-mcp\""),
            );
            return Err(Box::new(r));
        }
        if req.uri().path() != PATH {
            return Err(Box::new(plain(404, "not found: the MCP endpoint is /mcp")));
        }
        Ok(())
    }
}

/// A bound listener, before it serves.
pub struct Listener {
    listener: tokio::net::TcpListener,
    pub addr: SocketAddr,
}

pub async fn bind(addr: SocketAddr) -> anyhow::Result<Listener> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| failure(format!("cannot listen on {addr}: {e}")))?;
    let addr = listener.local_addr()?;
    Ok(Listener { listener, addr })
}

/// The default token file: `$XDG_STATE_HOME/authcfg/mcp-PORT.token`.
pub fn default_token_file(state_dir: Option<&Path>, port: u16) -> Option<PathBuf> {
    state_dir.map(|d| d.join(format!("mcp-{port}.token")))
}

/// Serves until the process is stopped.
pub async fn serve(
    server: Arc<Server>,
    l: Listener,
    token: zeroize::Zeroizing<String>,
) -> anyhow::Result<()> {
    let port = l.addr.port();
    let gate = Arc::new(Gate::new(port, token));
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(["127.0.0.1", "localhost", "::1"])
        .with_allowed_origins(gate.origins.clone());
    let svc = StreamableHttpService::new(
        move || Ok(Handler(server.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    loop {
        let (stream, _) = match l.listener.accept().await {
            Ok(x) => x,
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let svc = svc.clone();
        let gate = gate.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let svc = svc.clone();
                    let gate = gate.clone();
                    async move {
                        Ok::<_, Infallible>(match gate.check(&req) {
                            Err(resp) => *resp,
                            Ok(()) => svc.handle(req).await,
                        })
                    }
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}
