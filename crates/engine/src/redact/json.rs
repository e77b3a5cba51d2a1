//! JSON walker: one pass parses, tracks key paths, scans keys and scalar values
//! and records edits; the output is the input spliced with those edits, so
//! formatting and untouched bytes are preserved and the result stays valid JSON.

use std::cell::Cell;
use std::ops::Range;

use crate::codec;
use crate::detect::keys::KeyClass;
use crate::types::{Encoding, UnscannableReason};

use super::{Edit, Field, Origin, PathRef, Run};

/// Why a walk stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WalkError {
    /// Not well-formed JSON.
    Malformed,
    /// A bound was hit.
    Unscannable(UnscannableReason),
}

impl From<UnscannableReason> for WalkError {
    fn from(r: UnscannableReason) -> Self {
        WalkError::Unscannable(r)
    }
}

/// A splice: replace `range` of the input with `bytes` (empty = removal).
#[derive(Debug)]
struct Splice {
    range: Range<usize>,
    bytes: Vec<u8>,
    kind: SpliceKind,
    /// For a replaced value in a settle pass: the field it is in, handed
    /// to the next pass ([`Rewritten`]).
    field: Option<(Option<KeyClass>, Vec<u8>)>,
}

/// What a [`Splice`] replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SpliceKind {
    /// A scalar value (a string or number token).
    Value,
    /// A member's key.
    Key,
    /// Dropped members or elements (with their commas).
    Removal,
}

/// What [`Profile::settle`](crate::profile::Profile)'s passes over a JSON
/// document hand each other. A scalar value is redacted by its bytes, its
/// key's class (from its own and its enclosing keys) and its depth alone,
/// and keys by their bytes: after a pass that only replaced scalar values
/// (no key, nothing dropped), the next pass sees every other key and value
/// verbatim and can only find something in the replaced values. It then
/// redacts only those (its findings, edits and output are what a full walk
/// gives), charging the expansion budget up front with what the other
/// values spent before. It goes straight to each replaced value with the
/// key class and path the previous pass saw it under, without parsing the
/// rest; should one of them now have to be dropped (which needs its
/// member's extent), the pass starts over as a walk of the whole document
/// that redacts only those values. After any other edit the next pass is
/// a full walk.
#[derive(Debug, Default)]
pub(crate) struct Rescan {
    /// In: the string tokens to redact (`None`: every value and key).
    only: Option<Vec<Rewritten>>,
    /// Out: each replaced value in the output, if only values were replaced.
    rewritten: Option<Vec<Rewritten>>,
    /// In: the budget the skipped values spent in earlier passes; out: that
    /// plus what the redacted values that stayed unchanged spent.
    clean_spent: usize,
}

/// A value a settle pass replaced: where its string token starts in the
/// pass's output, its key's class and its key path.
#[derive(Debug)]
pub(crate) struct Rewritten {
    start: usize,
    key: Option<KeyClass>,
    path: Vec<u8>,
}

impl Rescan {
    /// Sets up the next pass: only the values this one replaced, or a full
    /// walk after any other edit.
    pub(crate) fn next_pass(&mut self) {
        self.only = self.rewritten.take();
        if self.only.is_none() {
            self.clean_spent = 0;
        }
    }
}

/// One member / element of the container being parsed.
#[derive(Clone, Copy, Debug)]
struct Member {
    start: usize,
    end: usize,
    dropped: bool,
}

struct Walker<'a, 'r, 'p> {
    s: &'a [u8],
    pos: usize,
    run: &'r mut Run<'p>,
    origin: &'r Origin,
    dec_depth: u8,
    splices: Vec<Splice>,
    /// Key path (`a.b[2].c`) as raw key bytes; rendered (lossily, for
    /// keys that are not UTF-8) only when a finding needs it.
    path: Vec<u8>,
    /// Where each enclosing key's decoded bytes are in `path`.
    key_ranges: Vec<Range<usize>>,
    /// Reused member lists, one per nesting level.
    member_bufs: Vec<Vec<Member>>,
    /// The starts of the only string tokens to redact (a settle pass after
    /// one that replaced only values), and the next one's index.
    only: Option<Vec<usize>>,
    only_next: usize,
    /// Budget spent by values redacted without change (settle passes only).
    clean_spent: Option<usize>,
}

