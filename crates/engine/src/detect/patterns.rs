//! The built-in candidate patterns and the post-match check each one needs.
//!
//! All patterns are ASCII-only (compiled with Unicode off, on bytes), so the
//! lazy DFA never falls back to a slow path on non-ASCII input.

use crate::types::PhiType;

/// What to verify once a pattern matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// The pattern is specific enough.
    None,
    /// Luhn + brand.
    Card,
    /// SSA rules.
    Ssn,
    /// NANP rules (extension allowed).
    Phone,
    /// CMS MBI rules.
    Mbi,
    /// DEA checksum.
    Dea,
    /// NPI Luhn.
    Npi,
    /// Calendar date, not followed by a time of day.
    Date,
    /// Dotted quad.
    Ipv4,
    /// The value is the last token of the match (keyword patterns); it must
    /// hold at least `min_digits` digits.
    TrailingToken {
        /// Minimum digits in the value.
        min_digits: u8,
    },
    /// The value is everything after the first run of spaces (`Bearer <token>`).
    AfterSpace,
    /// US passport: 9 digits, or a letter and 8 digits, as the trailing token.
    PassportToken,
    /// The value is the 5/9-digit ZIP at the end of the match.
    TrailingZip,
}

impl Check {
    /// Whether the value a check accepts starts where the match starts (the
    /// context rule then looks before the match start).
    pub fn keeps_start(self) -> bool {
        !matches!(
            self,
            Check::TrailingToken { .. }
                | Check::AfterSpace
                | Check::PassportToken
                | Check::TrailingZip
        )
    }
}

/// Whether a pattern needs a context keyword (or a field of its type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// Always reported.
    Free,
    /// Needs a keyword before it or a field of the same type.
    Required,
}

/// One built-in pattern.
#[derive(Clone, Copy, Debug)]
pub struct PatternDef {
    /// The type reported.
    pub ty: PhiType,
    /// The candidate regex.
    pub regex: &'static str,
    /// The post-match check.
    pub check: Check,
    /// Context requirement.
    pub context: Context,
    /// Reject when glued to a longer number (`1.2125550143`, `12-219-44-5678`).
    pub numeric: bool,
}

const fn def(ty: PhiType, regex: &'static str, check: Check) -> PatternDef {
    PatternDef {
        ty,
        regex,
        check,
        context: Context::Free,
        numeric: false,
    }
}

const fn num(ty: PhiType, regex: &'static str, check: Check, context: Context) -> PatternDef {
    PatternDef {
        ty,
        regex,
        check,
        context,
        numeric: true,
    }
}

const MONTH: &str = "(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";

/// Street suffixes accepted after a house number and street name.
const SUFFIX: &str = "(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|terrace|ter|circle|cir|parkway|pkwy|highway|hwy|square|sq|trail|trl)";

/// Built-in patterns in priority order (first accepted wins at a position).
/// Keyword patterns (`{KW}`) are generated per profile in `scanner.rs`.
pub fn builtin() -> Vec<PatternDef> {
    use PhiType as T;
    vec![
        def(
            T::AwsAccessKey,
            r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b",
            Check::None,
        ),
        def(
            T::StripeSecretKey,
            r"\b(?:sk|rk)_live_[A-Za-z0-9]{16,247}\b",
            Check::None,
        ),
        def(
            T::ShopifyToken,
            r"\bshp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b",
            Check::None,
        ),
        def(
            T::Jwt,
            r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
            Check::None,
        ),
        def(
            T::BearerToken,
            r"(?i:\bbearer)[ \t]+[A-Za-z0-9_\-.~+/]{16,}=*",
            Check::AfterSpace,
        ),
        def(
            T::Mbi,
            r"\b[1-9][AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9][0-9]-?[AC-HJKMNP-RT-Y][AC-HJKMNP-RT-Y0-9][0-9]-?[AC-HJKMNP-RT-Y]{2}[0-9]{2}\b",
            Check::Mbi,
        ),
        def(
            T::Dea,
            r"\b[ABCDEFGHJKLMPRSTUX][A-Z9][0-9]{7}\b",
            Check::Dea,
        ),
        num(
            T::CreditCard,
            // Every brand `validate::credit_card` accepts starts with 2-6.
            r"\b(?:[2-6][0-9]{3}[ \-][0-9]{4}[ \-][0-9]{4}[ \-][0-9]{1,7}|[2-6][0-9]{3}[ \-][0-9]{6}[ \-][0-9]{4,5}|[2-6][0-9]{12,18})\b",
            Check::Card,
            Context::Free,
        ),
        num(
            T::Ssn,
            r"\b(?:[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4})\b",
            Check::Ssn,
            Context::Free,
        ),
        num(
            T::Phone,
            r"(?:\+1[ .\-]?|\b1[ .\-])?(?:\([0-9]{3}\)[ .\-]?|\b[0-9]{3}[ .\-])[0-9]{3}[ .\-][0-9]{4}\b(?:[ ]?(?i:x|ext\.?|extension)[ ]?[0-9]{1,6}\b)?|\+1[0-9]{10}\b",
            Check::Phone,
            Context::Free,
        ),
        def(
            T::StreetAddress,
            // Filled in by `address_regex()`.
            "",
            Check::None,
        ),
        num(T::DateOfBirth, "", Check::Date, Context::Required),
        num(
            T::Ipv4,
            // Octets 0-255 without leading zeros, as `validate::ipv4` checks:
            // the DFA never matches `10.1.300.5`, so a log line with an
            // invalid address costs no search, validation or retry.
            r"\b(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\b",
            Check::Ipv4,
            Context::Free,
        ),
        def(
            T::Zip,
            r",[ ]?(?:AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR)[ ]{1,2}[0-9]{5}(?:-[0-9]{4})?\b",
            Check::TrailingZip,
        ),
        num(T::Npi, r"\b[12][0-9]{9}\b", Check::Npi, Context::Required),
        num(T::Ssn, r"\b[0-9]{9}\b", Check::Ssn, Context::Required),
        num(
            T::Phone,
            r"\b1?[0-9]{10}\b",
            Check::Phone,
            Context::Required,
        ),
    ]
}

