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

/// Whether a config name matches a glob: `*` any run of characters (`/`
/// included), `?` one character (not one byte), anything else literal. The
/// one matcher for `list PATTERN`, MCP `--expose` and every other glob over
/// names.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

pub use crate::text::deceptive;

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
    if let Some(c) = name.chars().find(|c| deceptive(*c)) {
        return bad(format!(
            "it contains U+{:04X}, an invisible, blank, text-direction, private-use or unassigned character",
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
    fn globs() {
        assert!(glob("prod/*", "prod/pg"));
        assert!(glob("*/pg", "prod/pg"));
        assert!(glob("*", ""));
        assert!(glob("*", "a/b"));
        assert!(glob("p?od/*g", "prod/x/pg"));
        assert!(!glob("prod/*", "dev/pg"));
        assert!(!glob("?", ""));
        assert!(glob("a*b*c", "aXbYbZc"));
        assert!(!glob("a*b*c", "aXbYbZ"));
        assert!(glob("api-?", "api-1"));
        assert!(!glob("api-?", "api-12"));
        assert!(glob("stripe", "stripe"));
        assert!(!glob("stripe", "stripe2"));
        // `?` is one character, not one byte: the MCP matcher used to
        // compare bytes, so `caf?` missed `café` there but not in `list`.
        assert!(glob("caf?", "café"));
        assert!(glob("пр?д/*", "прод/pg"));
        // No backtracking blow-up on many stars (the recursive matcher
        // was exponential).
        assert!(!glob(&"*a".repeat(40), &"a".repeat(39)));
    }

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

    /// Red team A21: each of these made a name that looks like `prod db`
    /// or `proddb`.
    #[test]
    fn rejects_look_alikes_by_general_category() {
        for c in [
            '\u{00A0}',  // no-break space (Zs)
            '\u{2007}',  // figure space (Zs)
            '\u{3000}',  // ideographic space (Zs)
            '\u{2028}',  // line separator (Zl)
            '\u{2029}',  // paragraph separator (Zp)
            '\u{0085}',  // next line (Cc)
            '\u{0600}',  // Arabic number sign (Cf)
            '\u{1BCA0}', // shorthand format letter overlap (Cf)
            '\u{13430}', // Egyptian hieroglyph vertical joiner (Cf)
            '\u{2066}',  // left-to-right isolate (Cf)
            '\u{E0041}', // tag latin capital a (Cf)
            '\u{E000}',  // private use (Co)
            '\u{F8FF}',  // private use (Co)
            '\u{F0000}', // supplementary private use (Co)
            '\u{0378}',  // unassigned (Cn)
            '\u{FFFF}',  // noncharacter (Cn)
            '\u{2800}',  // braille pattern blank
            '\u{3164}',  // Hangul filler
            '\u{115F}',  // Hangul choseong filler
            '\u{1160}',  // Hangul jungseong filler
            '\u{FFA0}',  // halfwidth Hangul filler
            '\u{FFFC}',  // object replacement character
            '\u{FFFD}',  // replacement character
            '\u{FE0F}',  // variation selector
            '\u{034F}',  // combining grapheme joiner
        ] {
            assert!(deceptive(c), "U+{:04X}", c as u32);
            for n in [format!("prod{c}db"), format!("prod/{c}"), format!("{c}x")] {
                assert!(validate(&n).is_err(), "{n:?}");
            }
        }
        for n in [
            "prod db",
            "caf\u{e9}",
            "\u{dc}n\u{ef}c\u{f6}d\u{e9}/\u{540d}\u{524d}",
            "a-b_c.d",
            "\u{6771}\u{4eac} prod",
        ] {
            validate(n).unwrap();
        }
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