/// Members per container a member list is first sized for.
const MEMBERS_HINT: usize = 16;

/// The walker's growable buffers, kept per thread between documents: a
/// stream of small documents (tracker events, log lines) would otherwise
/// allocate and free them for each one.
struct Buffers {
    path: Vec<u8>,
    key_ranges: Vec<Range<usize>>,
    member_bufs: Vec<Vec<Member>>,
}

/// Buffers holding more than this many bytes are freed, not kept.
const KEEP_BYTES: usize = 64 << 10;

thread_local! {
    /// The buffers of the last finished walk on this thread (a nested walk,
    /// for JSON inside a string, finds none and makes its own).
    static SPARE: Cell<Option<Box<Buffers>>> = const { Cell::new(None) };
}

impl Buffers {
    /// This thread's spare buffers (emptied), or new ones.
    fn take() -> Box<Buffers> {
        SPARE.with(Cell::take).unwrap_or_else(|| {
            Box::new(Buffers {
                path: Vec::with_capacity(64),
                key_ranges: Vec::with_capacity(8),
                member_bufs: Vec::with_capacity(8),
            })
        })
    }

    /// Keeps the buffers for the next walk on this thread unless they grew
    /// large.
    fn keep(mut self: Box<Self>) {
        let members: usize = self
            .member_bufs
            .iter()
            .map(|m| m.capacity() * std::mem::size_of::<Member>())
            .sum();
        let bytes = self.path.capacity()
            + self.key_ranges.capacity() * std::mem::size_of::<Range<usize>>()
            + members;
        if bytes > KEEP_BYTES {
            return;
        }
        self.path.clear();
        self.key_ranges.clear();
        SPARE.with(|spare| spare.set(Some(self)));
    }
}

/// Walks `s` as one JSON document. `Ok(None)` when nothing was found.
pub(crate) fn walk(
    run: &mut Run<'_>,
    s: &[u8],
    origin: &Origin,
    prefix: &str,
    dec_depth: u8,
) -> Result<Option<Vec<u8>>, WalkError> {
    walk_tracked(run, s, origin, prefix, dec_depth, None, None)
}

/// [`walk`] of a whole document as one pass of a settle loop (see [`Rescan`]).
pub(crate) fn walk_rescan(
    run: &mut Run<'_>,
    s: &[u8],
    rescan: &mut Rescan,
) -> Result<Option<Vec<u8>>, WalkError> {
    run.spend(rescan.clean_spent)?;
    let only = match rescan.only.take() {
        Some(values) => {
            let mark = run.mark();
            if let Some(out) = redact_values(run, s, &values, rescan)? {
                return Ok(out);
            }
            run.rewind(mark);
            Some(values.iter().map(|v| v.start).collect())
        }
        None => None,
    };
    walk_tracked(run, s, &Origin::Exact(0), "", 0, Some(rescan), only)
}

/// A settle pass over the `values` the previous pass replaced, each
/// redacted in its field without parsing the rest of `s`. `Ok(None)`:
/// one of them must now be dropped (or is not a string token), so the
/// caller rewinds the run and walks the whole document instead.
fn redact_values(
    run: &mut Run<'_>,
    s: &[u8],
    values: &[Rewritten],
    rescan: &mut Rescan,
) -> Result<Option<Option<Vec<u8>>>, WalkError> {
    let mut bufs = Buffers::take();
    let mut w = Walker::new(
        run,
        s,
        &Origin::Exact(0),
        0,
        &mut bufs,
        None,
        Some(rescan.clean_spent),
    );
    let mut redirect = false;
    for v in values {
        w.pos = v.start;
        w.path.clear();
        w.path.extend_from_slice(&v.path);
        let done = match w.string() {
            Ok((r, escaped)) => w.scalar(r, Some(escaped), v.key, None),
            Err(e) => Err(e),
        };
        match done {
            Ok(false) => {}
            Ok(true) | Err(WalkError::Malformed) => {
                redirect = true;
                break;
            }
            Err(unscannable) => {
                w.into_buffers(&mut bufs);
                bufs.keep();
                return Err(unscannable);
            }
        }
    }
    let clean_spent = w.clean_spent;
    let splices = w.into_buffers(&mut bufs);
    bufs.keep();
    if redirect {
        return Ok(None);
    }
    Ok(Some(output(s, splices, clean_spent, Some(rescan))))
}

