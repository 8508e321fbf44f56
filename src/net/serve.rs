//! The one HTTP/1 server loop of authcfg's loopback listeners (the exec
//! proxy, `ops::proxy`; the AWS container-credentials endpoint,
//! `ops::aws::endpoint`): hyper, one task per connection, until told to
//! stop.

use hyper::body::{Body, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::future::Future;

/// Serves `listener` until `stop` fires, each request answered by
/// `answer`. `upgrades`: connections may switch protocols (the proxy's
/// CONNECT tunnels).
pub async fn http1<F, Fut, B>(
    listener: tokio::net::TcpListener,
    mut stop: tokio::sync::oneshot::Receiver<()>,
    upgrades: bool,
    answer: F,
) where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Response<B>> + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    loop {
        tokio::select! {
            _ = &mut stop => break,
            a = listener.accept() => {
                let Ok((tcp, _)) = a else { continue };
                let answer = answer.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| {
                        let f = answer(req);
                        async move { Ok::<_, std::convert::Infallible>(f.await) }
                    });
                    let conn = hyper::server::conn::http1::Builder::new();
                    let io = TokioIo::new(tcp);
                    if upgrades {
                        let _ = conn.serve_connection(io, svc).with_upgrades().await;
                    } else {
                        let _ = conn.serve_connection(io, svc).await;
                    }
                });
            }
        }
    }
}
