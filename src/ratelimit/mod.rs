//! Rate limits and the enumeration guard. Rules are compiled from the config; their state
//! lives in a [`LimiterStore`] that outlives any one policy, so a reload keeps the counts of
//! every rule whose definition did not change. State is keyed by keyed hashes of the client
//! key, never by the key itself.
//!
//! Semantics are in `docs/RATE_LIMITS.md`; the algorithm is in [`gcra`].

pub mod gcra;
mod key;
pub mod shared;
pub mod table;
pub mod webhook;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntCounter, IntGaugeVec, Opts};

use crate::config::{
    BackendErrorPolicy, ConfigIssue, EnumerationConfig, LimitBackend, RateLimitConfig, RedisConfig,
};
use crate::telemetry::Metrics;
use gcra::Gcra;
pub use key::{KeyPart, RequestView};
use shared::{SharedBackend, SharedError, SharedQuery};
use table::{Slot, Table};

const NANOS: u64 = 1_000_000_000;

/// Nanoseconds on a process-wide monotonic clock.
pub fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    // Start at one hour so that "0 = fresh" never collides with a real timestamp.
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX) + 3_600 * NANOS
}

/// A compiled rule, bound to its state.
#[derive(Debug)]
pub struct Rule {
    /// The rule's name (a metric label).
    pub name: String,
    key: Vec<KeyPart>,
    gcra: Gcra,
    /// Rate as configured, for the `RateLimit-Policy` header: quota and window seconds.
    pub quota: u64,
    /// Window of the quota in seconds.
    pub window_secs: u64,
    /// Pre-rendered `RateLimit-Policy` header value.
    pub policy_header: http::HeaderValue,
    count_statuses: Vec<u16>,
    /// Count would-be refusals without refusing.
    pub dry_run: bool,
    enumeration: Option<Enumeration>,
    state: Arc<RuleState>,
    shared: Option<Arc<SharedBackend>>,
    fail_closed: bool,
    last_error_log_s: std::sync::atomic::AtomicU64,
    backend_errors: IntCounter,
    allowed: IntCounter,
    limited: IntCounter,
    dry_run_limited: IntCounter,
    enumeration_blocks: IntCounter,
}

#[derive(Debug, Clone)]
struct Enumeration {
    id: KeyPart,
    max_distinct: u32,
    window_ns: u64,
    cooldown_ns: u64,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Over the rate.
    Rate {
        /// Nanoseconds until a retry may pass.
        retry_after_ns: u64,
    },
    /// The enumeration guard's cooldown.
    Enumeration {
        /// Nanoseconds until the cooldown ends.
        retry_after_ns: u64,
    },
    /// The shared backend is down and the rule fails closed.
    BackendUnavailable,
}

impl Refusal {
    /// Whole seconds for `Retry-After` (at least 1).
    pub fn retry_after_secs(&self) -> u64 {
        let ns = match self {
            Refusal::Rate { retry_after_ns } | Refusal::Enumeration { retry_after_ns } => {
                *retry_after_ns
            }
            Refusal::BackendUnavailable => NANOS,
        };
        ns.div_ceil(NANOS).max(1)
    }
}

/// Identifies the client key of a decision, for counting its response later.
#[derive(Debug, Clone)]
pub struct DecisionKey {
    local: u64,
    shared: Option<String>,
}

/// What one rule decided for one request.
#[derive(Debug, Clone)]
pub struct Decision {
    /// `Some` when the rule refuses (and is not dry-run).
    pub refusal: Option<Refusal>,
    /// `Some` when the response's status decides whether this request counts.
    pub count_on_response: Option<DecisionKey>,
}

