//! phiguard's PHI engine: finds patient data in bytes and strings and rewrites it.
//!
//! This crate knows nothing of HTTP or pingora, so it can be fuzzed, benchmarked
//! and used by `phiguard redact` as a log filter.
