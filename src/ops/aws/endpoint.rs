//! The container-credentials endpoint of `exec --aws-endpoint`
//! (docs/ARCHITECTURE.md, "AWS sessions"; docs/SECURITY.md, "AWS keys and
//! sessions"): hyper's HTTP/1 server on 127.0.0.1 for the child's
//! lifetime, answering AWS's SDKs at `AWS_CONTAINER_CREDENTIALS_FULL_URI`
//! with a fresh session each time they ask. Only a request carrying this
//! run's random token (`AWS_CONTAINER_AUTHORIZATION_TOKEN`, which only the
//! child's environment holds) gets one: none is 401, a wrong one 403.
//!
//! The session itself comes from the caller (`Ask`): the endpoint holds no
//! key and no store, and never prints.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{header, Method, Request, Response, StatusCode};
use std::sync::Arc;
use zeroize::Zeroizing;

/// The path the SDKs are sent to.
const PATH: &str = "/authcfg/aws-credentials";

/// What answers one request: the container-credentials JSON, or why not
/// (no secret in it).
pub type Answer = Result<Zeroizing<String>, String>;
/// Asks the caller for the session (called on the endpoint's thread).
pub type Ask = Box<dyn Fn() -> tokio::sync::oneshot::Receiver<Answer> + Send + Sync>;

/// A running endpoint; stopped when dropped.
pub struct Endpoint {
    addr: std::net::SocketAddr,
    token: Zeroizing<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

struct Shared {
    token: Zeroizing<String>,
    ask: Ask,
}

fn random_token() -> String {
    use rand::Rng;
    const ABC: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    (0..40)
        .map(|_| ABC[rng.random_range(0..ABC.len())] as char)
        .collect()
}

impl Endpoint {
    pub fn start(ask: Ask) -> anyhow::Result<Endpoint> {
        let listener = crate::net::runtime::block_on(tokio::net::TcpListener::bind(
            std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        ))?;
        let addr = listener.local_addr()?;
        let token = Zeroizing::new(random_token());
        let shared = Arc::new(Shared {
            token: token.clone(),
            ask,
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        crate::net::runtime::runtime().spawn(run(listener, shared, stop_rx));
        Ok(Endpoint {
            addr,
            token,
            stop: Some(stop_tx),
        })
    }

    /// The variables that point the child's SDKs here.
    pub fn child_env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                format!("http://{}{PATH}", self.addr),
            ),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", self.token.to_string()),
        ]
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// The variables of the other ways to give an SDK credentials, which it
/// would take before the endpoint: never passed on to the child.
pub const SHADOWING_VARS: [&str; 5] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

async fn run(
    listener: tokio::net::TcpListener,
    sh: Arc<Shared>,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    crate::net::serve::http1(listener, stop, false, move |req| {
        let sh = sh.clone();
        async move { answer(req, &sh).await }
    })
    .await
}

fn reply(status: StatusCode, body: String, json: bool) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(if json {
            "application/json"
        } else {
            "text/plain; charset=utf-8"
        }),
    );
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

/// Whether the request carries this run's token (constant time); `None`:
/// it carries none.
fn authorized(req: &Request<Incoming>, sh: &Shared) -> Option<bool> {
    use subtle::ConstantTimeEq;
    let mut seen = false;
    let mut ok = false;
    for v in req.headers().get_all(header::AUTHORIZATION) {
        seen = true;
        let v = v.as_bytes();
        if v.len() == sh.token.len() && bool::from(v.ct_eq(sh.token.as_bytes())) {
            ok = true;
        }
    }
    seen.then_some(ok)
}

async fn answer(req: Request<Incoming>, sh: &Shared) -> Response<Full<Bytes>> {
    match authorized(&req, sh) {
        None => {
            return reply(
                StatusCode::UNAUTHORIZED,
                "the AWS_CONTAINER_AUTHORIZATION_TOKEN of this run is required\n".into(),
                false,
            )
        }
        Some(false) => {
            return reply(
                StatusCode::FORBIDDEN,
                "not this run's token\n".into(),
                false,
            )
        }
        Some(true) => {}
    }
    if req.method() != Method::GET {
        return reply(StatusCode::METHOD_NOT_ALLOWED, "GET only\n".into(), false);
    }
    if req.uri().path() != PATH {
        return reply(StatusCode::NOT_FOUND, "not found\n".into(), false);
    }
    match (sh.ask)().await {
        Ok(Ok(json)) => reply(StatusCode::OK, json.to_string(), true),
        Ok(Err(why)) => reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            serde_json::json!({ "Code": "SessionUnavailable", "Message": why }).to_string(),
            true,
        ),
        Err(_) => reply(
            StatusCode::SERVICE_UNAVAILABLE,
            "authcfg is ending\n".into(),
            false,
        ),
    }
}
