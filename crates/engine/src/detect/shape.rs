//! Static facts about what a pattern can match, read off its syntax tree at
//! compile time: how short a match can be, how many digits it needs, which
//! bytes it must contain and which bytes it can start with.
//!
//! The scanner's gates rely on these facts to skip haystacks that provably
//! hold no match; deriving them from the regexes keeps the gates right when a
//! pattern or a keyword list changes.

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind, Look};

use crate::error::EngineError;

/// What every match of a pattern looks like.
#[derive(Clone, Debug)]
pub struct Shape {
    /// Fewest bytes in a match.
    pub min_len: usize,
    /// Fewest ASCII digits in a match.
    pub min_digits: usize,
    /// Bytes every match contains.
    required: [bool; 256],
    /// Byte sets every match holds a byte of, one set for each of its
    /// mandatory literal bytes and classes (`[ \t]` of `bearer[ \t]+`), at
    /// most [`MAX_ANY_OF`], the smallest sets kept.
    any_of: Vec<ByteSet>,
    /// Bytes a non-empty match can start with.
    pub first: [bool; 256],
}

/// How many byte sets a [`Shape`] keeps in `any_of`: dropping one only
/// loses a fact, never makes one wrong.
const MAX_ANY_OF: usize = 16;

/// A set of bytes, one bit each: unions and compares of the sets in
/// [`Shape::any_of`] are four word operations (profiles are compiled at
/// every config reload, and in debug builds by the tests).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ByteSet([u64; 4]);

impl ByteSet {
    /// The set of the bytes `b` for which `f(b)` holds.
    fn from_fn(f: impl Fn(u8) -> bool) -> ByteSet {
        let mut set = ByteSet::default();
        for b in (0..=u8::MAX).filter(|&b| f(b)) {
            set.0[usize::from(b >> 6)] |= 1 << (b & 63);
        }
        set
    }

    /// Whether `b` is in the set.
    pub fn contains(&self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] >> (b & 63) & 1 != 0
    }

    /// The bytes in the set, in order.
    pub fn bytes(&self) -> impl Iterator<Item = u8> + '_ {
        (0..=u8::MAX).filter(|&b| self.contains(b))
    }

    fn union(&self, other: &ByteSet) -> ByteSet {
        ByteSet(std::array::from_fn(|i| self.0[i] | other.0[i]))
    }

    fn len(&self) -> u32 {
        self.0.iter().map(|w| w.count_ones()).sum()
    }
}

/// Adds `set` to `sets` unless it is there; keeps the `MAX_ANY_OF` smallest.
fn add_any_of(sets: &mut Vec<ByteSet>, set: ByteSet) {
    if sets.contains(&set) {
        return;
    }
    sets.push(set);
    if sets.len() > MAX_ANY_OF {
        sets.sort_by_key(ByteSet::len);
        sets.truncate(MAX_ANY_OF);
    }
}

impl Shape {
    /// A punctuation byte every match contains, if any (space first: it is
    /// what street addresses need and short field values rarely have).
    pub fn required_punct(&self) -> Option<u8> {
        if self.required[usize::from(b' ')] {
            return Some(b' ');
        }
        (0..=255u8).find(|&b| self.required[usize::from(b)] && b.is_ascii_punctuation())
    }

    /// Byte sets every match holds a byte of: a match holds a byte of
    /// each (none: nothing is known).
    pub fn any_of(&self) -> &[ByteSet] {
        &self.any_of
    }

    fn empty() -> Shape {
        Shape {
            min_len: 0,
            min_digits: 0,
            required: [false; 256],
            any_of: Vec::new(),
            first: [false; 256],
        }
    }

    fn of_bytes(bytes: &[u8]) -> Shape {
        let mut s = Shape::empty();
        for &b in bytes {
            s.required[usize::from(b)] = true;
            add_any_of(&mut s.any_of, ByteSet::from_fn(|x| x == b));
        }
        if let Some(&b) = bytes.first() {
            s.first[usize::from(b)] = true;
        }
        s.min_len = bytes.len();
        s.min_digits = bytes.iter().filter(|b| b.is_ascii_digit()).count();
        s
    }

