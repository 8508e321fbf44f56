//! Config names: `prod/postgres`, `google/marketing`. A name maps directly to
//! a path under `configs/`, so everything that could escape that folder,
//! confuse a filesystem or fool a reader is refused here, before any I/O.
//! Names are NFC-normalised: two spellings of `é` are one name.

use crate::error::{usage, UserError};
use std::path::PathBuf;
use unicode_normalization::UnicodeNormalization;

pub const MAX_NAME_BYTES: usize = 200;
pub const MAX_SEGMENT_BYTES: usize = 100;

/// The canonical (NFC) form of a name given by a user, validated.
pub fn canonical(name: &str) -> Result<String, UserError> {
    let nfc: String = name.nfc().collect();
    validate(&nfc)?;
    Ok(nfc)
}

/// Characters that render as nothing or reorder text: a name holding one
/// can look like another name.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFFB}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}')
}

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
    if let Some(c) = name.chars().find(|c| invisible(*c)) {
        return bad(format!(
            "it contains the invisible or text-direction character U+{:04X}",
            c as u32
        ));
    }
    if name.nfc().ne(name.chars()) {
        return bad("it is not in Unicode normal form C".into());
    }
    if name.starts_with('-') {
        return bad("it starts with '-' (it would read as an option)".into());
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
        if seg.to_ascii_lowercase().ends_with(".age") {
            return bad(format!(
                "segment '{seg}' ends in '.age', which the store uses for its files"
            ));
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
            "",
            "..",
            "a/../b",
            "/abs",
            "a/",
            "a//b",
            "a\nb",
            "a\0b",
            ".hidden",
            "a/.git",
            " a",
            "-rf",
            "pay\u{200B}pal",
            "a\u{202E}gpj",
            "x.age/y",
            "X.AGE",
            "e\u{301}",
        ] {
            assert!(validate(n).is_err(), "{n:?}");
        }
        assert!(validate(&"x".repeat(10_000)).is_err());
    }

    #[test]
    fn nfc_twins_are_one_name() {
        assert_eq!(canonical("caf\u{65}\u{301}").unwrap(), "caf\u{e9}");
        assert_eq!(canonical("caf\u{e9}").unwrap(), "caf\u{e9}");
        assert!(canonical("a-b/c-").is_ok());
    }

    #[test]
    fn paths_and_stems() {
        assert_eq!(rel_path("prod/pg"), PathBuf::from("configs/prod/pg.age"));
        assert_eq!(env_stem("google/marketing"), "GOOGLE_MARKETING");
        assert_eq!(env_stem("Stripe API"), "STRIPE_API");
        assert_eq!(env_stem("1pass"), "_1PASS");
    }
}
