//! Text from outside (docs/ARCHITECTURE.md, "Outside text"): whatever
//! authcfg did not write and the user did not type (a server's or a
//! provider's message, an account name from userinfo, a recipient label of
//! a pulled header, a path in the usage log, an OAuth callback's fields, a
//! name in a repository's project file) reaches a terminal only through
//! [`escape`]: every character a terminal acts on, that renders as nothing
//! or reorders a line is written as an escape, and the length is capped.
//!
//! Carried as [`Outside`], whose only ways out (`Display`, `Debug`,
//! `Serialize`) are that escape; the text as received is kept for storage
//! and comparison ([`Outside::as_received`], [`stored`]) and never printed.
//! Messages authcfg composes (errors, notices) go through
//! [`escape_message`], the same escape with line breaks kept, in the one
//! place each reaches the terminal (`cli::main`, `CliUi::notice`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// At most this many characters of a piece of outside text are shown on a
/// terminal (then `…`), unless the caller asks for fewer.
pub const SHOWN: usize = 300;

/// At most this many characters are kept of what was received (a 100 KB
/// error text is not stored whole in a config and the index).
pub const KEPT: usize = 8 * 1024;

/// A line of a message authcfg composed is cut after this many characters
/// (outside parts are cut far earlier; this bounds what slipped through).
pub const MESSAGE_LINE: usize = 4 * 1024;

/// Text that came from outside the user's own input.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Outside(String);

impl Outside {
    /// The text as received, up to [`KEPT`] characters.
    pub fn new(text: impl Into<String>) -> Outside {
        let mut text = text.into();
        if text.len() > KEPT {
            if let Some((at, _)) = text.char_indices().nth(KEPT) {
                text.truncate(at);
            }
        }
        Outside(text)
    }

    /// The text as received: for storing, comparing and parsing. Never for
    /// a terminal (`Display` is the escaped form).
    pub fn as_received(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The escaped text, at most `max_chars` characters of it.
    pub fn cut(&self, max_chars: usize) -> Cow<'_, str> {
        escape(&self.0, max_chars)
    }

    /// The escaped text, at most [`SHOWN`] characters of it.
    pub fn shown(&self) -> Cow<'_, str> {
        escape(&self.0, SHOWN)
    }
}

impl fmt::Display for Outside {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

impl fmt::Debug for Outside {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Outside({:?})", self.shown())
    }
}

impl From<String> for Outside {
    fn from(s: String) -> Outside {
        Outside::new(s)
    }
}

impl From<&str> for Outside {
    fn from(s: &str) -> Outside {
        Outside::new(s)
    }
}

/// Serialized for output, the escaped text: a JSON answer (`--json`, MCP)
/// shows what a terminal would. Storage uses [`stored`].
impl Serialize for Outside {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.shown())
    }
}

/// Read back as stored (see [`stored`]).
impl<'de> Deserialize<'de> for Outside {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Outside, D::Error> {
        String::deserialize(d).map(Outside::new)
    }
}

/// `#[serde(with = "crate::text::stored")]` on a stored field: the text as
/// received, in the same form as a `String` (files written before this type
/// read unchanged).
pub mod stored {
    use super::Outside;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Outside, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.as_received())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Outside, D::Error> {
        String::deserialize(d).map(Outside::new)
    }

    /// The same for an `Option<Outside>`.
    pub mod option {
        use super::Outside;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(v: &Option<Outside>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => s.serialize_some(v.as_received()),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Outside>, D::Error> {
            Option::<String>::deserialize(d).map(|o| o.map(Outside::new))
        }
    }
}

