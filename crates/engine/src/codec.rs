//! Decoders and encoders for the encodings PHI hides in: percent-encoding,
//! base64/base64url and JSON string escapes. Decoders never panic on any input.

use std::borrow::Cow;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Below this length a plain loop finds a byte faster than `memchr`, whose
/// set-up costs more than short field values take to walk.
const SHORT: usize = 32;

/// Position of the first `a` or `b` in `s`.
#[inline]
pub fn find2(a: u8, b: u8, s: &[u8]) -> Option<usize> {
    if s.len() < SHORT {
        s.iter().position(|&x| x == a || x == b)
    } else {
        memchr::memchr2(a, b, s)
    }
}

/// Position of the first `a`, `b` or `c` in `s`.
#[inline]
pub fn find3(a: u8, b: u8, c: u8, s: &[u8]) -> Option<usize> {
    if s.len() < SHORT {
        s.iter().position(|&x| x == a || x == b || x == c)
    } else {
        memchr::memchr3(a, b, c, s)
    }
}

/// Position of the first `a` in `s`.
#[inline]
pub fn find(a: u8, s: &[u8]) -> Option<usize> {
    if s.len() < SHORT {
        s.iter().position(|&x| x == a)
    } else {
        memchr::memchr(a, s)
    }
}

/// Whether `s` contains a `%XX` escape.
pub fn has_percent_escape(s: &[u8]) -> bool {
    find(b'%', s).is_some()
        && memchr::memchr_iter(b'%', s)
            .any(|i| i + 2 < s.len() && hex_val(s[i + 1]).is_some() && hex_val(s[i + 2]).is_some())
}

/// Percent-decodes `s` (and `+` as space when `plus` is set). Borrows when
/// nothing needs decoding; invalid escapes are kept as written. Plain bytes
/// are copied a word at a time (`decode_words`).
pub fn percent_decode(s: &[u8], plus: bool) -> Cow<'_, [u8]> {
    if next_special(s, plus).is_none() {
        return Cow::Borrowed(s);
    }
    let mut out = vec![0; s.len() + WORD];
    let len = decode_words(s, plus, &mut out);
    out.truncate(len);
    Cow::Owned(out)
}

/// Position of the first `%` (or, with `plus`, `+`) in `s`.
#[inline]
fn next_special(s: &[u8], plus: bool) -> Option<usize> {
    if plus {
        find2(b'%', b'+', s)
    } else {
        find(b'%', s)
    }
}

/// Percent-decodes `s` by the rules of [`percent_decode`] into `scratch`
/// and returns the decoded bytes, a prefix of it. `scratch` is working
/// space that walkers reuse for all their values: its bytes are
/// overwritten and its length only grows, so a reused buffer is neither
/// cleared nor zero-filled again.
pub fn percent_decode_in<'a>(s: &[u8], plus: bool, scratch: &'a mut Vec<u8>) -> &'a [u8] {
    if scratch.len() < s.len() + WORD {
        scratch.resize(s.len() + WORD, 0);
    }
    let len = decode_words(s, plus, scratch);
    &scratch[..len]
}

/// Each byte's value as a hex digit, or 0xFF.
static HEX: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// `0x01` in every byte of a word.
const ONES: u64 = u64::from_le_bytes([1; 8]);

/// The byte a valid `%XX` escape at `s[i]` stands for.
#[inline]
fn escape_at(s: &[u8], i: usize) -> Option<u8> {
    let (&h, &l) = (s.get(i + 1)?, s.get(i + 2)?);
    let (h, l) = (HEX[usize::from(h)], HEX[usize::from(l)]);
    (h | l < 16).then_some(h << 4 | l)
}

/// Bytes in a word of [`decode_words`], and the room it needs past the
/// end of its output.
const WORD: usize = 8;

