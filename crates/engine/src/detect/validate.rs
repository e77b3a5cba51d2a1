//! Checksums and structural rules. Each validator takes the matched bytes
//! (separators allowed where noted) and answers yes/no; none allocates.

/// Iterates the ASCII digits of `s`, skipping everything else.
fn digits(s: &[u8]) -> impl Iterator<Item = u8> + '_ {
    s.iter().filter(|b| b.is_ascii_digit()).map(|b| b - b'0')
}

/// Copies the digits of `s` into `buf`; returns how many, or `None` if more than fit.
fn collect_digits<'b>(s: &[u8], buf: &'b mut [u8; 24]) -> Option<&'b [u8]> {
    let mut n = 0;
    for d in digits(s) {
        if n == buf.len() {
            return None;
        }
        buf[n] = d;
        n += 1;
    }
    Some(&buf[..n])
}

/// Luhn (mod 10) checksum over a digit slice (values 0..=9).
pub fn luhn_digits(ds: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &d) in ds.iter().rev().enumerate() {
        let mut v = u32::from(d);
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    !ds.is_empty() && sum.is_multiple_of(10)
}

/// Luhn over the digits of `s` (separators ignored).
pub fn luhn(s: &[u8]) -> bool {
    let mut buf = [0u8; 24];
    collect_digits(s, &mut buf).is_some_and(luhn_digits)
}

/// A payment card: 13–19 digits, a known brand prefix with a length that brand
/// issues, and a valid Luhn check digit.
pub fn credit_card(s: &[u8]) -> bool {
    let mut buf = [0u8; 24];
    let Some(ds) = collect_digits(s, &mut buf) else {
        return false;
    };
    let len = ds.len();
    if !(13..=19).contains(&len) {
        return false;
    }
    // The brand first: most card-length numbers that are not cards (epoch
    // milliseconds, order ids) fail it without a Luhn pass.
    let prefix = |n: usize| ds[..n].iter().fold(0u32, |a, &d| a * 10 + u32::from(d));
    let (p1, p2, p3, p4, p6) = (prefix(1), prefix(2), prefix(3), prefix(4), prefix(6));
    let brand_ok = match p1 {
        4 => matches!(len, 13 | 16 | 19),              // Visa
        5 => (51..=55).contains(&p2) && len == 16,     // Mastercard
        2 => (2221..=2720).contains(&p4) && len == 16, // Mastercard 2-series
        3 => {
            ((p2 == 34 || p2 == 37) && len == 15)                           // Amex
                || ((3528..=3589).contains(&p4) && (16..=19).contains(&len)) // JCB
                || (((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39)
                    && (14..=19).contains(&len)) // Diners
        }
        6 => {
            (p4 == 6011 || p2 == 65 || (644..=649).contains(&p3)
                || (622126..=622925).contains(&p6))
                && (16..=19).contains(&len)                                 // Discover
                || (p2 == 62 && (16..=19).contains(&len)) // UnionPay
        }
        _ => false,
    };
    brand_ok && luhn_digits(ds) && !ds.iter().all(|&d| d == ds[0])
}

/// SSA rules: area not 000/666/900–999, group not 00, serial not 0000, and not a
/// well-known advertising/test value. Accepts `123-45-6789`, `123 45 6789`, `123456789`.
pub fn ssn(s: &[u8]) -> bool {
    let mut buf = [0u8; 24];
    let Some(ds) = collect_digits(s, &mut buf) else {
        return false;
    };
    if ds.len() != 9 {
        return false;
    }
    let num = |r: std::ops::Range<usize>| ds[r].iter().fold(0u32, |a, &d| a * 10 + u32::from(d));
    let (area, group, serial) = (num(0..3), num(3..5), num(5..9));
    if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
        return false;
    }
    let all = num(0..9);
    // Woolworth wallet card, LifeLock ad, the "123-45-6789" example, repeated digits.
    const KNOWN_INVALID: [u32; 3] = [78_051_120, 219_099_999, 123_456_789];
    !KNOWN_INVALID.contains(&all) && !ds.iter().all(|&d| d == ds[0])
}

