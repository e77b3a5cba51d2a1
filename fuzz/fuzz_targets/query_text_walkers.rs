//! Query, text and auto walkers: no panic; redaction is idempotent; every
//! plainly found value is gone from the output.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use phiguard_engine::{Encoding, Outcome, Profile};

#[path = "leak.rs"]
mod leak;

fn profile() -> &'static Profile {
    static P: OnceLock<Profile> = OnceLock::new();
    P.get_or_init(Profile::builtin_default)
}

fn check(data: &[u8], outcome: &Outcome) {
    if let Outcome::Redacted { output, findings } = outcome {
        for f in findings {
            if f.encoding == Encoding::Plain {
                let value = &data[f.range.clone()];
                if value.len() >= 6 && occurs_once(data, value) {
                    assert!(
                        !leak::leaked(output, value, true),
                        "found value left in output"
                    );
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let p = profile();
    check(data, &p.redact_query_bytes(data));
    check(data, &p.redact_text(data));
    let auto = p.redact_auto(data);
    check(data, &auto);
    // Outputs are settled (re-scanned until nothing new is found), so
    // redacting the output again must change nothing, for any bytes.
    if let Outcome::Redacted { output, .. } = &auto {
        let again = p.redact_auto(output);
        if let Outcome::Redacted { output: twice, .. } = &again {
            assert_eq!(twice, output, "redact_auto is not idempotent");
        }
    }
});

/// The property is about the found occurrence: only check values that occur once.
fn occurs_once(data: &[u8], value: &[u8]) -> bool {
    memchr::memmem::find_iter(data, value).nth(1).is_none()
}
