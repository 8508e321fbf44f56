//! Windows: no pseudo-terminal yet (a ConPTY is not written), so a masked
//! command at a terminal (`exec --mask`/`--placeholders` with stdin and
//! stdout terminals) is refused with a clear error rather than run
//! differently (docs/ARCHITECTURE.md, "Platforms"). The types stand in for
//! the Unix ones (`pty.rs`) and cannot be made.

use std::process::ExitStatus;
use std::sync::Arc;

/// Never made: [`Session::open`] refuses.
pub enum Session {}

impl Session {
    /// Refused on Windows.
    pub fn open() -> anyhow::Result<Session> {
        Err(anyhow::Error::new(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "exec --mask/--placeholders at a terminal (a pseudo-terminal) is not available on \
             Windows yet; redirect standard input or output to run it without one",
        )))
    }

    pub fn attach(&self, _cmd: &mut std::process::Command) -> anyhow::Result<()> {
        match *self {}
    }

    pub fn start(
        self,
        _pid: u32,
        _masker: Arc<crate::ops::redact::Redactor>,
    ) -> anyhow::Result<Running> {
        match self {}
    }
}

/// Never made: there is no [`Session`].
pub enum Running {}

impl Running {
    pub fn waiter(&self) -> Box<dyn FnOnce() -> std::io::Result<ExitStatus> + Send> {
        match *self {}
    }

    pub fn finish(self) {
        match self {}
    }
}
