//! Byte-class bitmaps, one bit per byte: which of up to 64 bytes are ASCII
//! letters and which are ASCII digits (the scanner's word-start pass and
//! digit count are built on them), and where a JSON string token stops
//! (and, for a key, whether a byte the scanner's pre-check looks for
//! comes before).
//!
//! On x86_64 sixteen bytes are classified at once with SSE2 (part of the
//! x86_64 baseline, so always there); elsewhere eight at a time on `u64`
//! words (SWAR). Both give the same bits; the tests check them against a
//! byte-by-byte look.

/// Letter and digit bits of the (up to) 64 bytes of `hay` from `at`: bit
/// `i` is set when byte `at + i` is an ASCII letter (first) or an ASCII
/// digit (second); bits past the end of `hay` are clear.
#[inline]
pub fn letters_and_digits(hay: &[u8], at: usize) -> (u64, u64) {
    let end = hay.len().min(at + 64);
    let block = &hay[at..end];
    let (mut letters, mut digits) = (0u64, 0u64);
    if let Ok(block) = <&[u8; 64]>::try_from(block) {
        for k in 0..4 {
            let (l, d) = classify16(block[16 * k..16 * k + 16].try_into().unwrap_or([0; 16]));
            letters |= u64::from(l) << (16 * k);
            digits |= u64::from(d) << (16 * k);
        }
        return (letters, digits);
    }
    let mut chunks = block.chunks_exact(16);
    let mut shift = 0;
    for c in &mut chunks {
        let (l, d) = classify16(c.try_into().unwrap_or([0; 16]));
        letters |= u64::from(l) << shift;
        digits |= u64::from(d) << shift;
        shift += 16;
    }
    let rest = chunks.remainder().len();
    if rest > 0 {
        let (l, d) = if end >= 16 {
            // The last sixteen bytes of `hay`, shifted past the ones
            // already classified: no copy.
            let (l, d) = classify16(hay[end - 16..end].try_into().unwrap_or([0; 16]));
            (l >> (16 - rest), d >> (16 - rest))
        } else {
            // Missing bytes read as zero: neither letters nor digits.
            let mut buf = [0u8; 16];
            buf[..rest].copy_from_slice(&hay[end - rest..end]);
            classify16(buf)
        };
        letters |= u64::from(l) << shift;
        digits |= u64::from(d) << shift;
    }
    (letters, digits)
}

/// Whether a JSON string's plain run stops at `b`: a `"`, a `\\` or a
/// control byte (< 0x20).
#[inline]
fn is_json_stop(b: u8) -> bool {
    b == b'"' || b == b'\\' || b < 0x20
}

/// The position of the first `"`, `\\` or control byte (< 0x20) in `s` at
/// or after `from`, or `s.len()`: where a JSON string's plain run ends.
#[inline]
pub fn json_string_stop(s: &[u8], from: usize) -> usize {
    let mut i = from;
    while let Some(chunk) = s.get(i..i + 16) {
        let stops = json_stops16(chunk.try_into().unwrap_or([0; 16]));
        if stops != 0 {
            return i + stops.trailing_zeros() as usize;
        }
        i += 16;
    }
    while let Some(&b) = s.get(i) {
        if is_json_stop(b) {
            return i;
        }
        i += 1;
    }
    s.len()
}

/// Whether the scanner's pre-check looks for `b`: an ASCII digit, `@`,
/// `%` or `:` (a haystack without one is scanned only when long enough
/// for a pattern that needs none of them).
#[inline]
fn is_scannable(b: u8) -> bool {
    b.is_ascii_digit() || matches!(b, b'@' | b'%' | b':')
}

/// [`json_string_stop`], and whether a byte from `from` up to the stop is
/// an ASCII digit, `@`, `%` or `:`: found in the same pass, so a JSON key
/// without one needs no second look at its bytes before the scanner's
/// pre-check passes it over.
#[inline]
pub fn json_string_stop_scannable(s: &[u8], from: usize) -> (usize, bool) {
    let mut i = from;
    let mut scannable = false;
    while let Some(chunk) = s.get(i..i + 16) {
        let (stops, scan) = json_stops_scannable16(chunk.try_into().unwrap_or([0; 16]));
        if stops != 0 {
            let at = stops.trailing_zeros();
            let before = (1u32 << at) - 1;
            return (i + at as usize, scannable || u32::from(scan) & before != 0);
        }
        scannable |= scan != 0;
        i += 16;
    }
    while let Some(&b) = s.get(i) {
        if is_json_stop(b) {
            return (i, scannable);
        }
        scannable |= is_scannable(b);
        i += 1;
    }
    (s.len(), scannable)
}

