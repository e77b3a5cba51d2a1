//! Context keywords: "is one of this type's keywords within a short window
//! before the candidate?" One case-insensitive automaton per type.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

use crate::error::EngineError;
use crate::types::PhiType;

/// How far before a candidate a keyword may start.
pub const WINDOW: usize = 48;

/// Keyword automata for the context-dependent types.
#[derive(Clone, Debug, Default)]
pub struct ContextIndex {
    /// Each type's automaton and the length of its shortest keyword.
    by_type: Vec<(PhiType, AhoCorasick, usize)>,
}

/// Builds a case-insensitive keyword automaton.
pub fn keyword_automaton(words: &[String], path: &str) -> Result<AhoCorasick, EngineError> {
    AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .build(words)
        .map_err(|e| EngineError::Invalid {
            path: path.to_string(),
            problem: format!("keyword list: {e}"),
        })
}

impl ContextIndex {
    /// Registers the keywords for `ty` (`ac` built from `words`).
    pub fn insert(&mut self, ty: PhiType, ac: AhoCorasick, words: &[String]) {
        let shortest = words.iter().map(String::len).min().unwrap_or(0);
        self.by_type.push((ty, ac, shortest));
    }

    /// Whether a keyword of `ty` occurs within [`WINDOW`] bytes before `start`.
    pub fn has_keyword(&self, ty: PhiType, hay: &[u8], start: usize) -> bool {
        self.by_type
            .iter()
            .find(|(t, _, _)| *t == ty)
            .is_some_and(|(_, ac, shortest)| {
                start.min(WINDOW) >= *shortest && keyword_before(ac, hay, start)
            })
    }

    /// Whether the window before `start` is long enough to hold a keyword of
    /// `ty` (a cheap necessary condition for [`ContextIndex::has_keyword`]).
    pub fn window_fits(&self, ty: PhiType, start: usize) -> bool {
        self.by_type
            .iter()
            .find(|(t, _, _)| *t == ty)
            .is_some_and(|(_, _, shortest)| start.min(WINDOW) >= *shortest)
    }
}

/// Whether `ac` finds a whole-word keyword in the window before `start`: the
/// byte before the keyword is not a letter (so `iPhone` is not `phone`), the
/// byte after it is not a lower-case letter (so `telemetry` is not `tel`),
/// and it is not part of a mask or pseudonym (`in_marker`).
pub fn keyword_before(ac: &AhoCorasick, hay: &[u8], start: usize) -> bool {
    let from = start.saturating_sub(WINDOW);
    let window = &hay[from..start];
    ac.find_overlapping_iter(window).any(|m| {
        let s = from + m.start();
        let e = from + m.end();
        let before_ok = s == 0 || !hay[s - 1].is_ascii_alphabetic();
        let after_ok = e >= hay.len() || !hay[e].is_ascii_lowercase();
        before_ok && after_ok && !in_marker(hay, s, e)
    })
}

/// Whether `hay[s..e]` lies in what the redactor writes for a finding: a
/// mask `[REDACTED:LABEL]` or a pseudonym `PSEUDO_LABEL_…` (labels are
/// `[A-Z0-9_]`). A label names a type (`PHONE`, `DOB`) and so spells its
/// keyword; counting it as one would let a second pass over redacted
/// output find a number that had no keyword before it in the input.
/// Out of line: asked only when a keyword was found.
#[inline(never)]
fn in_marker(hay: &[u8], s: usize, e: usize) -> bool {
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let first = hay[..s].iter().rposition(|b| !word(b)).map_or(0, |i| i + 1);
    let last = hay[e..]
        .iter()
        .position(|b| !word(b))
        .map_or(hay.len(), |i| e + i);
    hay[first..].starts_with(b"PSEUDO_")
        || (hay[..first].ends_with(b"[REDACTED:") && hay.get(last) == Some(&b']'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_boundaries() {
        let ac = keyword_automaton(&["phone".into(), "tel".into()], "t").unwrap();
        assert!(keyword_before(&ac, b"phone: 2125550143", 7));
        assert!(keyword_before(&ac, b"Tel 2125550143", 4));
        assert!(!keyword_before(&ac, b"iPhone 2125550143", 7));
        assert!(!keyword_before(&ac, b"telemetry 2125550143", 10));
        assert!(!keyword_before(&ac, b"[REDACTED:PHONE] 2125550143", 17));
        assert!(!keyword_before(
            &ac,
            b"[REDACTED:CELL_PHONE] 2125550143",
            22
        ));
        assert!(!keyword_before(&ac, b"PSEUDO_PHONE_k1_00ff 2125550143", 21));
        // Not markers: the keyword stands on its own.
        assert!(keyword_before(&ac, b"[REDACTED: phone 2125550143", 17));
        assert!(keyword_before(&ac, b"REDACTED:PHONE 2125550143", 15));
        assert!(keyword_before(&ac, b"[PHONE] 2125550143", 8));
    }

    #[test]
    fn windows_too_short_for_a_keyword() {
        let words = vec!["tel".to_string(), "phone".to_string()];
        let mut index = ContextIndex::default();
        index.insert(
            PhiType::Phone,
            keyword_automaton(&words, "t").unwrap(),
            &words,
        );
        assert!(!index.window_fits(PhiType::Phone, 2));
        assert!(index.window_fits(PhiType::Phone, 3));
        assert!(index.has_keyword(PhiType::Phone, b"tel2125550143", 3));
        assert!(!index.has_keyword(PhiType::Phone, b"tel2125550143", 2));
        assert!(!index.window_fits(PhiType::Ssn, 40));
    }
}
