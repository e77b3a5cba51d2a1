//! The JSON walker: no panic; valid JSON stays valid JSON; every finding's
//! plain-text value is gone from the output.
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

fuzz_target!(|data: &[u8]| {
    let valid = serde_json::from_slice::<serde_json::Value>(data).is_ok();
    match profile().redact_json(data) {
        Outcome::Redacted { output, findings } => {
            if valid {
                assert!(
                    serde_json::from_slice::<serde_json::Value>(&output).is_ok(),
                    "output of valid JSON is not valid JSON"
                );
            }
            for f in &findings {
                if f.encoding == Encoding::Plain {
                    let value = &data[f.range.clone()];
                    // Decoded as in the query target when decoding leaves
                    // the value itself alone (no `%`, no `+`): a value in a
                    // query inside a string is re-encoded, and an escape's
                    // hex digits can spell it with the digits after them
                    // (`\xf2`+`333333333` → `%F2333333333`).
                    let decode = !value.iter().any(|&b| b == b'%' || b == b'+');
                    if value.len() >= 6 && occurs_once(data, value) {
                        assert!(
                            !leak::leaked(&output, value, decode),
                            "a found value is still in the output"
                        );
                    }
                }
            }
        }
        Outcome::Unscannable { .. } | Outcome::Clean | Outcome::Blocked { .. } => {}
    }
    let _ = profile().redact_ndjson(data);
});

/// The property is about the found occurrence: only check values that occur once.
fn occurs_once(data: &[u8], value: &[u8]) -> bool {
    memchr::memmem::find_iter(data, value).nth(1).is_none()
}
