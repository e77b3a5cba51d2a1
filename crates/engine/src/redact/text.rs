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

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']' | b'%')
}

fn ends_value(b: u8) -> bool {
    b.is_ascii_whitespace() || matches!(b, b'&' | b'"' | b'\'' | b';' | b'<' | b'>' | b'#')
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
        let mut ks = eq;
        while ks > last_end && is_key_byte(text[ks - 1]) {
            ks -= 1;
        }
        if ks == eq {
            continue;
        }
        let vs = eq + 1;
        let ve = if text.get(vs) == Some(&b'"') {
            match memchr::memchr(b'"', &text[vs + 1..]) {
                Some(i) => vs + 1 + i + 1,
                None => continue,
            }
        } else {
            text[vs..]
                .iter()
                .position(|&b| ends_value(b))
                .map_or(text.len(), |i| vs + i)
        };
        let (vs_in, ve_in) = if ve > vs + 1 && text[vs] == b'"' {
            (vs + 1, ve - 1)
        } else {
            (vs, ve)
        };
        let value = &text[vs_in..ve_in];
        let key_raw = &text[ks..eq];
        let key = codec::percent_decode(key_raw, true);
        let class = {
            let mut segs = key
                .split(|&b| matches!(b, b'[' | b']' | b'.'))
                .filter(|s| !s.is_empty());
            let first = segs.next();
            let mut last = first;
            let mut parents: [&[u8]; 4] = [&[]; 4];
            let mut n = 0;
            for s in segs {
                if let Some(prev) = last {
                    if n < parents.len() {
                        parents[n] = prev;
                        n += 1;
                    }
                }
                last = Some(s);
            }
            last.and_then(|l| {
                run.profile
                    .keys
                    .classify(l, parents[..n].iter().copied(), true)
            })
        };
        let encoded = codec::has_percent_escape(value)
            || memchr::memchr(b'+', value).is_some()
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
                    codec::percent_encode(&b, &mut bytes);
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
