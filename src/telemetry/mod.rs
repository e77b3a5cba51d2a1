//! Telemetry: Prometheus metrics, the JSON access log and the audit trail. Used by every
//! other module; uses none of them.

pub mod access_log;
pub mod audit;
pub mod lines;
pub mod metrics;

pub use access_log::{AccessLog, AccessRecord};
pub use audit::{AuditEvent, AuditLog, CspViolationEvent};
pub use lines::LineSink;
pub use metrics::{EgressMetrics, Metrics, RouteMetrics, UpstreamErrorKind};
