//! The vocabulary shared by detectors, walkers and callers: types, actions,
//! findings and outcomes. Nothing here ever holds a detected value.

use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

/// The kind of identifier a detector found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PhiType {
    /// An e-mail address.
    Email,
    /// A US (NANP) phone number.
    Phone,
    /// A US social security number.
    Ssn,
    /// A payment card number (Luhn + brand prefix/length).
    CreditCard,
    /// A date of birth (keyed field or birth context in text).
    DateOfBirth,
    /// A US National Provider Identifier.
    Npi,
    /// A Medicare Beneficiary Identifier.
    Mbi,
    /// A medical record number (key or keyword context).
    Mrn,
    /// An insurance member/subscriber/policy id (key or keyword context).
    InsuranceId,
    /// A DEA registration number (checksum).
    Dea,
    /// A US passport number (key or keyword context).
    Passport,
    /// A driver's license number (key or keyword context).
    DriverLicense,
    /// An IPv4 address.
    Ipv4,
    /// An IPv6 address.
    Ipv6,
    /// A street address (number + street + suffix, or an address field).
    StreetAddress,
    /// A US ZIP code in a keyed field or after a state code.
    Zip,
    /// A person's name in a keyed field.
    PersonName,
    /// An ICD-10 diagnosis code in a keyed field.
    Icd10,
    /// An AWS access key id.
    AwsAccessKey,
    /// A Stripe secret or restricted live key.
    StripeSecretKey,
    /// A Shopify access/shared-secret/custom-app/partner token.
    ShopifyToken,
    /// A bearer token after the `Bearer` keyword.
    BearerToken,
    /// A JSON Web Token.
    Jwt,
    /// A 64-hex SHA-256 digest in an identifier field (`em`, `ph`, `external_id`...).
    HashedId,
    /// A detector declared in the profile's `custom` list (index into it).
    Custom(u16),
}

/// Every built-in type, in detector priority order.
pub const BUILTIN_TYPES: [PhiType; 24] = [
    PhiType::Email,
    PhiType::Phone,
    PhiType::Ssn,
    PhiType::CreditCard,
    PhiType::DateOfBirth,
    PhiType::Npi,
    PhiType::Mbi,
    PhiType::Mrn,
    PhiType::InsuranceId,
    PhiType::Dea,
    PhiType::Passport,
    PhiType::DriverLicense,
    PhiType::Ipv4,
    PhiType::Ipv6,
    PhiType::StreetAddress,
    PhiType::Zip,
    PhiType::PersonName,
    PhiType::Icd10,
    PhiType::AwsAccessKey,
    PhiType::StripeSecretKey,
    PhiType::ShopifyToken,
    PhiType::BearerToken,
    PhiType::Jwt,
    PhiType::HashedId,
];

impl PhiType {
    /// The position of a built-in type in [`BUILTIN_TYPES`]; `None` for custom detectors.
    pub fn builtin_index(self) -> Option<usize> {
        Some(match self {
            PhiType::Email => 0,
            PhiType::Phone => 1,
            PhiType::Ssn => 2,
            PhiType::CreditCard => 3,
            PhiType::DateOfBirth => 4,
            PhiType::Npi => 5,
            PhiType::Mbi => 6,
            PhiType::Mrn => 7,
            PhiType::InsuranceId => 8,
            PhiType::Dea => 9,
            PhiType::Passport => 10,
            PhiType::DriverLicense => 11,
            PhiType::Ipv4 => 12,
            PhiType::Ipv6 => 13,
            PhiType::StreetAddress => 14,
            PhiType::Zip => 15,
            PhiType::PersonName => 16,
            PhiType::Icd10 => 17,
            PhiType::AwsAccessKey => 18,
            PhiType::StripeSecretKey => 19,
            PhiType::ShopifyToken => 20,
            PhiType::BearerToken => 21,
            PhiType::Jwt => 22,
            PhiType::HashedId => 23,
            PhiType::Custom(_) => return None,
        })
    }

