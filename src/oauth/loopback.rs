//! The RFC 8252 loopback redirect listener on 127.0.0.1: an ephemeral port
//! unless one is required, one path (`/callback`), and every other request
//! answered and ignored until the right one arrives.
//!
//! The browser is not given the authorization URL (its `state` and PKCE
//! challenge would sit in the browser's argv, which every local user reads
//! in `/proc`): it is given a one-time link on this listener,
//! `/start/<random>`, answered once with a redirect to the provider
//! (docs/SECURITY.md, "Another local user"). A second use of the link, and
//! any use of it or of the callback by another user's program (the peer
//! socket's owner, from `/proc/net/tcp`), aborts the flow: whoever copied
//! the link cannot slip their own authorization in.
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

use crate::text::Outside;
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

pub const START_PATH: &str = "/start/";

/// A page to send back: status, title, text (already HTML), and where to
/// send the browser next.
struct Page {
    status: u16,
    title: &'static str,
    body: String,
    location: Option<String>,
}

impl Page {
    fn new(status: u16, title: &'static str, body: impl Into<String>) -> Page {
        Page {
            status,
            title,
            body: body.into(),
            location: None,
        }
    }
}

/// A request: its target, the client's address, where to send its page,
/// and a signal that fires when its connection is done (the page written,
/// or the client gone).
struct Pending {
    target: String,
    peer: std::net::SocketAddr,
    reply: oneshot::Sender<Page>,
    done: mpsc::Receiver<()>,
}

pub struct Listener {
    port: u16,
    accept: tokio::task::AbortHandle,
    requests: mpsc::Receiver<Pending>,
    start: Option<Start>,
}

/// The one-time link and where it leads.
struct Start {
    path: String,
    target: String,
    used: bool,
}

#[derive(Debug)]
pub enum Outcome {
    Code(String),
    /// The provider redirected back with `error=` (state matched): its
    /// words, outside text.
    Denied {
        error: Outside,
        description: Option<Outside>,
    },
    /// The flow must stop: the one-time link was used twice, or another
    /// user's program used it or the callback.
    Aborted(String),
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
            start: None,
        })
    }

    /// A link on this listener that sends the browser to `target` once:
    /// what the browser is given instead of `target`.
    pub fn one_time_link(&mut self, target: &url::Url) -> String {
        use rand::Rng;
        let nonce: [u8; 24] = rand::rng().random();
        let path = format!("{START_PATH}{}", hex::encode(nonce));
        let link = format!("http://127.0.0.1:{}{path}", self.port);
        self.start = Some(Start {
            path,
            target: target.to_string(),
            used: false,
        });
        link
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.port)
    }

    /// Waits for the callback that carries `state` (none: only the
    /// one-time link is served, for the device flow, until `deadline`).
    /// Returns the number of stray requests seen along with the outcome.
    pub fn wait(&mut self, state: Option<&str>, deadline: Instant) -> (Outcome, usize) {
        let mut strays = 0;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return (Outcome::TimedOut, strays);
            }
            let p = match self.requests.recv_timeout(deadline - now) {
                Ok(r) => r,
                Err(_) => return (Outcome::TimedOut, strays),
            };
            // Asked while the client's connection is open (it waits for
            // this page), so its socket is in the table.
            let ours = peer_is_ours(p.peer, self.port);
            let (page, outcome) = judge(&p.target, state, self.start.as_mut(), ours);
            let _ = p.reply.send(page);
            match outcome {
                Some(o) => {
                    // The browser gets its page before the listener goes.
                    let _ = p.done.recv_timeout(Duration::from_secs(2));
                    return (o, strays);
                }
                None => strays += 1,
            }
        }
    }
}

/// Whether the client of a connection to our `port` from `peer` is a
/// program of this user (or root). Linux only: elsewhere there is no
/// socket table to ask, and every client is taken as this user's
/// (docs/SECURITY.md, "Windows and macOS").
#[cfg(target_os = "linux")]
fn peer_is_ours(peer: std::net::SocketAddr, port: u16) -> bool {
    let me = my_uid();
    peer_uid(peer, port).is_some_and(|u| u == me || u == 0)
}

