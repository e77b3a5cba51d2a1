//! phiguard's PHI engine: finds patient data in bytes and strings and rewrites it.
//!
//! This crate knows nothing of HTTP or pingora, so it can be fuzzed, benchmarked
//! and used by `phiguard redact` as a log filter.
//!
//! Pipeline: a [`ProfileSpec`] (YAML) is compiled once into a [`Profile`]
//! (a dense DFA for numeric patterns, a lazy DFA for word-shaped ones, keyword
//! automata, memchr-anchored e-mail/IPv6 scans, key tables); each call walks
//! its format ([`Profile::redact_query`], [`Profile::redact_json`],
//! [`Profile::redact_ndjson`], [`Profile::redact_text`], [`Profile::redact_auto`]),
//! decodes nested encodings within [`Limits`], scans values and returns an
//! [`Outcome`]. See `docs/ENGINE.md`.

#![warn(missing_docs)]

pub mod codec;
#[cfg(feature = "corpus")]
pub mod corpus;
pub mod detect;
mod error;
pub mod filter;
mod lanes;
mod profile;
pub mod redact;
mod spec;
mod types;

pub use error::EngineError;
pub use filter::FilterStats;
pub use profile::Profile;
pub use spec::{CustomDetectorSpec, Limits, MaskStyle, ProfileSpec, ValidatorSpec};
pub use types::{
    Action, Encoding, Finding, Format, Outcome, PhiType, UnscannableReason, BUILTIN_TYPES,
};
