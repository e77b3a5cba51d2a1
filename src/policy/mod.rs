//! The compiled, immutable runtime form of a config. `Policy::compile` does everything
//! expensive once (header values rendered, addresses resolved, certificates loaded, route
//! matchers built); a request only looks things up in it.

pub mod allowlist;
mod canary;
pub mod client_ip;
pub mod cookies;
pub mod csp;
pub mod egress;
pub mod headers;
pub mod health;
pub mod routes;
pub mod upstream;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use http::{HeaderValue, Method};
use phiguard_engine::Profile;

use crate::config::{ConfigError, ConfigIssue, LoadedConfig};
use crate::ratelimit::webhook::WebhookVerifier;
use crate::ratelimit::{self, LimiterStore, Rule};
use crate::telemetry::{Metrics, RouteMetrics};
pub use client_ip::TrustedProxies;
pub use headers::HeaderProfile;
pub use routes::RouteMatch;
pub use upstream::Upstream;

/// What outlives any one policy: the metrics registry and rate-limit state. A reload
/// compiles the new policy against the same `Shared`, so counters and limits carry over.
#[derive(Clone)]
pub struct Shared {
    /// The metrics registry.
    pub metrics: Metrics,
    /// Rate-limit state, by rule.
    pub limiters: LimiterStore,
}

impl Shared {
    /// Fresh metrics and limiter state, with the key-table gauge registered.
    pub fn new() -> Self {
        let metrics = Metrics::new();
        let limiters = LimiterStore::default();
        // Registering a collector with fresh, unique names cannot fail.
        let _ = metrics.registry().register(Box::new(limiters.collector()));
        Self { metrics, limiters }
    }
}

impl Default for Shared {
    fn default() -> Self {
        Self::new()
    }
}

/// A public listener.
#[derive(Debug, Clone)]
pub struct Listener {
    /// Its name.
    pub name: String,
    /// Address to bind.
    pub address: SocketAddr,
    /// Certificate and key files when the listener terminates TLS.
    pub tls: Option<TlsFiles>,
    /// A sidecar egress listener (only routes naming it serve it; unknown hosts get 403).
    pub egress: bool,
}

/// Checked PEM file paths for TLS termination.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// Certificate chain file.
    pub cert_file: PathBuf,
    /// Private key file.
    pub key_file: PathBuf,
}

/// Process-level settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// Proxy worker threads.
    pub threads: usize,
    /// Seconds between readiness going 503 and the listeners closing.
    pub drain_delay_secs: u64,
    /// Seconds in-flight requests may run after SIGTERM.
    pub grace_period_secs: u64,
    /// Seconds the runtime may take to stop after the grace period.
    pub shutdown_timeout_secs: u64,
}

/// One compiled route.
#[derive(Debug)]
pub struct Route {
    /// Unique name (log field and metric label).
    pub name: String,
    /// What it matches.
    pub matcher: RouteMatch,
    /// Which listener's requests it serves: `None` = the public (non-egress) listeners.
    pub listener: Option<usize>,
    /// Where it forwards.
    pub upstream: Arc<Upstream>,
    /// `rewrite_prefix`, when set.
    pub rewrite_prefix: Option<String>,
    /// The header profile its responses get.
    pub headers: Arc<HeaderProfile>,
    /// Whether responses are PHI pages (forced `no-store`).
    pub phi: bool,
    /// Pre-rendered `Clear-Site-Data` value.
    pub clear_site_data: Option<HeaderValue>,
    /// Rate-limit rules; every one must pass (on webhook routes: every unsigned delivery).
    pub rate_limits: Vec<Arc<Rule>>,
    /// Webhook signature verification and de-duplication.
    pub webhook: Option<WebhookVerifier>,
    /// PHI redaction of what goes upstream (egress routes).
    pub egress: Option<egress::Egress>,
    /// Metric handles bound to this route.
    pub metrics: RouteMetrics,
}

