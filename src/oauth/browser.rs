//! Opening the authorization URL: `$BROWSER` first (a `:`-separated list of
//! commands, `%s` standing for the URL), else the platform opener.

use std::process::{Command, Stdio};

pub fn open(url: &str, browser: Option<&str>, leave_keyring: bool) -> Result<(), String> {
    if let Some(list) = browser {
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
            let mut cmd = Command::new(program);
            // The process environment has no key left (settings scrub it at
            // start-up); removed here too, so no change can hand one over.
            for k in crate::settings::KEY_BEARING {
                cmd.env_remove(k);
            }
            if leave_keyring {
                crate::platform::child_leaves_keyring(&mut cmd);
            }
            match cmd
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
pub fn available(settings: &crate::settings::Settings) -> bool {
    settings.browser.is_some() || settings.has_display || !cfg!(target_os = "linux")
}
