//! Query-string / `application/x-www-form-urlencoded` walker: decodes each key
//! and value, redacts, and re-encodes only the pairs that changed.

use std::ops::Range;

use crate::codec;
use crate::types::{Action, Encoding, UnscannableReason};

use super::{Edit, Field, Origin, PathRef, Run};

/// Maximum key segments used for classification (`a[b][c]`).
const MAX_SEGMENTS: usize = 8;

/// One pair's rewrite.
struct PairEdit {
    pair: Range<usize>,
    key: Option<Vec<u8>>,
    value: Option<Edit>,
}

/// Walks `q` (no leading `?`). `Ok(None)` when nothing was found.
pub(crate) fn walk(
    run: &mut Run<'_>,
    q: &[u8],
    origin: &Origin,
    prefix: &str,
    depth: u8,
) -> Result<Option<Vec<u8>>, UnscannableReason> {
    let mut edits: Vec<PairEdit> = Vec::new();
    let ends = memchr::memchr_iter(b'&', q).chain(std::iter::once(q.len()));
    let mut start = 0;
    for end in ends {
        let pair = start..end;
        start = end + 1;
        let piece = &q[pair.clone()];
        if piece.is_empty() {
            continue;
        }
        let (key_raw, value) = match codec::find(b'=', piece) {
            Some(eq) => (&piece[..eq], Some((pair.start + eq + 1, &piece[eq + 1..]))),
            None => (piece, None),
        };
        let key = codec::percent_decode(key_raw, true);
        if key.len() != key_raw.len() {
            run.spend(key.len())?;
        }
        let key_edit = scan_key(run, &key, key_raw, pair.start, origin);
        let mut value_edit = None;
        if let Some((vstart, vraw)) = value {
            let decoded = codec::percent_decode(vraw, true);
            let vorigin = match &decoded {
                std::borrow::Cow::Borrowed(_) => origin.shift(vstart),
                std::borrow::Cow::Owned(d) => {
                    run.spend(d.len())?;
                    origin.decoded(vstart..vstart + vraw.len(), Encoding::Percent)
                }
            };
            let mut segs: [&[u8]; MAX_SEGMENTS] = [&[]; MAX_SEGMENTS];
            let mut n = 0;
            for seg in key
                .split(|&b| matches!(b, b'[' | b']' | b'.'))
                .filter(|s| !s.is_empty())
            {
                if n == MAX_SEGMENTS {
                    break;
                }
                segs[n] = seg;
                n += 1;
            }
            let class = match segs[..n].split_last() {
                Some((last, parents)) => {
                    run.profile
                        .keys
                        .classify(last, parents.iter().copied(), true)
                }
                None => None,
            };
            let field = Field {
                key: class,
                path: PathRef::Join(prefix, &key),
            };
            value_edit = run.value(&decoded, &field, &vorigin, depth)?;
        }
        if key_edit.is_some() || value_edit.is_some() {
            edits.push(PairEdit {
                pair,
                key: key_edit.map(|(bytes, _)| bytes),
                value: value_edit,
            });
        }
    }
    if edits.is_empty() {
        return Ok(None);
    }
    Ok(Some(rebuild(q, &edits)))
}

/// Scans a decoded key for PHI; returns the re-encoded replacement key.
fn scan_key(
    run: &mut Run<'_>,
    key: &[u8],
    key_raw: &[u8],
    at: usize,
    origin: &Origin,
) -> Option<(Vec<u8>, bool)> {
    let mut hits = Vec::new();
    run.scan(key, super::Traits::of(key), None, &mut hits);
    if hits.is_empty() {
        return None;
    }
    let korigin = if key.len() == key_raw.len() && key == key_raw {
        origin.shift(at)
    } else {
        origin.decoded(at..at + key_raw.len(), Encoding::Percent)
    };
    let mut plain = Vec::with_capacity(key.len() + 16);
    let mut cursor = 0;
    let mut drop = false;
    for h in &hits {
        drop |= run.record(h.ty, &h.range, &korigin, &super::Field::NONE) == Action::Drop;
        plain.extend_from_slice(&key[cursor..h.range.start]);
        run.render(h.ty, &key[h.range.clone()], &mut plain);
        cursor = h.range.end;
    }
    plain.extend_from_slice(&key[cursor..]);
    let mut out = Vec::with_capacity(plain.len() + 8);
    codec::percent_encode(&plain, &mut out);
    Some((out, drop))
}

/// Re-emits the query with edited pairs re-encoded and dropped pairs removed.
fn rebuild(q: &[u8], edits: &[PairEdit]) -> Vec<u8> {
    let mut out = Vec::with_capacity(q.len());
    let mut cursor = 0;
    let mut need_amp = false;
    let emit = |out: &mut Vec<u8>, bytes: &[u8], need_amp: &mut bool| {
        if *need_amp {
            out.push(b'&');
        }
        out.extend_from_slice(bytes);
        *need_amp = true;
    };
    for e in edits {
        // Untouched pairs between the previous edit and this one.
        if e.pair.start > cursor {
            let between = &q[cursor..e.pair.start - 1];
            emit(&mut out, between, &mut need_amp);
        } else if cursor > 0 && e.pair.start == cursor {
            // Adjacent edits: nothing between.
        }
        cursor = (e.pair.end + 1).min(q.len() + 1);
        if matches!(e.value, Some(Edit::Drop)) {
            continue;
        }
        let piece = &q[e.pair.clone()];
        let (key_raw, value_raw) = match memchr::memchr(b'=', piece) {
            Some(eq) => (&piece[..eq], Some(&piece[eq + 1..])),
            None => (piece, None),
        };
        let mut pair = Vec::with_capacity(piece.len() + 16);
        match &e.key {
            Some(k) => pair.extend_from_slice(k),
            None => pair.extend_from_slice(key_raw),
        }
        if let Some(v) = value_raw {
            pair.push(b'=');
            match &e.value {
                Some(Edit::Replace(b)) => codec::percent_encode(b, &mut pair),
                _ => pair.extend_from_slice(v),
            }
        }
        emit(&mut out, &pair, &mut need_amp);
    }
    if cursor <= q.len() {
        emit(&mut out, &q[cursor..], &mut need_amp);
    }
    out
}