/// Writes `s` decoded to the start of `dst`, which must be at least
/// [`WORD`] bytes longer than `s` (else the output stops short), and
/// returns the decoded length. Eight bytes are read and written at a time;
/// a word with a `%` (or `+`) is written whole and the output advanced to
/// just before the first one, which its SWAR mask names exactly, then that
/// escape is decoded. The last word of `s` is read as its last eight bytes
/// shifted down past those already done, so the tail of a value costs no
/// more than its middle. Decoding never lengthens (`o <= i` throughout), so
/// the words written fit in `dst`; no search, copy call or per-byte
/// capacity check.
fn decode_words(s: &[u8], plus: bool, dst: &mut [u8]) -> usize {
    let n = s.len();
    let (mut i, mut o) = (0, 0);
    while i < n {
        let left = n - i;
        let w = match (s.get(i..i + WORD), n.checked_sub(WORD)) {
            (Some(word), _) => word_of(word),
            // Fewer than eight left: the last eight bytes, shifted down
            // past the ones before `i` (the top bytes read as zero).
            (None, Some(last)) => word_of(&s[last..]) >> (8 * (WORD - left)),
            (None, None) => {
                let mut word = [0; WORD];
                word[..left].copy_from_slice(&s[i..]);
                u64::from_le_bytes(word)
            }
        };
        if let Some(d) = dst.get_mut(o..o + WORD) {
            d.copy_from_slice(&w.to_le_bytes());
        }
        // Bytes past `left` are zero, neither `%` nor `+`, and a borrow
        // only marks bytes above a real match: no mark without one.
        let specials = zero_bytes(w, b'%') | if plus { zero_bytes(w, b'+') } else { 0 };
        if specials == 0 {
            let step = left.min(WORD);
            i += step;
            o += step;
            continue;
        }
        let plain = specials.trailing_zeros() as usize / 8;
        i += plain;
        o += plain;
        let (v, read) = match s.get(i) {
            Some(b'%') => escape_at(s, i).map_or((b'%', 1), |v| (v, 3)),
            _ => (b' ', 1),
        };
        if let Some(d) = dst.get_mut(o) {
            *d = v;
        }
        i += read;
        o += 1;
    }
    o.min(dst.len())
}

/// The little-endian word of the first eight bytes of `b` (which has them).
#[inline]
fn word_of(b: &[u8]) -> u64 {
    u64::from_le_bytes(
        b.get(..WORD)
            .and_then(|w| w.try_into().ok())
            .unwrap_or([0; WORD]),
    )
}

/// The high bit of each byte of `w` that equals `b`, exact up to the
/// lowest such byte (a borrow may also mark bytes above it): its
/// `trailing_zeros() / 8` is the first one's index.
#[inline]
fn zero_bytes(w: u64, b: u8) -> u64 {
    let x = w ^ (ONES * u64::from(b));
    x.wrapping_sub(ONES) & !x & (ONES << 7)
}

/// Bytes kept literal when re-encoding a value: RFC 3986 unreserved plus a few
/// sub-delimiters that are safe inside a query value (`[`, `]`, `:` keep masks readable).
const fn keep_literal(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'*'
                | b'['
                | b']'
                | b':'
                | b'/'
                | b'@'
                | b'!'
                | b'('
                | b')'
                | b','
        )
}

