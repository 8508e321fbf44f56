//! Where in a window a secret can be found at all (docs/ARCHITECTURE.md,
//! "Redaction"): the views are built only over those regions, and the
//! rest passes through after one cheap look at each byte.
//!
//! A match in any view maps back to a stretch of the window, and each kind
//! of view leaves a mark there that is cheap to look for:
//! - the bytes as they are: a match holds one of the prefilter's
//!   fingerprints (`Search::pre`), or is a match of the automaton;
//! - text escapes, and every view of them: a match that is not one of its
//!   parent's touches an escape, and is made of the pattern's bytes and
//!   escapes: it lies in the stretch of bytes in `Gate::class` around
//!   the escape, `Gate::need` bytes long at least;
//! - hex: a run of at least twice the shortest decoded stretch;
//! - base64, and every view of it: the decoded bytes of the match
//!   (`D`) are the pattern itself (ASCII case ignored), its hex, its
//!   base64, or the pattern with some of its characters escaped. Every byte
//!   of `D` is then in `Gate::class` (the patterns' bytes in both cases,
//!   letters, digits, and what base64 and the escapes are written with), and
//!   `D` is at least `Gate::need` bytes long (no escape decodes to more
//!   than 6/5 of its length: `&nGt;`, five bytes for six). Such a stretch
//!   holds `Gate::groups` whole decoded groups in a row (three bytes of
//!   four characters), each of whose bytes is in the class; a run with no
//!   such row at any alignment holds no match.
//!
//! A region is widened to cuts that nothing crosses: a byte that is no
//! base64 character, separator, padding or part of an escape (`hard`)
//! ends every run and escape, so the views of the region are those of the
//! window there, and a match found in them is one the whole window gives.
//! Tests compare the two (`gated_spans_are_those_of_the_whole_window`).

use super::*;

/// The regions' look-out, built with the automaton.
#[derive(Clone)]
pub(super) struct Gate {
    /// The bytes a decoded stretch holding a match may contain.
    class: [bool; 256],
    /// For each pair of base64 values (`v[i] << 6 | v[i + 1]`): whether the
    /// first (bit 0), second (bit 1) and third (bit 2) byte of a group
    /// that has the pair at its start, middle or end is in `class`.
    pairs: Vec<u8>,
    /// The fewest decoded bytes a match in a view of base64 or hex covers.
    need: usize,
    /// The fewest whole groups in a row a stretch of `need` bytes holds
    /// (at any alignment, and with a partial group at the end).
    groups: usize,
}

