//! The serde schema of a phiguard config file.
//!
//! Every struct rejects unknown keys, so a typo is an error rather than a silently ignored
//! setting. Durations carry their unit in the key name (`connect_timeout_ms`,
//! `grace_period_secs`) and so do sizes (`max_body_bytes`). Semantic checks (known names,
//! parsable addresses, readable files) happen in [`crate::policy::Policy::compile`].

use std::collections::BTreeMap;

use serde::Deserialize;

/// A whole config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Public listeners the proxy accepts client traffic on.
    pub listeners: Vec<ListenerConfig>,
    /// The admin listener (`/metrics`, `/livez`, `/readyz`).
    #[serde(default)]
    pub admin: AdminConfig,
    /// Process-level settings: threads and shutdown timing.
    #[serde(default)]
    pub server: ServerConfig,
    /// Peers (CIDRs or single addresses) whose `X-Forwarded-For` is believed.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// The JSON access log written to stdout.
    #[serde(default)]
    pub access_log: AccessLogConfig,
    /// Named upstreams routes can forward to.
    pub upstreams: BTreeMap<String, UpstreamConfig>,
    /// Named header profiles; the built-in presets (`portal`, `telehealth`, `checkout`,
    /// `catalog`) can be used by name without being defined here.
    #[serde(default)]
    pub header_profiles: BTreeMap<String, HeaderProfileConfig>,
    /// The header profile applied to responses that match no route (the proxy's 404).
    #[serde(default = "default_fallback_headers")]
    pub fallback_headers: String,
    /// Named rate-limit rules routes can attach.
    #[serde(default)]
    pub rate_limits: BTreeMap<String, RateLimitConfig>,
    /// Named PHI redaction profiles (the engine's schema: see `docs/ENGINE.md`).
    #[serde(default)]
    pub redaction_profiles: BTreeMap<String, phiguard_engine::ProfileSpec>,
    /// The audit trail of PHI redactions and blocks on egress routes.
    #[serde(default)]
    pub audit: Option<AuditConfig>,
    /// The Redis that rules with `backend: redis` share across replicas.
    #[serde(default)]
    pub redis: Option<RedisConfig>,
    /// The first-party endpoint that receives browsers' CSP violation reports.
    #[serde(default)]
    pub csp_reports: Option<CspReportsConfig>,
    /// Ordered routes: the first that matches a request wins.
    pub routes: Vec<RouteConfig>,
}

fn default_fallback_headers() -> String {
    "portal".to_owned()
}

/// One public listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    /// A name for logs and metrics.
    pub name: String,
    /// `ip:port` to bind, e.g. `0.0.0.0:8080`.
    pub address: String,
    /// Terminate TLS on this listener with these files.
    #[serde(default)]
    pub tls: Option<TlsFilesConfig>,
    /// A sidecar egress listener: server-side code (Conversions API calls, log shippers)
    /// sends plain HTTP here with the real destination in `Host`. Only routes that name this
    /// listener in `match.listener` serve it (they must be egress routes); any other host is
    /// refused with 403.
    #[serde(default)]
    pub egress: bool,
}

/// PEM files for TLS termination. Relative paths are relative to the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFilesConfig {
    /// Certificate chain, leaf first.
    pub cert_file: String,
    /// Private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: String,
}

/// The admin listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// `ip:port` to bind; keep it off the public network.
    #[serde(default = "default_admin_address")]
    pub address: String,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            address: default_admin_address(),
        }
    }
}

fn default_admin_address() -> String {
    "127.0.0.1:9901".to_owned()
}

/// Process-level settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Worker threads of the proxy service.
    #[serde(default = "default_threads")]
    pub threads: usize,
    /// After SIGTERM: how long `/readyz` says 503 while new connections are still served,
    /// so that load balancers stop sending before the listeners close.
    #[serde(default)]
    pub drain_delay_secs: u64,
    /// Then: how long in-flight requests may run before the runtime is stopped.
    #[serde(default = "default_grace_period_secs")]
    pub grace_period_secs: u64,
    /// After the grace period: how long the runtime may take to stop its tasks.
    #[serde(default = "default_shutdown_timeout_secs")]
    pub shutdown_timeout_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            threads: default_threads(),
            drain_delay_secs: 0,
            grace_period_secs: default_grace_period_secs(),
            shutdown_timeout_secs: default_shutdown_timeout_secs(),
        }
    }
}

