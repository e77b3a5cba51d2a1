//! Detection: candidate patterns, validators and context rules turn bytes into
//! typed hits. Everything is compiled once per profile by [`Scanner::compile`].

pub mod chains;
pub mod context;
pub mod keys;
pub mod patterns;
pub mod prefilter;
pub mod shape;
mod starts;
pub mod token;
pub mod validate;

use std::ops::Range;

use aho_corasick::AhoCorasick;
use chains::Chains;
use regex_automata::dfa::{dense, regex::Regex as DfaRegex};
use regex_automata::meta;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind, PatternID};

use crate::error::EngineError;
use crate::spec::{CustomDetectorSpec, ValidatorSpec};
use crate::types::PhiType;
use context::{keyword_automaton, keyword_before, ContextIndex};
use keys::KeyClass;
use patterns::{Check, Context, PatternDef};
use prefilter::{Probe, Summary};
use shape::{ByteSet, Shape};
use starts::KeywordStarts;
use token::{TokenFacts, TokenHits, WordFacts};

/// One detected value inside the scanned slice (no copy of the value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// What was found.
    pub ty: PhiType,
    /// Where, relative to the scanned slice.
    pub range: Range<usize>,
}

/// What the scanner knows about the surrounding field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScanCtx {
    /// The class of the key the value sits under, if any.
    pub key: Option<KeyClass>,
}

/// A compiled custom detector.
#[derive(Clone, Debug)]
struct CustomDetector {
    index: u16,
    re: regex::bytes::Regex,
    value_group: Option<usize>,
    keywords: Option<AhoCorasick>,
    validator: Option<ValidatorSpec>,
}

/// One compiled multi-pattern regex and the definitions of its patterns.
#[derive(Clone, Debug)]
struct Group {
    engine: Engine,
    defs: Vec<PatternDef>,
    /// Case-sensitive keyword spellings: when set, the regex only runs
    /// anchored at word starts where one of them begins.
    starts: Option<KeywordStarts>,
    /// What an accepted hit of each pattern needs (from its regex and its
    /// post-match check), without the needs another one implies
    /// ([`Need::frontier`]). A haystack that meets none of them is skipped.
    needs: Vec<Need>,
    /// The least of `needs` in length and digits: most haystacks fall short
    /// of it and are skipped without looking at each pattern.
    floor: Need,
    /// For each pattern: the bytes a match can start with (anchored tries
    /// skip patterns that cannot start at a position).
    first: Vec<[bool; 256]>,
    /// What the group can hit in a haystack that is one number token.
    token: TokenFacts,
    /// For each pattern whose hits need no digit: the byte sets every
    /// match of it holds a byte of ([`Shape::any_of`]).
    digitless_any_of: Vec<Vec<ByteSet>>,
}

/// What an accepted hit of one pattern needs at least.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Need {
    /// Bytes.
    len: usize,
    /// ASCII digits.
    digits: usize,
    /// A punctuation byte every match contains (` ` for street addresses).
    byte: Option<u8>,
}

impl Group {
    /// Whether a haystack of `len` bytes summarised by `sum` may hold a hit.
    /// When the digit count is not known yet (long haystacks), patterns
    /// that need no digit are looked at first, so that the digits are
    /// counted only when the answer depends on them (the keyword group's
    /// word-start pass counts them on the way).
    fn may_match(&self, len: usize, sum: &mut Summary<'_>) -> bool {
        if len < self.floor.len {
            return false;
        }
        let fits = |n: &Need, sum: &Summary<'_>| len >= n.len && n.byte.is_none_or(|b| sum.has(b));
        let digits = match sum.known_digits() {
            Some(d) => d,
            None if self.needs.iter().any(|n| n.digits == 0 && fits(n, sum)) => return true,
            None => sum.digits(),
        };
        digits >= self.floor.digits
            && self
                .needs
                .iter()
                .any(|n| digits >= n.digits && fits(n, sum))
    }
}

impl Need {
    /// Whether every haystack that meets `other` meets `self` too.
    fn implied_by(&self, other: &Need) -> bool {
        other.len >= self.len
            && other.digits >= self.digits
            && self.byte.is_none_or(|b| other.byte == Some(b))
    }

    /// `needs` without those another one implies (a haystack meets one of
    /// the rest exactly when it meets one of `needs`): the gates ask a few
    /// needs instead of one per pattern. Those without a byte come first
    /// (no byte to look for), each part least length first.
    fn frontier(mut needs: Vec<Need>) -> Vec<Need> {
        needs.sort_by_key(|n| (n.byte.is_some(), n.len, n.digits));
        needs.dedup();
        let mut kept: Vec<Need> = Vec::with_capacity(needs.len());
        for n in needs {
            if !kept.iter().any(|k| k.implied_by(&n)) {
                kept.retain(|k| !n.implied_by(k));
                kept.push(n);
            }
        }
        kept
    }

    /// The least of `needs` in length and digits (no byte).
    fn floor(needs: &[Need]) -> Need {
        Need {
            len: needs.iter().map(|n| n.len).min().unwrap_or(0),
            digits: needs.iter().map(|n| n.digits).min().unwrap_or(0),
            byte: None,
        }
    }
}

/// Digits a post-match check requires beyond what the regex guarantees.
fn check_digits(check: Check) -> usize {
    match check {
        Check::TrailingToken { min_digits } => usize::from(min_digits),
        // 9 digits, or a letter and 8 digits.
        Check::PassportToken => 8,
        _ => 0,
    }
}

/// The numeric patterns are compiled ahead of time into a dense DFA (small,
/// built in milliseconds, fastest on digit-heavy logs); the word-shaped ones
/// (keywords, addresses, dates, secrets) into a lazy DFA, whose literal
/// prefilters skip most text and whose dense build would take seconds.
#[derive(Clone, Debug)]
enum Engine {
    Dense(Box<Chains>),
    Lazy(meta::Regex),
}

impl Engine {
    fn search(&self, input: &Input<'_>) -> Option<regex_automata::Match> {
        match self {
            // ASCII-only patterns have no quit bytes, so a search cannot fail.
            Engine::Dense(c) => c.regex().try_search(input).ok().flatten(),
            Engine::Lazy(re) => re.search(input),
        }
    }

    /// Whether an unanchored search of `hay` from `at` to its end may find
    /// a match: `false` is exact (no match); decided by four interleaved
    /// DFA walks when the rest of `hay` is long enough for them to pay,
    /// by one walk when it is short ([`chains::MIN_LEN`]).
    fn may_match_from(&self, hay: &[u8], at: usize) -> bool {
        let Engine::Dense(c) = self else {
            return true;
        };
        if hay.len().saturating_sub(at) >= chains::MIN_LEN {
            c.may_match(hay, at)
        } else {
            c.may_match_short(hay, at)
        }
    }
}

/// All enabled detectors of one profile, compiled.
#[derive(Clone, Debug)]
pub struct Scanner {
    groups: Vec<Group>,
    /// Whether the prefilters (length/digit gates, digit windows, word-start
    /// keyword candidates) are on; off only to check that they skip nothing.
    prefilter: bool,
    /// Whether the prefilters are on and there are no custom detectors
    /// (which are not gated): the condition under which the skips below
    /// may answer "nothing to find", kept as one flag for the hot path.
    gated: bool,
    /// IPv6 is found by a colon-anchored scan (a hex/colon regex slows the DFA 3x).
    ipv6: bool,
    /// E-mail is found by an `@`/`%40`-anchored scan (memchr is far cheaper
    /// than a local-part class in the DFA).
    email: bool,
    context: ContextIndex,
    custom: Vec<CustomDetector>,
    /// The bytes the gates ask about (each group's required bytes, `:` for
    /// IPv6, `@` and `%` for e-mail), tracked in one pass per haystack.
    probe: Probe,
    /// The shortest haystack in which a pattern that needs no digit can hit
    /// (`usize::MAX` when every pattern needs one).
    digitless_min_len: usize,
    /// For each separator set and leading digit: bit `len` is set when some
    /// group may hit a number token of `len` bytes that starts with that
    /// digit and uses those separators, outside any field
    /// ([`TokenFacts::hits`] with no key and no keyword window).
    token_may_hit: [[u128; 10]; token::SEPARATOR_SETS],
    /// What the patterns of all groups can match in a haystack that is
    /// one word token.
    word: WordFacts,
    /// Whether every pattern that needs no digit is in the keyword group,
    /// so it can only match at one of that group's candidate starts.
    digitless_keyed: bool,
}

