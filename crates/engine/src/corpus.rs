//! Seeded synthetic corpus with labelled PHI (feature `corpus`): every value is
//! generated to pass its validator, planted in every format and encoding, next
//! to hard negatives. [`evaluate`] reports recall per type and the share of
//! non-PHI characters the engine changed.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use base64::Engine;

use crate::codec;
use crate::detect::validate;
use crate::profile::Profile;
use crate::types::{Format, Outcome, PhiType};

/// Deterministic splitmix64 generator.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A random element.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }

    fn digits_between(&mut self, lo: usize, hi: usize) -> String {
        let n = lo + self.below((hi - lo + 1) as u64) as usize;
        self.digits(n)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// One planted identifier.
#[derive(Clone, Debug)]
pub struct Planted {
    /// Its type.
    pub ty: PhiType,
    /// The span of the sample that holds it (in its encoded form).
    pub range: Range<usize>,
    /// The plain value, which must not survive.
    pub raw: String,
}

/// One labelled sample.
#[derive(Clone, Debug)]
pub struct Sample {
    /// How to redact it.
    pub format: Format,
    /// The bytes.
    pub input: Vec<u8>,
    /// The identifiers in it (empty for hard negatives).
    pub planted: Vec<Planted>,
    /// Short description of the case (format/encoding), for reports.
    pub case: &'static str,
}

struct Builder {
    buf: String,
    planted: Vec<Planted>,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            buf: String::new(),
            planted: Vec::new(),
        }
    }
    fn text(&mut self, s: &str) -> &mut Self {
        self.buf.push_str(s);
        self
    }
    fn phi(&mut self, ty: PhiType, raw: &str, encoded: &str) -> &mut Self {
        let start = self.buf.len();
        self.buf.push_str(encoded);
        self.planted.push(Planted {
            ty,
            range: start..self.buf.len(),
            raw: raw.to_string(),
        });
        self
    }
    fn done(&mut self, format: Format, case: &'static str) -> Sample {
        Sample {
            format,
            input: std::mem::take(&mut self.buf).into_bytes(),
            planted: std::mem::take(&mut self.planted),
            case,
        }
    }
}

const FIRST: [&str; 12] = [
    "jane", "john", "maria", "wei", "aisha", "carlos", "olga", "kenji", "fatima", "liam", "noah",
    "emma",
];
const LAST: [&str; 10] = [
    "doe", "smith", "garcia", "chen", "okafor", "novak", "tanaka", "haddad", "brown", "lee",
];
const STREETS: [&str; 8] = [
    "Main",
    "Oak",
    "Maple",
    "Cedar Hill",
    "Washington",
    "Lake View",
    "Elm",
    "Sunset",
];
const SUFFIXES: [&str; 8] = ["St", "Street", "Ave", "Road", "Blvd", "Lane", "Dr", "Court"];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MBI_LETTERS: &[u8] = b"ACDEFGHJKMNPQRTUVWXY";
const HEX: &[u8] = b"0123456789abcdef";

fn luhn_complete(rng: &mut Rng, prefix: &str, len: usize) -> String {
    let mut s = prefix.to_string();
    s.push_str(&rng.digits(len - prefix.len() - 1));
    for c in b'0'..=b'9' {
        let mut t = s.clone();
        t.push(char::from(c));
        if validate::luhn(t.as_bytes()) {
            return t;
        }
    }
    s
}

/// A valid value of `ty` (plain form) — every generator loops until the validator agrees.
pub fn value(rng: &mut Rng, ty: PhiType) -> String {
    loop {
        let v = raw_value(rng, ty);
        let ok = match ty {
            PhiType::CreditCard => validate::credit_card(v.as_bytes()),
            PhiType::Ssn => validate::ssn(v.as_bytes()),
            PhiType::Phone => validate::phone_with_extension(v.as_bytes()),
            PhiType::Npi => validate::npi(v.as_bytes()),
            PhiType::Dea => validate::dea(v.as_bytes()),
            PhiType::Mbi => validate::mbi(v.as_bytes()),
            PhiType::DateOfBirth => validate::any_date(v.as_bytes()),
            PhiType::Ipv4 => validate::ipv4(v.as_bytes()),
            PhiType::Ipv6 => validate::ipv6(v.as_bytes()),
            PhiType::Icd10 => validate::icd10(v.as_bytes()),
            _ => true,
        };
        if ok {
            return v;
        }
    }
}