/// The whole compiled config.
#[derive(Debug)]
pub struct Policy {
    /// Public listeners.
    pub listeners: Vec<Listener>,
    /// Admin listener address.
    pub admin_address: SocketAddr,
    /// Process settings.
    pub server: ServerSettings,
    /// Whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// Whether the access log is on.
    pub access_log: bool,
    /// Ordered routes.
    pub routes: Vec<Route>,
    /// Header profile for responses that match no route.
    pub fallback_headers: Arc<HeaderProfile>,
    /// Metric handles for requests that match no route.
    pub unmatched_metrics: RouteMetrics,
    /// Compiled PHI redaction profiles, by name.
    pub redaction_profiles: BTreeMap<String, Arc<Profile>>,
    /// Where audit events go (restart-only).
    pub audit: Option<AuditSettings>,
    /// The CSP violation report endpoint, when configured.
    pub csp_reports: Option<CspReports>,
}

/// The compiled CSP report endpoint.
#[derive(Debug)]
pub struct CspReports {
    /// The exact (normalized) path reports are posted to.
    pub path: String,
    /// Largest report body accepted.
    pub max_body_bytes: usize,
    /// Rate-limit rules every report must pass.
    pub rate_limits: Vec<Arc<Rule>>,
}

/// Where audit events go.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditSettings {
    /// `None` for stdout, else the file appended to.
    pub file: Option<PathBuf>,
    /// The fingerprint key (never printed).
    pub key: Vec<u8>,
    /// Chain events by hash.
    pub hash_chain: bool,
}

impl std::fmt::Debug for AuditSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSettings")
            .field("file", &self.file)
            .field("hash_chain", &self.hash_chain)
            .finish_non_exhaustive()
    }
}

const CLEAR_SITE_DATA_DIRECTIVES: &[&str] = &[
    "cache",
    "cookies",
    "storage",
    "executionContexts",
    "clientHints",
    "prefetchCache",
    "prerenderCache",
    "*",
];