/// Inputs to [`Scanner::compile`].
pub struct ScannerConfig<'a> {
    /// Whether a built-in type is enabled.
    pub enabled: &'a dyn Fn(PhiType) -> bool,
    /// Context keywords per context-dependent type.
    pub keywords: &'a dyn Fn(PhiType) -> Vec<String>,
    /// Custom detectors (index = position).
    pub custom: &'a [CustomDetectorSpec],
}

/// [`Scanner::token_may_hit`] for these groups: the table
/// [`Scanner::skips_number_token`] reads, one [`TokenFacts::hits`] per
/// group, separator set and length, asked as `scan` asks it for a
/// haystack outside any field.
fn token_may_hit(groups: &[Group], context: &ContextIndex) -> [[u128; 10]; token::SEPARATOR_SETS] {
    let mut table = [[0u128; 10]; token::SEPARATOR_SETS];
    for (seps, by_digit) in table.iter_mut().enumerate() {
        for (first, lens) in (b'0'..=b'9').zip(by_digit.iter_mut()) {
            for len in 0..token::MAX_TOKEN {
                let may_hit = groups.iter().any(|g| {
                    g.token
                        .hits(seps, len, first, None, |ty| context.window_fits(ty, 0))
                        != TokenHits::None
                });
                if may_hit {
                    *lens |= 1u128 << len;
                }
            }
        }
    }
    table
}

