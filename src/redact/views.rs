//! The decoded views of an answer that redaction matches in: JSON and
//! JavaScript escapes (octal too), percent-encoding, HTML character
//! references, quoted-printable, base64 (any separators, padding per chunk)
//! and hex, each with a map back to the bytes of the answer.

use super::*;

/// One view of an answer: its bytes and where they came from in its parent.
pub(super) struct View<'a> {
    pub(super) bytes: Cow<'a, [u8]>,
    pub(super) map: Map,
    pub(super) parent: usize,
}

pub(super) enum Map {
    Raw,
    /// `unescape`: literal stretches and escapes.
    Segs(Vec<Seg>),
    /// `base64_view`: decoded runs; `pos` holds the parent offset of each
    /// base64 character.
    Runs {
        runs: Vec<Run>,
        pos: Vec<u32>,
    },
    /// `hex_view`: decoded runs of hex digits.
    Hex(Vec<HexRun>),
}

/// `len` bytes from `at` on in the view: the decoding of the hex digits
/// from `lo` on in the parent, two a byte.
#[derive(Debug, Clone, Copy)]
pub(super) struct HexRun {
    pub(super) at: u32,
    pub(super) len: u32,
    pub(super) lo: u32,
}

/// Bytes from `at` on in the view: a literal stretch copied from `lo` in
/// the parent, or the decoding of the escape `lo..hi`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Seg {
    pub(super) at: u32,
    pub(super) lo: u32,
    pub(super) hi: u32,
    pub(super) literal: bool,
}

/// `len` bytes from `at` on in the view: the decoding of `chars` base64
/// characters whose parent offsets are `pos[first..first + chars]`; the
/// run's padding ends at `end`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Run {
    pub(super) at: u32,
    pub(super) len: u32,
    pub(super) first: u32,
    pub(super) chars: u32,
    pub(super) end: u32,
}

impl Map {
    /// The parent stretch that the view's bytes `a..b` come from.
    pub(super) fn span(&self, a: usize, b: usize) -> (usize, usize) {
        match self {
            Map::Raw => (a, b),
            Map::Segs(segs) => {
                let seg = |i: usize| {
                    let k = segs.partition_point(|s| s.at as usize <= i);
                    segs[k.saturating_sub(1)]
                };
                let (s, e) = (seg(a), seg(b - 1));
                let lo = if s.literal {
                    s.lo as usize + (a - s.at as usize)
                } else {
                    s.lo as usize
                };
                let hi = if e.literal {
                    e.lo as usize + (b - 1 - e.at as usize) + 1
                } else {
                    e.hi as usize
                };
                (lo, hi.max(lo))
            }
            Map::Runs { runs, pos } => {
                let chars = |i: usize| {
                    let k = runs.partition_point(|r| r.at as usize <= i);
                    let r = runs[k.saturating_sub(1)];
                    let last = (r.first + r.chars - 1) as usize;
                    let j = i.saturating_sub(r.at as usize);
                    if j >= r.len as usize {
                        // A separator after the run.
                        return (pos[last] as usize + 1, pos[last] as usize + 1);
                    }
                    // Byte j is in group j / 3: four characters (the last
                    // group with the padding after it).
                    let c0 = r.first as usize + 4 * (j / 3);
                    let hi = if c0 + 3 >= last {
                        r.end as usize
                    } else {
                        pos[c0 + 3] as usize + 1
                    };
                    (pos[c0] as usize, hi)
                };
                let lo = chars(a).0;
                let hi = chars(b - 1).1;
                (lo, hi.max(lo))
            }
            Map::Hex(runs) => {
                let digit = |i: usize| {
                    let k = runs.partition_point(|r| r.at as usize <= i);
                    let r = runs[k.saturating_sub(1)];
                    // A separator after the run: its end.
                    let j = (i - r.at as usize).min(r.len as usize);
                    r.lo as usize + 2 * j
                };
                let lo = digit(a);
                let hi = digit(b - 1) + 2;
                (lo, hi.max(lo))
            }
        }
    }
}

/// Whether a byte may start an escape of `unescape`.
pub(super) fn introduces(c: u8) -> bool {
    matches!(c, b'\\' | b'%' | b'&' | b'=')
}