    /// One byte out of `class`.
    fn of_class(class: [bool; 256]) -> Shape {
        let members = class.iter().filter(|&&c| c).count();
        let all_digits = (0..=255u8).all(|b| !class[usize::from(b)] || b.is_ascii_digit());
        Shape {
            min_len: 1,
            min_digits: usize::from(members > 0 && all_digits),
            required: if members == 1 { class } else { [false; 256] },
            any_of: if members > 0 {
                vec![ByteSet::from_fn(|b| class[usize::from(b)])]
            } else {
                Vec::new()
            },
            first: class,
        }
    }

    /// Anything at all (for what the analysis does not model).
    fn opaque() -> Shape {
        Shape {
            first: [true; 256],
            ..Shape::empty()
        }
    }

    fn concat(mut self, next: &Shape) -> Shape {
        if self.min_len == 0 {
            for (a, b) in self.first.iter_mut().zip(next.first.iter()) {
                *a |= *b;
            }
        }
        self.min_len = self.min_len.saturating_add(next.min_len);
        self.min_digits = self.min_digits.saturating_add(next.min_digits);
        for (a, b) in self.required.iter_mut().zip(next.required.iter()) {
            *a |= *b;
        }
        for set in &next.any_of {
            add_any_of(&mut self.any_of, *set);
        }
        self
    }

    fn alternate(mut self, other: &Shape) -> Shape {
        self.min_len = self.min_len.min(other.min_len);
        self.min_digits = self.min_digits.min(other.min_digits);
        for (a, b) in self.required.iter_mut().zip(other.required.iter()) {
            *a &= *b;
        }
        // A match of either holds a byte of one of its sets: of their union.
        let mut any_of = Vec::new();
        for x in &self.any_of {
            for y in &other.any_of {
                add_any_of(&mut any_of, x.union(y));
            }
        }
        self.any_of = any_of;
        for (a, b) in self.first.iter_mut().zip(other.first.iter()) {
            *a |= *b;
        }
        self
    }

    fn repeat(sub: Shape, min: u32, max: Option<u32>) -> Shape {
        let min = min as usize;
        Shape {
            min_len: sub.min_len.saturating_mul(min),
            min_digits: sub.min_digits.saturating_mul(min),
            required: if min > 0 { sub.required } else { [false; 256] },
            any_of: if min > 0 { sub.any_of } else { Vec::new() },
            first: if max == Some(0) {
                [false; 256]
            } else {
                sub.first
            },
        }
    }

    /// The shape of a parsed pattern.
    pub fn of_hir(hir: &Hir) -> Shape {
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => Shape::empty(),
            HirKind::Literal(lit) => Shape::of_bytes(&lit.0),
            HirKind::Class(Class::Bytes(c)) => {
                let mut class = [false; 256];
                for r in c.ranges() {
                    for b in r.start()..=r.end() {
                        class[usize::from(b)] = true;
                    }
                }
                Shape::of_class(class)
            }
            // Patterns are compiled with Unicode off; a Unicode class here is
            // a code point of any kind.
            HirKind::Class(Class::Unicode(_)) => Shape::opaque(),
            HirKind::Repetition(r) => Shape::repeat(Shape::of_hir(&r.sub), r.min, r.max),
            HirKind::Capture(c) => Shape::of_hir(&c.sub),
            HirKind::Concat(subs) => subs
                .iter()
                .fold(Shape::empty(), |acc, h| acc.concat(&Shape::of_hir(h))),
            HirKind::Alternation(subs) => {
                let mut shapes = subs.iter().map(Shape::of_hir);
                let first = shapes.next().unwrap_or_else(Shape::empty);
                shapes.fold(first, |acc, s| acc.alternate(&s))
            }
        }
    }

    /// Parses `pattern` the way the scanner compiles it (bytes, Unicode off).
    pub fn of_pattern(pattern: &str) -> Result<Shape, EngineError> {
        Ok(Shape::of_hir(&parse(pattern)?))
    }
}

