//! phiguard: a PHI-redacting reverse proxy for healthcare storefronts and patient portals.
//!
//! The request path is described in `docs/ARCHITECTURE.md`. Dependencies flow one way:
//! `config → policy → proxy`, with `telemetry` used by all and using none of them.

#![warn(clippy::unwrap_used)]
#![warn(missing_docs)]

pub mod admin;
pub mod app;
pub mod config;
pub mod demo;
pub mod policy;
pub mod proxy;
pub mod ratelimit;
pub mod reload;
pub mod serve;
pub mod telemetry;
