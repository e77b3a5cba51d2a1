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

use regex_syntax::hir::Hir;

use super::keys::KeyClass;
use super::patterns::{Context, PatternDef};
use super::shape::{self, bytes_of, Edge, LenSet, Shape};
use crate::types::PhiType;

/// The separators a number token may use, one bit each.
const SEPARATORS: [u8; 3] = [b'.', b'-', b'/'];

/// If `s` is one number token — ASCII digits, joined by single `.`, `-` or
/// `/` (none first, last or twice in a row, at most `MAX_SEPARATORS` of
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
/// `MAX_SEPARATORS` of its bytes are digits, which rules out most text
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

/// Most `-`-joined words a word token may have (a UUID has five).
const MAX_WORDS: usize = 8;

/// Most branches a pattern is spelled out into for [`WordFacts`].
const MAX_BRANCHES: usize = 16;

/// What a scanner's patterns can match in a haystack that is one word
/// token: ASCII words (letters, digits, `_`) joined by single `-` (none
/// first, last or twice in a row), not digits alone (`45je3b10`,
/// `1920x1080`, `WX-2291-L`, a UUID; digits alone are a
/// [`number_token`], whose facts decide). Inside such a haystack the word
/// boundaries are exactly where its words start and end, so a pattern
/// whose every match starts and ends at one (`\b…\b`, over these bytes:
/// [`Edge`]) can only match a run of whole words, `w_i-…-w_j`: its
/// length, first and last bytes and every byte it can hold must fit that
/// run. A pattern bounded at one end only must start (or end) with a
/// word; any other pattern is taken to match anywhere. Patterns are read
/// branch by branch ([`shape::branches`]): a date's ISO form holds no
/// letter, its written-month forms do.
#[derive(Clone, Debug)]
pub struct WordFacts {
    /// Shortest match over token bytes of a pattern bounded at neither end
    /// (`usize::MAX`: none).
    anywhere_min: usize,
    /// Shortest match of a pattern bounded only at its start.
    start_min: usize,
    /// Shortest match of a pattern bounded only at its end.
    end_min: usize,
    /// For each length below [`MAX_TOKEN`]: the branches bounded at both
    /// ends (bit = index) with a match of that length over word bytes
    /// alone (a run of one word).
    one_word_by_len: Box<[u64; MAX_TOKEN]>,
    /// The same over word bytes and `-` (a run of several words).
    words_by_len: Box<[u64; MAX_TOKEN]>,
    /// For each byte: the branches bounded at both ends whose matches may
    /// start with it, and [`EDGE_ONLY`] if a pattern bounded only at its
    /// start may.
    led_by: Box<[u64; 256]>,
    /// For each byte: the branches bounded at both ends whose matches may
    /// end with it, and [`EDGE_ONLY`] if a pattern bounded only at its
    /// end may.
    ended_by: Box<[u64; 256]>,
    /// For each byte: the branches bounded at both ends whose matches may
    /// hold it anywhere (a run of words holds all of its bytes).
    held_by: Box<[u64; 256]>,
    /// `held_by[b'-']`: the branches a run of several words may match.
    dash_held: u64,
}

/// The bit of [`WordFacts`]' `led_by` and `ended_by` that says a pattern
/// bounded at that end only may start (end) with the byte; no branch
/// bounded at both ends has it.
const EDGE_ONLY: u64 = 1 << 63;