    /// The configuration name (`email`, `card`, `dob`...), used in `detectors`, `keys` and `actions`.
    pub fn config_name(self) -> &'static str {
        match self {
            PhiType::Email => "email",
            PhiType::Phone => "phone",
            PhiType::Ssn => "ssn",
            PhiType::CreditCard => "card",
            PhiType::DateOfBirth => "dob",
            PhiType::Npi => "npi",
            PhiType::Mbi => "mbi",
            PhiType::Mrn => "mrn",
            PhiType::InsuranceId => "insurance_id",
            PhiType::Dea => "dea",
            PhiType::Passport => "passport",
            PhiType::DriverLicense => "driver_license",
            PhiType::Ipv4 => "ipv4",
            PhiType::Ipv6 => "ipv6",
            PhiType::StreetAddress => "address",
            PhiType::Zip => "zip",
            PhiType::PersonName => "name",
            PhiType::Icd10 => "icd10",
            PhiType::AwsAccessKey => "aws_key",
            PhiType::StripeSecretKey => "stripe_key",
            PhiType::ShopifyToken => "shopify_token",
            PhiType::BearerToken => "bearer_token",
            PhiType::Jwt => "jwt",
            PhiType::HashedId => "hashed_id",
            PhiType::Custom(_) => "custom",
        }
    }

    /// The upper-case label used in masks (`[REDACTED:EMAIL]`) and reports.
    pub fn label(self) -> &'static str {
        match self {
            PhiType::Email => "EMAIL",
            PhiType::Phone => "PHONE",
            PhiType::Ssn => "SSN",
            PhiType::CreditCard => "CREDIT_CARD",
            PhiType::DateOfBirth => "DATE_OF_BIRTH",
            PhiType::Npi => "US_NPI",
            PhiType::Mbi => "US_MBI",
            PhiType::Mrn => "MRN",
            PhiType::InsuranceId => "INSURANCE_MEMBER_ID",
            PhiType::Dea => "DEA_NUMBER",
            PhiType::Passport => "US_PASSPORT",
            PhiType::DriverLicense => "DRIVER_LICENSE",
            PhiType::Ipv4 => "IPV4",
            PhiType::Ipv6 => "IPV6",
            PhiType::StreetAddress => "STREET_ADDRESS",
            PhiType::Zip => "US_ZIP",
            PhiType::PersonName => "PERSON_NAME",
            PhiType::Icd10 => "ICD10",
            PhiType::AwsAccessKey => "AWS_ACCESS_KEY",
            PhiType::StripeSecretKey => "STRIPE_SECRET_KEY",
            PhiType::ShopifyToken => "SHOPIFY_TOKEN",
            PhiType::BearerToken => "BEARER_TOKEN",
            PhiType::Jwt => "JWT",
            PhiType::HashedId => "HASHED_IDENTIFIER",
            PhiType::Custom(_) => "CUSTOM",
        }
    }

    /// Parses a configuration name or alias (`card`, `credit_card`, `CREDIT_CARD`...).
    pub fn from_config_name(name: &str) -> Option<PhiType> {
        let lower = name.to_ascii_lowercase();
        let alias = match lower.as_str() {
            "credit_card" => "card",
            "date_of_birth" => "dob",
            "us_npi" => "npi",
            "us_mbi" => "mbi",
            "insurance_member_id" | "insurance" | "member_id" => "insurance_id",
            "dea_number" => "dea",
            "us_passport" => "passport",
            "dl" => "driver_license",
            "street_address" => "address",
            "us_zip" => "zip",
            "person_name" => "name",
            "aws_access_key" => "aws_key",
            "stripe_secret_key" | "stripe" => "stripe_key",
            "shopify" => "shopify_token",
            "bearer" => "bearer_token",
            "hashed_identifier" | "hash" => "hashed_id",
            other => other,
        };
        BUILTIN_TYPES
            .iter()
            .copied()
            .find(|t| t.config_name() == alias)
    }
}

impl fmt::Display for PhiType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhiType::Custom(i) => write!(f, "CUSTOM#{i}"),
            other => f.write_str(other.label()),
        }
    }
}

/// What to do with a finding.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Replace the value with a mask (`[REDACTED:TYPE]` or a format-preserving mask).
    #[default]
    Mask,
    /// Remove the enclosing field / parameter / element (in plain text: the value).
    Drop,
    /// Replace the value with a keyed HMAC-SHA256 pseudonym.
    Pseudonymize,
    /// The caller should refuse the whole payload.
    Block,
}

impl Action {
    /// Every action, in declaration order.
    pub const ALL: [Action; 4] = [
        Action::Mask,
        Action::Drop,
        Action::Pseudonymize,
        Action::Block,
    ];