/// The literals every match of `hir` starts with, when it starts at an ASCII
/// word boundary with one of a few (at most 64) literals of at least three
/// bytes, each led by an ASCII letter (`\b(?:AKIA|ASIA)…`, `\beyJ…`): such
/// a pattern can only match at a word start where one of them begins.
pub fn word_led_prefixes(hir: &Hir) -> Option<Vec<Vec<u8>>> {
    let looks = hir.properties().look_set_prefix();
    if !(looks.contains(Look::WordAscii) || looks.contains(Look::WordStartAscii)) {
        return None;
    }
    let mut ex = Extractor::new();
    ex.kind(ExtractKind::Prefix).limit_total(64);
    let seq = ex.extract(hir);
    let lits = seq.literals()?;
    let ok = !lits.is_empty()
        && lits
            .iter()
            .all(|l| l.as_bytes().len() >= 3 && l.as_bytes()[0].is_ascii_alphabetic());
    ok.then(|| lits.iter().map(|l| l.as_bytes().to_vec()).collect())
}

/// Every byte a match of `hir` can contain: those of its literals and
/// classes (all of them for what the analysis does not model).
pub fn bytes_of(hir: &Hir) -> [bool; 256] {
    let mut set = [false; 256];
    add_bytes(hir, &mut set);
    set
}

fn add_bytes(hir: &Hir, set: &mut [bool; 256]) {
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => {}
        HirKind::Literal(lit) => lit.0.iter().for_each(|&b| set[usize::from(b)] = true),
        HirKind::Class(Class::Bytes(c)) => {
            for r in c.ranges() {
                (r.start()..=r.end()).for_each(|b| set[usize::from(b)] = true);
            }
        }
        HirKind::Class(Class::Unicode(_)) => *set = [true; 256],
        HirKind::Repetition(r) => add_bytes(&r.sub, set),
        HirKind::Capture(c) => add_bytes(&c.sub, set),
        HirKind::Concat(subs) | HirKind::Alternation(subs) => {
            subs.iter().for_each(|h| add_bytes(h, set));
        }
    }
}

/// How the matches of a pattern begin — or, read backwards, end — when
/// every byte they consume is in an alphabet: whether an ASCII word
/// boundary is asserted before the first byte, and which bytes can come
/// first. A superset throughout: what it says every match does, every
/// match does.
#[derive(Clone, Debug)]
pub struct Edge {
    /// Some match uses only bytes of the alphabet.
    pub matches: bool,
    /// Some such match is empty.
    pub empty: bool,
    /// Every empty match asserts a word boundary.
    empty_bounded: bool,
    /// Some such match is not empty.
    nonempty: bool,
    /// Every non-empty match asserts a word boundary before its first byte.
    pub bounded: bool,
    /// The first bytes of the non-empty matches.
    pub first: [bool; 256],
}

impl Edge {
    /// No match over the alphabet.
    const NEVER: Edge = Edge {
        matches: false,
        empty: false,
        empty_bounded: true,
        nonempty: false,
        bounded: true,
        first: [false; 256],
    };

    /// Only the empty match; `bounded` when it asserts a word boundary.
    fn empty(bounded: bool) -> Edge {
        Edge {
            matches: true,
            empty: true,
            empty_bounded: bounded,
            ..Edge::NEVER
        }
    }

    /// One byte of `class` (already within the alphabet).
    fn byte(class: [bool; 256]) -> Edge {
        if !class.contains(&true) {
            return Edge::NEVER;
        }
        Edge {
            matches: true,
            nonempty: true,
            bounded: false,
            first: class,
            ..Edge::NEVER
        }
    }