thread_local! {
    /// `base64_marks`' room for base64 values, kept between calls.
    static SCRATCH: std::cell::RefCell<(Vec<u8>, Vec<u8>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Bytes that end every base64 run, hex run and escape: a region may start
/// after one of them.
fn hard(c: u8) -> bool {
    B64[c as usize] == NO && !matches!(c, b'=' | b'\\' | b'%' | b'&' | b'#' | b'{' | b'}' | b';')
}

impl Gate {
    /// None when the patterns make the gate useless or unsound: a pattern
    /// holding the byte 0xff (the separator between decoded runs) could
    /// match across two runs.
    pub(super) fn new(patterns: &[Vec<u8>]) -> Option<Gate> {
        if patterns.iter().any(|p| p.contains(&0xff)) {
            return None;
        }
        let shortest = patterns.iter().map(Vec::len).min()?;
        let mut class = [false; 256];
        for c in 0..=255u8 {
            class[c as usize] =
                c.is_ascii_alphanumeric() || B64[c as usize] != NO || b"=\\%&#;{}\"'/".contains(&c);
        }
        for p in patterns {
            for &c in p {
                class[c.to_ascii_lowercase() as usize] = true;
                class[c.to_ascii_uppercase() as usize] = true;
            }
        }
        let mut pairs = vec![0u8; 4096];
        for (k, slot) in pairs.iter_mut().enumerate() {
            let (a, b) = ((k >> 6) as u32, (k & 63) as u32);
            let first = (a << 2 | b >> 4) as u8;
            let second = ((a & 15) << 4 | b >> 2) as u8;
            let third = ((a & 3) << 6 | b) as u8;
            *slot = u8::from(class[first as usize])
                | u8::from(class[second as usize]) << 1
                | u8::from(class[third as usize]) << 2;
        }
        // A decoded stretch holding a match: at least 5/6 of the pattern,
        // one byte less for rounding.
        let need = (shortest * 5 / 6).saturating_sub(1).max(1);
        // Whole groups of three inside `need` bytes from offset a (0..3)
        // of a group, one fewer for a partial group at the end.
        let groups = (0..3)
            .map(|a: usize| (a + need) / 3 - a.div_ceil(3))
            .min()
            .unwrap_or(0)
            .saturating_sub(1);
        Some(Gate {
            class,
            pairs,
            need,
            groups,
        })
    }

    /// The regions of `b` that may hold a match, sorted, apart, each
    /// starting and ending at a cut nothing crosses.
    pub(super) fn regions(&self, s: &Search, b: &[u8]) -> Vec<(usize, usize)> {
        let mut marks: Vec<(usize, usize)> = vec![];
        // The bytes as they are.
        match &s.pre {
            Some(pre) => {
                for m in pre.find_iter(b) {
                    marks.push((m.start().saturating_sub(s.widest), m.end() + s.widest));
                }
            }
            None => {
                for m in s.ac.find_overlapping_iter(b) {
                    marks.push((m.start(), m.end()));
                }
            }
        }
        // Escapes (any place one could be decoded: more than the views'
        // single pass decodes): a match that touches one is made of the
        // pattern's bytes and escapes, all in `class`, so it lies in the
        // stretch of such bytes around the escape.
        let mut around = |i: usize, seen: &mut usize| {
            if i < *seen || escape_at(&b[i..]).is_none() {
                return;
            }
            let mut lo = i;
            while lo > 0 && self.class[b[lo - 1] as usize] {
                lo -= 1;
            }
            let mut hi = i + 1;
            while hi < b.len() && self.class[b[hi] as usize] {
                hi += 1;
            }
            *seen = hi;
            if hi - lo >= self.need {
                marks.push((lo, hi));
            }
        };
        let mut seen = 0;
        memchr::memchr3_iter(b'\\', b'%', b'&', b).for_each(|i| around(i, &mut seen));
        let mut seen = 0;
        memchr::memchr_iter(b'=', b).for_each(|i| around(i, &mut seen));
        self.hex_marks(b, &mut marks);
        self.base64_marks(b, &mut marks);
        widen(b, marks)
    }

    /// Hex runs long enough to decode to `need` bytes.
    fn hex_marks(&self, b: &[u8], marks: &mut Vec<(usize, usize)>) {
        let need = (2 * self.need).max(2 * MIN_LEN);
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
            if i - lo >= need {
                marks.push((lo, i));
            }
            probe = i + need;
        }
    }

    /// Base64 runs (and padded chunks joined, as `base64_view` joins them)
    /// whose decoding, at some alignment, holds `groups` groups in a row
    /// of bytes in `class`.
    fn base64_marks(&self, b: &[u8], marks: &mut Vec<(usize, usize)>) {
        let min_chars = (self.need * 4).div_ceil(3).max(MIN_RUN);
        SCRATCH.with(|scratch| {
            let (vals, work) = &mut *scratch.borrow_mut();
            if vals.len() < b.len() {
                vals.resize(b.len(), 0);
            }
            self.base64_runs(b, min_chars, vals, work, marks);
        });
    }

    /// `base64_marks` with room for the values of `b`.
    fn base64_runs(
        &self,
        b: &[u8],
        min_chars: usize,
        vals: &mut [u8],
        work: &mut Vec<u8>,
        marks: &mut Vec<(usize, usize)>,
    ) {
        struct R {
            lo: usize,
            first: usize,
            chars: usize,
            end: usize,
            pads: usize,
        }
        let mut n = 0;
        let mut found: Vec<R> = vec![];
        // The runs `base64_view` decodes that may hold a row (`min_chars`)
        // or are padded chunks (joined whatever their length): the
        // stretches `stretches` finds, in one pass. A long stretch holds one
        // of every `min_chars`-th byte, so only those are looked at until
        // one is in a stretch, or a `=` (found by memchr) comes first; each
        // stretch is read once, its characters' values written to `vals`
        // (separators, and backslashes that continue a line, are written,
        // then overwritten).
        let mut i = 0;
        let mut eq = memchr::memchr(b'=', b);
        while i < b.len() {
            if eq.is_some_and(|q| q < i) {
                eq = memchr::memchr(b'=', &b[i..]).map(|q| q + i);
            }
            let before = eq.unwrap_or(b.len());
            let mut p = i + min_chars - 1;
            while p < before && b64_at(b, p) == NO {
                p += min_chars;
            }
            let at = if p < before {
                p
            } else if let Some(q) = eq {
                if q > i && b64_at(b, q - 1) != NO {
                    q - 1
                } else if q + 1 < b.len() && b64_at(b, q + 1) != NO {
                    q + 1
                } else {
                    i = q + 1;
                    continue;
                }
            } else {
                break;
            };
            let mut lo = at;
            while lo > i && b64_at(b, lo - 1) != NO {
                lo -= 1;
            }
            let first = n;
            let mut j = lo;
            while j < b.len() {
                let c = b[j];
                let v = B64[c as usize];
                if v == NO {
                    if c == b'\\' && matches!(b.get(j + 1), Some(b'\n' | b'\r')) {
                        j += 1;
                        continue;
                    }
                    break;
                }
                vals[n] = v;
                n += usize::from(v < WS);
                j += 1;
            }
            let hi = j;
            i = hi.max(at + 1);
            let padded = b.get(hi) == Some(&b'=') || (lo > 0 && b[lo - 1] == b'=');
            if n == first || (hi - lo < min_chars && !padded) {
                n = first;
                continue;
            }
            let start = (lo..hi).find(|&i| b64_at(b, i) < WS).unwrap_or(lo);
            let last = (lo..hi).rev().find(|&i| b64_at(b, i) < WS).unwrap_or(lo);
            let mut end = last + 1;
            while end < b.len() && b[end] == b'=' && end - last <= 2 {
                end += 1;
            }
            found.push(R {
                lo: start,
                first,
                chars: n - first,
                end,
                pads: end - last - 1,
            });
        }
        // Each run at its four alignments.
        for r in &found {
            if r.chars >= min_chars && self.has_row(&vals[r.first..r.first + r.chars], work) {
                marks.push((r.lo, r.end));
            }
        }
        // Padded chunks joined: decoded as `base64_view` does, and looked
        // at byte by byte.
        let mut k = 0;
        while k < found.len() {
            let mut j = k;
            while j + 1 < found.len() && found[j].pads > 0 && found[j + 1].lo == found[j].end {
                j += 1;
            }
            let total: usize = found[k..=j].iter().map(|r| r.chars).sum();
            if j > k && total >= MIN_RUN && total * 3 / 4 + 2 >= self.need {
                let (mut streak, mut row) = (0, false);
                for (n, r) in found[k..=j].iter().enumerate() {
                    let phase = if n == 0 { (r.chars + r.pads) % 4 } else { 0 };
                    decode(&vals[r.first..r.first + r.chars], phase, |c| {
                        streak = if self.class[c as usize] {
                            streak + 1
                        } else {
                            0
                        };
                        row |= streak >= self.need;
                    });
                }
                if row {
                    marks.push((found[k].lo, found[j].end));
                }
            }
            k = j + 1;
        }
    }

    /// Whether the base64 values `v`, decoded from any of their first four,
    /// give `groups` whole groups in a row of bytes in `class`. Bit sets,
    /// a bit for each value: which ones start a good group, then which
    /// ones start `groups` good groups at the same alignment in a row.
    fn has_row(&self, v: &[u8], work: &mut Vec<u8>) -> bool {
        if self.groups == 0 {
            return true;
        }
        if v.len() < 4 * self.groups {
            return false;
        }
        // work[i]: which bytes of a group the pair of values at i makes
        // good (bit 0 as its first two values, 1 as its middle two, 2 as
        // its last two); zeros after, to whole words.
        work.clear();
        work.extend(
            v.windows(2)
                .map(|p| self.pairs[(p[0] as usize) << 6 | p[1] as usize]),
        );
        work.resize(work.len().div_ceil(64) * 64, 0);
        // Bit k of each byte, packed: one bit per value.
        let pack = |k: u32| -> Vec<u64> {
            work.chunks_exact(64)
                .map(|w| {
                    let mut word = 0u64;
                    for (j, e) in w.chunks_exact(8).enumerate() {
                        let x = u64::from_le_bytes(e.try_into().unwrap_or_default());
                        let bits = ((x >> k) & 0x0101_0101_0101_0101)
                            .wrapping_mul(0x0102_0408_1020_4080)
                            >> 56;
                        word |= bits << (8 * j);
                    }
                    word
                })
                .collect()
        };
        // A group from i is good when the pairs at i, i + 1, i + 2 make
        // its bytes 0, 1, 2 good.
        let mut good = pack(0);
        and_shifted(&mut good, &pack(1), 1);
        and_shifted(&mut good, &pack(2), 2);
        // `len` good groups in a row from i: the next of the same
        // alignment starts 4 values on; doubling `len` up to `groups`.
        let mut len = 1;
        while len < self.groups {
            let step = len.min(self.groups - len);
            let copy = good.clone();
            and_shifted(&mut good, &copy, 4 * step);
            len += step;
        }
        good.iter().any(|&w| w != 0)
    }
}

/// `a[i] &= b[i + s]`, bit by bit (bit i of a set is bit i % 64 of word
/// i / 64; bits past the end are zero).
fn and_shifted(a: &mut [u64], b: &[u64], s: usize) {
    let (q, r) = (s / 64, (s % 64) as u32);
    for (i, w) in a.iter_mut().enumerate() {
        let lo = b.get(i + q).copied().unwrap_or(0);
        let hi = b.get(i + q + 1).copied().unwrap_or(0);
        let shifted = if r == 0 { lo } else { lo >> r | hi << (64 - r) };
        *w &= shifted;
    }
}

/// Base64 values decoded from `phase` on, as `base64_view` emits a chunk
/// (a lone character after the last group holds no byte), each byte
/// handed to `f`.
fn decode(v: &[u8], phase: usize, mut f: impl FnMut(u8)) {
    let Some(avail) = v.len().checked_sub(phase) else {
        return;
    };
    let usable = avail - usize::from(avail % 4 == 1);
    if usable < 2 {
        return;
    }
    let mut groups = v[phase..phase + usable].chunks_exact(4);
    for g in &mut groups {
        let n =
            u32::from(g[0]) << 18 | u32::from(g[1]) << 12 | u32::from(g[2]) << 6 | u32::from(g[3]);
        f((n >> 16) as u8);
        f((n >> 8) as u8);
        f(n as u8);
    }
    let g = groups.remainder();
    if !g.is_empty() {
        let x = |k: usize| g.get(k).copied().unwrap_or(0) as u32;
        let n = x(0) << 18 | x(1) << 12 | x(2) << 6 | x(3);
        for &c in &[(n >> 16) as u8, (n >> 8) as u8, n as u8][..g.len() - 1] {
            f(c);
        }
    }
}

/// The marked stretches, clamped to `b`, widened to cuts after a `hard`
/// byte (or the ends), and merged.
fn widen(b: &[u8], mut marks: Vec<(usize, usize)>) -> Vec<(usize, usize)> {
    marks.sort_unstable();
    let mut out: Vec<(usize, usize)> = vec![];
    for (lo, hi) in marks {
        let (mut lo, mut hi) = (lo.min(b.len()), hi.min(b.len()));
        if let Some(last) = out.last_mut() {
            if lo <= last.1 {
                last.1 = last.1.max(hi);
                // Widened below, when the next one does not join it.
                continue;
            }
        }
        if let Some(last) = out.last_mut() {
            // The last one is complete: widen its end first.
            while last.1 > 0 && last.1 < b.len() && !hard(b[last.1 - 1]) {
                last.1 += 1;
            }
            if lo <= last.1 {
                last.1 = last.1.max(hi);
                continue;
            }
        }
        let floor = out.last().map_or(0, |l| l.1);
        while lo > floor && !hard(b[lo - 1]) {
            lo -= 1;
        }
        hi = hi.max(lo);
        out.push((lo, hi));
    }
    if let Some(last) = out.last_mut() {
        while last.1 > 0 && last.1 < b.len() && !hard(b[last.1 - 1]) {
            last.1 += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine;
    use proptest::prelude::*;

    /// Every span, with the views built over every window (`FULL`) or
    /// only over the gate's regions.
    fn spans(r: &Redactor, b: &[u8], full: bool) -> Vec<Span> {
        FULL.with(|f| f.set(full));
        let mut s = r.all_spans(b);
        FULL.with(|f| f.set(false));
        s.sort();
        s.dedup();
        s
    }

    /// A stream fed in pieces of `size`, with or without the gate.
    fn stream(r: &std::sync::Arc<Redactor>, b: &[u8], size: usize, full: bool) -> Vec<u8> {
        FULL.with(|f| f.set(full));
        let mut st = r.stream();
        let mut out = vec![];
        for p in b.chunks(size.max(1)) {
            out.extend(st.push(p));
        }
        out.extend(st.finish());
        FULL.with(|f| f.set(false));
        out
    }

    fn percent(v: &[u8], all: bool, upper: bool) -> String {
        v.iter()
            .map(|&c| {
                if !all && c.is_ascii_alphanumeric() {
                    (c as char).to_string()
                } else if upper {
                    format!("%{c:02X}")
                } else {
                    format!("%{c:02x}")
                }
            })
            .collect()
    }

    /// `s` with a separator every `every` characters (base64 wrapped at any
    /// width, spaced, backslash-continued).
    fn wrap(s: &str, every: usize, sep: &str) -> String {
        let c: Vec<char> = s.chars().collect();
        c.chunks(every.max(1))
            .map(|p| p.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(sep)
    }

    /// `v` written in form `k`: the encodings the redactor undoes, one and
    /// two layers deep, with the separators and cases they come in.
    fn encode(v: &str, k: usize, n: usize) -> String {
        let b = v.as_bytes();
        let json = |s: &str| serde_json::to_string(s).unwrap();
        let uesc =
            |s: &str| -> String { s.encode_utf16().map(|u| format!("\\u{u:04x}")).collect() };
        let seps = ["\n", " ", "\r\n", "\\\n", "\t", "\n  "];
        // Base64 of the value at each of the three byte alignments.
        let pre = "x".repeat(n % 3);
        match k % 24 {
            0 => v.to_string(),
            1 => v.to_ascii_uppercase(),
            2 => STANDARD.encode(format!("user:{v}")),
            3 => wrap(
                &STANDARD.encode(format!("{pre}{v}")),
                1 + n % 9,
                seps[n % seps.len()],
            ),
            4 => URL_SAFE_NO_PAD.encode(format!("{}{v}", "x".repeat(n % 3))),
            5 => hex::encode(b),
            6 => hex::encode_upper(b),
            7 => percent(b, n.is_multiple_of(2), n.is_multiple_of(3)),
            8 => json(&format!("{v}\n\"")),
            9 => uesc(v),
            10 => v.chars().map(|c| format!("&#{};", c as u32)).collect(),
            11 => v.bytes().map(|c| format!("={c:02X}")).collect(),
            12 => v.bytes().map(|c| format!("\\{c:o}")).collect(),
            13 => STANDARD.encode(json(&format!("{pre}{v}"))),
            14 => percent(STANDARD.encode(b).as_bytes(), false, true),
            15 => hex::encode(STANDARD.encode(b)),
            16 => STANDARD.encode(STANDARD.encode(format!("{pre}{v}"))),
            17 => STANDARD.encode(hex::encode(b)),
            18 => json(&wrap(&STANDARD.encode(b), 4 + n % 60, "\n")),
            19 => percent(percent(b, true, false).as_bytes(), false, true),
            20 => STANDARD.encode(uesc(v)),
            21 => {
                // Padded chunks written one after the other.
                let cut = (n % b.len().max(1)).max(1).min(b.len());
                format!(
                    "{}{}",
                    STANDARD.encode(&b[..cut]),
                    STANDARD.encode(&b[cut..])
                )
            }
            22 => hex::encode(
                v.encode_utf16()
                    .flat_map(u16::to_le_bytes)
                    .collect::<Vec<u8>>(),
            ),
            _ => v
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_string()
                    } else {
                        uesc(&c.to_string())
                    }
                })
                .collect(),
        }
    }

    /// What a child prints: log lines, base64 of random bytes (wrapped or
    /// not), binary, escapes, and secrets in any form.
    fn piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"GET /api/v1/things?page=2 200 12ms user=alice agent=curl/8\n".to_vec()),
            prop::collection::vec(any::<u8>(), 1..200)
                .prop_map(|r| STANDARD.encode(r).into_bytes()),
            prop::collection::vec(any::<u8>(), 1..200).prop_map(|r| wrap(
                &STANDARD.encode(r),
                76,
                "\n"
            )
            .into_bytes()),
            prop::collection::vec(any::<u8>(), 1..300),
            prop::collection::vec(any::<u8>(), 1..64).prop_map(|r| hex::encode(r).into_bytes()),
            prop::sample::select(vec![
                "%41", "\\u0041", "&amp;", "&#65;", "=41", "=\n", "\\\n", "==", "=", "\\", " ",
                "\n", "?", "\"", "{\"k\":", ";"
            ])
            .prop_map(|s| s.as_bytes().to_vec()),
            (0usize..3, 0usize..24, 0usize..1000).prop_map(|(i, k, n)| encode(
                [
                    "sk_live_Ab9+/x=Q7",
                    "pa ss:w\u{f6}rd&<x>",
                    "bench-983656668c10791260df61d6"
                ][i],
                k,
                n
            )
            .into_bytes()),
        ]
    }

    fn redactor(extra: Option<&str>) -> Redactor {
        let mut r = Redactor::new();
        r.add("a", "k", "sk_live_Ab9+/x=Q7");
        r.add("b", "k", "pa ss:w\u{f6}rd&<x>");
        r.add("c", "k", "bench-983656668c10791260df61d6");
        if let Some(e) = extra {
            r.add("d", "k", e);
        }
        r
    }

    #[test]
    fn every_form_is_found_through_the_gate() {
        let filler = "GET /api/v1/things?page=2 200 12ms user=alice agent=curl/8\n".repeat(30);
        for v in [
            "sk_live_Ab9+/x=Q7",
            "pa ss:w\u{f6}rd&<x>",
            "bench-983656668c10791260df61d6",
            "k3y!",
            "Ab9+x",
            "pa55wd!x",
            "0123456789abcdef",
        ] {
            let mut r = redactor(None);
            r.add("e", "k", v);
            for k in 0..24 {
                for n in [0, 1, 2, 3, 5, 7, 11, 76] {
                    let text = format!("{filler}\"{}\" {filler}", encode(v, k, n));
                    let (gated, full) = (
                        spans(&r, text.as_bytes(), false),
                        spans(&r, text.as_bytes(), true),
                    );
                    assert!(!full.is_empty(), "form {k}/{n} of {v} not found at all");
                    assert_eq!(gated, full, "form {k}/{n} of {v}");
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// The regions find every span the views over the whole window
        /// find, and no other.
        #[test]
        fn gated_spans_are_those_of_the_whole_window(
            pieces in prop::collection::vec(piece(), 0..40),
            short in prop::option::of("[a-zA-Z0-9+/=_-]{4,8}"),
        ) {
            let b = pieces.concat();
            let r = redactor(short.as_deref());
            prop_assert_eq!(spans(&r, &b, false), spans(&r, &b, true));
        }

        /// A short value (the gate's bounds are tightest), in any form,
        /// between any two pieces.
        #[test]
        fn a_short_value_in_any_form(
            v in "[a-zA-Z0-9+/=_!-]{4,12}",
            k in 0usize..24,
            n in 0usize..100,
            before in piece(),
            after in piece(),
        ) {
            let mut r = Redactor::new();
            r.add("s", "k", &v);
            let b = [before, encode(&v, k, n).into_bytes(), after].concat();
            prop_assert_eq!(spans(&r, &b, false), spans(&r, &b, true));
        }

        /// A stream cut anywhere shows what it shows without the gate.
        #[test]
        fn gated_stream_is_the_whole_stream(
            pieces in prop::collection::vec(piece(), 0..30),
            size in 1usize..700,
        ) {
            let b = pieces.concat();
            let r = std::sync::Arc::new(redactor(None));
            prop_assert_eq!(stream(&r, &b, size, false), stream(&r, &b, size, true));
        }
    }
}
