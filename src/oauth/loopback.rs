//! The RFC 8252 loopback redirect listener: tiny_http on 127.0.0.1, an
//! ephemeral port unless one is required, one path (`/callback`), and every
//! other request answered and ignored until the right one arrives.

use std::time::Instant;
use tiny_http::{Header, Response, Server, StatusCode};

pub const CALLBACK_PATH: &str = "/callback";

pub struct Listener {
    server: Server,
    port: u16,
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
        let server = Server::http(&addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .ok_or("listener has no IP address")?;
        Ok(Listener { server, port })
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
            let req = match self.server.recv_timeout(deadline - now) {
                Ok(Some(r)) => r,
                Ok(None) => return (Outcome::TimedOut, strays),
                Err(_) => continue,
            };
            let url = match url::Url::parse(&format!("http://127.0.0.1{}", req.url())) {
                Ok(u) => u,
                Err(_) => {
                    strays += 1;
                    let _ = req.respond(page(
                        400,
                        "Bad request",
                        "This is not an authorization callback.",
                    ));
                    continue;
                }
            };
            if url.path() != CALLBACK_PATH {
                strays += 1;
                let _ = req.respond(page(
                    404,
                    "Not found",
                    "authcfg is waiting for the authorization callback.",
                ));
                continue;
            }
            let q: std::collections::HashMap<String, String> =
                url.query_pairs().into_owned().collect();
            if q.get("state").map(String::as_str) != Some(state) {
                strays += 1;
                let _ = req.respond(page(
                    400,
                    "State mismatch",
                    "This callback does not belong to the authorization authcfg started. It was ignored.",
                ));
                continue;
            }
            if let Some(error) = q.get("error") {
                let description = q.get("error_description").cloned();
                let _ = req.respond(page(
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
                ));
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
                    let _ = req.respond(page(
                        200,
                        "Authorized",
                        "authcfg received the authorization. You can close this tab and return to the terminal.",
                    ));
                    return (Outcome::Code(code.clone()), strays);
                }
                None => {
                    strays += 1;
                    let _ = req.respond(page(
                        400,
                        "Missing code",
                        "The callback carried no authorization code.",
                    ));
                }
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

fn page(status: u16, title: &str, body: &str) -> Response<std::io::Cursor<Vec<u8>>> {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>authcfg: {title}</title></head>\
         <body style=\"font-family:sans-serif;max-width:36em;margin:4em auto\"><h1>{title}</h1><p>{body}</p></body></html>"
    );
    Response::from_data(html.into_bytes())
        .with_status_code(StatusCode(status))
        .with_header(Header::from_bytes("Content-Type", "text/html; charset=utf-8").unwrap())
        .with_header(Header::from_bytes("Cache-Control", "no-store").unwrap())
        .with_header(Header::from_bytes("Referrer-Policy", "no-referrer").unwrap())
}
