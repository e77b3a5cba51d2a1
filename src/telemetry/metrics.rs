//! The Prometheus registry and phiguard's metrics. Names follow `docs/METRICS.md`: a
//! `phiguard_` prefix, base units, `_total` for counters. Every label value comes from a
//! bounded set (route names from the config, status classes, error kinds), never from a
//! request.

use std::sync::{Arc, OnceLock};

use phiguard_engine::{Action, PhiType, BUILTIN_TYPES};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Latency buckets in seconds, from 0.5 ms to 30 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Buckets for the proxy's own processing time, from 10 µs to 100 ms.
const OVERHEAD_BUCKETS: &[f64] = &[
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1,
];

/// Status classes used as the `status_class` label.
pub const STATUS_CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// Kinds of upstream failure used as the `kind` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamErrorKind {
    /// Could not connect (refused, unreachable, TLS handshake failed).
    Connect,
    /// Connect, read or write timed out.
    Timeout,
    /// The upstream broke the exchange in some other way.
    Other,
}

impl UpstreamErrorKind {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Timeout => "timeout",
            Self::Other => "other",
        }
    }
}

/// All of phiguard's metrics, registered in one registry.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    upstream_duration: HistogramVec,
    proxy_added: HistogramVec,
    scanned_bytes: IntCounterVec,
    scan_duration: HistogramVec,
    upstream_errors: IntCounterVec,
    /// Requests being handled right now.
    pub in_flight: IntGauge,
    /// Access log lines dropped because the writer fell behind.
    pub access_log_dropped: IntCounter,
    /// Audit events dropped because the writer fell behind.
    pub audit_dropped: IntCounter,
    config_reloads: IntCounterVec,
    config_last_success: IntGauge,
    config_info: IntGaugeVec,
    ratelimit_decisions: IntCounterVec,
    ratelimit_backend_errors: IntCounterVec,
    redactions: IntCounterVec,
    egress_blocked: IntCounterVec,
    enumeration_blocks: IntCounterVec,
    csp_violations: IntCounterVec,
    csp_reports_rejected: IntCounterVec,
    csp_nonce_responses: IntCounterVec,
}

/// `reason` values of `phiguard_csp_reports_rejected_total`.
pub const CSP_REJECT_REASONS: [&str; 4] = ["bad_json", "too_large", "content_type", "method"];

/// `directive` values of `phiguard_csp_violations_total`; anything else counts as `other`.
pub const CSP_DIRECTIVES: [&str; 19] = [
    "script-src",
    "script-src-elem",
    "script-src-attr",
    "style-src",
    "style-src-elem",
    "style-src-attr",
    "img-src",
    "connect-src",
    "frame-src",
    "frame-ancestors",
    "default-src",
    "form-action",
    "object-src",
    "base-uri",
    "font-src",
    "media-src",
    "worker-src",
    "manifest-src",
    "other",
];

