//! Number tokens: a haystack that is nothing but digits joined by single
//! `.`, `-` or `/` (`1700000000`, `123456789.1700000000`, `2024-01-02`).
//!
//! In such a haystack every numeric candidate that does not span all of it
//! is glued to a neighbouring number and rejected (see `glued` in the
//! scanner), so a group can only hit with a numeric pattern matching the
//! whole token or with a pattern that matches over digits and those
//! separators at all. Which lengths those can have is read off the regexes
//! when the profile is compiled ([`LenSet`]); a token whose length none of
//! them has is skipped without running the group (GA client ids, epoch
//! seconds next to 13–19-digit card candidates).

use regex_syntax::hir::{Hir, Look};

use super::keys::KeyClass;
use super::patterns::{Context, PatternDef};
use super::shape::{bytes_of, LenSet, Shape};
use crate::types::PhiType;

/// The separators a number token may use, one bit each.
const SEPARATORS: [u8; 3] = [b'.', b'-', b'/'];

/// If `s` is one number token — ASCII digits, joined by single `.`, `-` or
/// `/` (none first, last or twice in a row, at most [`MAX_SEPARATORS`] of
/// them) — the separators it uses as a bit set (bit `i` for
/// `SEPARATORS[i]`).
#[inline(never)]
pub fn number_token(s: &[u8]) -> Option<usize> {
    let mut seps = 0;
    let mut count = 0;
    let mut after_digit = false;
    for &b in s {
        let c = TOKEN_CLASS[usize::from(b)];
        if c == DIGIT {
            after_digit = true;
            continue;
        }
        if c == 0 || !after_digit || count == MAX_SEPARATORS {
            return None;
        }
        seps |= usize::from(c);
        count += 1;
        after_digit = false;
    }
    after_digit.then_some(seps)
}

/// [`TOKEN_CLASS`] of an ASCII digit.
const DIGIT: u8 = 0x80;

/// Each byte's part in a number token: [`DIGIT`], a separator's bit
/// (`1 << i` for `SEPARATORS[i]`), or 0 for a byte a token cannot hold.
static TOKEN_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = b'0';
    while b <= b'9' {
        t[b as usize] = DIGIT;
        b += 1;
    }
    let mut i = 0;
    while i < SEPARATORS.len() {
        t[SEPARATORS[i] as usize] = 1 << i;
        i += 1;
    }
    t
};

/// Most separators a number token may have.
const MAX_SEPARATORS: usize = 4;

/// [`number_token`] for a haystack holding `digits()` ASCII digits, looked
/// at only when it is shorter than 128 bytes (the length facts stop there;
/// `digits` is not called for longer ones) and all but at most
/// [`MAX_SEPARATORS`] of its bytes are digits, which rules out most text
/// without a pass.
#[inline]
pub fn short_number_token(s: &[u8], digits: impl FnOnce() -> usize) -> Option<usize> {
    if s.len() >= 128 || digits() + MAX_SEPARATORS < s.len() {
        return None;
    }
    number_token(s)
}

/// How one pattern can hit in a number token.
#[derive(Clone, Copy, Debug)]
enum Reach {
    /// Numeric: only a match of the whole token counts; `context` is the
    /// type whose keyword or field it needs, if any.
    Whole { context: Option<PhiType> },
    /// Anywhere in the token.
    Anywhere,
}

/// What a group can hit in a number token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenHits {
    /// Nothing.
    None,
    /// Only whole-token matches of these patterns (bit = pattern index).
    Whole(u64),
    /// Anything: scan as usual.
    Anywhere,
}

/// Match lengths over digits and one set of separators.
#[derive(Clone, Debug)]
struct SepFacts {
    /// Shortest match of a pattern that may hit anywhere.
    anywhere_min: usize,
    /// For each token length below 128: the whole-token patterns (bit =
    /// index) with a match of that length.
    whole_by_len: Vec<u64>,
}

/// Token lengths the facts cover (longer tokens are scanned as usual).
pub const MAX_TOKEN: usize = 128;

/// How many separator sets there are (the bit sets [`number_token`] returns).
pub const SEPARATOR_SETS: usize = 1 << SEPARATORS.len();

/// For each pattern of a group and each set of separators, the lengths of
/// the matches it can have over digits and those separators.
#[derive(Clone, Debug)]
pub struct TokenFacts {
    reach: Vec<Reach>,
    /// The whole-token patterns that need no keyword or field (bit = index).
    context_free: u64,
    /// For each digit: the patterns (bit = index) whose matches may start
    /// with it. A token starts with a digit, and a whole-token match starts
    /// where the token does: `1700000000123` (epoch milliseconds) has a
    /// card's length, but no card number starts with `1`.
    led_by: [u64; 10],
    /// Indexed by the separator bit set.
    by_seps: Vec<SepFacts>,
}