fn default_threads() -> usize {
    2
}
fn default_grace_period_secs() -> u64 {
    10
}
fn default_shutdown_timeout_secs() -> u64 {
    5
}

/// The access log.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessLogConfig {
    /// Write one JSON line per request to stdout.
    #[serde(default = "default_true")]
    pub enabled: bool,
}

impl Default for AccessLogConfig {
    fn default() -> Self {
        Self { enabled: true }
    }
}

fn default_true() -> bool {
    true
}

/// An upstream server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// `host:port`; a host name is resolved when first used and again every 30 s.
    pub address: String,
    /// Originate TLS (rustls, certificate and host name verified).
    #[serde(default)]
    pub tls: bool,
    /// Server name for SNI and certificate verification; defaults to the host of `address`.
    #[serde(default)]
    pub sni: Option<String>,
    /// PEM bundle of CAs to trust instead of the system roots.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// `Host` sent upstream; defaults to the client's `Host` for plain upstreams and to the
    /// SNI name for TLS upstreams.
    #[serde(default)]
    pub host_header: Option<String>,
    /// TCP (and TLS) connect timeout.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// Longest wait for any read from the upstream.
    #[serde(default = "default_read_timeout_ms")]
    pub read_timeout_ms: u64,
    /// Longest wait for any write to the upstream.
    #[serde(default = "default_write_timeout_ms")]
    pub write_timeout_ms: u64,
    /// How long an idle pooled connection is kept.
    #[serde(default = "default_idle_timeout_ms")]
    pub idle_timeout_ms: u64,
}

fn default_connect_timeout_ms() -> u64 {
    2_000
}
fn default_read_timeout_ms() -> u64 {
    30_000
}
fn default_write_timeout_ms() -> u64 {
    30_000
}
fn default_idle_timeout_ms() -> u64 {
    60_000
}

/// How a header profile applies one header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeaderMode {
    /// Replace whatever the upstream sent.
    Set,
    /// Add only when the upstream sent none.
    AddIfAbsent,
    /// Do not touch this header (used to switch off a preset's header).
    Off,
}

/// A header value, either `"value"` (mode `set`) or `{value, mode}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum HeaderSetting {
    /// The value, applied with mode `set`.
    Value(String),
    /// The value with an explicit mode.
    Full {
        /// The header value.
        #[serde(default)]
        value: String,
        /// How to apply it.
        mode: HeaderMode,
    },
}