/// `outcome` values of `phiguard_csp_nonce_responses_total`.
pub const CSP_NONCE_OUTCOMES: [&str; 4] = ["rewritten", "decoded", "undecodable", "decode_error"];

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "phiguard_requests_total",
                "Requests handled, by route and status class.",
            ),
            &["route", "status_class"],
        )
        .expect("static metric definition");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "phiguard_request_duration_seconds",
                "Time from request header to the end of the response, by route.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route"],
        )
        .expect("static metric definition");
        let upstream_duration = HistogramVec::new(
            HistogramOpts::new(
                "phiguard_upstream_duration_seconds",
                "Time from choosing the upstream (connect included) to its response header, by route.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route"],
        )
        .expect("static metric definition");
        let proxy_added = HistogramVec::new(
            HistogramOpts::new(
                "phiguard_proxy_added_duration_seconds",
                "Time phiguard itself spends on a request (routing, limits, header work), by route.",
            )
            .buckets(OVERHEAD_BUCKETS.to_vec()),
            &["route"],
        )
        .expect("static metric definition");
        let scanned_bytes = IntCounterVec::new(
            Opts::new(
                "phiguard_egress_scanned_bytes_total",
                "Bytes of query strings, headers and bodies scanned for PHI on egress routes, by route.",
            ),
            &["route"],
        )
        .expect("static metric definition");
        let scan_duration = HistogramVec::new(
            HistogramOpts::new(
                "phiguard_egress_scan_duration_seconds",
                "Time spent scanning and redacting one egress request (query and body), by route.",
            )
            .buckets(OVERHEAD_BUCKETS.to_vec()),
            &["route"],
        )
        .expect("static metric definition");
        let upstream_errors = IntCounterVec::new(
            Opts::new(
                "phiguard_upstream_errors_total",
                "Upstream failures, by route and kind.",
            ),
            &["route", "kind"],
        )
        .expect("static metric definition");
        let in_flight = IntGauge::new("phiguard_requests_in_flight", "Requests being handled now.")
            .expect("static metric definition");
        let access_log_dropped = IntCounter::new(
            "phiguard_access_log_dropped_total",
            "Access log lines dropped because the writer fell behind.",
        )
        .expect("static metric definition");
        let config_reloads = IntCounterVec::new(
            Opts::new(
                "phiguard_config_reloads_total",
                "Config reload attempts, by result.",
            ),
            &["result"],
        )
        .expect("static metric definition");
        let config_last_success = IntGauge::new(
            "phiguard_config_last_reload_success_timestamp_seconds",
            "Unix time the serving config was loaded.",
        )
        .expect("static metric definition");
        let config_info = IntGaugeVec::new(
            Opts::new(
                "phiguard_config_info",
                "Always 1; the hash label names the serving config.",
            ),
            &["hash"],
        )
        .expect("static metric definition");
        let ratelimit_decisions = IntCounterVec::new(
            Opts::new(
                "phiguard_ratelimit_decisions_total",
                "Rate-limit decisions, by rule and decision (allowed, limited, dry_run_limited).",
            ),
            &["rule", "decision"],
        )
        .expect("static metric definition");
        let ratelimit_backend_errors = IntCounterVec::new(
            Opts::new(
                "phiguard_ratelimit_backend_errors_total",
                "Decisions the shared (Redis) backend could not make, by rule.",
            ),
            &["rule"],
        )
        .expect("static metric definition");
        let redactions = IntCounterVec::new(
            Opts::new(
                "phiguard_phi_redactions_total",
                "PHI values redacted on egress routes, by route, destination, type and action.",
            ),
            &["route", "destination", "type", "action"],
        )
        .expect("static metric definition");
        let egress_blocked = IntCounterVec::new(
            Opts::new(
                "phiguard_egress_blocked_total",
                "Egress requests refused (never forwarded), by route, destination and reason.",
            ),
            &["route", "destination", "reason"],
        )
        .expect("static metric definition");
        let enumeration_blocks = IntCounterVec::new(
            Opts::new(
                "phiguard_enumeration_blocks_total",
                "Clients blocked by an enumeration guard, by rule.",
            ),
            &["rule"],
        )
        .expect("static metric definition");
        let audit_dropped = IntCounter::new(
            "phiguard_audit_dropped_total",
            "Audit events dropped because the writer fell behind.",
        )
        .expect("static metric definition");
        let csp_violations = IntCounterVec::new(
            Opts::new(
                "phiguard_csp_violations_total",
                "CSP violations reported by browsers, by the route of the violating page and directive.",
            ),
            &["route", "directive"],
        )
        .expect("static metric definition");
        let csp_reports_rejected = IntCounterVec::new(
            Opts::new(
                "phiguard_csp_reports_rejected_total",
                "Posts to the CSP report endpoint refused, by reason (bad_json, too_large, content_type, method).",
            ),
            &["reason"],
        )
        .expect("static metric definition");
        // Zero series from the start, so the families are exported and rates work before
        // the first report: every reason, and every directive for pages matching no route.
        for reason in CSP_REJECT_REASONS {
            csp_reports_rejected.with_label_values(&[reason]);
        }
        for directive in CSP_DIRECTIVES {
            csp_violations.with_label_values(&["-", directive]);
        }
        let csp_nonce_responses = IntCounterVec::new(
            Opts::new(
                "phiguard_csp_nonce_responses_total",
                "HTML responses on csp_nonce routes, by outcome (rewritten, decoded, undecodable, decode_error).",
            ),
            &["outcome"],
        )
        .expect("static metric definition");
        for outcome in CSP_NONCE_OUTCOMES {
            csp_nonce_responses.with_label_values(&[outcome]);
        }
        let build_info = IntGaugeVec::new(
            Opts::new(
                "phiguard_build_info",
                "Always 1; the version label tells the build.",
            ),
            &["version"],
        )
        .expect("static metric definition");
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        for collector in [
            Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(duration.clone()),
            Box::new(upstream_duration.clone()),
            Box::new(proxy_added.clone()),
            Box::new(scanned_bytes.clone()),
            Box::new(scan_duration.clone()),
            Box::new(upstream_errors.clone()),
            Box::new(in_flight.clone()),
            Box::new(access_log_dropped.clone()),
            Box::new(audit_dropped.clone()),
            Box::new(config_reloads.clone()),
            Box::new(config_last_success.clone()),
            Box::new(config_info.clone()),
            Box::new(ratelimit_decisions.clone()),
            Box::new(enumeration_blocks.clone()),
            Box::new(ratelimit_backend_errors.clone()),
            Box::new(redactions.clone()),
            Box::new(egress_blocked.clone()),
            Box::new(csp_violations.clone()),
            Box::new(csp_reports_rejected.clone()),
            Box::new(csp_nonce_responses.clone()),
            Box::new(build_info),
        ] {
            registry
                .register(collector)
                .expect("metric names are unique");
        }
        Self {
            registry,
            requests,
            duration,
            upstream_duration,
            proxy_added,
            scanned_bytes,
            scan_duration,
            upstream_errors,
            in_flight,
            access_log_dropped,
            audit_dropped,
            config_reloads,
            config_last_success,
            config_info,
            ratelimit_decisions,
            ratelimit_backend_errors,
            redactions,
            egress_blocked,
            enumeration_blocks,
            csp_violations,
            csp_reports_rejected,
            csp_nonce_responses,
        }
    }

    /// Counts one reported CSP violation; `route` is a configured route name or `-`,
    /// `directive` one of a fixed list.
    pub fn count_csp_violation(&self, route: &str, directive: &str) {
        self.csp_violations
            .with_label_values(&[route, directive])
            .inc();
    }

    /// Counts one refused post to the CSP report endpoint.
    pub fn count_csp_report_rejected(&self, reason: &str) {
        self.csp_reports_rejected.with_label_values(&[reason]).inc();
    }

    /// Counts one HTML response on a `csp_nonce` route by what happened to its body.
    pub fn count_csp_nonce(&self, outcome: &str) {
        self.csp_nonce_responses.with_label_values(&[outcome]).inc();
    }

    /// `phiguard_ratelimit_decisions_total{rule,decision}`, for binding per rule.
    pub fn ratelimit_decisions(&self) -> &IntCounterVec {
        &self.ratelimit_decisions
    }

    /// `phiguard_ratelimit_backend_errors_total{rule}`, for binding per rule.
    pub fn ratelimit_backend_errors(&self) -> &IntCounterVec {
        &self.ratelimit_backend_errors
    }

    /// Counts one redacted value. Every label comes from the config or the engine's type
    /// list, never from the request.
    pub fn count_redaction(&self, route: &str, destination: &str, phi_type: &str, action: &str) {
        self.redactions
            .with_label_values(&[route, destination, phi_type, action])
            .inc();
    }

    /// Counts one refused egress request.
    pub fn count_egress_block(&self, route: &str, destination: &str, reason: &str) {
        self.egress_blocked
            .with_label_values(&[route, destination, reason])
            .inc();
    }

    /// `phiguard_enumeration_blocks_total{rule}`, for binding per rule.
    pub fn enumeration_blocks(&self) -> &IntCounterVec {
        &self.enumeration_blocks
    }

    /// Counts one reload attempt.
    pub fn config_reload(&self, ok: bool) {
        let result = if ok { "success" } else { "failure" };
        self.config_reloads.with_label_values(&[result]).inc();
    }

    /// Records that the config with `hash` is serving since `unix_secs`.
    pub fn set_config_info(&self, hash: &str, unix_secs: u64) {
        self.config_info.reset();
        self.config_info.with_label_values(&[hash]).set(1);
        self.config_last_success
            .set(i64::try_from(unix_secs).unwrap_or(i64::MAX));
    }

    /// Pre-bound scan and redaction handles for one egress route to `destination`.
    pub fn egress_route(&self, route: &str, destination: &str) -> EgressMetrics {
        EgressMetrics {
            scanned_bytes: self.scanned_bytes.with_label_values(&[route]),
            scan_duration: self.scan_duration.with_label_values(&[route]),
            redactions: Arc::new(RedactionCounters {
                vec: self.redactions.clone(),
                route: route.to_owned(),
                destination: destination.to_owned(),
                builtin: (0..BUILTIN_TYPES.len() * Action::ALL.len())
                    .map(|_| OnceLock::new())
                    .collect(),
            }),
        }
    }

    /// Pre-bound handles for one route, so requests do no label lookups.
    pub fn route(&self, route: &str) -> RouteMetrics {
        RouteMetrics {
            by_class: STATUS_CLASSES.map(|c| self.requests.with_label_values(&[route, c])),
            duration: self.duration.with_label_values(&[route]),
            upstream_duration: self.upstream_duration.with_label_values(&[route]),
            proxy_added: self.proxy_added.with_label_values(&[route]),
            upstream_errors: [
                UpstreamErrorKind::Connect,
                UpstreamErrorKind::Timeout,
                UpstreamErrorKind::Other,
            ]
            .map(|k| self.upstream_errors.with_label_values(&[route, k.as_str()])),
        }
    }

    /// The registry, for components that add their own metrics.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 * 1024);
        // Encoding into a Vec cannot fail for well-formed metrics.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Scan and redaction metric handles bound to one egress route.
