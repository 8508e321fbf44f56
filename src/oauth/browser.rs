//! Opening the authorization URL: `$BROWSER` first (a `:`-separated list of
//! commands, `%s` standing for the URL), else the platform opener.

use std::process::{Command, Stdio};

pub fn open(url: &str) -> Result<(), String> {
    if let Ok(list) = std::env::var("BROWSER") {
        let mut last = String::from("BROWSER is empty");
        for entry in list.split(':').filter(|e| !e.trim().is_empty()) {
            let mut parts = entry.split_whitespace();
            let Some(program) = parts.next() else {
                continue;
            };
            let mut args: Vec<String> = parts.map(|a| a.replace("%s", url)).collect();
            if !entry.contains("%s") {
                args.push(url.to_string());
            }
            match Command::new(program)
                .args(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
            {
                Ok(mut child) => {
                    // Reap it whenever it ends, without blocking the flow.
                    std::thread::spawn(move || child.wait());
                    return Ok(());
                }
                Err(e) => last = format!("{program}: {e}"),
            }
        }
        return Err(last);
    }
    webbrowser::open(url).map_err(|e| e.to_string())
}

/// Whether a browser can be shown here (for choosing the device flow).
pub fn available() -> bool {
    if std::env::var_os("BROWSER").is_some() {
        return true;
    }
    if std::env::var_os("SSH_CONNECTION").is_some() || std::env::var_os("SSH_TTY").is_some() {
        return false;
    }
    if cfg!(target_os = "linux") {
        return std::env::var_os("DISPLAY").is_some()
            || std::env::var_os("WAYLAND_DISPLAY").is_some();
    }
    true
}
