//! A circuit breaker: after `threshold` consecutive failures the circuit opens and calls fail at
//! once for `open_for`; then one trial call is let through (half-open) and its outcome closes or
//! re-opens the circuit. A dependency that is down is thereby not hammered, and callers get an
//! honest `Retry-After` instead of waiting on timeouts.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed { failures: u32 },
    Open { until: Instant },
    HalfOpen,
}

#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    open_for: Duration,
    state: Mutex<State>,
}

impl CircuitBreaker {
    pub fn new(threshold: u32, open_for: Duration) -> Self {
        Self {
            threshold: threshold.max(1),
            open_for,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is always valid on its own, so a panic elsewhere does not poison its meaning.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Ok` when a call may go out; `Err(remaining)` while the circuit is open.
    pub fn check(&self) -> Result<(), Duration> {
        let mut state = self.state();
        match *state {
            State::Closed { .. } => Ok(()),
            State::Open { until } => {
                let now = Instant::now();
                if now >= until {
                    *state = State::HalfOpen;
                    Ok(())
                } else {
                    Err(until - now)
                }
            }
            // One trial is already out; everyone else waits for its verdict.
            State::HalfOpen => Err(Duration::from_secs(1)),
        }
    }

    pub fn record_success(&self) {
        *self.state() = State::Closed { failures: 0 };
    }

    pub fn record_failure(&self) {
        let mut state = self.state();
        let open = State::Open {
            until: Instant::now() + self.open_for,
        };
        *state = match *state {
            State::Closed { failures } if failures + 1 < self.threshold => State::Closed {
                failures: failures + 1,
            },
            State::Closed { .. } | State::HalfOpen => {
                tracing::warn!(open_for_ms = self.open_for.as_millis(), "circuit opened");
                open
            }
            already_open @ State::Open { .. } => already_open,
        };
    }

    pub fn is_open(&self) -> bool {
        !matches!(*self.state(), State::Closed { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn opens_after_consecutive_failures_and_recovers_through_one_trial() {
        let breaker = CircuitBreaker::new(3, Duration::from_secs(10));
        breaker.record_failure();
        breaker.record_failure();
        breaker.record_success();
        breaker.record_failure();
        breaker.record_failure();
        assert!(breaker.check().is_ok(), "a success reset the count");
        breaker.record_failure();
        let remaining = breaker.check().unwrap_err();
        assert!(remaining > Duration::from_secs(9), "{remaining:?}");

        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(breaker.check().is_ok(), "the trial call");
        assert!(breaker.check().is_err(), "only one trial at a time");
        breaker.record_failure();
        assert!(breaker.check().is_err(), "a failed trial re-opens");

        tokio::time::advance(Duration::from_secs(10)).await;
        assert!(breaker.check().is_ok());
        breaker.record_success();
        assert!(
            breaker.check().is_ok() && breaker.check().is_ok(),
            "closed again"
        );
        assert!(!breaker.is_open());
    }
}