    /// The edge of `hir`'s matches over `alphabet`: their start, or with
    /// `backwards` their end (the first byte read from the end).
    pub fn of_hir(hir: &Hir, alphabet: &[bool; 256], backwards: bool) -> Edge {
        match hir.kind() {
            HirKind::Empty => Edge::empty(false),
            HirKind::Look(look) => Edge::empty(matches!(
                look,
                Look::WordAscii | Look::WordStartAscii | Look::WordEndAscii
            )),
            HirKind::Literal(lit) => {
                if !lit.0.iter().all(|&b| alphabet[usize::from(b)]) {
                    return Edge::NEVER;
                }
                let b = if backwards {
                    lit.0.last()
                } else {
                    lit.0.first()
                };
                let mut class = [false; 256];
                match b {
                    Some(&b) => class[usize::from(b)] = true,
                    None => return Edge::empty(false),
                }
                Edge::byte(class)
            }
            HirKind::Class(Class::Bytes(c)) => {
                let mut class = [false; 256];
                for r in c.ranges() {
                    for b in r.start()..=r.end() {
                        class[usize::from(b)] = alphabet[usize::from(b)];
                    }
                }
                Edge::byte(class)
            }
            // Not modelled (patterns are compiled with Unicode off): one
            // character, which may start with any byte of the alphabet.
            HirKind::Class(Class::Unicode(_)) => Edge::byte(*alphabet),
            HirKind::Capture(c) => Edge::of_hir(&c.sub, alphabet, backwards),
            HirKind::Repetition(r) => {
                let sub = Edge::of_hir(&r.sub, alphabet, backwards);
                if r.max == Some(0) || (!sub.matches && r.min == 0) {
                    return Edge::empty(false);
                }
                if !sub.matches {
                    return Edge::NEVER;
                }
                // The first non-empty iteration may follow empty ones, which
                // assert nothing the sub-pattern does not.
                Edge {
                    empty: r.min == 0 || sub.empty,
                    empty_bounded: r.min > 0 && sub.empty_bounded,
                    ..sub
                }
            }
            HirKind::Concat(subs) => {
                let edges = subs.iter().map(|h| Edge::of_hir(h, alphabet, backwards));
                if backwards {
                    edges.rev().fold(Edge::empty(false), Edge::then)
                } else {
                    edges.fold(Edge::empty(false), Edge::then)
                }
            }
            HirKind::Alternation(subs) => subs
                .iter()
                .map(|h| Edge::of_hir(h, alphabet, backwards))
                .fold(Edge::NEVER, Edge::or),
        }
    }

    /// `self` followed by `next`.
    fn then(self, next: Edge) -> Edge {
        if !self.matches || !next.matches {
            return Edge::NEVER;
        }
        // Non-empty matches either start in `self`, or pass `self` empty
        // and start in `next`.
        let through = self.empty && next.nonempty;
        let mut first = [false; 256];
        for (b, f) in first.iter_mut().enumerate() {
            *f = (self.nonempty && self.first[b]) || (through && next.first[b]);
        }
        Edge {
            matches: true,
            empty: self.empty && next.empty,
            empty_bounded: self.empty_bounded || next.empty_bounded,
            nonempty: self.nonempty || next.nonempty,
            bounded: (!self.nonempty || self.bounded)
                && (!through || self.empty_bounded || next.bounded),
            first,
        }
    }

    /// `self` or `other`.
    fn or(self, other: Edge) -> Edge {
        if !self.matches {
            return other;
        }
        if !other.matches {
            return self;
        }
        let mut first = self.first;
        for (f, o) in first.iter_mut().zip(other.first) {
            *f |= o;
        }
        Edge {
            matches: true,
            empty: self.empty || other.empty,
            empty_bounded: (!self.empty || self.empty_bounded)
                && (!other.empty || other.empty_bounded),
            nonempty: self.nonempty || other.nonempty,
            bounded: (!self.nonempty || self.bounded) && (!other.nonempty || other.bounded),
            first,
        }
    }