/// Appends `new`, a rewrite of what `raw` percent-decodes to (`+` as
/// space with `plus`), to `out` re-encoded the way a walker puts a changed
/// value back: only what changed is encoded anew. The prefix and suffix
/// that `new` shares with the decoded value are copied from `raw` as they
/// were sent (`https%3A%2F%2Fshop.example%2F…%23email%3D` keeps its
/// spelling, a literal `?` stays literal), the rest goes through
/// [`percent_encode`]; either way the output decodes to `new`. A rewrite
/// that shares neither end (a whole-value mask) is encoded without
/// decoding `raw` again.
pub fn percent_reencode(raw: &[u8], plus: bool, new: &[u8], out: &mut Vec<u8>) {
    if new.first().copied() != first_unit(raw, plus) && new.last().copied() != last_unit(raw, plus)
    {
        return percent_encode(new, out);
    }
    let decoded = percent_decode(raw, plus);
    let decoded = &*decoded;
    let mut prefix = decoded.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = decoded[prefix..]
        .iter()
        .rev()
        .zip(new[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    loop {
        let Some((head, tail)) = raw_offsets(raw, decoded, plus, prefix, decoded.len() - suffix)
        else {
            return percent_encode(new, out);
        };
        // A literal `%` in the last two bytes kept would make an escape
        // with what now follows it (`%4` + `F`): encode it with the change.
        let changed = tail != head || prefix + suffix != new.len();
        if changed && raw[..head].iter().rev().take(2).any(|&b| b == b'%') {
            prefix -= 1;
            continue;
        }
        out.extend_from_slice(&raw[..head]);
        percent_encode(&new[prefix..new.len() - suffix], out);
        out.extend_from_slice(&raw[tail..]);
        return;
    }
}

/// The first byte `raw` decodes to.
fn first_unit(raw: &[u8], plus: bool) -> Option<u8> {
    match *raw.first()? {
        b'%' => Some(escape_at(raw, 0).unwrap_or(b'%')),
        b'+' if plus => Some(b' '),
        b => Some(b),
    }
}

/// The last byte `raw` decodes to: a valid escape in its last three bytes
/// is its last step (the `%` is no hex digit, so no escape before it can
/// cover it), else its last byte is.
fn last_unit(raw: &[u8], plus: bool) -> Option<u8> {
    let last = raw.len().checked_sub(1)?;
    if let Some(v) = last
        .checked_sub(2)
        .and_then(|i| (raw[i] == b'%').then(|| escape_at(raw, i)).flatten())
    {
        return Some(v);
    }
    match raw[last] {
        b'+' if plus => Some(b' '),
        b => Some(b),
    }
}

/// Where in `raw` the decoded bytes `a` and `b` (`a <= b`) start, walking
/// `raw` by the rules of [`percent_decode`] and checking that it decodes
/// to exactly `decoded`; `None` if it does not.
fn raw_offsets(
    raw: &[u8],
    decoded: &[u8],
    plus: bool,
    a: usize,
    b: usize,
) -> Option<(usize, usize)> {
    let (mut i, mut at) = (0, (0, 0));
    for (d, &want) in decoded.iter().enumerate() {
        if d == a {
            at.0 = i;
        }
        if d == b {
            at.1 = i;
        }
        let (got, read) = match raw.get(i)? {
            b'%' => escape_at(raw, i).map_or((b'%', 1), |v| (v, 3)),
            b'+' if plus => (b' ', 1),
            &c => (c, 1),
        };
        if got != want {
            return None;
        }
        i += read;
    }
    if i != raw.len() {
        return None;
    }
    if a == decoded.len() {
        at.0 = i;
    }
    if b == decoded.len() {
        at.1 = i;
    }
    Some(at)
}

/// Percent-encodes `s` for a query/form value (space as `%20`).
pub fn percent_encode(s: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    // Runs of literal bytes (all of a mask like `[REDACTED:PHONE]`) are
    // copied whole.
    let mut rest = s;
    while !rest.is_empty() {
        let run = rest
            .iter()
            .position(|&b| !LITERAL[usize::from(b)])
            .unwrap_or(rest.len());
        out.extend_from_slice(&rest[..run]);
        let Some((&b, tail)) = rest[run..].split_first() else {
            break;
        };
        out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        rest = tail;
    }
}

/// [`keep_literal`] of each byte.
static LITERAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = keep_literal(b as u8);
        b += 1;
    }
    t
};

/// Shortest blob considered for base64 decoding.
pub const MIN_BASE64: usize = 16;

/// Whether `s` as a whole looks like a base64 or base64url blob.
pub fn looks_like_base64(s: &[u8]) -> bool {
    if s.len() < MIN_BASE64 {
        return false;
    }
    let body = s
        .strip_suffix(b"==")
        .or_else(|| s.strip_suffix(b"="))
        .unwrap_or(s);
    let mut upper = false;
    let mut lower = false;
    for &b in body {
        match b {
            b'A'..=b'Z' => upper = true,
            b'a'..=b'z' => lower = true,
            b'0'..=b'9' | b'+' | b'/' | b'-' | b'_' => {}
            _ => return false,
        }
    }
    // Real blobs mix cases; all-hex digests and lower-case slugs do not.
    upper && lower
}