impl Rule {
    /// Decides one request at `now` (local clock; the shared backend uses Redis's).
    pub async fn check(&self, req: &RequestView<'_>, now: u64) -> Decision {
        let mut buf = Vec::with_capacity(64);
        key::render(&self.key, req, &mut buf);
        let consume = self.count_statuses.is_empty();
        let key = DecisionKey {
            local: self.state.limits.hash(&buf),
            shared: self.shared.as_ref().map(|b| b.key_base(&self.name, &buf)),
        };
        let refusal = match (&self.shared, &key.shared) {
            (Some(backend), Some(base)) => {
                match self.check_shared(backend, base, req, consume).await {
                    Ok(refusal) => refusal,
                    Err(e) => {
                        self.on_backend_error(&e, || self.check_local(req, key.local, now, consume))
                    }
                }
            }
            _ => self.check_local(req, key.local, now, consume),
        };
        let refusal = match refusal {
            None => {
                self.allowed.inc();
                None
            }
            Some(_) if self.dry_run => {
                self.dry_run_limited.inc();
                None
            }
            Some(r) => {
                self.limited.inc();
                Some(r)
            }
        };
        Decision {
            refusal,
            count_on_response: (!consume).then_some(key),
        }
    }

    /// For status-filtered rules: counts the request if the response status is one counted.
    pub async fn count_response(&self, key: &DecisionKey, status: u16, now: u64) {
        if !self.count_statuses.contains(&status) {
            return;
        }
        if let (Some(backend), Some(base)) = (&self.shared, &key.shared) {
            let query = SharedQuery {
                interval_us: self.gcra.interval_ns / 1_000,
                burst: self.gcra.burst,
                consume: true,
                enumeration: None,
            };
            match backend.decide(base, query).await {
                Ok(_) => return,
                Err(e) => self.on_backend_error(&e, || None),
            };
        }
        self.state.limits.with(key.local, now, |slot| {
            slot.tat = self.gcra.check(slot.tat, now, true).1;
            slot.interval = self.gcra.interval_ns;
        });
    }

    fn check_local(
        &self,
        req: &RequestView<'_>,
        key_hash: u64,
        now: u64,
        consume: bool,
    ) -> Option<Refusal> {
        if let Some(e) = &self.enumeration {
            if let Some(refusal) = self.check_enumeration(e, req, key_hash, now) {
                return Some(refusal);
            }
        }
        let verdict = self.state.limits.with(key_hash, now, |slot| {
            let (verdict, tat) = self.gcra.check(slot.tat, now, consume);
            slot.tat = tat;
            slot.interval = self.gcra.interval_ns;
            verdict
        });
        (!verdict.allowed).then_some(Refusal::Rate {
            retry_after_ns: verdict.retry_after_ns,
        })
    }

    async fn check_shared(
        &self,
        backend: &SharedBackend,
        key_base: &str,
        req: &RequestView<'_>,
        consume: bool,
    ) -> Result<Option<Refusal>, SharedError> {
        let mut id_buf = Vec::new();
        let enumeration = self.enumeration.as_ref().map(|e| {
            let present = key::render_one(&e.id, req, &mut id_buf);
            (
                present,
                e.max_distinct,
                e.window_ns / 1_000,
                e.cooldown_ns / 1_000,
            )
        });
        let query = SharedQuery {
            interval_us: self.gcra.interval_ns / 1_000,
            burst: self.gcra.burst,
            consume,
            enumeration: enumeration.map(|(present, max, window, cooldown)| {
                (present.then_some(id_buf.as_slice()), max, window, cooldown)
            }),
        };
        let verdict = backend.decide(key_base, query).await?;
        if verdict.newly_blocked {
            self.enumeration_blocks.inc();
        }
        let retry_after_ns = verdict.retry_after_us.saturating_mul(1_000);
        Ok(match (verdict.allowed, verdict.enumeration) {
            (true, _) => None,
            (false, true) => Some(Refusal::Enumeration { retry_after_ns }),
            (false, false) => Some(Refusal::Rate { retry_after_ns }),
        })
    }

