//! The scanner's prefilters (length/digit gates, digit windows for the
//! numeric DFA, word-start keyword candidates) and the walkers' fast paths
//! only skip work: redaction with them must equal redaction without them,
//! on random PHI-shaped text and on the labelled corpus.

use phiguard_engine::corpus::{generate, value, Rng};
use phiguard_engine::{Format, Outcome, PhiType, Profile, BUILTIN_TYPES};
use proptest::prelude::*;

const FORMATS: [Format; 5] = [
    Format::Text,
    Format::Query,
    Format::Json,
    Format::Ndjson,
    Format::Auto,
];

fn assert_same(fast: &Profile, slow: &Profile, input: &[u8]) {
    for format in FORMATS {
        let a = fast.redact(format, input);
        let b = slow.redact(format, input);
        assert_eq!(
            a,
            b,
            "{format:?} differs on {:?}",
            String::from_utf8_lossy(input)
        );
    }
}

fn profiles() -> (Profile, Profile) {
    let fast = Profile::builtin_default();
    let slow = fast.without_prefilters();
    (fast, slow)
}

/// Fragments that make the patterns fire, fail their validators or sit
/// right at the edge of a prefilter's window.
const FRAGMENTS: &[&str] = &[
    "0",
    "1",
    "12",
    "123",
    "1234",
    "2125550143",
    "212-555-0143",
    "(212) 555-0143",
    "+1 212 555 0143",
    "219-44-5678",
    "219445678",
    "4111 1111 1111 1111",
    "4111111111111111",
    "1234567893",
    "203.0.113.9",
    "10.1.300.5",
    "2001:db8::1",
    "1985-03-14",
    "3/14/1985",
    "March 14th, 1985",
    "14 Mar 1985",
    "12 Main St",
    "1600 Pennsylvania Avenue",
    ", CA 94105",
    "1EG4-TE5-MK73",
    "AB1234563",
    "jane@example.com",
    "a%40b.co",
    "MRN",
    "mrn",
    "Member ID",
    "DL",
    "dl",
    "passport no",
    "Bearer",
    "bearer",
    "phone",
    "ssn",
    "dob",
    "NPI",
    "born",
    "AKIA",
    "AKIAIOSFODNN7EXAMPLE",
    "sk_live_",
    "eyJ",
    "x",
    "Q",
    " ",
    "  ",
    "-",
    ".",
    ":",
    "#",
    "=",
    "&",
    ",",
    "/",
    "(",
    ")",
    "+",
    "%",
    "%20",
    "\"",
    "{",
    "}",
    "[",
    "]",
    "\t",
    "\u{e9}",
    "ext. 12",
];

fn phi_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            4 => proptest::sample::select(FRAGMENTS).prop_map(str::to_string),
            1 => "[ -~]{0,6}",
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

/// Query keys: plain, PII fields, nested and encoded ones.
const KEYS: &[&str] = &[
    "v",
    "cid",
    "_p",
    "dl",
    "dt",
    "ep.x",
    "em",
    "ph",
    "dob",
    "fn",
    "name",
    "email",
    "user_data[em]",
    "customer.name",
    "zip",
    "ssn",
    "k%20y",
    "a+b",
    "pr1",
    "",
];

/// Percent-encodes every byte of `s` that is not alphanumeric, or (`plus`)
/// spaces as `+`.
fn encode(s: &str, how: u8) -> String {
    match how {
        0 => s.to_string(),
        1 => s.replace(' ', "+"),
        _ => s
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect(),
    }
}

/// `k=v&k=v` strings whose values are PHI-shaped text, some form- or
/// percent-encoded, some numeric tokens (`123456789.1700000000`).
fn query_text() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        3 => phi_text(),
        1 => "[0-9]{1,22}",
        1 => "[0-9]{1,12}[.\\-/][0-9]{1,12}",
        1 => "[0-9]{1,4}([.\\-/][0-9]{1,4}){0,4}",
    ];
    proptest::collection::vec(
        (
            proptest::sample::select(KEYS),
            value,
            0u8..3,
            proptest::bool::weighted(0.9),
        ),
        0..8,
    )
    .prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v, how, with_eq)| {
                if with_eq {
                    format!("{k}={}", encode(&v, how))
                } else {
                    k.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("&")
    })
}

/// A JSON string literal for `s`.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// JSON documents whose keys are field names and PHI-shaped text, with
/// string, number, array and nested-object values, some of them encoded
/// query strings: settle passes after values, keys or whole members were
/// replaced.
fn json_doc() -> impl Strategy<Value = String> {
    let scalar = prop_oneof![
        3 => phi_text().prop_map(|v| quoted(&v)),
        1 => query_text().prop_map(|v| quoted(&v)),
        1 => "[0-9]{1,16}",
        1 => proptest::sample::select(FRAGMENTS).prop_map(quoted),
    ];
    let key = prop_oneof![
        4 => proptest::sample::select(KEYS).prop_map(quoted),
        1 => proptest::sample::select(FRAGMENTS).prop_map(quoted),
    ];
    let member = (key, scalar, 0u8..4).prop_map(|(k, v, shape)| match shape {
        0 => format!("{k}:[{v},{v}]"),
        1 => format!("{k}:{{\"user_data\":{{{k}:{v}}}}}"),
        _ => format!("{k}:{v}"),
    });
    proptest::collection::vec(member, 0..8).prop_map(|m| format!("{{{}}}", m.join(",")))
}