fn build_group(
    defs: Vec<PatternDef>,
    sources: &[String],
    dense_dfa: bool,
) -> Result<Option<Group>, EngineError> {
    if sources.is_empty() {
        return Ok(None);
    }
    let hirs = sources
        .iter()
        .map(|s| shape::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let shapes: Vec<Shape> = hirs.iter().map(Shape::of_hir).collect();
    let token = TokenFacts::new(&hirs, &shapes, &defs);
    let needs: Vec<Need> = shapes
        .iter()
        .zip(&defs)
        .map(|(sh, def)| Need {
            len: sh.min_len,
            digits: sh.min_digits.max(check_digits(def.check)),
            byte: sh.required_punct(),
        })
        .collect();
    let digitless_any_of = shapes
        .iter()
        .zip(&needs)
        .filter(|(_, n)| n.digits == 0)
        .map(|(sh, _)| sh.any_of().to_vec())
        .collect();
    let needs = Need::frontier(needs);
    let floor = Need::floor(&needs);
    let first = shapes.iter().map(|sh| sh.first).collect();
    let syntax = syntax::Config::new().unicode(false).utf8(false);
    let engine = if dense_dfa {
        let re = DfaRegex::builder()
            .syntax(syntax)
            .dense(
                dense::Config::new()
                    .match_kind(MatchKind::LeftmostFirst)
                    .starts_for_each_pattern(true)
                    .dfa_size_limit(Some(32 << 20))
                    .determinize_size_limit(Some(64 << 20)),
            )
            .build_many(sources)
            .map_err(|e| EngineError::Internal(e.to_string()))?;
        let chains = Chains::new(re).ok_or_else(|| {
            EngineError::Internal("a dense DFA without unanchored start states".to_string())
        })?;
        Engine::Dense(Box::new(chains))
    } else {
        Engine::Lazy(
            meta::Builder::new()
                .syntax(syntax)
                .configure(
                    meta::Config::new()
                        .match_kind(MatchKind::LeftmostFirst)
                        .utf8_empty(false),
                )
                .build_many(sources)
                .map_err(|e| EngineError::Internal(e.to_string()))?,
        )
    };
    Ok(Some(Group {
        engine,
        defs,
        starts: None,
        needs,
        floor,
        first,
        token,
        digitless_any_of,
    }))
}

impl Scanner {
    /// Compiles every enabled pattern (two multi-pattern DFAs), keyword
    /// automata and custom regexes.
    pub fn compile(cfg: &ScannerConfig<'_>) -> Result<Scanner, EngineError> {
        let (mut dense_defs, mut dense_src) = (Vec::new(), Vec::new());
        let (mut lazy_defs, mut lazy_src) = (Vec::new(), Vec::new());
        let mut context = ContextIndex::default();
        let (mut kw_defs, mut kw_src, mut kw_words) = (Vec::new(), Vec::new(), Vec::new());
        let mut kw_literals: Vec<Vec<u8>> = Vec::new();
        for (kdef, src, words) in keyword_value_patterns(cfg) {
            kw_defs.push(kdef);
            kw_src.push(src);
            kw_words.extend(words);
        }
        for def in patterns::builtin() {
            if !(cfg.enabled)(def.ty) {
                continue;
            }
            let src = match def.ty {
                PhiType::StreetAddress => patterns::address_regex(),
                PhiType::DateOfBirth => patterns::date_regex(),
                _ => def.regex.to_string(),
            };
            // Dates and addresses cost ~10x build time in a dense DFA: ~75 ms in
            // release, but seconds in unoptimised test builds, where they stay
            // lazy (same regexes, same leftmost-first semantics).
            let heavy = matches!(def.ty, PhiType::DateOfBirth | PhiType::StreetAddress);
            let dense_dfa = (def.numeric && !heavy)
                || matches!(def.ty, PhiType::Mbi | PhiType::Dea | PhiType::Zip)
                || (heavy && !cfg!(debug_assertions));
            if def.ty == PhiType::BearerToken {
                kw_defs.push(def);
                kw_src.push(src);
                kw_words.push("bearer".to_string());
            } else if let Some(prefixes) = (!dense_dfa)
                .then(|| shape::word_led_prefixes(&shape::parse(&src).ok()?))
                .flatten()
            {
                // Secrets (`AKIA…`, `sk_live_…`, `eyJ…`) start at a word start
                // with a literal: the keyword group's word-start candidates
                // find them without a pass of their own over every byte.
                kw_defs.push(def);
                kw_src.push(src);
                kw_literals.extend(prefixes);
            } else if dense_dfa {
                dense_defs.push(def);
                dense_src.push(src);
            } else {
                lazy_defs.push(def);
                lazy_src.push(src);
            }
        }
        for ty in patterns::CONTEXT_TYPES {
            if (cfg.enabled)(ty) {
                let words = (cfg.keywords)(ty);
                if !words.is_empty() {
                    let path = format!("context.{}", ty.config_name());
                    context.insert(ty, keyword_automaton(&words, &path)?, &words);
                }
            }
        }
        let word = WordFacts::new(
            &[&kw_src, &dense_src, &lazy_src]
                .into_iter()
                .flatten()
                .map(|src| shape::parse(src))
                .collect::<Result<Vec<_>, _>>()?,
        );
        let keyword_group = build_group(kw_defs, &kw_src, false)?
            .map(|mut g| -> Result<Group, EngineError> {
                g.starts = Some(KeywordStarts::new(&kw_words, &kw_literals)?);
                Ok(g)
            })
            .transpose()?;
        // Keyword-backed hits come first so they win ties in the (stable) merge:
        // `MRN: MR8989622` is an MRN even though it also passes the DEA checksum.
        let groups: Vec<Group> = [
            keyword_group,
            build_group(dense_defs, &dense_src, true)?,
            build_group(lazy_defs, &lazy_src, false)?,
        ]
        .into_iter()
        .flatten()
        .collect();
        let digitless_keyed = groups
            .iter()
            .filter(|g| g.starts.is_none())
            .all(|g| g.needs.iter().all(|n| n.digits > 0));
        let digitless_min_len = groups
            .iter()
            .flat_map(|g| &g.needs)
            .filter(|n| n.digits == 0)
            .map(|n| n.len)
            .min()
            .unwrap_or(usize::MAX);
        let gate_bytes = groups
            .iter()
            .flat_map(|g| g.needs.iter().filter_map(|n| n.byte));
        let probe = Probe::new([b':', b'@', b'%'].into_iter().chain(gate_bytes));
        let custom = cfg
            .custom
            .iter()
            .enumerate()
            .map(|(i, spec)| compile_custom(i, spec))
            .collect::<Result<Vec<_>, _>>()?;
        let token_may_hit = token_may_hit(&groups, &context);
        Ok(Scanner {
            token_may_hit,
            word,
            digitless_keyed,
            groups,
            prefilter: true,
            gated: custom.is_empty(),
            ipv6: (cfg.enabled)(PhiType::Ipv6),
            email: (cfg.enabled)(PhiType::Email),
            context,
            custom,
            probe,
            digitless_min_len,
        })
    }

    /// Whether a haystack of `len` bytes holding no ASCII digit, `@` or
    /// `%`, and too few `:` for IPv6 ([`may_hold_ipv6`]), may hold a hit:
    /// callers skip such haystacks without a summary. Follows from the
    /// gates: every pattern that needs no digit needs at least
    /// `digitless_min_len` bytes, e-mail needs `@` or `%`; custom detectors
    /// are not gated. Always `true` with the prefilters off.
    pub fn may_hit_without_digits(&self, len: usize) -> bool {
        !self.gated || len >= self.digitless_min_len
    }

    /// Whether [`Scanner::scan`] of `hay`, which holds no ASCII digit, `@`
    /// or `%` and too few `:` for IPv6 ([`may_hold_ipv6`]), finds nothing
    /// because no pattern that needs no digit can start in it: each is in
    /// the keyword group (secrets, `Bearer`), whose matches start only at
    /// its candidate starts, and `hay` has none (`Running Shoes | Shop`,
    /// `https://shop.example/products/running-shoes`). E-mail needs `@` or
    /// `%`.
    /// `false` (scan it) when such a pattern is in another group, with
    /// custom detectors (they are not gated) or with the prefilters off.
    pub fn skips_digitless(&self, hay: &[u8]) -> bool {
        if !self.gated || !self.digitless_keyed {
            return false;
        }
        let mut candidate = false;
        if let Some(starts) = self.groups.iter().find_map(|g| g.starts.as_ref()) {
            starts.for_each(hay, |_| candidate = true);
        }
        !candidate
    }

    /// For each pattern that can hit without a digit (only they can hit in
    /// a haystack [`Scanner::skips_digitless`] is asked about): the byte
    /// sets every match of it holds a byte of, so a digit-free haystack
    /// without a byte of one of a pattern's sets holds no hit of it.
    /// `None` when that cannot be relied on: with custom detectors (they
    /// are not gated) or with the prefilters off.
    pub fn digitless_any_of(&self) -> Option<Vec<&[ByteSet]>> {
        if !self.gated {
            return None;
        }
        Some(
            self.groups
                .iter()
                .flat_map(|g| &g.digitless_any_of)
                .map(Vec::as_slice)
                .collect(),
        )
    }

    /// Whether [`Scanner::scan`] of `hay` outside any field finds nothing
    /// because `hay` is one number token (`1700000000`,
    /// `123456789.1700000000`, `129.99`) of a length, leading digit and
    /// separators that no pattern can hit there: the answer `scan` gives through its
    /// gates and [`TokenFacts`], without a summary or a group. `false`
    /// (scan it) for anything else, with custom detectors (they are not
    /// gated) or with the prefilters off.
    pub fn skips_number_token(&self, hay: &[u8]) -> bool {
        if !self.gated || hay.len() >= token::MAX_TOKEN {
            return false;
        }
        // E-mail and IPv6 need `@`, `%` or `:`, which a token has none of.
        token::number_token(hay).is_some_and(|seps| {
            // A token starts with a digit.
            let first = usize::from(hay[0].wrapping_sub(b'0'));
            self.token_may_hit
                .get(seps)
                .and_then(|by_digit| by_digit.get(first))
                .is_some_and(|lens| lens & (1u128 << hay.len()) == 0)
        })
    }

    /// Whether [`Scanner::scan`] of `hay` finds nothing because `hay` is
    /// one word token (ASCII letters, digits and `_`, not digits alone:
    /// `45je3b10`, `1920x1080`) in which no pattern can match
    /// ([`WordFacts`]). E-mail and IPv6 need `@`, `%` or `:`, which
    /// a word token has none of. `false` (scan it) for anything else, with
    /// custom detectors (they are not gated) or with the prefilters off.
    pub fn skips_word_token(&self, hay: &[u8]) -> bool {
        if !self.gated || hay.len() >= token::MAX_TOKEN {
            return false;
        }
        self.word.nothing_fits(hay) == Some(true)
    }

    /// [`Scanner::skips_word_token`] for a caller that knows `hay` holds
    /// nothing but ASCII letters, digits, `_` and `-`, at least one letter
    /// or `_`, and whether it holds a `-` (`dashes`).
    pub fn skips_word_bytes(&self, hay: &[u8], dashes: bool) -> bool {
        if !self.gated {
            return false;
        }
        self.word.nothing_fits_in_word_bytes(hay, dashes) == Some(true)
    }

    /// Whether the prefilters are on (the default).
    pub fn prefilter(&self) -> bool {
        self.prefilter
    }

    /// Switches the prefilters off (every group runs over every haystack, in
    /// full): a testing aid to show that they only skip work.
    pub fn set_prefilter(&mut self, on: bool) {
        self.prefilter = on;
        self.gated = on && self.custom.is_empty();
    }

    /// Appends the hits in `hay` to `out`, sorted by start and non-overlapping
    /// (at equal starts the longer hit wins).
    pub fn scan(&self, hay: &[u8], ctx: ScanCtx, out: &mut Vec<Hit>) {
        let first = out.len();
        // Every pattern needs a few digits, a minimum length or a certain
        // byte: skip groups that cannot match this haystack.
        let mut sum = Summary::of(hay, &self.probe);
        // Whether `hay` is one number token, and with which separators;
        // worked out for the first group that passes its gates.
        let mut token: Option<Option<usize>> = None;
        for group in &self.groups {
            if !self.prefilter {
                self.scan_group_reference(group, hay, ctx, out);
            } else if group.may_match(hay.len(), &mut sum) {
                let seps =
                    *token.get_or_insert_with(|| token::short_number_token(hay, || sum.digits()));
                let hits = seps.map_or(TokenHits::Anywhere, |seps| {
                    // A number token is not empty: it starts with a digit.
                    let first = hay.first().copied().unwrap_or(0);
                    group.token.hits(seps, hay.len(), first, ctx.key, |ty| {
                        self.context.window_fits(ty, 0)
                    })
                });
                match hits {
                    TokenHits::None => {}
                    TokenHits::Whole(patterns) => {
                        self.scan_whole_token(group, hay, patterns, ctx, out);
                    }
                    TokenHits::Anywhere => {
                        let count = sum.known_digits().is_none();
                        if let Some(digits) = self.scan_group(group, hay, count, ctx, out) {
                            sum.set_digits(digits);
                        }
                    }
                }
            }
        }
        // Both scans start with their own `memchr` for these bytes: on a long
        // haystack a presence check first would only search twice.
        if self.ipv6 && sum.may_have(b':') {
            scan_ipv6(hay, out);
        }
        if self.email && (sum.may_have(b'@') || sum.may_have(b'%')) {
            scan_email(hay, out);
        }
        for det in &self.custom {
            self.scan_custom(det, hay, ctx, out);
        }
        if out.len() - first > 1 {
            out[first..].sort_by_key(|h| (h.range.start, std::cmp::Reverse(h.range.end)));
            let mut end = 0;
            let mut i = first;
            out.retain(|h| {
                let keep = i < first || h.range.start >= end;
                if i >= first && keep {
                    end = h.range.end;
                }
                i += 1;
                keep
            });
        }
    }

    /// Scans one group, running its regex only where the prefilters allow.
    /// With `count`, returns the haystack's digit count when the word-start
    /// pass of a keyword group counted it on the way.
    fn scan_group(
        &self,
        group: &Group,
        hay: &[u8],
        count: bool,
        ctx: ScanCtx,
        out: &mut Vec<Hit>,
    ) -> Option<usize> {
        if let Some(starts) = &group.starts {
            let mut at = 0;
            let f = |p| self.keyword_at(group, hay, p, &mut at, ctx, out);
            if count {
                return starts.for_each_counting_digits(hay, f);
            }
            starts.for_each(hay, f);
            return None;
        }
        self.scan_span(group, hay, 0..hay.len(), ctx, out);
        None
    }

    /// Scans a number token in which only whole-token matches of the
    /// `patterns` (bit = index) can hit: every other numeric candidate is
    /// glued to a neighbour. [`Scanner::scan_span`] would find the first of
    /// them, in priority order, that matches from position 0 and passes its
    /// checks: a search anchored at 0 gives the highest-priority pattern
    /// matching there, later ones are tried anchored one by one.
    #[inline(never)]
    fn scan_whole_token(
        &self,
        group: &Group,
        hay: &[u8],
        patterns: u64,
        ctx: ScanCtx,
        out: &mut Vec<Hit>,
    ) {
        // One pattern: its own anchored search. Several: one search for all
        // of them first (usually the one that hits), then the later ones.
        let mut left = patterns;
        if patterns.count_ones() > 1 {
            let Some(m) = group
                .engine
                .search(&Input::new(hay).anchored(Anchored::Yes))
            else {
                return;
            };
            let first = m.pattern().as_usize();
            if let Some(def) = group.defs.get(first) {
                if patterns & (1 << first) != 0 {
                    if let Some(r) = self.accept(def, hay, m.range(), ctx) {
                        out.push(Hit {
                            ty: def.ty,
                            range: r,
                        });
                        return;
                    }
                }
            }
            left &= u64::MAX.checked_shl(first as u32 + 1).unwrap_or(0);
        }
        while left != 0 {
            let i = left.trailing_zeros() as usize;
            left &= left - 1;
            let (Some(def), Ok(pattern)) = (group.defs.get(i), PatternID::new(i)) else {
                continue;
            };
            let input = Input::new(hay).anchored(Anchored::Pattern(pattern));
            if let Some(m) = group.engine.search(&input) {
                if let Some(r) = self.accept(def, hay, m.range(), ctx) {
                    out.push(Hit {
                        ty: def.ty,
                        range: r,
                    });
                    return;
                }
            }
        }
    }

    /// [`Scanner::scan_group`] without prefilters: the definition it must match.
    fn scan_group_reference(&self, group: &Group, hay: &[u8], ctx: ScanCtx, out: &mut Vec<Hit>) {
        match &group.starts {
            Some(starts) => {
                let mut at = 0;
                starts
                    .for_each_reference(hay, |p| self.keyword_at(group, hay, p, &mut at, ctx, out));
            }
            None => self.scan_span(group, hay, 0..hay.len(), ctx, out),
        }
    }

    /// Tries the keyword patterns anchored at candidate `p` (unless a previous
    /// keyword hit of the group covers it).
    fn keyword_at(
        &self,
        group: &Group,
        hay: &[u8],
        p: usize,
        at: &mut usize,
        ctx: ScanCtx,
        out: &mut Vec<Hit>,
    ) {
        if p < *at {
            return;
        }
        if let Some((ty, r, end)) = self.try_at(group, hay, p, 0, ctx) {
            out.push(Hit { ty, range: r });
            *at = end;
        }
    }

    /// Runs the group's regex over `span` of `hay` (look-around sees the
    /// bytes outside it); matches must lie inside the span.
    fn scan_span(
        &self,
        group: &Group,
        hay: &[u8],
        span: Range<usize>,
        ctx: ScanCtx,
        out: &mut Vec<Hit>,
    ) {
        let defs = &group.defs;
        let mut at = span.start;
        while at < span.end {
            // Most searches of a long haystack find nothing: ruled out four
            // segments at a time (the same answer, `detect::chains`).
            if self.prefilter && span.end == hay.len() && !group.engine.may_match_from(hay, at) {
                break;
            }
            let Some(m) = group.engine.search(&Input::new(hay).range(at..span.end)) else {
                break;
            };
            let start = m.start();
            let pid = m.pattern().as_usize();
            if let Some(r) = self.accept(&defs[pid], hay, m.range(), ctx) {
                out.push(Hit {
                    ty: defs[pid].ty,
                    range: r,
                });
                at = m.end().max(start + 1);
                continue;
            }
            // Leftmost-first: no earlier pattern matches here, but a later one may.
            match self.try_at(group, hay, start, pid + 1, ctx) {
                Some((ty, r, end)) => {
                    out.push(Hit { ty, range: r });
                    at = end.max(start + 1);
                }
                None => at = start + 1,
            }
        }
    }

    /// Tries patterns `from..` of `group` anchored at `start`, in priority order.
    fn try_at(
        &self,
        group: &Group,
        hay: &[u8],
        start: usize,
        from: usize,
        ctx: ScanCtx,
    ) -> Option<(PhiType, Range<usize>, usize)> {
        let b = hay.get(start).copied()?;
        // Numeric candidates right after a number are all rejected as glued.
        let glued_start = glued_before(hay, start);
        for (next, def) in group.defs.iter().enumerate().skip(from) {
            if !group.first[next][usize::from(b)] || (def.numeric && glued_start) {
                continue;
            }
            if self.prefilter && !self.context_possible(def, start, ctx) {
                continue;
            }
            let pattern = PatternID::new(next).ok()?;
            let input = Input::new(hay)
                .range(start..)
                .anchored(Anchored::Pattern(pattern));
            if let Some(m) = group.engine.search(&input) {
                if let Some(r) = self.accept(def, hay, m.range(), ctx) {
                    return Some((def.ty, r, m.end()));
                }
            }
        }
        None
    }

    /// Whether a hit of `def` starting at `start` could pass the context rule
    /// in [`Scanner::accept`]: checked before an anchored search, so it must
    /// cost next to nothing; it only rules out windows too short to hold a
    /// keyword (field values: most candidates start at 0). Checks that move
    /// the value start past the match start are always searched.
    fn context_possible(&self, def: &PatternDef, start: usize, ctx: ScanCtx) -> bool {
        def.context != Context::Required
            || !def.check.keeps_start()
            || ctx.key == Some(KeyClass::Builtin(def.ty))
            || self.context.window_fits(def.ty, start)
    }

    /// Runs the post-match check and context rule; returns the value range.
    fn accept(
        &self,
        def: &PatternDef,
        hay: &[u8],
        r: Range<usize>,
        ctx: ScanCtx,
    ) -> Option<Range<usize>> {
        if def.numeric && glued(hay, &r) {
            return None;
        }
        let mut r = r;
        let bytes = &hay[r.clone()];
        let ok = match def.check {
            Check::None => true,
            Check::Card => validate::credit_card(bytes),
            Check::Ssn => validate::ssn(bytes),
            Check::Phone => validate::phone_with_extension(bytes),
            Check::Mbi => validate::mbi(bytes),
            Check::Dea => validate::dea(bytes),
            Check::Npi => validate::npi(bytes),
            Check::Date => {
                validate::any_date(&strip_ordinals(bytes)) && !followed_by_time(hay, r.end)
            }
            Check::Ipv4 => validate::ipv4(bytes),
            Check::TrailingToken { min_digits } => {
                r.start = trailing_token(hay, &r);
                let v = &hay[r.clone()];
                v.iter().filter(|b| b.is_ascii_digit()).count() >= usize::from(min_digits)
            }
            Check::AfterSpace => {
                let sp = bytes.iter().position(|b| *b == b' ' || *b == b'\t');
                let skip = sp.map_or(0, |i| {
                    i + bytes[i..]
                        .iter()
                        .take_while(|b| **b == b' ' || **b == b'\t')
                        .count()
                });
                r.start += skip;
                sp.is_some()
            }
            Check::PassportToken => {
                r.start = trailing_token(hay, &r);
                passport_ok(&hay[r.clone()])
            }
            Check::TrailingZip => {
                r.start = trailing_token(hay, &r);
                validate::zip(&hay[r.clone()])
            }
        };
        if !ok || r.is_empty() {
            return None;
        }
        if def.context == Context::Required
            && ctx.key != Some(KeyClass::Builtin(def.ty))
            && !self.context.has_keyword(def.ty, hay, r.start)
        {
            return None;
        }
        Some(r)
    }

    fn scan_custom(&self, det: &CustomDetector, hay: &[u8], ctx: ScanCtx, out: &mut Vec<Hit>) {
        let keyed = ctx.key == Some(KeyClass::Custom(det.index));
        let mut push = |r: Range<usize>| {
            if r.is_empty() {
                return;
            }
            if let Some(v) = det.validator {
                if !custom_validate(v, &hay[r.clone()]) {
                    return;
                }
            }
            if let Some(ac) = &det.keywords {
                if !keyed && !keyword_before(ac, hay, r.start) {
                    return;
                }
            }
            out.push(Hit {
                ty: PhiType::Custom(det.index),
                range: r,
            });
        };
        match det.value_group {
            Some(g) => {
                for caps in det.re.captures_iter(hay) {
                    if let Some(m) = caps.get(g) {
                        push(m.range());
                    }
                }
            }
            None => {
                for m in det.re.find_iter(hay) {
                    push(m.range());
                }
            }
        }
    }
}

fn is_local_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-')
}