    /// Counts and logs a backend failure, then applies the rule's `on_backend_error`.
    fn on_backend_error(
        &self,
        err: &SharedError,
        fallback: impl FnOnce() -> Option<Refusal>,
    ) -> Option<Refusal> {
        self.backend_errors.inc();
        let now_s = now_ns() / NANOS;
        let last = self
            .last_error_log_s
            .swap(now_s, std::sync::atomic::Ordering::Relaxed);
        if now_s >= last + 10 {
            log::warn!(
                "rate limit {}: shared backend failed ({err}); {}",
                self.name,
                if self.fail_closed {
                    "refusing requests"
                } else {
                    "using the local limiter"
                }
            );
        }
        if self.fail_closed {
            Some(Refusal::BackendUnavailable)
        } else {
            fallback()
        }
    }

    fn check_enumeration(
        &self,
        e: &Enumeration,
        req: &RequestView<'_>,
        key_hash: u64,
        now: u64,
    ) -> Option<Refusal> {
        let table = self.state.enumeration.as_ref()?;
        let mut id_buf = Vec::with_capacity(32);
        let id_present = key::render_one(&e.id, req, &mut id_buf);
        let id_hash = id_present.then(|| table.hash(&id_buf));
        let (refusal, newly_blocked) =
            table.with(key_hash, now, |slot| slot.visit(e, id_hash, now));
        if newly_blocked {
            self.enumeration_blocks.inc();
        }
        refusal
    }

    /// The `RateLimit` header value for a refusal: nothing remaining, reset in `secs`.
    pub fn state_header(&self, secs: u64) -> http::HeaderValue {
        http::HeaderValue::from_str(&format!("\"{}\";r=0;t={secs}", self.name))
            .unwrap_or_else(|_| http::HeaderValue::from_static("r=0"))
    }

    /// Distinct keys held now (rate table).
    pub fn keys(&self) -> usize {
        self.state.limits.len()
    }
}

#[derive(Default)]
struct LimitSlot {
    tat: u64,
    interval: u64,
}

impl Slot for LimitSlot {
    fn is_idle(&self, now: u64) -> bool {
        self.tat <= now
    }
    fn weight(&self, now: u64) -> u64 {
        self.tat.saturating_sub(now) / self.interval.max(1)
    }
}

#[derive(Default)]
struct EnumSlot {
    /// (id hash, last seen) for ids seen in the window; never more than `max_distinct`.
    ids: Vec<(u64, u64)>,
    blocked_until: u64,
    last_seen: u64,
    window: u64,
}

impl EnumSlot {
    /// Records a visit; returns the refusal (if any) and whether this visit started a block.
    fn visit(&mut self, e: &Enumeration, id: Option<u64>, now: u64) -> (Option<Refusal>, bool) {
        self.last_seen = now;
        self.window = e.window_ns;
        if self.blocked_until > now {
            return (
                Some(Refusal::Enumeration {
                    retry_after_ns: self.blocked_until - now,
                }),
                false,
            );
        }
        let Some(id) = id else { return (None, false) };
        let horizon = now.saturating_sub(e.window_ns);
        self.ids.retain(|&(_, seen)| seen > horizon);
        if let Some(entry) = self.ids.iter_mut().find(|(h, _)| *h == id) {
            entry.1 = now;
            return (None, false);
        }
        if self.ids.len() as u64 >= u64::from(e.max_distinct) {
            self.ids.clear();
            self.blocked_until = now.saturating_add(e.cooldown_ns);
            return (
                Some(Refusal::Enumeration {
                    retry_after_ns: e.cooldown_ns,
                }),
                true,
            );
        }
        self.ids.push((id, now));
        (None, false)
    }
}

impl Slot for EnumSlot {
    fn is_idle(&self, now: u64) -> bool {
        self.blocked_until <= now && self.last_seen.saturating_add(self.window) <= now
    }
    fn weight(&self, now: u64) -> u64 {
        if self.blocked_until > now {
            u64::MAX
        } else {
            self.ids.len() as u64
        }
    }
}

/// The state of one rule definition.
struct RuleState {
    limits: Table<LimitSlot>,
    enumeration: Option<Table<EnumSlot>>,
}

impl std::fmt::Debug for RuleState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleState").finish_non_exhaustive()
    }
}