/// A header profile: security headers, leaky headers to remove, cookie hardening.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderProfileConfig {
    /// Start from this built-in preset and override what is given here.
    #[serde(default)]
    pub extends: Option<String>,
    /// `Content-Security-Policy` (or `-Report-Only` with `csp_report_only`).
    #[serde(default)]
    pub content_security_policy: Option<HeaderSetting>,
    /// Send the CSP as `Content-Security-Policy-Report-Only`.
    #[serde(default)]
    pub csp_report_only: Option<bool>,
    /// A fresh random nonce per response: `'nonce-…'` goes into the CSP's `script-src` and
    /// `style-src` and `nonce="…"` onto every inline `<script>` and `<style>` start tag of
    /// `text/html` responses. Needs `content_security_policy`.
    #[serde(default)]
    pub csp_nonce: Option<bool>,
    /// A first-party path (normally `csp_reports.path`) the CSP reports violations to:
    /// `report-uri <path>; report-to phiguard-csp` is appended to the CSP and
    /// `Reporting-Endpoints: phiguard-csp="<path>"` is sent.
    #[serde(default)]
    pub csp_report: Option<String>,
    /// `Strict-Transport-Security`.
    #[serde(default)]
    pub strict_transport_security: Option<HeaderSetting>,
    /// `X-Content-Type-Options`.
    #[serde(default)]
    pub x_content_type_options: Option<HeaderSetting>,
    /// `X-Frame-Options`.
    #[serde(default)]
    pub x_frame_options: Option<HeaderSetting>,
    /// `Referrer-Policy`.
    #[serde(default)]
    pub referrer_policy: Option<HeaderSetting>,
    /// `Permissions-Policy`.
    #[serde(default)]
    pub permissions_policy: Option<HeaderSetting>,
    /// `Cross-Origin-Opener-Policy`.
    #[serde(default)]
    pub cross_origin_opener_policy: Option<HeaderSetting>,
    /// `Cross-Origin-Resource-Policy`.
    #[serde(default)]
    pub cross_origin_resource_policy: Option<HeaderSetting>,
    /// `Cross-Origin-Embedder-Policy`.
    #[serde(default)]
    pub cross_origin_embedder_policy: Option<HeaderSetting>,
    /// `Cache-Control`.
    #[serde(default)]
    pub cache_control: Option<HeaderSetting>,
    /// Any other headers to set, by name.
    #[serde(default)]
    pub extra: BTreeMap<String, HeaderSetting>,
    /// Upstream response headers to remove; a trailing `*` removes by prefix
    /// (`X-Magento-*`). Replaces the preset's list when given.
    #[serde(default)]
    pub remove: Option<Vec<String>>,
    /// Cookie hardening rules, first match wins. Replaces the preset's rules when given.
    #[serde(default)]
    pub cookies: Option<Vec<CookieRuleConfig>>,
}

/// The CSP violation report endpoint. phiguard answers POSTs to `path` on every public
/// (non-egress) listener itself, before route matching: reports are scrubbed of PHI, counted
/// and audited, never forwarded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CspReportsConfig {
    /// The exact path reports are posted to.
    #[serde(default = "default_csp_report_path")]
    pub path: String,
    /// Largest report body accepted; larger ones get 413.
    #[serde(default = "default_csp_report_max_body_bytes")]
    pub max_body_bytes: usize,
    /// Names of `rate_limits` rules every report must pass (reports are a flood vector).
    #[serde(default)]
    pub rate_limits: Vec<String>,
}

impl Default for CspReportsConfig {
    fn default() -> Self {
        Self {
            path: default_csp_report_path(),
            max_body_bytes: default_csp_report_max_body_bytes(),
            rate_limits: Vec::new(),
        }
    }
}

/// The default path of the CSP report endpoint.
pub const DEFAULT_CSP_REPORT_PATH: &str = "/_phiguard/csp-report";

fn default_csp_report_path() -> String {
    DEFAULT_CSP_REPORT_PATH.to_owned()
}

fn default_csp_report_max_body_bytes() -> usize {
    64 * 1024
}

/// `SameSite` values, from least to most strict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub enum SameSite {
    /// `SameSite=None` (requires `Secure`).
    None,
    /// `SameSite=Lax`.
    Lax,
    /// `SameSite=Strict`.
    Strict,
}

/// One cookie hardening rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CookieRuleConfig {
    /// Cookie name or glob (`*`, `_session*`, `*_token`).
    pub name: String,
    /// Add `Secure` when missing.
    #[serde(default)]
    pub secure: bool,
    /// Add `HttpOnly` when missing.
    #[serde(default)]
    pub http_only: bool,
    /// Raise `SameSite` to at least this value (a stricter upstream value is kept).
    #[serde(default)]
    pub same_site: Option<SameSite>,
}