/// Bits of the `"`, `\\` and control bytes among sixteen, and of the
/// ASCII digits, `@`, `%` and `:`.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
fn json_stops_scannable16(c: [u8; 16]) -> (u16, u16) {
    // SAFETY: as in `classify16`: SSE2 is enabled in this build.
    unsafe { sse2::json_stops_scannable16(c) }
}

/// Bits of the `"`, `\\` and control bytes among sixteen, and of the
/// ASCII digits, `@`, `%` and `:`.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline]
fn json_stops_scannable16(c: [u8; 16]) -> (u16, u16) {
    (portable::json_stops16(c), portable::scannable16(c))
}

/// Where the query-string piece (`key[=value]`) starting at `from` ends
/// and where its key does: the position of the first `&` at or after
/// `from` (or `q.len()`), and of the first `=` before it, if any. Sixteen
/// bytes are looked at a time, the last few (when `q` is shorter than
/// sixteen) in a copy.
#[inline]
pub fn query_piece(q: &[u8], from: usize) -> (usize, Option<usize>) {
    let mut i = from;
    let mut eq = None;
    loop {
        // Bits of the `&` and `=` among the `valid` bytes from `i`.
        let (amps, eqs, valid) = match q.get(i..i + 16) {
            Some(chunk) => {
                let (a, e) = amp_eq16(chunk.try_into().unwrap_or([0; 16]));
                (u32::from(a), u32::from(e), 16)
            }
            None => {
                let rest = q.len().saturating_sub(i);
                if rest == 0 {
                    return (q.len(), eq);
                }
                if let Some(last) = q.len().checked_sub(16).and_then(|at| q.get(at..)) {
                    // The last sixteen bytes, shifted past those before `i`.
                    let (a, e) = amp_eq16(last.try_into().unwrap_or([0; 16]));
                    (
                        u32::from(a) >> (16 - rest),
                        u32::from(e) >> (16 - rest),
                        rest,
                    )
                } else {
                    // Missing bytes read as zero: neither `&` nor `=`.
                    let mut buf = [0u8; 16];
                    buf[..rest].copy_from_slice(&q[i..]);
                    let (a, e) = amp_eq16(buf);
                    (u32::from(a), u32::from(e), rest)
                }
            }
        };
        if eq.is_none() {
            let before_amp = eqs & amps.wrapping_sub(1) & !amps;
            if before_amp != 0 {
                eq = Some(i + before_amp.trailing_zeros() as usize);
            }
        }
        if amps != 0 {
            return (i + amps.trailing_zeros() as usize, eq);
        }
        if valid < 16 {
            return (q.len(), eq);
        }
        i += 16;
    }
}

/// Bits of the `&` and of the `=` among sixteen bytes.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
fn amp_eq16(c: [u8; 16]) -> (u16, u16) {
    // SAFETY: as in `classify16`: SSE2 is enabled in this build.
    unsafe { sse2::amp_eq16(c) }
}

/// Bits of the `&` and of the `=` among sixteen bytes.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline]
fn amp_eq16(c: [u8; 16]) -> (u16, u16) {
    portable::amp_eq16(c)
}

/// Bits of the `"`, `\\` and control bytes among sixteen.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
fn json_stops16(c: [u8; 16]) -> u16 {
    // SAFETY: as in `classify16`: SSE2 is enabled in this build.
    unsafe { sse2::json_stops16(c) }
}

/// Bits of the `"`, `\\` and control bytes among sixteen.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline]
fn json_stops16(c: [u8; 16]) -> u16 {
    portable::json_stops16(c)
}

/// Letter and digit bits of sixteen bytes.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline]
fn classify16(c: [u8; 16]) -> (u16, u16) {
    // SAFETY: the function only needs SSE2, which this build targets
    // (`cfg(target_feature = "sse2")` above; it is in the x86_64 baseline).
    unsafe { sse2::classify16(c) }
}

/// Letter and digit bits of sixteen bytes.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline]
fn classify16(c: [u8; 16]) -> (u16, u16) {
    portable::classify16(c)
}

