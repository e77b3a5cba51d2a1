//! Where keyword patterns may start: a word start (position 0, or after a
//! byte that is not ASCII alphanumeric) at which one of the usual spellings
//! of a keyword begins (`member id`, `MEMBER ID`, `Member id`, `Member Id`,
//! `Member ID`, `bearer` …). The keyword regexes then run anchored only there.

use aho_corasick::{AhoCorasick, AhoCorasickKind, Anchored, Input, MatchKind, StartKind};

use super::prefilter::{for_each_word_start, for_each_word_start_counting_digits, WordLead};
use crate::error::EngineError;

/// A set of byte pairs: one bit per `(a, b)`, indexed without a multiply
/// or a bounds check.
#[derive(Clone, Debug)]
struct PairSet(Box<[u64; 1024]>);

impl PairSet {
    fn new() -> PairSet {
        PairSet(Box::new([0; 1024]))
    }

    fn set(&mut self, a: u8, b: u8) {
        let i = usize::from(a) << 8 | usize::from(b);
        self.0[i >> 6] |= 1 << (i & 63);
    }

    /// Every pair `(a, _)`.
    fn set_row(&mut self, a: u8) {
        (0..=255).for_each(|b| self.set(a, b));
    }

    #[inline]
    fn has(&self, a: u8, b: u8) -> bool {
        let i = usize::from(a) << 8 | usize::from(b);
        (self.0[i >> 6] >> (i & 63)) & 1 != 0
    }
}

/// Compiled keyword spellings and two byte-pair tables to reject most
/// word starts without running the automaton.
#[derive(Clone, Debug)]
pub struct KeywordStarts {
    ac: AhoCorasick,
    /// The first two bytes of every spelling (a one-byte spelling: every
    /// pair it starts). Bytes past the end of the haystack read as 0, and
    /// every pair whose second byte a spelling leaves open is set, 0
    /// included, so the tables only ever let too much through.
    first: PairSet,
    /// The second and third bytes of every spelling, likewise.
    second: PairSet,
    /// What every spelling starts with: an ASCII letter or at least an
    /// alphanumeric byte (then only such word starts can be candidates), or
    /// `None` when some spelling starts otherwise.
    lead: Option<WordLead>,
}

impl KeywordStarts {
    /// Compiles the case variants of `words` and the `literals` as written.
    pub fn new(words: &[String], literals: &[Vec<u8>]) -> Result<KeywordStarts, EngineError> {
        let mut spellings: Vec<Vec<u8>> = case_variants(words)
            .into_iter()
            .map(String::into_bytes)
            .collect();
        for l in literals {
            if !spellings.contains(l) {
                spellings.push(l.clone());
            }
        }
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .start_kind(StartKind::Anchored)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&spellings)
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let (mut first, mut second) = (PairSet::new(), PairSet::new());
        for s in &spellings {
            match s.as_slice() {
                [] => {}
                [b0] => {
                    first.set_row(*b0);
                    (0..=255).for_each(|b1| second.set_row(b1));
                }
                [b0, b1] => {
                    first.set(*b0, *b1);
                    second.set_row(*b1);
                }
                [b0, b1, b2, ..] => {
                    first.set(*b0, *b1);
                    second.set(*b1, *b2);
                }
            }
        }
        let all_start = |f: fn(&u8) -> bool| spellings.iter().all(|s| s.first().is_some_and(f));
        let lead = if all_start(u8::is_ascii_alphabetic) {
            Some(WordLead::Letter)
        } else if all_start(u8::is_ascii_alphanumeric) {
            Some(WordLead::Alnum)
        } else {
            None
        };
        Ok(KeywordStarts {
            ac,
            first,
            second,
            lead,
        })
    }

    /// Whether a spelling starts at `p` (the longest one is what counts).
    #[inline]
    fn spelled_at(&self, hay: &[u8], p: usize) -> bool {
        let at = |k: usize| hay.get(p + k).copied().unwrap_or(0);
        if !self.first.has(at(0), at(1)) || !self.second.has(at(1), at(2)) {
            return false;
        }
        let input = Input::new(hay).span(p..hay.len()).anchored(Anchored::Yes);
        self.ac.find(input).is_some()
    }

    /// Calls `f` with every candidate start in order: a word start where a
    /// spelling begins.
    pub fn for_each(&self, hay: &[u8], mut f: impl FnMut(usize)) {
        match self.lead {
            Some(lead) => for_each_word_start(hay, lead, |p| {
                if self.spelled_at(hay, p) {
                    f(p);
                }
            }),
            None => self.for_each_reference(hay, f),
        }
    }

    /// [`KeywordStarts::for_each`] that also counts the ASCII digits in
    /// `hay` on the way; `None` when every position had to be looked at
    /// (then nothing was counted).
    pub fn for_each_counting_digits(&self, hay: &[u8], mut f: impl FnMut(usize)) -> Option<usize> {
        match self.lead {
            Some(lead) => Some(for_each_word_start_counting_digits(hay, lead, |p| {
                if self.spelled_at(hay, p) {
                    f(p);
                }
            })),
            None => {
                self.for_each_reference(hay, f);
                None
            }
        }
    }

    /// [`KeywordStarts::for_each`] by brute force over every position (the
    /// definition the fast path must agree with).
    pub fn for_each_reference(&self, hay: &[u8], mut f: impl FnMut(usize)) {
        for p in 0..hay.len() {
            let word_start = p == 0 || !hay[p - 1].is_ascii_alphanumeric();
            if word_start && self.spelled_at(hay, p) {
                f(p);
            }
        }
    }
}

