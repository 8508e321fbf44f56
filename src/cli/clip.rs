//! `show --copy`: a value on the clipboard for a while, then cleared. The
//! clipboard belongs to a process that must outlive the command (X11 and
//! Wayland serve a copied value from the program that copied it), so
//! authcfg starts itself again as a holder in its own session: the value
//! goes to it through a pipe (never its arguments or environment), it puts
//! the value on the clipboard (arboard), says "ok" (or why not) and holds
//! it until the time is up, then clears it, unless something else was
//! copied meanwhile (then it leaves that alone).

use std::io::{BufRead, Read, Write};
use std::process::{Command, Stdio};
use zeroize::Zeroizing;

/// The holder's argument (`authcfg __clipboard-hold SECONDS`): not a
/// command of the command line, recognised before it is parsed.
pub const HOLD_ARG: &str = "__clipboard-hold";

/// Puts `value` on the clipboard for `seconds`, through a holder process.
pub fn copy(value: &str, seconds: u64) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.args([HOLD_ARG, &seconds.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // Its own session: closing the terminal does not end it early.
    crate::platform::child_own_session(&mut cmd);
    let mut child = cmd.spawn()?;
    {
        let mut stdin = child.stdin.take().expect("piped");
        stdin.write_all(value.as_bytes())?;
    }
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line)?;
    match line.trim_end() {
        "ok" => Ok(()),
        other => {
            let _ = child.wait();
            let why = other
                .strip_prefix("error: ")
                .unwrap_or("the clipboard holder ended");
            Err(crate::error::failure(format!("cannot copy to the clipboard: {why}"))
                .hint("the clipboard needs a graphical session (DISPLAY or WAYLAND_DISPLAY); without one, `authcfg show NAME --reveal` prints the value")
                .into())
        }
    }
}

/// The holder (`authcfg __clipboard-hold SECONDS`): returns its exit code.
pub fn hold(seconds: &str) -> i32 {
    let seconds: u64 = seconds.parse().unwrap_or(45).clamp(1, 3600);
    let mut value = Zeroizing::new(String::new());
    if std::io::stdin()
        .take(1 << 20)
        .read_to_string(&mut value)
        .is_err()
    {
        println!("error: the value did not arrive");
        return 1;
    }
    let mut clipboard = match arboard::Clipboard::new() {
        Ok(c) => c,
        Err(e) => {
            println!("error: {e}");
            return 1;
        }
    };
    if let Err(e) = clipboard.set_text(value.as_str()) {
        println!("error: {e}");
        return 1;
    }
    println!("ok");
    let _ = std::io::stdout().flush();
    // Nobody reads our output any more.
    #[cfg(unix)]
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
        if null >= 0 {
            libc::dup2(null, 1);
            libc::close(null);
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(250));
        // Something else was copied: it is the user's now, leave it.
        match clipboard.get_text() {
            Ok(t) if t.as_str() == value.as_str() => {}
            _ => return 0,
        }
    }
    let _ = clipboard.clear();
    0
}