#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        _mm_set_epi64x, _mm_sub_epi8,
    };

    /// The sixteen bytes as one vector (the halves combine into one
    /// unaligned load).
    #[target_feature(enable = "sse2")]
    fn load(c: [u8; 16]) -> __m128i {
        let lo = i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        let hi = i64::from_le_bytes([c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15]]);
        _mm_set_epi64x(hi, lo)
    }

    /// `(b - lo) as unsigned < n`, as a signed compare: subtracting
    /// `lo + 128` moves the range `lo..lo + n` to `-128..-128 + n`.
    fn in_range_bias(lo: u8) -> i8 {
        lo.wrapping_add(128) as i8
    }

    #[target_feature(enable = "sse2")]
    pub(super) fn classify16(c: [u8; 16]) -> (u16, u16) {
        let v = load(c);
        let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
        let letter = _mm_cmplt_epi8(
            _mm_sub_epi8(folded, _mm_set1_epi8(in_range_bias(b'a'))),
            _mm_set1_epi8(-128 + 26),
        );
        let digit = _mm_cmplt_epi8(
            _mm_sub_epi8(v, _mm_set1_epi8(in_range_bias(b'0'))),
            _mm_set1_epi8(-128 + 10),
        );
        // `movemask` fills the low 16 bits only.
        (
            _mm_movemask_epi8(letter) as u16,
            _mm_movemask_epi8(digit) as u16,
        )
    }

    #[target_feature(enable = "sse2")]
    pub(super) fn json_stops16(c: [u8; 16]) -> u16 {
        _mm_movemask_epi8(stops(load(c))) as u16
    }

    #[target_feature(enable = "sse2")]
    pub(super) fn json_stops_scannable16(c: [u8; 16]) -> (u16, u16) {
        let v = load(c);
        let digit = _mm_cmplt_epi8(
            _mm_sub_epi8(v, _mm_set1_epi8(in_range_bias(b'0'))),
            _mm_set1_epi8(-128 + 10),
        );
        let at = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'@' as i8));
        let percent = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'%' as i8));
        let colon = _mm_cmpeq_epi8(v, _mm_set1_epi8(b':' as i8));
        let scannable = _mm_or_si128(_mm_or_si128(digit, at), _mm_or_si128(percent, colon));
        (
            _mm_movemask_epi8(stops(v)) as u16,
            _mm_movemask_epi8(scannable) as u16,
        )
    }

    #[target_feature(enable = "sse2")]
    pub(super) fn amp_eq16(c: [u8; 16]) -> (u16, u16) {
        let v = load(c);
        let amp = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'&' as i8));
        let eq = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'=' as i8));
        (_mm_movemask_epi8(amp) as u16, _mm_movemask_epi8(eq) as u16)
    }

    /// `0xFF` in the lanes of `"`, `\\` and the control bytes.
    #[target_feature(enable = "sse2")]
    fn stops(v: __m128i) -> __m128i {
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        let control = _mm_cmplt_epi8(
            _mm_sub_epi8(v, _mm_set1_epi8(in_range_bias(0))),
            _mm_set1_epi8(-128 + 0x20),
        );
        _mm_or_si128(_mm_or_si128(quote, backslash), control)
    }
}

/// The portable path: eight bytes at a time on `u64` words (SWAR). On
/// x86_64 it is compiled for its tests only, which check it against the
/// SSE2 path and against the bytes.
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))]
mod portable {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;

    /// Letter and digit bits of sixteen bytes.
    pub fn classify16(c: [u8; 16]) -> (u16, u16) {
        let (mut letters, mut digits) = (0u16, 0u16);
        for (half, word) in c.chunks_exact(8).enumerate() {
            let x = u64::from_le_bytes(word.try_into().unwrap_or([0; 8]));
            let (l, d) = letter_digit_masks(x);
            letters |= u16::from(high_bits(l)) << (8 * half);
            digits |= u16::from(high_bits(d)) << (8 * half);
        }
        (letters, digits)
    }

    /// Bits of the `"`, `\\` and control bytes among sixteen.
    pub fn json_stops16(c: [u8; 16]) -> u16 {
        c.iter()
            .enumerate()
            .fold(0, |m, (i, &b)| m | (u16::from(super::is_json_stop(b)) << i))
    }

    /// Bits of the `&` and of the `=` among sixteen bytes.
    pub fn amp_eq16(c: [u8; 16]) -> (u16, u16) {
        c.iter().enumerate().fold((0, 0), |(a, e), (i, &b)| {
            (a | u16::from(b == b'&') << i, e | u16::from(b == b'=') << i)
        })
    }

    /// Bits of the ASCII digits, `@`, `%` and `:` among sixteen.
    pub fn scannable16(c: [u8; 16]) -> u16 {
        c.iter()
            .enumerate()
            .fold(0, |m, (i, &b)| m | (u16::from(super::is_scannable(b)) << i))
    }

    /// High bit of each byte set when the byte (< 0x80) is `>= c`.
    #[inline]
    fn ge(low7: u64, c: u8) -> u64 {
        (low7 + ONES * u64::from(0x80 - c)) & HIGH
    }

