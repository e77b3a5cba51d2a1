//! The canary self-test: before a config goes live (at start, on every reload and in
//! `phiguard check`), synthetic PHI of every type, plain and encoded, is pushed through every
//! egress route's redaction profile. If any of it would come out readable, the config is
//! refused: a profile that lets PHI through to a tracker is a broken config, not a tuning
//! choice. Blocked or unscannable payloads pass (they are never forwarded).

use phiguard_engine::{Outcome, Profile};

/// One synthetic payload and the strings that must not survive redaction.
struct Canary {
    /// The detector type it exercises (for the error message).
    what: &'static str,
    /// A query string carrying the value.
    query: &'static str,
    /// Forms of the value that must not appear in the output.
    needles: &'static [&'static str],
}

/// Every built-in type, plus encoded forms. Values are synthetic and pass their validators.
const CANARIES: &[Canary] = &[
    Canary { what: "EMAIL", query: "email=jane.canary@example.com", needles: &["jane.canary"] },
    Canary { what: "PHONE", query: "phone=%28555%29%20867-5309", needles: &["867-5309", "8675309"] },
    Canary { what: "SSN", query: "ssn=536-22-8431", needles: &["536-22-8431", "536228431"] },
    Canary { what: "CREDIT_CARD", query: "card=4111111111111111", needles: &["4111111111111111"] },
    Canary { what: "DATE_OF_BIRTH", query: "dob=1984-03-07", needles: &["1984-03-07"] },
    Canary { what: "US_NPI", query: "npi=1234567893", needles: &["1234567893"] },
    Canary { what: "US_MBI", query: "mbi=1EG4TE5MK73", needles: &["1EG4TE5MK73"] },
    Canary { what: "IPV4", query: "ip=203.0.113.7", needles: &["203.0.113.7"] },
    Canary { what: "STREET_ADDRESS", query: "address=123%20Main%20Street", needles: &["Main%20Street", "Main Street"] },
    Canary { what: "US_ZIP", query: "zip=02139", needles: &["02139"] },
    Canary { what: "PERSON_NAME", query: "first_name=Janet", needles: &["Janet"] },
    Canary { what: "MRN", query: "mrn=00123456", needles: &["00123456"] },
    Canary { what: "INSURANCE_MEMBER_ID", query: "member_id=XQH123456789", needles: &["XQH123456789"] },
    Canary { what: "DEA_NUMBER", query: "dea=AB1234563", needles: &["AB1234563"] },
    Canary { what: "US_PASSPORT", query: "passport=C03005988", needles: &["C03005988"] },
    Canary { what: "ICD10", query: "icd=E11.9", needles: &["E11.9"] },
    Canary {
        what: "secret key",
        query: "key=sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        needles: &["4eC39HqLyjWDarjtT1zdp7dc"],
    },
    Canary {
        what: "JWT",
        query: "token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        needles: &["eyJzdWIiOiIxMjM0NTY3ODkwIn0"],
    },
    Canary {
        what: "hashed identifier",
        query: "em=3b4c4ac8e5a1fd5d0e3c0f5b7e3f7a9f1f1e2d2c3b4a5968778695a4b3c2d1e0",
        needles: &["3b4c4ac8e5a1fd5d0e3c0f5b7e3f7a9f"],
    },
    Canary {
        what: "percent-encoded e-mail",
        query: "uid=jane.canary%40example.com",
        needles: &["jane.canary"],
    },
    Canary {
        what: "double-encoded e-mail in a URL",
        query: "dl=https%253A%252F%252Fshop%252F%253Femail%253Djane.canary%252540example.com",
        needles: &["jane.canary"],
    },
    Canary {
        what: "JSON in a query value",
        query: "q=%7B%22email%22%3A%22jane.canary%40example.com%22%7D",
        needles: &["jane.canary"],
    },
    Canary {
        what: "base64 e-mail",
        query: "d=amFuZS5jYW5hcnlAZXhhbXBsZS5jb20=",
        needles: &["amFuZS5jYW5hcnlAZXhhbXBsZS5jb20", "jane.canary"],
    },
];

/// Runs the canaries through `profile` as query strings and as JSON bodies; returns the
/// first that comes out readable, described for an operator.
pub fn self_test(profile: &Profile) -> Result<(), String> {
    for canary in CANARIES {
        let outcome = profile.redact_query(canary.query);
        if leaks(&outcome, canary.query.as_bytes(), canary.needles) {
            return Err(format!(
                "canary self-test: {} in a query string came through unredacted",
                canary.what
            ));
        }
        if let Some((key, value)) = canary.query.split_once('=') {
            if !value.contains('%') {
                let json = format!("{{\"{key}\":\"{value}\"}}");
                let outcome = profile.redact_json(json.as_bytes());
                if leaks(&outcome, json.as_bytes(), canary.needles) {
                    return Err(format!(
                        "canary self-test: {} in a JSON body came through unredacted",
                        canary.what
                    ));
                }
            }
        }
    }
    Ok(())
}

fn leaks(outcome: &Outcome, input: &[u8], needles: &[&str]) -> bool {
    match outcome.output(input) {
        // Blocked or unscannable: never forwarded.
        None => false,
        Some(out) => needles
            .iter()
            .any(|n| memchr::memmem::find(out, n.as_bytes()).is_some()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_profile_passes() {
        self_test(&Profile::builtin_default()).unwrap();
    }

    #[test]
    fn a_profile_that_misses_a_type_fails_and_names_it() {
        let spec: phiguard_engine::ProfileSpec =
            serde_yaml::from_str("{detectors: [email, phone]}").unwrap();
        let profile = Profile::compile(&spec).unwrap();
        let err = self_test(&profile).unwrap_err();
        assert_eq!(
            err,
            "canary self-test: SSN in a query string came through unredacted"
        );
    }

    #[test]
    fn blocking_counts_as_safe() {
        let spec: phiguard_engine::ProfileSpec = serde_yaml::from_str("{action: block}").unwrap();
        self_test(&Profile::compile(&spec).unwrap()).unwrap();
    }
}