/// The usual spellings of each keyword (`member id`, `MEMBER ID`, `Member id`,
/// `Member Id`, `Member ID`): searching these case-sensitively is faster than
/// a case-insensitive search, at the cost of missing odd casings (`mRN`).
fn case_variants(words: &[String]) -> Vec<String> {
    fn capitalize(w: &str) -> String {
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
            .unwrap_or_default()
    }
    let mut variants: Vec<String> = Vec::with_capacity(words.len() * 5);
    for w in words {
        let lower = w.to_ascii_lowercase();
        let title: Vec<String> = lower.split(' ').map(capitalize).collect();
        // Short words are usually abbreviations: `Member ID`, `Policy NO`.
        let abbrev: Vec<String> = lower
            .split(' ')
            .enumerate()
            .map(|(i, x)| match (i, x.len() <= 3) {
                (0, _) => capitalize(x),
                (_, true) => x.to_ascii_uppercase(),
                (_, false) => x.to_string(),
            })
            .collect();
        let forms = [
            lower.clone(),
            lower.to_ascii_uppercase(),
            capitalize(&lower),
            title.join(" "),
            abbrev.join(" "),
        ];
        for v in forms {
            // Two-letter keywords (`DL`) are only worth a look before a separator.
            let spelled: Vec<String> = if v.len() < 3 {
                [" ", ":", "#", "=", "-"]
                    .iter()
                    .map(|sep| format!("{v}{sep}"))
                    .collect()
            } else {
                vec![v]
            };
            for v in spelled {
                if !variants.contains(&v) {
                    variants.push(v);
                }
            }
        }
    }
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_and_reference_agree() {
        let lists: [&[&str]; 3] = [
            &["mrn", "member id", "dl", "bearer", "license number"],
            // A keyword led by a digit, and one led by punctuation.
            &["mrn", "9a id"],
            &["mrn", "#id"],
        ];
        for (list, lead) in lists
            .iter()
            .zip([Some(WordLead::Letter), Some(WordLead::Alnum), None])
        {
            let words: Vec<String> = list.iter().map(|s| s.to_string()).collect();
            let ks = KeywordStarts::new(&words, &[]).unwrap();
            assert_eq!(ks.lead, lead);
            for hay in [
                &b"MRN: 123 xmrn mrn Member ID 5 DL-1 dl9 Bearer abc"[..],
                b"driver license number 12 (mrn)mrn",
                b"m",
                b"",
                b"\xffmrn#DL: 9a id x9a id #id a#id",
            ] {
                let (mut fast, mut slow) = (Vec::new(), Vec::new());
                ks.for_each(hay, |p| fast.push(p));
                ks.for_each_reference(hay, |p| slow.push(p));
                assert_eq!(fast, slow, "{}", String::from_utf8_lossy(hay));
            }
        }
        // The pair tables never reject a position the automaton accepts,
        // with spellings of one, two and more bytes and at the haystack's end.
        let words: Vec<String> = ["x", "q\0", "mrn", "dl", "member id"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let ks = KeywordStarts::new(&words, &[]).unwrap();
        for hay in [
            &b"x"[..],
            b"q",
            b"q\0",
            b"mr",
            b"mrn",
            b"dl",
            b"dl:",
            b"Member ID Member id MEMBER ID xq\0 dl dl- MRN Mrn",
        ] {
            for p in 0..hay.len() {
                let input = Input::new(hay).span(p..hay.len()).anchored(Anchored::Yes);
                assert_eq!(
                    ks.spelled_at(hay, p),
                    ks.ac.find(input).is_some(),
                    "{p} in {}",
                    String::from_utf8_lossy(hay)
                );
            }
        }
        let words: Vec<String> = ["mrn".to_string()].to_vec();
        let ks = KeywordStarts::new(&words, &[]).unwrap();
        let mut found = Vec::new();
        ks.for_each(b"MRN: 1 xmrn mrn", |p| found.push(p));
        assert_eq!(found, vec![0, 12]);
    }
}
