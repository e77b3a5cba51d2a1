//! The Redis backend: the same rules enforced across replicas through one Redis. One Lua
//! script does the whole decision (enumeration guard and GCRA) atomically in one round trip,
//! using Redis's clock so that replica clocks do not matter. Keys are HMAC-SHA256 of the
//! client key under a shared secret (truncated to 128 bits), with a hash tag so that a rule's
//! keys for one client live in one cluster slot. Redis never sees an IP, cookie or API key.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwapOption;
use hmac::{Hmac, Mac};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sha2::Sha256;

/// The decision script. KEYS: rate, enumeration set, enumeration block.
/// ARGV: interval_us, burst, consume, enum_enabled, enum_id, max_distinct, window_us, cooldown_us.
/// Returns {allowed, remaining, retry_after_us, reset_us, enumeration_refusal, newly_blocked}.
const SCRIPT: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
if ARGV[4] == '1' then
  local blocked = tonumber(redis.call('GET', KEYS[3]) or '0')
  if blocked > now then return {0, 0, blocked - now, 0, 1, 0} end
  if ARGV[5] ~= '' then
    local window = tonumber(ARGV[7])
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
    if not redis.call('ZSCORE', KEYS[2], ARGV[5]) then
      if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[6]) then
        local cooldown = tonumber(ARGV[8])
        redis.call('DEL', KEYS[2])
        redis.call('SET', KEYS[3], now + cooldown, 'PX', math.ceil(cooldown / 1000))
        return {0, 0, cooldown, 0, 1, 1}
      end
    end
    redis.call('ZADD', KEYS[2], now, ARGV[5])
    redis.call('PEXPIRE', KEYS[2], math.ceil(window / 1000))
  end
end
local interval = tonumber(ARGV[1])
local tolerance = interval * tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local base = math.max(tat, now)
local nxt = base + interval
if nxt - now > tolerance then return {0, 0, nxt - now - tolerance, base - now, 0, 0} end
local used = base - now
if ARGV[3] == '1' then
  redis.call('SET', KEYS[1], nxt, 'PX', math.ceil((nxt - now) / 1000) + 1)
  used = nxt - now
end
return {1, math.floor((tolerance - used) / interval), 0, used, 0, 0}
"#;

/// Why a Redis decision could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    /// No connection (Redis down, or reconnecting).
    #[error("redis is unavailable")]
    Unavailable,
    /// The call failed or timed out.
    #[error("redis call failed: {0}")]
    Call(String),
}

/// What a rule sends Redis for one decision.
#[derive(Debug, Clone, Copy)]
pub struct SharedQuery<'a> {
    /// GCRA emission interval in microseconds.
    pub interval_us: u64,
    /// GCRA burst.
    pub burst: u64,
    /// Count this request now.
    pub consume: bool,
    /// The enumeration guard, when the rule has one: (id if present, max distinct, window
    /// µs, cooldown µs).
    pub enumeration: Option<(Option<&'a [u8]>, u32, u64, u64)>,
}

/// Redis's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedVerdict {
    /// The request may pass.
    pub allowed: bool,
    /// Requests left now.
    pub remaining: u64,
    /// Microseconds until a retry may pass.
    pub retry_after_us: u64,
    /// Microseconds until the bucket is full.
    pub reset_us: u64,
    /// The refusal came from the enumeration guard.
    pub enumeration: bool,
    /// This request started an enumeration block.
    pub newly_blocked: bool,
}

/// A connection to the shared Redis, reconnecting by itself.
pub struct SharedBackend {
    client: redis::Client,
    conn: ArcSwapOption<ConnectionManager>,
    last_connect_attempt_ms: AtomicU64,
    timeout: Duration,
    prefix: String,
    secret: Vec<u8>,
    script: redis::Script,
}

impl std::fmt::Debug for SharedBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedBackend")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

/// Minimum time between connection attempts while Redis is down.
const RECONNECT_EVERY_MS: u64 = 500;