impl WordFacts {
    /// Reads the facts off a scanner's parsed patterns (all groups').
    pub fn new(hirs: &[Hir]) -> WordFacts {
        let mut word = [false; 256];
        let mut token = [false; 256];
        for b in 0..=u8::MAX {
            word[usize::from(b)] = is_word_byte(b);
            token[usize::from(b)] = is_word_byte(b) || b == b'-';
        }
        let mut facts = WordFacts {
            anywhere_min: usize::MAX,
            start_min: usize::MAX,
            end_min: usize::MAX,
            one_word_by_len: Box::new([0; MAX_TOKEN]),
            words_by_len: Box::new([0; MAX_TOKEN]),
            led_by: Box::new([0; 256]),
            ended_by: Box::new([0; 256]),
            held_by: Box::new([0; 256]),
            dash_held: 0,
        };
        let spelled: Vec<Hir> = hirs
            .iter()
            .flat_map(|h| shape::branches(h, MAX_BRANCHES))
            .collect();
        let mut bit = 0;
        for hir in &spelled {
            let lens = LenSet::of_hir(hir, &token);
            let Some(min) = lens.min() else {
                // No match over token bytes at all.
                continue;
            };
            let start = Edge::of_hir(hir, &token, false);
            let end = Edge::of_hir(hir, &token, true);
            let starts = start.at_word_edge(is_word_byte);
            let ends = end.at_word_edge(is_word_byte);
            match (starts, ends) {
                // Bits 0 to 62: bit 63 is `EDGE_ONLY`.
                (true, true) if bit < EDGE_ONLY.trailing_zeros() => {}
                (true, false) => {
                    facts.start_min = facts.start_min.min(min);
                    mark_edge(&mut facts.led_by, &start.first);
                    continue;
                }
                (false, true) => {
                    facts.end_min = facts.end_min.min(min);
                    mark_edge(&mut facts.ended_by, &end.first);
                    continue;
                }
                _ => {
                    facts.anywhere_min = facts.anywhere_min.min(min);
                    continue;
                }
            }
            let mask = 1u64 << bit;
            bit += 1;
            let one_word = LenSet::of_hir(hir, &word);
            for len in 0..MAX_TOKEN {
                if one_word.contains(len) {
                    facts.one_word_by_len[len] |= mask;
                }
                if lens.contains(len) {
                    facts.words_by_len[len] |= mask;
                }
            }
            let held = bytes_of(hir);
            let set = |yes: bool| if yes { mask } else { 0 };
            for (b, &holds) in held.iter().enumerate() {
                facts.led_by[b] |= set(start.first[b]);
                facts.ended_by[b] |= set(end.first[b]);
                facts.held_by[b] |= set(holds);
            }
        }
        facts.dash_held = facts.held_by[usize::from(b'-')];
        facts
    }

    /// Whether no pattern can match in `hay`: `Some(true)` when it is a
    /// word token no pattern fits, `Some(false)` when a pattern may match
    /// in it, `None` when it is no word token.
    pub fn nothing_fits(&self, hay: &[u8]) -> Option<bool> {
        let mut classes = 0;
        for &b in hay {
            classes |= WORD_CLASS[usize::from(b)];
        }
        if classes & NOT_WORD != 0 || classes & WORD_LETTER == 0 {
            return None;
        }
        self.nothing_fits_in_word_bytes(hay, classes & WORD_DASH != 0)
    }

    /// [`WordFacts::nothing_fits`] for a caller that knows `hay` holds
    /// nothing but ASCII letters, digits, `_` and `-`, at least one letter
    /// or `_`, and whether it holds a `-` (`dashes`): the value
    /// redactor's traits tell it.
    pub fn nothing_fits_in_word_bytes(&self, hay: &[u8], dashes: bool) -> Option<bool> {
        let len = hay.len();
        if len >= MAX_TOKEN {
            return None;
        }
        // Where each word ends (the next starts one byte later); a token
        // is shorter than `MAX_TOKEN` (128) bytes.
        let mut ends = [0u8; MAX_WORDS];
        let mut count = 0;
        let mut word_start = 0;
        if dashes {
            // Eight bytes at a time: the dashes' bits, lowest first.
            for (chunk, bytes) in hay.chunks(8).enumerate() {
                let word = match <[u8; 8]>::try_from(bytes) {
                    Ok(word) => u64::from_le_bytes(word),
                    // The last few bytes; the missing ones read as zero.
                    Err(_) => bytes
                        .iter()
                        .rev()
                        .fold(0, |acc, &b| acc << 8 | u64::from(b)),
                };
                let mut bits = dash_bytes(word);
                while bits != 0 {
                    let i = chunk * 8 + bits.trailing_zeros() as usize / 8;
                    bits &= bits - 1;
                    if i == word_start || count == MAX_WORDS - 1 {
                        return None;
                    }
                    ends[count] = i as u8;
                    count += 1;
                    word_start = i + 1;
                }
            }
        }
        if len == word_start {
            return None;
        }
        ends[count] = len as u8;
        count += 1;
        if len >= self.anywhere_min {
            return Some(false);
        }
        // Each word's end, and the branches that may end with its last
        // byte, plus [`EDGE_ONLY`] if a pattern bounded at its end only
        // may: then it fits if the token is long enough up to there.
        let mut ended = [(0usize, 0u64); MAX_WORDS];
        let mut ends_fit = false;
        for (slot, &end) in ended.iter_mut().zip(&ends[..count]) {
            let end = usize::from(end);
            let bits = self.ended_by[usize::from(hay[end - 1])];
            ends_fit |= bits & EDGE_ONLY != 0 && end >= self.end_min;
            *slot = (end, bits);
        }
        if ends_fit {
            return Some(false);
        }
        let ended = &ended[..count];
        let mut start = 0;
        for (i, &(first_end, first_ended)) in ended.iter().enumerate() {
            let led = self.led_by[usize::from(hay[start])];
            // A pattern bounded at its start only may start here.
            if led & EDGE_ONLY != 0 && len - start >= self.start_min {
                return Some(false);
            }
            // A run of one word, then runs of several, which hold `-` (the
            // length masks never hold `EDGE_ONLY`).
            let one = led & self.one_word_by_len[(first_end - start) % MAX_TOKEN] & first_ended;
            // Rarely reached: most runs fail on length and edges.
            if one != 0 && self.held(&hay[start..first_end], one) {
                return Some(false);
            }
            let several = led & self.dash_held;
            if several != 0 {
                for &(end, end_ended) in &ended[i + 1..] {
                    let left = several & self.words_by_len[(end - start) % MAX_TOKEN] & end_ended;
                    if left != 0 && self.held(&hay[start..end], left) {
                        return Some(false);
                    }
                }
            }
            start = first_end + 1;
        }
        Some(true)
    }

