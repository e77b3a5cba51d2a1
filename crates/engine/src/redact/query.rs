//! Query-string / `application/x-www-form-urlencoded` walker: decodes each key
//! and value, redacts, and re-encodes only the pairs that changed.

use std::cell::Cell;
use std::ops::Range;

use crate::codec;
use crate::lanes;
use crate::types::{Action, Encoding, UnscannableReason};

use super::{Edit, Field, Origin, PathRef, Run, Traits};

/// One pair's rewrite.
struct PairEdit {
    pair: Range<usize>,
    key: Option<Vec<u8>>,
    value: Option<Edit>,
    /// `Some(key_spent)` when the pair is settled: only its value changed,
    /// to a whole marker (`[REDACTED:PHONE]`), so a pass over the output
    /// finds nothing in it (the key scans as before, the value decodes to
    /// a marker, which the value redactor passes over) and spends what
    /// decoding the key spent (`key_spent`) plus the marker, if encoded.
    settled: Option<usize>,
}

/// What [`Profile::settle`](crate::profile::Profile)'s passes over a
/// query string hand each other. Pairs are walked independently of each
/// other, and a pass over a rewritten query sees each untouched pair
/// verbatim, so it can only find something in the pairs that were
/// rewritten: a later pass walks only those (its findings, edits and
/// output are what a walk of every pair gives), charging the expansion
/// budget up front with what the skipped pairs spent before. A pair
/// whose value became a whole marker is settled (see `PairEdit`): later
/// passes skip it too, charging what walking it would spend.
#[derive(Debug, Default)]
pub(crate) struct Rescan {
    /// In: the starts of the pairs to walk (`None`: every pair).
    pub(crate) only: Option<Vec<usize>>,
    /// Out: where each rewritten pair starts in the walk's output.
    pub(crate) rewritten: Vec<usize>,
    /// In: the budget the skipped pairs spent in earlier passes; out: that
    /// plus what the walked pairs that stayed untouched spent.
    pub(crate) clean_spent: usize,
}

impl Rescan {
    /// Sets up the next pass: walk only the pairs this one rewrote.
    pub(crate) fn next_pass(&mut self) {
        self.only = Some(std::mem::take(&mut self.rewritten));
    }
}

/// One `key[=value]` piece of a query string, found in one pass that also
/// gathers the [`Traits`] of its key and value.
struct Piece {
    /// Position of the `&` that ends the piece (or the end of the query).
    end: usize,
    /// Position of the first `=`, if any.
    eq: Option<usize>,
    /// Traits of the raw key.
    key: Traits,
    /// Traits of the raw value (none without `=`).
    value: Traits,
}

impl Piece {
    /// The piece of `q` starting at `start`: its bounds found sixteen
    /// bytes at a time ([`lanes::query_piece`]), then the traits of its
    /// key and value each in one pass over exactly their bytes.
    #[inline(always)]
    fn at(q: &[u8], start: usize) -> Piece {
        let (end, eq) = lanes::query_piece(q, start);
        match eq {
            Some(eq) => Piece {
                end,
                eq: Some(eq),
                key: Traits::of(&q[start..eq]),
                value: Traits::of(&q[eq + 1..end]),
            },
            None => Piece {
                end,
                eq: None,
                key: Traits::of(&q[start..end]),
                value: Traits(0),
            },
        }
    }
}

/// Percent-decodes `raw` (`+` as space) in `buf` when it holds a `%` or
/// `+` (by its traits); returns the bytes to use and whether they were decoded.
fn decode<'a>(raw: &'a [u8], traits: Traits, buf: &'a mut Vec<u8>) -> (&'a [u8], bool) {
    if traits.has(Traits::PLUS | Traits::PERCENT) {
        (codec::percent_decode_in(raw, true, buf), true)
    } else {
        (raw, false)
    }
}

/// Walks `q` (no leading `?`); key paths start with `prefix`. `Ok(None)`
/// when nothing was found.
pub(crate) fn walk(
    run: &mut Run<'_>,
    q: &[u8],
    origin: &Origin,
    prefix: &str,
    depth: u8,
) -> Result<Option<Vec<u8>>, UnscannableReason> {
    let prefix = if prefix.is_empty() {
        PathRef::None
    } else {
        PathRef::Bytes(prefix.as_bytes())
    };
    walk_under(run, q, origin, &prefix, depth)
}

