//! Static facts about what a pattern can match, read off its syntax tree at
//! compile time: which bytes a match may contain, how short it can be, how
//! many digits it needs and how far its first digit can be from its start.
//!
//! The scanner's prefilters rely on these facts to skip text that provably
//! holds no match (see [`super::prefilter`]); deriving them from the regexes
//! keeps the prefilters right when a pattern or a keyword list changes.

use regex_syntax::hir::{Class, Hir, HirKind};

use crate::error::EngineError;

/// A length bound that may be absent (no such match) or unbounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bound {
    /// No match of this kind exists.
    Never,
    /// At most this many bytes.
    Fin(usize),
    /// Unbounded.
    Inf,
}

impl Bound {
    fn add(self, other: Bound) -> Bound {
        match (self, other) {
            (Bound::Never, _) | (_, Bound::Never) => Bound::Never,
            (Bound::Inf, _) | (_, Bound::Inf) => Bound::Inf,
            (Bound::Fin(a), Bound::Fin(b)) => Bound::Fin(a.saturating_add(b)),
        }
    }

    fn times(self, n: Option<u32>) -> Bound {
        match (self, n) {
            (Bound::Never, _) => Bound::Never,
            (_, Some(0)) | (Bound::Fin(0), _) => Bound::Fin(0),
            (_, None) | (Bound::Inf, _) => Bound::Inf,
            (Bound::Fin(a), Some(k)) => Bound::Fin(a.saturating_mul(k as usize)),
        }
    }
}

/// What every match of a pattern looks like.
#[derive(Clone, Debug)]
pub struct Shape {
    /// Bytes a match may contain (a match lies inside a run of these).
    pub class: [bool; 256],
    /// Fewest bytes in a match.
    pub min_len: usize,
    /// Fewest ASCII digits in a match.
    pub min_digits: usize,
    /// Longest match without any digit ([`Bound::Never`]: every match has one).
    no_digit: Bound,
    /// Most bytes before the first digit, over matches that have one.
    pub lead: Bound,
    /// Bytes every match contains.
    required: [bool; 256],
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

    /// Whether every match contains at least one ASCII digit.
    pub fn always_has_digit(&self) -> bool {
        self.no_digit == Bound::Never
    }

    fn empty() -> Shape {
        Shape {
            class: [false; 256],
            min_len: 0,
            min_digits: 0,
            no_digit: Bound::Fin(0),
            lead: Bound::Never,
            required: [false; 256],
        }
    }

    fn of_bytes(bytes: &[u8]) -> Shape {
        let mut s = Shape::empty();
        for &b in bytes {
            s.class[usize::from(b)] = true;
            s.required[usize::from(b)] = true;
        }
        s.min_len = bytes.len();
        s.min_digits = bytes.iter().filter(|b| b.is_ascii_digit()).count();
        match bytes.iter().position(u8::is_ascii_digit) {
            Some(i) => {
                s.no_digit = Bound::Never;
                s.lead = Bound::Fin(i);
            }
            None => s.no_digit = Bound::Fin(bytes.len()),
        }
        s
    }

    /// One byte out of `class`.
    fn of_class(class: [bool; 256]) -> Shape {
        let digit = (b'0'..=b'9').any(|b| class[usize::from(b)]);
        let other = (0..=255u8).any(|b| class[usize::from(b)] && !b.is_ascii_digit());
        let mut required = [false; 256];
        if class.iter().filter(|&&c| c).count() == 1 {
            required = class;
        }
        Shape {
            required,
            class,
            min_len: 1,
            min_digits: usize::from(digit && !other),
            no_digit: if other { Bound::Fin(1) } else { Bound::Never },
            lead: if digit { Bound::Fin(0) } else { Bound::Never },
        }
    }

    /// Anything at all, up to `max` bytes (used for what the analysis does not model).
    fn opaque(max: Bound) -> Shape {
        Shape {
            class: [true; 256],
            min_len: 0,
            min_digits: 0,
            no_digit: max,
            lead: match max {
                Bound::Fin(n) => Bound::Fin(n.saturating_sub(1)),
                other => other,
            },
            required: [false; 256],
        }
    }