fn raw_value(rng: &mut Rng, ty: PhiType) -> String {
    match ty {
        PhiType::Email if rng.chance(15) => value(rng, PhiType::Email).to_ascii_uppercase(),
        PhiType::Email => format!(
            "{}{}{}@{}.{}",
            rng.pick(&FIRST),
            rng.pick(&[".", "_", ""]),
            rng.pick(&LAST),
            rng.pick(&["example", "mail-host", "clinic"]),
            rng.pick(&["com", "org", "net", "health"])
        ),
        PhiType::Phone => {
            let a = format!("{}{}", 2 + rng.below(8), rng.digits(2));
            let e = format!("{}{}", 2 + rng.below(8), rng.digits(2));
            let n = rng.digits(4);
            match rng.below(7) {
                0 => format!("({a}) {e}-{n}"),
                1 => format!("{a}-{e}-{n}"),
                2 => format!("{a}.{e}.{n}"),
                3 => format!("+1 {a} {e} {n}"),
                4 => format!("1-{a}-{e}-{n}"),
                5 => format!("+1{a}{e}{n}"),
                _ => format!("{a}-{e}-{n} ext. {}", rng.digits(3)),
            }
        }
        PhiType::Ssn => {
            let area = 1 + rng.below(899);
            let s = format!(
                "{area:03}{:02}{:04}",
                1 + rng.below(99),
                1 + rng.below(9999)
            );
            match rng.below(2) {
                0 => format!("{}-{}-{}", &s[..3], &s[3..5], &s[5..]),
                _ => format!("{} {} {}", &s[..3], &s[3..5], &s[5..]),
            }
        }
        PhiType::CreditCard => {
            let (prefix, len) = *rng.pick(&[
                ("4", 16),
                ("51", 16),
                ("55", 16),
                ("2221", 16),
                ("34", 15),
                ("37", 15),
                ("6011", 16),
                ("65", 16),
                ("3530", 16),
            ]);
            let n = luhn_complete(rng, prefix, len);
            match (rng.below(3), len) {
                (0, _) => n,
                (_, 15) => format!("{} {} {}", &n[..4], &n[4..10], &n[10..]),
                (1, _) => format!("{} {} {} {}", &n[..4], &n[4..8], &n[8..12], &n[12..]),
                _ => format!("{}-{}-{}-{}", &n[..4], &n[4..8], &n[8..12], &n[12..]),
            }
        }
        PhiType::DateOfBirth => {
            let (y, m, d) = (1930 + rng.below(80), 1 + rng.below(12), 1 + rng.below(28));
            match rng.below(4) {
                0 => format!("{y}-{m:02}-{d:02}"),
                1 => format!("{m:02}/{d:02}/{y}"),
                2 => format!("{} {d}, {y}", MONTHS[m as usize - 1]),
                _ => format!("{d} {} {y}", &MONTHS[m as usize - 1][..3]),
            }
        }
        PhiType::Npi => {
            let body = format!("{}{}", 1 + rng.below(2), rng.digits(8));
            (0..10)
                .map(|c| format!("{body}{c}"))
                .find(|s| validate::npi(s.as_bytes()))
                .unwrap_or(body)
        }
        PhiType::Mbi => {
            let l = |r: &mut Rng| char::from(*r.pick(MBI_LETTERS));
            let an = |r: &mut Rng| {
                if r.chance(50) {
                    char::from(*r.pick(MBI_LETTERS))
                } else {
                    char::from(b'0' + r.below(10) as u8)
                }
            };
            let d = |r: &mut Rng| char::from(b'0' + r.below(10) as u8);
            let s: String = [
                char::from(b'1' + rng.below(9) as u8),
                l(rng),
                an(rng),
                d(rng),
                l(rng),
                an(rng),
                d(rng),
                l(rng),
                l(rng),
                d(rng),
                d(rng),
            ]
            .iter()
            .collect();
            if rng.chance(30) {
                format!("{}-{}-{}", &s[..4], &s[4..7], &s[7..])
            } else {
                s
            }
        }
        PhiType::Mrn => format!(
            "{}{}",
            rng.pick(&["", "", "MR", "A"]),
            rng.digits_between(6, 9)
        ),
        PhiType::InsuranceId => format!(
            "{}{}",
            rng.pick(&["XK", "W", "BCX", "HUM"]),
            rng.digits_between(8, 10)
        ),
        PhiType::Dea => {
            let first = char::from(*rng.pick(b"ABFGMPRX"));
            let second = char::from(b'A' + rng.below(26) as u8);
            let d: Vec<u64> = (0..6).map(|_| rng.below(10)).collect();
            let check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10;
            format!(
                "{first}{second}{}{check}",
                d.iter().map(|x| x.to_string()).collect::<String>()
            )
        }
        PhiType::Passport => {
            if rng.chance(50) {
                format!(
                    "{}{}",
                    char::from(b'A' + rng.below(26) as u8),
                    rng.digits(8)
                )
            } else {
                format!("{}{}", 1 + rng.below(9), rng.digits(8))
            }
        }
        PhiType::DriverLicense => format!(
            "{}{}",
            char::from(b'A' + rng.below(26) as u8),
            rng.digits_between(7, 11)
        ),
        PhiType::Ipv4 => format!(
            "{}.{}.{}.{}",
            11 + rng.below(200),
            rng.below(256),
            rng.below(256),
            1 + rng.below(254)
        ),
        PhiType::Ipv6 => {
            let g: Vec<String> = (0..8)
                .map(|_| format!("{:x}", rng.below(0x10000)))
                .collect();
            if rng.chance(50) {
                format!("2001:db8:{}:{}::{}", g[0], g[1], g[2])
            } else {
                format!("2600:{}", g[1..].join(":"))
            }
        }
        PhiType::StreetAddress => {
            let unit = if rng.chance(30) {
                format!(" Apt {}", 1 + rng.below(40))
            } else {
                String::new()
            };
            format!(
                "{} {} {}{unit}",
                1 + rng.below(9999),
                rng.pick(&STREETS),
                rng.pick(&SUFFIXES)
            )
        }
        PhiType::Zip => format!("{:05}", 1001 + rng.below(98000)),
        PhiType::PersonName => {
            let f = rng.pick(&FIRST);
            let mut c = f.chars();
            let cap: String = c
                .next()
                .map(|x| x.to_ascii_uppercase())
                .into_iter()
                .chain(c)
                .collect();
            cap
        }
        PhiType::Icd10 => format!(
            "{}{}{}.{}",
            char::from(*rng.pick(b"EFIJKMNRZ")),
            rng.digits(1),
            rng.digits(1),
            rng.digits_between(1, 2)
        ),
        PhiType::AwsAccessKey => {
            let s: String = (0..16)
                .map(|_| char::from(*rng.pick(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")))
                .collect();
            format!("AKIA{s}")
        }
        PhiType::StripeSecretKey => {
            let s: String = (0..24)
                .map(|_| {
                    char::from(
                        *rng.pick(b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"),
                    )
                })
                .collect();
            format!("{}_live_{s}", rng.pick(&["sk", "rk"]))
        }
        PhiType::ShopifyToken => {
            let s: String = (0..32).map(|_| char::from(*rng.pick(HEX))).collect();
            format!("{}_{s}", rng.pick(&["shpat", "shpss", "shpca", "shppa"]))
        }
        PhiType::BearerToken => {
            let s: String = (0..32)
                .map(|_| char::from(*rng.pick(b"abcdefghijkmnopqrstuvwxyz0123456789-_")))
                .collect();
            format!("Bearer {s}")
        }
        PhiType::Jwt => {
            let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let payload = format!(
                "{{\"sub\":\"{}\",\"iat\":{}}}",
                rng.digits(8),
                1_700_000_000 + rng.below(1000)
            );
            let sig: String = (0..43)
                .map(|_| char::from(*rng.pick(b"abcdefghijkmnopqrstuvwxyzABCDEFGH0123456789-_")))
                .collect();
            format!(
                "{}.{}.{sig}",
                e.encode(b"{\"alg\":\"HS256\",\"typ\":\"JWT\"}"),
                e.encode(payload)
            )
        }
        PhiType::HashedId => (0..64).map(|_| char::from(*rng.pick(HEX))).collect(),
        PhiType::Custom(_) => rng.digits(8),
    }
}

/// How a type is planted: the key used in fields, and the text context words.
fn key_and_context(ty: PhiType) -> (&'static [&'static str], &'static str) {
    match ty {
        PhiType::Email => (&["email", "em", "customer_email"], ""),
        PhiType::Phone => (&["phone", "ph", "mobilePhone"], "call me at "),
        PhiType::Ssn => (&["ssn", "social_security_number"], "SSN "),
        PhiType::CreditCard => (&["card", "cc_number", "payment"], "card "),
        PhiType::DateOfBirth => (&["dob", "birthDate", "date_of_birth"], "DOB: "),
        PhiType::Npi => (&["npi", "provider_npi"], "NPI "),
        PhiType::Mbi => (&["mbi", "medicare_id", "beneficiary"], "Medicare "),
        PhiType::Mrn => (&["mrn", "patient_id", "medicalRecordNumber"], "MRN: "),
        PhiType::InsuranceId => (
            &["member_id", "subscriberId", "policy_number"],
            "Member ID: ",
        ),
        PhiType::Dea => (&["dea", "prescriber_dea"], "DEA "),
        PhiType::Passport => (&["passport", "passport_number"], "passport number "),
        PhiType::DriverLicense => (&["drivers_license", "dl_number"], "driver's license "),
        PhiType::Ipv4 => (&["client_ip", "uip"], "from "),
        PhiType::Ipv6 => (&["client_ip", "uip"], "from "),
        PhiType::StreetAddress => (
            &["address1", "street", "shipping_address.address1"],
            "ship to ",
        ),
        PhiType::Zip => (&["zip", "postal_code", "zp"], "Springfield, IL "),
        PhiType::PersonName => (&["first_name", "fn", "lastName", "customer.name"], ""),
        PhiType::Icd10 => (&["diagnosis", "icd10", "dx"], ""),
        PhiType::AwsAccessKey => (&["aws_key", "k"], "key "),
        PhiType::StripeSecretKey => (&["stripe", "key"], "using "),
        PhiType::ShopifyToken => (&["token", "t"], "token "),
        PhiType::BearerToken => (&["authorization", "auth"], "Authorization: "),
        PhiType::Jwt => (&["id_token", "jwt"], "token "),
        PhiType::HashedId => (&["em", "external_id", "ph"], ""),
        PhiType::Custom(_) => (&[], ""),
    }
}

/// Types only detected in a keyed field (no free-text form exists for them).
fn keyed_only(ty: PhiType) -> bool {
    matches!(ty, PhiType::PersonName | PhiType::Icd10 | PhiType::HashedId)
}

const FILLER_TEXT: [&str; 6] = [
    "Order #100234 shipped 2024-01-02 10:11:12 via UPS; total $129.99.",
    "Customer wrote from an iPhone 15 Pro (iOS 17.1) about SKU WX-2291-L",
    "app v2.14.1 build 8812 session 550e8400-e29b-41d4-a716-446655440000",
    "ts=1700000000 latency_ms=1700000000123 ga=GA1.2.123456789.1700000000",
    "etag 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 pk_live_51HabcdefGHIJKlmnop",
    "ref 4111111111111112 lot 219-00-3456 batch 9111111111111119 qty 3",
];

fn json_escape_variant(rng: &mut Rng, s: &str) -> String {
    let mut out = Vec::new();
    codec::json_quote(s.as_bytes(), &mut out);
    let quoted = String::from_utf8_lossy(&out[1..out.len() - 1]).into_owned();
    if rng.chance(40) {
        quoted
            .replace('@', "\\u0040")
            .replace('-', "\\u002d")
            .replace(' ', "\\u0020")
    } else {
        quoted
    }
}

fn form_encode(s: &str) -> String {
    let mut out = Vec::new();
    codec::percent_encode(s.as_bytes(), &mut out);
    String::from_utf8_lossy(&out)
        .replace("%20", "+")
        .replace('@', "%40")
}

/// Generates the corpus: `per_case` samples for every type × case, plus hard negatives.
pub fn generate(seed: u64, per_case: usize) -> Vec<Sample> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    let b64 = base64::engine::general_purpose::STANDARD;
    for ty in crate::types::BUILTIN_TYPES {
        let (keys, ctx) = key_and_context(ty);
        for _ in 0..per_case {
            let v = value(&mut rng, ty);
            let key = *rng.pick(keys);
            let filler = *rng.pick(&FILLER_TEXT);
            let mut b = Builder::new();
            // Free text with context.
            if !keyed_only(ty) {
                b.text(filler)
                    .text(" | note: ")
                    .text(ctx)
                    .phi(ty, &v, &v)
                    .text(" thanks");
                out.push(b.done(Format::Text, "text"));
            }
            // Tracker query string, form-encoded value.
            let qv = form_encode(&v);
            b.text("v=2&tid=G-8XK2P1&cid=123456789.1700000000&en=purchase&ep.value=19.99&")
                .text(key)
                .text("=")
                .phi(ty, &v, &qv)
                .text("&dt=Running+Shoes+%7C+Shop&_s=3");
            out.push(b.done(Format::Query, "query"));
            // Double percent-encoded.
            let double = form_encode(&qv);
            b.text("sr=1920x1080&")
                .text(key)
                .text("=")
                .phi(ty, &v, &double)
                .text("&ul=en-us");
            out.push(b.done(Format::Query, "query-double"));
            // JSON with optional \u escapes.
            let jv = json_escape_variant(&mut rng, &v);
            b.text("{\"event\":\"purchase\",\"ts\":1700000000123,\"user\":{\"")
                .text(key.rsplit('.').next().unwrap_or(key))
                .text("\":\"")
                .phi(ty, &v, &jv)
                .text("\"},\"items\":[{\"sku\":\"WX-2291-L\",\"price\":19.99,\"id\":\"ORD-100234\"}]}");
            out.push(b.done(Format::Json, "json"));
            // base64 JSON blob in a query value.
            let blob = b64.encode(format!("{{\"{key}\":\"{v}\",\"ts\":1700000000}}"));
            b.text("tid=G-8XK2P1&d=")
                .phi(ty, &v, &form_encode(&blob))
                .text("&cid=123456789.1700000000");
            out.push(b.done(Format::Query, "query-base64"));
            // JSON inside a query value.
            let nested = form_encode(&format!("{{\"{key}\":\"{v}\"}}"));
            b.text("a=1&payload=")
                .phi(ty, &v, &nested)
                .text("&z=WX-2291-L");
            out.push(b.done(Format::Query, "query-json"));
            // A page URL in a tracker value, the value in its fragment
            // (`#email=…`, as single-page apps and sign-in flows leave it).
            b.text("v=2&dl=https%3A%2F%2Fshop.example%2Fthanks%3Forder%3DORD-100234%23")
                .text(&form_encode(key))
                .text("%3D")
                .phi(ty, &v, &form_encode(&qv))
                .text("&en=page_view");
            out.push(b.done(Format::Query, "query-url-fragment"));
            // Numeric identifiers sent as JSON numbers under their key.
            let digits: String = v.chars().filter(char::is_ascii_digit).collect();
            let numeric = match ty {
                PhiType::Phone | PhiType::Npi | PhiType::Zip => !digits.starts_with('0'),
                PhiType::Ssn => validate::ssn(digits.as_bytes()) && !digits.starts_with('0'),
                _ => false,
            };
            if numeric && !v.contains("ext") {
                b.text("{\"user_data\":{\"")
                    .text(key.rsplit('.').next().unwrap_or(key))
                    .text("\":")
                    .phi(ty, &digits, &digits)
                    .text(",\"value\":19.99}}");
                out.push(b.done(Format::Json, "json-number"));
            }
            // Access-log line: client IP and a keyed parameter.
            let ip = value(&mut rng, PhiType::Ipv4);
            b.phi(PhiType::Ipv4, &ip, &ip)
                .text(" - - [10/Oct/2023:13:55:36 +0000] \"GET /checkout?step=2&")
                .text(key)
                .text("=")
                .phi(ty, &v, &qv)
                .text("&sku=WX-2291-L HTTP/1.1\" 200 5123 \"https://shop.example/cart\" \"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)\"");
            out.push(b.done(Format::Auto, "access-log"));
        }
    }
    for i in 0..per_case * 8 {
        let mut b = Builder::new();
        let filler = FILLER_TEXT[i % FILLER_TEXT.len()];
        let neg = match i % 4 {
            0 => (Format::Text, filler.to_string()),
            1 => (
                Format::Query,
                format!(
                    "v=2&tid=G-8XK2P1&cid=123456789.{}&order_id=ORD-{}&sku=WX-{}-L&pr=19.{}&ver=2.{}.1&etag=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08&pk=pk_live_51Habcdefghij",
                    1_700_000_000 + rng.below(10_000_000),
                    rng.digits(6),
                    rng.digits(4),
                    rng.digits(2),
                    rng.below(20)
                ),
            ),
            2 => (
                Format::Json,
                format!(
                    "{{\"event_id\":\"550e8400-e29b-41d4-a716-{}\",\"ts\":{},\"order\":\"#{}\",\"value\":{}.99,\"digest\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\",\"ua\":\"iPhone 15\",\"ref\":\"{}\",\"name\":\"purchase\"}}",
                    rng.digits(12),
                    1_700_000_000_000u64 + rng.below(1_000_000_000),
                    rng.digits(6),
                    rng.below(500),
                    luhn_complete(&mut rng, "9", 16)
                ),
            ),
            _ => (
                Format::Auto,
                format!(
                    "10.0.{}.{}-host [2023-10-{:02} 13:55:{:02}] INFO build=v3.{}.0 order={} elapsed_ms={}",
                    300 + rng.below(100),
                    rng.below(256),
                    1 + rng.below(28),
                    rng.below(60),
                    rng.below(30),
                    rng.digits(10),
                    1_700_000_000_000u64 + rng.below(1_000_000)
                ),
            ),
        };
        b.text(&neg.1);
        out.push(b.done(neg.0, "negative"));
    }
    out
}

/// Recall and false-change figures.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Per type: (found, planted).
    pub per_type: BTreeMap<PhiType, (u64, u64)>,
    /// Non-PHI characters in all samples.
    pub nonphi_chars: u64,
    /// Non-PHI characters changed (a non-PHI segment not found verbatim counts whole).
    pub nonphi_changed: u64,
    /// Hard-negative samples, and how many were changed at all.
    pub negatives: (u64, u64),
    /// Samples that came back blocked or unscannable.
    pub not_redacted: u64,
}

impl Report {
    /// Recall of one type (1.0 when nothing was planted).
    pub fn recall(&self, ty: PhiType) -> f64 {
        self.per_type.get(&ty).map_or(
            1.0,
            |&(f, t)| if t == 0 { 1.0 } else { f as f64 / t as f64 },
        )
    }

    /// Share of non-PHI characters changed.
    pub fn false_change(&self) -> f64 {
        if self.nonphi_chars == 0 {
            0.0
        } else {
            self.nonphi_changed as f64 / self.nonphi_chars as f64
        }
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "| type | planted | found | recall |")?;
        writeln!(f, "|---|---:|---:|---:|")?;
        for (ty, (found, total)) in &self.per_type {
            writeln!(
                f,
                "| {} | {total} | {found} | {:.2}% |",
                ty.label(),
                100.0 * self.recall(*ty)
            )?;
        }
        writeln!(
            f,
            "\nnon-PHI characters changed: {} of {} ({:.4}%)",
            self.nonphi_changed,
            self.nonphi_chars,
            100.0 * self.false_change()
        )?;
        writeln!(
            f,
            "hard-negative samples changed: {} of {}",
            self.negatives.1, self.negatives.0
        )
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && memchr::memmem::find(hay, needle).is_some()
}

/// Redacts every sample with `profile` and scores it.
pub fn evaluate(profile: &Profile, samples: &[Sample]) -> Report {
    let mut r = Report::default();
    for s in samples {
        let outcome = profile.redact(s.format, &s.input);
        let output: &[u8] = match &outcome {
            Outcome::Clean => &s.input,
            Outcome::Redacted { output, .. } => output,
            Outcome::Blocked { .. } | Outcome::Unscannable { .. } => {
                r.not_redacted += 1;
                b""
            }
        };
        let found_types: Vec<PhiType> = outcome.findings().iter().map(|f| f.phi_type).collect();
        for p in &s.planted {
            let e = r.per_type.entry(p.ty).or_default();
            e.1 += 1;
            let gone =
                !contains(output, p.raw.as_bytes()) && !contains(output, &s.input[p.range.clone()]);
            if gone && found_types.contains(&p.ty) {
                e.0 += 1;
            }
        }
        // Non-PHI segments, in order.
        let mut segments = Vec::new();
        let mut cursor = 0;
        for p in &s.planted {
            segments.push(cursor..p.range.start);
            cursor = p.range.end;
        }
        segments.push(cursor..s.input.len());
        let mut at = 0;
        for seg in segments {
            let bytes = &s.input[seg];
            r.nonphi_chars += bytes.len() as u64;
            if bytes.is_empty() {
                continue;
            }
            match memchr::memmem::find(&output[at.min(output.len())..], bytes) {
                Some(i) => at += i + bytes.len(),
                None => r.nonphi_changed += bytes.len() as u64,
            }
        }
        if s.planted.is_empty() {
            r.negatives.0 += 1;
            if output != s.input.as_slice() {
                r.negatives.1 += 1;
            }
        }
    }
    r
}