impl TokenFacts {
    /// Reads the facts off the group's parsed patterns and their shapes.
    pub fn new(hirs: &[Hir], shapes: &[Shape], defs: &[PatternDef]) -> TokenFacts {
        let reach: Vec<Reach> = defs
            .iter()
            .map(|def| {
                if !def.numeric {
                    Reach::Anywhere
                } else if def.context == Context::Required && def.check.keeps_start() {
                    Reach::Whole {
                        context: Some(def.ty),
                    }
                } else {
                    Reach::Whole { context: None }
                }
            })
            .collect();
        let by_seps = (0..1usize << SEPARATORS.len())
            .map(|seps| {
                let mut alphabet = [false; 256];
                for d in b'0'..=b'9' {
                    alphabet[usize::from(d)] = true;
                }
                for (i, &b) in SEPARATORS.iter().enumerate() {
                    alphabet[usize::from(b)] = seps & (1 << i) != 0;
                }
                let lens: Vec<LenSet> = hirs
                    .iter()
                    .map(|hir| LenSet::of_hir(hir, &alphabet))
                    .collect();
                let mut facts = SepFacts {
                    anywhere_min: usize::MAX,
                    whole_by_len: vec![0; MAX_TOKEN],
                };
                for (i, (reach, l)) in reach.iter().zip(&lens).enumerate().take(64) {
                    match reach {
                        Reach::Anywhere => {
                            let min = l.min().unwrap_or(usize::MAX);
                            facts.anywhere_min = facts.anywhere_min.min(min);
                        }
                        Reach::Whole { .. } => {
                            for (len, mask) in facts.whole_by_len.iter_mut().enumerate() {
                                if l.contains(len) {
                                    *mask |= 1 << i;
                                }
                            }
                        }
                    }
                }
                facts
            })
            .collect();
        let context_free = reach
            .iter()
            .enumerate()
            .take(64)
            .filter(|(_, r)| matches!(r, Reach::Whole { context: None }))
            .fold(0u64, |m, (i, _)| m | 1 << i);
        let led_by = std::array::from_fn(|d| {
            let digit = usize::from(b'0') + d;
            shapes
                .iter()
                .enumerate()
                .take(64)
                .filter(|(_, shape)| shape.first[digit])
                .fold(0u64, |m, (i, _)| m | 1 << i)
        });
        TokenFacts {
            reach,
            context_free,
            led_by,
            by_seps,
        }
    }

    /// What the group may hit in a number token of `len` bytes that starts
    /// with `first` and uses the separators `seps`, in a field of class
    /// `key`; `keyword_fits(ty)` says whether a keyword of `ty` could fit in
    /// the empty window before the token's start.
    pub fn hits(
        &self,
        seps: usize,
        len: usize,
        first: u8,
        key: Option<KeyClass>,
        keyword_fits: impl Fn(PhiType) -> bool,
    ) -> TokenHits {
        let Some(facts) = self.by_seps.get(seps) else {
            return TokenHits::Anywhere;
        };
        if len >= MAX_TOKEN || self.reach.len() > 64 || facts.anywhere_min <= len {
            return TokenHits::Anywhere;
        }
        let led = self
            .led_by
            .get(usize::from(first.wrapping_sub(b'0')))
            .copied()
            .unwrap_or(u64::MAX);
        let fits = facts.whole_by_len.get(len).copied().unwrap_or(0) & led;
        let mut whole = fits & self.context_free;
        // The few that need a keyword or a field of their type.
        let mut needy = fits & !self.context_free;
        while needy != 0 {
            let i = needy.trailing_zeros() as usize;
            needy &= needy - 1;
            if let Some(Reach::Whole { context: Some(ty) }) = self.reach.get(i) {
                if key == Some(KeyClass::Builtin(*ty)) || keyword_fits(*ty) {
                    whole |= 1 << i;
                }
            }
        }
        if whole == 0 {
            TokenHits::None
        } else {
            TokenHits::Whole(whole)
        }
    }
}

/// Whether `b` is a word byte for `\b` with Unicode off: an ASCII letter,
/// digit or `_`.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// What a group can match in a haystack that is one word token: nothing
/// but ASCII letters, digits and `_` (`45je3b10`, `1920x1080`, a tag
/// manager id). Inside such a haystack no position but its start and end
/// is a word boundary, so a pattern whose every match starts and ends at
/// one (`\b…\b`) can only match the whole haystack; any other pattern is
/// taken to match anywhere.
#[derive(Clone, Debug)]
pub struct WordFacts {
    /// Shortest match over word bytes of a pattern that may match inside a
    /// word (`usize::MAX`: none).
    anywhere_min: usize,
    /// For each length below [`MAX_TOKEN`]: the word-bounded patterns
    /// (bit = index) with a match of that length over word bytes.
    whole_by_len: Vec<u64>,
    /// For each byte: the word-bounded patterns whose matches may start
    /// with it.
    led_by: Vec<u64>,
    /// For each byte: the word-bounded patterns whose matches may hold it
    /// anywhere (a whole-token match holds every byte of the token).
    held_by: Vec<u64>,
}