    fn union_class(&mut self, other: &Shape) {
        for (a, b) in self.class.iter_mut().zip(other.class.iter()) {
            *a |= *b;
        }
    }

    fn concat(mut self, next: &Shape) -> Shape {
        self.union_class(next);
        self.min_len = self.min_len.saturating_add(next.min_len);
        self.min_digits = self.min_digits.saturating_add(next.min_digits);
        self.lead = self.lead.max(self.no_digit.add(next.lead));
        self.no_digit = self.no_digit.add(next.no_digit);
        for (a, b) in self.required.iter_mut().zip(next.required.iter()) {
            *a |= *b;
        }
        self
    }

    fn alternate(mut self, other: &Shape) -> Shape {
        self.union_class(other);
        self.min_len = self.min_len.min(other.min_len);
        self.min_digits = self.min_digits.min(other.min_digits);
        self.no_digit = self.no_digit.max(other.no_digit);
        self.lead = self.lead.max(other.lead);
        for (a, b) in self.required.iter_mut().zip(other.required.iter()) {
            *a &= *b;
        }
        self
    }

    fn repeat(sub: Shape, min: u32, max: Option<u32>) -> Shape {
        let min = min as usize;
        let no_digit = if max == Some(0) || min == 0 {
            sub.no_digit.times(max).max(Bound::Fin(0))
        } else {
            sub.no_digit.times(max)
        };
        // The first digit sits in some copy; all copies before it are digit-free.
        let before = match max {
            Some(0) => Bound::Never,
            Some(k) => sub.no_digit.times(Some(k - 1)),
            None => sub.no_digit.times(None),
        };
        let lead = if max == Some(0) {
            Bound::Never
        } else {
            sub.lead.max(before.max(Bound::Fin(0)).add(sub.lead))
        };
        Shape {
            class: sub.class,
            required: if min > 0 { sub.required } else { [false; 256] },
            min_len: sub.min_len.saturating_mul(min),
            min_digits: sub.min_digits.saturating_mul(min),
            no_digit,
            lead,
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
            // Patterns are compiled with Unicode off; a Unicode class here is a
            // code point of up to four bytes of any kind.
            HirKind::Class(Class::Unicode(_)) => Shape::opaque(Bound::Fin(4)),
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
        let config = regex_automata::util::syntax::Config::new()
            .unicode(false)
            .utf8(false);
        let hir = regex_automata::util::syntax::parse_with(pattern, &config)
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        Ok(Shape::of_hir(&hir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(p: &str) -> Shape {
        Shape::of_pattern(p).unwrap()
    }

    #[test]
    fn digits_and_lead() {
        let s = shape(r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b");
        assert!(s.always_has_digit());
        assert_eq!((s.min_len, s.min_digits, s.lead), (11, 9, Bound::Fin(0)));
        assert!(s.class[usize::from(b'-')] && !s.class[usize::from(b' ')]);

        let s = shape(r"(?i:jan|september)\.?[ ][0-9]{1,2}");
        assert!(s.always_has_digit());
        assert_eq!(s.lead, Bound::Fin(11));
        assert!(s.class[usize::from(b'S')] && s.class[usize::from(b's')]);

        assert_eq!(shape(r"[0-9]{1,6}[ ](?:x|y)").required_punct(), Some(b' '));
        assert_eq!(shape(r"[0-9]{1,6}(?:[ ]x|y)").required_punct(), None);
        assert_eq!(shape(r"a(?:-b)?c").required_punct(), None);
        assert_eq!(shape(r"(?:a-b|-c)").required_punct(), Some(b'-'));

        let s = shape(r"[A-Z]{2}[0-9]{7}|ab");
        assert!(!s.always_has_digit());
        assert_eq!(s.min_len, 2);

        let s = shape(r"x*[0-9]");
        assert!(s.always_has_digit());
        assert_eq!(s.lead, Bound::Inf);

        let s = shape(r"(?:ab[0-9]){1,3}");
        assert_eq!(s.lead, Bound::Fin(2));
        let s = shape(r"(?:a[0-9]?){2}");
        assert!(!s.always_has_digit());
        assert_eq!(s.lead, Bound::Fin(2));
    }
}