/// NPI: 10 digits starting with 1 or 2, Luhn over `80840` + the number.
pub fn npi(s: &[u8]) -> bool {
    let mut buf = [0u8; 24];
    let Some(ds) = collect_digits(s, &mut buf) else {
        return false;
    };
    if ds.len() != 10 || !(ds[0] == 1 || ds[0] == 2) {
        return false;
    }
    let mut full = [8u8, 0, 8, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    full[5..].copy_from_slice(ds);
    luhn_digits(&full)
}

/// DEA: a registrant-type letter, a letter or `9`, seven digits;
/// (d1+d3+d5) + 2·(d2+d4+d6) ≡ d7 (mod 10).
pub fn dea(s: &[u8]) -> bool {
    if s.len() != 9 {
        return false;
    }
    let first = s[0].to_ascii_uppercase();
    if !b"ABCDEFGHJKLMPRSTUX".contains(&first) {
        return false;
    }
    if !(s[1].is_ascii_alphabetic() || s[1] == b'9') || !s[2..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let dg = |i: usize| u32::from(s[2 + i] - b'0');
    let sum = dg(0) + dg(2) + dg(4) + 2 * (dg(1) + dg(3) + dg(5));
    sum % 10 == dg(6)
}

/// Letters CMS allows in an MBI (no S, L, O, I, B, Z).
fn mbi_letter(b: u8) -> bool {
    b.is_ascii_uppercase() && !b"SLOIBZ".contains(&b)
}

/// MBI: 11 characters (dashes after positions 4 and 7 allowed) following the CMS
/// position rules: C A AN N A AN N A A N N, first digit 1–9.
pub fn mbi(s: &[u8]) -> bool {
    let mut chars = [0u8; 11];
    let mut n = 0;
    for (i, &b) in s.iter().enumerate() {
        if b == b'-' && (i == 4 || i == 8) {
            continue;
        }
        if n == 11 {
            return false;
        }
        chars[n] = b;
        n += 1;
    }
    if n != 11 {
        return false;
    }
    let c = |b: u8| (b'1'..=b'9').contains(&b);
    let nn = |b: u8| b.is_ascii_digit();
    let a = mbi_letter;
    let an = |b: u8| mbi_letter(b) || b.is_ascii_digit();
    c(chars[0])
        && a(chars[1])
        && an(chars[2])
        && nn(chars[3])
        && a(chars[4])
        && an(chars[5])
        && nn(chars[6])
        && a(chars[7])
        && a(chars[8])
        && nn(chars[9])
        && nn(chars[10])
}

/// NANP phone: 10 digits (an optional leading country code 1), area code and
/// exchange start with 2–9, the area code is not an N11 service code, and the
/// digits are not all the same.
pub fn phone(s: &[u8]) -> bool {
    let mut buf = [0u8; 24];
    let Some(mut ds) = collect_digits(s, &mut buf) else {
        return false;
    };
    if ds.len() == 11 && ds[0] == 1 {
        ds = &ds[1..];
    }
    if ds.len() != 10 {
        return false;
    }
    ds[0] >= 2 && ds[3] >= 2 && !(ds[1] == 1 && ds[2] == 1) && !ds.iter().all(|&d| d == ds[0])
}

/// Phone digits only (for values matched with an extension suffix): the part
/// before `x`/`ext` is validated.
pub fn phone_with_extension(s: &[u8]) -> bool {
    let cut = s
        .iter()
        .position(|b| matches!(b, b'x' | b'X' | b'e' | b'E'))
        .unwrap_or(s.len());
    phone(&s[..cut])
}

/// IPv4 dotted quad: four octets 0–255 without leading zeros.
pub fn ipv4(s: &[u8]) -> bool {
    let mut parts = 0;
    for part in s.split(|&b| b == b'.') {
        parts += 1;
        if part.is_empty() || part.len() > 3 || (part.len() > 1 && part[0] == b'0') {
            return false;
        }
        let v = part.iter().fold(0u32, |a, &b| a * 10 + u32::from(b - b'0'));
        if v > 255 {
            return false;
        }
    }
    parts == 4 && s != b"0.0.0.0"
}

/// The fewest `:` an IPv6 address [`ipv6`] accepts holds (`a::b:c`; the
/// unspecified `::` and loopback `::1` are refused).
pub const IPV6_MIN_COLONS: usize = 3;

/// The fewest `:` an IPv6 address [`ipv6`] accepts without a `::` holds:
/// all eight groups, six colons before a dotted IPv4 tail, seven without.
pub const IPV6_FULL_MIN_COLONS: usize = 6;

/// IPv6: parses, and is not the unspecified or loopback address; a candidate
/// must have at least three colons (filters `12:30:45` times).
pub fn ipv6(s: &[u8]) -> bool {
    let colons = s.iter().filter(|&&b| b == b':').count();
    if colons < IPV6_MIN_COLONS {
        return false;
    }
    // Without `::` an address spells out all eight groups: seven colons, or
    // six before a dotted IPv4 tail. Anything else cannot parse (this skips
    // the parser for times like `2023:13:55:05`).
    let full = colons == 7 || (colons == IPV6_FULL_MIN_COLONS && s.contains(&b'.'));
    if !full && !s.windows(2).any(|w| w == b"::") {
        return false;
    }
    let Ok(text) = std::str::from_utf8(s) else {
        return false;
    };
    match text.parse::<std::net::Ipv6Addr>() {
        Ok(ip) => !ip.is_unspecified() && !ip.is_loopback(),
        Err(_) => false,
    }
}

/// A calendar date (Gregorian leap years) between 1900-01-01 and 2030-12-31.
pub fn date(year: u32, month: u32, day: u32) -> bool {
    if !(1900..=2030).contains(&year) || !(1..=12).contains(&month) || day == 0 {
        return false;
    }
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let max = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    day <= max
}

/// Month number for an English month name or 3-letter abbreviation.
pub fn month_from_name(word: &[u8]) -> Option<u32> {
    const NAMES: [&[u8]; 12] = [
        b"january",
        b"february",
        b"march",
        b"april",
        b"may",
        b"june",
        b"july",
        b"august",
        b"september",
        b"october",
        b"november",
        b"december",
    ];
    let w = word.strip_suffix(b".").unwrap_or(word);
    if w.len() < 3 {
        return None;
    }
    NAMES
        .iter()
        .position(|name| {
            (w.len() == 3 || w.len() == name.len() || (w.len() == 4 && name.starts_with(b"sept")))
                && w.len() <= name.len()
                && w.eq_ignore_ascii_case(&name[..w.len()])
        })
        .map(|i| i as u32 + 1)
}

/// Parses a run of ASCII digits.
fn number(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u32, |a, &b| a * 10 + u32::from(b - b'0')))
}