#[derive(Clone, Debug)]
pub struct EgressMetrics {
    scanned_bytes: IntCounter,
    scan_duration: Histogram,
    redactions: Arc<RedactionCounters>,
}

/// `phiguard_phi_redactions_total` for one route and destination: one slot per built-in
/// type and action, bound on first use, so a request does no label lookup after the first
/// of its kind and `/metrics` lists only pairs that were counted.
#[derive(Debug)]
struct RedactionCounters {
    vec: IntCounterVec,
    route: String,
    destination: String,
    builtin: Box<[OnceLock<IntCounter>]>,
}

impl RedactionCounters {
    fn bind(&self, label: &str, action: Action) -> IntCounter {
        self.vec
            .with_label_values(&[&self.route, &self.destination, label, action.name()])
    }
}

impl EgressMetrics {
    /// Counts one redacted value of `phi_type`, labelled `label` (the profile's name for the
    /// type), handled with `action`. Custom detectors' counters are looked up each time.
    pub fn count_redaction(&self, phi_type: PhiType, label: &str, action: Action) {
        let counters = &self.redactions;
        // `Action` is fieldless; its discriminant is its position in `Action::ALL`.
        let slot = phi_type.builtin_index().and_then(|t| {
            counters
                .builtin
                .get(t * Action::ALL.len() + action as usize)
        });
        match slot {
            Some(slot) => slot.get_or_init(|| counters.bind(label, action)).inc(),
            None => counters.bind(label, action).inc(),
        }
    }