/// Rule state that outlives policies: a reload that keeps a rule's definition keeps its
/// counts. Also reports the key-table sizes to Prometheus.
#[derive(Clone, Default)]
pub struct LimiterStore {
    states: Arc<Mutex<HashMap<String, StoredRule>>>,
    /// The Redis connection, kept across reloads while its config is unchanged.
    redis: Arc<Mutex<Option<StoredBackend>>>,
}

/// The Redis config a backend was built from, and the backend.
type StoredBackend = (RedisConfig, Arc<SharedBackend>);

/// A rule's definition fingerprint and its state.
type StoredRule = (String, Arc<RuleState>);

impl LimiterStore {
    /// The state for rule `name` with definition fingerprint `fingerprint`: the existing one
    /// when the definition is unchanged, a fresh one otherwise.
    fn state(&self, name: &str, fingerprint: String, config: &RateLimitConfig) -> Arc<RuleState> {
        let mut states = self.states.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((fp, state)) = states.get(name) {
            if *fp == fingerprint {
                return state.clone();
            }
        }
        let state = Arc::new(RuleState {
            limits: Table::new(config.max_keys),
            enumeration: config
                .enumeration
                .as_ref()
                .map(|_| Table::new(config.max_keys)),
        });
        states.insert(name.to_owned(), (fingerprint, state.clone()));
        state
    }

    /// The shared backend for `config`, reusing the current one when the config is unchanged.
    fn redis(
        &self,
        config: &RedisConfig,
        issues: &mut Vec<ConfigIssue>,
    ) -> Option<Arc<SharedBackend>> {
        let mut current = self.redis.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((c, backend)) = current.as_ref() {
            if c == config {
                return Some(backend.clone());
            }
        }
        let secret = match &config.key_secret_env {
            Some(var) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => v.into_bytes(),
                _ => {
                    issues.push(ConfigIssue::new(
                        "redis.key_secret_env",
                        format!("environment variable {var:?} is not set"),
                    ));
                    return None;
                }
            },
            None => {
                log::warn!("redis.key_secret_env is not set: rate-limit keys in redis are HMACed with a built-in secret");
                b"phiguard-default-ratelimit-key".to_vec()
            }
        };
        if config.timeout_ms == 0 {
            issues.push(ConfigIssue::new(
                "redis.timeout_ms",
                "must be greater than 0",
            ));
            return None;
        }
        match SharedBackend::new(
            &config.url,
            std::time::Duration::from_millis(config.timeout_ms),
            config.key_prefix.clone(),
            secret,
        ) {
            Ok(backend) => {
                *current = Some((config.clone(), backend.clone()));
                Some(backend)
            }
            Err(problem) => {
                issues.push(ConfigIssue::new("redis.url", problem));
                None
            }
        }
    }

    /// A Prometheus collector of `phiguard_ratelimit_keys{rule}`.
    pub fn collector(&self) -> KeyTableCollector {
        KeyTableCollector {
            store: self.clone(),
            gauge: IntGaugeVec::new(
                Opts::new(
                    "phiguard_ratelimit_keys",
                    "Distinct client keys held by each rate-limit rule.",
                ),
                &["rule"],
            )
            .expect("static metric definition"),
        }
    }
}

/// Reports key-table sizes when scraped.
pub struct KeyTableCollector {
    store: LimiterStore,
    gauge: IntGaugeVec,
}

impl Collector for KeyTableCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.gauge.desc()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        self.gauge.reset();
        let states = self.store.states.lock().unwrap_or_else(|p| p.into_inner());
        for (name, (_, state)) in states.iter() {
            let size = state.limits.len() + state.enumeration.as_ref().map_or(0, Table::len);
            self.gauge
                .with_label_values(&[name])
                .set(i64::try_from(size).unwrap_or(i64::MAX));
        }
        self.gauge.collect()
    }
}

