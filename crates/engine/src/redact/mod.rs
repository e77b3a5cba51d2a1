//! Applying actions: walkers for each format share one per-call `Run` that
//! decodes nested encodings within the profile's bounds, scans values and
//! renders replacements.

pub mod action;
pub(crate) mod json;
pub(crate) mod query;
pub(crate) mod text;

use std::ops::Range;

use crate::codec;
use crate::detect::keys::KeyClass;
use crate::detect::shape::ByteSet;
use crate::detect::validate;
use crate::detect::{self, Hit, ScanCtx, Scanner};
use crate::profile::Profile;
use crate::types::{Action, Encoding, Finding, Outcome, PhiType, UnscannableReason};

/// A value rewrite decided by a walker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Edit {
    /// Replace the value with these (decoded-layer) bytes.
    Replace(Vec<u8>),
    /// Remove the enclosing field.
    Drop,
}

/// Where the bytes being scanned came from, to report input coordinates.
#[derive(Clone, Debug)]
pub(crate) enum Origin {
    /// The bytes are a verbatim slice of the input starting at this offset.
    Exact(usize),
    /// The bytes were decoded from this input range with this (outermost) encoding.
    Whole(Range<usize>, Encoding),
}

impl Origin {
    fn map(&self, r: &Range<usize>) -> (Range<usize>, Encoding) {
        match self {
            Origin::Exact(o) => (o + r.start..o + r.end, Encoding::Plain),
            Origin::Whole(w, e) => (w.clone(), *e),
        }
    }

    /// The origin of a sub-slice `sub` after decoding it with `enc`.
    pub(crate) fn decoded(&self, sub: Range<usize>, enc: Encoding) -> Origin {
        match self {
            Origin::Exact(o) => Origin::Whole(o + sub.start..o + sub.end, enc),
            Origin::Whole(w, e) => Origin::Whole(w.clone(), *e),
        }
    }

    /// The origin of a verbatim sub-slice starting at `start`.
    pub(crate) fn shift(&self, start: usize) -> Origin {
        match self {
            Origin::Exact(o) => Origin::Exact(o + start),
            whole => whole.clone(),
        }
    }
}

/// A key path, rendered to a string only when a finding needs it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum PathRef<'a> {
    /// Not in a field.
    None,
    /// A raw key.
    Bytes(&'a [u8]),
    /// `path.key` for a key inside the value at `path` (a nested query).
    Under(&'a PathRef<'a>, &'a [u8]),
}

impl PathRef<'_> {
    fn render(&self) -> Option<String> {
        match self {
            PathRef::None => None,
            PathRef::Bytes(b) => Some(lossy_string(b)),
            PathRef::Under(p, b) => match p.render() {
                Some(p) if !p.is_empty() => Some(format!("{p}.{}", String::from_utf8_lossy(b))),
                _ => Some(lossy_string(b)),
            },
        }
    }

    /// Renders into an owned string for nesting (`None` → empty).
    pub(crate) fn to_prefix(self) -> String {
        self.render().unwrap_or_default()
    }
}

/// `b` as a string, invalid UTF-8 replaced: `str::from_utf8`'s ASCII fast
/// path first, as keys nearly always are valid (`from_utf8_lossy` walks
/// them in chunks at several times the cost).
fn lossy_string(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(b).into_owned(),
    }
}

/// The field a value sits in.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Field<'a> {
    /// Key class, if the key matched a rule.
    pub key: Option<KeyClass>,
    /// Key path for findings.
    pub path: PathRef<'a>,
}

impl Field<'_> {
    /// A value outside any field.
    pub(crate) const NONE: Field<'static> = Field {
        key: None,
        path: PathRef::None,
    };
}

/// Which of the bytes that steer the value redactor occur in a value,
/// gathered in one table-driven pass instead of one search per question.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Traits(u16);