impl Policy {
    /// Validates and compiles `loaded`, collecting every problem found. Route metric handles
    /// are bound in `metrics`.
    pub fn compile(loaded: &LoadedConfig, shared: &Shared) -> Result<Policy, ConfigError> {
        let metrics = &shared.metrics;
        let mut issues = Vec::new();
        let c = &loaded.config;
        let base_dir = loaded.base_dir();

        let listeners = compile_listeners(loaded, &mut issues);
        let admin_address = parse_socket_addr(&c.admin.address, "admin.address", &mut issues);
        if let Some(admin) = admin_address {
            if listeners.iter().any(|l| l.address == admin) {
                issues.push(ConfigIssue::new(
                    "admin.address",
                    "same address as a public listener",
                ));
            }
        }
        if c.server.threads == 0 {
            issues.push(ConfigIssue::new("server.threads", "must be at least 1"));
        }
        let trusted_proxies = TrustedProxies::compile(&c.trusted_proxies, &mut issues);

        let mut upstreams = BTreeMap::new();
        for (name, u) in &c.upstreams {
            if let Some(up) =
                Upstream::compile(name, u, &format!("upstreams.{name}"), base_dir, &mut issues)
            {
                upstreams.insert(name.as_str(), Arc::new(up));
            }
        }

        let mut profiles: BTreeMap<String, Arc<HeaderProfile>> = BTreeMap::new();
        for (name, p) in &c.header_profiles {
            if let Some(hp) =
                HeaderProfile::compile(name, p, &format!("header_profiles.{name}"), &mut issues)
            {
                profiles.insert(name.clone(), Arc::new(hp));
            }
        }
        let mut profile =
            |name: &str, key: &str, issues: &mut Vec<ConfigIssue>| -> Option<Arc<HeaderProfile>> {
                if let Some(p) = profiles.get(name) {
                    return Some(p.clone());
                }
                if c.header_profiles.contains_key(name) {
                    return None; // already reported
                }
                match headers::preset(name) {
                    Some(cfg) => {
                        let compiled =
                            HeaderProfile::compile(name, &cfg, key, issues).map(Arc::new)?;
                        profiles.insert(name.to_owned(), compiled.clone());
                        Some(compiled)
                    }
                    None => {
                        let mut known: Vec<&str> =
                            c.header_profiles.keys().map(String::as_str).collect();
                        known.extend(headers::PRESETS);
                        issues.push(ConfigIssue::new(
                            key,
                            format!(
                                "unknown header profile {name:?} (known: {})",
                                known.join(", ")
                            ),
                        ));
                        None
                    }
                }
            };

        let fallback_headers = profile(&c.fallback_headers, "fallback_headers", &mut issues);

        let mut redaction_profiles = BTreeMap::new();
        for (name, spec) in &c.redaction_profiles {
            match Profile::compile(spec) {
                Ok(p) => {
                    redaction_profiles.insert(name.clone(), Arc::new(p));
                }
                Err(e) => {
                    // The engine's message is "<path inside the profile>: <problem>".
                    let message = e.to_string();
                    let (path, problem) =
                        message.split_once(": ").unwrap_or(("", message.as_str()));
                    let key = match path {
                        "" => format!("redaction_profiles.{name}"),
                        p => format!("redaction_profiles.{name}.{p}"),
                    };
                    issues.push(ConfigIssue::new(key, problem));
                }
            }
        }

        let audit = c.audit.as_ref().and_then(|a| {
            let key = match &a.key_env {
                Some(var) => match std::env::var(var) {
                    Ok(v) if !v.is_empty() => v.into_bytes(),
                    _ => {
                        issues.push(ConfigIssue::new(
                            "audit.key_env",
                            format!("environment variable {var:?} is not set"),
                        ));
                        return None;
                    }
                },
                None => rand::random::<[u8; 32]>().to_vec(),
            };
            let file = match a.path.as_str() {
                "" => {
                    issues.push(ConfigIssue::new(
                        "audit.path",
                        "give `stdout` or a file path",
                    ));
                    return None;
                }
                "stdout" => None,
                p => Some(base_dir.join(p)),
            };
            Some(AuditSettings {
                file,
                key,
                hash_chain: a.hash_chain,
            })
        });

        let mut rules: BTreeMap<&str, Arc<Rule>> = BTreeMap::new();
        for (name, rule) in &c.rate_limits {
            if let Some(r) = ratelimit::compile_rule(
                name,
                rule,
                c.redis.as_ref(),
                &shared.limiters,
                metrics,
                &mut issues,
            ) {
                rules.insert(name.as_str(), Arc::new(r));
            }
        }

        let csp_reports = c
            .csp_reports
            .as_ref()
            .map(|r| compile_csp_reports(r, &rules, &c.rate_limits, &mut issues));
        for (name, p) in &c.header_profiles {
            let Some(path) = &p.csp_report else { continue };
            match &csp_reports {
                Some(r) if &r.path == path => {}
                Some(r) => issues.push(ConfigIssue::new(
                    format!("header_profiles.{name}.csp_report"),
                    format!(
                        "{path:?} is not csp_reports.path ({:?}): reports sent there would \
                         reach the origin unscrubbed",
                        r.path
                    ),
                )),
                None => issues.push(ConfigIssue::new(
                    format!("header_profiles.{name}.csp_report"),
                    "needs the top-level csp_reports section (phiguard's report endpoint); \
                     without it reports would reach the origin unscrubbed",
                )),
            }
        }

        if c.routes.is_empty() {
            issues.push(ConfigIssue::new("routes", "at least one route is needed"));
        }
        let mut health_prefixes = Vec::new();
        for (i, r) in c.routes.iter().enumerate() {
            if r.health_context {
                match &r.matches.path_prefix {
                    Some(p) => health_prefixes.push(p.clone()),
                    None => issues.push(ConfigIssue::new(
                        format!("routes[{i}].health_context"),
                        "needs match.path_prefix (the page template beacons are generalized to)",
                    )),
                }
            }
        }
        let health = Arc::new(health::HealthContext::new(health_prefixes));

        let mut names = HashSet::new();
        let mut routes = Vec::with_capacity(c.routes.len());
        for (i, r) in c.routes.iter().enumerate() {
            let key = format!("routes[{i}]");
            if r.name.is_empty()
                || !r
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            {
                issues.push(ConfigIssue::new(
                    format!("{key}.name"),
                    "route names use letters, digits, '-', '_' and '.' only",
                ));
            } else if !names.insert(r.name.as_str()) {
                issues.push(ConfigIssue::new(
                    format!("{key}.name"),
                    format!("duplicate route name {:?}", r.name),
                ));
            }
            let matcher = RouteMatch::compile(&r.matches, &format!("{key}.match"), &mut issues);
            let listener = r.matches.listener.as_ref().and_then(|name| {
                match listeners.iter().position(|l| &l.name == name) {
                    Some(i) => {
                        if listeners[i].egress && r.egress.is_none() {
                            issues.push(ConfigIssue::new(
                                format!("{key}.egress"),
                                format!("routes on the egress listener {name:?} must be egress routes (nothing leaves unscanned)"),
                            ));
                        }
                        Some(i)
                    }
                    None => {
                        issues.push(ConfigIssue::new(
                            format!("{key}.match.listener"),
                            format!(
                                "unknown listener {name:?} (known: {})",
                                listeners.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join(", ")
                            ),
                        ));
                        None
                    }
                }
            });
            let upstream = match upstreams.get(r.upstream.as_str()) {
                Some(u) => Some(u.clone()),
                None if c.upstreams.contains_key(&r.upstream) => None, // already reported
                None => {
                    issues.push(ConfigIssue::new(
                        format!("{key}.upstream"),
                        format!(
                            "unknown upstream {:?} (known: {})",
                            r.upstream,
                            c.upstreams
                                .keys()
                                .map(String::as_str)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                    None
                }
            };
            if let Some(rewrite) = &r.rewrite_prefix {
                if !rewrite.starts_with('/') {
                    issues.push(ConfigIssue::new(
                        format!("{key}.rewrite_prefix"),
                        "must start with '/'",
                    ));
                }
                if matcher.path_prefix().is_none() {
                    issues.push(ConfigIssue::new(
                        format!("{key}.rewrite_prefix"),
                        "needs match.path_prefix (the part it replaces)",
                    ));
                }
            }
            let headers = profile(
                r.headers.as_deref().unwrap_or(&c.fallback_headers),
                &format!("{key}.headers"),
                &mut issues,
            );
            let mut rate_limits = Vec::with_capacity(r.rate_limits.len());
            for (j, name) in r.rate_limits.iter().enumerate() {
                match rules.get(name.as_str()) {
                    Some(rule) => rate_limits.push(rule.clone()),
                    None if c.rate_limits.contains_key(name) => {} // already reported
                    None => issues.push(ConfigIssue::new(
                        format!("{key}.rate_limits[{j}]"),
                        format!(
                            "unknown rate limit {name:?} (known: {})",
                            c.rate_limits
                                .keys()
                                .map(String::as_str)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    )),
                }
            }
            let webhook = r
                .webhook
                .as_ref()
                .and_then(|w| WebhookVerifier::compile(w, &format!("{key}.webhook"), &mut issues));
            let profile_names: Vec<&str> =
                c.redaction_profiles.keys().map(String::as_str).collect();
            let egress = r.egress.as_ref().and_then(|e| {
                egress::Egress::compile(
                    e,
                    &redaction_profiles,
                    &profile_names,
                    &health,
                    metrics.egress_route(&r.name, &r.upstream),
                    &format!("{key}.egress"),
                    &mut issues,
                )
            });
            if r.egress.is_some() && r.webhook.is_some() {
                issues.push(ConfigIssue::new(
                    format!("{key}.egress"),
                    "a route is either a webhook or an egress route, not both",
                ));
            }
            let clear_site_data = compile_clear_site_data(
                &r.clear_site_data,
                &format!("{key}.clear_site_data"),
                &mut issues,
            );
            if let (Some(upstream), Some(headers)) = (upstream, headers) {
                routes.push(Route {
                    name: r.name.clone(),
                    matcher,
                    listener,
                    upstream,
                    rewrite_prefix: r.rewrite_prefix.clone(),
                    headers,
                    phi: r.phi,
                    clear_site_data,
                    rate_limits,
                    webhook,
                    egress,
                    metrics: metrics.route(&r.name),
                });
            }
        }

        match (issues.is_empty(), admin_address, fallback_headers) {
            (true, Some(admin_address), Some(fallback_headers)) => Ok(Policy {
                listeners,
                admin_address,
                server: ServerSettings {
                    threads: c.server.threads,
                    drain_delay_secs: c.server.drain_delay_secs,
                    grace_period_secs: c.server.grace_period_secs,
                    shutdown_timeout_secs: c.server.shutdown_timeout_secs,
                },
                trusted_proxies,
                access_log: c.access_log.enabled,
                routes,
                fallback_headers,
                unmatched_metrics: metrics.route("-"),
                redaction_profiles,
                audit,
                csp_reports,
            }),
            _ => Err(ConfigError::Invalid {
                file: loaded.file.clone(),
                issues,
            }),
        }
    }

    /// The index of the first route matching a request that arrived on `listener` (an index
    /// into `listeners`; `None` when unknown, which counts as public).
    pub fn route_index(
        &self,
        listener: Option<usize>,
        host: Option<&str>,
        path: &str,
        method: &Method,
    ) -> Option<usize> {
        let egress_listener = listener.filter(|&i| self.listeners.get(i).is_some_and(|l| l.egress));
        self.routes.iter().position(|r| {
            let scope_ok = match (r.listener, egress_listener) {
                (Some(only), _) => listener == Some(only),
                (None, Some(_)) => false,
                (None, None) => true,
            };
            scope_ok && r.matcher.matches(host, path, method)
        })
    }

    /// The first route matching a request on a public listener.
    pub fn route_for(&self, host: Option<&str>, path: &str, method: &Method) -> Option<&Route> {
        self.route_index(None, host, path, method)
            .map(|i| &self.routes[i])
    }

    /// Which listener a request arrived on, from the local address it was accepted at.
    pub fn listener_at(&self, local: Option<std::net::SocketAddr>) -> Option<usize> {
        let local = local?;
        self.listeners
            .iter()
            .position(|l| l.address == local)
            .or_else(|| {
                self.listeners
                    .iter()
                    .position(|l| l.address.port() == local.port())
            })
    }
}

fn compile_listeners(loaded: &LoadedConfig, issues: &mut Vec<ConfigIssue>) -> Vec<Listener> {
    let c = &loaded.config;
    if c.listeners.is_empty() {
        issues.push(ConfigIssue::new(
            "listeners",
            "at least one listener is needed",
        ));
    }
    let mut seen_names = HashSet::new();
    let mut seen_addrs = HashSet::new();
    let mut out = Vec::new();
    for (i, l) in c.listeners.iter().enumerate() {
        let key = format!("listeners[{i}]");
        if !seen_names.insert(l.name.as_str()) {
            issues.push(ConfigIssue::new(
                format!("{key}.name"),
                format!("duplicate listener name {:?}", l.name),
            ));
        }
        let Some(address) = parse_socket_addr(&l.address, &format!("{key}.address"), issues) else {
            continue;
        };
        if !seen_addrs.insert(address) {
            issues.push(ConfigIssue::new(
                format!("{key}.address"),
                "duplicate listener address",
            ));
        }
        let tls = l.tls.as_ref().and_then(|t| {
            let cert_file = loaded.base_dir().join(&t.cert_file);
            let key_file = loaded.base_dir().join(&t.key_file);
            check_tls_files(&cert_file, &key_file, &format!("{key}.tls"), issues).then_some(
                TlsFiles {
                    cert_file,
                    key_file,
                },
            )
        });
        if l.egress && l.tls.is_some() {
            issues.push(ConfigIssue::new(
                format!("{key}.tls"),
                "an egress listener takes plain HTTP from local code (phiguard originates TLS upstream)",
            ));
        }
        out.push(Listener {
            name: l.name.clone(),
            address,
            tls,
            egress: l.egress,
        });
    }
    out
}

/// Checks that the certificate chain and key files exist and hold what they should.
fn check_tls_files(
    cert: &std::path::Path,
    key: &std::path::Path,
    at: &str,
    issues: &mut Vec<ConfigIssue>,
) -> bool {
    let before = issues.len();
    match std::fs::File::open(cert) {
        Err(e) => issues.push(ConfigIssue::new(
            format!("{at}.cert_file"),
            format!("cannot read {}: {e}", cert.display()),
        )),
        Ok(f) => {
            let certs: Result<Vec<_>, _> =
                rustls_pemfile::certs(&mut std::io::BufReader::new(f)).collect();
            if !matches!(certs, Ok(ref c) if !c.is_empty()) {
                issues.push(ConfigIssue::new(
                    format!("{at}.cert_file"),
                    format!("{} holds no PEM certificate", cert.display()),
                ));
            }
        }
    }
    match std::fs::File::open(key) {
        Err(e) => issues.push(ConfigIssue::new(
            format!("{at}.key_file"),
            format!("cannot read {}: {e}", key.display()),
        )),
        Ok(f) => {
            if !matches!(
                rustls_pemfile::private_key(&mut std::io::BufReader::new(f)),
                Ok(Some(_))
            ) {
                issues.push(ConfigIssue::new(
                    format!("{at}.key_file"),
                    format!("{} holds no PEM private key", key.display()),
                ));
            }
        }
    }
    issues.len() == before
}

fn parse_socket_addr(value: &str, key: &str, issues: &mut Vec<ConfigIssue>) -> Option<SocketAddr> {
    match value.parse::<SocketAddr>() {
        Ok(a) => Some(a),
        Err(_) => {
            issues.push(ConfigIssue::new(
                key,
                format!("{value:?} is not an ip:port address"),
            ));
            None
        }
    }
}

fn compile_csp_reports(
    config: &crate::config::CspReportsConfig,
    rules: &BTreeMap<&str, Arc<Rule>>,
    declared: &BTreeMap<String, crate::config::RateLimitConfig>,
    issues: &mut Vec<ConfigIssue>,
) -> CspReports {
    if !csp::valid_report_path(&config.path)
        || routes::normalize_path(&config.path) != config.path.as_str()
        || config.path.contains('?')
    {
        issues.push(ConfigIssue::new(
            "csp_reports.path",
            "must be a normalized absolute path without query, spaces, quotes, ';' or ','",
        ));
    }
    if config.max_body_bytes == 0 {
        issues.push(ConfigIssue::new(
            "csp_reports.max_body_bytes",
            "must be at least 1",
        ));
    }
    let mut rate_limits = Vec::with_capacity(config.rate_limits.len());
    for (j, name) in config.rate_limits.iter().enumerate() {
        match rules.get(name.as_str()) {
            Some(rule) => rate_limits.push(rule.clone()),
            None if declared.contains_key(name) => {} // already reported
            None => issues.push(ConfigIssue::new(
                format!("csp_reports.rate_limits[{j}]"),
                format!(
                    "unknown rate limit {name:?} (known: {})",
                    declared
                        .keys()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
    CspReports {
        path: config.path.clone(),
        max_body_bytes: config.max_body_bytes,
        rate_limits,
    }
}

fn compile_clear_site_data(
    directives: &[String],
    key: &str,
    issues: &mut Vec<ConfigIssue>,
) -> Option<HeaderValue> {
    if directives.is_empty() {
        return None;
    }
    let mut rendered = Vec::with_capacity(directives.len());
    for (i, d) in directives.iter().enumerate() {
        if CLEAR_SITE_DATA_DIRECTIVES.contains(&d.as_str()) {
            rendered.push(format!("\"{d}\""));
        } else {
            issues.push(ConfigIssue::new(
                format!("{key}[{i}]"),
                format!(
                    "unknown directive {d:?} (known: {})",
                    CLEAR_SITE_DATA_DIRECTIVES.join(", ")
                ),
            ));
        }
    }
    HeaderValue::from_str(&rendered.join(", ")).ok()
}