/// House number, optional direction, 1–4 capitalised words or an ordinal, a suffix,
/// and an optional unit.
pub fn address_regex() -> String {
    format!(
        r"\b[0-9]{{1,6}}[ ](?:[NSEW]\.?[ ])?(?:[A-Z][a-z]+|[0-9]{{1,3}}(?:st|nd|rd|th))(?:[ ][A-Z][a-z]+){{0,3}}[ ](?i:{SUFFIX})\b\.?(?:,?[ ](?i:apt|suite|ste|unit)\.?[ ]?#?[A-Za-z0-9\-]{{1,6}}\b|[ ]#[A-Za-z0-9\-]{{1,6}}\b)?"
    )
}

/// ISO, US and written-month dates.
pub fn date_regex() -> String {
    format!(
        r"\b(?:[0-9]{{4}}[\-/.][0-9]{{1,2}}[\-/.][0-9]{{1,2}}|[0-9]{{1,2}}[\-/.][0-9]{{1,2}}[\-/.][0-9]{{4}}|(?i:{MONTH})\.?[ ][0-9]{{1,2}}(?:st|nd|rd|th)?,?[ ][0-9]{{4}}|[0-9]{{1,2}}(?:st|nd|rd|th)?[ ](?i:{MONTH})\.?,?[ ][0-9]{{4}})\b"
    )
}

/// Default context keywords per type (a profile's `context` map replaces them).
pub fn default_keywords(ty: PhiType) -> &'static [&'static str] {
    match ty {
        PhiType::Ssn => &["ssn", "social security", "soc sec", "ss#"],
        PhiType::Phone => &[
            "phone",
            "tel",
            "telephone",
            "mobile",
            "cell",
            "call",
            "fax",
            "sms",
            "text",
            "whatsapp",
            "contact",
        ],
        PhiType::Npi => &["npi", "provider", "prescriber", "national provider"],
        PhiType::DateOfBirth => &[
            "dob",
            "d.o.b",
            "birth",
            "born",
            "birthday",
            "birthdate",
            "date of birth",
            "bday",
        ],
        PhiType::Mrn => &[
            "mrn",
            "medical record number",
            "medical record",
            "chart number",
            "patient id",
            "patient no",
        ],
        PhiType::InsuranceId => &[
            "member id",
            "member number",
            "member no",
            "member #",
            "subscriber id",
            "subscriber number",
            "policy number",
            "policy no",
            "policy #",
            "insurance id",
            "insurance number",
            "medicaid id",
            "medicaid number",
            "health plan id",
        ],
        PhiType::Passport => &["passport number", "passport no", "passport #", "passport"],
        PhiType::DriverLicense => &[
            "driver's license",
            "drivers license",
            "driver license",
            "driver lic",
            "license number",
            "dl",
            "dln",
        ],
        _ => &[],
    }
}

/// Types whose keyword list may be configured under `context`.
pub const CONTEXT_TYPES: [PhiType; 8] = [
    PhiType::Ssn,
    PhiType::Phone,
    PhiType::Npi,
    PhiType::DateOfBirth,
    PhiType::Mrn,
    PhiType::InsuranceId,
    PhiType::Passport,
    PhiType::DriverLicense,
];