impl Traits {
    /// `+` (maybe a form-encoded space).
    const PLUS: u16 = 1;
    /// `%` (maybe a percent escape).
    const PERCENT: u16 = 2;
    /// `=` (maybe an embedded query).
    const EQUALS: u16 = 4;
    /// A space.
    const SPACE: u16 = 8;
    /// ASCII whitespace (space, tab, line feed, form feed, carriage return).
    const WHITESPACE: u16 = 16;
    /// A digit, `@` or `%`: values without one (and with too few `:` for
    /// IPv6) are run through the scanner only when a pattern that needs
    /// none of them fits
    /// ([`crate::detect::Scanner::may_hit_without_digits`]).
    const SCANNABLE: u16 = 32;
    /// `{` or `[` (maybe nested JSON).
    const BRACKET: u16 = 64;
    /// `&` (ends a query pair; walkers stop at it).
    const AMP: u16 = 128;
    /// An ASCII upper-case letter.
    const UPPER: u16 = 256;
    /// An ASCII lower-case letter.
    const LOWER: u16 = 512;
    /// A byte no base64 or base64url blob holds (anything but ASCII
    /// letters, digits, `+`, `/`, `-`, `_` and `=`).
    const NOT_BASE64: u16 = 1024;
    /// `-`.
    const DASH: u16 = 2048;
    /// `_`.
    const UNDERSCORE: u16 = 4096;
    /// A byte no word token holds (anything but ASCII letters, digits, `_`
    /// and `-`).
    const NOT_WORD: u16 = 8192;
    /// `:` (IPv6 needs a few).
    const COLON: u16 = 16384;
    /// `@` (e-mail needs one, or its escape).
    const AT: u16 = 32768;
    /// The bits of the bytes that steer the value redactor's steps (all
    /// but the letter-case, base64 and word-token bits).
    const STEERING: u16 = 255;
    /// The bits that say what a byte is (all but `NOT_BASE64` and
    /// `NOT_WORD`, which say what it is not).
    const HELD: u16 = !(Traits::NOT_BASE64 | Traits::NOT_WORD);

    /// The bits at least one of which a haystack without a digit must
    /// have for the scanner to hit anything in it, read off the patterns
    /// that need no digit ([`Scanner::digitless_any_of`]): for each, the
    /// [`Traits::HELD`] bits of one byte set its every match holds a byte
    /// of (`_` for `sk_live_…`, `A` for `AKIA…`, `[ \t]` for `Bearer …`),
    /// the rarest such set. `None` when some pattern has no such set (or
    /// the scanner's gates are off): then every haystack may hit.
    pub(crate) fn digitless_hits_need(scanner: &Scanner) -> Option<u16> {
        // How common each bit is in text (lower case letters the most).
        let weight = |mask: u16| {
            (0..16)
                .filter(|k| mask & (1 << k) != 0)
                .map(|k| match 1u16 << k {
                    Traits::LOWER => 8,
                    Traits::UPPER => 4,
                    _ => 1,
                })
                .sum::<u32>()
        };
        // The held bits of a set's bytes, if every byte has one.
        let held = |set: &ByteSet| {
            set.bytes().try_fold(0u16, |acc, b| {
                let bits = TRAIT_TABLE[usize::from(b)] & Traits::HELD;
                (bits != 0).then_some(acc | bits)
            })
        };
        scanner
            .digitless_any_of()?
            .iter()
            .try_fold(0u16, |acc, sets| {
                let rarest = sets.iter().filter_map(held).min_by_key(|&m| weight(m))?;
                Some(acc | rarest)
            })
    }

    /// The traits of `v`.
    pub(crate) fn of(v: &[u8]) -> Traits {
        Traits(
            v.iter()
                .fold(0, |acc, &b| acc | TRAIT_TABLE[usize::from(b)]),
        )
    }

    /// Whether any of the bits in `bits` is set.
    fn has(self, bits: u16) -> bool {
        self.0 & bits != 0
    }

    /// Whether the value's steering bits are exactly `bits`.
    fn steering_is(self, bits: u16) -> bool {
        self.0 & Traits::STEERING == bits
    }

    /// Whether `v`, whose traits these are, may pass
    /// [`codec::looks_like_base64`] once trimmed: long enough, both letter
    /// cases, and no byte outside the base64 alphabets (unless `v` starts
    /// or ends with whitespace, which trimming removes). `false` is exact;
    /// `true` means "ask `looks_like_base64`".
    #[inline(always)]
    fn may_be_base64(self, v: &[u8]) -> bool {
        v.len() >= codec::MIN_BASE64
            && self.has(Traits::UPPER)
            && self.has(Traits::LOWER)
            && (!self.has(Traits::NOT_BASE64)
                || (self.has(Traits::WHITESPACE)
                    && (v.first().is_some_and(u8::is_ascii_whitespace)
                        || v.last().is_some_and(u8::is_ascii_whitespace))))
    }
}

