//! Redaction of what a server sends back: every secret of the configs in
//! play, raw and in the forms a server is likely to echo it in (base64,
//! base64url, percent-encoded, JSON-escaped, inside a Basic credential),
//! becomes `[REDACTED:NAME/FIELD]`. `authcfg http` and every output of
//! `authcfg mcp` go through it (docs/SECURITY.md, "An agent using authcfg
//! mcp"), so an endpoint that echoes the request cannot hand the key back.

use crate::model::ConfigDoc;
use base64::Engine;
use std::collections::BTreeSet;

/// Values shorter than this are not searched for: they would blank out
/// ordinary words of a response (and offer no protection worth the name).
pub const MIN_LEN: usize = 4;

/// The patterns to replace, and one automaton over all of them (built on
/// first use after a change): a body is scanned once, whatever the number
/// of secrets.
#[derive(Default, Clone)]
pub struct Redactor {
    patterns: Vec<(Vec<u8>, String)>,
    seen: BTreeSet<(String, String, Vec<u8>)>,
    automaton: std::sync::OnceLock<aho_corasick::AhoCorasick>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} patterns)", self.patterns.len())
    }
}

/// The secret values of a config: each secret field (the catalog says
/// which; unknown fields count as secret) and its earlier values.
pub fn secrets_of(doc: &ConfigDoc) -> Vec<(String, String)> {
    let kind = doc.meta.kind;
    let ty = &doc.meta.type_id;
    let mut out = vec![];
    for (field, value) in &doc.fields {
        if crate::catalog::is_secret(kind, ty, field) && !value.is_empty() {
            out.push((field.clone(), value.expose().to_string()));
        }
    }
    for h in &doc.history {
        for (field, value) in &h.fields {
            if crate::catalog::is_secret(kind, ty, field) && !value.is_empty() {
                out.push((field.clone(), value.expose().to_string()));
            }
        }
    }
    out
}

