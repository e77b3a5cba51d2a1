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
    let y = x & !HIGH;
    let l = y | (ONES * 0x20);
    let letter = ge(l, b'a') & !ge(l, b'z' + 1);
    let digit = ge(y, b'0') & !ge(y, b'9' + 1);
    (letter | digit) & !x & HIGH
}

/// Number of ASCII digits in `s`.
pub fn count_digits(s: &[u8]) -> usize {
    let mut n = 0;
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        n += digit_mask(u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).count_ones() as usize;
    }
    n + chunks
        .remainder()
        .iter()
        .filter(|b| b.is_ascii_digit())
        .count()
}

/// Calls `f` with every word start in `s`: an ASCII alphanumeric byte at 0 or
/// after a byte that is not one.
#[inline]
pub fn for_each_word_start(s: &[u8], mut f: impl FnMut(usize)) {
    let mut prev = 0u64; // the previous chunk's alnum mask
    let mut chunks = s.chunks_exact(8);
    let mut i = 0;
    for c in &mut chunks {
        let a = alnum_mask(u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
        let mut starts = a & !((a << 8) | (prev >> 56));
        while starts != 0 {
            f(i + (starts.trailing_zeros() / 8) as usize);
            starts &= starts - 1;
        }
        prev = a;
        i += 8;
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let a = alnum_mask(load(rest));
        let mut starts = a & !((a << 8) | (prev >> 56));
        while starts != 0 {
            f(i + (starts.trailing_zeros() / 8) as usize);
            starts &= starts - 1;
        }
    }
}

/// Haystacks up to this long get a full byte-presence table in one pass;
/// longer ones answer presence questions with `memchr`.
const TABLE_MAX: usize = 64;

/// What the scanner's gates ask about a haystack, computed once per scan:
/// its digit count and which bytes occur in it.
#[derive(Clone, Debug)]
pub struct Summary<'a> {
    hay: &'a [u8],
    /// ASCII digits in the haystack.
    pub digits: usize,
    /// Bit `b` set when byte `b` occurs (short haystacks only).
    present: Option<[u64; 4]>,
}

impl<'a> Summary<'a> {
    /// Summarises `hay`.
    pub fn of(hay: &'a [u8]) -> Summary<'a> {
        if hay.len() > TABLE_MAX {
            return Summary {
                hay,
                digits: count_digits(hay),
                present: None,
            };
        }
        let mut present = [0u64; 4];
        let mut digits = 0;
        for &b in hay {
            present[usize::from(b >> 6)] |= 1 << (b & 63);
            digits += usize::from(b.is_ascii_digit());
        }
        Summary {
            hay,
            digits,
            present: Some(present),
        }
    }

    /// Whether byte `b` occurs in the haystack.
    #[inline]
    pub fn has(&self, b: u8) -> bool {
        match &self.present {
            Some(p) => p[usize::from(b >> 6)] & (1 << (b & 63)) != 0,
            None => memchr::memchr(b, self.hay).is_some(),
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
        for hay in [&b"ab 12:x@%"[..], &[b'7'; 100][..], b""] {
            let s = Summary::of(hay);
            assert_eq!(s.digits, hay.iter().filter(|b| b.is_ascii_digit()).count());
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
        let mut starts = Vec::new();
        for_each_word_start(s, |p| starts.push(p));
        let expected: Vec<usize> = (0..s.len())
            .filter(|&i| {
                s[i].is_ascii_alphanumeric() && (i == 0 || !s[i - 1].is_ascii_alphanumeric())
            })
            .collect();
        assert_eq!(starts, expected);
    }
}