/// Each byte's [`Traits`] bits.
static TRAIT_TABLE: [u16; 256] = {
    let mut t = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let word = b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
        let base64 = word || matches!(b, b'+' | b'/' | b'=');
        t[i] = if b.is_ascii_uppercase() {
            Traits::UPPER
        } else if b.is_ascii_lowercase() {
            Traits::LOWER
        } else if b.is_ascii_digit() {
            Traits::SCANNABLE
        } else {
            0
        } | if base64 { 0 } else { Traits::NOT_BASE64 }
            | if word { 0 } else { Traits::NOT_WORD };
        i += 1;
    }
    t[b'-' as usize] |= Traits::DASH;
    t[b'_' as usize] |= Traits::UNDERSCORE;
    t[b'@' as usize] |= Traits::SCANNABLE | Traits::AT;
    t[b':' as usize] |= Traits::COLON;
    t[b'+' as usize] |= Traits::PLUS;
    t[b'%' as usize] |= Traits::PERCENT | Traits::SCANNABLE;
    t[b'=' as usize] |= Traits::EQUALS;
    t[b' ' as usize] |= Traits::SPACE | Traits::WHITESPACE;
    t[b'\t' as usize] |= Traits::WHITESPACE;
    t[b'\n' as usize] |= Traits::WHITESPACE;
    t[0x0c] |= Traits::WHITESPACE;
    t[b'\r' as usize] |= Traits::WHITESPACE;
    t[b'{' as usize] |= Traits::BRACKET;
    t[b'[' as usize] |= Traits::BRACKET;
    t[b'&' as usize] |= Traits::AMP;
    t
};

/// Per-call state: findings so far, block flag, remaining decode budget.
pub(crate) struct Run<'p> {
    pub(crate) profile: &'p Profile,
    pub(crate) findings: Vec<Finding>,
    pub(crate) blocked: bool,
    budget: usize,
}

/// A point in a [`Run`] to go back to ([`Run::mark`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RunMark {
    findings: usize,
    blocked: bool,
    budget: usize,
}