/// A date in any supported shape: `1985-03-14`, `1985/03/14`, `03/14/1985`,
/// `3-14-1985`, `14.03.1985`, `19850314`, `March 14, 1985`, `14 Mar 1985`.
pub fn any_date(s: &[u8]) -> bool {
    let s = s.trim_ascii();
    if s.len() == 8 && s.iter().all(u8::is_ascii_digit) {
        let (y, m, d) = (number(&s[..4]), number(&s[4..6]), number(&s[6..]));
        return matches!((y, m, d), (Some(y), Some(m), Some(d)) if date(y, m, d));
    }
    let mut parts: [&[u8]; 3] = [&[]; 3];
    let mut n = 0;
    for p in s
        .split(|b| matches!(b, b'-' | b'/' | b'.' | b' ' | b','))
        .filter(|p| !p.is_empty())
    {
        if n == 3 {
            return false;
        }
        parts[n] = p;
        n += 1;
    }
    if n != 3 {
        return false;
    }
    if let (Some(a), Some(b), Some(c)) = (number(parts[0]), number(parts[1]), number(parts[2])) {
        if parts[0].len() == 4 {
            return date(a, b, c);
        }
        if parts[2].len() == 4 {
            return date(c, a, b) || date(c, b, a);
        }
        return false;
    }
    if let (Some(m), Some(d), Some(y)) = (
        month_from_name(parts[0]),
        number(parts[1]),
        number(parts[2]),
    ) {
        return parts[2].len() == 4 && date(y, m, d);
    }
    if let (Some(d), Some(m), Some(y)) = (
        number(parts[0]),
        month_from_name(parts[1]),
        number(parts[2]),
    ) {
        return parts[2].len() == 4 && date(y, m, d);
    }
    false
}

/// ICD-10-CM code: letter (not U), digit, digit or A/B, optional `.` and 1–4 more.
pub fn icd10(s: &[u8]) -> bool {
    let s = s.trim_ascii();
    if s.len() < 3 || s.len() > 8 {
        return false;
    }
    let first = s[0].to_ascii_uppercase();
    if !first.is_ascii_uppercase() || first == b'U' || !s[1].is_ascii_digit() {
        return false;
    }
    if !(s[2].is_ascii_digit() || matches!(s[2].to_ascii_uppercase(), b'A' | b'B')) {
        return false;
    }
    let rest = &s[3..];
    let rest = rest.strip_prefix(b".").unwrap_or(rest);
    rest.len() <= 4 && rest.iter().all(u8::is_ascii_alphanumeric)
}

/// A 64-character hex string (an unsalted SHA-256 digest).
pub fn sha256_hex(s: &[u8]) -> bool {
    s.len() == 64 && s.iter().all(u8::is_ascii_hexdigit)
}