/// One route.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Unique name, used in logs and metric labels.
    pub name: String,
    /// What requests this route takes.
    #[serde(rename = "match", default)]
    pub matches: MatchConfig,
    /// Name of the upstream to forward to.
    pub upstream: String,
    /// Replace the matched `path_prefix` with this before forwarding.
    #[serde(default)]
    pub rewrite_prefix: Option<String>,
    /// Header profile (defined in `header_profiles` or a built-in preset).
    #[serde(default)]
    pub headers: Option<String>,
    /// The route serves PHI: force `Cache-Control: no-store, private`.
    #[serde(default)]
    pub phi: bool,
    /// Send `Clear-Site-Data` with these directives (`cache`, `cookies`, `storage`, ...).
    #[serde(default)]
    pub clear_site_data: Vec<String>,
    /// Names of `rate_limits` rules; every one must pass. On a `webhook` route they apply
    /// only to unsigned or badly signed deliveries.
    #[serde(default)]
    pub rate_limits: Vec<String>,
    /// Verify Shopify-style webhook signatures on this route.
    #[serde(default)]
    pub webhook: Option<WebhookConfig>,
    /// Pages on this route reveal health information by their URL (conditions, treatments,
    /// booking): beacons pointing at them get the page URL generalized to this route's
    /// `path_prefix` and the page title dropped.
    #[serde(default)]
    pub health_context: bool,
    /// Make this an egress route: what goes upstream (a tracker, an analytics or log
    /// intake) is stripped of PHI with a redaction profile.
    #[serde(default)]
    pub egress: Option<EgressConfig>,
}

/// Where audit events go and how they are keyed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditConfig {
    /// `stdout`, or a file appended to (relative paths are relative to the config file).
    pub path: String,
    /// Name of an environment variable holding the key that value fingerprints are HMACed
    /// with; without it a random per-process key is used (fingerprints then correlate only
    /// within one run).
    #[serde(default)]
    pub key_env: Option<String>,
    /// Each event carries the SHA-256 of the previous line, so tampering shows.
    #[serde(default)]
    pub hash_chain: bool,
}

/// What an egress route redacts and how it fails.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EgressConfig {
    /// Name of a `redaction_profiles` entry.
    pub profile: String,
    /// `Referer` sent upstream: `origin` (scheme://host/ only, default), `redact` (the full
    /// URL with PHI masked) or `drop`.
    #[serde(default)]
    pub referer: RefererPolicy,
    /// Forward the client's `Cookie` header (default: dropped).
    #[serde(default)]
    pub forward_cookies: bool,
    /// Other request headers to scan and redact (e.g. `x-user-email`).
    #[serde(default)]
    pub scan_headers: Vec<String>,
    /// When given, only these query/form parameters and JSON keys (at any depth) are
    /// forwarded; everything else is dropped before the detectors run (default deny).
    #[serde(default)]
    pub allow_params: Option<Vec<String>>,
    /// Largest request body that is buffered and scanned; larger bodies are blocked.
    #[serde(default = "default_egress_max_body_bytes")]
    pub max_body_bytes: usize,
    /// Status answered when a request is blocked (fail closed).
    #[serde(default = "default_block_status")]
    pub block_status: u16,
}

fn default_egress_max_body_bytes() -> usize {
    1024 * 1024
}

fn default_block_status() -> u16 {
    451
}

/// What an egress route does with `Referer`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefererPolicy {
    /// Keep only `scheme://host[:port]/`.
    #[default]
    Origin,
    /// Keep the URL with PHI masked by the route's profile.
    Redact,
    /// Remove it.
    Drop,
}

/// Shopify-style webhook verification for a route.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// The signing secret, inline (fine for demos; use `secret_env` in production).
    #[serde(default)]
    pub secret: Option<String>,
    /// Name of an environment variable holding the signing secret.
    #[serde(default)]
    pub secret_env: Option<String>,
    /// A delivery id seen within this window is acknowledged and not forwarded again.
    #[serde(default = "default_dedupe_window_secs")]
    pub dedupe_window_secs: u64,
    /// Most delivery ids remembered (memory bound).
    #[serde(default = "default_dedupe_max_ids")]
    pub dedupe_max_ids: usize,
    /// Largest body held back for verification; larger deliveries get 413.
    #[serde(default = "default_webhook_max_body_bytes")]
    pub max_body_bytes: usize,
}

