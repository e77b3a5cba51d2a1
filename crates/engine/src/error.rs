//! Profile compilation errors. Each names the key path inside the profile.

use thiserror::Error;

/// Why a [`crate::ProfileSpec`] could not be compiled. `path` is the key path
/// inside the profile (`detectors[2]`, `custom[0].regex`, `actions.foo`).
/// Errors never contain detected values or the pseudonym key.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EngineError {
    /// A detector or type name that is neither built in nor a custom detector.
    #[error("{path}: unknown detector or type {name:?}")]
    UnknownType {
        /// Key path of the offending entry.
        path: String,
        /// The name as written in the profile.
        name: String,
    },
    /// A custom regex that does not compile.
    #[error("{path}: invalid regex: {message}")]
    InvalidRegex {
        /// Key path of the regex.
        path: String,
        /// The regex compiler's message.
        message: String,
    },
    /// `pseudonymize` is used but no key is configured.
    #[error(
        "{path}: action pseudonymize needs pseudonym_key or pseudonym_key_env and pseudonym_key_id"
    )]
    MissingPseudonymKey {
        /// Key path of the action that needs the key.
        path: String,
    },
    /// The pseudonym key is malformed or too short (the key itself is never shown).
    #[error("{path}: {problem}")]
    InvalidPseudonymKey {
        /// `pseudonym_key`, `pseudonym_key_env` or `pseudonym_key_id`.
        path: String,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// Any other invalid value.
    #[error("{path}: {problem}")]
    Invalid {
        /// Key path of the offending value.
        path: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A built-in pattern failed to compile (a bug in the engine).
    #[error("internal pattern error: {0}")]
    Internal(String),
}
