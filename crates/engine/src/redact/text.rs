//! Plain text and log lines: one scanner pass over the line, plus `key=value`
//! pairs (query strings in request lines and referers, logfmt) whose key is a
//! PII field or whose value is encoded.

use std::ops::Range;

use crate::codec;
use crate::types::UnscannableReason;

use super::{Edit, Field, Origin, PathRef, Run};

/// A planned rewrite of `range` (empty `bytes` + `drop` = remove).
struct TextEdit {
    range: Range<usize>,
    bytes: Vec<u8>,
}

/// Byte classes for the pair walk, one table load per byte.
const KEY: u8 = 1;
/// Ends an unquoted value.
const END: u8 = 2;
/// `%`: a key or value may need percent-decoding.
const PCT: u8 = 4;
/// `+`: a value may hold form-encoded spaces.
const PLUS: u8 = 8;
/// `.`, `[` or `]`: a key may have several segments (`a[b]`, `ep.name`).
const SEGMENT: u8 = 16;

const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'[' | b']') {
            t[b] = KEY;
        }
        if c.is_ascii_whitespace() || matches!(c, b'&' | b'"' | b'\'' | b';' | b'<' | b'>' | b'#') {
            t[b] = END;
        }
        b += 1;
    }
    t[b'.' as usize] = KEY | SEGMENT;
    t[b'[' as usize] = KEY | SEGMENT;
    t[b']' as usize] = KEY | SEGMENT;
    t[b'%' as usize] = KEY | PCT;
    t[b'+' as usize] = PLUS;
    t
};

/// The `CLASS` bits seen in `s`.
fn classes(s: &[u8]) -> u8 {
    s.iter().fold(0, |acc, &b| acc | CLASS[usize::from(b)])
}

/// The length of the leading run of `bytes` whose `CLASS` bits satisfy
/// `keep`, and the bits seen in it.
fn class_run<'a>(bytes: impl Iterator<Item = &'a u8>, keep: impl Fn(u8) -> bool) -> (usize, u8) {
    bytes
        .map(|&b| CLASS[usize::from(b)])
        .take_while(|&c| keep(c))
        .fold((0, 0), |(len, bits), c| (len + 1, bits | c))
}

/// Redacts a text slice. `Ok(None)` when nothing was found.
pub(crate) fn walk(
    run: &mut Run<'_>,
    text: &[u8],
    origin: &Origin,
    depth: u8,
) -> Result<Option<Vec<u8>>, UnscannableReason> {
    let mut edits: Vec<TextEdit> = Vec::new();
    pairs(run, text, origin, depth, &mut edits)?;
    let mut hits = Vec::new();
    run.profile
        .scanner
        .scan(text, Default::default(), &mut hits);
    for h in hits {
        let inside = edits
            .iter()
            .any(|e| h.range.start < e.range.end && e.range.start < h.range.end);
        if inside {
            continue;
        }
        run.record(h.ty, &h.range, origin, &Field::NONE);
        let mut bytes = Vec::new();
        run.render(h.ty, &text[h.range.clone()], &mut bytes);
        edits.push(TextEdit {
            range: h.range,
            bytes,
        });
    }
    if edits.is_empty() {
        return Ok(None);
    }
    edits.sort_by_key(|e| e.range.start);
    let mut out = Vec::with_capacity(text.len() + 16 * edits.len());
    let mut cursor = 0;
    for e in edits {
        if e.range.start < cursor {
            continue;
        }
        out.extend_from_slice(&text[cursor..e.range.start]);
        out.extend_from_slice(&e.bytes);
        cursor = e.range.end;
    }
    out.extend_from_slice(&text[cursor..]);
    Ok(Some(out))
}

/// Finds `key=value` pairs worth a field-aware look and redacts their values.
fn pairs(
    run: &mut Run<'_>,
    text: &[u8],
    origin: &Origin,
    depth: u8,
    edits: &mut Vec<TextEdit>,
) -> Result<(), UnscannableReason> {
    let mut last_end = 0;
    for eq in memchr::memchr_iter(b'=', text) {
        if eq < last_end {
            continue;
        }
        // The key: the key bytes right before `=`.
        let (key_len, key_bits) = class_run(text[last_end..eq].iter().rev(), |c| c & KEY != 0);
        if key_len == 0 {
            continue;
        }
        let ks = eq - key_len;
        let vs = eq + 1;
        let (ve, value_bits) = if text.get(vs) == Some(&b'"') {
            match memchr::memchr(b'"', &text[vs + 1..]) {
                Some(i) => (vs + 1 + i + 1, classes(&text[vs + 1..vs + 1 + i])),
                None => continue,
            }
        } else {
            let (len, bits) = class_run(text[vs..].iter(), |c| c & END == 0);
            (vs + len, bits)
        };
        let (vs_in, ve_in) = if ve > vs + 1 && text[vs] == b'"' {
            (vs + 1, ve - 1)
        } else {
            (vs, ve)
        };
        let value = &text[vs_in..ve_in];
        let key_raw = &text[ks..eq];
        // Keys hold no `+` (not a key byte): only escapes need decoding.
        let key = if key_bits & PCT != 0 {
            codec::percent_decode(key_raw, true)
        } else {
            std::borrow::Cow::Borrowed(key_raw)
        };
        // Classified like a form key (`a[b]`, `ep.name`), as in a query
        // string; an escape may decode to a separator.
        let class = (run.profile.keys).classify_query_key(&key, key_bits & (SEGMENT | PCT) != 0);
        let encoded = (value_bits & PCT != 0 && codec::has_percent_escape(value))
            || value_bits & PLUS != 0
            || codec::looks_like_base64(value.trim_ascii());
        if class.is_none() && !encoded {
            continue;
        }
        last_end = ve;
        let decoded = codec::percent_decode(value, true);
        let vorigin = match &decoded {
            std::borrow::Cow::Borrowed(_) => origin.shift(vs_in),
            std::borrow::Cow::Owned(d) => {
                run.spend(d.len())?;
                origin.decoded(vs_in..ve_in, crate::types::Encoding::Percent)
            }
        };
        let field = Field {
            key: class,
            path: PathRef::Bytes(&key),
        };
        match run.value(&decoded, &field, &vorigin, depth)? {
            None => {}
            Some(Edit::Drop) => edits.push(TextEdit {
                range: vs_in..ve_in,
                bytes: Vec::new(),
            }),
            Some(Edit::Replace(b)) => {
                let mut bytes = Vec::with_capacity(b.len() + 8);
                if matches!(decoded, std::borrow::Cow::Owned(_)) {
                    codec::percent_reencode(value, true, &b, &mut bytes);
                } else {
                    bytes = b;
                }
                edits.push(TextEdit {
                    range: vs_in..ve_in,
                    bytes,
                });
            }
        }
    }
    Ok(())
}