fn is_domain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// Finds e-mail addresses around each `@`, `%40` or `%2540`.
fn scan_email(hay: &[u8], out: &mut Vec<Hit>) {
    let mut next = 0;
    for p in memchr::memchr2_iter(b'@', b'%', hay) {
        if p < next {
            continue;
        }
        let sep = if hay[p] == b'@' {
            1
        } else if hay[p..].starts_with(b"%40") {
            3
        } else if hay[p..].starts_with(b"%2540") {
            5
        } else {
            continue;
        };
        // Never reach back into the previous address (`a@b.co@c.de`).
        let mut s = p;
        while s > next && is_local_byte(hay[s - 1]) {
            s -= 1;
        }
        s += email_prefix_skip(hay, s);
        let mut e = p + sep;
        while e < hay.len() && is_domain_byte(hay[e]) {
            e += 1;
        }
        while e > p + sep && matches!(hay[e - 1], b'.' | b'-') {
            e -= 1;
        }
        if s >= p || e <= p + sep {
            continue;
        }
        let domain = &hay[p + sep..e];
        let Some(dot) = domain.iter().rposition(|&b| b == b'.') else {
            continue;
        };
        let tld = &domain[dot + 1..];
        let tld_ok = (2..=24).contains(&tld.len())
            && tld.iter().all(u8::is_ascii_alphabetic)
            && domain.len() <= 253;
        let end_ok = e == hay.len() || !(hay[e].is_ascii_alphanumeric() || hay[e] == b'_');
        if tld_ok && end_ok && dot > 0 && email_ok(&hay[s..e]) {
            out.push(Hit {
                ty: PhiType::Email,
                range: s..e,
            });
            next = e;
        }
    }
}