/// Decodes a base64/base64url blob when the result is printable UTF-8 text
/// (so digests, images and random ids are left alone).
pub fn base64_text(s: &[u8]) -> Option<Vec<u8>> {
    let decoded = [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(s).ok())?;
    let text = std::str::from_utf8(&decoded).ok()?;
    let printable = text
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .count();
    let total = text.chars().count();
    (total >= 4 && printable * 100 >= total * 95).then_some(decoded)
}

/// Unescapes the inside of a JSON string (without quotes). Borrows when there is
/// no backslash. Returns `None` for an invalid escape; lone surrogates become U+FFFD.
pub fn json_unescape(s: &[u8]) -> Option<Cow<'_, [u8]>> {
    if find(b'\\', s).is_none() {
        return Some(Cow::Borrowed(s));
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let e = *s.get(i + 1)?;
        i += 2;
        let c = match e {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let hi = hex4(s.get(i..i + 4)?)?;
                i += 4;
                let cp = if (0xD800..0xDC00).contains(&hi) && s.get(i..i + 2) == Some(b"\\u") {
                    match s.get(i + 2..i + 6).and_then(hex4) {
                        Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                            i += 6;
                            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                        }
                        _ => 0xFFFD,
                    }
                } else {
                    hi
                };
                let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                let mut buf = [0u8; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                continue;
            }
            _ => return None,
        };
        out.push(c);
    }
    Some(Cow::Owned(out))
}

fn hex4(s: &[u8]) -> Option<u32> {
    s.iter()
        .try_fold(0u32, |acc, &b| Some(acc << 4 | u32::from(hex_val(b)?)))
}

/// Writes `s` as a quoted JSON string. Invalid UTF-8 bytes become U+FFFD.
pub fn json_quote(s: &[u8], out: &mut Vec<u8>) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    for chunk in s.utf8_chunks() {
        json_escape_valid(chunk.valid().as_bytes(), out);
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
    out.push(b'"');
}

