//! Redaction of what a server sends back (docs/SECURITY.md, "An agent using
//! authcfg mcp"; docs/ARCHITECTURE.md, "Redaction"). `authcfg http`, every
//! output of `authcfg mcp` and the provider texts of `oauth::redact` go
//! through it, so an endpoint that echoes the request cannot hand a secret
//! back in any form the reader could decode.
//!
//! It decodes before it matches. An answer is read as the agent would read
//! it, through views:
//! - the bytes as they are;
//! - text escapes decoded (`unescape`): JSON and JavaScript string escapes
//!   of every kind (`\uXXXX` with surrogate pairs, `\u{...}`, `\xHH`,
//!   C's and legacy JavaScript's octal `\123`, `\n`, `\/`, ...),
//!   percent-encoding whatever the encoder kept
//!   (`%XX` in either case, JavaScript's `%uXXXX`), HTML and XML
//!   entities (every named HTML5 entity, decimal and hex numeric ones) and
//!   quoted-printable (`=XX`, soft line breaks), all in one pass;
//! - base64 decoded (`base64_view`): every run of base64 characters of
//!   either alphabet, across line breaks, spaces, tabs and
//!   backslash-newlines, at each of its four possible alignments, and
//!   padded chunks written one after the other joined;
//! - hex decoded (`hex_view`): every run of hex digits, at both
//!   alignments (hex of base64, hex of UTF-16);
//!
//! and each decoded view again, up to two layers (`DEPTH`: JSON inside
//! JSON, base64 inside JSON with `\n` escapes, a percent-encoded value in
//! an HTML attribute, base64 of a `Basic` header). Every view keeps where
//! each of its bytes came from, so a secret found in a decoded view
//! replaces exactly the original bytes that encode it (whole escapes,
//! whole base64 groups: no edge of it is left readable). The secrets are
//! searched for in every view at once (one Aho-Corasick automaton, ASCII
//! case ignored); besides the value itself the automaton holds the few
//! forms a decoder cannot undo: hex, UTF-16, Latin-1, the value with its
//! own escape-like sequences decoded, and `+` for a space.
//!
//! Everything is linear in the size of the answer: at most thirteen views,
//! each built in one pass; answers larger than `WINDOW` are read in
//! overlapping windows. The views are built only over the regions that may
//! hold a match (`gate`: one cheap pass that every kind of view leaves a
//! mark for); runs are found by sampling, escapes by memchr, and the
//! automaton runs only near a prefilter's hits and, in an escape view,
//! near an escape (docs/ARCHITECTURE.md, "Redaction").

use crate::model::ConfigDoc;
use std::borrow::Cow;
use std::collections::BTreeSet;

mod gate;
mod views;
use views::*;

/// Values shorter than this are not searched for: they would blank out
/// ordinary words of a response (and offer no protection worth the name).
pub const MIN_LEN: usize = 4;

/// How many layers of encoding are undone.
const DEPTH: usize = 2;

/// A base64 run shorter than this (6 characters hold 4 bytes) is not
/// decoded.
const MIN_RUN: usize = 6;

/// How many bytes one byte of a secret can take once encoded twice (the
/// worst: every character of a percent-escape written as `\uXXXX`).
const EXPANSION: usize = 18;

/// Answers above this size are redacted window by window.
const WINDOW: usize = 4 << 20;

/// Bytes a window starts before its own part, so that an escape cut by the
/// window's start is decoded whole.
const BACK: usize = 64;