/// Characters a config name may not hold (`store::names`) and outside text
/// shows escaped: the one class of both. Characters a name may not hold: they render as nothing, as a blank that
/// is not a plain space, break the line, reorder text, or mean nothing yet
/// (so a later font or Unicode version could draw them as anything). A name
/// holding one can look like another name. By general category: controls
/// (Cc), format characters (Cf: zero-width, bidirectional, invisible
/// operators, tags, ...), separators other than U+0020 (Zs, Zl, Zp),
/// private use (Co), surrogates (Cs) and unassigned code points (Cn); and
/// the blanks that Unicode files elsewhere: U+2800 braille blank, the
/// Hangul fillers, U+FFFC/U+FFFD, variation selectors, combining grapheme
/// joiner and the Mongolian and Khmer invisible characters.
pub fn deceptive(c: char) -> bool {
    use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory};
    if c == ' ' {
        return false;
    }
    matches!(
        c.general_category(),
        G::Control
            | G::Format
            | G::SpaceSeparator
            | G::LineSeparator
            | G::ParagraphSeparator
            | G::PrivateUse
            | G::Surrogate
            | G::Unassigned
    ) || matches!(c,
        '\u{034F}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{2800}' | '\u{3164}' | '\u{FFA0}' | '\u{FFFC}' | '\u{FFFD}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{E0100}'..='\u{E01EF}')
}

/// Whether a terminal would act on `c`, draw it as nothing or as a blank
/// that is not a space, or let it reorder the line: the characters a config
/// name may not hold ([`deceptive`]: controls, C1 controls such
/// as U+009B CSI, format characters such as the bidirectional overrides and
/// isolates, separators, private-use and unassigned code points, and the
/// invisible blanks Unicode files elsewhere).
fn hidden(c: char) -> bool {
    // Printable ASCII is the common case (`list` at 50,000 configs).
    if (' '..='~').contains(&c) {
        return false;
    }
    deceptive(c)
}

/// `text` with every [`hidden`] character written as an escape (`\u{1b}`,
/// and `\r`, `\n`, `\t`), and at most `max_chars` characters of it (then
/// `…`): it cannot move the cursor, clear a line, set the title or the
/// clipboard (OSC 52), reorder what is printed or pass for more than one
/// line. Backslashes are left as they are: the escapes are for a person to
/// read, not to be undone. Borrowed when nothing needed escaping.
pub fn escape(text: &str, max_chars: usize) -> Cow<'_, str> {
    render(text, max_chars, false)
}

/// [`escape`] for a message authcfg composed (an error, a notice), whose
/// line breaks are its own: `\n` is kept, every other hidden character is
/// escaped, and each line is cut at [`MESSAGE_LINE`] characters. Outside
/// parts in it were escaped when they were put in (an [`Outside`] prints
/// its `\n` as `\n`), so this is the net for text that reached a message
/// without one.
pub fn escape_message(text: &str) -> Cow<'_, str> {
    escape_lines(text, MESSAGE_LINE)
}

/// [`escape`] with `\n` kept and each line cut at `max_line_chars`: for
/// text whose lines are its own (a message, an HTTP body shown at a
/// terminal).
pub fn escape_lines(text: &str, max_line_chars: usize) -> Cow<'_, str> {
    render(text, max_line_chars, true)
}

/// Every string (and object key) of a JSON answer made of outside text
/// through [`escape`] with `max_chars`, in place: for answers that describe
/// (`list_configs`, `test_config`), after any redaction (cutting first could
/// leave part of a secret that redaction no longer recognises).
pub fn escape_json(v: &mut serde_json::Value, max_chars: usize) {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            if let Cow::Owned(e) = escape(s, max_chars) {
                *s = e;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| escape_json(x, max_chars)),
        Value::Object(o) => {
            let old = std::mem::take(o);
            for (k, mut x) in old {
                escape_json(&mut x, max_chars);
                o.insert(escape(&k, max_chars).into_owned(), x);
            }
        }
        _ => {}
    }
}

