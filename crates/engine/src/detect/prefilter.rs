//! Cheap byte-level facts the scanner's prefilters use to skip text in which
//! a pattern group provably cannot match: digit counts and word starts.
//!
//! Everything here works eight bytes at a time on `u64` words (SWAR), in safe
//! code; the facts it relies on come from [`super::shape`].

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Loads up to eight bytes little-endian (missing bytes are zero).
#[inline]
fn load(chunk: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    buf[..chunk.len()].copy_from_slice(chunk);
    u64::from_le_bytes(buf)
}

/// High bit of each byte set when the byte (< 0x80) is `>= c`.
#[inline]
fn ge(low7: u64, c: u8) -> u64 {
    (low7 + ONES * u64::from(0x80 - c)) & HIGH
}

/// High bit of each byte set when the byte is an ASCII digit.
#[inline]
pub fn digit_mask(x: u64) -> u64 {
    let y = x & !HIGH;
    ge(y, b'0') & !ge(y, b'9' + 1) & !x & HIGH
}

/// High bit of each byte set when the byte is ASCII alphanumeric.
#[inline]
pub fn alnum_mask(x: u64) -> u64 {
    let (letter, digit) = letter_digit_masks(x);
    letter | digit
}

/// High bits of the ASCII letters and of the ASCII digits among the bytes.
#[inline]
fn letter_digit_masks(x: u64) -> (u64, u64) {
    let y = x & !HIGH;
    let l = y | (ONES * 0x20);
    let letter = ge(l, b'a') & !ge(l, b'z' + 1) & !x & HIGH;
    let digit = ge(y, b'0') & !ge(y, b'9' + 1) & !x & HIGH;
    (letter, digit)
}

/// Which word starts [`for_each_word_start`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WordLead {
    /// Words starting with an ASCII letter or digit.
    Alnum,
    /// Words starting with an ASCII letter.
    Letter,
}

/// Words whose digit bits are added into one `u64` of byte lanes before
/// the lanes are summed: each lane gains at most one a word, and with 31
/// words the sum of the eight lanes still fits the top byte.
const LANE_WORDS: usize = 31;

/// The sum of the byte lanes of `lanes` (at most 255 in total).
#[inline]
fn lane_sum(lanes: u64) -> usize {
    (lanes.wrapping_mul(ONES) >> 56) as usize
}

/// Number of ASCII digits in `s`.
#[inline(never)]
pub fn count_digits(s: &[u8]) -> usize {
    // Per-lane counts (one bit per digit, added into each byte lane) are
    // summed with one multiply per block of 31 words: cheaper than a
    // population count per word on targets without a `popcnt` instruction.
    let mut n = 0;
    let mut blocks = s.chunks_exact(8 * LANE_WORDS);
    for block in &mut blocks {
        n += lane_sum(block.chunks_exact(8).fold(0, |lanes, c| {
            lanes + (digit_mask(u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))) >> 7)
        }));
    }
    let mut chunks = blocks.remainder().chunks_exact(8);
    let lanes = (&mut chunks).fold(0, |lanes, c| {
        lanes + (digit_mask(u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))) >> 7)
    });
    n + lane_sum(lanes)
        + chunks
            .remainder()
            .iter()
            .filter(|b| b.is_ascii_digit())
            .count()
}

/// Calls `f` with every word start in `s` whose first byte is of the `lead`
/// kind: a word is a run of ASCII alphanumeric bytes (it starts at 0 or after
/// a byte that is not one).
#[inline]
pub fn for_each_word_start(s: &[u8], lead: WordLead, mut f: impl FnMut(usize)) {
    let mut prev = 0u64; // the previous chunk's alnum mask
    let mut chunks = s.chunks_exact(8);
    let mut i = 0;
    let mut emit = |x: u64, i: usize, prev: &mut u64| {
        let (letter, digit) = letter_digit_masks(x);
        let alnum = letter | digit;
        let first = if lead == WordLead::Letter {
            letter
        } else {
            alnum
        };
        let mut starts = first & !((alnum << 8) | (*prev >> 56));
        while starts != 0 {
            f(i + (starts.trailing_zeros() / 8) as usize);
            starts &= starts - 1;
        }
        *prev = alnum;
    };
    for c in &mut chunks {
        emit(
            u64::from_le_bytes(c.try_into().unwrap_or([0; 8])),
            i,
            &mut prev,
        );
        i += 8;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        emit(load(rest), i, &mut prev);
    }
}

/// [`for_each_word_start`] that also counts the ASCII digits in `s` (what
/// [`count_digits`] returns) in the same pass, for a haystack whose digits
/// are not known yet: one pass instead of two.
#[inline]
pub fn for_each_word_start_counting_digits(
    s: &[u8],
    lead: WordLead,
    f: impl FnMut(usize),
) -> usize {
    match lead {
        WordLead::Letter => word_starts::<true>(s, f),
        WordLead::Alnum => word_starts::<false>(s, f),
    }
}