/// The patterns to replace, and one automaton over all of them (built on
/// first use after a change).
#[derive(Default, Clone)]
pub struct Redactor {
    patterns: Vec<Vec<u8>>,
    /// The label of each pattern (an index into `labels`).
    owner: Vec<u32>,
    labels: Vec<String>,
    known: BTreeSet<Vec<u8>>,
    seen: BTreeSet<(String, Vec<u8>)>,
    /// The longest secret value, in bytes.
    longest: usize,
    /// The longest pattern, in bytes.
    widest: usize,
    automaton: std::sync::OnceLock<Search>,
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

/// Outside text about a config (a probe's detail, the account a provider
/// names, an error it sent) with the secrets of `docs` replaced, in every
/// form this module finds: the one rule by which `authcfg test`, `show`,
/// `list`, `add`, `reauth` and the MCP tools keep a server from echoing a
/// secret back onto the screen or into the store (docs/SECURITY.md,
/// "Servers and providers").
pub fn own_secrets(docs: &[&ConfigDoc], text: &str) -> String {
    if text.len() < MIN_LEN {
        return text.to_string();
    }
    let mut r = Redactor::new();
    for d in docs {
        r.add_doc(d);
    }
    r.text(text)
}

/// The outside text a config keeps (its account, its last test's detail)
/// with its own secrets replaced. Every write of the store calls this, so
/// whatever path set them, no secret is kept (nor later shown) there.
pub fn scrub(doc: &mut ConfigDoc) {
    let account = doc
        .meta
        .account
        .as_ref()
        .map(|a| a.as_received().to_string());
    let detail = doc
        .meta
        .last_test
        .as_ref()
        .map(|t| t.detail.as_received().to_string());
    if account.as_ref().map_or(0, String::len) < MIN_LEN
        && detail.as_ref().map_or(0, String::len) < MIN_LEN
    {
        return;
    }
    let mut r = Redactor::new();
    r.add_doc(doc);
    if r.is_empty() {
        return;
    }
    if let Some(a) = account {
        let clean = r.text(&a);
        if clean != a {
            doc.meta.account = Some(crate::text::Outside::new(clean));
        }
    }
    if let (Some(d), Some(t)) = (detail, doc.meta.last_test.as_mut()) {
        let clean = r.text(&d);
        if clean != d {
            t.detail = crate::text::Outside::new(clean);
        }
    }
}

/// A stretch of the original bytes to replace, and by which label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Span {
    lo: usize,
    hi: usize,
    label: u32,
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
        // A Basic credential carries "user:password" in base64 as a whole:
        // also a password shorter than MIN_LEN is found there.
        if let (Some(u), Some(p)) = (doc.get("username"), doc.get("password")) {
            if !p.is_empty() {
                self.add(&name, "password", &format!("{u}:{p}"));
            }
        }
    }

    /// Adds `value`, to be replaced by `[REDACTED:NAME/FIELD]`.
    pub fn add(&mut self, name: &str, field: &str, value: &str) {
        self.add_labelled(value, &format!("[REDACTED:{name}/{field}]"));
    }

    /// Adds `value`, to be replaced by `label`.
    pub fn add_labelled(&mut self, value: &str, label: &str) {
        if value.len() < MIN_LEN || !self.seen.insert((label.to_string(), value.into())) {
            return;
        }
        let owner = match self.labels.iter().position(|l| l == label) {
            Some(i) => i,
            None => {
                self.labels.push(label.to_string());
                self.labels.len() - 1
            }
        } as u32;
        for form in forms(value) {
            if form.len() >= MIN_LEN && self.known.insert(form.clone()) {
                self.widest = self.widest.max(form.len());
                self.patterns.push(form);
                self.owner.push(owner);
            }
        }
        self.longest = self.longest.max(value.len());
        self.automaton = std::sync::OnceLock::new();
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// How far past a limit an answer is read so that a secret the limit
    /// would cut is seen whole (and cut away, not half shown).
    pub fn slack(&self) -> usize {
        if self.is_empty() {
            0
        } else {
            self.longest * EXPANSION + BACK
        }
    }

    /// Whether `bytes` hold a secret, in any form this module finds.
    pub fn finds(&self, bytes: &[u8]) -> bool {
        !self.spans(bytes).is_empty()
    }

    /// `bytes` with every secret, in whatever form, replaced.
    pub fn bytes(&self, bytes: &[u8]) -> Vec<u8> {
        let spans = self.spans(bytes);
        self.replace(bytes, &spans, bytes.len())
    }

    /// The first `max` bytes of `bytes` (read up to `max + slack()`),
    /// redacted; the cut moves before a secret it would split, so no part
    /// of it remains.
    pub fn limited(&self, bytes: &[u8], max: usize) -> Vec<u8> {
        let spans = self.spans(bytes);
        let mut cut = max.min(bytes.len());
        if let Some(s) = spans.iter().find(|s| s.lo < cut && s.hi > cut) {
            cut = s.lo;
        }
        self.replace(bytes, &spans, cut)
    }

    pub fn text(&self, text: &str) -> String {
        if self.is_empty() || text.len() < MIN_LEN {
            return text.to_string();
        }
        match String::from_utf8(self.bytes(text.as_bytes())) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        }
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

    /// Builds the automaton now (clones made afterwards share it).
    pub fn prepare(&self) {
        if !self.patterns.is_empty() {
            self.automaton();
        }
    }

    fn automaton(&self) -> &Search {
        self.automaton.get_or_init(|| {
            let ac = aho_corasick::AhoCorasick::builder()
                // Every match, overlapping ones too: two secrets that
                // overlap are both covered.
                .match_kind(aho_corasick::MatchKind::Standard)
                // Hex in either case, and hosts a URL parser lower-cased.
                .ascii_case_insensitive(true)
                .build(&self.patterns)
                .expect("literal patterns build");
            Search {
                ac,
                pre: prefilter(&self.patterns),
                widest: self.widest,
                gate: gate::Gate::new(&self.patterns),
            }
        })
    }

    /// The labels of every value `bytes` hold, in any form this module
    /// finds (each once, in no particular order): `ops::proxy` asks which
    /// placeholders a request carries.
    pub fn labels_in(&self, bytes: &[u8]) -> BTreeSet<&str> {
        self.all_spans(bytes)
            .iter()
            .map(|s| self.labels[s.label as usize].as_str())
            .collect()
    }

    /// A redactor of a stream (a child's output, a proxied answer), fed
    /// piece by piece: a secret split across pieces is still found.
    pub fn stream(self: &std::sync::Arc<Self>) -> Stream {
        Stream {
            r: self.clone(),
            held: vec![],
            shown: 0,
        }
    }

    /// The stretches of `bytes` that encode a secret, sorted, merged.
    fn spans(&self, bytes: &[u8]) -> Vec<Span> {
        merge(self.all_spans(bytes))
    }

    /// Every match, not merged.
    fn all_spans(&self, bytes: &[u8]) -> Vec<Span> {
        if self.is_empty() || bytes.len() < MIN_LEN {
            return vec![];
        }
        let overlap = 2 * self.slack();
        let mut all = vec![];
        if bytes.len() <= WINDOW + overlap + BACK {
            self.spans_gated(bytes, 0, &mut all);
        } else {
            // Each stretch of at most `slack` bytes lies whole in one
            // window; a window starts a little early, and never inside a
            // run of backslashes (whose parity decides what follows).
            let mut s: usize = 0;
            loop {
                let mut start = s.saturating_sub(BACK);
                if start > 0 && bytes[start - 1] == b'\\' {
                    while start < s && bytes[start] == b'\\' {
                        start += 1;
                    }
                    start = (start + 1).min(s);
                }
                let end = (s + WINDOW + overlap).min(bytes.len());
                self.spans_gated(&bytes[start..end], start, &mut all);
                if end == bytes.len() {
                    break;
                }
                s += WINDOW;
            }
        }
        all
    }

    /// Spans of one window, the views built only over the regions that
    /// may hold a match (`gate`).
    fn spans_gated(&self, bytes: &[u8], base: usize, out: &mut Vec<Span>) {
        let s = self.automaton();
        #[cfg(test)]
        if FULL.with(|f| f.get()) {
            return self.spans_in(bytes, base, out);
        }
        let Some(g) = &s.gate else {
            return self.spans_in(bytes, base, out);
        };
        for (lo, hi) in g.regions(s, bytes) {
            self.spans_in(&bytes[lo..hi], base + lo, out);
        }
    }

    /// Spans of one window (`base`: where it starts in the answer).
    fn spans_in(&self, bytes: &[u8], base: usize, out: &mut Vec<Span>) {
        let ac = self.automaton();
        let views = views_of(bytes);
        let mut found = |i: usize, m: aho_corasick::Match| {
            let (mut lo, mut hi) = (m.start(), m.end());
            let mut at = i;
            while at != 0 {
                (lo, hi) = views[at].map.span(lo, hi);
                at = views[at].parent;
            }
            out.push(Span {
                lo: base + lo,
                hi: base + hi,
                label: self.owner[m.pattern().as_usize()],
            });
        };
        for (i, v) in views.iter().enumerate() {
            let bytes = v.bytes.as_ref();
            let Map::Segs(segs) = &v.map else {
                ac.each(bytes, |m| found(i, m));
                continue;
            };
            // An escape view holds its parent's bytes between escapes: a
            // match there is one its parent has too (same place, same
            // pattern), found when the parent was searched. Only the
            // stretches within a pattern's length of an escape are new.
            let reach = self.widest.saturating_sub(1);
            let mut scan = |(lo, hi): (usize, usize)| {
                ac.each(&bytes[lo..hi], |m| {
                    let span = m.start() + lo..m.end() + lo;
                    found(i, aho_corasick::Match::new(m.pattern(), span));
                });
            };
            let mut window: Option<(usize, usize)> = None;
            for (k, s) in segs.iter().enumerate().filter(|(_, s)| !s.literal) {
                let end = segs.get(k + 1).map_or(bytes.len(), |n| n.at as usize);
                let lo = (s.at as usize).saturating_sub(reach);
                let hi = (end + reach).min(bytes.len());
                match &mut window {
                    Some((_, h)) if lo <= *h => *h = hi.max(*h),
                    _ => {
                        if let Some(w) = window.replace((lo, hi)) {
                            scan(w);
                        }
                    }
                }
            }
            if let Some(w) = window {
                scan(w);
            }
        }
    }

    fn replace(&self, bytes: &[u8], spans: &[Span], cut: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(cut);
        let mut at = 0;
        for s in spans.iter().filter(|s| s.hi <= cut) {
            out.extend_from_slice(&bytes[at..s.lo]);
            out.extend_from_slice(self.labels[s.label as usize].as_bytes());
            at = s.hi;
        }
        out.extend_from_slice(&bytes[at..cut]);
        out
    }
}