/// Types detected by "keyword then value" patterns.
pub const KEYWORD_VALUE_TYPES: [PhiType; 4] = [
    PhiType::Mrn,
    PhiType::InsuranceId,
    PhiType::Passport,
    PhiType::DriverLicense,
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regex_automata::meta::Regex;
    use regex_automata::{Anchored, Input};
    use std::sync::OnceLock;

    /// `re`'s anchored match end at each position of `hay`.
    fn anchored_ends(re: &Regex, hay: &[u8]) -> Vec<Option<usize>> {
        (0..=hay.len())
            .map(|at| {
                let input = Input::new(hay).range(at..).anchored(Anchored::Yes);
                re.find(input).map(|m| m.end())
            })
            .collect()
    }

    /// The built-in pattern of `ty`, compiled once per type.
    fn pattern(ty: PhiType) -> &'static Regex {
        static IPV4: OnceLock<Regex> = OnceLock::new();
        static CARD: OnceLock<Regex> = OnceLock::new();
        let cell = match ty {
            PhiType::Ipv4 => &IPV4,
            PhiType::CreditCard => &CARD,
            _ => unreachable!("no test compiles {ty:?}"),
        };
        cell.get_or_init(|| {
            let def = builtin().into_iter().find(|d| d.ty == ty).unwrap();
            Regex::new(def.regex).unwrap()
        })
    }

    /// Haystacks of up to `max` bytes drawn from `alphabet`.
    fn hay(alphabet: &[u8], max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(proptest::sample::select(alphabet.to_vec()), 0..max)
    }

    proptest! {
        /// The IPv4 pattern spells out `validate::ipv4`'s octet rules, so it
        /// matches exactly where the plain dotted-number pattern matches
        /// and the validator accepts (the validator still rejects
        /// `0.0.0.0`): at every position, the same match or none.
        #[test]
        fn ipv4_pattern_is_the_validated_dotted_number(
            hay in hay(b"0123456789012345.....2255 -x", 40),
        ) {
            let tight = pattern(PhiType::Ipv4);
            let loose = Regex::new(r"\b(?:[0-9]{1,3}\.){3}[0-9]{1,3}\b").unwrap();
            let validated: Vec<Option<usize>> = anchored_ends(&loose, &hay)
                .into_iter()
                .enumerate()
                .map(|(at, end)| {
                    end.filter(|&e| {
                        let s = &hay[at..e];
                        crate::detect::validate::ipv4(s) || s == b"0.0.0.0"
                    })
                })
                .collect();
            prop_assert_eq!(anchored_ends(tight, &hay), validated);
        }

        /// The card pattern only leaves out numbers whose first digit no
        /// brand has, which `validate::credit_card` rejects: where the
        /// plain pattern matches, the card pattern matches the same bytes
        /// or the validator rejects them.
        #[test]
        fn card_pattern_leaves_out_only_what_the_validator_rejects(
            hay in hay(b"01234567890123456789 -x", 60),
        ) {
            let tight = pattern(PhiType::CreditCard);
            let loose = Regex::new(
                r"\b(?:[0-9]{4}[ \-][0-9]{4}[ \-][0-9]{4}[ \-][0-9]{1,7}|[0-9]{4}[ \-][0-9]{6}[ \-][0-9]{4,5}|[0-9]{13,19})\b",
            )
            .unwrap();
            let ends = anchored_ends(tight, &hay).into_iter().zip(anchored_ends(&loose, &hay));
            for (at, (tight, loose)) in ends.enumerate() {
                match (tight, loose) {
                    (Some(t), l) => prop_assert_eq!(Some(t), l, "at {}", at),
                    (None, Some(l)) => {
                        prop_assert!(!crate::detect::validate::credit_card(&hay[at..l]), "at {}", at)
                    }
                    (None, None) => {}
                }
            }
        }

        /// Every number the validator takes as a card (any first digit,
        /// 13-19 digits with the Luhn check digit set) is matched whole.
        #[test]
        fn card_pattern_matches_every_valid_card(
            body in proptest::collection::vec(0u8..10, 12..19),
        ) {
            // The check digit that makes `body` + it pass Luhn.
            let sum: u32 = body
                .iter()
                .rev()
                .enumerate()
                .map(|(i, &d)| {
                    let d = u32::from(d);
                    if i % 2 == 0 { if d * 2 > 9 { d * 2 - 9 } else { d * 2 } } else { d }
                })
                .sum();
            let check = ((10 - sum % 10) % 10) as u8;
            let number: Vec<u8> = body.iter().chain([&check]).map(|d| b'0' + d).collect();
            let re = pattern(PhiType::CreditCard);
            if crate::detect::validate::credit_card(&number) {
                prop_assert_eq!(anchored_ends(re, &number)[0], Some(number.len()));
            }
        }
    }

    #[test]
    fn ipv4_pattern_takes_valid_octets_only() {
        let re = pattern(PhiType::Ipv4);
        for ok in ["203.0.113.7", "255.255.255.255", "10.0.0.1", "0.0.0.0"] {
            assert!(re.is_match(ok), "{ok}");
        }
        for bad in ["10.1.300.5", "256.1.1.1", "01.2.3.4", "1.2.3.04", "1.2.3"] {
            assert!(!re.is_match(bad), "{bad}");
        }
    }
}