#[cfg(not(target_os = "linux"))]
fn peer_is_ours(_peer: std::net::SocketAddr, _port: u16) -> bool {
    true
}

/// The real user id of this process.
#[cfg(target_os = "linux")]
fn my_uid() -> u32 {
    // SAFETY: getuid cannot fail and touches no memory.
    unsafe { libc::getuid() }
}

/// The user owning the client end of a connection to our `port` from
/// `peer`, from the kernel's socket table (`/proc/net/tcp`); None when it
/// cannot be told (then the request is treated as another user's).
#[cfg(target_os = "linux")]
fn peer_uid(peer: std::net::SocketAddr, port: u16) -> Option<u32> {
    let table = procfs::net::tcp().ok()?;
    table
        .iter()
        .find(|e| e.local_address == peer && e.remote_address.port() == port)
        .map(|e| e.uid)
}

/// What a request to the listener means: the page to answer with, and the
/// outcome when it ends the flow. `ours`: the client is a program of this
/// user (or root).
fn judge(
    target: &str,
    state: Option<&str>,
    start: Option<&mut Start>,
    ours: bool,
) -> (Page, Option<Outcome>) {
    let Ok(url) = url::Url::parse(&format!("http://127.0.0.1{target}")) else {
        return (
            Page::new(400, "Bad request", "This is not an authorization callback."),
            None,
        );
    };
    if let Some(start) = start.filter(|s| url.path() == s.path) {
        if !ours {
            return (
                Page::new(403, "Refused", "This link belongs to another user's authorization."),
                Some(Outcome::Aborted(
                    "another user's program opened this authorization's one-time link (it was read from the browser's command line); nothing was authorized"
                        .into(),
                )),
            );
        }
        if start.used {
            return (
                Page::new(
                    400,
                    "Link already used",
                    "This one-time link was opened before. The authorization was stopped; run the command again.",
                ),
                Some(Outcome::Aborted(
                    "the one-time authorization link was opened twice (another program may have copied it from the browser's command line); nothing was authorized"
                        .into(),
                )),
            );
        }
        start.used = true;
        let mut page = Page::new(302, "Continue at the provider", "Continue at the provider.");
        page.location = Some(start.target.clone());
        return (page, None);
    }
    if url.path() != CALLBACK_PATH {
        let page = if ours {
            Page::new(
                404,
                "Not found",
                "authcfg is waiting for the authorization callback.",
            )
        } else {
            Page::new(403, "Refused", "This listener serves another user.")
        };
        return (page, None);
    }
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    let Some(state) = state.filter(|s| q.get("state").map(String::as_str) == Some(*s)) else {
        return (
            Page::new(
                if ours { 400 } else { 403 },
                "State mismatch",
                "This callback does not belong to the authorization authcfg started. It was ignored.",
            ),
            None,
        );
    };
    let _ = state;
    if !ours {
        return (
            Page::new(403, "Refused", "This listener serves another user."),
            Some(Outcome::Aborted(
                "another user's program sent this authorization's callback (with its state); nothing was authorized"
                    .into(),
            )),
        );
    }
    if let Some(error) = q.get("error") {
        let error = Outside::new(error.as_str());
        let description = q.get("error_description").map(|d| Outside::new(d.as_str()));
        let text = format!(
            "The provider answered {}{}. Return to the terminal.",
            html_escape(&error.to_string()),
            description
                .as_ref()
                .map(|d| format!(": {}", html_escape(&d.to_string())))
                .unwrap_or_default()
        );
        return (
            Page::new(400, "Authorization failed", text),
            Some(Outcome::Denied { error, description }),
        );
    }
    match q.get("code").filter(|c| !c.is_empty()) {
        Some(code) => (
            Page::new(
                200,
                "Authorized",
                "authcfg received the authorization. You can close this tab and return to the terminal.",
            ),
            Some(Outcome::Code(code.clone())),
        ),
        None => (
            Page::new(400, "Missing code", "The callback carried no authorization code."),
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
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
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
                async move { Ok::<_, std::convert::Infallible>(answer(req, peer, &tx, done).await) }
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
    peer: std::net::SocketAddr,
    tx: &mpsc::Sender<Pending>,
    done: Option<mpsc::Receiver<()>>,
) -> Response<Full<Bytes>> {
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let (reply, page) = oneshot::channel();
    let sent = done.is_some_and(|done| {
        tx.send(Pending {
            target,
            peer,
            reply,
            done,
        })
        .is_ok()
    });
    let page = if sent { page.await.ok() } else { None };
    let page = page.unwrap_or_else(|| {
        Page::new(
            404,
            "Not found",
            "authcfg is no longer waiting for an authorization.",
        )
    });
    page_response(page)
}

fn page_response(page: Page) -> Response<Full<Bytes>> {
    let Page {
        status,
        title,
        body,
        location,
    } = page;
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>authcfg: {title}</title></head>\
         <body style=\"font-family:sans-serif;max-width:36em;margin:4em auto\"><h1>{title}</h1><p>{body}</p></body></html>"
    );
    let mut r = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST))
        .header("Content-Type", "text/html; charset=utf-8")
        .header("Cache-Control", "no-store")
        .header("Referrer-Policy", "no-referrer")
        .header("Connection", "close");
    if let Some(l) = location {
        r = r.header("Location", l);
    }
    r.body(Full::new(Bytes::from(html)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::from_static(b"bad redirect"))))
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
        let j = |t: &str| judge(t, Some("s1"), None, true);
        let (p, o) = j("/callback?state=s1&code=abc");
        assert_eq!(p.status, 200);
        assert!(matches!(o, Some(Outcome::Code(c)) if c == "abc"));
        assert!(j("/callback?state=wrong&code=abc").1.is_none());
        assert_eq!(j("/favicon.ico").0.status, 404);
        assert!(matches!(
            j("/callback?state=s1&error=access_denied").1,
            Some(Outcome::Denied { .. })
        ));
        assert!(j("/callback?state=s1").1.is_none());
        let (p, _) = j("/callback?state=s1&error=%3Cscript%3E");
        assert!(!p.body.contains("<script>"));
        // Another user's callback with the state stops the flow.
        assert!(matches!(
            judge("/callback?state=s1&code=abc", Some("s1"), None, false).1,
            Some(Outcome::Aborted(_))
        ));
    }

    #[test]
    fn the_start_link_works_once() {
        let mut start = Start {
            path: "/start/ab12".into(),
            target: "https://idp.example/auth?state=s1".into(),
            used: false,
        };
        let (p, o) = judge("/start/ab12", Some("s1"), Some(&mut start), true);
        assert_eq!(
            (p.status, p.location.as_deref()),
            (302, Some("https://idp.example/auth?state=s1"))
        );
        assert!(o.is_none());
        let (p, o) = judge("/start/ab12", Some("s1"), Some(&mut start), true);
        assert!(p.location.is_none());
        assert!(matches!(o, Some(Outcome::Aborted(_))));
        let mut fresh = Start {
            used: false,
            ..start
        };
        let (p, o) = judge("/start/ab12", Some("s1"), Some(&mut fresh), false);
        assert!(p.location.is_none() && matches!(o, Some(Outcome::Aborted(_))));
        assert!(judge("/start/other", Some("s1"), Some(&mut fresh), true)
            .1
            .is_none());
    }

    #[test]
    fn finds_the_owner_of_a_loopback_client() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (_s, peer) = l.accept().unwrap();
        assert_eq!(peer, c.local_addr().unwrap());
        assert_eq!(peer_uid(peer, port), Some(my_uid()));
    }
}