/// The streaming form of a [`Redactor`] (`Redactor::stream`): what is fed
/// in comes out redacted, held back by [`Redactor::slack`] bytes so that a
/// secret split across pieces (in any encoded form) is seen whole. The last
/// `BACK` bytes already shown are kept as context, so an escape cut by a
/// piece's edge is decoded whole.
pub struct Stream {
    r: std::sync::Arc<Redactor>,
    /// Context already shown (`..shown`), then bytes not yet shown.
    held: Vec<u8>,
    shown: usize,
}

impl Stream {
    /// Feeds `piece`; returns what may be shown now.
    pub fn push(&mut self, piece: &[u8]) -> Vec<u8> {
        if self.r.is_empty() {
            return piece.to_vec();
        }
        self.held.extend_from_slice(piece);
        let keep = self.r.slack();
        if self.held.len() - self.shown <= keep {
            return vec![];
        }
        let upto = self.held.len() - keep;
        self.emit(upto)
    }

    /// Everything held, when no more is coming soon (an interactive
    /// program waiting for input): all but a tail that could begin a
    /// secret, which waits for the next piece or the end: the start of a
    /// secret as it is written, or a trailing run of the characters its
    /// encodings are made of (base64, hex, percent and backslash escapes)
    /// of at least `MIN_LEN` bytes. A prompt ending in a blank or
    /// punctuation is shown at once.
    pub fn flush(&mut self) -> Vec<u8> {
        if self.r.is_empty() || self.held.len() == self.shown {
            return vec![];
        }
        let pending = &self.held[self.shown..];
        // The run counts back into what was already shown: one begun
        // there goes on here.
        let run = open_run(&self.held);
        let mut hold = if run >= MIN_LEN {
            run.min(pending.len())
        } else {
            0
        };
        for p in &self.r.patterns {
            for k in (hold + 1..=p.len().saturating_sub(1).min(pending.len())).rev() {
                if pending[pending.len() - k..].eq_ignore_ascii_case(&p[..k]) {
                    hold = k;
                    break;
                }
            }
        }
        let upto = self.held.len() - hold;
        self.emit(upto)
    }

    /// The rest, at the end of the stream.
    pub fn finish(&mut self) -> Vec<u8> {
        let upto = self.held.len();
        self.emit(upto)
    }

    fn emit(&mut self, upto: usize) -> Vec<u8> {
        let spans = self.r.spans(&self.held);
        let mut cut = upto;
        if let Some(s) = spans.iter().find(|s| s.lo < cut && s.hi > cut) {
            cut = s.lo.max(self.shown);
        }
        let mut out = Vec::with_capacity(cut.saturating_sub(self.shown));
        let mut at = self.shown;
        for s in spans.iter().filter(|s| s.hi > self.shown && s.lo < cut) {
            let lo = s.lo.max(at);
            out.extend_from_slice(&self.held[at..lo]);
            out.extend_from_slice(self.r.labels[s.label as usize].as_bytes());
            at = s.hi.max(at);
        }
        if at < cut {
            out.extend_from_slice(&self.held[at..cut]);
        }
        let cut = cut.max(at);
        // Keep BACK bytes of what was shown as context for the next piece.
        let start = cut.saturating_sub(BACK);
        self.held.drain(..start);
        self.shown = cut - start;
        out
    }
}

/// The automaton over every pattern, and a faster search that rules out
/// most of a view first.
#[derive(Clone)]
struct Search {
    ac: aho_corasick::AhoCorasick,
    /// Four bytes of each pattern in every ASCII case (aho-corasick's SIMD
    /// searcher, which knows no case folding): every match of the
    /// automaton holds one, so it runs only around them. None when the
    /// patterns have too many variants.
    pre: Option<aho_corasick::packed::Searcher>,
    /// The longest pattern.
    widest: usize,
    /// Where views are worth building (none: everywhere).
    gate: Option<gate::Gate>,
}