impl WordFacts {
    /// Reads the facts off the group's parsed patterns and their shapes.
    pub fn new(hirs: &[Hir], shapes: &[Shape]) -> WordFacts {
        let mut alphabet = [false; 256];
        for b in 0..=u8::MAX {
            alphabet[usize::from(b)] = is_word_byte(b);
        }
        let boundary = |looks: regex_syntax::hir::LookSet, edge: Look| {
            looks.contains(Look::WordAscii) || looks.contains(edge)
        };
        let mut facts = WordFacts {
            anywhere_min: usize::MAX,
            whole_by_len: vec![0; MAX_TOKEN],
            led_by: vec![0; 256],
            held_by: vec![0; 256],
        };
        let too_many = hirs.len() > 64;
        for (i, (hir, shape)) in hirs.iter().zip(shapes).enumerate() {
            let lens = LenSet::of_hir(hir, &alphabet);
            let props = hir.properties();
            let bounded = !too_many
                && !lens.contains(0)
                && boundary(props.look_set_prefix(), Look::WordStartAscii)
                && boundary(props.look_set_suffix(), Look::WordEndAscii);
            if !bounded {
                let min = lens.min().unwrap_or(usize::MAX);
                facts.anywhere_min = facts.anywhere_min.min(min);
                continue;
            }
            for (len, mask) in facts.whole_by_len.iter_mut().enumerate() {
                if lens.contains(len) {
                    *mask |= 1 << i;
                }
            }
            let held = bytes_of(hir);
            for (b, (led, holds)) in facts.led_by.iter_mut().zip(&mut facts.held_by).enumerate() {
                if shape.first[b] {
                    *led |= 1 << i;
                }
                if held[b] {
                    *holds |= 1 << i;
                }
            }
        }
        facts
    }

    /// Whether the group may match in `token`, a word token (see
    /// [`word_token`]).
    pub fn may_hit(&self, token: &[u8]) -> bool {
        let len = token.len();
        let Some(&first) = token.first() else {
            return true;
        };
        if len >= self.anywhere_min || len >= MAX_TOKEN {
            return true;
        }
        let whole = self.whole_by_len.get(len).copied().unwrap_or(u64::MAX);
        let led = self
            .led_by
            .get(usize::from(first))
            .copied()
            .unwrap_or(u64::MAX);
        let mut left = whole & led;
        for &b in token {
            if left == 0 {
                break;
            }
            left &= self
                .held_by
                .get(usize::from(b))
                .copied()
                .unwrap_or(u64::MAX);
        }
        left != 0
    }
}

/// Whether `s` is one word token (see [`WordFacts`]) that is no number
/// token: nothing but ASCII letters, digits and `_`, at least one of them
/// not a digit (digits alone are a [`number_token`], whose facts decide).
pub fn word_token(s: &[u8]) -> bool {
    s.iter().all(|&b| is_word_byte(b)) && !s.iter().all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a number token is, spelled out: digit runs joined by single
    /// separators, at most `MAX_SEPARATORS` of them.
    fn by_splitting(s: &[u8]) -> Option<usize> {
        let is_sep = |b: &u8| SEPARATORS.contains(b);
        let runs: Vec<&[u8]> = s.split(is_sep).collect();
        let digit_runs = runs
            .iter()
            .all(|r| !r.is_empty() && r.iter().all(u8::is_ascii_digit));
        (digit_runs && runs.len() <= MAX_SEPARATORS + 1).then(|| {
            SEPARATORS
                .iter()
                .enumerate()
                .filter(|(_, b)| s.contains(b))
                .fold(0, |m, (i, _)| m | 1 << i)
        })
    }

    proptest::proptest! {
        #[test]
        fn number_token_is_what_splitting_says(
            s in proptest::collection::vec(
                proptest::sample::select(&b"0123456789999.-/a \x80\xb0:"[..]),
                0..40,
            ),
        ) {
            proptest::prop_assert_eq!(number_token(&s), by_splitting(&s));
        }

        #[test]
        fn number_token_of_tokens(
            runs in proptest::collection::vec("[0-9]{1,9}", 1..7),
            seps in proptest::collection::vec(proptest::sample::select(&b".-/"[..]), 6),
        ) {
            let mut s = Vec::new();
            for (i, run) in runs.iter().enumerate() {
                if i > 0 {
                    s.push(seps[i - 1]);
                }
                s.extend_from_slice(run.as_bytes());
            }
            proptest::prop_assert_eq!(number_token(&s), by_splitting(&s));
        }
    }

    #[test]
    fn number_tokens() {
        assert_eq!(number_token(b"1700000000"), Some(0));
        assert_eq!(number_token(b"123456789.1700000000"), Some(1));
        assert_eq!(number_token(b"2024-01/02.5"), Some(7));
        assert_eq!(number_token(b"1.2.3.4.5"), Some(1));
        for not in [
            &b""[..],
            b".1",
            b"1.",
            b"1..2",
            b"1.-2",
            b"12a",
            b"1 2",
            b"1,2",
            b"-",
            b"1.2.3.4.5.6",
        ] {
            assert_eq!(number_token(not), None, "{not:?}");
        }
    }
}