/// Decode buffers for keys and values, kept per thread between walks: a
/// stream of small queries would otherwise allocate and free them for
/// each one (a nested walk finds them taken and makes its own, which
/// allocate only if it decodes).
#[derive(Default)]
struct Buffers {
    key: Vec<u8>,
    value: Vec<u8>,
}

/// Buffers holding more than this many bytes are freed, not kept.
const KEEP_BYTES: usize = 64 << 10;

thread_local! {
    static SPARE: Cell<Option<Buffers>> = const { Cell::new(None) };
}

/// [`walk`] for a query nested in the value at `prefix`.
pub(crate) fn walk_under(
    run: &mut Run<'_>,
    q: &[u8],
    origin: &Origin,
    prefix: &PathRef<'_>,
    depth: u8,
) -> Result<Option<Vec<u8>>, UnscannableReason> {
    walk_tracked(run, q, origin, prefix, depth, None)
}

/// [`walk`] of a whole query string as one pass of a settle loop (see
/// [`Rescan`]).
pub(crate) fn walk_rescan(
    run: &mut Run<'_>,
    q: &[u8],
    rescan: &mut Rescan,
) -> Result<Option<Vec<u8>>, UnscannableReason> {
    run.spend(rescan.clean_spent)?;
    if rescan.only.as_ref().is_some_and(Vec::is_empty) {
        // Nothing left to walk: every rewritten pair settled.
        return Ok(None);
    }
    walk_tracked(run, q, &Origin::Exact(0), &PathRef::None, 0, Some(rescan))
}

/// [`walk_under`], optionally as a settle pass.
fn walk_tracked(
    run: &mut Run<'_>,
    q: &[u8],
    origin: &Origin,
    prefix: &PathRef<'_>,
    depth: u8,
    rescan: Option<&mut Rescan>,
) -> Result<Option<Vec<u8>>, UnscannableReason> {
    let mut bufs = None;
    let walked = walk_pairs(run, q, origin, prefix, depth, &mut bufs, rescan);
    if let Some(bufs) = bufs.filter(|b| b.key.capacity() + b.value.capacity() <= KEEP_BYTES) {
        SPARE.with(|spare| spare.set(Some(bufs)));
    }
    walked
}

/// The walk proper, decoding into `bufs`, which it takes from this
/// thread's spare ones at the first pair that is not plain (a nested
/// query such as `variant=4412` usually has none).
fn walk_pairs(
    run: &mut Run<'_>,
    q: &[u8],
    origin: &Origin,
    prefix: &PathRef<'_>,
    depth: u8,
    bufs: &mut Option<Buffers>,
    mut rescan: Option<&mut Rescan>,
) -> Result<Option<Vec<u8>>, UnscannableReason> {
    let mut edits: Vec<PairEdit> = Vec::new();
    // A settle pass goes straight to the pairs the previous one rewrote.
    let only = rescan.as_mut().and_then(|r| r.only.take());
    let mut only = only.as_deref().map(<[usize]>::iter);
    let mut start = 0;
    loop {
        match only.as_mut() {
            Some(starts) => match starts.next() {
                Some(&s) => start = s,
                None => break,
            },
            None if start > q.len() => break,
            None => {}
        }
        let piece = Piece::at(q, start);
        let pair = start..piece.end;
        start = piece.end + 1;
        if pair.is_empty() {
            continue;
        }
        let key_raw = &q[pair.start..piece.eq.unwrap_or(pair.end)];
        if plain_pair(run, q, &piece, key_raw, depth) {
            continue;
        }
        // Decoded keys and values, reused pair after pair.
        let Buffers {
            key: key_buf,
            value: value_buf,
        } = bufs.get_or_insert_with(|| SPARE.with(Cell::take).unwrap_or_default());
        let spent_before = run.spent();
        let (key, key_decoded) = decode(key_raw, piece.key, key_buf);
        let key_traits = if key_decoded {
            if key.len() != key_raw.len() {
                run.spend(key.len())?;
            }
            Traits::of(key)
        } else {
            piece.key
        };
        let key_spent = run.spent() - spent_before;
        let key_edit = scan_key(run, key, key_traits, key_raw, pair.start, origin);
        let mut value_edit = None;
        if let Some(eq) = piece.eq {
            let vstart = eq + 1;
            let vraw = &q[vstart..pair.end];
            let (value, value_decoded) = decode(vraw, piece.value, value_buf);
            let (vorigin, value_traits) = if value_decoded {
                run.spend(value.len())?;
                (
                    origin.decoded(vstart..pair.end, Encoding::Percent),
                    Traits::of(value),
                )
            } else {
                (origin.shift(vstart), piece.value)
            };
            let class =
                (run.profile.keys).classify_query_key(key, key_traits.has(Traits::NOT_WORD));
            let field = Field {
                key: class,
                path: PathRef::Under(prefix, key),
            };
            value_edit = run.value_with_traits(value, value_traits, &field, &vorigin, depth)?;
        }
        if key_edit.is_some() || value_edit.is_some() {
            let settled = match &value_edit {
                Some(Edit::Replace(b)) if key_edit.is_none() => {
                    super::action::is_marker(b.trim_ascii()).then_some(key_spent)
                }
                _ => None,
            };
            edits.push(PairEdit {
                pair,
                key: key_edit.map(|(bytes, _)| bytes),
                value: value_edit,
                settled,
            });
        } else if let Some(r) = rescan.as_mut() {
            r.clean_spent += run.spent() - spent_before;
        }
    }
    if edits.is_empty() {
        return Ok(None);
    }
    Ok(Some(rebuild(q, &edits, rescan)))
}

