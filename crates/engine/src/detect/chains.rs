//! Rules out matches of the dense DFA four haystack segments at a time.
//!
//! A DFA search is a chain of dependent table loads: each step needs the
//! state the previous byte produced, so one search runs at the latency of
//! a load (~6 cycles a byte here), not at the rate the core can issue them.
//! Most searches over a log line find nothing, and this module answers
//! "can this search find anything" by walking `CHAINS` independent
//! unanchored searches in lockstep, one per segment of the haystack, so the
//! core overlaps their loads (~2.5x the bytes per second on access-log
//! lines: `examples/dfa_chains.rs`).
//!
//! Why it is exact: each chain is the unanchored search from its segment's
//! start. It walks its segment, then on until it reaches a match state, the
//! end of the haystack, or the unanchored start state for the byte before
//! it. In that state every thread still alive is one a search starting
//! right there also has, and the later chain walking that position (the
//! chains' reaches overlap and the last one runs to the end) has them: a
//! match that started in an earlier chain is still seen, by a later one.
//! So when no chain reaches a match state there is no match; when one
//! does, or a chain is not back in its start state soon after its
//! segment, the caller runs the ordinary search from the original
//! position (a match seen by a later chain may have started in an earlier
//! one).

use regex_automata::dfa::{regex::Regex, Automaton};
use regex_automata::util::primitives::StateID;
use regex_automata::util::start;
use regex_automata::Anchored;

/// Parallel searches walked in lockstep (four overlap best on these cores:
/// two gave ~2x, eight no more than four). The lockstep loop is written
/// out for four.
const CHAINS: usize = 4;

/// Haystack bytes left below which one walk ([`Chains::may_match_short`])
/// rules out a match instead: the segments get too short to amortise
/// starting four chains, and the ordinary search's set-up outweighs its
/// faster steps (callgrind on the benchmark's query and JSON payloads).
/// Paired best-iteration runs of the throughput example on an AMD EPYC
/// (Zen 5): 32 against 64 made `query_clean` 8 % faster (its 40-byte
/// product value `pr1` 139 → 118 ns a call) and left the other cases as
/// they were; 24 and 16 were no faster on queries and up to 3.5 % slower
/// on log lines.
pub const MIN_LEN: usize = 32;

/// How far a chain may walk past its segment before it gives up and lets
/// the ordinary search decide. On text a chain is back in its start state
/// a few bytes past its segment; text that keeps a partial match alive
/// throughout (`1 1 1 …`) would otherwise be walked by several chains
/// one after the other, ~2x the plain search; giving up, chains and then
/// the plain search cost ~1.5x it (`examples/dfa_chains.rs`).
const PAST_SEGMENT: usize = 64;

/// A dense DFA regex and the unanchored start states of its forward DFA,
/// by the byte before the search start. It owns the regex so that every
/// state id it steps from is one of that DFA's (see `Chains::step`).
#[derive(Clone, Debug)]
pub struct Chains {
    /// The regex whose forward DFA the walks step through.
    re: Regex,
    /// Start state after each possible byte.
    after: Box<[StateID; 256]>,
    /// Start state at the beginning of the haystack.
    text: StateID,
}

impl Chains {
    /// Reads the start states off `re`'s forward DFA. `None` if it has no
    /// unanchored start states (a build option this scanner never sets).
    pub fn new(re: Regex) -> Option<Chains> {
        let dfa = re.forward();
        let unanchored = start::Config::new().anchored(Anchored::No);
        let mut after = Box::new([StateID::ZERO; 256]);
        for (b, sid) in (0..=u8::MAX).zip(after.iter_mut()) {
            *sid = dfa
                .start_state(&unanchored.clone().look_behind(Some(b)))
                .ok()?;
        }
        let text = dfa.start_state(&unanchored).ok()?;
        Some(Chains { re, after, text })
    }

    /// The regex, for the ordinary searches.
    pub fn regex(&self) -> &Regex {
        &self.re
    }

    /// The unanchored start state for a search beginning at `at`.
    fn start_at(&self, hay: &[u8], at: usize) -> StateID {
        match at.checked_sub(1).and_then(|i| hay.get(i)) {
            Some(&b) => self.after[usize::from(b)],
            None => self.text,
        }
    }

