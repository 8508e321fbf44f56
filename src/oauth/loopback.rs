//! The RFC 8252 loopback redirect listener on 127.0.0.1: an ephemeral port
//! unless one is required, one path (`/callback`), and every other request
//! answered and ignored until the right one arrives.
//!
//! Served by hyper's HTTP/1 server on the command's tokio runtime, so that
//! hostile local traffic cannot starve the real callback:
//! - each connection is a task, not a thread or a pool slot;
//! - a client gets `HEADER_TIMEOUT` for its whole request head (hyper's
//!   header-read timeout, not a per-read timeout that trickled bytes keep
//!   resetting), and `CONNECTION_TIMEOUT` for everything;
//! - at most `MAX_CONNECTIONS` connections are open; a new one beyond that
//!   evicts the oldest instead of being turned away, so a crowd of idle or
//!   trickling connections cannot lock the browser out;
//! - no keep-alive: one request per connection.
//!
//! The hand-written httparse loop it replaces gave each connection a thread
//! with a 5-second read timeout per read and dropped new connections past
//! 128 slots: 130 trickling clients kept the callback out. tiny_http, the
//! first design, lost wake-ups in its pool under a 200-request flood.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

pub const CALLBACK_PATH: &str = "/callback";
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);
pub const MAX_CONNECTIONS: usize = 512;
const MAX_HEAD: usize = 16 * 1024;

/// A page to send back: status, title, text.
type Page = (u16, &'static str, String);

/// A request's target, where to send its page, and a signal that fires when
/// its connection is done (the page written, or the client gone).
type Pending = (String, oneshot::Sender<Page>, mpsc::Receiver<()>);

pub struct Listener {
    port: u16,
    accept: tokio::task::AbortHandle,
    requests: mpsc::Receiver<Pending>,
}

#[derive(Debug)]
pub enum Outcome {
    Code(String),
    /// The provider redirected back with `error=` (state matched).
    Denied {
        error: String,
        description: Option<String>,
    },
    TimedOut,
}

impl Listener {
    pub fn bind(port: Option<u16>) -> Result<Listener, String> {
        let addr = format!("127.0.0.1:{}", port.unwrap_or(0));
        let std_listener = std::net::TcpListener::bind(&addr)
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let port = std_listener.local_addr().map_err(|e| e.to_string())?.port();
        std_listener
            .set_nonblocking(true)
            .map_err(|e| e.to_string())?;
        let rt = crate::net::runtime::runtime();
        let listener = {
            let _guard = rt.enter();
            tokio::net::TcpListener::from_std(std_listener).map_err(|e| e.to_string())?
        };
        let (tx, requests) = mpsc::channel();
        let accept = rt
            .spawn(accept_loop(listener, tx, Default::default()))
            .abort_handle();
        Ok(Listener {
            port,
            accept,
            requests,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.port)
    }

    /// Waits for the callback that carries `state`. Returns the number of
    /// stray requests seen along with the outcome.
    pub fn wait(&self, state: &str, deadline: Instant) -> (Outcome, usize) {
        let mut strays = 0;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return (Outcome::TimedOut, strays);
            }
            let (target, reply, done) = match self.requests.recv_timeout(deadline - now) {
                Ok(r) => r,
                Err(_) => return (Outcome::TimedOut, strays),
            };
            let (page, outcome) = judge(&target, state);
            let _ = reply.send(page);
            match outcome {
                Some(o) => {
                    // The browser gets its page before the listener goes.
                    let _ = done.recv_timeout(Duration::from_secs(2));
                    return (o, strays);
                }
                None => strays += 1,
            }
        }
    }
}