    /// High bits of the ASCII letters and of the ASCII digits among the bytes.
    #[inline]
    pub fn letter_digit_masks(x: u64) -> (u64, u64) {
        let y = x & !HIGH;
        let l = y | (ONES * 0x20);
        let letter = ge(l, b'a') & !ge(l, b'z' + 1) & !x & HIGH;
        let digit = ge(y, b'0') & !ge(y, b'9' + 1) & !x & HIGH;
        (letter, digit)
    }

    /// The eight high bits of `m` (only high bits set) as one byte.
    #[inline]
    pub fn high_bits(m: u64) -> u8 {
        ((m >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_bytes(block: &[u8]) -> (u64, u64) {
        let bits = |f: fn(&u8) -> bool| {
            block
                .iter()
                .enumerate()
                .filter(|(_, b)| f(b))
                .fold(0u64, |m, (i, _)| m | 1 << i)
        };
        (bits(u8::is_ascii_alphabetic), bits(u8::is_ascii_digit))
    }

    #[test]
    fn every_byte_in_every_lane() {
        for b in 0..=255u8 {
            for lane in 0..64 {
                let mut block = [b'-'; 64];
                block[lane] = b;
                assert_eq!(
                    letters_and_digits(&block, 0),
                    by_bytes(&block),
                    "{b} at {lane}"
                );
            }
        }
    }

    #[test]
    fn portable_path_agrees() {
        for b in 0..=255u8 {
            for lane in 0..16 {
                let mut c = *b"a7Z \"\\\x1f\xff09azAZ@[";
                c[lane] = b;
                let (l, d) = portable::classify16(c);
                let (wl, wd) = by_bytes(&c);
                assert_eq!((u64::from(l), u64::from(d)), (wl, wd), "{b} at {lane}");
                assert_eq!((l, d), classify16(c), "{b} at {lane}");
                assert_eq!(portable::json_stops16(c), json_stops16(c), "{b} at {lane}");
                assert_eq!(portable::amp_eq16(c), amp_eq16(c), "{b} at {lane}");
                assert_eq!(
                    (portable::json_stops16(c), portable::scannable16(c)),
                    json_stops_scannable16(c),
                    "{b} at {lane}"
                );
            }
        }
    }

    #[test]
    fn json_stops_every_byte_in_every_lane() {
        for b in 0..=255u8 {
            for len in [1, 15, 16, 17, 40] {
                for lane in 0..len {
                    let mut s = vec![b'a'; len];
                    s[lane] = b;
                    let want = if is_json_stop(b) { lane } else { len };
                    assert_eq!(json_string_stop(&s, 0), want, "{b} at {lane} of {len}");
                    let scannable = !is_json_stop(b) && is_scannable(b);
                    assert_eq!(
                        json_string_stop_scannable(&s, 0),
                        (want, scannable),
                        "{b} at {lane} of {len}"
                    );
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn json_stops_match_bytes(
            s in proptest::collection::vec(proptest::sample::select(&b"ab\"\\\x1f\x00\x7f\xff "[..]), 0..80),
            from in 0usize..80,
        ) {
            let from = from.min(s.len());
            let want = (from..s.len())
                .find(|&i| s[i] == b'"' || s[i] == b'\\' || s[i] < 0x20)
                .unwrap_or(s.len());
            proptest::prop_assert_eq!(json_string_stop(&s, from), want);
        }

        #[test]
        fn query_pieces_match_bytes(
            q in proptest::collection::vec(proptest::sample::select(&b"ab&=%+"[..]), 0..70),
            from in 0usize..70,
        ) {
            let from = from.min(q.len());
            let end = (from..q.len()).find(|&i| q[i] == b'&').unwrap_or(q.len());
            let eq = (from..end).find(|&i| q[i] == b'=');
            proptest::prop_assert_eq!(query_piece(&q, from), (end, eq));
        }

        #[test]
        fn json_stops_and_scannable_bytes_match_bytes(
            s in proptest::collection::vec(proptest::sample::select(&b"ab09@%:\"\\\x1f\x00\x7f\xff "[..]), 0..80),
            from in 0usize..80,
        ) {
            let from = from.min(s.len());
            let stop = json_string_stop(&s, from);
            let scannable = s[from..stop].iter().any(|&b| is_scannable(b));
            proptest::prop_assert_eq!(json_string_stop_scannable(&s, from), (stop, scannable));
        }

        #[test]
        fn bitmaps_match_bytes(
            hay in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
            at in 0usize..200,
        ) {
            let at = at.min(hay.len());
            let block = &hay[at..hay.len().min(at + 64)];
            proptest::prop_assert_eq!(letters_and_digits(&hay, at), by_bytes(block));
        }
    }
}