    /// Whether any of the `branches` may hold every byte of `run`. Most
    /// runs lose every branch within their first bytes (a letter in a
    /// run that only digit patterns could start): four bytes at a time,
    /// stopping once none is left.
    fn held(&self, run: &[u8], branches: u64) -> bool {
        let mut left = branches;
        for four in run.chunks(4) {
            for &b in four {
                left &= self.held_by[usize::from(b)];
            }
            if left == 0 {
                return false;
            }
        }
        true
    }
}

/// [`WORD_CLASS`] of a byte no word token holds.
const NOT_WORD: u8 = 8;
/// [`WORD_CLASS`] of `-`.
const WORD_DASH: u8 = 1;
/// [`WORD_CLASS`] of an ASCII digit.
const WORD_DIGIT: u8 = 2;
/// [`WORD_CLASS`] of an ASCII letter or `_` (a word byte, no digit).
const WORD_LETTER: u8 = 4;

/// Each byte's role in a word token.
static WORD_CLASS: [u8; 256] = {
    let mut t = [NOT_WORD; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = if b.is_ascii_digit() {
            WORD_DIGIT
        } else if b.is_ascii_alphabetic() || b == b'_' {
            WORD_LETTER
        } else if b == b'-' {
            WORD_DASH
        } else {
            NOT_WORD
        };
        i += 1;
    }
    t
};

/// The high bit of each byte of `w` that is `-`, exactly (no borrow
/// between bytes).
#[inline]
fn dash_bytes(w: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = w ^ (0x0101_0101_0101_0101 * u64::from(b'-'));
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// Sets [`EDGE_ONLY`] in `table` for each byte `edge` holds.
fn mark_edge(table: &mut [u64; 256], edge: &[bool; 256]) {
    for (bits, &yes) in table.iter_mut().zip(edge) {
        if yes {
            *bits |= EDGE_ONLY;
        }
    }
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

    #[test]
    fn patterns_bounded_at_one_end_fit_where_that_end_may_be() {
        let facts = |src: &str| WordFacts::new(&[shape::parse(src).unwrap()]);
        // Bounded at its start only: it fits from a word it may start
        // with, if the token is long enough from there.
        let start_only = facts(r"\bid[0-9]+");
        assert_eq!(start_only.nothing_fits(b"xx-id5"), Some(false));
        assert_eq!(start_only.nothing_fits(b"id"), Some(true), "too short");
        assert_eq!(start_only.nothing_fits(b"xx-yy5"), Some(true));
        // Bounded at its end only: it fits up to a word it may end with.
        let end_only = facts(r"[a-z]+42\b");
        assert_eq!(end_only.nothing_fits(b"ab-cd42"), Some(false));
        assert_eq!(end_only.nothing_fits(b"cd42-ab"), Some(false));
        assert_eq!(end_only.nothing_fits(b"ab-cd"), Some(true));
        assert_eq!(end_only.nothing_fits(b"x2"), Some(true), "too short");
    }
}