/// [`for_each_word_start_counting_digits`] with the lead kind fixed at
/// compile time (`LETTER`: letter-led words only).
#[inline]
fn word_starts<const LETTER: bool>(s: &[u8], mut f: impl FnMut(usize)) -> usize {
    let mut prev = 0u64; // the previous word's alnum mask
    let mut i = 0;
    // Reports the word starts among the eight bytes of `x` (at `i`) and
    // returns their digit bits, one per byte lane.
    let mut emit = |x: u64, i: usize, prev: &mut u64| -> u64 {
        let (letter, digit) = letter_digit_masks(x);
        let alnum = letter | digit;
        let first = if LETTER { letter } else { alnum };
        let mut starts = first & !((alnum << 8) | (*prev >> 56));
        while starts != 0 {
            f(i + (starts.trailing_zeros() / 8) as usize);
            starts &= starts - 1;
        }
        *prev = alnum;
        digit >> 7
    };
    let mut digits = 0;
    let mut blocks = s.chunks_exact(8 * LANE_WORDS);
    for block in &mut blocks {
        let mut lanes = 0;
        for c in block.chunks_exact(8) {
            lanes += emit(
                u64::from_le_bytes(c.try_into().unwrap_or([0; 8])),
                i,
                &mut prev,
            );
            i += 8;
        }
        digits += lane_sum(lanes);
    }
    let mut chunks = blocks.remainder().chunks_exact(8);
    let mut lanes = 0;
    for c in &mut chunks {
        lanes += emit(
            u64::from_le_bytes(c.try_into().unwrap_or([0; 8])),
            i,
            &mut prev,
        );
        i += 8;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        // Missing bytes load as zero: neither digits nor word starts.
        lanes += emit(load(rest), i, &mut prev);
    }
    digits + lane_sum(lanes)
}

/// Haystacks up to this long are summarised in one table-driven pass;
/// longer ones count digits eight bytes at a time and answer presence
/// questions with `memchr`.
const TABLE_MAX: usize = 64;

/// Bit of [`Probe`]'s class table that marks an ASCII digit.
const DIGIT: u8 = 1;

/// The bytes the scanner's gates ask about, fixed when the scanner is
/// compiled: a class table with one bit per tracked byte (up to seven) and a
/// bit for digits, so a short haystack is summarised with one table load per
/// byte.
#[derive(Clone, Debug)]
pub struct Probe {
    class: [u8; 256],
}

impl Probe {
    /// A probe that tracks the first seven distinct bytes of `bytes` (the
    /// gates may ask about others too: those are answered with `memchr`).
    pub fn new(bytes: impl IntoIterator<Item = u8>) -> Probe {
        let mut class = [0u8; 256];
        for d in b'0'..=b'9' {
            class[usize::from(d)] = DIGIT;
        }
        let mut bit = DIGIT << 1;
        for b in bytes {
            if bit == 0 {
                break;
            }
            if class[usize::from(b)] & !DIGIT == 0 && !b.is_ascii_digit() {
                class[usize::from(b)] = bit;
                bit <<= 1;
            }
        }
        Probe { class }
    }

    /// The tracked bit of `b` (0 when `b` is not tracked).
    #[inline]
    fn bit(&self, b: u8) -> u8 {
        self.class[usize::from(b)] & !DIGIT
    }
}

/// What the scanner's gates ask about a haystack, computed once per scan:
/// its digit count and which bytes occur in it.
#[derive(Clone, Debug)]
pub struct Summary<'a> {
    hay: &'a [u8],
    probe: &'a Probe,
    /// ASCII digits in the haystack: counted up front for short haystacks,
    /// on first use (or by the word-start pass) for long ones.
    digits: Option<usize>,
    /// Tracked bytes seen (short haystacks only).
    seen: Option<u8>,
}