/// Finds IPv6 addresses: expands around each `:` over hex digits, colons and
/// dots, and validates the token. Most haystacks with a `:` hold times and
/// URLs (`13:55:07`, `https:`), too few colons for an address spelled out
/// and no `::`: they are ruled out first, in one pass over the colons.
fn scan_ipv6(hay: &[u8], out: &mut Vec<Hit>) {
    if colons_allow_ipv6(hay) {
        scan_ipv6_tokens(hay, out);
    }
}

/// Whether `hay` holds a `::` or [`validate::IPV6_FULL_MIN_COLONS`] colons:
/// every address [`validate::ipv6`] accepts holds one or the other, and a
/// token holds no more colons than its haystack.
fn colons_allow_ipv6(hay: &[u8]) -> bool {
    let mut colons = 0;
    let mut after_last = usize::MAX;
    for p in memchr::memchr_iter(b':', hay) {
        colons += 1;
        if p == after_last || colons >= validate::IPV6_FULL_MIN_COLONS {
            return true;
        }
        after_last = p + 1;
    }
    false
}

/// [`scan_ipv6`] without its colon check.
fn scan_ipv6_tokens(hay: &[u8], out: &mut Vec<Hit>) {
    let is_tok = |b: u8| b.is_ascii_hexdigit() || b == b':' || b == b'.';
    let mut next = 0;
    for colon in memchr::memchr_iter(b':', hay) {
        if colon < next {
            continue;
        }
        let mut s = colon;
        while s > 0 && is_tok(hay[s - 1]) {
            s -= 1;
        }
        let mut e = colon + 1;
        while e < hay.len() && is_tok(hay[e]) {
            e += 1;
        }
        next = e;
        // Trim a trailing dot or colon (end of sentence, `ip:` labels).
        while e > s && matches!(hay[e - 1], b'.' | b':') && !hay[s..e].ends_with(b"::") {
            e -= 1;
        }
        // `%B5:2::` is a percent escape followed by text, not an address.
        let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'%';
        // After `]` or `.` the token is the tail of something else (a mask, a
        // dotted number): `[REDACTED:IPV4]::a:a`.
        let glued_before = s > 0 && (word(hay[s - 1]) || matches!(hay[s - 1], b']' | b'.'));
        if glued_before || (e < hay.len() && word(hay[e])) {
            continue;
        }
        if validate::ipv6(&hay[s..e]) {
            out.push(Hit {
                ty: PhiType::Ipv6,
                range: s..e,
            });
        }
    }
}

/// Whether `hay` holds enough `:` for an IPv6 address
/// ([`validate::IPV6_MIN_COLONS`]): without them `scan_ipv6` finds none.
pub fn may_hold_ipv6(hay: &[u8]) -> bool {
    // A search that stops at the third: most haystacks with a `:` have
    // one (`https://…`), and counting every byte cost more than the rest
    // of a URL's pre-check.
    memchr::memchr_iter(b':', hay)
        .nth(validate::IPV6_MIN_COLONS - 1)
        .is_some()
}

