//! The prefilters and shortcuts change nothing: every format redacts the
//! input exactly as the same profile with them switched off (the gates,
//! word-start search, number-token shortcut, plain-pair skip and settle
//! passes that revisit only what the previous pass rewrote). Under the
//! default profile and one whose actions drop, pseudonymise and block.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use phiguard_engine::{Format, Profile};

/// (with shortcuts, without) for the default profile and a mixed-action one.
fn profiles() -> &'static [(Profile, Profile); 2] {
    static P: OnceLock<[(Profile, Profile); 2]> = OnceLock::new();
    P.get_or_init(|| {
        let pair = |p: Profile| {
            let slow = p.without_prefilters();
            (p, slow)
        };
        let mixed: phiguard_engine::ProfileSpec = serde_yaml::from_str(
            "action: mask\nactions: {email: drop, ipv6: drop, phone: pseudonymize, ssn: block}\n\
             pseudonym_key: hex:000102030405060708090a0b0c0d0e0f\npseudonym_key_id: k1",
        )
        .expect("spec parses");
        [
            pair(Profile::builtin_default()),
            pair(Profile::compile(&mixed).expect("spec compiles")),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks the profile; the rest is the payload.
    let Some((&pick, payload)) = data.split_first() else {
        return;
    };
    let (fast, slow) = &profiles()[usize::from(pick & 1)];
    for format in [
        Format::Query,
        Format::Json,
        Format::Text,
        Format::Ndjson,
        Format::Auto,
    ] {
        assert_eq!(
            fast.redact(format, payload),
            slow.redact(format, payload),
            "{format:?}"
        );
    }
});
