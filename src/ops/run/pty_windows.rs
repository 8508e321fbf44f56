//! Windows: no pseudo-terminal yet (a ConPTY is not written), so a masked
//! command at a terminal (`exec --mask`/`--placeholders` with stdin and
//! stdout terminals) is refused with a clear error rather than run
//! differently (docs/ARCHITECTURE.md, "Platforms"). The types stand in for
//! the Unix ones (`pty.rs`) and cannot be made.

use std::process::ExitStatus;
use std::sync::Arc;

/// Never made: [`Session::open`] refuses. (A private uninhabited field,
/// so callers compile as on Unix, without unreachable arms.)
pub struct Session(std::convert::Infallible);

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
        match self.0 {}
    }

    pub fn start(
        self,
        _pid: u32,
        _masker: Arc<crate::ops::redact::Redactor>,
    ) -> anyhow::Result<Running> {
        match self.0 {}
    }
}

/// Never made: there is no [`Session`].
pub struct Running(std::convert::Infallible);

impl Running {
    pub fn waiter(&self) -> Box<dyn FnOnce() -> std::io::Result<ExitStatus> + Send> {
        match self.0 {}
    }

    pub fn finish(self) {
        match self.0 {}
    }
}