/// The text view: every escape decoded in one pass (see the module
/// documentation), or None when there is none.
pub(super) fn unescape(b: &[u8]) -> Option<(Vec<u8>, Vec<Seg>)> {
    let mut next = Introducers::new(b);
    let mut i = next.at_or_after(0)?;
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
    while let Some(at) = next.at_or_after(i) {
        i = at;
        debug_assert!(introduces(b[i]));
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

/// The positions of the bytes that may start an escape (`introduces`),
/// in order, found by memchr: the next `=` and the next of the other three
/// are each searched for once and kept until passed.
struct Introducers<'a> {
    b: &'a [u8],
    eq: Option<usize>,
    other: Option<usize>,
    /// Where `eq` and `other` were searched from.
    eq_from: usize,
    other_from: usize,
}

impl<'a> Introducers<'a> {
    fn new(b: &'a [u8]) -> Introducers<'a> {
        Introducers {
            b,
            eq: None,
            other: None,
            eq_from: usize::MAX,
            other_from: usize::MAX,
        }
    }

    /// The first introducer at `from` or after.
    fn at_or_after(&mut self, from: usize) -> Option<usize> {
        let b = self.b;
        if from >= b.len() {
            return None;
        }
        let stale = |found: Option<usize>, searched: usize| {
            searched == usize::MAX || searched > from || found.is_some_and(|p| p < from)
        };
        if stale(self.eq, self.eq_from) {
            self.eq = memchr::memchr(b'=', &b[from..]).map(|p| p + from);
            self.eq_from = from;
        }
        if stale(self.other, self.other_from) {
            self.other = memchr::memchr3(b'\\', b'%', b'&', &b[from..]).map(|p| p + from);
            self.other_from = from;
        }
        match (self.eq, self.other) {
            (Some(a), Some(c)) => Some(a.min(c)),
            (a, c) => a.or(c),
        }
    }
}

/// What one escape decodes to (at most two characters).
pub(super) struct Dec {
    pub(super) buf: [u8; 8],
    pub(super) len: usize,
}

impl Dec {
    pub(super) fn byte(b: u8) -> Dec {
        Dec {
            buf: [b, 0, 0, 0, 0, 0, 0, 0],
            len: 1,
        }
    }
    pub(super) fn none() -> Dec {
        Dec {
            buf: [0; 8],
            len: 0,
        }
    }
    pub(super) fn code_point(cp: u32) -> Dec {
        let c = char::from_u32(cp).unwrap_or('\u{FFFD}');
        let mut d = Dec::none();
        d.len = c.encode_utf8(&mut d.buf).len();
        d
    }
    pub(super) fn bytes(b: &[u8]) -> Option<Dec> {
        let mut d = Dec::none();
        d.buf.get_mut(..b.len())?.copy_from_slice(b);
        d.len = b.len();
        Some(d)
    }
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

pub(super) fn hex_value(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

/// The value of exactly `n` hex digits at the start of `b`.
pub(super) fn hex_n(b: &[u8], n: usize) -> Option<u32> {
    let d = b.get(..n)?;
    d.iter()
        .try_fold(0u32, |acc, &c| Some(acc * 16 + hex_value(c)?))
}

/// The escape starting `b` (its length and what it decodes to), if any.
pub(super) fn escape_at(b: &[u8]) -> Option<(usize, Dec)> {
    match b[0] {
        b'\\' => backslash(b),
        b'%' => {
            if let Some(v) = hex_n(&b[1..], 2) {
                Some(byte_escape(b, 3, b"%", v as u8))
            } else if b.get(1).is_some_and(|c| c.eq_ignore_ascii_case(&b'u')) {
                // JavaScript's escape(): %uXXXX, surrogate pairs too.
                utf16_unit(b, 6, b"%u")
            } else {
                None
            }
        }
        b'&' => entity(b),
        b'=' => {
            // Quoted-printable: =XX, and soft line breaks.
            if let Some(v) = hex_n(&b[1..], 2) {
                Some(byte_escape(b, 3, b"=", v as u8))
            } else if b[1..].starts_with(b"\r\n") {
                Some((3, Dec::none()))
            } else if b[1..].starts_with(b"\n") {
                Some((2, Dec::none()))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// JSON and JavaScript string escapes.
pub(super) fn backslash(b: &[u8]) -> Option<(usize, Dec)> {
    let simple = |c: u8| Some((2, Dec::byte(c)));
    match *b.get(1)? {
        b'u' if b.get(2) == Some(&b'{') => {
            let digits = b[3..].iter().take(7).position(|&c| c == b'}')?;
            if digits == 0 || digits > 6 {
                return None;
            }
            let cp = hex_n(&b[3..], digits)?;
            Some((digits + 4, Dec::code_point(cp)))
        }
        b'u' => utf16_unit(b, 6, b"\\u"),
        // Python's unicode_escape: \U0001F600.
        b'U' => Some((10, Dec::code_point(hex_n(&b[2..], 8)?))),
        b'x' => Some(byte_escape(b, 4, b"\\x", hex_n(&b[2..], 2)? as u8)),
        b'n' => simple(b'\n'),
        b'r' => simple(b'\r'),
        b't' => simple(b'\t'),
        b'b' => simple(0x08),
        b'f' => simple(0x0c),
        c @ (b'/' | b'\\' | b'"' | b'\'') => simple(c),
        // C's and legacy JavaScript's octal escapes: \123, \63, \0.
        b'0'..=b'7' => Some(octal_escape(b)),
        _ => None,
    }
}

/// One octal escape at the start of `b`: its length and value (1 to 3
/// digits, at most 0o377).
pub(super) fn octal_at(b: &[u8]) -> Option<(usize, u8)> {
    if b.first() != Some(&b'\\') {
        return None;
    }
    let mut v: u32 = 0;
    let mut n = 0;
    while n < 3 {
        match b.get(1 + n) {
            Some(&c @ b'0'..=b'7') if v * 8 + u32::from(c - b'0') <= 0o377 => {
                v = v * 8 + u32::from(c - b'0');
                n += 1;
            }
            _ => break,
        }
    }
    (n > 0).then_some((1 + n, v as u8))
}

/// The length of the UTF-8 sequence lead byte `v` starts (0: none).
pub(super) fn utf8_len(v: u8) -> usize {
    match v {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 0,
    }
}

/// An octal escape (`\123`), joined with the ones that follow into one
/// UTF-8 character (`\303\244` is `ä`); a byte that starts none is the
/// code point U+00XX, as [`byte_escape`] does.
pub(super) fn octal_escape(b: &[u8]) -> (usize, Dec) {
    let Some((len, v)) = octal_at(b) else {
        return (2, Dec::none());
    };
    if v < 0x80 {
        return (len, Dec::byte(v));
    }
    let n = utf8_len(v);
    let mut buf = [v, 0, 0, 0];
    let mut at = len;
    let mut whole = n > 0;
    for slot in buf.iter_mut().take(n).skip(1) {
        match octal_at(&b[at..]) {
            Some((l, c @ 0x80..=0xBF)) => {
                *slot = c;
                at += l;
            }
            _ => {
                whole = false;
                break;
            }
        }
    }
    if whole && std::str::from_utf8(&buf[..n]).is_ok() {
        if let Some(d) = Dec::bytes(&buf[..n]) {
            return (at, d);
        }
    }
    (len, Dec::code_point(u32::from(v)))
}

/// A byte escape (`%XX`, `=XX`, `\\xHH`: `width` bytes starting with
/// `intro`) of value `v`: a byte when it is ASCII or starts a valid UTF-8
/// sequence written by the escapes that follow (`%C3%A4`); else the code
/// point U+00XX (JavaScript's escape() and Python's unicode_escape write
/// `ä` as `%E4` and `\\xe4`).
pub(super) fn byte_escape(b: &[u8], width: usize, intro: &[u8], v: u8) -> (usize, Dec) {
    if v < 0x80 {
        return (width, Dec::byte(v));
    }
    let n = utf8_len(v);
    let mut buf = [v, 0, 0, 0];
    let whole = n > 0
        && (1..n).all(|k| {
            let e = b.get(k * width..(k + 1) * width);
            match e.filter(|e| e[..intro.len()].eq_ignore_ascii_case(intro)) {
                Some(e) => match hex_n(&e[intro.len()..], 2) {
                    Some(c @ 0x80..=0xBF) => {
                        buf[k] = c as u8;
                        true
                    }
                    _ => false,
                },
                None => false,
            }
        });
    if whole && std::str::from_utf8(&buf[..n]).is_ok() {
        if let Some(d) = Dec::bytes(&buf[..n]) {
            return (n * width, d);
        }
    }
    (width, Dec::code_point(v as u32))
}

/// A UTF-16 code unit escape (`\\uXXXX`, `%uXXXX`: `len` bytes, `intro`
/// and four hex digits), joined with the low surrogate that follows a high
/// one; a lone surrogate becomes U+FFFD.
pub(super) fn utf16_unit(b: &[u8], len: usize, intro: &[u8]) -> Option<(usize, Dec)> {
    let u = hex_n(&b[2..], 4)?;
    if (0xD800..0xDC00).contains(&u) {
        let next = &b[len..];
        let same = next.len() >= len && next[..2].eq_ignore_ascii_case(intro);
        if let Some(l) = same
            .then(|| hex_n(&next[2..], 4))
            .flatten()
            .filter(|l| (0xDC00..0xE000).contains(l))
        {
            let cp = 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00);
            return Some((2 * len, Dec::code_point(cp)));
        }
    }
    Some((len, Dec::code_point(u)))
}

/// An HTML or XML character reference: named (`&amp;`, any HTML5 name, with
/// its semicolon) or numeric (`&#39;`, `&#x27;`, the semicolon optional),
/// decoded by htmlize as the WHATWG specification says.
pub(super) fn entity(b: &[u8]) -> Option<(usize, Dec)> {
    let body = &b[1..];
    let end = if body.first() == Some(&b'#') {
        let hex = body.get(1).is_some_and(|c| c.eq_ignore_ascii_case(&b'x'));
        let start = if hex { 2 } else { 1 };
        let digits = body[start..]
            .iter()
            .take(8)
            .take_while(|c| {
                if hex {
                    c.is_ascii_hexdigit()
                } else {
                    c.is_ascii_digit()
                }
            })
            .count();
        if digits == 0 {
            return None;
        }
        let after = start + digits;
        // With its semicolon, when there is one.
        1 + after + usize::from(body.get(after) == Some(&b';'))
    } else {
        let name = body
            .iter()
            .take(htmlize::ENTITY_MAX_LENGTH)
            .take_while(|c| c.is_ascii_alphanumeric())
            .count();
        if name == 0 || body.get(name) != Some(&b';') {
            return None;
        }
        name + 2
    };
    let token = &b[..end];
    let decoded = htmlize::unescape_bytes_in(token, htmlize::Context::General);
    if decoded.as_ref() == token {
        return None;
    }
    Some((end, Dec::bytes(&decoded)?))
}

/// A byte's base64 value in either alphabet; `WS` for a line break, space
/// or tab inside a run, `NO` for anything else.
pub(super) const WS: u8 = 64;
pub(super) const NO: u8 = 255;
pub(super) const B64: [u8; 256] = {
    let mut t = [NO; 256];
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'-' as usize] = 62;
    t[b'/' as usize] = 63;
    t[b'_' as usize] = 63;
    t[b'\r' as usize] = WS;
    t[b'\n' as usize] = WS;
    t[b' ' as usize] = WS;
    t[b'\t' as usize] = WS;
    t
};

/// The base64 value of `b[i]`, with a backslash that ends a line (a
/// continuation) read as a line break.
pub(super) fn b64_at(b: &[u8], i: usize) -> u8 {
    match b[i] {
        b'\\' if matches!(b.get(i + 1), Some(b'\n' | b'\r')) => WS,
        c => B64[c as usize],
    }
}

/// A run of base64 characters: `chars` values from `first` on in `pos`;
/// its padding ends at `end`, after `pads` `=`.
pub(super) struct B64Run {
    pub(super) first: usize,
    pub(super) chars: usize,
    pub(super) end: usize,
    pub(super) pads: usize,
}

/// The base64 view: each run of base64 characters (either alphabet; line
/// breaks, spaces, tabs and backslash-newlines inside allowed; padding
/// ending it) decoded from each of its first four characters, the pieces
/// separated by one byte; and runs that follow padding directly (base64
/// written in padded chunks, `U2szeUE=YmNk...`) decoded once more as one,
/// each chunk from its own start. None when no run is long enough to hold a
/// secret. The base64 crate has no use here: runs mix alphabets and
/// separators, and every decoded byte must keep where it came from.
pub(super) fn base64_view(b: &[u8]) -> Option<(Vec<u8>, Vec<Run>, Vec<u32>)> {
    let mut out = vec![];
    let mut runs = vec![];
    let mut pos: Vec<u32> = vec![];
    let mut vals: Vec<u8> = vec![];
    let mut found: Vec<B64Run> = vec![];
    let stretches = stretches(b, MIN_RUN);
    let bytes: usize = stretches.iter().map(|(lo, hi)| hi - lo).sum();
    vals.reserve(bytes);
    pos.reserve(bytes);
    for (lo, hi) in stretches {
        // The run starts at its first character (not a separator).
        let Some(start) = (lo..hi).find(|&i| b64_at(b, i) < WS) else {
            continue;
        };
        let first = pos.len();
        for i in start..hi {
            let v = b64_at(b, i);
            if v < WS {
                vals.push(v);
                pos.push(i as u32);
            }
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
        // A lone character after the last group holds no byte.
        let usable = avail - usize::from(avail % 4 == 1);
        if usable < 2 {
            return;
        }
        if sep && !out.is_empty() {
            out.push(0xff);
        }
        let at = out.len();
        let src = &vals[r.first + phase..r.first + phase + usable];
        out.reserve(src.len() / 4 * 3 + 2);
        let mut groups = src.chunks_exact(4);
        for g in &mut groups {
            let n = u32::from(g[0]) << 18
                | u32::from(g[1]) << 12
                | u32::from(g[2]) << 6
                | u32::from(g[3]);
            out.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        }
        let g = groups.remainder();
        if !g.is_empty() {
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
    // Four alignments of three bytes per four characters, and separators.
    out.reserve(3 * vals.len() + 4 * found.len());
    for r in found.iter().filter(|r| r.chars >= MIN_RUN) {
        for phase in 0..4 {
            emit(&mut out, r, phase, true);
        }
    }
    // Padded chunks: the first from the phase its padding completes, each
    // next one from its start, joined.
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

/// The stretches of `b` that may make a run `base64_view` decodes, in
/// order: each maximal stretch of base64 characters and separators that is
/// at least `min` (`MIN_RUN`, or more for `gate`) bytes long or touches a
/// `=` (padded chunks are joined whatever their length); the others are
/// decoded by nothing. A stretch that long holds one of every `min`-th
/// byte, so only those are looked at until one belongs to a stretch; the
/// `=` are found by memchr.
fn stretches(b: &[u8], min: usize) -> Vec<(usize, usize)> {
    let around = |p: usize| {
        let mut lo = p;
        while lo > 0 && b64_at(b, lo - 1) != NO {
            lo -= 1;
        }
        let mut hi = p + 1;
        while hi < b.len() && b64_at(b, hi) != NO {
            hi += 1;
        }
        (lo, hi)
    };
    let mut long = vec![];
    let mut probe = min - 1;
    while probe < b.len() {
        if b64_at(b, probe) == NO {
            probe += min;
            continue;
        }
        let (lo, hi) = around(probe);
        if hi - lo >= min {
            long.push((lo, hi));
        }
        // `b[hi]` ends the stretch: a long one after it holds one of
        // `hi + min`, `hi + 2 * min`, ...
        probe = hi + min;
    }
    let mut padded = vec![];
    for q in memchr::memchr_iter(b'=', b) {
        for p in [q.wrapping_sub(1), q + 1] {
            if p < b.len() && b64_at(b, p) != NO {
                let s = around(p);
                if padded.last() != Some(&s) {
                    padded.push(s);
                }
            }
        }
    }
    if padded.is_empty() {
        return long;
    }
    let mut all = Vec::with_capacity(long.len() + padded.len());
    let (mut l, mut p) = (long.into_iter().peekable(), padded.into_iter().peekable());
    loop {
        let next = match (l.peek(), p.peek()) {
            (Some(a), Some(c)) if a <= c => l.next(),
            (Some(_), Some(_)) | (None, Some(_)) => p.next(),
            (Some(_), None) => l.next(),
            (None, None) => break,
        };
        if let Some(s) = next {
            if all.last() != Some(&s) {
                all.push(s);
            }
        }
    }
    all
}

/// The hex view: each run of at least `2 * MIN_LEN` hex digits decoded
/// from its first and its second digit (hex of base64, hex of UTF-16:
/// a layer like the others), the pieces separated by one byte.
pub(super) fn hex_view(b: &[u8]) -> Option<(Vec<u8>, Vec<HexRun>)> {
    let mut out = vec![];
    let mut runs = vec![];
    // A run long enough holds one of every `need`-th byte: only those are
    // looked at until one is a hex digit (then its whole run is).
    let need = 2 * MIN_LEN;
    let mut probe = need - 1;
    while probe < b.len() {
        if !b[probe].is_ascii_hexdigit() {
            probe += need;
            continue;
        }
        let mut lo = probe;
        while lo > 0 && b[lo - 1].is_ascii_hexdigit() {
            lo -= 1;
        }
        let mut i = probe + 1;
        while i < b.len() && b[i].is_ascii_hexdigit() {
            i += 1;
        }
        // `b[i]` is not a hex digit: a long enough run after it holds one
        // of `i + need`, `i + 2 * need`, ...
        probe = i + need;
        if i - lo < need {
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
                out.push((hex_value(p[0]).unwrap_or(0) * 16 + hex_value(p[1]).unwrap_or(0)) as u8);
            }
        }
    }
    (!runs.is_empty()).then_some((out, runs))
}
