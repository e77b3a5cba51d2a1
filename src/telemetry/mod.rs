//! Telemetry: Prometheus metrics and the JSON access log. Used by every other module; uses
//! none of them.

pub mod access_log;
pub mod metrics;

pub use access_log::{AccessLog, AccessRecord};
pub use metrics::{Metrics, RouteMetrics, UpstreamErrorKind};