impl<'p> Run<'p> {
    pub(crate) fn new(profile: &'p Profile) -> Run<'p> {
        Run {
            profile,
            findings: Vec::new(),
            blocked: false,
            budget: profile.limits.max_expansion_bytes,
        }
    }

    /// Turns the run into an outcome given the rewritten bytes (if any).
    pub(crate) fn finish(self, output: Option<Vec<u8>>) -> Outcome {
        if self.blocked {
            return Outcome::Blocked {
                findings: self.findings,
            };
        }
        match output {
            Some(output) if !self.findings.is_empty() => Outcome::Redacted {
                output,
                findings: self.findings,
            },
            _ => Outcome::Clean,
        }
    }

    /// Decoded bytes charged against the expansion budget so far.
    pub(crate) fn spent(&self) -> usize {
        self.profile.limits.max_expansion_bytes - self.budget
    }

    /// Where the run stands (findings, block, budget), to [`Run::rewind`] to.
    pub(crate) fn mark(&self) -> RunMark {
        RunMark {
            findings: self.findings.len(),
            blocked: self.blocked,
            budget: self.budget,
        }
    }

    /// Forgets everything found and spent since `mark`.
    pub(crate) fn rewind(&mut self, mark: RunMark) {
        self.findings.truncate(mark.findings);
        self.blocked = mark.blocked;
        self.budget = mark.budget;
    }

    /// Charges `n` decoded bytes against the expansion budget.
    pub(crate) fn spend(&mut self, n: usize) -> Result<(), UnscannableReason> {
        self.budget = self
            .budget
            .checked_sub(n)
            .ok_or(UnscannableReason::ExpansionBudget)?;
        Ok(())
    }

    fn action(&self, ty: PhiType) -> Action {
        self.profile.action_for(ty)
    }

    /// Records a finding and returns its action.
    pub(crate) fn record(
        &mut self,
        ty: PhiType,
        r: &Range<usize>,
        origin: &Origin,
        field: &Field<'_>,
    ) -> Action {
        let (range, encoding) = origin.map(r);
        let action = self.action(ty);
        if action == Action::Block {
            self.blocked = true;
        }
        self.findings.push(Finding {
            phi_type: ty,
            range,
            key_path: field.path.render(),
            action,
            encoding,
        });
        action
    }

    /// Scans a value (whose traits are `traits`) with the text scanner,
    /// honouring the cheap pre-check.
    pub(crate) fn scan(
        &self,
        v: &[u8],
        traits: Traits,
        key: Option<KeyClass>,
        hits: &mut Vec<Hit>,
    ) {
        if self.scan_skips(v, traits) {
            return;
        }
        self.profile.scanner.scan(v, ScanCtx { key }, hits);
    }

    /// Redacts one field value (already decoded at the current layer).
    /// `None` = nothing found; `Drop` = remove the field.
    pub(crate) fn value(
        &mut self,
        v: &[u8],
        field: &Field<'_>,
        origin: &Origin,
        depth: u8,
    ) -> Result<Option<Edit>, UnscannableReason> {
        self.value_with_traits(v, Traits::of(v), field, origin, depth)
    }

    /// [`Run::value`] for a caller that already knows the value's traits
    /// (walkers gather them while splitting the input).
    pub(crate) fn value_with_traits(
        &mut self,
        v: &[u8],
        traits: Traits,
        field: &Field<'_>,
        origin: &Origin,
        depth: u8,
    ) -> Result<Option<Edit>, UnscannableReason> {
        if depth > self.profile.limits.max_decode_depth {
            return Err(UnscannableReason::DecodeDepth);
        }
        if field.key.is_none() && self.inert(v, traits) {
            return Ok(None);
        }
        let t = v.trim_ascii();
        if t.is_empty() || action::is_marker(t) {
            return Ok(None);
        }
        if let Some(KeyClass::Builtin(kt)) = field.key {
            if let Some(ty) = self.keyed_whole(kt, t) {
                return Ok(Some(self.whole(ty, v, origin, field)));
            }
        }
        let first = t[0];
        if (first == b'{' && t.ends_with(b"}")) || (first == b'[' && t.ends_with(b"]")) {
            let nested = origin.decoded(0..v.len(), Encoding::NestedJson);
            let prefix = field.path.to_prefix();
            match json::walk(self, v, &nested, &prefix, depth + 1) {
                Ok(out) => return Ok(out.map(Edit::Replace)),
                Err(json::WalkError::Unscannable(r)) => return Err(r),
                Err(json::WalkError::Malformed) => {}
            }
        }
        let plus = plus_encoded(v, traits);
        if plus || (traits.has(Traits::PERCENT) && codec::has_percent_escape(v)) {
            let decoded = codec::percent_decode(v, plus);
            self.spend(decoded.len())?;
            let inner = origin.decoded(0..v.len(), Encoding::Percent);
            return Ok(match self.value(&decoded, field, &inner, depth + 1)? {
                Some(Edit::Replace(b)) => {
                    let mut out = Vec::with_capacity(b.len() + 8);
                    codec::percent_reencode(v, plus, &b, &mut out);
                    Some(Edit::Replace(out))
                }
                other => other,
            });
        }
        if traits.may_be_base64(v) && codec::looks_like_base64(t) {
            if let Some(decoded) = codec::base64_text(t) {
                self.spend(decoded.len())?;
                let before = self.findings.len();
                let inner = origin.decoded(0..v.len(), Encoding::Base64);
                let edit = self.value(&decoded, field, &inner, depth + 1)?;
                if let Some(found) = self.findings.get(before) {
                    let ty = found.phi_type;
                    return Ok(Some(match edit {
                        Some(Edit::Drop) => Edit::Drop,
                        _ => self.render_edit(ty, t),
                    }));
                }
                return Ok(None);
            }
        }
        if let Some(q) = embedded_query(v, traits) {
            return self.value_with_query(v, q, field, origin, depth);
        }
        self.value_text(v, traits, field, origin)
    }

    /// Whether an unkeyed value with these traits comes out of
    /// [`Run::value`] unchanged without looking at it further: nothing to
    /// decode (`+`, `%`), no nested JSON (`{`, `[`) or query (`=`), no
    /// base64 by its traits ([`Traits::may_be_base64`]: too short, one
    /// letter case only, or a byte no blob holds, such as a space or a
    /// `.`), and the scanner's pre-check skips it (no digit,
    /// `@`, `%` or `:` and shorter than any pattern that needs none — never
    /// true with custom detectors or the prefilters off). The same
    /// decisions `value` takes step by step, answered from the traits alone.
    /// Also inert: a number token (digits joined by single `.`, `-`, `/`;
    /// traits: digits only) in which the scanner can hit nothing outside a
    /// field ([`Scanner::skips_number_token`](crate::detect::Scanner::skips_number_token)):
    /// with no letter it is no base64 either. And a word token under 16
    /// bytes or in one letter case (ASCII letters, digits and `_`, not
    /// digits alone: `45je3b10`) in which no pattern can match
    /// ([`Scanner::skips_word_token`](crate::detect::Scanner::skips_word_token)).
    #[inline(always)]
    pub(crate) fn inert(&self, v: &[u8], traits: Traits) -> bool {
        if traits.has(Traits::PLUS | Traits::PERCENT | Traits::EQUALS | Traits::BRACKET) {
            return false;
        }
        let base64 = traits.may_be_base64(v);
        (!base64 && self.scan_skips(v, traits))
            || (traits.steering_is(Traits::SCANNABLE) && self.profile.scanner.skips_number_token(v))
            || (traits.0 & (Traits::STEERING | Traits::NOT_WORD) & !Traits::SCANNABLE == 0
                && traits.has(Traits::UPPER | Traits::LOWER | Traits::UNDERSCORE)
                && !base64
                && (self.profile.scanner).skips_word_bytes(v, traits.has(Traits::DASH)))
    }

    /// Whether [`Run::scan`] skips `v` (whose traits are `traits`) without
    /// running the scanner: no digit, `@` or `%`, too few `:` for IPv6,
    /// and too short for a pattern that needs none of them, or without a
    /// byte every match of such a pattern holds
    /// ([`Traits::digitless_hits_need`]), or without a word where one can
    /// start ([`Scanner::skips_digitless`]); or shorter than any hit.
    #[inline]
    pub(crate) fn scan_skips(&self, v: &[u8], traits: Traits) -> bool {
        let scanner = &self.profile.scanner;
        let digitless = !traits.has(Traits::SCANNABLE)
            && (!traits.has(Traits::COLON) || !detect::may_hold_ipv6(v));
        (digitless
            && (!scanner.may_hit_without_digits(v.len())
                || (self.profile.digitless_hits_need).is_some_and(|need| !traits.has(need))
                || scanner.skips_digitless(v)))
            || self.too_short(v, traits)
    }

    /// Whether `v` (whose traits are `traits`) is shorter than any hit the
    /// scanner could find in it (no `@`, `%` or `:`, and shorter than
    /// every pattern's shortest match: `v=2`, `sct=4`); never with custom
    /// detectors or the prefilters off.
    #[inline]
    fn too_short(&self, v: &[u8], traits: Traits) -> bool {
        v.len() < self.profile.plain_min_len
            && !traits.has(Traits::AT | Traits::PERCENT | Traits::COLON)
    }

    /// Text-scans a value; any hit with `drop` drops the field.
    fn value_text(
        &mut self,
        v: &[u8],
        traits: Traits,
        field: &Field<'_>,
        origin: &Origin,
    ) -> Result<Option<Edit>, UnscannableReason> {
        let mut hits = Vec::new();
        self.scan(v, traits, field.key, &mut hits);
        if hits.is_empty() {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(v.len() + 16);
        let mut cursor = 0;
        let mut drop = false;
        for h in &hits {
            let action = self.record(h.ty, &h.range, origin, field);
            out.extend_from_slice(&v[cursor..h.range.start]);
            drop |= action == Action::Drop;
            self.render(h.ty, &v[h.range.clone()], &mut out);
            cursor = h.range.end;
        }
        out.extend_from_slice(&v[cursor..]);
        Ok(Some(if drop { Edit::Drop } else { Edit::Replace(out) }))
    }

    /// A value holding a URL or query string: walk the query part, scan the
    /// head before it and redact the fragment after it (`#…`, which can hold
    /// anything a value can: `#email=…`, `#access_token=…`) as a value.
    fn value_with_query(
        &mut self,
        v: &[u8],
        q: Range<usize>,
        field: &Field<'_>,
        origin: &Origin,
        depth: u8,
    ) -> Result<Option<Edit>, UnscannableReason> {
        let head_bytes = &v[..q.start];
        let head_traits = Traits::of(head_bytes);
        // Most heads (`https://shop.example/p?`) are passed over by the
        // scanner's pre-check, asked here in line.
        let head = if self.scan_skips(head_bytes, head_traits) {
            None
        } else {
            self.value_text(head_bytes, head_traits, field, origin)?
        };
        if head == Some(Edit::Drop) {
            return Ok(Some(Edit::Drop));
        }
        let walked = query::walk_under(
            self,
            &v[q.clone()],
            &origin.shift(q.start),
            &field.path,
            depth + 1,
        )?;
        // `embedded_query` ends the query at a `#` or at the end.
        let fragment = match v.get(q.end + 1..) {
            Some(f) if !f.is_empty() => self.value(f, field, &origin.shift(q.end + 1), depth)?,
            _ => None,
        };
        if fragment == Some(Edit::Drop) {
            return Ok(Some(Edit::Drop));
        }
        if head.is_none() && walked.is_none() && fragment.is_none() {
            return Ok(None);
        }
        let mut out = Vec::with_capacity(v.len() + 16);
        match head {
            Some(Edit::Replace(h)) => out.extend_from_slice(&h),
            _ => out.extend_from_slice(&v[..q.start]),
        }
        match walked {
            Some(w) => out.extend_from_slice(&w),
            None => out.extend_from_slice(&v[q.clone()]),
        }
        match fragment {
            Some(Edit::Replace(f)) => {
                out.push(b'#');
                out.extend_from_slice(&f);
            }
            _ => out.extend_from_slice(&v[q.end..]),
        }
        Ok(Some(Edit::Replace(out)))
    }

    /// Records a whole-value finding and returns its edit.
    fn whole(&mut self, ty: PhiType, v: &[u8], origin: &Origin, field: &Field<'_>) -> Edit {
        let action = self.record(ty, &(0..v.len()), origin, field);
        if action == Action::Drop {
            return Edit::Drop;
        }
        self.render_edit(ty, v.trim_ascii())
    }

    fn render_edit(&self, ty: PhiType, v: &[u8]) -> Edit {
        if self.action(ty) == Action::Drop {
            return Edit::Drop;
        }
        let mut out = Vec::with_capacity(24);
        self.render(ty, v, &mut out);
        Edit::Replace(out)
    }

    /// Writes the replacement for `value` of type `ty` (nothing for `drop`).
    pub(crate) fn render(&self, ty: PhiType, value: &[u8], out: &mut Vec<u8>) {
        action::render(self.profile, ty, self.action(ty), value, out);
    }

    /// Whole-value rules for a keyed field: which type the whole value is, if any.
    fn keyed_whole(&self, kt: PhiType, t: &[u8]) -> Option<PhiType> {
        if validate::sha256_hex(t) && self.profile.enabled(PhiType::HashedId) {
            return Some(PhiType::HashedId);
        }
        let digits = t.iter().filter(|b| b.is_ascii_digit()).count();
        let only = |allowed: &[u8]| t.iter().all(|b| b.is_ascii_digit() || allowed.contains(b));
        let hit = match kt {
            PhiType::PersonName => t.iter().any(|b| b.is_ascii_alphabetic() || *b >= 0x80),
            PhiType::StreetAddress => t.iter().any(u8::is_ascii_alphanumeric),
            PhiType::Mrn | PhiType::InsuranceId | PhiType::Passport | PhiType::DriverLicense => {
                // An identifier, not a URL or sentence that happens to sit there.
                (3..=32).contains(&t.len())
                    && digits >= 1
                    && t.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            }
            PhiType::DateOfBirth => {
                let date_part = t.split(|&b| b == b'T').next().unwrap_or(t);
                validate::any_date(t) || validate::any_date(date_part)
            }
            PhiType::Phone => only(b" +().-") && validate::phone(t),
            PhiType::Ssn => only(b" -") && validate::ssn(t),
            PhiType::Npi => only(b"") && validate::npi(t),
            PhiType::Mbi => validate::mbi(t),
            PhiType::Zip => validate::zip(t),
            PhiType::Icd10 => {
                let mut codes = t
                    .split(|&b| matches!(b, b',' | b';' | b' ' | b'|'))
                    .filter(|c| !c.is_empty())
                    .peekable();
                codes.peek().is_some() && codes.all(validate::icd10)
            }
            _ => false,
        };
        hit.then_some(kt)
    }
}

/// `a+b`: spaces encoded as `+` by an inner form encoding (no real spaces,
/// and a `+` after an alphanumeric, before a word character). Not with a
/// literal `@`: a form encoding would have escaped it, and the `+` is then
/// most likely an address's own (`jane+smith@example.com`, which read with
/// a space would leave `jane` in front of the masked `smith@…`).
fn plus_encoded(v: &[u8], traits: Traits) -> bool {
    traits.has(Traits::PLUS)
        && !traits.has(Traits::SPACE | Traits::AT)
        && memchr::memchr_iter(b'+', v).any(|i| {
            i > 0
                && i + 1 < v.len()
                && v[i - 1].is_ascii_alphanumeric()
                && (v[i + 1].is_ascii_alphanumeric()
                    || matches!(v[i + 1], b'-' | b'_' | b'.' | b'(' | b'~'))
        })
}

/// The query part of a value that is a URL with a query (`https://x/?a=b`) or a
/// bare `k=v&k2=v2` string; `None` for anything else. The first `?`, `#`
/// or `=` decides: a `?` starts the query (up to a `#`); an `=` makes the
/// value a bare query if its key is one and no `?` follows before a `#`;
/// a `#` first leaves neither.
fn embedded_query(v: &[u8], traits: Traits) -> Option<Range<usize>> {
    if !traits.has(Traits::EQUALS) || traits.has(Traits::WHITESPACE) {
        return None;
    }
    let first = codec::find3(b'?', b'#', b'=', v)?;
    let after = first + 1;
    match v[first] {
        b'?' => Some(after..codec::find(b'#', &v[after..]).map_or(v.len(), |h| after + h)),
        b'=' => {
            let end = match codec::find2(b'?', b'#', &v[after..]) {
                Some(i) if v[after + i] == b'?' => return None,
                Some(i) => after + i,
                None => v.len(),
            };
            let key_ok = first > 0
                && v[..first].iter().all(|&b| {
                    b.is_ascii_alphanumeric()
                        || matches!(b, b'_' | b'-' | b'.' | b'[' | b']' | b'%')
                });
            key_ok.then_some(0..end)
        }
        _ => None,
    }
}

/// Runs `f` with a fresh [`Run`] and converts bounds errors to an outcome.
pub(crate) fn run_with<F>(profile: &Profile, len: usize, f: F) -> Outcome
where
    F: FnOnce(&mut Run<'_>) -> Result<Option<Vec<u8>>, UnscannableReason>,
{
    if len > profile.limits.max_input_bytes {
        return Outcome::Unscannable {
            reason: UnscannableReason::TooLarge,
        };
    }
    let mut run = Run::new(profile);
    match f(&mut run) {
        Ok(out) => run.finish(out),
        Err(reason) => Outcome::Unscannable { reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_traits_follow_their_definitions() {
        for b in 0..=u8::MAX {
            let t = Traits::of(&[b]);
            let word = b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
            assert_eq!(t.has(Traits::NOT_WORD), !word, "{b}");
            assert_eq!(t.has(Traits::DASH), b == b'-', "{b}");
            assert_eq!(t.has(Traits::UNDERSCORE), b == b'_', "{b}");
            assert_eq!(t.has(Traits::UPPER), b.is_ascii_uppercase(), "{b}");
            assert_eq!(t.has(Traits::LOWER), b.is_ascii_lowercase(), "{b}");
            assert_eq!(
                t.has(Traits::SCANNABLE),
                b.is_ascii_digit() || matches!(b, b'@' | b'%'),
                "{b}"
            );
            assert_eq!(t.has(Traits::COLON), b == b':', "{b}");
            assert_eq!(
                t.has(Traits::NOT_BASE64),
                !(word || matches!(b, b'+' | b'/' | b'=')),
                "{b}"
            );
        }
    }

    /// [`embedded_query`] as first written: one search per byte it asks about.
    fn embedded_query_reference(v: &[u8], traits: Traits) -> Option<Range<usize>> {
        if !traits.has(Traits::EQUALS) || traits.has(Traits::WHITESPACE) {
            return None;
        }
        let eq = v.iter().position(|&b| b == b'=')?;
        let end = v.iter().position(|&b| b == b'#').unwrap_or(v.len());
        if let Some(qm) = v[..end].iter().position(|&b| b == b'?') {
            return (qm < eq).then_some(qm + 1..end);
        }
        let key_ok = eq > 0
            && v[..eq].iter().all(|&b| {
                b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']' | b'%')
            });
        key_ok.then_some(0..end)
    }

    /// The built-in patterns that can hit without a digit are the secrets
    /// (`AKIA…`, `sk_live_…`, `shpat_…`, `eyJ…`, `Bearer …`): a digit-free
    /// value holds one only with an upper-case letter, a `_` or a space
    /// or tab. A digit-free URL (`https://shop.example/running-shoes`) is
    /// passed over without a look for keyword starts, and the secrets are
    /// still found.
    #[test]
    fn digit_free_values_need_what_the_digit_free_patterns_hold() {
        let profile = Profile::builtin_default();
        assert_eq!(
            profile.digitless_hits_need,
            Some(Traits::UPPER | Traits::UNDERSCORE | Traits::SPACE | Traits::WHITESPACE)
        );
        assert_eq!(profile.without_prefilters().digitless_hits_need, None);
        let run = Run::new(&profile);
        let url = b"https://shop.example/products/running-shoes-and-more";
        assert!(run.scan_skips(url, Traits::of(url)));
        for secret in [
            "AKIAABCDEFGHIJKLMNOP",
            "sk_live_abcdefghijklmnopqrstuv",
            "shpat_abcdefabcdefabcdefabcdefabcdefab",
            "bearer abcdefghijklmnopqrstuvwxyz",
            "Bearer\tabcdefghijklmnopqrstuvwxyz",
        ] {
            let text = format!("see https://shop.example/x {secret} here");
            assert!(
                !profile.redact_text(text.as_bytes()).findings().is_empty(),
                "{secret}"
            );
            let json = format!("{{\"note\":\"{}\"}}", secret.replace('\t', "\\t"));
            assert!(
                !profile.redact_json(json.as_bytes()).findings().is_empty(),
                "{secret}"
            );
        }
    }

    #[test]
    fn embedded_queries_of_urls_and_bare_queries() {
        let q = |v: &str| embedded_query(v.as_bytes(), Traits::of(v.as_bytes()));
        assert_eq!(q("https://x.example/p?variant=4412#top"), Some(20..32));
        assert_eq!(q("a=1&b=2"), Some(0..7));
        assert_eq!(q("ep.x[0]=1#frag"), Some(0..9));
        assert_eq!(q("a=1?b=2"), None);
        assert_eq!(q("#a=1"), None);
        assert_eq!(q("https://x.example/a=b"), None);
        assert_eq!(q("no query"), None);
    }

    proptest::proptest! {
        /// One search for the first `?`, `#` or `=` decides as the three did.
        #[test]
        fn embedded_query_equals_its_reference(
            v in proptest::string::string_regex("[ab_.%/:?#= -]{0,40}").unwrap(),
        ) {
            let v = v.as_bytes();
            let t = Traits::of(v);
            proptest::prop_assert_eq!(embedded_query(v, t), embedded_query_reference(v, t));
        }

        /// `may_be_base64`'s "no" is exact.
        #[test]
        fn traits_rule_out_base64_only_when_it_is_not(
            v in proptest::string::string_regex("[ \t]?[A-Za-z0-9+/_=. -]{10,30}[ \t]?").unwrap(),
        ) {
            let v = v.as_bytes();
            if !Traits::of(v).may_be_base64(v) {
                proptest::prop_assert!(!codec::looks_like_base64(v.trim_ascii()));
            }
        }
    }
}