/// Compiles rule `name`, reporting problems under `rate_limits.NAME`.
pub fn compile_rule(
    name: &str,
    config: &RateLimitConfig,
    redis: Option<&RedisConfig>,
    store: &LimiterStore,
    metrics: &Metrics,
    issues: &mut Vec<ConfigIssue>,
) -> Option<Rule> {
    let at = format!("rate_limits.{name}");
    let before = issues.len();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        issues.push(ConfigIssue::new(
            &at,
            "rule names use letters, digits, '-', '_' and '.' only",
        ));
    }
    if config.key.is_empty() {
        issues.push(ConfigIssue::new(
            format!("{at}.key"),
            "needs at least one key part",
        ));
    }
    let key: Vec<KeyPart> = config
        .key
        .iter()
        .enumerate()
        .filter_map(|(i, k)| {
            KeyPart::parse(k)
                .map_err(|p| issues.push(ConfigIssue::new(format!("{at}.key[{i}]"), p)))
                .ok()
        })
        .collect();
    let (quota, window_secs) = match parse_rate(&config.rate) {
        Ok(v) => v,
        Err(p) => {
            issues.push(ConfigIssue::new(format!("{at}.rate"), p));
            (1, 1)
        }
    };
    let burst = config.burst.unwrap_or(quota);
    if burst == 0 {
        issues.push(ConfigIssue::new(
            format!("{at}.burst"),
            "must be at least 1",
        ));
    }
    for (i, s) in config.count_statuses.iter().enumerate() {
        if !(100..=599).contains(s) {
            issues.push(ConfigIssue::new(
                format!("{at}.count_statuses[{i}]"),
                "not an HTTP status",
            ));
        }
    }
    if config.max_keys == 0 {
        issues.push(ConfigIssue::new(
            format!("{at}.max_keys"),
            "must be at least 1",
        ));
    }
    let enumeration = config
        .enumeration
        .as_ref()
        .and_then(|e| compile_enumeration(e, &format!("{at}.enumeration"), issues));
    let shared = match (config.backend, redis) {
        (LimitBackend::Local, _) => None,
        (LimitBackend::Redis, Some(redis)) => store.redis(redis, issues),
        (LimitBackend::Redis, None) => {
            issues.push(ConfigIssue::new(
                format!("{at}.backend"),
                "backend redis needs a top-level `redis:` section",
            ));
            None
        }
    };
    if issues.len() > before {
        return None;
    }
    let fingerprint = format!("{config:?}");
    let policy_header =
        http::HeaderValue::from_str(&format!("\"{name}\";q={quota};w={window_secs}"))
            .map_err(|_| {
                issues.push(ConfigIssue::new(
                    at.clone(),
                    "rule name cannot go in a header",
                ))
            })
            .ok()?;
    let decisions = metrics.ratelimit_decisions();
    Some(Rule {
        name: name.to_owned(),
        key,
        gcra: Gcra::new(quota, window_secs * NANOS, burst),
        quota,
        window_secs,
        policy_header,
        count_statuses: config.count_statuses.clone(),
        dry_run: config.dry_run,
        enumeration,
        state: store.state(name, fingerprint, config),
        shared,
        fail_closed: config.on_backend_error == BackendErrorPolicy::Deny,
        last_error_log_s: std::sync::atomic::AtomicU64::new(0),
        backend_errors: metrics
            .ratelimit_backend_errors()
            .with_label_values(&[name]),
        allowed: decisions.with_label_values(&[name, "allowed"]),
        limited: decisions.with_label_values(&[name, "limited"]),
        dry_run_limited: decisions.with_label_values(&[name, "dry_run_limited"]),
        enumeration_blocks: metrics.enumeration_blocks().with_label_values(&[name]),
    })
}