/// What a request to the listener means: the page to answer with, and the
/// outcome when it is the callback we wait for.
fn judge(target: &str, state: &str) -> (Page, Option<Outcome>) {
    let Ok(url) = url::Url::parse(&format!("http://127.0.0.1{target}")) else {
        return (
            (
                400,
                "Bad request",
                "This is not an authorization callback.".into(),
            ),
            None,
        );
    };
    if url.path() != CALLBACK_PATH {
        return (
            (
                404,
                "Not found",
                "authcfg is waiting for the authorization callback.".into(),
            ),
            None,
        );
    }
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    if q.get("state").map(String::as_str) != Some(state) {
        return (
            (
                400,
                "State mismatch",
                "This callback does not belong to the authorization authcfg started. It was ignored."
                    .into(),
            ),
            None,
        );
    }
    if let Some(error) = q.get("error") {
        let description = q.get("error_description").cloned();
        let text = format!(
            "The provider answered {}{}. Return to the terminal.",
            html_escape(error),
            description
                .as_deref()
                .map(|d| format!(": {}", html_escape(d)))
                .unwrap_or_default()
        );
        return (
            (400, "Authorization failed", text),
            Some(Outcome::Denied {
                error: error.clone(),
                description,
            }),
        );
    }
    match q.get("code").filter(|c| !c.is_empty()) {
        Some(code) => (
            (
                200,
                "Authorized",
                "authcfg received the authorization. You can close this tab and return to the terminal."
                    .into(),
            ),
            Some(Outcome::Code(code.clone())),
        ),
        None => (
            (
                400,
                "Missing code",
                "The callback carried no authorization code.".into(),
            ),
            None,
        ),
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    tx: mpsc::Sender<Pending>,
    open: Arc<Mutex<VecDeque<(u64, tokio::task::AbortHandle)>>>,
) {
    let ids = AtomicU64::new(0);
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(_) => {
                // Out of file descriptors, say: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let id = ids.fetch_add(1, Ordering::Relaxed);
        let tx = tx.clone();
        let open2 = open.clone();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let done_rx = Arc::new(Mutex::new(Some(done_rx)));
        let task = tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let tx = tx.clone();
                let done = done_rx.lock().ok().and_then(|mut d| d.take());
                async move { Ok::<_, std::convert::Infallible>(answer(req, &tx, done).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(MAX_HEAD)
                .keep_alive(false)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_TIMEOUT, conn).await;
            let _ = done_tx.send(());
            if let Ok(mut o) = open2.lock() {
                o.retain(|(i, _)| *i != id);
            }
        });
        if let Ok(mut o) = open.lock() {
            o.push_back((id, task.abort_handle()));
            while o.len() > MAX_CONNECTIONS {
                if let Some((_, oldest)) = o.pop_front() {
                    oldest.abort();
                }
            }
        }
    }
}

async fn answer(
    req: Request<Incoming>,
    tx: &mpsc::Sender<Pending>,
    done: Option<mpsc::Receiver<()>>,
) -> Response<Full<Bytes>> {
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let (reply, page) = oneshot::channel();
    let sent = done.is_some_and(|done| tx.send((target, reply, done)).is_ok());
    let page = if sent { page.await.ok() } else { None };
    let (status, title, body) = page.unwrap_or((
        404,
        "Not found",
        "authcfg is no longer waiting for an authorization.".into(),
    ));
    page_response(status, title, &body)
}

fn page_response(status: u16, title: &str, body: &str) -> Response<Full<Bytes>> {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>authcfg: {title}</title></head>\
         <body style=\"font-family:sans-serif;max-width:36em;margin:4em auto\"><h1>{title}</h1><p>{body}</p></body></html>"
    );
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .header("Content-Type", "text/html; charset=utf-8")
        .header("Cache-Control", "no-store")
        .header("Referrer-Policy", "no-referrer")
        .header("Connection", "close")
        .body(Full::new(Bytes::from(html)))
        .expect("a static response is valid")
}

impl Drop for Listener {
    /// Stops accepting: the listening socket closes with the accept task.
    /// Open connections end on their own (no keep-alive; their timeouts).
    fn drop(&mut self) {
        self.accept.abort();
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn judges_requests() {
        let (p, o) = judge("/callback?state=s1&code=abc", "s1");
        assert_eq!(p.0, 200);
        assert!(matches!(o, Some(Outcome::Code(c)) if c == "abc"));
        assert!(judge("/callback?state=wrong&code=abc", "s1").1.is_none());
        assert_eq!(judge("/favicon.ico", "s1").0 .0, 404);
        assert!(matches!(
            judge("/callback?state=s1&error=access_denied", "s1").1,
            Some(Outcome::Denied { .. })
        ));
        assert!(judge("/callback?state=s1", "s1").1.is_none());
        let (p, _) = judge("/callback?state=s1&error=%3Cscript%3E", "s1");
        assert!(!p.2.contains("<script>"));
    }
}