    /// The configuration name (`mask`, `drop`, `pseudonymize`, `block`), also used as a
    /// metric label and in audit events.
    pub fn name(self) -> &'static str {
        match self {
            Action::Mask => "mask",
            Action::Drop => "drop",
            Action::Pseudonymize => "pseudonymize",
            Action::Block => "block",
        }
    }
}

/// How a value reached the detector (outermost encoding that had to be undone).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Found as written.
    Plain,
    /// Found after percent-decoding (once or more).
    Percent,
    /// Found after JSON string unescaping.
    JsonEscape,
    /// Found inside a base64 / base64url blob; the whole blob is rewritten.
    Base64,
    /// Found inside a JSON document nested in a string or query value.
    NestedJson,
}

/// One detected identifier. Deliberately carries no copy of the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What was found.
    pub phi_type: PhiType,
    /// Byte range in the caller's input that contains the value (for encoded
    /// or nested values: the range of the whole enclosing token).
    pub range: Range<usize>,
    /// The key path (`user_data.em[0]`, `email`, `ud[em]`), when the value sat in a field.
    pub key_path: Option<String>,
    /// The action the profile assigned.
    pub action: Action,
    /// Which encoding had to be undone to see it.
    pub encoding: Encoding,
}

/// Why a payload could not be scanned completely; the caller decides (the proxy blocks).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnscannableReason {
    /// Nested encodings went deeper than `limits.max_decode_depth`.
    DecodeDepth,
    /// Decoding would produce more than `limits.max_expansion_bytes`.
    ExpansionBudget,
    /// JSON nesting deeper than `limits.max_json_depth`.
    JsonDepth,
    /// The body was declared JSON but is not well-formed JSON.
    MalformedJson,
    /// The input is larger than `limits.max_input_bytes`.
    TooLarge,
}

impl fmt::Display for UnscannableReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnscannableReason::DecodeDepth => "decode depth exceeded",
            UnscannableReason::ExpansionBudget => "decode expansion budget exceeded",
            UnscannableReason::JsonDepth => "JSON nesting too deep",
            UnscannableReason::MalformedJson => "malformed JSON",
            UnscannableReason::TooLarge => "input too large",
        })
    }
}

/// The result of redacting one payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing found: forward the input unchanged (no allocation was made).
    Clean,
    /// Findings were rewritten; `output` replaces the input.
    Redacted {
        /// The rewritten payload.
        output: Vec<u8>,
        /// What was found and where (input coordinates).
        findings: Vec<Finding>,
    },
    /// At least one finding's action is `block`: refuse the payload.
    Blocked {
        /// Every finding, including those with other actions.
        findings: Vec<Finding>,
    },
    /// The payload could not be fully scanned (fail closed).
    Unscannable {
        /// Which bound or parse failure stopped the scan.
        reason: UnscannableReason,
    },
}

impl Outcome {
    /// The bytes to forward: the input when clean, the rewrite when redacted,
    /// `None` when blocked or unscannable.
    pub fn output<'a>(&'a self, input: &'a [u8]) -> Option<&'a [u8]> {
        match self {
            Outcome::Clean => Some(input),
            Outcome::Redacted { output, .. } => Some(output),
            Outcome::Blocked { .. } | Outcome::Unscannable { .. } => None,
        }
    }

    /// The findings (empty for clean and unscannable outcomes).
    pub fn findings(&self) -> &[Finding] {
        match self {
            Outcome::Redacted { findings, .. } | Outcome::Blocked { findings } => findings,
            Outcome::Clean | Outcome::Unscannable { .. } => &[],
        }
    }
}

/// A payload format the engine can walk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Query string or `application/x-www-form-urlencoded` body.
    Query,
    /// One JSON document.
    Json,
    /// Newline-delimited JSON.
    Ndjson,
    /// Plain text or a log line.
    Text,
    /// Sniff the format of one line.
    Auto,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_index_is_the_position_in_builtin_types() {
        for (i, t) in BUILTIN_TYPES.iter().enumerate() {
            assert_eq!(t.builtin_index(), Some(i), "{t:?}");
        }
        assert_eq!(PhiType::Custom(0).builtin_index(), None);
    }

    #[test]
    fn action_names_are_the_config_names() {
        for action in Action::ALL {
            let json = serde_json::to_string(&action).unwrap();
            assert_eq!(json, format!("\"{}\"", action.name()));
        }
    }
}