fn compile_enumeration(
    e: &EnumerationConfig,
    at: &str,
    issues: &mut Vec<ConfigIssue>,
) -> Option<Enumeration> {
    let before = issues.len();
    let id = match KeyPart::parse(&e.id) {
        Ok(k @ (KeyPart::PathSegment(_) | KeyPart::Query(_))) => Some(k),
        Ok(_) => {
            issues.push(ConfigIssue::new(
                format!("{at}.id"),
                "must be path_segment:N or query:NAME",
            ));
            None
        }
        Err(p) => {
            issues.push(ConfigIssue::new(format!("{at}.id"), p));
            None
        }
    };
    if !(1..=1000).contains(&e.max_distinct) {
        issues.push(ConfigIssue::new(
            format!("{at}.max_distinct"),
            "must be 1 to 1000",
        ));
    }
    for (field, v) in [
        ("window_secs", e.window_secs),
        ("cooldown_secs", e.cooldown_secs),
    ] {
        if v == 0 {
            issues.push(ConfigIssue::new(
                format!("{at}.{field}"),
                "must be greater than 0",
            ));
        }
    }
    (issues.len() == before).then(|| Enumeration {
        id: id.unwrap_or(KeyPart::ClientIp),
        max_distinct: e.max_distinct,
        window_ns: e.window_secs.saturating_mul(NANOS),
        cooldown_ns: e.cooldown_secs.saturating_mul(NANOS),
    })
}