    /// Whether the regex may match in `hay` at or after `at`: `false` only
    /// when an unanchored search of `hay[at..]` (look-behind at `at - 1`,
    /// the end of `hay` as end of input) finds nothing; `true` when it
    /// finds something or when a chain runs `PAST_SEGMENT` bytes past
    /// its segment without coming back to its start state.
    pub fn may_match(&self, hay: &[u8], at: usize) -> bool {
        let dfa = self.re.forward();
        let rest = hay.get(at..).unwrap_or_default();
        let seg = rest.len() / CHAINS;
        let bounds: [usize; CHAINS] = std::array::from_fn(|i| at + i * seg);
        let mut sids = bounds.map(|p| self.start_at(hay, p));
        let (s0, r) = rest.split_at(seg);
        let (s1, r) = r.split_at(seg);
        let (s2, r) = r.split_at(seg);
        let step = self.lockstep([s0, s1, s2, r], &mut sids);
        // A chain in a match state settles it: the ordinary search runs.
        if sids
            .iter()
            .any(|&sid| dfa.is_match_state(sid) || dfa.is_quit_state(sid))
        {
            return true;
        }
        // Each chain in order walks on until it ends.
        for (i, (&sid, &bound)) in sids.iter().zip(&bounds).enumerate() {
            let own_end = bounds.get(i + 1).copied().unwrap_or(hay.len());
            let (mut sid, mut p) = (sid, bound + step);
            loop {
                if dfa.is_special_state(sid) {
                    if dfa.is_match_state(sid) || dfa.is_quit_state(sid) {
                        return true;
                    }
                    if dfa.is_dead_state(sid) {
                        break;
                    }
                }
                let Some(&b) = hay.get(p) else {
                    if dfa.is_match_state(dfa.next_eoi_state(sid)) {
                        return true;
                    }
                    break;
                };
                // Back in the start state past its own segment: a later
                // chain walking here holds every thread still alive.
                if p >= own_end && p > at && sid == self.start_at(hay, p) {
                    break;
                }
                if p >= own_end + PAST_SEGMENT {
                    return true;
                }
                sid = self.step(sid, b);
                p += 1;
            }
        }
        false
    }

    /// [`Chains::may_match`] for a short rest of `hay` (below
    /// [`MIN_LEN`] bytes): one unanchored walk to the end, exact both
    /// ways. It costs a load and a compare a byte, where the ordinary
    /// search of a value like `45je3b10` spends most of its ~200
    /// instructions setting up.
    pub fn may_match_short(&self, hay: &[u8], at: usize) -> bool {
        let dfa = self.re.forward();
        let mut sid = self.start_at(hay, at);
        for &b in hay.get(at..).unwrap_or_default() {
            sid = self.step(sid, b);
            if dfa.is_special_state(sid) {
                if dfa.is_match_state(sid) || dfa.is_quit_state(sid) {
                    return true;
                }
                if dfa.is_dead_state(sid) {
                    return false;
                }
            }
        }
        dfa.is_match_state(dfa.next_eoi_state(sid))
    }

    /// The forward DFA's next state from `sid` on `b`. `sid` must be a
    /// state of `self.re`'s forward DFA: a start state read off it in
    /// [`Chains::new`] or a state this function returned. Every walk here
    /// starts from one of those.
    #[inline(always)]
    fn step(&self, sid: StateID, b: u8) -> StateID {
        // SAFETY: `next_state_unchecked` needs a state id of the DFA it is
        // called on, which `sid` is (above; `Chains` owns the regex and
        // never changes it, and a DFA's transitions lead only to its own
        // states). The checked `next_state` spends a compare and a branch
        // per step on that bound: a sixth of the lockstep loop.
        unsafe { self.re.forward().next_state_unchecked(sid, b) }
    }

    /// Steps the four chains together through their segments (the shortest
    /// one's length) until one reaches a state that ends its walk (match, dead
    /// or quit; other special states, accelerated ones, step on as usual).
    /// Returns the steps taken. Kept out of line so that changes around the
    /// caller do not change how this loop is compiled: inlined, its
    /// instruction count moved by ~8 % with an unrelated one-line edit.
    #[inline(never)]
    fn lockstep(&self, segs: [&[u8]; CHAINS], sids: &mut [StateID; CHAINS]) -> usize {
        let dfa = self.re.forward();
        let ends = |sid: StateID| {
            dfa.is_special_state(sid)
                && (dfa.is_match_state(sid) || dfa.is_dead_state(sid) || dfa.is_quit_state(sid))
        };
        let [s0, s1, s2, s3] = segs;
        let [mut c0, mut c1, mut c2, mut c3] = *sids;
        let mut steps = 0;
        for (((&b0, &b1), &b2), &b3) in s0.iter().zip(s1).zip(s2).zip(s3) {
            c0 = self.step(c0, b0);
            c1 = self.step(c1, b1);
            c2 = self.step(c2, b2);
            c3 = self.step(c3, b3);
            steps += 1;
            if (dfa.is_special_state(c0)
                | dfa.is_special_state(c1)
                | dfa.is_special_state(c2)
                | dfa.is_special_state(c3))
                && [c0, c1, c2, c3].into_iter().any(ends)
            {
                break;
            }
        }
        *sids = [c0, c1, c2, c3];
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regex_automata::dfa::{dense, regex::Regex};
    use regex_automata::{Input, MatchKind};

    /// Word-bounded, digit-heavy patterns like the scanner's numeric group,
    /// with a phone-like optional prefix, built once.
    fn regex() -> &'static Regex {
        static RE: std::sync::OnceLock<Regex> = std::sync::OnceLock::new();
        RE.get_or_init(build)
    }