impl<'a> Summary<'a> {
    /// Summarises `hay` for the questions `probe` tracks.
    pub fn of(hay: &'a [u8], probe: &'a Probe) -> Summary<'a> {
        if hay.len() > TABLE_MAX {
            return Summary {
                hay,
                probe,
                digits: None,
                seen: None,
            };
        }
        let mut seen = 0u8;
        let mut digits = 0;
        for &b in hay {
            let c = probe.class[usize::from(b)];
            seen |= c;
            digits += usize::from(c & DIGIT);
        }
        Summary {
            hay,
            probe,
            digits: Some(digits),
            seen: Some(seen),
        }
    }

    /// ASCII digits in the haystack (counted now if not yet known).
    #[inline]
    pub fn digits(&mut self) -> usize {
        *self.digits.get_or_insert_with(|| count_digits(self.hay))
    }

    /// The digit count, if already known.
    #[inline]
    pub fn known_digits(&self) -> Option<usize> {
        self.digits
    }

    /// Records the digit count found by a pass over the whole haystack
    /// ([`for_each_word_start`]), so [`Summary::digits`] need not count.
    #[inline]
    pub fn set_digits(&mut self, digits: usize) {
        debug_assert_eq!(digits, count_digits(self.hay));
        self.digits = Some(digits);
    }

    /// Whether byte `b` may occur in the haystack: exact for short
    /// haystacks and tracked bytes, otherwise `true` (for callers whose own
    /// search for `b` costs no more than the `memchr` [`Summary::has`] runs).
    #[inline]
    pub fn may_have(&self, b: u8) -> bool {
        match self.seen {
            Some(seen) if self.probe.bit(b) != 0 => seen & self.probe.bit(b) != 0,
            _ => true,
        }
    }

    /// Whether byte `b` occurs in the haystack.
    #[inline]
    pub fn has(&self, b: u8) -> bool {
        match self.seen {
            Some(seen) if self.probe.bit(b) != 0 => seen & self.probe.bit(b) != 0,
            _ => memchr::memchr(b, self.hay).is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_agree_with_byte_tests() {
        for b in 0..=255u8 {
            let x = u64::from_le_bytes([b, b'a', 0xff, b'7', b, b'Z', b' ', b]);
            let m = digit_mask(x);
            let a = alnum_mask(x);
            assert_eq!(m & 0x80 != 0, b.is_ascii_digit(), "{b}");
            assert_eq!(a & 0x80 != 0, b.is_ascii_alphanumeric(), "{b}");
            assert_eq!(
                m.count_ones() as usize,
                1 + 3 * usize::from(b.is_ascii_digit())
            );
        }
    }

    #[test]
    fn summaries_answer_like_the_bytes() {
        let probe = Probe::new(*b" :@%-,.#+");
        for hay in [&b"ab 12:x@%"[..], &[b'7'; 100][..], b"", b"#+ -9"] {
            let mut s = Summary::of(hay, &probe);
            assert_eq!(
                s.digits(),
                hay.iter().filter(|b| b.is_ascii_digit()).count()
            );
            for b in 0..=255u8 {
                assert_eq!(s.has(b), hay.contains(&b));
            }
        }
    }

    #[test]
    fn digits_and_word_starts() {
        let s = b"ab 12x-3 \xff9Q..longer text 4567890123";
        assert_eq!(
            count_digits(s),
            s.iter().filter(|b| b.is_ascii_digit()).count()
        );
        // Past the 31-word flush of the lane counts, digits only and mixed.
        for n in [247, 248, 249, 255, 256, 257, 1000] {
            assert_eq!(count_digits(&vec![b'7'; n]), n);
            let mixed: Vec<u8> = (0..n).map(|i| b"0a9 5x:1"[i % 8]).collect();
            let want = mixed.iter().filter(|b| b.is_ascii_digit()).count();
            assert_eq!(count_digits(&mixed), want, "{n}");
            for lead in [WordLead::Alnum, WordLead::Letter] {
                let counted = for_each_word_start_counting_digits(&mixed, lead, |_| {});
                assert_eq!(counted, want, "{n}");
                let sevens = vec![b'7'; n];
                assert_eq!(
                    for_each_word_start_counting_digits(&sevens, lead, |_| {}),
                    n
                );
            }
        }
        for (lead, first_ok) in [
            (
                WordLead::Alnum,
                u8::is_ascii_alphanumeric as fn(&u8) -> bool,
            ),
            (WordLead::Letter, u8::is_ascii_alphabetic),
        ] {
            let mut starts = Vec::new();
            for_each_word_start(s, lead, |p| starts.push(p));
            let expected: Vec<usize> = (0..s.len())
                .filter(|&i| first_ok(&s[i]) && (i == 0 || !s[i - 1].is_ascii_alphanumeric()))
                .collect();
            assert_eq!(starts, expected, "{lead:?}");
        }
    }

    proptest::proptest! {
        /// The word-start pass reports exactly the word starts and the digit
        /// count a byte-by-byte look finds, at any length (partial last
        /// word, several blocks of lane counts) and on any bytes.
        #[test]
        fn word_start_pass_matches_bytes(
            hay in proptest::collection::vec(
                proptest::sample::select(&b"a9Z _.:\x80\xff05mQ"[..]),
                0..700,
            ),
        ) {
            for (lead, first_ok) in [
                (WordLead::Alnum, u8::is_ascii_alphanumeric as fn(&u8) -> bool),
                (WordLead::Letter, u8::is_ascii_alphabetic),
            ] {
                let mut starts = Vec::new();
                let digits = for_each_word_start_counting_digits(&hay, lead, |p| starts.push(p));
                let mut plain = Vec::new();
                for_each_word_start(&hay, lead, |p| plain.push(p));
                proptest::prop_assert_eq!(&plain, &starts);
                let want: Vec<usize> = (0..hay.len())
                    .filter(|&i| first_ok(&hay[i]) && (i == 0 || !hay[i - 1].is_ascii_alphanumeric()))
                    .collect();
                proptest::prop_assert_eq!(starts, want);
                proptest::prop_assert_eq!(digits, hay.iter().filter(|b| b.is_ascii_digit()).count());
                proptest::prop_assert_eq!(count_digits(&hay), digits);
            }
        }
    }
}