    /// Whether every match over the alphabet is non-empty, asserts a word
    /// boundary before its first byte, and that byte is one `is_word`
    /// accepts: such a match starts where a word starts.
    pub fn at_word_edge(&self, is_word: impl Fn(u8) -> bool) -> bool {
        self.matches
            && !self.empty
            && self.bounded
            && (0..=u8::MAX).all(|b| !self.first[usize::from(b)] || is_word(b))
    }
}

/// The alternatives of `hir` spelled out: an alternation's branches, and
/// for a concatenation every choice of one branch per part
/// (`\b(?:a|b)c\b` → `\bac\b`, `\bbc\b`); an alternation's branches
/// as written, or else `hir` itself, when that would give more than
/// `limit`. Facts read off each branch are sharper
/// than those of the whole (which bytes a match holds, for instance).
pub fn branches(hir: &Hir, limit: usize) -> Vec<Hir> {
    let whole = || vec![hir.clone()];
    match hir.kind() {
        HirKind::Capture(c) => branches(&c.sub, limit),
        HirKind::Alternation(subs) => {
            let mut out = Vec::new();
            for sub in subs {
                out.extend(branches(sub, limit));
                if out.len() > limit {
                    // Too many spelled out: the branches as written.
                    return if subs.len() <= limit {
                        subs.clone()
                    } else {
                        whole()
                    };
                }
            }
            out
        }
        HirKind::Concat(subs) => {
            let mut acc: Vec<Vec<Hir>> = vec![Vec::new()];
            for sub in subs {
                let options = branches(sub, limit);
                if acc.len() * options.len() > limit {
                    return whole();
                }
                acc = acc
                    .iter()
                    .flat_map(|parts| {
                        options.iter().map(move |o| {
                            let mut next = parts.clone();
                            next.push(o.clone());
                            next
                        })
                    })
                    .collect();
            }
            acc.into_iter().map(Hir::concat).collect()
        }
        _ => whole(),
    }
}

/// Parses `pattern` the way the scanner compiles it (bytes, Unicode off).
pub fn parse(pattern: &str) -> Result<Hir, EngineError> {
    let config = regex_automata::util::syntax::Config::new()
        .unicode(false)
        .utf8(false);
    regex_automata::util::syntax::parse_with(pattern, &config)
        .map_err(|e| EngineError::Internal(e.to_string()))
}

/// A set of match lengths below 128 (longer ones are left out: the
/// haystacks asked about are shorter).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LenSet(u128);

impl LenSet {
    /// No length.
    pub const EMPTY: LenSet = LenSet(0);
    /// Only the empty match.
    const ZERO: LenSet = LenSet(1);
    /// Every length (for what the analysis does not model).
    const ANY: LenSet = LenSet(u128::MAX);

    /// Whether `n` is in the set.
    pub fn contains(self, n: usize) -> bool {
        n < 128 && (self.0 >> n) & 1 == 1
    }

    /// The least length in the set.
    pub fn min(self) -> Option<usize> {
        (self.0 != 0).then(|| self.0.trailing_zeros() as usize)
    }

    /// Lengths in either set.
    pub fn union(self, other: LenSet) -> LenSet {
        LenSet(self.0 | other.0)
    }

    /// Sums of a length from each set.
    fn plus(self, other: LenSet) -> LenSet {
        let mut out = 0u128;
        let mut a = self.0;
        while a != 0 {
            out |= other.0 << a.trailing_zeros();
            a &= a - 1;
        }
        LenSet(out)
    }

