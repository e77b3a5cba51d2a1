//! Cheap byte-level facts the scanner's prefilters use to skip text in which
//! a pattern group provably cannot match: digit counts and word starts.
//!
//! Both are read off the letter/digit bitmaps of `crate::lanes`, 64 bytes
//! at a time; the facts they serve come from [`super::shape`].

use crate::lanes::letters_and_digits;

/// Which word starts [`for_each_word_start`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WordLead {
    /// Words starting with an ASCII letter or digit.
    Alnum,
    /// Words starting with an ASCII letter.
    Letter,
}

/// Number of ASCII digits in `s`.
#[inline(never)]
pub fn count_digits(s: &[u8]) -> usize {
    (0..s.len())
        .step_by(64)
        .map(|at| letters_and_digits(s, at).1.count_ones() as usize)
        .sum()
}

/// Calls `f` with every word start in `s` whose first byte is of the `lead`
/// kind: a word is a run of ASCII alphanumeric bytes (it starts at 0 or after
/// a byte that is not one).
#[inline]
pub fn for_each_word_start(s: &[u8], lead: WordLead, f: impl FnMut(usize)) {
    for_each_word_start_counting_digits(s, lead, f);
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
    // Whether the byte before the current block is alphanumeric.
    let mut carry = 0u64;
    let mut digits = 0;
    for at in (0..s.len()).step_by(64) {
        let (letters, digit) = letters_and_digits(s, at);
        let alnum = letters | digit;
        let first = if LETTER { letters } else { alnum };
        let mut starts = first & !((alnum << 1) | carry);
        while starts != 0 {
            f(at + starts.trailing_zeros() as usize);
            starts &= starts - 1;
        }
        carry = alnum >> 63;
        digits += digit.count_ones() as usize;
    }
    digits
}

/// Haystacks up to this long are summarised in one table-driven pass;
/// longer ones count digits eight bytes at a time and answer presence
/// questions with `memchr`.
const TABLE_MAX: usize = 64;
const _: () = assert!(TABLE_MAX < 256, "lane counts of Summary::of would carry");

/// Bit of [`Probe`]'s class table that marks an ASCII digit.
const DIGIT: u8 = 1;

/// The bytes the scanner's gates ask about, fixed when the scanner is
/// compiled: a class table with one bit per tracked byte (up to seven) and a
/// bit for digits, and the same classes as counters in the eight byte lanes
/// of a `u64` (lane 0 digits, lane `k` the `k`-th tracked byte), so a short
/// haystack is summarised with one table load and one add per byte.
#[derive(Clone, Debug)]
pub struct Probe {
    class: [u8; 256],
    counts: [u64; 256],
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
        // Class bit `k` counts in byte lane `k`.
        let counts = std::array::from_fn(|b| {
            (0..8)
                .filter(|k| class[b] & (1 << k) != 0)
                .map(|k| 1u64 << (8 * k))
                .sum()
        });
        Probe { class, counts }
    }

    /// The tracked bit of `b` (0 when `b` is not tracked).
    #[inline]
    fn bit(&self, b: u8) -> u8 {
        self.class[usize::from(b)] & !DIGIT
    }
}

/// The class bits whose byte lanes in `lanes` are not zero.
#[inline]
fn nonzero_lanes(lanes: u64) -> u8 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // High bit of each lane set when the lane is not zero.
    let high = (((lanes & LOW7) + LOW7) | lanes) & HIGH;
    ((high >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
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
        // At most 64 bytes: no lane count reaches 256 and carries over.
        let lanes = hay
            .iter()
            .fold(0u64, |acc, &b| acc + probe.counts[usize::from(b)]);
        Summary {
            hay,
            probe,
            digits: Some((lanes & 0xff) as usize),
            seen: Some(nonzero_lanes(lanes)),
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
    fn summaries_answer_like_the_bytes() {
        let probe = Probe::new(*b" :@%-,.#+");
        for hay in [
            &b"ab 12:x@%"[..],
            &[b'7'; 100][..],
            &[b'7'; 64][..],
            &[b'@'; 64][..],
            b"",
            b"#+ -9",
        ] {
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
        /// The lane counts of a short haystack's summary answer like the
        /// bytes: every tracked byte, the digit count, up to the 64 bytes
        /// at which the counts would start to carry.
        #[test]
        fn short_summaries_match_bytes(
            hay in proptest::collection::vec(
                proptest::sample::select(&b"7@@@::a %-,.#+\x00\xff"[..]),
                0..=TABLE_MAX,
            ),
        ) {
            let probe = Probe::new(*b" :@%-,.#+");
            let mut s = Summary::of(&hay, &probe);
            for b in 0..=255u8 {
                proptest::prop_assert_eq!(s.has(b), hay.contains(&b), "{}", b);
            }
            proptest::prop_assert_eq!(s.digits(), hay.iter().filter(|b| b.is_ascii_digit()).count());
        }

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