#[cfg(test)]
thread_local! {
    /// Tests: build every view over every window (no `gate`), to compare.
    static FULL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The most variants `prefilter` takes; above, the automaton searches all.
const VARIANTS: usize = 96;

impl Search {
    /// Every match in `hay`, overlapping ones too (in no particular order).
    fn each(&self, hay: &[u8], mut f: impl FnMut(aho_corasick::Match)) {
        let Some(pre) = &self.pre else {
            self.ac.find_overlapping_iter(hay).for_each(f);
            return;
        };
        // A match holds a fingerprint that starts inside it, and that one is
        // found or overlaps one found (which starts before it): the match
        // lies within `widest` of a fingerprint found.
        let mut scan = |(lo, hi): (usize, usize)| {
            for m in self.ac.find_overlapping_iter(&hay[lo..hi]) {
                f(aho_corasick::Match::new(
                    m.pattern(),
                    m.start() + lo..m.end() + lo,
                ));
            }
        };
        let mut window: Option<(usize, usize)> = None;
        for m in pre.find_iter(hay) {
            let lo = m.start().saturating_sub(self.widest);
            let hi = (m.end() + self.widest).min(hay.len());
            match &mut window {
                Some((_, h)) if lo <= *h => *h = hi.max(*h),
                _ => {
                    if let Some(w) = window.replace((lo, hi)) {
                        scan(w);
                    }
                }
            }
        }
        if let Some(w) = window {
            scan(w);
        }
    }
}

/// The prefilter of `Search`: of each pattern, the four bytes with the
/// fewest ASCII letters, in every case.
fn prefilter(patterns: &[Vec<u8>]) -> Option<aho_corasick::packed::Searcher> {
    let mut b = aho_corasick::packed::Config::new().builder();
    let mut n = 0;
    for p in patterns {
        let letters = |w: &[u8]| w.iter().filter(|c| c.is_ascii_alphabetic()).count();
        let best = p.windows(4).min_by_key(|w| letters(w))?;
        let k = letters(best);
        n += 1 << k;
        if n > VARIANTS {
            return None;
        }
        for mask in 0..1u32 << k {
            let mut v = best.to_vec();
            let letters = v.iter_mut().filter(|c| c.is_ascii_alphabetic());
            for (bit, c) in letters.enumerate() {
                if mask >> bit & 1 == 1 {
                    c.make_ascii_uppercase();
                } else {
                    c.make_ascii_lowercase();
                }
            }
            b.add(v);
        }
    }
    b.build()
}

/// The views of one window (see the module documentation): the bytes as
/// they are, then each view's decodings, `DEPTH` layers deep.
fn views_of(bytes: &[u8]) -> Vec<View<'_>> {
    let mut views = vec![View {
        bytes: Cow::Borrowed(bytes),
        map: Map::Raw,
        parent: 0,
    }];
    let mut layer = vec![0usize];
    for _ in 0..DEPTH {
        let mut next = vec![];
        for &p in &layer {
            if let Some((b, segs)) = unescape(&views[p].bytes) {
                next.push(views.len());
                views.push(View {
                    bytes: Cow::Owned(b),
                    map: Map::Segs(segs),
                    parent: p,
                });
            }
            if let Some((b, runs, pos)) = base64_view(&views[p].bytes) {
                next.push(views.len());
                views.push(View {
                    bytes: Cow::Owned(b),
                    map: Map::Runs { runs, pos },
                    parent: p,
                });
            }
            if let Some((b, runs)) = hex_view(&views[p].bytes) {
                next.push(views.len());
                views.push(View {
                    bytes: Cow::Owned(b),
                    map: Map::Hex(runs),
                    parent: p,
                });
            }
        }
        layer = next;
    }
    views
}

/// Sorted, overlapping spans joined (the first one's label stays).
fn merge(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort_unstable_by_key(|s| (s.lo, std::cmp::Reverse(s.hi), s.label));
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if s.lo < last.hi => last.hi = last.hi.max(s.hi),
            _ => out.push(s),
        }
    }
    out
}

/// The forms of a value that no decoder undoes.
fn forms(v: &str) -> Vec<Vec<u8>> {
    let b = v.as_bytes();
    let mut out = vec![b.to_vec()];
    // HTML forms write a space as '+' (Python's quote_plus, Go's
    // QueryEscape); the decoder leaves '+' alone, since base64 needs it.
    if b.contains(&b' ') {
        out.push(
            b.iter()
                .map(|&c| if c == b' ' { b'+' } else { c })
                .collect(),
        );
    }
    // A value holding escape-like text (`%41`, `&amp;`) comes back decoded
    // by the view where its encoder left that text alone.
    let mut cur = b.to_vec();
    for _ in 0..DEPTH {
        match unescape(&cur) {
            Some((d, _)) => {
                out.push(d.clone());
                cur = d;
            }
            None => break,
        }
    }
    out.push(hex::encode(b).into_bytes());
    let units: Vec<u16> = v.encode_utf16().collect();
    out.push(units.iter().flat_map(|u| u.to_le_bytes()).collect());
    out.push(units.iter().flat_map(|u| u.to_be_bytes()).collect());
    if !v.is_ascii() && v.chars().all(|c| (c as u32) < 0x100) {
        out.push(v.chars().map(|c| c as u8).collect());
    }
    out.sort();
    out.dedup();
    out
}

