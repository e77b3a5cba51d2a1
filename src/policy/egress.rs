//! Egress routes: requests that leave for a third party (trackers, analytics and log
//! intakes) and must carry no PHI. Compiled from a route's `egress:` block.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::header::HeaderName;
use phiguard_engine::Profile;

use super::allowlist::ParamAllowlist;
use super::health::HealthContext;
use crate::config::{ConfigIssue, EgressConfig, RefererPolicy};
use crate::telemetry::EgressMetrics;

/// The compiled egress settings of one route.
#[derive(Debug)]
pub struct Egress {
    /// The redaction profile's name (for logs).
    pub profile_name: String,
    /// The redaction profile.
    pub profile: Arc<Profile>,
    /// What happens to `Referer`.
    pub referer: RefererPolicy,
    /// Whether `Cookie` is forwarded.
    pub forward_cookies: bool,
    /// Extra headers scanned and redacted.
    pub scan_headers: Vec<HeaderName>,
    /// Only these parameters / JSON keys are forwarded, when set.
    pub allow_params: Option<ParamAllowlist>,
    /// The config's health-context pages, whose URLs are generalized.
    pub health: Arc<HealthContext>,
    /// Scan metrics bound to this route.
    pub metrics: EgressMetrics,
    /// Largest body buffered and scanned.
    pub max_body_bytes: usize,
    /// Status answered when a request is blocked.
    pub block_status: u16,
}

impl Egress {
    /// Compiles `config` against the compiled `profiles`, reporting problems under `key`.
    pub fn compile(
        config: &EgressConfig,
        profiles: &BTreeMap<String, Arc<Profile>>,
        profile_names: &[&str],
        health: &Arc<HealthContext>,
        metrics: EgressMetrics,
        key: &str,
        issues: &mut Vec<ConfigIssue>,
    ) -> Option<Egress> {
        let before = issues.len();
        let profile = match profiles.get(&config.profile) {
            Some(p) => Some(p.clone()),
            None if profile_names.contains(&config.profile.as_str()) => None, // already reported
            None => {
                issues.push(ConfigIssue::new(
                    format!("{key}.profile"),
                    format!(
                        "unknown redaction profile {:?} (known: {})",
                        config.profile,
                        profile_names.join(", ")
                    ),
                ));
                None
            }
        };
        let mut scan_headers = Vec::with_capacity(config.scan_headers.len());
        for (i, h) in config.scan_headers.iter().enumerate() {
            match HeaderName::from_bytes(h.as_bytes()) {
                Ok(name) => scan_headers.push(name),
                Err(_) => issues.push(ConfigIssue::new(
                    format!("{key}.scan_headers[{i}]"),
                    "invalid header name",
                )),
            }
        }
        if config.max_body_bytes == 0 {
            issues.push(ConfigIssue::new(
                format!("{key}.max_body_bytes"),
                "must be greater than 0",
            ));
        }
        if !(400..=599).contains(&config.block_status) {
            issues.push(ConfigIssue::new(
                format!("{key}.block_status"),
                "must be a 4xx or 5xx status",
            ));
        }
        let profile = profile?;
        if let Err(problem) = super::canary::self_test(&profile) {
            issues.push(ConfigIssue::new(
                format!("{key}.profile"),
                format!("{:?}: {problem}", config.profile),
            ));
        }
        (issues.len() == before).then(|| Egress {
            profile_name: config.profile.clone(),
            profile,
            referer: config.referer,
            forward_cookies: config.forward_cookies,
            scan_headers,
            allow_params: config.allow_params.as_deref().map(ParamAllowlist::new),
            health: health.clone(),
            metrics,
            max_body_bytes: config.max_body_bytes,
            block_status: config.block_status,
        })
    }
}