    /// Chains over [`regex`]'s DFA, built once.
    fn chains() -> &'static Chains {
        static CHAINS: std::sync::OnceLock<Chains> = std::sync::OnceLock::new();
        CHAINS.get_or_init(|| Chains::new(regex().clone()).unwrap())
    }

    fn build() -> Regex {
        Regex::builder()
            .syntax(
                regex_automata::util::syntax::Config::new()
                    .unicode(false)
                    .utf8(false),
            )
            .dense(dense::Config::new().match_kind(MatchKind::LeftmostFirst))
            .build_many(&[
                r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b",
                r"\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b",
                r"\b[0-9]{1,6} [A-Z][a-z]+ (?:St|Ave)\b",
                r"\b(?:jan|feb|mar)\.? [0-9]{1,2},? [0-9]{4}\b",
                r"(?:\+1[ .\-]?|\b1[ .\-])?\b[0-9]{3}[ .\-][0-9]{4}\b",
            ])
            .unwrap()
    }

    /// The search the caller runs: only when `may_match` says so.
    fn chained(re: &Regex, chains: &Chains, hay: &[u8], at: usize) -> Option<(usize, usize)> {
        if !chains.may_match(hay, at) {
            return None;
        }
        plain(re, hay, at)
    }

    fn plain(re: &Regex, hay: &[u8], at: usize) -> Option<(usize, usize)> {
        let m = re.try_search(&Input::new(hay).range(at..)).unwrap()?;
        Some((m.start(), m.end()))
    }

    #[test]
    fn finds_what_the_plain_search_finds() {
        let (re, chains) = (regex(), chains());
        let line = b"10.1.300.0-lb - - [10/Oct/2023:13:55:07 +0000] \"GET /a?x=1 HTTP/1.1\" 200 1234 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\" ssn 219-44-5678 at 12 Main St on jan 3, 1985";
        for at in 0..line.len() {
            assert_eq!(
                chained(re, chains, line, at),
                plain(re, line, at),
                "at {at}"
            );
        }
        // A clean line: nothing anywhere.
        let clean = b"GET /products/running-shoes?utm_source=newsletter&page=x HTTP/1.1 \"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15\"";
        assert!(!chains.may_match(clean, 0));
    }

    #[test]
    fn a_match_across_a_segment_boundary_is_seen() {
        let (re, chains) = (regex(), chains());
        for pad in 0..80 {
            for tail in 0..40 {
                for sep in [" ", "-", "."] {
                    let hay = format!("{}+1{sep}555-0143{}", "x ".repeat(pad), " y".repeat(tail));
                    let hay = hay.as_bytes();
                    assert_eq!(
                        chained(re, chains, hay, 0),
                        plain(re, hay, 0),
                        "pad {pad} tail {tail}"
                    );
                }
            }
        }
    }

    #[test]
    fn gives_up_where_a_partial_match_never_ends() {
        let (re, chains) = (regex(), chains());
        // Each `1 ` may begin an address or a phone: no chain is ever back
        // in its start state, so the ordinary search decides.
        let hay = b"1 ".repeat(2000);
        assert!(chains.may_match(&hay, 0));
        assert_eq!(chained(re, chains, &hay, 0), plain(re, &hay, 0));
        // Ordinary text: every chain is back in its start state at once.
        let text = b"the quick brown fox jumps over the lazy dog ".repeat(100);
        assert!(!chains.may_match(&text, 0));
    }

    /// Haystacks of up to `max` bytes from the patterns' alphabet, a few
    /// letters, a line feed and a non-ASCII byte.
    fn haystack(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(
            proptest::sample::select(b"0123456789 .-,/:aAjnM Stev+\n\xff".to_vec()),
            0..max,
        )
    }

    proptest! {
        #[test]
        fn equals_the_plain_search(
            hay in haystack(300),
            at in 0usize..300,
        ) {
            let (re, chains) = (regex(), chains());
            let at = at.min(hay.len());
            let found = plain(re, &hay, at);
            let may = chains.may_match(&hay, at);
            // "No" is exact; "yes" only runs the ordinary search.
            prop_assert!(may || found.is_none());
            if found.is_some() {
                prop_assert!(may);
            }
        }

        #[test]
        fn the_short_walk_is_the_plain_search(
            hay in haystack(80),
            at in 0usize..80,
        ) {
            // Exact both ways: it says "yes" exactly when there is a match.
            let (re, chains) = (regex(), chains());
            let at = at.min(hay.len());
            prop_assert_eq!(
                chains.may_match_short(&hay, at),
                plain(re, &hay, at).is_some()
            );
        }
    }

    #[test]
    fn the_short_walk_sees_matches_at_either_end() {
        let (re, chains) = (regex(), chains());
        for (hay, at, want) in [
            (&b"219-44-5678"[..], 0, true),
            (b"x219-44-5678", 1, false),
            (b" 219-44-5678", 1, true),
            (b"219-44-56789", 0, false),
            (b"45je3b10", 0, false),
            (b"", 0, false),
        ] {
            assert_eq!(chains.may_match_short(hay, at), want, "{hay:?} {at}");
            assert_eq!(plain(re, hay, at).is_some(), want, "{hay:?} {at}");
        }
    }
}