/// How many bytes at the end of `held` may still be the start of an
/// encoded secret, so `Stream::flush` holds them back: a run of the
/// characters base64, hex, percent and backslash escapes are written with,
/// and, since the decoders join across them, the line breaks before it
/// that end a quoted-printable soft break (`=` then `\n` or `\r\n`) or a
/// whole line of a base64 block (at least `B64_LINE` characters of the
/// base64 alphabets and nothing else), so a block written a line at a
/// time is not shown line by line (docs/ARCHITECTURE.md, "Redaction").
/// A line of text (a blank in it, or a short word) ends the run.
fn open_run(held: &[u8]) -> usize {
    const B64_LINE: usize = 16;
    let token = |c: &u8| c.is_ascii_alphanumeric() || b"+/=_-%\\&#;".contains(c);
    let b64 = |c: &u8| c.is_ascii_alphanumeric() || b"+/=_-".contains(c);
    let mut end = held.len();
    let mut run = 0;
    loop {
        let t = held[..end].iter().rev().take_while(|c| token(c)).count();
        run += t;
        end -= t;
        let brk = if held[..end].ends_with(b"\r\n") {
            2
        } else if held[..end].ends_with(b"\n") {
            1
        } else {
            0
        };
        if brk == 0 {
            return run;
        }
        let before = &held[..end - brk];
        let line = before.iter().rev().take_while(|c| b64(c)).count();
        let starts_line = line == before.len() || before[before.len() - line - 1] == b'\n';
        let soft = before.last() == Some(&b'=');
        if !(soft || (line >= B64_LINE && starts_line)) {
            return run;
        }
        run += brk;
        end -= brk;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine;

    fn r(v: &str) -> Redactor {
        let mut r = Redactor::new();
        r.add("api", "api_key", v);
        r
    }

    const MARK: &str = "[REDACTED:api/api_key]";

    fn percent(v: &str, keep: &[u8], plus_for_space: bool, lower: bool) -> String {
        let mut out = String::new();
        for b in v.bytes() {
            if b.is_ascii_alphanumeric() || keep.contains(&b) {
                out.push(b as char);
            } else if b == b' ' && plus_for_space {
                out.push('+');
            } else if lower {
                out.push_str(&format!("%{b:02x}"));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }

    /// The test table of encodings: each must come back redacted, with
    /// nothing of the value left (checked by the encodings of its parts).
    #[test]
    fn every_encoding_and_two_layers() {
        let key = "sk_live/Ab+c?d=e&f g~<x>\"q'ä€😀";
        let red = r(key);
        let json = serde_json::to_string(key).unwrap();
        let go_json = json
            .replace('&', "\\u0026")
            .replace('<', "\\u003c")
            .replace('>', "\\u003e");
        let ascii_json: String = key
            .chars()
            .map(|c| {
                if c.is_ascii() && c != '"' {
                    c.to_string()
                } else {
                    c.encode_utf16(&mut [0; 2])
                        .iter()
                        .map(|u| format!("\\u{u:04x}"))
                        .collect()
                }
            })
            .collect();
        let html: String = key
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
            .replace('\'', "&#x27;");
        let numeric: String = key.chars().map(|c| format!("&#{};", c as u32)).collect();
        let b64 = STANDARD.encode(key);
        let wrapped: String = STANDARD
            .encode(format!("prefix-{key}-and-more-text-to-wrap-{key}"))
            .as_bytes()
            .chunks(16)
            .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
            .collect();
        let qp: String = key
            .bytes()
            .map(|b| {
                if b.is_ascii_graphic() && b != b'=' {
                    (b as char).to_string()
                } else {
                    format!("={b:02X}")
                }
            })
            .collect();
        let pct = percent(key, b"", false, false);
        for text in [
            format!("x {key} y"),
            format!("{{\"k\":{json}}}"),
            format!("{{\"k\":{go_json}}}"),
            format!("{{\"k\":\"{ascii_json}\"}}"),
            format!("<p title=\"{html}\">{html}</p>"),
            format!("<p>{numeric}</p>"),
            format!("q={pct}"),
            format!("q={}", pct.to_lowercase()),
            format!("q={}", percent(key, b"-_.~/", false, false)),
            format!("q={}", percent(key, b"-_.!~*'()", false, true)),
            format!("q={}", percent(key, b"*-._", true, false)),
            format!("q={}", percent(key, b"-_.~$&+,/:;=@", false, false)),
            format!("x={b64}"),
            format!("x={}", URL_SAFE_NO_PAD.encode(key)),
            format!("x=\n{wrapped}"),
            format!("{{\"b\":{}}}", serde_json::to_string(&wrapped).unwrap()),
            qp.clone(),
            hex::encode(key),
            hex::encode_upper(key),
            // Two layers: JSON in JSON, percent in JSON, entities over
            // percent, base64 of a JSON document with Go's escapes.
            serde_json::to_string(&format!("{{\"k\":{json}}}")).unwrap(),
            serde_json::to_string(&format!("https://x/?k={pct}")).unwrap(),
            format!("<a href=\"?a=1&amp;k={}\">", pct.replace('%', "&#37;")),
            STANDARD.encode(format!("{{\"k\":{go_json}}}")),
            format!("q={}", percent(&pct, b"", false, false)),
        ] {
            let out = red.text(&text);
            assert!(out.contains(MARK), "{text} -> {out}");
            for part in [&key[..8], &key[10..18]] {
                for enc in [
                    part.to_string(),
                    percent(part, b"", false, false),
                    hex::encode(part),
                ] {
                    assert!(!out.contains(&enc), "{text} -> {out} holds {enc}");
                }
            }
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
            // What is left holds only whole groups of the user name.
            let left = out.replace("[REDACTED:db/password]", "");
            assert!(left.len() <= "Basic ".len() + 8, "{out}");
            // And base64 of the whole header (an echo encoding it again).
            let again = red.text(&STANDARD.encode(&header));
            assert!(again.contains("[REDACTED:db/password]"), "{again}");
        }
    }

    #[test]
    fn a_cut_never_splits_a_secret() {
        let red = r("secret-value-123");
        let body = b"0123456789secret-value-123 tail";
        // A cut inside the secret moves before it.
        assert_eq!(red.limited(body, 15), b"0123456789");
        assert_eq!(red.limited(body, 10), b"0123456789");
        assert_eq!(red.limited(body, 5), b"01234");
        // After it, or with no secret, the cut stays.
        assert_eq!(
            red.limited(body, 28),
            format!("0123456789{MARK} t").as_bytes()
        );
        assert_eq!(Redactor::new().limited(body, 15), &body[..15]);
        // Also an encoded one.
        let enc = b"0123456789secret%2Dvalue%2D123 tail";
        assert_eq!(red.limited(enc, 20), b"0123456789");
        assert!(red.slack() >= EXPANSION * 16);
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

    #[test]
    fn overlapping_secrets_are_both_covered() {
        let mut red = Redactor::new();
        red.add("a", "k", "abcd1234");
        red.add("b", "k", "1234wxyz");
        let out = red.text("<abcd1234wxyz>");
        assert_eq!(out, "<[REDACTED:a/k]>");
    }

    #[test]
    fn text_around_is_kept_and_escapes_stay_whole() {
        let red = r("tok&en<1>");
        let out = red.text(r#"{"a":"b\u0026c","k":"tok\u0026en\u003c1\u003e","z":"%41"}"#);
        assert_eq!(out, format!(r#"{{"a":"b\u0026c","k":"{MARK}","z":"%41"}}"#));
    }

    #[test]
    fn large_answers_are_read_in_windows() {
        let key = "window-key/with&escapes";
        let red = r(key);
        let json = serde_json::to_string(key).unwrap().replace('&', "\\u0026");
        let mut body = vec![b'.'; WINDOW - 20];
        body.extend_from_slice(json.as_bytes());
        body.extend(std::iter::repeat_n(b'.', WINDOW));
        body.extend_from_slice(STANDARD.encode(key).as_bytes());
        body.extend(std::iter::repeat_n(b'-', 100));
        let out = red.bytes(&body);
        let s = String::from_utf8(out).unwrap();
        assert_eq!(s.matches(MARK).count(), 2);
    }

    #[test]
    fn red_team_forms() {
        let key = "Sk3yAbcdEfgh1234XyZ9";
        let red = r(key);
        let b64 = STANDARD.encode(key);
        let groups: Vec<&str> = b64
            .as_bytes()
            .chunks(4)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let chunks: String = [&key[..5], &key[5..12], &key[12..]]
            .iter()
            .map(|c| STANDARD.encode(c))
            .collect();
        for text in [
            key.bytes().map(|b| format!("\\{b:o}")).collect::<String>(),
            key.bytes().map(|b| format!("\\{b:03o}")).collect(),
            groups.join(" "),
            groups.join("\t"),
            groups.join("\\\n"),
            chunks,
            hex::encode(&b64),
            key.encode_utf16().map(|u| format!("{u:04X}")).collect(),
        ] {
            assert_eq!(
                red.text(&format!("a {text} b")),
                format!("a {MARK} b"),
                "{text}"
            );
        }
        // Octal UTF-8, and short padded pieces that hold nothing.
        let red = r("s\u{e4}kr\u{e9}t-\u{20ac}");
        let oct: String = "s\u{e4}kr\u{e9}t-\u{20ac}"
            .bytes()
            .map(|b| format!("\\{b:o}"))
            .collect();
        assert_eq!(red.text(&oct), MARK);
        for odd in ["A=B=C=", "ab=c==d", "=\\0=\\777", "QQ==QQ==QQ==", "0=1=2=3"] {
            assert_eq!(red.text(odd), odd);
        }
    }

    #[test]
    fn views_are_linear() {
        // An answer made of nothing but escapes and base64 runs is still
        // decoded in a few passes: no view is built twice.
        let red = r("needle-value");
        let body: String = "%41\\u0042&#67;=44QUJD".repeat(20_000);
        let out = red.text(&body);
        assert_eq!(out.len(), body.len());
    }

    /// The stream form finds a secret however the stream is cut: raw,
    /// base64 and percent-encoded, fed one byte at a time or in pieces,
    /// with `flush` between pieces (an interactive program).
    #[test]
    fn stream_finds_a_secret_split_across_pieces() {
        use base64::Engine;
        let secret = "sk_live_Stream0Secret9";
        let mut r = Redactor::new();
        r.add("c", "api_key", secret);
        let r = std::sync::Arc::new(r);
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("u:{secret}"));
        let text = format!(
            "start {secret} then Basic {b64} and key%3D{} end\n",
            secret.replace('_', "%5F")
        );
        for size in [1, 2, 3, 7, 16, 1000] {
            for flush in [false, true] {
                let mut st = r.stream();
                let mut out = vec![];
                for piece in text.as_bytes().chunks(size) {
                    out.extend(st.push(piece));
                    if flush {
                        out.extend(st.flush());
                    }
                }
                out.extend(st.finish());
                let out = String::from_utf8(out).unwrap();
                assert!(!out.contains("Stream0Secret"), "{size} {flush}: {out}");
                assert!(!out.contains(&b64[4..20]), "{size} {flush}: {out}");
                assert!(!out.contains("Stream0"), "{size} {flush}: {out}");
                if !flush {
                    assert_eq!(out, r.text(&text), "{size}");
                }
                assert!(out.starts_with("start [REDACTED:c/api_key]"), "{out}");
                assert!(out.ends_with(" end\n"), "{out}");
            }
        }
        // Nothing held back when there is no secret to find.
        let mut st = std::sync::Arc::new(Redactor::new()).stream();
        assert_eq!(st.push(b"abc"), b"abc");
    }

    /// A base64 block or a quoted-printable text written a line at a time,
    /// with `flush` after each line (the program pauses): no line that
    /// may go on into the next is shown until the next comes, so the
    /// secret is found whole; a line of text is shown at once.
    #[test]
    fn stream_holds_lines_of_an_encoded_block() {
        use base64::Engine;
        let secret = "sk_live_Paced0Lines9Secret";
        let mut r = Redactor::new();
        r.add("c", "api_key", secret);
        let r = std::sync::Arc::new(r);
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("token={secret}!"));
        for width in [16, 20, 76] {
            for eol in ["\n", "\r\n"] {
                let mut st = r.stream();
                let mut out = st.push(b"block:\n");
                out.extend(st.flush());
                assert_eq!(out, b"block:\n", "a text line is shown at once");
                for line in b64.as_bytes().chunks(width) {
                    out.extend(st.push(line));
                    out.extend(st.push(eol.as_bytes()));
                    out.extend(st.flush());
                }
                out.extend(st.finish());
                let out = String::from_utf8(out).unwrap();
                assert!(out.contains("[REDACTED:c/api_key]"), "{width}: {out}");
                for line in b64.as_bytes().chunks(width).skip(1) {
                    let line = std::str::from_utf8(line).unwrap();
                    assert!(!out.contains(line), "{width}: {out}");
                }
            }
        }
        // Quoted-printable: a soft break (`=` at the end of a line).
        let mut st = r.stream();
        let mut out = st.push(b"S3cr3t=2D");
        out.extend(st.push(b"sk_live_Paced0=\n"));
        out.extend(st.flush());
        out.extend(st.push(b"Lines9Secret end\n"));
        out.extend(st.finish());
        let out = String::from_utf8(out).unwrap();
        assert!(!out.contains("Paced0"), "{out}");
        // Ordinary lines pass at once, a long word at the end of one too.
        let mut st = r.stream();
        let mut out = st.push(b"Status: authentication_completed\n");
        out.extend(st.flush());
        assert_eq!(out, b"Status: authentication_completed\n");
    }

    /// A stream cut in two at every offset, and fed in pieces of every size
    /// up to 40: the output is what `bytes` gives for the whole (secrets
    /// that overlap, encoded ones, one that ends the stream).
    #[test]
    fn stream_cut_anywhere_gives_the_whole_answer() {
        let mut red = Redactor::new();
        red.add("a", "k", "abcd1234-Secret");
        red.add("b", "k", "1234-Secret-wxyz");
        let red = std::sync::Arc::new(red);
        let filler = "-- ok. a line; of: log. --\n".repeat(20);
        let b64 = STANDARD.encode("u:abcd1234-Secret");
        let text = format!(
            "{filler}x abcd1234-Secret-wxyz y\n{filler}{b64}\n{filler}k=%61bcd1234%2DSecret&\
             {filler}{}\n{filler}abcd1234-Secret",
            serde_json::to_string("1234-Secret-wxyz\n").unwrap()
        );
        let want = red.bytes(text.as_bytes());
        let shown = String::from_utf8(want.clone()).unwrap();
        assert!(
            !shown.contains("Secret") && !shown.contains(&b64[4..]),
            "{shown}"
        );
        assert_eq!(shown.matches("[REDACTED:").count(), 5, "{shown}");
        let run = |pieces: &mut dyn Iterator<Item = &[u8]>| {
            let mut st = red.stream();
            let mut out = vec![];
            for p in pieces {
                out.extend(st.push(p));
            }
            out.extend(st.finish());
            out
        };
        let b = text.as_bytes();
        for k in 0..=b.len() {
            let got = run(&mut [&b[..k], &b[k..]].into_iter());
            assert!(got == want, "cut at {k}: {}", String::from_utf8_lossy(&got));
        }
        for size in 1..=40 {
            let got = run(&mut b.chunks(size));
            assert!(
                got == want,
                "pieces of {size}: {}",
                String::from_utf8_lossy(&got)
            );
        }
    }

    /// What the views looked like before they were sped up (every byte
    /// looked at; every view searched whole), kept to compare with.
    mod plain {
        use super::super::views::*;
        use super::super::*;

        pub fn base64_view(b: &[u8]) -> Option<(Vec<u8>, Vec<Run>, Vec<u32>)> {
            let mut out = vec![];
            let mut runs = vec![];
            let mut pos: Vec<u32> = vec![];
            let mut vals: Vec<u8> = vec![];
            let mut found: Vec<B64Run> = vec![];
            let mut i = 0;
            while i < b.len() {
                if b64_at(b, i) >= WS {
                    i += 1;
                    continue;
                }
                let first = pos.len();
                while i < b.len() {
                    match b64_at(b, i) {
                        NO => break,
                        WS => {}
                        v => {
                            vals.push(v);
                            pos.push(i as u32);
                        }
                    }
                    i += 1;
                }
                let last = pos[pos.len() - 1] as usize;
                let mut end = last + 1;
                while end < b.len() && b[end] == b'=' && end - last <= 2 {
                    end += 1;
                }
                found.push(B64Run {
                    first,
                    chars: pos.len() - first,
                    end,
                    pads: end - last - 1,
                });
            }
            let mut emit = |out: &mut Vec<u8>, r: &B64Run, phase: usize, sep: bool| {
                let Some(avail) = r.chars.checked_sub(phase) else {
                    return;
                };
                let usable = avail - usize::from(avail % 4 == 1);
                if usable < 2 {
                    return;
                }
                if sep && !out.is_empty() {
                    out.push(0xff);
                }
                let at = out.len();
                for g in vals[r.first + phase..r.first + phase + usable].chunks(4) {
                    let v = |k: usize| g.get(k).copied().unwrap_or(0) as u32;
                    let n = v(0) << 18 | v(1) << 12 | v(2) << 6 | v(3);
                    let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
                    out.extend_from_slice(&bytes[..g.len() - 1]);
                }
                runs.push(Run {
                    at: at as u32,
                    len: (out.len() - at) as u32,
                    first: (r.first + phase) as u32,
                    chars: usable as u32,
                    end: r.end as u32,
                });
            };
            for r in found.iter().filter(|r| r.chars >= MIN_RUN) {
                for phase in 0..4 {
                    emit(&mut out, r, phase, true);
                }
            }
            let mut k = 0;
            while k < found.len() {
                let mut j = k;
                while j + 1 < found.len()
                    && found[j].pads > 0
                    && pos[found[j + 1].first] as usize == found[j].end
                {
                    j += 1;
                }
                let total: usize = found[k..=j].iter().map(|r| r.chars).sum();
                if j > k && total >= MIN_RUN {
                    let r = &found[k];
                    emit(&mut out, r, (r.chars + r.pads) % 4, true);
                    for r in &found[k + 1..=j] {
                        emit(&mut out, r, 0, false);
                    }
                }
                k = j + 1;
            }
            (!runs.is_empty()).then_some((out, runs, pos))
        }

        pub fn hex_view(b: &[u8]) -> Option<(Vec<u8>, Vec<HexRun>)> {
            let mut out = vec![];
            let mut runs = vec![];
            let mut i = 0;
            while i < b.len() {
                if !b[i].is_ascii_hexdigit() {
                    i += 1;
                    continue;
                }
                let lo = i;
                while i < b.len() && b[i].is_ascii_hexdigit() {
                    i += 1;
                }
                if i - lo < 2 * MIN_LEN {
                    continue;
                }
                for phase in 0..2 {
                    let start = lo + phase;
                    let n = (i - start) / 2;
                    if !out.is_empty() {
                        out.push(0xff);
                    }
                    runs.push(HexRun {
                        at: out.len() as u32,
                        len: n as u32,
                        lo: start as u32,
                    });
                    for p in b[start..start + 2 * n].chunks(2) {
                        out.push(
                            (hex_value(p[0]).unwrap_or(0) * 16 + hex_value(p[1]).unwrap_or(0))
                                as u8,
                        );
                    }
                }
            }
            (!runs.is_empty()).then_some((out, runs))
        }

        pub fn unescape(b: &[u8]) -> Option<(Vec<u8>, Vec<Seg>)> {
            let mut i = b.iter().position(|&c| introduces(c))?;
            let mut out = Vec::with_capacity(b.len());
            let mut segs = vec![];
            let mut changed = false;
            let lit = |out: &mut Vec<u8>, segs: &mut Vec<Seg>, from: usize, to: usize| {
                if from < to {
                    segs.push(Seg {
                        at: out.len() as u32,
                        lo: from as u32,
                        hi: to as u32,
                        literal: true,
                    });
                    out.extend_from_slice(&b[from..to]);
                }
            };
            lit(&mut out, &mut segs, 0, i);
            let mut from = i;
            while i < b.len() {
                if !introduces(b[i]) {
                    i += 1;
                    continue;
                }
                let Some((len, dec)) = escape_at(&b[i..]) else {
                    i += 1;
                    continue;
                };
                lit(&mut out, &mut segs, from, i);
                segs.push(Seg {
                    at: out.len() as u32,
                    lo: i as u32,
                    hi: (i + len) as u32,
                    literal: false,
                });
                out.extend_from_slice(dec.as_bytes());
                changed = true;
                i += len;
                from = i;
            }
            lit(&mut out, &mut segs, from, b.len());
            changed.then_some((out, segs))
        }
    }

    type B64 = (Vec<u8>, Vec<(u32, u32, u32, Vec<u32>)>);

    /// A base64 view as what it decodes to and, for each run, where it is
    /// and which characters it came from.
    fn b64(v: Option<(Vec<u8>, Vec<views::Run>, Vec<u32>)>) -> Option<B64> {
        let (out, runs, pos) = v?;
        let runs = runs
            .iter()
            .map(|r| {
                let chars = pos[r.first as usize..(r.first + r.chars) as usize].to_vec();
                (r.at, r.len, r.end, chars)
            })
            .collect();
        Some((out, runs))
    }

    type Hex = (Vec<u8>, Vec<(u32, u32, u32)>);

    fn hex(v: Option<(Vec<u8>, Vec<views::HexRun>)>) -> Option<Hex> {
        let (out, runs) = v?;
        Some((out, runs.iter().map(|r| (r.at, r.len, r.lo)).collect()))
    }

    type Text = (Vec<u8>, Vec<(u32, u32, u32, bool)>);

    fn text(v: Option<(Vec<u8>, Vec<views::Seg>)>) -> Option<Text> {
        let (out, segs) = v?;
        Some((
            out,
            segs.iter().map(|s| (s.at, s.lo, s.hi, s.literal)).collect(),
        ))
    }

    /// Text made of what the views look for: base64 and hex characters,
    /// padding, escapes, separators, and other bytes.
    fn soup() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            prop::sample::select(b"AZaz09+/-_=\\%&#;xu \n\t\r.:\"{}".to_vec())
                .prop_map(|c| vec![c]),
            "[A-Za-z0-9+/]{1,12}".prop_map(String::into_bytes),
            "[0-9a-fA-F]{1,20}".prop_map(String::into_bytes),
            prop::sample::select(vec![
                "%41", "\\u0041", "&amp;", "&#65;", "=41", "=\n", "\\\n", "==", "\\101", "%C3%A4"
            ])
            .prop_map(|s| s.as_bytes().to_vec()),
            any::<u8>().prop_map(|c| vec![c]),
        ];
        prop::collection::vec(piece, 0..120).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        /// The views built by sampling and memchr are the ones a plain scan
        /// of every byte builds.
        #[test]
        fn views_are_those_of_a_plain_scan(b in soup()) {
            proptest::prop_assert_eq!(b64(views::base64_view(&b)), b64(plain::base64_view(&b)));
            proptest::prop_assert_eq!(hex(views::hex_view(&b)), hex(plain::hex_view(&b)));
            proptest::prop_assert_eq!(text(views::unescape(&b)), text(plain::unescape(&b)));
        }

        /// Searching an escape view only near its escapes finds what
        /// searching all of every view finds.
        #[test]
        fn spans_are_those_of_a_whole_search(b in soup(), cut in 0usize..64) {
            let text = String::from_utf8_lossy(&b).into_owned();
            let mut red = Redactor::new();
            red.add("a", "k", "AZ09+/az");
            red.add("b", "k", "A&Z \u{e4}");
            // A value that is the bytes around the cut, whatever they are.
            let at = cut.min(text.len().saturating_sub(6));
            if let Some(v) = text.get(at..at + 6) {
                red.add("c", "k", v);
            }
            let ac = &red.automaton().ac;
            let views = views_of(&b);
            let mut whole = vec![];
            for (i, v) in views.iter().enumerate() {
                for m in ac.find_overlapping_iter(v.bytes.as_ref()) {
                    let (mut lo, mut hi) = (m.start(), m.end());
                    let mut at = i;
                    while at != 0 {
                        (lo, hi) = views[at].map.span(lo, hi);
                        at = views[at].parent;
                    }
                    whole.push(Span { lo, hi, label: red.owner[m.pattern().as_usize()] });
                }
            }
            let mut got = red.all_spans(&b);
            got.sort();
            got.dedup();
            whole.sort();
            whole.dedup();
            proptest::prop_assert_eq!(got, whole);
        }
    }
}