/// Serialized JSON (as `serde_json` writes it) for a terminal: every
/// [`hidden`] character left in it (`serde_json` escapes only those below
/// U+0020: DEL, C1 controls such as U+009B CSI, bidirectional overrides,
/// zero-width characters remain) written as a JSON `\uXXXX` escape. They
/// can only stand inside strings, so the text stays valid JSON of the same
/// value; its structural line breaks are kept. Borrowed when nothing needed
/// escaping.
pub fn escape_json_text(json: &str) -> Cow<'_, str> {
    if !json.chars().any(|c| c != '\n' && hidden(c)) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c != '\n' && hidden(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{:04x}", u));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn render(text: &str, max_chars: usize, keep_lines: bool) -> Cow<'_, str> {
    // With `keep_lines`, a line break (`\n`, or `\r\n`) and a tab are
    // kept: neither moves what is already on the screen.
    let kept = |c: char, next: Option<char>| {
        keep_lines && (c == '\n' || c == '\t' || (c == '\r' && next == Some('\n')))
    };
    let clean = |s: &str| {
        let mut n = 0usize;
        let mut it = s.chars().peekable();
        while let Some(c) = it.next() {
            if kept(c, it.peek().copied()) {
                if c == '\n' {
                    n = 0;
                }
                continue;
            }
            n += 1;
            if n > max_chars || hidden(c) {
                return false;
            }
        }
        true
    };
    if clean(text) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(4)) + 8);
    let mut n = 0usize;
    let mut cut = false;
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        if kept(c, it.peek().copied()) {
            if c == '\n' {
                n = 0;
                cut = false;
            }
            if !cut {
                out.push(c);
            }
            continue;
        }
        if cut {
            continue;
        }
        if n == max_chars {
            out.push('…');
            cut = true;
            if keep_lines {
                continue;
            }
            break;
        }
        n += 1;
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if hidden(c) => {
                use std::fmt::Write as _;
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_act_on() {
        assert_eq!(
            escape("a\x1b[2K\rb\x07\u{202E}c\nd\te\u{9b}f", 100),
            "a\\u{1b}[2K\\rb\\u{7}\\u{202e}c\\nd\\te\\u{9b}f"
        );
        assert_eq!(
            escape("caf\u{e9} prod/db \\x", 100),
            "caf\u{e9} prod/db \\x"
        );
        assert!(matches!(escape("plain text", 100), Cow::Borrowed(_)));
        assert_eq!(escape("abcdef", 3), "abc…");
        // OSC 52 (set the clipboard) and the isolates.
        assert_eq!(
            escape("\x1b]52;c;ZWNobyBwd25lZA==\x07\u{2066}x\u{2069}", 100),
            "\\u{1b}]52;c;ZWNobyBwd25lZA==\\u{7}\\u{2066}x\\u{2069}"
        );
    }

    #[test]
    fn messages_keep_their_lines_and_cut_each() {
        assert_eq!(escape_message("a\nb\x1b[2K"), "a\nb\\u{1b}[2K");
        assert_eq!(escape_message("a\tb\r\nc\rd"), "a\tb\r\nc\\rd");
        let long = format!("x\n{}\ny", "z".repeat(MESSAGE_LINE + 10));
        let out = escape_message(&long);
        assert!(out.starts_with("x\n") && out.ends_with("…\ny"), "{out:.20}");
    }

    #[test]
    fn outside_text_shows_escaped_and_keeps_what_was_received() {
        let o = Outside::new(format!("\u{1b}]0;t\u{7}{}", "a".repeat(KEPT * 2)));
        assert_eq!(o.as_received().chars().count(), KEPT);
        assert!(o.as_received().starts_with('\u{1b}'));
        let shown = o.to_string();
        assert!(shown.starts_with("\\u{1b}]0;t\\u{7}") && shown.ends_with('…'));
        assert_eq!(shown.chars().count(), SHOWN + 1 + "\\u{1b}\\u{7}".len() - 2);
        assert_eq!(
            serde_json::to_value(&o).unwrap().as_str().unwrap(),
            shown,
            "output JSON is the escaped text"
        );
        #[derive(Serialize, Deserialize)]
        struct Kept {
            #[serde(with = "stored")]
            v: Outside,
        }
        let json = serde_json::to_string(&Kept { v: o.clone() }).unwrap();
        let back: Kept = serde_json::from_str(&json).unwrap();
        assert_eq!(back.v, o, "stored as received");
    }
}