/// Generates "keyword, separator, value" patterns for MRN, insurance, passport and DL.
/// "Keyword, separator, value" patterns for MRN, insurance, passport and DL,
/// with the keywords each one starts with.
fn keyword_value_patterns(cfg: &ScannerConfig<'_>) -> Vec<(PatternDef, String, Vec<String>)> {
    let mut out = Vec::new();
    for ty in patterns::KEYWORD_VALUE_TYPES {
        if !(cfg.enabled)(ty) {
            continue;
        }
        let words = (cfg.keywords)(ty);
        if words.is_empty() {
            continue;
        }
        let alts: Vec<String> = words.iter().map(|w| regex::escape(w)).collect();
        let src = format!(
            r"(?i:\b(?:{}))[ \t:#=\-]+(?:(?i:number|num|no|id)\.?[ \t:#=\-]+)?[A-Za-z0-9][A-Za-z0-9\-]{{3,24}}\b",
            alts.join("|")
        );
        let check = match ty {
            PhiType::Passport => Check::PassportToken,
            PhiType::DriverLicense => Check::TrailingToken { min_digits: 3 },
            _ => Check::TrailingToken { min_digits: 2 },
        };
        let def = PatternDef {
            ty,
            regex: "",
            check,
            context: Context::Free,
            numeric: false,
        };
        out.push((def, src, words));
    }
    out
}

fn compile_custom(i: usize, spec: &CustomDetectorSpec) -> Result<CustomDetector, EngineError> {
    let index = u16::try_from(i).map_err(|_| EngineError::Invalid {
        path: "custom".into(),
        problem: "too many custom detectors".into(),
    })?;
    let re = regex::bytes::RegexBuilder::new(&spec.regex)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| EngineError::InvalidRegex {
            path: format!("custom[{i}].regex"),
            message: e.to_string(),
        })?;
    if re.is_match(b"") {
        return Err(EngineError::InvalidRegex {
            path: format!("custom[{i}].regex"),
            message: "matches the empty string".into(),
        });
    }
    let value_group = re.capture_names().position(|n| n == Some("value"));
    let keywords = if spec.keywords.is_empty() {
        None
    } else {
        Some(keyword_automaton(
            &spec.keywords,
            &format!("custom[{i}].keywords"),
        )?)
    };
    Ok(CustomDetector {
        index,
        re,
        value_group,
        keywords,
        validator: spec.validator,
    })
}

fn custom_validate(v: ValidatorSpec, s: &[u8]) -> bool {
    match v {
        ValidatorSpec::Luhn => validate::luhn(s),
        ValidatorSpec::Npi => validate::npi(s),
        ValidatorSpec::Dea => validate::dea(s),
        ValidatorSpec::Ssn => validate::ssn(s),
        ValidatorSpec::Mbi => validate::mbi(s),
    }
}

/// A numeric candidate starting at `s` would be glued to the number before it.
fn glued_before(hay: &[u8], s: usize) -> bool {
    if s == 0 {
        return false;
    }
    let p = hay[s - 1];
    // `%20.8.1.8`: the leading digits belong to a percent escape.
    p.is_ascii_digit()
        || p == b'%'
        || (matches!(p, b'.' | b'-' | b'/' | b',') && s >= 2 && hay[s - 2].is_ascii_digit())
}

/// A numeric candidate glued to a longer number (`1.2125550143`, `2125550143-7`).
fn glued(hay: &[u8], r: &Range<usize>) -> bool {
    if glued_before(hay, r.start) {
        return true;
    }
    let e = r.end;
    if e < hay.len() {
        let n = hay[e];
        if n.is_ascii_digit()
            || (matches!(n, b'.' | b'-' | b'/') && e + 1 < hay.len() && hay[e + 1].is_ascii_digit())
        {
            return true;
        }
    }
    false
}

/// `%3Djohn%40x.com`: the local part must not start with a percent escape's hex digits.
fn email_prefix_skip(hay: &[u8], start: usize) -> usize {
    if start > 0
        && hay[start - 1] == b'%'
        && hay.len() >= start + 2
        && hay[start].is_ascii_hexdigit()
        && hay[start + 1].is_ascii_hexdigit()
    {
        2
    } else {
        0
    }
}

/// Rejects asset names like `icon@2x.png` and over-long local parts.
fn email_ok(s: &[u8]) -> bool {
    let (local, domain) = if let Some(i) = memchr::memchr(b'@', s) {
        (&s[..i], &s[i + 1..])
    } else if let Some(i) = memchr::memmem::find(s, b"%2540") {
        (&s[..i], &s[i + 5..])
    } else if let Some(i) = memchr::memmem::find(s, b"%40") {
        (&s[..i], &s[i + 3..])
    } else {
        return false;
    };
    if local.is_empty()
        || local.len() > 64
        || local[0] == b'.'
        || local[local.len() - 1] == b'.'
        || !local.iter().any(u8::is_ascii_alphanumeric)
    {
        return false;
    }
    let labels_ok = domain
        .split(|&b| b == b'.')
        .all(|l| !l.is_empty() && l[0] != b'-' && l[l.len() - 1] != b'-');
    if !labels_ok {
        return false;
    }
    let first_label = domain.split(|&b| b == b'.').next().unwrap_or(domain);
    if first_label.len() >= 2
        && first_label.ends_with(b"x")
        && first_label[..first_label.len() - 1]
            .iter()
            .all(u8::is_ascii_digit)
    {
        return false;
    }
    let tld = domain.rsplit(|&b| b == b'.').next().unwrap_or(domain);
    const FILE_EXT: [&[u8]; 12] = [
        b"png", b"jpg", b"jpeg", b"gif", b"svg", b"webp", b"css", b"js", b"ico", b"avif", b"bmp",
        b"tiff",
    ];
    !FILE_EXT.iter().any(|e| tld.eq_ignore_ascii_case(e))
}

