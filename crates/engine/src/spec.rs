//! The serde (YAML/JSON) form of a redaction profile.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::types::Action;

/// One redaction profile as written in configuration
/// (`redaction_profiles: { name: ProfileSpec }`). Every field has an explicit default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProfileSpec {
    /// Built-in detectors to enable (`email`, `phone`, `ssn`, `card`, `dob`, `npi`, `mbi`,
    /// `mrn`, `insurance_id`, `dea`, `passport`, `driver_license`, `ipv4`, `ipv6`, `ip`,
    /// `address`, `zip`, `name`, `icd10`, `aws_key`, `stripe_key`, `shopify_token`,
    /// `bearer_token`, `jwt`, `secrets`, `hashed_id`). Empty = all built-ins.
    pub detectors: Vec<String>,
    /// Extra key names treated as PII fields, mapped to a type name
    /// (`patient_first: name`, `customer.dob: dob`). Matched case-insensitively
    /// across naming styles (`firstName`, `first-name`, `FIRST_NAME`).
    pub keys: BTreeMap<String, String>,
    /// Default action for every type.
    pub action: Action,
    /// Per-type action overrides (`ssn: block`, `zip: mask`, custom detector names).
    pub actions: BTreeMap<String, Action>,
    /// `label` (`[REDACTED:EMAIL]`) or `preserve` (every letter/digit becomes `*`).
    pub mask_style: MaskStyle,
    /// HMAC-SHA256 key for `pseudonymize`: `hex:...`, `base64:...` (at least 16 bytes).
    pub pseudonym_key: Option<String>,
    /// Name of an environment variable holding the key (same `hex:`/`base64:` syntax),
    /// read once when the profile is compiled.
    pub pseudonym_key_env: Option<String>,
    /// Key id embedded in each pseudonym so keys can be rotated (`[A-Za-z0-9]{1,16}`).
    pub pseudonym_key_id: Option<String>,
    /// Keep the 3-digit ZIP prefix (HIPAA Safe Harbor) instead of masking the whole ZIP.
    pub zip_keep_prefix: bool,
    /// Custom detectors.
    pub custom: Vec<CustomDetectorSpec>,
    /// Context keywords per type (`mrn`, `insurance_id`, `passport`, `driver_license`,
    /// `ssn`, `phone`, `npi`, `dob`); a list given here replaces the built-in list.
    pub context: BTreeMap<String, Vec<String>>,
    /// Decoding and parsing bounds.
    pub limits: Limits,
}

/// How `mask` rewrites a value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaskStyle {
    /// `[REDACTED:EMAIL]`.
    #[default]
    Label,
    /// Same length and punctuation, every letter and digit replaced by `*`.
    Preserve,
}

/// A detector declared in configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CustomDetectorSpec {
    /// Name used in masks (upper-cased), `actions` and `detectors`.
    pub name: String,
    /// Regex (Rust `regex` syntax, matched on bytes). If it has a capture group
    /// named `value`, only that group is redacted.
    pub regex: String,
    /// When non-empty, one of these (case-insensitive) must occur within
    /// 48 bytes before the match, or the value must sit in a field of this detector's `keys`.
    pub keywords: Vec<String>,
    /// Key names whose values are checked with this detector as context.
    pub keys: Vec<String>,
    /// Optional validator applied to the match.
    pub validator: Option<ValidatorSpec>,
}

/// Validators a custom detector can use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidatorSpec {
    /// Luhn checksum over the digits.
    Luhn,
    /// NPI Luhn over the `80840` prefix.
    Npi,
    /// DEA checksum.
    Dea,
    /// SSA SSN rules.
    Ssn,
    /// CMS MBI character rules.
    Mbi,
}

/// Bounds on decoding and parsing. Past a bound the payload is unscannable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Nested decode layers (percent, base64, JSON-in-string, query-in-value).
    pub max_decode_depth: u8,
    /// Total bytes all decoders may produce for one payload.
    pub max_expansion_bytes: usize,
    /// JSON container nesting.
    pub max_json_depth: u16,
    /// Largest payload accepted at all.
    pub max_input_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_decode_depth: 4,
            max_expansion_bytes: 4 << 20,
            max_json_depth: 64,
            max_input_bytes: 64 << 20,
        }
    }
}
