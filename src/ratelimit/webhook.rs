//! Shopify-style webhook verification: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of
//! the raw body under the app's secret. Signed deliveries are never rate-limited (a platform
//! deletes a subscription after repeated failures); unsigned or badly signed ones are
//! refused with 401 and count against the route's rate limits. Deliveries are de-duplicated
//! by `X-Shopify-Webhook-Id` within a window: a repeat is acknowledged (200) and not
//! forwarded.
//!
//! The body is checked as it streams: chunks are held back (at most `max_body_bytes`) and
//! released to the upstream only once the whole body verified, so the upstream never
//! receives an unverified body.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::table::{Slot, Table};
use crate::config::{ConfigIssue, WebhookConfig};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-shopify-hmac-sha256";
/// The delivery id header.
pub const ID_HEADER: &str = "x-shopify-webhook-id";

const NANOS: u64 = 1_000_000_000;

/// A compiled webhook verifier for one route.
pub struct WebhookVerifier {
    secret: Vec<u8>,
    dedupe_window_ns: u64,
    /// Largest body held back for verification.
    pub max_body_bytes: usize,
    seen: Table<SeenDelivery>,
}

impl std::fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookVerifier").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct SeenDelivery {
    until: u64,
}

impl Slot for SeenDelivery {
    fn is_idle(&self, now: u64) -> bool {
        self.until <= now
    }
    fn weight(&self, now: u64) -> u64 {
        self.until.saturating_sub(now)
    }
}

impl WebhookVerifier {
    /// Compiles `config`, reporting problems under `key` (e.g. `routes[2].webhook`).
    pub fn compile(
        config: &WebhookConfig,
        key: &str,
        issues: &mut Vec<ConfigIssue>,
    ) -> Option<Self> {
        let secret = match (&config.secret, &config.secret_env) {
            (Some(s), None) if !s.is_empty() => s.as_bytes().to_vec(),
            (None, Some(var)) => match std::env::var(var) {
                Ok(v) if !v.is_empty() => v.into_bytes(),
                _ => {
                    issues.push(ConfigIssue::new(
                        format!("{key}.secret_env"),
                        format!("environment variable {var:?} is not set"),
                    ));
                    return None;
                }
            },
            _ => {
                issues.push(ConfigIssue::new(
                    key,
                    "give exactly one of secret or secret_env",
                ));
                return None;
            }
        };
        if config.max_body_bytes == 0 {
            issues.push(ConfigIssue::new(
                format!("{key}.max_body_bytes"),
                "must be greater than 0",
            ));
            return None;
        }
        Some(Self {
            secret,
            dedupe_window_ns: config.dedupe_window_secs.saturating_mul(NANOS),
            max_body_bytes: config.max_body_bytes,
            seen: Table::new(config.dedupe_max_ids),
        })
    }

    /// Whether `signature` (the header's value) is the HMAC of `body`. Constant time.
    pub fn verify(&self, body: &[u8], signature: &[u8]) -> bool {
        let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim_ascii())
        else {
            return false;
        };
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret) else {
            return false;
        };
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    }

    /// Whether delivery `id` was already forwarded within the window.
    pub fn is_duplicate(&self, id: &[u8], now: u64) -> bool {
        let hash = self.seen.hash(id);
        self.seen.with(hash, now, |s| s.until > now)
    }

    /// Records delivery `id` as forwarded.
    pub fn remember(&self, id: &[u8], now: u64) {
        let hash = self.seen.hash(id);
        let until = now.saturating_add(self.dedupe_window_ns);
        self.seen.with(hash, now, |s| s.until = until);
    }

    /// The signature for `body` (for tests and the demo).
    pub fn sign(&self, body: &[u8]) -> String {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret) else {
            return String::new();
        };
        mac.update(body);
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier() -> WebhookVerifier {
        let config: WebhookConfig =
            serde_yaml::from_str("{secret: s3cret, dedupe_window_secs: 60}").unwrap();
        let mut issues = Vec::new();
        WebhookVerifier::compile(&config, "w", &mut issues).unwrap()
    }

    #[test]
    fn verifies_shopify_signatures() {
        let v = verifier();
        let body = br#"{"id":1,"total":"10.00"}"#;
        let sig = v.sign(body);
        assert!(v.verify(body, sig.as_bytes()));
        assert!(!v.verify(b"{\"id\":2}", sig.as_bytes()));
        assert!(!v.verify(body, b"not base64!"));
        assert!(!v.verify(body, b""));
    }

    #[test]
    fn deduplicates_within_the_window() {
        let v = verifier();
        let now = 100 * NANOS;
        assert!(!v.is_duplicate(b"id-1", now));
        v.remember(b"id-1", now);
        assert!(v.is_duplicate(b"id-1", now + NANOS));
        assert!(!v.is_duplicate(b"id-2", now));
        assert!(!v.is_duplicate(b"id-1", now + 61 * NANOS));
    }

    #[test]
    fn needs_exactly_one_secret() {
        let mut issues = Vec::new();
        let both: WebhookConfig = serde_yaml::from_str("{secret: a, secret_env: B}").unwrap();
        assert!(WebhookVerifier::compile(&both, "routes[0].webhook", &mut issues).is_none());
        let missing: WebhookConfig =
            serde_yaml::from_str("{secret_env: PHIGUARD_TEST_UNSET_VAR}").unwrap();
        assert!(WebhookVerifier::compile(&missing, "routes[0].webhook", &mut issues).is_none());
        assert_eq!(issues[0].key, "routes[0].webhook");
        assert_eq!(issues[1].key, "routes[0].webhook.secret_env");
    }
}