/// A walk's output (`None`: nothing changed). In a settle pass, also what
/// the next pass needs: the budget clean values spent and, when every
/// splice replaced a value (and knows its field), the replaced values.
fn output(
    s: &[u8],
    splices: Vec<Splice>,
    clean_spent: Option<usize>,
    mut rescan: Option<&mut Rescan>,
) -> Option<Vec<u8>> {
    if let Some(r) = rescan.as_mut() {
        r.clean_spent = clean_spent.unwrap_or(0);
    }
    if splices.is_empty() {
        return None;
    }
    let only_values = splices
        .iter()
        .all(|sp| sp.kind == SpliceKind::Value && sp.field.is_some());
    let rewritten = rescan
        .filter(|_| only_values)
        .map(|r| r.rewritten.insert(Vec::new()));
    Some(apply(s, splices, rewritten))
}

/// [`walk`], optionally as a settle pass.
fn walk_tracked(
    run: &mut Run<'_>,
    s: &[u8],
    origin: &Origin,
    prefix: &str,
    dec_depth: u8,
    rescan: Option<&mut Rescan>,
    only: Option<Vec<usize>>,
) -> Result<Option<Vec<u8>>, WalkError> {
    let findings_before = run.findings.len();
    let blocked_before = run.blocked;
    let mut bufs = Buffers::take();
    let clean_spent = rescan.as_ref().map(|r| r.clean_spent);
    let mut w = Walker::new(run, s, origin, dec_depth, &mut bufs, only, clean_spent);
    w.path.extend_from_slice(prefix.as_bytes());
    w.ws();
    let parsed = w.value(None, 0).map(|_| ());
    w.ws();
    let complete = w.pos == s.len();
    let clean_spent = w.clean_spent;
    let splices = w.into_buffers(&mut bufs);
    bufs.keep();
    match parsed {
        Ok(()) if complete => {}
        Err(WalkError::Unscannable(r)) => return Err(WalkError::Unscannable(r)),
        _ => {
            run.findings.truncate(findings_before);
            run.blocked = blocked_before;
            return Err(WalkError::Malformed);
        }
    }
    Ok(output(s, splices, clean_spent, rescan))
}

/// Applies splices (sorted by start; removals first at equal starts; anything
/// inside an earlier removal is skipped); appends the output start of each
/// inserted replacement, with its field, to `rewritten`.
fn apply(
    s: &[u8],
    mut splices: Vec<Splice>,
    mut rewritten: Option<&mut Vec<Rewritten>>,
) -> Vec<u8> {
    splices.sort_by_key(|sp| (sp.range.start, sp.kind != SpliceKind::Removal));
    let mut out = Vec::with_capacity(s.len());
    let mut cursor = 0;
    for sp in splices {
        if sp.range.start < cursor {
            cursor = cursor.max(sp.range.end);
            continue;
        }
        out.extend_from_slice(&s[cursor..sp.range.start]);
        if let (Some(r), Some((key, path))) = (rewritten.as_mut(), sp.field) {
            r.push(Rewritten {
                start: out.len(),
                key,
                path,
            });
        }
        out.extend_from_slice(&sp.bytes);
        cursor = sp.range.end;
    }
    out.extend_from_slice(&s[cursor..]);
    out
}

impl<'a, 'r, 'p> Walker<'a, 'r, 'p> {
    /// A walker over `s` using `bufs`' buffers (hand them back with
    /// [`Walker::into_buffers`]); `only` and `clean_spent` as in [`Rescan`].
    fn new(
        run: &'r mut Run<'p>,
        s: &'a [u8],
        origin: &'r Origin,
        dec_depth: u8,
        bufs: &mut Buffers,
        only: Option<Vec<usize>>,
        clean_spent: Option<usize>,
    ) -> Self {
        Walker {
            s,
            pos: 0,
            run,
            origin,
            dec_depth,
            splices: Vec::new(),
            path: std::mem::take(&mut bufs.path),
            key_ranges: std::mem::take(&mut bufs.key_ranges),
            member_bufs: std::mem::take(&mut bufs.member_bufs),
            only,
            only_next: 0,
            clean_spent,
        }
    }

