//! The RFC 8252 loopback redirect listener on 127.0.0.1: an ephemeral port
//! unless one is required, one path (`/callback`), and every other request
//! answered and ignored until the right one arrives.
//!
//! Built on std's TcpListener and `httparse` rather than tiny_http: under CPU
//! load tiny_http 0.12's task pool can lose a wake-up and leave a new
//! connection unserved while keep-alive connections hold its threads, which
//! a flood of stray requests made visible (the callback itself could stall).
//! Here each connection gets its own short-lived thread, a read timeout and
//! `Connection: close`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

pub const CALLBACK_PATH: &str = "/callback";
const MAX_HEAD: usize = 16 * 1024;
const MAX_CONNECTIONS: usize = 128;

pub struct Listener {
    port: u16,
    stop: Arc<AtomicBool>,
    requests: mpsc::Receiver<(String, TcpStream)>,
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
        let listener =
            TcpListener::bind(&addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, requests) = mpsc::channel();
        let stop2 = stop.clone();
        let active = Arc::new(AtomicUsize::new(0));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::Acquire) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                if active.load(Ordering::Acquire) >= MAX_CONNECTIONS {
                    continue; // dropped: closes the connection
                }
                active.fetch_add(1, Ordering::AcqRel);
                let tx = tx.clone();
                let active = active.clone();
                std::thread::spawn(move || {
                    if let Some(target) = read_target(&stream) {
                        let _ = tx.send((target, stream));
                    }
                    active.fetch_sub(1, Ordering::AcqRel);
                });
            }
        });
        Ok(Listener {
            port,
            stop,
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
            let (target, mut stream) = match self.requests.recv_timeout(deadline - now) {
                Ok(r) => r,
                Err(_) => return (Outcome::TimedOut, strays),
            };
            let Ok(url) = url::Url::parse(&format!("http://127.0.0.1{target}")) else {
                strays += 1;
                respond(
                    &mut stream,
                    400,
                    "Bad request",
                    "This is not an authorization callback.",
                );
                continue;
            };
            if url.path() != CALLBACK_PATH {
                strays += 1;
                respond(
                    &mut stream,
                    404,
                    "Not found",
                    "authcfg is waiting for the authorization callback.",
                );
                continue;
            }
            let q: std::collections::HashMap<String, String> =
                url.query_pairs().into_owned().collect();
            if q.get("state").map(String::as_str) != Some(state) {
                strays += 1;
                respond(
                    &mut stream,
                    400,
                    "State mismatch",
                    "This callback does not belong to the authorization authcfg started. It was ignored.",
                );
                continue;
            }
            if let Some(error) = q.get("error") {
                let description = q.get("error_description").cloned();
                respond(
                    &mut stream,
                    400,
                    "Authorization failed",
                    &format!(
                        "The provider answered {}{}. Return to the terminal.",
                        html_escape(error),
                        description
                            .as_deref()
                            .map(|d| format!(": {}", html_escape(d)))
                            .unwrap_or_default()
                    ),
                );
                return (
                    Outcome::Denied {
                        error: error.clone(),
                        description,
                    },
                    strays,
                );
            }
            match q.get("code").filter(|c| !c.is_empty()) {
                Some(code) => {
                    respond(
                        &mut stream,
                        200,
                        "Authorized",
                        "authcfg received the authorization. You can close this tab and return to the terminal.",
                    );
                    return (Outcome::Code(code.clone()), strays);
                }
                None => {
                    strays += 1;
                    respond(
                        &mut stream,
                        400,
                        "Missing code",
                        "The callback carried no authorization code.",
                    );
                }
            }
        }
    }
}

impl Drop for Listener {
    /// Stops accepting and closes the port: wake the acceptor with one last
    /// connection so it sees the flag and drops the socket.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ =
            TcpStream::connect_timeout(&([127, 0, 0, 1], self.port).into(), Duration::from_secs(1));
    }
}

/// Reads the request head and returns its target (path and query), or
/// None for anything that is not a complete HTTP request in time.
fn read_target(mut stream: &TcpStream) -> Option<String> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(_)) => return req.path.map(str::to_string),
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => continue,
            _ => {
                let _ = stream.write_all(
                    b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                );
                return None;
            }
        }
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn respond(stream: &mut TcpStream, status: u16, title: &str, body: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>authcfg: {title}</title></head>\
         <body style=\"font-family:sans-serif;max-width:36em;margin:4em auto\"><h1>{title}</h1><p>{body}</p></body></html>"
    );
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n",
        html.len()
    );
    let _ = stream.set_write_timeout(Some(Duration::from_secs(5)));
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(html.as_bytes());
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}