/// A 5-digit ZIP or ZIP+4.
pub fn zip(s: &[u8]) -> bool {
    let s = s.trim_ascii();
    match s.len() {
        5 => s.iter().all(u8::is_ascii_digit) && s != b"00000",
        10 => {
            s[..5].iter().all(u8::is_ascii_digit)
                && s[5] == b'-'
                && s[6..].iter().all(u8::is_ascii_digit)
        }
        9 => s.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_cards() {
        assert!(credit_card(b"4111 1111 1111 1111"));
        assert!(credit_card(b"5555-5555-5555-4444"));
        assert!(credit_card(b"378282246310005"));
        assert!(credit_card(b"6011111111111117"));
        assert!(!credit_card(b"4111111111111112"));
        // Luhn-valid but no brand prefix.
        assert!(!credit_card(b"9111111111111119"));
        assert!(luhn(b"79927398713"));
    }

    #[test]
    fn ssn_rules() {
        assert!(ssn(b"219-44-5678"));
        assert!(ssn(b"219445678"));
        assert!(!ssn(b"000-12-3456"));
        assert!(!ssn(b"666-12-3456"));
        assert!(!ssn(b"901-12-3456"));
        assert!(!ssn(b"219-00-3456"));
        assert!(!ssn(b"219-44-0000"));
        assert!(!ssn(b"078-05-1120"));
        assert!(!ssn(b"123-45-6789"));
    }

    #[test]
    fn npi_dea_mbi() {
        assert!(npi(b"1234567893"));
        assert!(!npi(b"1234567890"));
        assert!(dea(b"AB1234563"));
        assert!(!dea(b"AB1234564"));
        assert!(mbi(b"1EG4TE5MK73"));
        assert!(mbi(b"1EG4-TE5-MK73"));
        assert!(!mbi(b"1EG4TE5MK7"));
        assert!(!mbi(b"0EG4TE5MK73"));
        assert!(!mbi(b"1SG4TE5MK73"));
    }

    #[test]
    fn phones_and_ips() {
        assert!(phone(b"(212) 555-0143"));
        assert!(phone(b"+1 212.555.0143"));
        assert!(!phone(b"1700000000"));
        assert!(!phone(b"911-555-0143"));
        assert!(phone_with_extension(b"212-555-0143 ext. 12"));
        assert!(ipv4(b"203.0.113.7"));
        assert!(!ipv4(b"256.1.1.1"));
        assert!(!ipv4(b"01.2.3.4"));
        assert!(ipv6(b"2001:db8::8a2e:370:7334"));
        assert!(!ipv6(b"12:30:45"));
        assert!(!ipv6(b"::1"));
        assert!(ipv6(b"1:2:3:4:5:6:7:8"));
        assert!(ipv6(b"1:2:3:4:5:6:1.2.3.4"));
        assert!(!ipv6(b"2023:13:55:05"));
    }

    /// The colon-count shortcut in `ipv6` rejects only what the parser rejects.
    #[test]
    fn ipv6_shortcut_agrees_with_the_parser() {
        let reference = |s: &[u8]| {
            s.iter().filter(|&&b| b == b':').count() >= 3
                && std::str::from_utf8(s)
                    .ok()
                    .and_then(|t| t.parse::<std::net::Ipv6Addr>().ok())
                    .is_some_and(|ip| !ip.is_unspecified() && !ip.is_loopback())
        };
        // Every sequence of up to eight pieces (eight `1:` and an `ab` is a
        // full address).
        let pieces: [&[u8]; 5] = [b"1:", b"ab", b":", b"::", b"1.2.3.4"];
        let mut stack: Vec<(Vec<u8>, usize)> = vec![(Vec::new(), 0)];
        while let Some((s, n)) = stack.pop() {
            assert_eq!(ipv6(&s), reference(&s), "{}", String::from_utf8_lossy(&s));
            if n < 8 {
                for p in pieces {
                    stack.push(([&s[..], p].concat(), n + 1));
                }
            }
        }
    }

    #[test]
    fn dates() {
        assert!(any_date(b"1985-03-14"));
        assert!(any_date(b"03/14/1985"));
        assert!(any_date(b"19850314"));
        assert!(any_date(b"March 14, 1985"));
        assert!(any_date(b"14 Sept 1985"));
        assert!(!any_date(b"1985-02-30"));
        assert!(!any_date(b"1700000000"));
        assert!(!any_date(b"v1.2.3"));
    }

    #[test]
    fn icd_zip_hash() {
        assert!(icd10(b"E11.9"));
        assert!(icd10(b"F32A"));
        assert!(!icd10(b"U07.1"));
        assert!(!icd10(b"1234"));
        assert!(zip(b"94105"));
        assert!(zip(b"94105-1234"));
        assert!(!zip(b"9410"));
        assert!(sha256_hex(&[b'a'; 64]));
    }
}
