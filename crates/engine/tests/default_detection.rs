//! `Profile::detects_as_builtin_default`: a profile that says so leaves nothing in its
//! output for the built-in default profile to find but its own pseudonyms, on the whole
//! labelled corpus and in every format. The proxy relies on this to log an egress route's scanned query without a
//! second pass (`src/proxy/mod.rs`, access log).

use phiguard_engine::corpus::generate;
use phiguard_engine::{Profile, ProfileSpec};

fn compile(yaml: &str) -> Profile {
    let spec: ProfileSpec = serde_yaml::from_str(yaml).expect("spec parses");
    Profile::compile(&spec).expect("spec compiles")
}

/// Profiles that differ from the default only in what they do with a finding.
const SAME_DETECTION: &[&str] = &[
    "action: mask",
    "action: mask\nmask_style: preserve",
    "action: drop",
    "action: pseudonymize\npseudonym_key: hex:000102030405060708090a0b0c0d0e0f\npseudonym_key_id: k1",
    "action: mask\nactions: {email: drop, phone: pseudonymize, ssn: block}\npseudonym_key: hex:000102030405060708090a0b0c0d0e0f\npseudonym_key_id: k1",
    "limits: {max_decode_depth: 1}",
];

/// Profiles that find less than the default, or other things.
const OTHER_DETECTION: &[&str] = &[
    "detectors: [email, phone]",
    "keys: {patient_ref: mrn}",
    "context: {mrn: [chart]}",
    "zip_keep_prefix: true",
    "custom: [{name: order_ref, regex: 'ORD-[0-9]{6}'}]",
];

#[test]
fn only_profiles_with_the_default_detection_say_so() {
    assert!(Profile::builtin_default().detects_as_builtin_default());
    for yaml in SAME_DETECTION {
        assert!(compile(yaml).detects_as_builtin_default(), "{yaml}");
    }
    for yaml in OTHER_DETECTION {
        assert!(!compile(yaml).detects_as_builtin_default(), "{yaml}");
    }
}

#[test]
fn their_output_is_clean_for_the_default_profile() {
    let default = Profile::builtin_default();
    let samples = generate(0xdefa_0175, 4);
    for yaml in SAME_DETECTION {
        let profile = compile(yaml);
        let mut checked = 0;
        for sample in &samples {
            let first = profile.redact(sample.format, &sample.input);
            let Some(output) = first.output(&sample.input) else {
                continue; // blocked or unscannable: nothing would be forwarded or logged
            };
            // The default may only re-find pseudonyms (`Bearer PSEUDO_BEARER_TOKEN_k1_...`
            // still looks like a bearer token): keyed HMACs, not the values.
            let second = default.redact(sample.format, output);
            for finding in second.findings() {
                let text = String::from_utf8_lossy(&output[finding.range.clone()]);
                assert!(
                    text.contains("PSEUDO_"),
                    "{yaml}: the default profile found {:?} at {:?} in the output of case {}:\n{}",
                    finding.phi_type,
                    finding.range,
                    sample.case,
                    String::from_utf8_lossy(output)
                );
            }
            if !yaml.contains("pseudonymize") {
                assert_eq!(
                    second.output(output),
                    Some(output),
                    "{yaml}: {}",
                    sample.case
                );
            }
            checked += 1;
        }
        assert!(
            checked > samples.len() / 2,
            "{yaml}: only {checked} outputs checked"
        );
    }
}