    /// Ends the walk: its buffers go back to `bufs`, its splices are returned.
    fn into_buffers(self, bufs: &mut Buffers) -> Vec<Splice> {
        *bufs = Buffers {
            path: self.path,
            key_ranges: self.key_ranges,
            member_bufs: self.member_bufs,
        };
        self.splices
    }
}

impl Walker<'_, '_, '_> {
    fn ws(&mut self) {
        // Every JSON whitespace byte is at most `' '`: one compare for the
        // usual next byte (compact documents have none).
        while let Some(&b) = self.s.get(self.pos) {
            if b > b' ' || !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn expect(&mut self, b: u8) -> Result<(), WalkError> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(WalkError::Malformed)
        }
    }

    /// Parses one value; returns whether it must be dropped from its container.
    fn value(&mut self, key: Option<KeyClass>, depth: u16) -> Result<bool, WalkError> {
        match self.peek().ok_or(WalkError::Malformed)? {
            b'{' => self.object(depth + 1).map(|_| false),
            b'[' => self.array(key, depth + 1).map(|_| false),
            b'"' => {
                let (r, escaped) = self.string()?;
                if !self.wanted(r.start) {
                    return Ok(false);
                }
                self.scalar(r, Some(escaped), key, None)
            }
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => {
                let r = self.number()?;
                if !self.wanted(r.start) {
                    return Ok(false);
                }
                if key.is_some() || long_number(&self.s[r.clone()]) {
                    self.scalar(r, None, key, None)
                } else {
                    Ok(false)
                }
            }
            _ => Err(WalkError::Malformed),
        }
    }

    /// Whether the token starting at `start` is to be redacted: always,
    /// but in a settle pass that redacts only the values the previous one
    /// replaced, only those.
    #[inline]
    fn wanted(&mut self, start: usize) -> bool {
        let Some(only) = &self.only else {
            return true;
        };
        while only.get(self.only_next).is_some_and(|&o| o < start) {
            self.only_next += 1;
        }
        only.get(self.only_next) == Some(&start)
    }

    /// Whether the value at the current position needs its key's class:
    /// an object's members classify their own keys, and a settle pass that
    /// redacts only some string values skips the others.
    fn needs_class(&mut self) -> bool {
        match self.peek() {
            Some(b'{') => false,
            Some(b'"') if self.only.is_some() => self.wanted(self.pos),
            Some(b'[') => true,
            _ => self.only.is_none(),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<bool, WalkError> {
        if self.s[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(false)
        } else {
            Err(WalkError::Malformed)
        }
    }

    /// Range of a string token including quotes, and whether it holds a
    /// backslash escape.
    /// Plain bytes are skipped sixteen at a time up to the next `"`,
    /// backslash or control character ([`crate::lanes::json_string_stop`]).
    #[inline(always)]
    fn string(&mut self) -> Result<(Range<usize>, bool), WalkError> {
        self.string_scanning::<false>()
            .map(|(r, escaped, _)| (r, escaped))
    }

    /// [`Walker::string`] for a key, and whether its content may hold a
    /// byte the scanner's pre-check looks for (an ASCII digit, `@`, `%` or
    /// `:`, found in the same pass; any escape counts as one).
    #[inline(always)]
    fn key_string(&mut self) -> Result<(Range<usize>, bool, bool), WalkError> {
        self.string_scanning::<true>()
    }

    /// [`Walker::string`], with [`Walker::key_string`]'s answer when
    /// `SCANNABLE` (else `false`).
    #[inline(always)]
    fn string_scanning<const SCANNABLE: bool>(
        &mut self,
    ) -> Result<(Range<usize>, bool, bool), WalkError> {
        let start = self.pos;
        self.expect(b'"')?;
        let s = self.s;
        let mut i = self.pos;
        let mut escaped = false;
        let mut scannable = false;
        loop {
            if SCANNABLE {
                let (stop, found) = crate::lanes::json_string_stop_scannable(s, i);
                i = stop;
                scannable |= found;
            } else {
                i = crate::lanes::json_string_stop(s, i);
            }
            match *s.get(i).ok_or(WalkError::Malformed)? {
                b'"' => {
                    self.pos = i + 1;
                    return Ok((start..self.pos, escaped, scannable || escaped));
                }
                b'\\' => {
                    // The escaped byte is skipped unchecked: unescaping
                    // rejects anything but a valid escape.
                    escaped = true;
                    i += 2;
                    if i > s.len() {
                        return Err(WalkError::Malformed);
                    }
                }
                0..=0x1f => return Err(WalkError::Malformed),
                // Not reached: the search stops only at the bytes above.
                _ => i += 1,
            }
        }
    }

    #[inline(always)]
    fn number(&mut self) -> Result<Range<usize>, WalkError> {
        let start = self.pos;
        let s = self.s;
        let digits = |p: &mut usize| {
            let b = *p;
            while *p < s.len() && s[*p].is_ascii_digit() {
                *p += 1;
            }
            *p > b
        };
        let mut p = self.pos;
        if s.get(p) == Some(&b'-') {
            p += 1;
        }
        if s.get(p) == Some(&b'0') {
            p += 1;
        } else if !digits(&mut p) {
            return Err(WalkError::Malformed);
        }
        if s.get(p) == Some(&b'.') {
            p += 1;
            if !digits(&mut p) {
                return Err(WalkError::Malformed);
            }
        }
        if matches!(s.get(p), Some(b'e' | b'E')) {
            p += 1;
            if matches!(s.get(p), Some(b'+' | b'-')) {
                p += 1;
            }
            if !digits(&mut p) {
                return Err(WalkError::Malformed);
            }
        }
        self.pos = p;
        Ok(start..p)
    }

    /// Scans a scalar token (`escaped`: `None` for a number, else whether
    /// the string holds an escape; `traits`: its content's, when the
    /// caller has them); records a replacement splice; returns "drop".
    fn scalar(
        &mut self,
        r: Range<usize>,
        escaped: Option<bool>,
        key: Option<KeyClass>,
        traits: Option<super::Traits>,
    ) -> Result<bool, WalkError> {
        let s = self.s;
        let inner = if escaped.is_some() {
            r.start + 1..r.end - 1
        } else {
            r.clone()
        };
        let raw = &s[inner.clone()];
        let decoded = unescape(raw, escaped == Some(true))?;
        let origin = match &decoded {
            std::borrow::Cow::Borrowed(_) => self.origin.shift(inner.start),
            std::borrow::Cow::Owned(_) => self.origin.decoded(r.clone(), Encoding::JsonEscape),
        };
        let field = Field {
            key,
            path: if self.path.is_empty() {
                PathRef::None
            } else {
                PathRef::Bytes(&self.path)
            },
        };
        let spent_before = self.run.spent();
        let traits = traits.unwrap_or_else(|| super::Traits::of(&decoded));
        let edit =
            (self.run).value_with_traits(&decoded, traits, &field, &origin, self.dec_depth)?;
        Ok(match edit {
            None => {
                if let Some(clean) = self.clean_spent.as_mut() {
                    *clean += self.run.spent() - spent_before;
                }
                false
            }
            Some(Edit::Drop) => true,
            Some(Edit::Replace(b)) => {
                let mut bytes = Vec::with_capacity(b.len() + 2);
                codec::json_quote(&b, &mut bytes);
                // A settle pass hands the field on to the next one.
                let field = self.clean_spent.is_some().then(|| (key, self.path.clone()));
                self.splices.push(Splice {
                    range: r,
                    bytes,
                    kind: SpliceKind::Value,
                    field,
                });
                false
            }
        })
    }

    fn take_members(&mut self, depth: u16) -> Vec<Member> {
        let i = usize::from(depth);
        if self.member_bufs.len() <= i {
            // Most objects have a few members: one allocation, no regrowth.
            self.member_bufs
                .resize_with(i + 1, || Vec::with_capacity(MEMBERS_HINT));
        }
        let mut v = std::mem::take(&mut self.member_bufs[i]);
        v.clear();
        v
    }

    fn check_depth(&self, depth: u16) -> Result<(), WalkError> {
        if depth > self.run.profile.limits.max_json_depth {
            Err(WalkError::Unscannable(UnscannableReason::JsonDepth))
        } else {
            Ok(())
        }
    }

    fn object(&mut self, depth: u16) -> Result<(), WalkError> {
        self.check_depth(depth)?;
        self.expect(b'{')?;
        let mut members = self.take_members(depth);
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.member_bufs[usize::from(depth)] = members;
            return Ok(());
        }
        loop {
            self.ws();
            let start = self.pos;
            let (kr, escaped, scannable) = self.key_string()?;
            let raw_key = &self.s[kr.start + 1..kr.end - 1];
            let key = unescape(raw_key, escaped)?;
            // A settle pass that redacts only values sees every key as
            // an earlier pass did, which found nothing in it.
            let mut dropped = self.only.is_none() && self.scan_key(&key, kr.clone(), scannable)?;
            self.ws();
            self.expect(b':')?;
            self.ws();
            let class = if self.needs_class() {
                let path = &self.path;
                let parents = self.key_ranges.iter().map(|r| &path[r.clone()]);
                self.run.profile.keys.classify(&key, parents, false)
            } else {
                None
            };
            dropped |= match self.unkeyed_scalar(class, &key)? {
                Some(drop) => drop,
                None => {
                    let path_len = self.path.len();
                    let key_start = self.enter_key(&key);
                    self.key_ranges.push(key_start..self.path.len());
                    let drop = self.value(class, depth)?;
                    self.key_ranges.pop();
                    self.path.truncate(path_len);
                    drop
                }
            };
            let end = self.pos;
            members.push(Member {
                start,
                end,
                dropped,
            });
            if self.after_member(b'}')? {
                break;
            }
        }
        self.removals(&members);
        self.member_bufs[usize::from(depth)] = members;
        Ok(())
    }

    /// Appends `key` to the key path (after a `.` unless the path is
    /// empty); returns where it starts there.
    fn enter_key(&mut self, key: &[u8]) -> usize {
        if !self.path.is_empty() {
            self.path.push(b'.');
        }
        let key_start = self.path.len();
        self.path.extend_from_slice(key);
        key_start
    }

    /// The value of the member `key` when it is a scalar under no key rule
    /// (`class` is `None`), outside a settle pass: whether to drop it, or
    /// `None` (nothing consumed) for anything else. A string the value
    /// redactor finds [inert](Run::inert), or a number too short for a
    /// card, is passed over without entering `key` in the key path, which
    /// only a finding needs: the same outcome [`Walker::value`] reaches
    /// step by step, and most members of a tracker event are such.
    #[inline]
    fn unkeyed_scalar(
        &mut self,
        class: Option<KeyClass>,
        key: &[u8],
    ) -> Result<Option<bool>, WalkError> {
        if class.is_some() || self.only.is_some() {
            return Ok(None);
        }
        let (r, escaped, traits) = match self.peek() {
            Some(b'"') => {
                let (r, escaped) = self.string()?;
                let raw = &self.s[r.start + 1..r.end - 1];
                if escaped {
                    (r, Some(true), None)
                } else {
                    let traits = super::Traits::of(raw);
                    if self.dec_depth <= self.run.profile.limits.max_decode_depth
                        && self.run.inert(raw, traits)
                    {
                        return Ok(Some(false));
                    }
                    (r, Some(false), Some(traits))
                }
            }
            Some(b'-' | b'0'..=b'9') => {
                let r = self.number()?;
                if !long_number(&self.s[r.clone()]) {
                    return Ok(Some(false));
                }
                (r, None, None)
            }
            _ => return Ok(None),
        };
        let path_len = self.path.len();
        self.enter_key(key);
        let drop = self.scalar(r, escaped, None, traits);
        self.path.truncate(path_len);
        drop.map(Some)
    }

    /// After a member or element: consumes `,` (more follow: `false`) or `close` (the container
    /// ended: `true`); anything else is malformed.
    #[inline]
    fn after_member(&mut self, close: u8) -> Result<bool, WalkError> {
        self.ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(false)
            }
            Some(b) if b == close => {
                self.pos += 1;
                Ok(true)
            }
            _ => Err(WalkError::Malformed),
        }
    }

    /// Keys can hold PHI too (`{"jane@x.com": true}`): scan and mask them.
    /// Most keys are passed over by the scanner's pre-check, done here
    /// in line. A key that holds no ASCII digit, `@`, `%` or `:` (not
    /// `scannable`, by [`Walker::key_string`]) and is too short for a
    /// pattern that needs none of them is passed over on its length: the
    /// pre-check's answer, without its look at the key's bytes.
    #[inline(always)]
    fn scan_key(
        &mut self,
        key: &[u8],
        kr: Range<usize>,
        scannable: bool,
    ) -> Result<bool, WalkError> {
        if !scannable && !self.run.profile.scanner.may_hit_without_digits(key.len()) {
            return Ok(false);
        }
        let traits = super::Traits::of(key);
        if self.run.scan_skips(key, traits) {
            return Ok(false);
        }
        self.scan_key_hits(key, traits, kr)
    }

    /// [`Walker::scan_key`] for a key the pre-check did not pass over.
    #[inline(never)]
    fn scan_key_hits(
        &mut self,
        key: &[u8],
        traits: super::Traits,
        kr: Range<usize>,
    ) -> Result<bool, WalkError> {
        let mut hits = Vec::new();
        self.run.scan(key, traits, None, &mut hits);
        if hits.is_empty() {
            return Ok(false);
        }
        let escaped = memchr::memchr(b'\\', &self.s[kr.clone()]).is_some();
        let origin = if escaped {
            self.origin.decoded(kr.clone(), Encoding::JsonEscape)
        } else {
            self.origin.shift(kr.start + 1)
        };
        let mut out = Vec::with_capacity(key.len() + 16);
        let mut cursor = 0;
        let mut drop = false;
        for h in &hits {
            let action = self.run.record(h.ty, &h.range, &origin, &Field::NONE);
            drop |= action == crate::types::Action::Drop;
            out.extend_from_slice(&key[cursor..h.range.start]);
            self.run.render(h.ty, &key[h.range.clone()], &mut out);
            cursor = h.range.end;
        }
        out.extend_from_slice(&key[cursor..]);
        let mut bytes = Vec::with_capacity(out.len() + 2);
        codec::json_quote(&out, &mut bytes);
        self.splices.push(Splice {
            range: kr,
            bytes,
            kind: SpliceKind::Key,
            field: None,
        });
        Ok(drop)
    }

    fn array(&mut self, key: Option<KeyClass>, depth: u16) -> Result<(), WalkError> {
        self.check_depth(depth)?;
        self.expect(b'[')?;
        let mut members = self.take_members(depth);
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.member_bufs[usize::from(depth)] = members;
            return Ok(());
        }
        let mut index = 0usize;
        loop {
            self.ws();
            let start = self.pos;
            let path_len = self.path.len();
            self.path.push(b'[');
            self.path
                .extend_from_slice(itoa_usize(index, &mut [0u8; 20]));
            self.path.push(b']');
            let dropped = self.value(key, depth)?;
            self.path.truncate(path_len);
            members.push(Member {
                start,
                end: self.pos,
                dropped,
            });
            index += 1;
            if self.after_member(b']')? {
                break;
            }
        }
        self.removals(&members);
        self.member_bufs[usize::from(depth)] = members;
        Ok(())
    }

    /// Turns dropped members into removal splices that keep commas valid.
    #[inline]
    fn removals(&mut self, members: &[Member]) {
        if members.iter().any(|m| m.dropped) {
            self.removal_splices(members);
        }
    }

    /// [`Walker::removals`] for members some of which are dropped.
    #[inline(never)]
    fn removal_splices(&mut self, members: &[Member]) {
        let last_kept = members.iter().rposition(|m| !m.dropped);
        for (i, m) in members.iter().enumerate() {
            if !m.dropped {
                continue;
            }
            let range = match last_kept {
                None => members[0].start..members[members.len() - 1].end,
                Some(k) if k > i => m.start..members[i + 1].start,
                Some(_) => members[i - 1].end..m.end,
            };
            self.splices.push(Splice {
                range,
                bytes: Vec::new(),
                kind: SpliceKind::Removal,
                field: None,
            });
        }
    }
}

/// Whether an unkeyed number token is looked at: only with 13 digits or
/// more (a card); shorter tokens are not counted.
#[inline]
fn long_number(token: &[u8]) -> bool {
    token.len() >= 13 && token.iter().filter(|b| b.is_ascii_digit()).count() >= 13
}

/// The string content `raw` with its escapes undone (`escaped`: it holds a
/// backslash, as found while tokenizing).
fn unescape(raw: &[u8], escaped: bool) -> Result<std::borrow::Cow<'_, [u8]>, WalkError> {
    if !escaped {
        return Ok(std::borrow::Cow::Borrowed(raw));
    }
    codec::json_unescape(raw).ok_or(WalkError::Malformed)
}

/// The decimal digits of `n`, written into `buf` without allocating.
fn itoa_usize(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}