/// Appends valid UTF-8 `v` JSON-escaped: runs without `"`, backslash or a
/// control byte are copied whole, those three are escaped.
fn json_escape_valid(v: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut i = 0;
    loop {
        let stop = crate::lanes::json_string_stop(v, i);
        out.extend_from_slice(&v[i..stop]);
        let Some(&b) = v.get(stop) else {
            return;
        };
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]),
        }
        i = stop + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_round_trip() {
        assert_eq!(&*percent_decode(b"a%40b.com+x", true), b"a@b.com x");
        assert_eq!(&*percent_decode(b"a%2540b", false), b"a%40b");
        assert_eq!(&*percent_decode(b"100%", false), b"100%");
        assert_eq!(&*percent_decode(b"%4", false), b"%4");
        assert_eq!(&*percent_decode(b"a+b%2", false), b"a+b%2");
        assert_eq!(&*percent_decode(b"+%zz%41+", true), b" %zzA ");
        let long = b"https%3A%2F%2Fshop.example%2Fproducts%2Frunning-shoes%3Fvariant%3D4412+x";
        assert_eq!(
            &*percent_decode(long, true),
            b"https://shop.example/products/running-shoes?variant=4412 x"
        );
        assert!(has_percent_escape(b"x%40"));
        assert!(!has_percent_escape(b"50% off"));
        let mut out = Vec::new();
        percent_encode(b"a b&c=[x]", &mut out);
        assert_eq!(out, b"a%20b%26c%3D[x]");
    }

    /// Percent-decoding one byte at a time, the obvious way.
    fn reference_decode(s: &[u8], plus: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < s.len() {
            match s[i] {
                b'%' if i + 2 < s.len()
                    && hex_val(s[i + 1]).is_some()
                    && hex_val(s[i + 2]).is_some() =>
                {
                    out.push(hex_val(s[i + 1]).unwrap_or(0) << 4 | hex_val(s[i + 2]).unwrap_or(0));
                    i += 3;
                }
                b'+' if plus => {
                    out.push(b' ');
                    i += 1;
                }
                b => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        out
    }

    /// `json_quote` one character at a time, as `serde_json` would write the
    /// string (lossily decoded), for the proptest below.
    fn json_quote_by_chars(s: &[u8]) -> Vec<u8> {
        let text = String::from_utf8_lossy(s);
        let mut out = serde_json::to_vec(&*text).unwrap_or_default();
        // serde_json writes the control bytes it has short escapes for as
        // such (\b, \f); json_quote writes \u0008 and \u000c.
        for (short, long) in [(&b"\\b"[..], &b"\\u0008"[..]), (b"\\f", b"\\u000c")] {
            let mut fixed = Vec::with_capacity(out.len());
            let mut i = 0;
            while i < out.len() {
                if out[i..].starts_with(short) && !escaped_backslash_before(&out, i) {
                    fixed.extend_from_slice(long);
                    i += short.len();
                } else {
                    fixed.push(out[i]);
                    i += 1;
                }
            }
            out = fixed;
        }
        out
    }

    /// Whether the backslash at `i` is itself escaped (odd run before it).
    fn escaped_backslash_before(s: &[u8], i: usize) -> bool {
        s[..i].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
    }

    proptest::proptest! {
        /// Quoting copies runs and escapes quote, backslash and control
        /// bytes exactly as a JSON writer does, with U+FFFD for bad UTF-8;
        /// the result parses back to the lossy text.
        #[test]
        fn json_quote_matches_a_json_writer(
            s in proptest::collection::vec(
                proptest::sample::select(&b"ab\"\\\x00\x01\x08\x0c\n\r\t\x1f\x7f\xc3\xa9\xff\xe2\x82\xac 09"[..]),
                0..60,
            ),
        ) {
            let mut out = Vec::new();
            json_quote(&s, &mut out);
            proptest::prop_assert_eq!(&out, &json_quote_by_chars(&s));
            let back: String = serde_json::from_slice(&out).unwrap_or_default();
            proptest::prop_assert_eq!(back, String::from_utf8_lossy(&s).into_owned());
        }

        #[test]
        fn percent_decode_equals_reference(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::string::string_regex("[a-zA-Z0-9._~-]{0,12}").unwrap_or_else(|_| unreachable!()),
                    proptest::string::string_regex("%[0-9a-fA-FgG]{0,2}").unwrap_or_else(|_| unreachable!()),
                    proptest::string::string_regex("[+%&= ]").unwrap_or_else(|_| unreachable!()),
                ],
                0..24,
            ),
            plus in proptest::prelude::any::<bool>(),
            prefix in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4),
        ) {
            let s = parts.concat();
            let want = reference_decode(s.as_bytes(), plus);
            let decoded = percent_decode(s.as_bytes(), plus);
            proptest::prop_assert_eq!(&*decoded, want.as_slice());
            // A reused scratch buffer: its old bytes must not leak in.
            let mut scratch = prefix;
            scratch.resize(scratch.len() + 40, b'%');
            proptest::prop_assert_eq!(percent_decode_in(s.as_bytes(), plus, &mut scratch), want.as_slice());
            let short = reference_decode(b"%41+", plus);
            proptest::prop_assert_eq!(percent_decode_in(b"%41+", plus, &mut scratch), short.as_slice());
        }

        #[test]
        fn percent_decode_equals_reference_on_any_bytes(
            s in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            plus in proptest::prelude::any::<bool>(),
        ) {
            let decoded = percent_decode(&s, plus);
            let want = reference_decode(&s, plus);
            proptest::prop_assert_eq!(&*decoded, want.as_slice());
            let mut scratch = vec![b'%'; 70];
            proptest::prop_assert_eq!(percent_decode_in(&s, plus, &mut scratch), want.as_slice());
        }

        #[test]
        fn reencoding_decodes_to_the_rewrite(
            raw in proptest::collection::vec(proptest::sample::select(&b"ab%4F+ ?="[..]), 0..24),
            cut in 0usize..24,
            len in 0usize..24,
            insert in proptest::collection::vec(proptest::sample::select(&b"xZ%+ &=[]:4F"[..]), 0..6),
            plus in proptest::prelude::any::<bool>(),
        ) {
            let decoded = percent_decode(&raw, plus).into_owned();
            let cut = cut.min(decoded.len());
            let end = (cut + len).min(decoded.len());
            let new = [&decoded[..cut], &insert[..], &decoded[end..]].concat();
            let mut out = Vec::new();
            percent_reencode(&raw, plus, &new, &mut out);
            proptest::prop_assert_eq!(&*percent_decode(&out, plus), new.as_slice());
            if new == decoded {
                proptest::prop_assert_eq!(&out, &raw);
            }
        }

        #[test]
        fn percent_encode_is_byte_by_byte_and_decodes_back(
            s in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        ) {
            let mut out = b"x".to_vec();
            percent_encode(&s, &mut out);
            let mut want = b"x".to_vec();
            for &b in &s {
                if keep_literal(b) {
                    want.push(b);
                } else {
                    want.extend_from_slice(format!("%{b:02X}").as_bytes());
                }
            }
            proptest::prop_assert_eq!(&out, &want);
            proptest::prop_assert_eq!(&*percent_decode(&out[1..], false), s.as_slice());
        }
    }

    #[test]
    fn reencoding_keeps_the_unchanged_spelling() {
        let re = |raw: &str, new: &str| {
            let mut out = Vec::new();
            percent_reencode(raw.as_bytes(), true, new.as_bytes(), &mut out);
            String::from_utf8(out).unwrap_or_default()
        };
        let url = "https%3A%2F%2Fx.example%2Fp%3Fe%3Djane%40example.com%26n%3D1";
        assert_eq!(
            re(url, "https://x.example/p?e=[REDACTED:EMAIL]&n=1"),
            "https%3A%2F%2Fx.example%2Fp%3Fe%3D[REDACTED:EMAIL]%26n%3D1"
        );
        // A literal `?` and `+` stay as sent; the changed middle is encoded.
        assert_eq!(re("a+b?c=d%20e", "a b?c=X Y"), "a+b?c=X%20Y");
        assert_eq!(re("abc", "abc"), "abc");
        assert_eq!(re("", "new"), "new");
        assert_eq!(re("ab%41", ""), "");
        // A literal `%` kept before a new hex digit would spell an escape.
        assert_eq!(re("%4x", "%4F"), "%254F");
        assert_eq!(re("a%4xyF", "a%4F"), "a%254F");
        // A whole-value mask shares neither end: encoded without a decode.
        assert_eq!(
            re("%2B1%20212%20555%200143", "[REDACTED:PHONE]"),
            "[REDACTED:PHONE]"
        );
        assert_eq!(re("x%41", "yA"), "y%41");
        assert_eq!(re("%%41", "%B"), "%25B");
    }

    #[test]
    fn base64_sniffing() {
        let blob = STANDARD.encode(b"{\"email\":\"jane@example.com\"}");
        assert!(looks_like_base64(blob.as_bytes()));
        assert!(base64_text(blob.as_bytes()).is_some());
        assert!(!looks_like_base64(b"9f86d081884c7d659a2feaa0c55ad015"));
        assert!(base64_text(b"AAECAwQFBgcICQoLDA0ODw==").is_none());
    }

    #[test]
    fn json_strings() {
        assert_eq!(&*json_unescape(br"a\u0040b\n").unwrap(), b"a@b\n");
        assert_eq!(&*json_unescape(br"\ud83d\ude00").unwrap(), "😀".as_bytes());
        assert!(json_unescape(br"\x").is_none());
        let mut out = Vec::new();
        json_quote(b"a\"b\x01", &mut out);
        assert_eq!(out, br#""a\"b\u0001""#);
    }
}