fn default_dedupe_window_secs() -> u64 {
    600
}

fn default_dedupe_max_ids() -> usize {
    100_000
}

fn default_webhook_max_body_bytes() -> usize {
    1024 * 1024
}

/// Request matching for a route. Absent fields match anything.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchConfig {
    /// Host (`shop.example.com`) or wildcard (`*.example.com`), case-insensitive, port ignored.
    #[serde(default)]
    pub host: Option<String>,
    /// Path prefix matched on whole segments: `/apps` matches `/apps` and `/apps/x`, not `/appsx`.
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// Methods (`GET`, `POST`, ...).
    #[serde(default)]
    pub methods: Vec<String>,
    /// Only requests that arrived on this listener (by name). Routes without it serve the
    /// public (non-egress) listeners.
    #[serde(default)]
    pub listener: Option<String>,
}

/// One rate-limit rule (GCRA; see `docs/RATE_LIMITS.md` for the exact semantics).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// What identifies a client: one or more of `client_ip`, `header:NAME`, `cookie:NAME`,
    /// `path_segment:N` (1-based, of the normalized path), `query:NAME`. When a part is
    /// missing from a request, the client IP is added to the key.
    #[serde(default = "default_limit_key")]
    pub key: Vec<String>,
    /// `N/second`, `N/minute` or `N/hour`.
    pub rate: String,
    /// Requests a fresh client may make at once (default: the rate's N).
    #[serde(default)]
    pub burst: Option<u64>,
    /// Count only responses with these statuses (e.g. 401, 403, 404); others are free.
    #[serde(default)]
    pub count_statuses: Vec<u16>,
    /// Count would-be refusals without refusing.
    #[serde(default)]
    pub dry_run: bool,
    /// Most distinct keys tracked (memory bound); idle keys are evicted first.
    #[serde(default = "default_max_keys")]
    pub max_keys: usize,
    /// Block clients that touch too many distinct resource ids.
    #[serde(default)]
    pub enumeration: Option<EnumerationConfig>,
    /// Where the counts live: `local` (this replica) or `redis` (shared by replicas).
    #[serde(default)]
    pub backend: LimitBackend,
    /// With `backend: redis`, what to do while Redis is unreachable.
    #[serde(default)]
    pub on_backend_error: BackendErrorPolicy,
}

/// Where a rule's counts live.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitBackend {
    /// In this process: limits are per replica.
    #[default]
    Local,
    /// In the shared Redis: limits are across replicas.
    Redis,
}

/// What a Redis-backed rule does while Redis is unreachable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendErrorPolicy {
    /// Decide with this replica's local limiter (limits become per replica).
    #[default]
    Local,
    /// Refuse with 503 (fail closed).
    Deny,
}

/// The shared Redis.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://host:port/db` (or `rediss://` for TLS).
    pub url: String,
    /// Longest wait for a connection or a decision; then the rule's `on_backend_error` applies.
    #[serde(default = "default_redis_timeout_ms")]
    pub timeout_ms: u64,
    /// Prefix of every key phiguard writes.
    #[serde(default = "default_redis_prefix")]
    pub key_prefix: String,
    /// Name of an environment variable holding the secret that keys are HMACed with (the same
    /// on every replica). Without it a built-in constant is used and a warning logged.
    #[serde(default)]
    pub key_secret_env: Option<String>,
}

fn default_redis_timeout_ms() -> u64 {
    50
}

fn default_redis_prefix() -> String {
    "phiguard:".to_owned()
}

fn default_limit_key() -> Vec<String> {
    vec!["client_ip".to_owned()]
}

fn default_max_keys() -> usize {
    100_000
}

/// The enumeration guard of a rate-limit rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumerationConfig {
    /// Where the resource id is: `path_segment:N` or `query:NAME`.
    pub id: String,
    /// Most distinct ids one client may touch within the window.
    pub max_distinct: u32,
    /// The sliding window.
    pub window_secs: u64,
    /// How long a client that went over is refused.
    pub cooldown_secs: u64,
}
