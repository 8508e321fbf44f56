//! The one tokio runtime of a command. It lives in a static, so it is never
//! dropped: a probe abandoned at its timeout (a DNS lookup stuck in a
//! blocking thread, say) cannot hold the process at exit the way dropping a
//! runtime would (its drop waits for blocking tasks).

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("authcfg-net")
            .enable_all()
            .build()
            .expect("the network runtime starts")
    })
}

/// Runs `f` to completion on the command's runtime, from synchronous code.
/// Must not be called from inside the runtime.
pub fn block_on<F: Future>(f: F) -> F::Output {
    runtime().block_on(f)
}

/// `f`, or `None` when it has not finished within `limit`. The limit covers
/// everything `f` does, name resolution included.
pub fn block_on_timeout<F: Future>(limit: Duration, f: F) -> Option<F::Output> {
    block_on(async { tokio::time::timeout(limit, f).await.ok() })
}