    /// The lengths of the matches of `hir` that consist only of bytes in
    /// `alphabet` (look-arounds are taken to hold: a superset).
    pub fn of_hir(hir: &Hir, alphabet: &[bool; 256]) -> LenSet {
        match hir.kind() {
            HirKind::Empty | HirKind::Look(_) => LenSet::ZERO,
            HirKind::Literal(lit) => {
                if lit.0.iter().all(|&b| alphabet[usize::from(b)]) && lit.0.len() < 128 {
                    LenSet(1 << lit.0.len())
                } else {
                    LenSet::EMPTY
                }
            }
            HirKind::Class(Class::Bytes(c)) => {
                let any = c
                    .ranges()
                    .iter()
                    .any(|r| (r.start()..=r.end()).any(|b| alphabet[usize::from(b)]));
                if any {
                    LenSet(1 << 1)
                } else {
                    LenSet::EMPTY
                }
            }
            HirKind::Class(Class::Unicode(_)) => LenSet::ANY,
            HirKind::Repetition(r) => {
                let sub = LenSet::of_hir(&r.sub, alphabet);
                let mut acc = LenSet::ZERO;
                for _ in 0..r.min.min(128) {
                    acc = acc.plus(sub);
                }
                let mut out = acc;
                let extra = r.max.map_or(128, |m| m.saturating_sub(r.min).min(128));
                for _ in 0..extra {
                    let next = acc.plus(sub);
                    if next == acc || next == LenSet::EMPTY {
                        break;
                    }
                    acc = next;
                    out = out.union(acc);
                }
                out
            }
            HirKind::Capture(c) => LenSet::of_hir(&c.sub, alphabet),
            HirKind::Concat(subs) => subs
                .iter()
                .fold(LenSet::ZERO, |acc, h| acc.plus(LenSet::of_hir(h, alphabet))),
            HirKind::Alternation(subs) => subs.iter().fold(LenSet::EMPTY, |acc, h| {
                acc.union(LenSet::of_hir(h, alphabet))
            }),
        }
    }
}