impl Redactor {
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Adds every secret of `doc` (idempotent: a config added twice, or
    /// again after a refresh, adds only what is new).
    pub fn add_doc(&mut self, doc: &ConfigDoc) {
        let name = doc.meta.name.clone();
        for (field, value) in secrets_of(doc) {
            self.add(&name, &field, &value);
        }
        // Header values as sent, so that an echo of the whole header in
        // base64 leaves no edge of the value readable.
        for field in ["api_key", "token", "access_token"] {
            if let Some(v) = doc.get(field).filter(|v| v.len() >= MIN_LEN) {
                if let Some(p) = doc.get("prefix").filter(|p| !p.is_empty()) {
                    self.add(&name, field, &format!("{p}{v}"));
                }
                self.add(&name, field, &format!("Bearer {v}"));
            }
        }
        // A Basic credential carries "user:password" in base64 as a whole.
        if let (Some(u), Some(p)) = (doc.get("username"), doc.get("password")) {
            if !p.is_empty() {
                self.add(&name, "password", &format!("{u}:{p}"));
            }
        }
    }

    pub fn add(&mut self, name: &str, field: &str, value: &str) {
        if value.len() < MIN_LEN {
            return;
        }
        let key = (
            name.to_string(),
            field.to_string(),
            value.as_bytes().to_vec(),
        );
        if !self.seen.insert(key) {
            return;
        }
        let label = format!("[REDACTED:{name}/{field}]");
        for form in forms(value.as_bytes()) {
            if form.len() >= MIN_LEN && !self.patterns.iter().any(|(p, _)| *p == form) {
                self.patterns.push((form, label.clone()));
            }
        }
        self.automaton = std::sync::OnceLock::new();
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// `bytes` with every pattern replaced (the longest match wins where
    /// two overlap).
    pub fn bytes(&self, bytes: &[u8]) -> Vec<u8> {
        if self.patterns.is_empty() {
            return bytes.to_vec();
        }
        let ac = self.automaton();
        let labels: Vec<&[u8]> = self.patterns.iter().map(|(_, l)| l.as_bytes()).collect();
        ac.replace_all_bytes(bytes, &labels)
    }

    /// The length of the longest form searched for.
    pub fn longest(&self) -> usize {
        self.patterns
            .iter()
            .map(|(p, _)| p.len())
            .max()
            .unwrap_or(0)
    }

    /// Where to cut `bytes` to at most `max`: at `max`, or before a secret
    /// form that the cut would split (so no part of it remains).
    pub fn cut_point(&self, bytes: &[u8], max: usize) -> usize {
        let max = max.min(bytes.len());
        if self.patterns.is_empty() {
            return max;
        }
        self.automaton()
            .find_iter(bytes)
            .take_while(|m| m.start() < max)
            .find(|m| m.end() > max)
            .map_or(max, |m| m.start())
    }

    /// Builds the automaton now (clones made afterwards share it).
    pub fn prepare(&self) {
        if !self.patterns.is_empty() {
            self.automaton();
        }
    }

    fn automaton(&self) -> &aho_corasick::AhoCorasick {
        self.automaton.get_or_init(|| {
            aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::LeftmostLongest)
                // Hex in either case, and hosts a URL parser lower-cased.
                .ascii_case_insensitive(true)
                .build(self.patterns.iter().map(|(p, _)| p))
                .expect("literal patterns build")
        })
    }

    pub fn text(&self, text: &str) -> String {
        String::from_utf8_lossy(&self.bytes(text.as_bytes())).into_owned()
    }

    /// Every string of a JSON value, keys included.
    pub fn json(&self, v: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.json(x)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| (self.text(k), self.json(x)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// The forms a value can come back in.
fn forms(v: &[u8]) -> Vec<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let mut out = vec![v.to_vec()];
    for e in [&STANDARD, &URL_SAFE] {
        out.push(e.encode(v).into_bytes());
    }
    for e in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        out.push(e.encode(v).into_bytes());
        // Inside a longer base64 text the value starts at any offset mod 3:
        // the characters that depend on its bytes alone.
        for k in 1..3usize {
            let mut padded = vec![0u8; k];
            padded.extend_from_slice(v);
            let enc = e.encode(&padded);
            let start = 4;
            let full = (k + v.len()) / 3 * 4;
            if full > start + 4 {
                out.push(enc.as_bytes()[start..full].to_vec());
            }
        }
        let full = v.len() / 3 * 4;
        if full >= 8 {
            out.push(e.encode(v).as_bytes()[..full].to_vec());
        }
    }
    // Percent-encoding as the common encoders do it: everything escaped;
    // RFC 3986 unreserved characters kept (Python's quote, Go's
    // PathEscape); JavaScript's encodeURIComponent; HTML forms (space as
    // +: url's and Python's quote_plus, Go's QueryEscape); each with
    // upper- and lower-case hex digits.
    for (keep, plus) in [
        (&b""[..], false),
        (&b"-_.~"[..], false),
        (&b"-_.!~*'()"[..], false),
        (&b"*-._"[..], true),
        (&b"-_.~"[..], true),
    ] {
        for lower in [false, true] {
            out.push(percent(v, keep, plus, lower));
        }
    }
    let s = String::from_utf8_lossy(v);
    if let Ok(j) = serde_json::to_string(&s) {
        let inner = &j[1..j.len() - 1];
        out.push(inner.as_bytes().to_vec());
        // PHP's json_encode escapes '/' too.
        out.push(inner.replace('/', "\\/").into_bytes());
    }
    // Every character as \uXXXX (some encoders, to be ASCII-safe).
    let u: String = s.encode_utf16().map(|c| format!("\\u{c:04x}")).collect();
    out.push(u.into_bytes());
    out.push(hex::encode(v).into_bytes());
    out.sort();
    out.dedup();
    out
}

fn percent(v: &[u8], keep: &[u8], plus_for_space: bool, lower: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len() * 3);
    for &b in v {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b);
        } else if b == b' ' && plus_for_space {
            out.push(b'+');
        } else if lower {
            out.extend_from_slice(format!("%{b:02x}").as_bytes());
        } else {
            out.extend_from_slice(format!("%{b:02X}").as_bytes());
        }
    }
    out
}