    /// Records one scan of `bytes` bytes that took `seconds`.
    pub fn observe_scan(&self, bytes: usize, seconds: f64) {
        self.scanned_bytes
            .inc_by(u64::try_from(bytes).unwrap_or(u64::MAX));
        self.scan_duration.observe(seconds);
    }
}

/// Metric handles bound to one route.
#[derive(Clone, Debug)]
pub struct RouteMetrics {
    by_class: [IntCounter; 5],
    duration: Histogram,
    upstream_duration: Histogram,
    proxy_added: Histogram,
    upstream_errors: [IntCounter; 3],
}

impl RouteMetrics {
    /// Records one finished request.
    pub fn observe(&self, status: u16, seconds: f64) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].inc();
        self.duration.observe(seconds);
    }

    /// Records the upstream's share of a request (connect to response header).
    pub fn observe_upstream(&self, seconds: f64) {
        self.upstream_duration.observe(seconds);
    }

    /// Records the proxy's own processing time of a request.
    pub fn observe_proxy_added(&self, seconds: f64) {
        self.proxy_added.observe(seconds);
    }

    /// Records one upstream failure.
    pub fn upstream_error(&self, kind: UpstreamErrorKind) {
        let i = match kind {
            UpstreamErrorKind::Connect => 0,
            UpstreamErrorKind::Timeout => 1,
            UpstreamErrorKind::Other => 2,
        };
        self.upstream_errors[i].inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_handles_feed_the_registry() {
        let m = Metrics::new();
        let r = m.route("portal");
        r.observe(200, 0.002);
        r.observe(404, 0.001);
        r.upstream_error(UpstreamErrorKind::Timeout);
        let text = String::from_utf8(m.render()).unwrap();
        assert!(text.contains("phiguard_requests_total{route=\"portal\",status_class=\"2xx\"} 1"));
        assert!(text.contains("phiguard_requests_total{route=\"portal\",status_class=\"4xx\"} 1"));
        assert!(
            text.contains("phiguard_upstream_errors_total{kind=\"timeout\",route=\"portal\"} 1")
        );
        assert!(text.contains("phiguard_request_duration_seconds_count{route=\"portal\"} 2"));
        assert!(text.contains("phiguard_build_info{version="));
    }

    #[test]
    fn egress_handles_count_redactions_per_type_and_action() {
        let m = Metrics::new();
        let e = m.egress_route("beacon", "tracker");
        let series = |text: &str, ty: &str, action: &str| {
            let prefix = format!(
                "phiguard_phi_redactions_total{{action=\"{action}\",destination=\"tracker\",route=\"beacon\",type=\"{ty}\"}} "
            );
            text.lines()
                .find_map(|l| l.strip_prefix(prefix.as_str()))
                .map(|v| v.parse::<u64>().unwrap())
        };
        e.count_redaction(PhiType::Email, "EMAIL", Action::Mask);
        e.count_redaction(PhiType::Email, "EMAIL", Action::Mask);
        e.count_redaction(PhiType::Email, "EMAIL", Action::Pseudonymize);
        e.count_redaction(PhiType::HashedId, "HASHED_ID", Action::Drop);
        e.count_redaction(PhiType::Custom(0), "LOYALTY_ID", Action::Mask);
        e.count_redaction(PhiType::Custom(0), "LOYALTY_ID", Action::Mask);
        // A clone (policies are cloned on reload) counts into the same series.
        e.clone()
            .count_redaction(PhiType::Email, "EMAIL", Action::Mask);
        let text = String::from_utf8(m.render()).unwrap();
        assert_eq!(series(&text, "EMAIL", "mask"), Some(3), "{text}");
        assert_eq!(series(&text, "EMAIL", "pseudonymize"), Some(1));
        assert_eq!(series(&text, "HASHED_ID", "drop"), Some(1));
        assert_eq!(series(&text, "LOYALTY_ID", "mask"), Some(2));
        // Pairs never counted are not listed.
        assert_eq!(series(&text, "EMAIL", "drop"), None);
        assert_eq!(series(&text, "PHONE", "mask"), None);
    }
}