/// Parses `N/second`, `N/minute`, `N/hour` into (N, seconds).
fn parse_rate(rate: &str) -> Result<(u64, u64), String> {
    let err = || format!("{rate:?} is not N/second, N/minute or N/hour");
    let (n, unit) = rate.split_once('/').ok_or_else(err)?;
    let n: u64 = n.trim().parse().map_err(|_| err())?;
    if n == 0 {
        return Err("the rate must be at least 1".to_owned());
    }
    let secs = match unit.trim() {
        "second" | "s" => 1,
        "minute" | "m" => 60,
        "hour" | "h" => 3600,
        _ => return Err(err()),
    };
    Ok((n, secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(yaml: &str) -> Rule {
        let config: RateLimitConfig = serde_yaml::from_str(yaml).unwrap();
        let mut issues = Vec::new();
        let r = compile_rule(
            "r",
            &config,
            None,
            &LimiterStore::default(),
            &Metrics::new(),
            &mut issues,
        );
        assert!(issues.is_empty(), "{issues:?}");
        r.unwrap()
    }

    fn view<'a>(path: &'a str, ip: &'a str) -> (http::HeaderMap, &'a str, std::net::IpAddr) {
        (http::HeaderMap::new(), path, ip.parse().unwrap())
    }

    #[test]
    fn rates_parse() {
        assert_eq!(parse_rate("20/minute").unwrap(), (20, 60));
        assert_eq!(parse_rate("5/s").unwrap(), (5, 1));
        assert!(parse_rate("0/s").is_err());
        assert!(parse_rate("fast").is_err());
    }

    #[tokio::test]
    async fn limits_per_client_key() {
        let r = rule("{rate: 2/minute, burst: 2}");
        let (h, p, a) = view("/x", "10.0.0.1");
        let (_, _, b) = view("/x", "10.0.0.2");
        let now = now_ns();
        let va = RequestView::new(&h, p, None, Some(a));
        let vb = RequestView::new(&h, p, None, Some(b));
        assert!(r.check(&va, now).await.refusal.is_none());
        assert!(r.check(&va, now).await.refusal.is_none());
        let refused = r.check(&va, now).await.refusal.unwrap();
        assert!(refused.retry_after_secs() >= 29);
        assert!(
            r.check(&vb, now).await.refusal.is_none(),
            "another client has its own bucket"
        );
    }

    #[tokio::test]
    async fn status_filtered_rules_count_only_matching_responses() {
        let r = rule("{rate: 1/minute, burst: 2, count_statuses: [404]}");
        let (h, p, a) = view("/x", "10.0.0.1");
        let v = RequestView::new(&h, p, None, Some(a));
        let now = now_ns();
        for _ in 0..10 {
            let d = r.check(&v, now).await;
            assert!(d.refusal.is_none());
            r.count_response(d.count_on_response.as_ref().unwrap(), 200, now)
                .await;
        }
        for _ in 0..2 {
            let d = r.check(&v, now).await;
            assert!(d.refusal.is_none());
            r.count_response(d.count_on_response.as_ref().unwrap(), 404, now)
                .await;
        }
        assert!(r.check(&v, now).await.refusal.is_some());
    }

    #[tokio::test]
    async fn enumeration_walk_is_blocked_and_repeat_visits_are_not() {
        let r = rule("{rate: 1000/second, enumeration: {id: 'path_segment:3', max_distinct: 5, window_secs: 60, cooldown_secs: 30}}");
        let h = http::HeaderMap::new();
        let ip = Some("10.0.0.9".parse().unwrap());
        let now = now_ns();
        for _ in 0..50 {
            assert!(r
                .check(
                    &RequestView::new(&h, "/apps/appointments/1001", None, ip),
                    now
                )
                .await
                .refusal
                .is_none());
        }
        let mut refused_at = None;
        for id in 1..=10 {
            let path = format!("/apps/appointments/{}", 2000 + id);
            if r.check(&RequestView::new(&h, &path, None, ip), now)
                .await
                .refusal
                .is_some()
            {
                refused_at = Some(id);
                break;
            }
        }
        assert_eq!(
            refused_at,
            Some(5),
            "the 6th distinct id (5th new) trips the guard"
        );
        let again = r
            .check(
                &RequestView::new(&h, "/apps/appointments/1001", None, ip),
                now,
            )
            .await;
        assert_eq!(again.refusal.unwrap().retry_after_secs(), 30);
        assert!(r
            .check(
                &RequestView::new(&h, "/apps/appointments/1001", None, ip),
                now + 31 * NANOS
            )
            .await
            .refusal
            .is_none());
    }

    #[tokio::test]
    async fn dry_run_never_refuses() {
        let r = rule("{rate: 1/minute, burst: 1, dry_run: true}");
        let (h, p, a) = view("/x", "10.0.0.1");
        let v = RequestView::new(&h, p, None, Some(a));
        let now = now_ns();
        for _ in 0..5 {
            assert!(r.check(&v, now).await.refusal.is_none());
        }
        assert_eq!(r.dry_run_limited.get(), 4);
    }

    #[tokio::test]
    async fn unchanged_definitions_keep_their_state_across_compiles() {
        let store = LimiterStore::default();
        let metrics = Metrics::new();
        let config: RateLimitConfig = serde_yaml::from_str("{rate: 1/minute, burst: 1}").unwrap();
        let mut issues = Vec::new();
        let a = compile_rule("r", &config, None, &store, &metrics, &mut issues).unwrap();
        let (h, p, ip) = view("/x", "10.0.0.1");
        let v = RequestView::new(&h, p, None, Some(ip));
        let now = now_ns();
        assert!(a.check(&v, now).await.refusal.is_none());
        let b = compile_rule("r", &config, None, &store, &metrics, &mut issues).unwrap();
        assert!(b.check(&v, now).await.refusal.is_some(), "state survived");
        let changed: RateLimitConfig = serde_yaml::from_str("{rate: 2/minute, burst: 1}").unwrap();
        let c = compile_rule("r", &changed, None, &store, &metrics, &mut issues).unwrap();
        assert!(
            c.check(&v, now).await.refusal.is_none(),
            "a changed rule starts fresh"
        );
    }

    #[test]
    fn bad_rules_are_reported() {
        let config: RateLimitConfig = serde_yaml::from_str(
            "{key: [client_ip, 'header:'], rate: 'ten/minute', burst: 0, count_statuses: [99], enumeration: {id: client_ip, max_distinct: 0, window_secs: 0, cooldown_secs: 1}}",
        )
        .unwrap();
        let mut issues = Vec::new();
        assert!(compile_rule(
            "x",
            &config,
            None,
            &LimiterStore::default(),
            &Metrics::new(),
            &mut issues
        )
        .is_none());
        let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "rate_limits.x.key[1]",
                "rate_limits.x.rate",
                "rate_limits.x.burst",
                "rate_limits.x.count_statuses[0]",
                "rate_limits.x.enumeration.id",
                "rate_limits.x.enumeration.max_distinct",
                "rate_limits.x.enumeration.window_secs"
            ]
        );
    }
}