/// Profiles whose actions drop, pseudonymise or block, or whose expansion
/// budget runs out: settle passes after removals, and budgets charged for
/// values a pass skips.
const ACTION_PROFILES: &[&str] = &[
    "action: drop",
    "action: mask\nactions: {email: drop, phone: pseudonymize, ssn: block}\npseudonym_key: hex:000102030405060708090a0b0c0d0e0f\npseudonym_key_id: k1",
    "limits: {max_expansion_bytes: 40}",
    "limits: {max_expansion_bytes: 120}",
];

/// Each of [`ACTION_PROFILES`] compiled, with and without prefilters:
/// once per test binary (a debug build compiles a profile in seconds, and
/// the property below has hundreds of cases).
fn action_profiles() -> &'static [(Profile, Profile)] {
    static COMPILED: std::sync::OnceLock<Vec<(Profile, Profile)>> = std::sync::OnceLock::new();
    COMPILED.get_or_init(|| {
        ACTION_PROFILES
            .iter()
            .map(|yaml| {
                let spec: phiguard_engine::ProfileSpec =
                    serde_yaml::from_str(yaml).expect("spec parses");
                let fast = Profile::compile(&spec).expect("spec compiles");
                let slow = fast.without_prefilters();
                (fast, slow)
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn prefilters_change_nothing_on_number_tokens(
        t in "[0-9]{1,20}([.\\-/][0-9]{1,12}){0,5}",
        key in proptest::sample::select(&["ph", "npi", "ssn", "dob", "zip", "cc", "v"][..]),
    ) {
        // A whole value or line that is one number token is scanned by
        // anchored tries at its start only (or not at all).
        let (fast, slow) = profiles();
        for input in [
            t.clone(),
            format!("{key}={t}"),
            format!("{{\"{key}\":\"{t}\"}}"),
            format!("{key} {t}"),
        ] {
            assert_same(&fast, &slow, input.as_bytes());
        }
    }

    #[test]
    fn prefilters_change_nothing_on_word_tokens(
        t in "[A-Za-z0-9_]{1,12}(-[A-Za-z0-9_]{1,12}){0,8}\
              |(ssn|mrn|tel|dob|npi|id|[a-z]{1,3})(-[0-9A-Z]{1,5}){1,5}\
              |[A-Za-z0-9+/]{14,30}={0,2}",
        key in proptest::sample::select(&["ph", "npi", "ssn", "dob", "sku", "v", "em"][..]),
    ) {
        // Words joined by `-` (SKUs, UUIDs, locales) and base64-looking
        // values: skipped by the word-token facts or the base64 traits,
        // or scanned.
        let (fast, slow) = profiles();
        for input in [
            t.clone(),
            format!("{key}={t}&x={t}"),
            format!("{{\"{key}\":\"{t}\",\"x\":[\"{t}\"]}}"),
            format!("{key} {t}"),
        ] {
            assert_same(&fast, &slow, input.as_bytes());
        }
    }

    #[test]
    fn prefilters_change_nothing_on_random_queries(q in query_text()) {
        let (fast, slow) = profiles();
        assert_same(&fast, &slow, q.as_bytes());
    }

    #[test]
    fn prefilters_change_nothing_on_random_json(doc in json_doc()) {
        let (fast, slow) = profiles();
        assert_same(&fast, &slow, doc.as_bytes());
    }

    #[test]
    fn settle_passes_change_nothing_with_other_actions(
        q in query_text(),
        doc in json_doc(),
        which in 0..ACTION_PROFILES.len(),
    ) {
        // Later settle passes walk only what the previous pass rewrote;
        // with the prefilters off every pass walks everything.
        let (fast, slow) = &action_profiles()[which];
        assert_same(fast, slow, q.as_bytes());
        assert_same(fast, slow, doc.as_bytes());
    }

    #[test]
    fn prefilters_change_nothing_on_random_text(s in phi_text()) {
        let (fast, slow) = profiles();
        assert_same(&fast, &slow, s.as_bytes());
    }

    #[test]
    fn prefilters_change_nothing_on_random_bytes(b in proptest::collection::vec(any::<u8>(), 0..200)) {
        let (fast, slow) = profiles();
        assert_same(&fast, &slow, &b);
    }
}

#[test]
fn prefilters_change_nothing_on_the_corpus() {
    let (fast, slow) = profiles();
    for sample in generate(0x5eed_2026, 3) {
        let a = fast.redact(sample.format, &sample.input);
        let b = slow.redact(sample.format, &sample.input);
        assert_eq!(a, b, "{} ({:?})", sample.case, sample.format);
    }
}

#[test]
fn prefilters_change_nothing_on_generated_values_in_context() {
    let (fast, slow) = profiles();
    let mut rng = Rng::new(7);
    for round in 0..20 {
        for ty in BUILTIN_TYPES {
            if matches!(ty, PhiType::Custom(_)) {
                continue;
            }
            let v = value(&mut rng, ty);
            let word = ty.config_name();
            for text in [
                format!("{word} {v}"),
                format!("x{v}y"),
                format!("{word}={v}&n={round}"),
                format!("{{\"{word}\":\"{v}\",\"n\":{round}}}"),
                format!("a {v}, {v} b"),
            ] {
                assert_same(&fast, &slow, text.as_bytes());
            }
        }
    }
}

#[test]
fn a_short_house_number_is_an_address() {
    // The old whole-value gate wanted four digits for the numeric group and
    // so skipped `12 Main St` in release builds.
    let p = Profile::builtin_default();
    let out = p.redact_text(b"lives at 12 Main St now");
    assert!(
        matches!(&out, Outcome::Redacted { findings, .. } if findings[0].phi_type == PhiType::StreetAddress),
        "{out:?}"
    );
}

#[test]
fn a_later_settle_pass_finds_what_a_mask_unglued() {
    // `b:A::46eU@x.io` → `b:A::[REDACTED:EMAIL]` exposes an IPv6-looking
    // `b:A::`, found only by the second pass, which walks only the
    // rewritten pair or value; untouched pairs and values around it stay.
    let (fast, slow) = profiles();
    for input in [
        &b"a=1&x=b:A::46eU@x.io&c=2125550143&d=b:A::46eU@x.io"[..],
        br#"{"a":"b:A::46eU@x.io","n":[1,"b:A::46eU@x.io"],"u":{"ph":"2125550143"}}"#,
    ] {
        for format in [Format::Query, Format::Json] {
            let a = fast.redact(format, input);
            assert_eq!(a, slow.redact(format, input));
        }
        let format = if input[0] == b'{' {
            Format::Json
        } else {
            Format::Query
        };
        let found = fast.redact(format, input);
        let types: Vec<PhiType> = found.findings().iter().map(|f| f.phi_type).collect();
        assert!(types.contains(&PhiType::Ipv6), "{types:?}");
    }
}

#[test]
fn a_later_settle_pass_can_drop_what_the_first_replaced() {
    // The first pass masks the e-mail; the second finds the IPv6 the mask
    // unglued, whose action is drop: a JSON settle pass that went straight
    // to the replaced values has to start over as a whole-document walk to
    // drop their members; the result is what full walks give.
    let spec: phiguard_engine::ProfileSpec =
        serde_yaml::from_str("action: mask\nactions: {ipv6: drop}").expect("spec parses");
    let fast = Profile::compile(&spec).expect("spec compiles");
    let slow = fast.without_prefilters();
    let doc = br#"{"a":"b:A::46eU@x.io","n":[1,"b:A::46eU@x.io"],"e":"j@x.io","k":2}"#;
    let out = fast.redact(Format::Json, doc);
    assert_eq!(out, slow.redact(Format::Json, doc));
    let Outcome::Redacted { output, findings } = &out else {
        panic!("{out:?}");
    };
    assert_eq!(
        String::from_utf8_lossy(output),
        r#"{"n":[1],"e":"[REDACTED:EMAIL]","k":2}"#
    );
    let types: Vec<PhiType> = findings.iter().map(|f| f.phi_type).collect();
    assert_eq!(
        types,
        [
            PhiType::Email,
            PhiType::Email,
            PhiType::Email,
            PhiType::Ipv6,
            PhiType::Ipv6
        ]
    );
    let q = b"a=1&x=b:A::46eU@x.io&c=j@x.io";
    assert_eq!(fast.redact(Format::Query, q), slow.redact(Format::Query, q));
}

#[test]
fn settled_pairs_charge_the_budget_a_walk_would() {
    // A pair whose value became a whole marker is not walked again; the
    // passes after it charge what walking it would spend. At every budget
    // the outcome (including running out) is the reference's.
    // The second pass of the first query spends more than the first (the
    // note's value grows from 21 decoded bytes to 25), so some budgets
    // run out only there, counting the settled pair's 5-byte key.
    let queries = [
        "ph%6Fne=2125550143&note=call+212-555-0143+now",
        "ep.customer_phone=%2B1%20212%20555%200143",
        "v=2&ph%6Fne=%2B1%20212%20555%200143&dl=a%3Db",
        "a=jane%40example.com&b=212-555-0143&c=x%2By",
        "note=call+212-555-0143+now&e=jane%40example.com",
    ];
    for budget in 1..64 {
        let spec: phiguard_engine::ProfileSpec =
            serde_yaml::from_str(&format!("limits: {{max_expansion_bytes: {budget}}}"))
                .expect("spec parses");
        let fast = Profile::compile(&spec).expect("spec compiles");
        let slow = fast.without_prefilters();
        for q in queries {
            assert_eq!(
                fast.redact_query(q),
                slow.redact_query(q),
                "budget {budget}: {q}"
            );
        }
    }
}