/// The shortest haystack without `@`, `%` or `:` in which `scanner` can
/// hit: e-mail needs `@` or `%`, IPv6 needs `:`, and every other hit is a
/// match of a group's pattern, at least as long as that pattern's shortest
/// match (see `Group::needs`). 0 (skip nothing) with custom detectors,
/// which are not gated, or with the prefilters off. Walkers skip tiny
/// values (`v=2`, `sct=4`) with it before the scanner's summary.
pub fn shortest_plain_hit(scanner: &super::Scanner) -> usize {
    if !scanner.gated {
        return 0;
    }
    scanner
        .groups
        .iter()
        .flat_map(|g| &g.needs)
        .map(|n| n.len)
        .min()
        .unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(p: &str) -> Shape {
        Shape::of_pattern(p).unwrap()
    }

    #[test]
    fn lengths_digits_and_bytes() {
        let s = shape(r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b");
        assert_eq!((s.min_len, s.min_digits), (11, 9));
        assert_eq!(s.required_punct(), Some(b'-'));

        let s = shape(r"(?i:jan|september)\.?[ ][0-9]{1,2}");
        assert_eq!((s.min_len, s.min_digits), (5, 1));
        assert!(s.first[usize::from(b'S')] && s.first[usize::from(b'j')]);
        assert!(!s.first[usize::from(b'.')]);

        let s = shape(r"[A-Z]{2}[0-9]{7}|ab");
        assert_eq!((s.min_len, s.min_digits), (2, 0));

        let s = shape(r"(?:\+1)?\b(?:[0-9]|\(x)|,y");
        let first: Vec<u8> = (0..=255u8).filter(|&b| s.first[usize::from(b)]).collect();
        assert_eq!(first, b"(+,0123456789");

        assert_eq!(shape(r"[0-9]{1,6}[ ](?:x|y)").required_punct(), Some(b' '));
        assert_eq!(shape(r"[0-9]{1,6}(?:[ ]x|y)").required_punct(), None);
        assert_eq!(shape(r"a(?:-b)?c").required_punct(), None);
        assert_eq!(shape(r"(?:a-b|-c)").required_punct(), Some(b'-'));
    }

    #[test]
    fn byte_sets_every_match_holds_a_byte_of() {
        let sets = |p: &str| -> Vec<Vec<u8>> {
            let mut v: Vec<Vec<u8>> = shape(p)
                .any_of()
                .iter()
                .map(|set| set.bytes().collect())
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            sets(r"(?i:\bbearer)[ \t]+x"),
            [&b"\t "[..], b"Aa", b"Bb", b"Ee", b"Rr", b"x"].map(<[u8]>::to_vec)
        );
        // A byte of one of each side's sets: `k` is in both sides.
        assert_eq!(
            sets(r"(?:sk|rk)_"),
            [&b"_"[..], b"k", b"kr", b"ks", b"rs"].map(<[u8]>::to_vec)
        );
        // Optional parts and one-sided alternatives require nothing.
        assert_eq!(sets(r"a?(?:b|)"), Vec::<Vec<u8>>::new());
    }

    /// Bytes of ASCII letters, digits, `_` and `-`: the alphabet of word
    /// tokens.
    fn token_alphabet() -> [bool; 256] {
        let mut a = [false; 256];
        for b in 0..=u8::MAX {
            a[usize::from(b)] = b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
        }
        a
    }

    #[test]
    fn edges_over_an_alphabet() {
        let a = token_alphabet();
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        let edges = |p: &str| {
            let hir = parse(p).unwrap();
            (Edge::of_hir(&hir, &a, false), Edge::of_hir(&hir, &a, true))
        };
        // Bounded both ways; the last byte is a digit.
        let (start, end) = edges(r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b");
        assert!(start.at_word_edge(word) && end.at_word_edge(word));
        assert!(end.first[usize::from(b'7')] && !end.first[usize::from(b'-')]);
        // The phone pattern's `+1` and `(` alternatives need bytes outside
        // the alphabet: over it, every match starts at `\b`.
        let (start, end) = edges(
            r"(?:\+1[ .\-]?|\b1[ .\-])?(?:\([0-9]{3}\)[ .\-]?|\b[0-9]{3}[ .\-])[0-9]{3}[ .\-][0-9]{4}\b(?:[ ]?(?i:x|ext\.?|extension)[ ]?[0-9]{1,6}\b)?|\+1[0-9]{10}\b",
        );
        assert!(start.at_word_edge(word) && end.at_word_edge(word));
        // Over all bytes, it does not.
        let all = [true; 256];
        let hir = parse(r"(?:\+1)?\b[0-9]{3}").unwrap();
        assert!(!Edge::of_hir(&hir, &all, false).at_word_edge(word));
        // A keyword pattern ends in `[A-Za-z0-9\-]{3,24}\b`: a match may end
        // with `-` (before a word byte), so its end is no word edge.
        let (start, end) =
            edges(r"(?i:\b(?:mrn|chart number))[ \t:#=\-]+[A-Za-z0-9][A-Za-z0-9\-]{3,24}\b");
        assert!(start.at_word_edge(word) && !end.at_word_edge(word));
        assert!(start.first[usize::from(b'M')] && !start.first[usize::from(b'c')]);
        // Needs a space: no match over the alphabet.
        assert!(!edges(r"\b[0-9]{1,6}[ ][A-Z][a-z]+").0.matches);
        // An optional boundary does not bound; a boundary before an
        // optional part does.
        assert!(!edges(r"\b?[a-z]+").0.at_word_edge(word));
        assert!(edges(r"\b(?:x-)?[a-z]+").0.at_word_edge(word));
        assert!(!edges(r"(?:x\b)?[a-z]+").0.at_word_edge(word));
        assert!(!edges(r"\b[a-z]*").0.at_word_edge(word));
    }

    #[test]
    fn branches_spell_out_alternatives() {
        let shown = |p: &str, limit| -> Vec<String> {
            branches(&parse(p).unwrap(), limit)
                .iter()
                .map(|h| h.to_string())
                .collect()
        };
        assert_eq!(shown(r"\b(?:a|bc)d\b", 8).len(), 2);
        assert_eq!(shown(r"(?:aa|bb)(?:cc|dd)(?:ee|ff)", 8).len(), 8);
        // Over the limit: the pattern whole.
        assert_eq!(shown(r"(?:aa|bb)(?:cc|dd)(?:ee|ff)", 7).len(), 1);
        // An alternation too large to spell out keeps its branches as
        // written.
        assert_eq!(shown(r"(?:(?:aa|bb)(?:cc|dd)|ee|ff)", 4).len(), 3);
        // Repetitions are not spelled out.
        assert_eq!(shown(r"(?:a|b)+", 8).len(), 1);
        // The same matches: each branch's lengths are among the whole's.
        let hir = parse(r"\b(?:[0-9]{4}-[0-9]{2}|[a-z]{3}[ ][0-9])\b").unwrap();
        let all = [true; 256];
        let whole = LenSet::of_hir(&hir, &all);
        let parts = branches(&hir, 8)
            .iter()
            .fold(LenSet::EMPTY, |acc, b| acc.union(LenSet::of_hir(b, &all)));
        assert_eq!(whole, parts);
    }

    #[test]
    fn bytes_a_match_can_hold() {
        let bytes = |p: &str| -> Vec<u8> {
            let set = bytes_of(&parse(p).unwrap());
            (0..=255u8).filter(|&b| set[usize::from(b)]).collect()
        };
        assert_eq!(bytes(r"\b[0-9]{3}-?[0-9]{2}\b"), b"-0123456789");
        assert_eq!(bytes(r"(?:ab|c)+x?"), b"abcx");
        assert_eq!(bytes(r"\b").len(), 0);
    }

    #[test]
    fn word_led_literal_prefixes() {
        let lits = |p: &str| word_led_prefixes(&parse(p).unwrap());
        assert_eq!(
            lits(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
            Some(vec![b"AKIA".to_vec(), b"ASIA".to_vec()])
        );
        assert_eq!(lits(r"\beyJ[a-z]{8,}"), Some(vec![b"eyJ".to_vec()]));
        // No word boundary first, a digit lead, too short, too many.
        assert_eq!(lits(r"eyJ[a-z]{8,}"), None);
        assert_eq!(lits(r"\b(?:1ab|abc)x"), None);
        assert_eq!(lits(r"\b(?:ab|abc)"), None);
        assert_eq!(lits(r"\b[a-z]{4}x"), None);
        assert_eq!(lits(r"(?:\bab|x)yz"), None);
    }

    fn lengths(p: &str, alphabet: &[u8]) -> Vec<usize> {
        let mut set = [false; 256];
        for &b in alphabet {
            set[usize::from(b)] = true;
        }
        let l = LenSet::of_hir(&parse(p).unwrap(), &set);
        (0..128).filter(|&n| l.contains(n)).collect()
    }

    #[test]
    fn lengths_over_an_alphabet() {
        let digits = b"0123456789";
        assert_eq!(lengths(r"\b[0-9]{13,15}\b", digits), vec![13, 14, 15]);
        assert_eq!(lengths(r"[0-9]{3}-[0-9]{2}", digits), Vec::<usize>::new());
        assert_eq!(lengths(r"[0-9]{3}-[0-9]{2}", b"0123456789-"), vec![6]);
        assert_eq!(
            lengths(r"(?:[0-9]{1,2}\.){2}|x[0-9]", b"0123456789."),
            vec![4, 5, 6]
        );
        assert_eq!(lengths(r"1?[0-9]{10}", digits), vec![10, 11]);
        assert_eq!(lengths(r"(?:[0-9][0-9]?)*", digits).len(), 128);
        assert_eq!(lengths(r"[A-Z]+[0-9]", digits), Vec::<usize>::new());
    }
}