impl SharedBackend {
    /// A backend for `url` (`redis://host:port/db`); connects lazily.
    pub fn new(
        url: &str,
        timeout: Duration,
        prefix: String,
        secret: Vec<u8>,
    ) -> Result<Arc<Self>, String> {
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        Ok(Arc::new(Self {
            client,
            conn: ArcSwapOption::empty(),
            last_connect_attempt_ms: AtomicU64::new(0),
            timeout,
            prefix,
            secret,
            script: redis::Script::new(SCRIPT),
        }))
    }

    /// The Redis key base for a client key of rule `rule`: HMAC, never the key itself.
    pub fn key_base(&self, rule: &str, key: &[u8]) -> String {
        format!("{}{{{}:{}}}", self.prefix, rule, self.digest(key, 16))
    }

    fn digest(&self, data: &[u8], bytes: usize) -> String {
        // HMAC accepts keys of any length.
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        mac.update(data);
        mac.finalize().into_bytes()[..bytes]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    async fn connection(&self) -> Result<ConnectionManager, SharedError> {
        if let Some(conn) = self.conn.load_full() {
            return Ok((*conn).clone());
        }
        let now_ms = super::now_ns() / 1_000_000;
        let last = self.last_connect_attempt_ms.load(Ordering::Relaxed);
        if now_ms.saturating_sub(last) < RECONNECT_EVERY_MS
            || self
                .last_connect_attempt_ms
                .compare_exchange(last, now_ms, Ordering::SeqCst, Ordering::Relaxed)
                .is_err()
        {
            return Err(SharedError::Unavailable);
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(RECONNECT_EVERY_MS));
        match tokio::time::timeout(
            self.timeout * 2,
            ConnectionManager::new_with_config(self.client.clone(), config),
        )
        .await
        {
            Ok(Ok(conn)) => {
                log::info!("rate limits: connected to redis");
                self.conn.store(Some(Arc::new(conn.clone())));
                Ok(conn)
            }
            _ => Err(SharedError::Unavailable),
        }
    }

    /// Runs one decision for the client key `key_base` (from [`Self::key_base`]).
    pub async fn decide(
        &self,
        key_base: &str,
        query: SharedQuery<'_>,
    ) -> Result<SharedVerdict, SharedError> {
        let mut conn = self.connection().await?;
        let (enum_enabled, enum_id, max_distinct, window_us, cooldown_us) = match query.enumeration
        {
            Some((id, max, window, cooldown)) => (
                "1",
                id.map(|id| self.digest(id, 8)).unwrap_or_default(),
                max,
                window,
                cooldown,
            ),
            None => ("0", String::new(), 0, 0, 0),
        };
        let mut invocation = self.script.key(format!("{key_base}:r"));
        invocation
            .key(format!("{key_base}:e"))
            .key(format!("{key_base}:b"))
            .arg(query.interval_us)
            .arg(query.burst)
            .arg(if query.consume { "1" } else { "0" })
            .arg(enum_enabled)
            .arg(enum_id)
            .arg(max_distinct)
            .arg(window_us)
            .arg(cooldown_us);
        let reply: Result<Vec<i64>, _> =
            match tokio::time::timeout(self.timeout, invocation.invoke_async(&mut conn)).await {
                Ok(r) => r.map_err(|e| SharedError::Call(e.to_string())),
                Err(_) => Err(SharedError::Call("timed out".to_owned())),
            };
        let v = reply?;
        let field = |i: usize| {
            v.get(i)
                .copied()
                .map_or(0, |x| u64::try_from(x).unwrap_or(0))
        };
        if v.len() < 6 {
            return Err(SharedError::Call("unexpected script reply".to_owned()));
        }
        Ok(SharedVerdict {
            allowed: field(0) == 1,
            remaining: field(1),
            retry_after_us: field(2),
            reset_us: field(3),
            enumeration: field(4) == 1,
            newly_blocked: field(5) == 1,
        })
    }
}