/// Removes ordinal suffixes (`14th` → `14`) into a small stack buffer.
fn strip_ordinals(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let b = s[i];
        if i > 0 && s[i - 1].is_ascii_digit() && i + 1 < s.len() {
            let two = [s[i].to_ascii_lowercase(), s[i + 1].to_ascii_lowercase()];
            if matches!(&two, b"st" | b"nd" | b"rd" | b"th") {
                i += 2;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    out
}

/// `1985-03-14T10:00` or `2024-01-02 10:11:12`: a timestamp, not a birth date.
fn followed_by_time(hay: &[u8], end: usize) -> bool {
    let rest = &hay[end..];
    rest.len() >= 4
        && matches!(rest[0], b'T' | b' ')
        && rest[1].is_ascii_digit()
        && (rest[2] == b':' || (rest[2].is_ascii_digit() && rest[3] == b':'))
}

/// Start of the last `[A-Za-z0-9-]` run in the match.
fn trailing_token(hay: &[u8], r: &Range<usize>) -> usize {
    let mut s = r.end;
    while s > r.start && (hay[s - 1].is_ascii_alphanumeric() || hay[s - 1] == b'-') {
        s -= 1;
    }
    s
}

/// US passport book/card numbers: 9 digits, or one letter and 8 digits.
fn passport_ok(v: &[u8]) -> bool {
    v.len() == 9
        && v[1..].iter().all(u8::is_ascii_digit)
        && (v[0].is_ascii_digit() || v[0].is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_needs_three_colons() {
        for (hay, want) in [
            ("", false),
            ("https://shop.example/a", false),
            ("a:b:c", false),
            ("a:b:c:d", true),
            (":::", true),
            ("fe80::1:2", true),
        ] {
            let counted = hay.bytes().filter(|&b| b == b':').count() >= validate::IPV6_MIN_COLONS;
            assert_eq!(may_hold_ipv6(hay.as_bytes()), want, "{hay}");
            assert_eq!(counted, want, "{hay}");
        }
    }

    /// The default scanner and the same with every prefilter off, built
    /// once for the proptests that compare them.
    fn fast_and_slow() -> &'static (Scanner, Scanner) {
        static SCANNERS: std::sync::OnceLock<(Scanner, Scanner)> = std::sync::OnceLock::new();
        SCANNERS.get_or_init(|| {
            let mut slow = scanner();
            slow.set_prefilter(false);
            (scanner(), slow)
        })
    }

    fn scanner() -> Scanner {
        let kw = |t: PhiType| {
            patterns::default_keywords(t)
                .iter()
                .map(|s| s.to_string())
                .collect()
        };
        Scanner::compile(&ScannerConfig {
            enabled: &|_| true,
            keywords: &kw,
            custom: &[],
        })
        .unwrap()
    }

    proptest::proptest! {
        /// A haystack meets one of the frontier's needs exactly when it
        /// meets one of all the needs.
        #[test]
        fn need_frontier_answers_like_all_needs(
            needs in proptest::collection::vec(
                (0usize..12, 0usize..6, proptest::option::of(proptest::sample::select(&b" -."[..]))),
                0..12,
            ),
            len in 0usize..14,
            digits in 0usize..8,
            has in proptest::collection::vec(proptest::bool::ANY, 3),
        ) {
            let needs: Vec<Need> = needs
                .into_iter()
                .map(|(len, digits, byte)| Need { len, digits, byte })
                .collect();
            let meets = |n: &Need| {
                len >= n.len
                    && digits >= n.digits
                    && n.byte.is_none_or(|b| has[b" -.".iter().position(|&x| x == b).unwrap_or(0)])
            };
            let frontier = Need::frontier(needs.clone());
            proptest::prop_assert!(frontier.len() <= needs.len());
            proptest::prop_assert_eq!(frontier.iter().any(meets), needs.iter().any(meets));
        }
    }

    #[test]
    fn gates_keep_no_need_another_implies() {
        for g in &scanner().groups {
            for (i, a) in g.needs.iter().enumerate() {
                for (j, b) in g.needs.iter().enumerate() {
                    assert!(i == j || !a.implied_by(b), "{a:?} is implied by {b:?}");
                }
            }
        }
    }

    #[test]
    fn word_tokens_nothing_can_match_in_are_skipped() {
        let mut s = scanner();
        // Tag manager ids, screen sizes, plain words with digits, SKUs,
        // UUIDs, locales: no pattern matches a run of their words, and
        // none can match inside a word.
        for clean in [
            "45je3b10",
            "1920x1080",
            "v2",
            "item_42",
            "abc123",
            "a-b",
            "en-us",
            "WX-2291-L",
            "G-8XK2P1QZ7",
            "550e8400-e29b-41d4-a716-446655440000",
            "running-shoes-for-trail-and-road",
        ] {
            assert!(s.skips_word_token(clean.as_bytes()), "{clean}");
            assert!(types(&s, clean).is_empty(), "{clean}");
        }
        // A card number, a Medicare id, an AWS key id are word tokens that
        // a pattern matches whole; a bare 9-digit number may be an SSN (with
        // a keyword nearby). Among `-`-joined words, a run of them can be
        // an SSN, a phone number, a dashed card or Medicare id, and a
        // keyword pattern starts with a word (`mrn-…`). `1 2`, `a--b` and
        // `-ab` are no word tokens.
        for (scanned, ty) in [
            ("4111111111111111", Some(PhiType::CreditCard)),
            ("219445678", None),
            ("1EG4TE5MK73", Some(PhiType::Mbi)),
            ("AKIAIOSFODNN7EXAMPLE", Some(PhiType::AwsAccessKey)),
            ("ssn-219-44-5678", Some(PhiType::Ssn)),
            ("call-212-555-0143", Some(PhiType::Phone)),
            ("x-4111-1111-1111-1111", Some(PhiType::CreditCard)),
            ("1EG4-TE5-MK73", Some(PhiType::Mbi)),
            ("mrn-00123456", Some(PhiType::Mrn)),
            ("id-AKIAIOSFODNN7EXAMPLE-v2", Some(PhiType::AwsAccessKey)),
            ("1 2", None),
            ("a--b", None),
            ("-ab", None),
        ] {
            assert!(!s.skips_word_token(scanned.as_bytes()), "{scanned}");
            if let Some(ty) = ty {
                assert_eq!(
                    types(&s, scanned).first().map(|t| t.0),
                    Some(ty),
                    "{scanned}"
                );
            }
        }
        s.set_prefilter(false);
        assert!(!s.skips_word_token(b"45je3b10"));
    }

    proptest::proptest! {
        /// Whatever the word-token facts skip, the scanner with every
        /// prefilter off finds nothing in.
        #[test]
        fn skipped_word_tokens_hold_nothing(
            hay in proptest::string::string_regex(
                "[0-9]{0,12}[A-Za-z_]{0,3}[0-9]{0,12}|[A-Z0-9]{1,20}|[a-z0-9_]{1,16}\
                 |[A-Za-z0-9]{1,6}(-[A-Za-z0-9_]{1,6}){1,7}\
                 |(ssn|mrn|id|tel|dob|npi|[a-z]{1,3})(-[0-9]{1,5}){1,4}(-[A-Z0-9]{1,4})?",
            )
            .unwrap(),
        ) {
            let (fast, slow) = fast_and_slow();
            if fast.skips_word_token(hay.as_bytes()) {
                proptest::prop_assert_eq!(types(slow, &hay), Vec::new(), "{}", hay);
            }
        }
    }

    #[test]
    fn ipv6_needs_a_double_colon_or_six_colons_in_the_haystack() {
        let found = |hay: &str| {
            let mut out = Vec::new();
            scan_ipv6(hay.as_bytes(), &mut out);
            out.len()
        };
        for clean in [
            "[10/Oct/2023:13:55:07 +0000] \"GET https://shop.example/a HTTP/1.1\"",
            "at 12:30:45 and 1:2:3",
        ] {
            assert!(!colons_allow_ipv6(clean.as_bytes()), "{clean}");
            assert_eq!(found(clean), 0, "{clean}");
        }
        for (hay, n) in [
            ("client 2001:db8::8a2e:370:7334 x", 1),
            ("client fe80::1ff:fe23:4567:890a x", 1),
            ("client 2001:0db8:85a3:0000:0000:8a2e:0370:7334 x", 1),
            ("v4 tail 0:0:0:0:0:ffff:192.0.2.1", 1),
            ("time 1:2:3:4:5:6:7 only", 0),
        ] {
            assert!(colons_allow_ipv6(hay.as_bytes()), "{hay}");
            assert_eq!(found(hay), n, "{hay}");
        }
    }

    proptest::proptest! {
        /// Where the colon check rules a haystack out, the token scan
        /// finds no address in it.
        #[test]
        fn haystacks_the_colon_check_rules_out_hold_no_ipv6(
            hay in proptest::string::string_regex("([0-9a-fA-F]{0,4}[:.]{1,2}){0,9}[0-9a-fA-F]{0,4}( [a-z:]{0,3} )?")
                .unwrap(),
        ) {
            if !colons_allow_ipv6(hay.as_bytes()) {
                let mut out = Vec::new();
                scan_ipv6_tokens(hay.as_bytes(), &mut out);
                proptest::prop_assert!(out.is_empty(), "{}", hay);
            }
        }
    }

    #[test]
    fn digitless_text_without_a_candidate_start_is_skipped() {
        let mut s = scanner();
        for clean in [
            "Running Shoes | Shop",
            "Blue Widget Deluxe Edition, large",
            "https://shop.example/products/running-shoes",
        ] {
            assert!(s.skips_digitless(clean.as_bytes()), "{clean}");
            assert!(types(&s, clean).is_empty(), "{clean}");
        }
        // Secrets and bearer tokens can be spelled without a digit.
        for (scanned, ty) in [
            ("key AKIAIOSFODNNAEXAMPLE", PhiType::AwsAccessKey),
            ("Bearer abcdefghijklmnopqrstuv", PhiType::BearerToken),
            (
                "t=shpat_abcdefabcdefabcdefabcdefabcdefab",
                PhiType::ShopifyToken,
            ),
        ] {
            assert!(!s.skips_digitless(scanned.as_bytes()), "{scanned}");
            assert_eq!(types(&s, scanned).first().map(|t| t.0), Some(ty));
        }
        s.set_prefilter(false);
        assert!(!s.skips_digitless(b"Running Shoes | Shop"));
    }

    proptest::proptest! {
        /// Whatever the digit-free pre-check skips, the scanner with every
        /// prefilter off finds nothing in.
        #[test]
        fn skipped_digitless_text_holds_nothing(
            hay in proptest::string::string_regex(
                "([A-Za-z_ .|/:\\-]{1,12}|AKIA|ASIA|sk_live_|rk_live_|shpat_|eyJ|[Bb]earer |BEARER |::){1,8}",
            )
            .unwrap(),
        ) {
            let (fast, slow) = fast_and_slow();
            // The contract: too few `:` for IPv6.
            if !may_hold_ipv6(hay.as_bytes()) && fast.skips_digitless(hay.as_bytes()) {
                proptest::prop_assert_eq!(types(slow, &hay), Vec::new(), "{}", hay);
            }
        }
    }

    #[test]
    fn number_tokens_nothing_can_hit_in_are_skipped() {
        let mut s = scanner();
        // GA client ids, epoch seconds, prices: no pattern fits them
        // outside a field. Epoch milliseconds have a card's length, but no
        // card number starts with `1`.
        for clean in [
            "1700000000",
            "123456789.1700000000",
            "129.99",
            "7",
            "1700000000005",
        ] {
            assert!(s.skips_number_token(clean.as_bytes()), "{clean}");
            assert!(types(&s, clean).is_empty(), "{clean}");
        }
        // Card, phone, IPv4 and date lengths are scanned, as is anything
        // that is no number token.
        for scanned in [
            "4111111111111111",
            "212-555-0143",
            "10.1.2.3",
            "4000000000006",
            "12ab",
            "1..2",
            "1.2.3.4.5.6",
        ] {
            assert!(!s.skips_number_token(scanned.as_bytes()), "{scanned}");
        }
        assert_eq!(types(&s, "4111111111111111").len(), 1);
        s.set_prefilter(false);
        assert!(!s.skips_number_token(b"1700000000"));
    }

    fn types(s: &Scanner, text: &str) -> Vec<(PhiType, String)> {
        let mut out = Vec::new();
        s.scan(text.as_bytes(), ScanCtx::default(), &mut out);
        out.into_iter()
            .map(|h| (h.ty, text[h.range].to_string()))
            .collect()
    }

    #[test]
    fn finds_the_basics() {
        let s = scanner();
        let t = types(
            &s,
            "mail jane.doe@example.com or call (212) 555-0143, SSN 219-44-5678",
        );
        assert_eq!(
            t,
            vec![
                (PhiType::Email, "jane.doe@example.com".into()),
                (PhiType::Phone, "(212) 555-0143".into()),
                (PhiType::Ssn, "219-44-5678".into()),
            ]
        );
        let t = types(&s, "to a%2540b.org, c%40d.net; x@y.co@z.io ++.@..Dy");
        assert_eq!(
            t,
            vec![
                (PhiType::Email, "a%2540b.org".into()),
                (PhiType::Email, "c%40d.net".into()),
                (PhiType::Email, "x@y.co".into()),
            ]
        );
        let t = types(&s, "card 4111 1111 1111 1111 exp 12/27 from 203.0.113.9");
        assert_eq!(t[0], (PhiType::CreditCard, "4111 1111 1111 1111".into()));
        assert_eq!(t[1], (PhiType::Ipv4, "203.0.113.9".into()));
        let t = types(
            &s,
            "MRN: 00482913 Member ID: XK8823411 passport no. 512345678",
        );
        assert_eq!(t[0], (PhiType::Mrn, "00482913".into()));
        assert_eq!(t[1], (PhiType::InsuranceId, "XK8823411".into()));
        assert_eq!(t[2], (PhiType::Passport, "512345678".into()));
    }

    #[test]
    fn hard_negatives_pass() {
        let s = scanner();
        for text in [
            "ts=1700000000 ms=1700000000123 ga=GA1.2.123456789.1700000000",
            "order 4111111111111112 sku WX-2291-L v2.14.1 price 19.99",
            "id 550e8400-e29b-41d4-a716-446655440000 at 2024-01-02 10:11:12",
            "iPhone 15 2125550143 icon@2x.png pk_live_51Habcdefghijklmnop",
            "digest 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        ] {
            assert_eq!(types(&s, text), vec![], "{text}");
        }
    }

    /// The secrets patterns, in priority order.
    const SECRETS: [PhiType; 4] = [
        PhiType::AwsAccessKey,
        PhiType::StripeSecretKey,
        PhiType::ShopifyToken,
        PhiType::Jwt,
    ];

    proptest::proptest! {
        /// Secrets run only at word starts where one of their literal
        /// prefixes begins (in the keyword group): on text with no other
        /// type enabled, that finds exactly what one leftmost-first regex
        /// over every byte finds.
        #[test]
        fn secrets_at_word_starts_match_a_full_scan(parts in proptest::collection::vec(
            proptest::sample::select(&[
                "AKIAIOSFODNN7EXAMPLE", "ASIAIOSFODNN7EXAMPL", "AKIA", "sk_live_",
                "rk_live_4eC39HqLyjWDarjtT1zd", "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
                "shpat_0123456789abcdef0123456789abcdef", "shpca_", "eyJ",
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdefghij",
                "x", "_", "-", ".", " ", "9", "Q", "\u{e9}", "sh", "ey", "AK",
            ][..]),
            0..16,
        )) {
            let hay = parts.concat();
            let enabled = |t: PhiType| SECRETS.contains(&t);
            let s = Scanner::compile(&ScannerConfig {
                enabled: &enabled,
                keywords: &|_| Vec::new(),
                custom: &[],
            })
            .unwrap();
            let mut hits = Vec::new();
            s.scan(hay.as_bytes(), ScanCtx::default(), &mut hits);
            let defs = patterns::builtin();
            let alternation = SECRETS
                .iter()
                .filter_map(|t| defs.iter().find(|d| d.ty == *t))
                .map(|d| format!("({})", d.regex))
                .collect::<Vec<_>>()
                .join("|");
            let re = regex::bytes::RegexBuilder::new(&alternation)
                .unicode(false)
                .build()
                .unwrap();
            let want: Vec<Hit> = re
                .captures_iter(hay.as_bytes())
                .filter_map(|c| {
                    let i = (1..=SECRETS.len()).find(|&i| c.get(i).is_some())?;
                    Some(Hit { ty: SECRETS[i - 1], range: c.get(0)?.range() })
                })
                .collect();
            proptest::prop_assert_eq!(hits, want, "{}", hay);
        }
    }

    #[test]
    fn digitless_haystacks_need_a_secret_length() {
        // The shortest digit-free pattern is an AWS key id (`AKIA` + 16).
        let s = scanner();
        assert!(s.may_hit_without_digits(20));
        assert!(!s.may_hit_without_digits(19));
        assert_eq!(
            types(&s, "AKIAIOSFODNNAEXAMPLE")[0].0,
            PhiType::AwsAccessKey
        );
        let mut off = s.clone();
        off.set_prefilter(false);
        assert!(off.may_hit_without_digits(0));
    }

    #[test]
    fn context_rules() {
        let s = scanner();
        assert_eq!(types(&s, "phone 2125550143")[0].0, PhiType::Phone);
        assert_eq!(types(&s, "dob: 1985-03-14")[0].0, PhiType::DateOfBirth);
        assert_eq!(
            types(&s, "born March 14th, 1985")[0].0,
            PhiType::DateOfBirth
        );
        assert_eq!(types(&s, "NPI 1234567893")[0].0, PhiType::Npi);
        assert_eq!(types(&s, "ssn 219445678")[0].0, PhiType::Ssn);
        assert!(types(&s, "dob at 2024-01-02 10:11:12").is_empty());
    }
}