#[cfg(test)]
trait LowerEscapes {
    fn to_lowercase_escapes(&self) -> String;
}
#[cfg(test)]
impl LowerEscapes for String {
    fn to_lowercase_escapes(&self) -> String {
        let b = self.as_bytes();
        let mut out = String::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' && i + 2 < b.len() {
                out.push('%');
                out.push((b[i + 1] as char).to_ascii_lowercase());
                out.push((b[i + 2] as char).to_ascii_lowercase());
                i += 3;
            } else {
                out.push(b[i] as char);
                i += 1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

    fn r(v: &str) -> Redactor {
        let mut r = Redactor::new();
        r.add("api", "api_key", v);
        r
    }

    #[test]
    fn raw_and_encoded_forms() {
        let key = "sk_live/Ab+c?d=e&f g~";
        let red = r(key);
        let pct = String::from_utf8(percent(key.as_bytes(), b"", false, false)).unwrap();
        let form: String = url::form_urlencoded::byte_serialize(key.as_bytes()).collect();
        for text in [
            format!("x {key} y"),
            format!("x={}", STANDARD.encode(key)),
            format!("x={}", URL_SAFE_NO_PAD.encode(key)),
            format!("q={pct}"),
            format!("q={}", pct.to_lowercase_escapes()),
            format!(
                "q={}",
                String::from_utf8(percent(key.as_bytes(), b"-_.~", true, false)).unwrap()
            ),
            format!(
                "q={}",
                String::from_utf8(percent(key.as_bytes(), b"-_.!~*'()", false, true)).unwrap()
            ),
            format!("q={form}"),
            format!("{{\"k\":{}}}", serde_json::to_string(key).unwrap()),
            hex::encode(key),
        ] {
            let out = red.text(&text);
            assert!(out.contains("[REDACTED:api/api_key]"), "{text} -> {out}");
            assert!(!out.contains(key), "{out}");
        }
    }

    #[test]
    fn inside_a_basic_credential_at_any_offset() {
        let pass = "correct-horse-battery";
        for user in ["a", "ab", "abc", "alice"] {
            let mut red = Redactor::new();
            red.add("db", "password", pass);
            let header = format!("Basic {}", STANDARD.encode(format!("{user}:{pass}")));
            let out = red.text(&header);
            assert!(out.contains("[REDACTED:db/password]"), "{header} -> {out}");
            // What is left cannot hold more than two bytes of it at each end.
            let left = out.replace("[REDACTED:db/password]", "");
            assert!(left.len() < 20, "{out}");
        }
    }

    #[test]
    fn a_cut_never_splits_a_secret() {
        let red = r("secret-value-123");
        let body = b"0123456789secret-value-123 tail";
        // A cut inside the secret moves before it.
        assert_eq!(red.cut_point(body, 15), 10);
        assert_eq!(red.cut_point(body, 10), 10);
        assert_eq!(red.cut_point(body, 5), 5);
        // After it, or with no secret, the cut stays.
        assert_eq!(red.cut_point(body, 28), 28);
        assert_eq!(Redactor::new().cut_point(body, 15), 15);
        assert!(red.longest() >= "secret-value-123".len());
    }

    #[test]
    fn short_values_are_left_alone() {
        let red = r("ok");
        assert_eq!(red.text("ok ok"), "ok ok");
        assert!(red.is_empty());
    }

    #[test]
    fn json_strings_and_keys() {
        let red = r("s3cr3t-value");
        let v = serde_json::json!({"s3cr3t-value": ["a s3cr3t-value b", 1]});
        let s = red.json(&v).to_string();
        assert!(!s.contains("s3cr3t-value"), "{s}");
    }
}