/// Whether the pair `piece` of `q` (key `key_raw`) comes out of the walk
/// untouched and spends nothing, decided from its traits alone: nothing
/// to decode, a key the scanner skips and that names no field, and an
/// [inert](Run::inert) value. The same decisions the walk takes step by
/// step; most pairs of a tracker hit (`v=2`, `en=page_view`) are plain.
#[inline]
fn plain_pair(run: &Run<'_>, q: &[u8], piece: &Piece, key_raw: &[u8], depth: u8) -> bool {
    if piece.key.has(Traits::PLUS | Traits::PERCENT) || !run.scan_skips(key_raw, piece.key) {
        return false;
    }
    let Some(eq) = piece.eq else {
        return true;
    };
    depth <= run.profile.limits.max_decode_depth
        && run.inert(&q[eq + 1..piece.end], piece.value)
        && (run.profile.keys)
            .classify_query_key(key_raw, piece.key.has(Traits::NOT_WORD))
            .is_none()
}

/// Scans a decoded key (whose traits are `traits`) for PHI; returns the
/// re-encoded replacement key.
fn scan_key(
    run: &mut Run<'_>,
    key: &[u8],
    traits: Traits,
    key_raw: &[u8],
    at: usize,
    origin: &Origin,
) -> Option<(Vec<u8>, bool)> {
    let mut hits = Vec::new();
    run.scan(key, traits, None, &mut hits);
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

/// Re-emits the query with what changed in edited pairs encoded anew
/// ([`codec::percent_reencode`]) and dropped pairs removed. For a settle
/// pass: appends the output start of each re-encoded pair that is not
/// settled to `rewritten`, and adds what a walk of each settled one would
/// spend to `clean_spent`.
fn rebuild(q: &[u8], edits: &[PairEdit], mut rescan: Option<&mut Rescan>) -> Vec<u8> {
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
        if need_amp {
            out.push(b'&');
        }
        need_amp = true;
        if let Some(r) = rescan.as_mut().filter(|_| e.settled.is_none()) {
            r.rewritten.push(out.len());
        }
        match &e.key {
            Some(k) => out.extend_from_slice(k),
            None => out.extend_from_slice(key_raw),
        }
        if let Some(v) = value_raw {
            out.push(b'=');
            match &e.value {
                Some(Edit::Replace(b)) => {
                    let at = out.len();
                    codec::percent_reencode(v, true, b, &mut out);
                    if let (Some(r), Some(key_spent)) = (rescan.as_mut(), e.settled) {
                        // A walk decodes the value (back to `b`) only if
                        // it holds a `%` or `+`.
                        let decodes = out[at..].iter().any(|&c| matches!(c, b'%' | b'+'));
                        r.clean_spent += key_spent + if decodes { b.len() } else { 0 };
                    }
                }
                _ => out.extend_from_slice(v),
            }
        }
    }
    if cursor <= q.len() {
        emit(&mut out, &q[cursor..], &mut need_amp);
    }
    out
}
