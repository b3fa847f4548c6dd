//! Per-object exponential backoff with jitter: kube-runtime's error policy has none built in, and a
//! fixed requeue would make one broken Storefront retry as hard as ever.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// Failure counts by object key.
#[derive(Debug)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    failures: Mutex<HashMap<String, u32>>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(300))
    }
}

impl Backoff {
    pub fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Records a failure of `key` and returns how long to wait before retrying it.
    pub fn next_delay(&self, key: &str) -> Duration {
        let attempt = {
            let mut failures = self
                .failures
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let count = failures.entry(key.to_string()).or_insert(0);
            *count = count.saturating_add(1);
            *count
        };
        delay(self.base, self.max, attempt, jitter())
    }

    /// Forgets the failures of `key` after a success.
    pub fn reset(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
    }

    pub fn failures(&self, key: &str) -> u32 {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(key)
            .copied()
            .unwrap_or(0)
    }
}

/// A factor in [0.75, 1.25) so that objects failing together do not retry together.
fn jitter() -> f64 {
    let r = getrandom::u32().unwrap_or(u32::MAX / 2);
    0.75 + 0.5 * (f64::from(r) / (f64::from(u32::MAX) + 1.0))
}

/// `base * 2^(attempt-1)`, capped at `max`, scaled by `jitter`.
pub fn delay(base: Duration, max: Duration, attempt: u32, jitter: f64) -> Duration {
    let exp = attempt.saturating_sub(1).min(20);
    let raw = base.saturating_mul(1u32 << exp).min(max);
    raw.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_doubles_up_to_the_cap() {
        let (b, m) = (Duration::from_secs(1), Duration::from_secs(60));
        let d: Vec<u64> = (1..=8).map(|a| delay(b, m, a, 1.0).as_secs()).collect();
        assert_eq!(d, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(delay(b, m, u32::MAX, 1.0), m);
    }

    #[test]
    fn failures_are_counted_per_object_and_reset_on_success() {
        let backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(10));
        let first = backoff.next_delay("ns/a");
        backoff.next_delay("ns/a");
        let third = backoff.next_delay("ns/a");
        assert!(third > first, "{third:?} > {first:?}");
        assert!(third >= Duration::from_millis(300) && third < Duration::from_millis(500));
        assert_eq!(backoff.failures("ns/a"), 3);
        assert_eq!(backoff.failures("ns/b"), 0);
        backoff.reset("ns/a");
        assert_eq!(backoff.failures("ns/a"), 0);
    }
}
