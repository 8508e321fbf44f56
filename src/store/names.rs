//! Config names: `prod/postgres`, `google/marketing`. A name maps directly to
//! a path under `configs/`, so everything that could escape that folder or
//! confuse a filesystem is refused here, before any I/O.

use crate::error::{usage, UserError};
use std::path::PathBuf;

pub const MAX_NAME_BYTES: usize = 200;
pub const MAX_SEGMENT_BYTES: usize = 100;

pub fn validate(name: &str) -> Result<(), UserError> {
    let hint = "names are segments separated by '/', e.g. prod/postgres or google/marketing";
    let bad = |why: String| Err(usage(format!("invalid config name: {why}")).hint(hint));
    if name.is_empty() {
        return bad("the name is empty".into());
    }
    if name.len() > MAX_NAME_BYTES {
        return bad(format!(
            "{} bytes long, the limit is {MAX_NAME_BYTES}",
            name.len()
        ));
    }
    if name.chars().any(char::is_control) {
        return bad("it contains a control character".into());
    }
    if name.starts_with('/') {
        return bad("it starts with '/' (absolute paths are not names)".into());
    }
    if name.ends_with('/') {
        return bad("it ends with '/'".into());
    }
    if name.contains('\\') {
        return bad("it contains '\\'".into());
    }
    for seg in name.split('/') {
        if seg.is_empty() {
            return bad("it has an empty segment ('//')".into());
        }
        if seg == "." || seg == ".." {
            return bad(format!("'{seg}' is not allowed as a segment"));
        }
        if seg.starts_with('.') {
            return bad(format!("segment '{seg}' starts with '.'"));
        }
        if seg.trim() != seg {
            return bad(format!("segment '{seg}' starts or ends with a space"));
        }
        if seg.len() > MAX_SEGMENT_BYTES {
            return bad(format!(
                "a segment is {} bytes long, the limit is {MAX_SEGMENT_BYTES}",
                seg.len()
            ));
        }
    }
    Ok(())
}

/// Relative path of the encrypted file for a (valid) name.
pub fn rel_path(name: &str) -> PathBuf {
    let mut p = PathBuf::from("configs");
    for seg in name.split('/') {
        p.push(seg);
    }
    let file = format!("{}.age", p.file_name().unwrap().to_string_lossy());
    p.set_file_name(file);
    p
}

/// Upper snake case for variable names: `google/marketing` → `GOOGLE_MARKETING`.
pub fn env_stem(name: &str) -> String {
    let mut out = String::new();
    let mut last_us = true;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_uppercase());
            last_us = false;
        } else if !last_us {
            out.push('_');
            last_us = true;
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_grouped_names() {
        for n in [
            "stripe",
            "prod/postgres",
            "google/marketing",
            "Google Workspace - Marketing",
        ] {
            validate(n).unwrap();
        }
    }

    #[test]
    fn rejects_escapes() {
        for n in [
            "", "..", "a/../b", "/abs", "a/", "a//b", "a\nb", "a\0b", ".hidden", "a/.git", " a",
        ] {
            assert!(validate(n).is_err(), "{n:?}");
        }
        assert!(validate(&"x".repeat(10_000)).is_err());
    }

    #[test]
    fn paths_and_stems() {
        assert_eq!(rel_path("prod/pg"), PathBuf::from("configs/prod/pg.age"));
        assert_eq!(env_stem("google/marketing"), "GOOGLE_MARKETING");
        assert_eq!(env_stem("Stripe API"), "STRIPE_API");
        assert_eq!(env_stem("1pass"), "_1PASS");
    }
}
