//! GCRA (generic cell rate algorithm), the token bucket expressed as one timestamp.
//!
//! Semantics: a rule of `rate` requests per `period` with `burst` lets a fresh client make
//! `burst` requests at once; after that one request per `period / rate` (the emission
//! interval `T`). State is the theoretical arrival time `tat`. A request at `now` is allowed
//! when `max(tat, now) + T - now <= burst * T`; then `tat` becomes `max(tat, now) + T`.
//! A refused request does not change the state.

/// The parameters of one rule, in nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Gcra {
    /// Emission interval `T`: period / rate.
    pub interval_ns: u64,
    /// Burst size (>= 1).
    pub burst: u64,
}

/// The outcome of one GCRA check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Whether the request may pass.
    pub allowed: bool,
    /// Requests still allowed right now after this one.
    pub remaining: u64,
    /// Nanoseconds until a refused request would be allowed (0 when allowed).
    pub retry_after_ns: u64,
    /// Nanoseconds until the bucket is full again.
    pub reset_ns: u64,
}

impl Gcra {
    /// `rate` requests per `period_ns`, with `burst`.
    pub fn new(rate: u64, period_ns: u64, burst: u64) -> Self {
        Self {
            interval_ns: (period_ns / rate.max(1)).max(1),
            burst: burst.max(1),
        }
    }

    fn tolerance(&self) -> u64 {
        self.interval_ns.saturating_mul(self.burst)
    }

    /// Checks a request at `now` against state `tat` (0 = fresh). Returns the verdict and the
    /// new state (unchanged when refused or when `consume` is false).
    pub fn check(&self, tat: u64, now: u64, consume: bool) -> (Verdict, u64) {
        let base = tat.max(now);
        let next = base.saturating_add(self.interval_ns);
        let tolerance = self.tolerance();
        if next - now > tolerance {
            let verdict = Verdict {
                allowed: false,
                remaining: 0,
                retry_after_ns: next - now - tolerance,
                reset_ns: base - now,
            };
            return (verdict, tat);
        }
        let new_tat = if consume { next } else { tat };
        let used = if consume { next - now } else { base - now };
        let verdict = Verdict {
            allowed: true,
            remaining: (tolerance - used) / self.interval_ns,
            retry_after_ns: 0,
            reset_ns: used,
        };
        (verdict, new_tat)
    }

    /// Whether state `tat` has fully drained by `now` (the entry can be forgotten).
    pub fn is_idle(&self, tat: u64, now: u64) -> bool {
        tat <= now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: u64 = 1_000_000_000;

    #[test]
    fn burst_then_steady_rate() {
        let g = Gcra::new(10, SEC, 3); // 10/s, burst 3: T = 100 ms
        let mut tat = 0;
        let now = 5 * SEC;
        for expected_remaining in [2, 1, 0] {
            let (v, t) = g.check(tat, now, true);
            assert!(v.allowed);
            assert_eq!(v.remaining, expected_remaining);
            tat = t;
        }
        let (v, t) = g.check(tat, now, true);
        assert!(!v.allowed);
        assert_eq!(t, tat, "refusals do not consume");
        assert_eq!(v.retry_after_ns, SEC / 10);
        // One interval later exactly one more request passes.
        let (v, t) = g.check(tat, now + SEC / 10, true);
        assert!(v.allowed);
        assert!(!g.check(t, now + SEC / 10, true).0.allowed);
    }

    #[test]
    fn peeking_does_not_consume() {
        let g = Gcra::new(1, SEC, 1);
        let (v, tat) = g.check(0, SEC, false);
        assert!(v.allowed);
        assert_eq!(tat, 0);
        let (_, tat) = g.check(tat, SEC, true);
        assert!(!g.check(tat, SEC, false).0.allowed);
        assert!(g.is_idle(tat, 2 * SEC));
    }

    #[test]
    fn steady_rate_over_time_is_exact() {
        let g = Gcra::new(20, 60 * SEC, 5); // 20/min
        let mut tat = 0;
        let mut allowed = 0;
        // One attempt every 100 ms for 60 s: 5 (burst) + 20 per minute minus the first slot.
        for i in 0..600u64 {
            let (v, t) = g.check(tat, 1000 * SEC + i * SEC / 10, true);
            tat = t;
            allowed += u64::from(v.allowed);
        }
        assert!((24..=25).contains(&allowed), "{allowed}");
    }
}
