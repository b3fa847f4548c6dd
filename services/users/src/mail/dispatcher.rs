//! The dispatcher: one task per process that delivers due mails from the outbox, one at a time in
//! due order, until its [`super::Mailer`] handles are gone. It wakes when this process queues
//! mail and otherwise polls, so mail queued by another replica, retries and mails left by a
//! stopped sender go out too. A failed attempt is retried after an exponential backoff with
//! jitter until the attempts run out; the mail is then kept as failed. Once a minute it also
//! purges old mails and refreshes the backlog gauges.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use ring::rand::SystemRandom;
use sqlx::PgPool;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::outbox::{self, QueuedMail};
use super::{Transport, compose, count};
use crate::config::MailSettings;
use crate::error::Result;

/// How often old mails are purged and the backlog gauges refreshed.
const HOUSEKEEPING_INTERVAL: Duration = Duration::from_secs(60);
/// How far a lease outlasts the send timeout: time to record the outcome.
const LEASE_MARGIN: Duration = Duration::from_secs(60);

pub struct Dispatcher {
    db: PgPool,
    transport: Transport,
    from: Mailbox,
    send_timeout: Duration,
    interval: Duration,
    max_attempts: i32,
    backoff: Duration,
    backoff_max: Duration,
    retention: Duration,
}

/// How one attempt ended.
enum Attempt {
    Sent,
    /// Will be tried again (a failure the next attempt may not meet).
    Failed(String),
    /// Cannot succeed whatever is retried (the mail does not compose).
    Unsendable(String),
}

impl Dispatcher {
    pub(super) fn new(db: PgPool, transport: Transport, settings: &MailSettings) -> Self {
        Self {
            db,
            transport,
            from: settings.from.clone(),
            send_timeout: settings.send_timeout,
            interval: settings.interval,
            max_attempts: settings.max_attempts,
            backoff: settings.backoff,
            backoff_max: settings.backoff_max,
            retention: settings.retention,
        }
    }

    /// Delivers until `stopped` closes; a mail being sent then is finished first.
    pub(super) async fn run(self, wake: Arc<Notify>, mut stopped: watch::Receiver<()>) {
        let mut housekeeping_due = Instant::now();
        loop {
            if Instant::now() >= housekeeping_due {
                self.housekeeping().await;
                housekeeping_due = Instant::now() + HOUSEKEEPING_INTERVAL;
            }
            loop {
                if stopped.has_changed().is_err() {
                    return;
                }
                match self.deliver_next().await {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(error) => {
                        tracing::warn!(%error, "the mail outbox cannot be read");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = stopped.changed() => return,
                () = wake.notified() => {}
                () = tokio::time::sleep(self.interval) => {}
            }
        }
    }

    /// Claims the mail due first and attempts it; `false` when nothing is due.
    async fn deliver_next(&self) -> Result<bool> {
        let lease = self.send_timeout + LEASE_MARGIN;
        let Some(mail) = outbox::claim_next(&self.db, lease, self.max_attempts).await? else {
            return Ok(false);
        };
        let attempt = self.attempt(&mail).await;
        let (kept, outcome) = match attempt {
            Attempt::Sent => (outbox::mark_sent(&self.db, &mail).await?, "sent"),
            Attempt::Failed(error) if mail.attempts < self.max_attempts => {
                let delay = backoff(self.backoff, self.backoff_max, mail.attempts, random_unit());
                tracing::warn!(%error, kind = %mail.kind, mail_id = %mail.id,
                    attempts = mail.attempts, retry_in_seconds = delay.as_secs(),
                    "sending a mail failed; it will be retried");
                let kept = outbox::retry_later(&self.db, &mail, delay, &error).await?;
                (kept, "retried")
            }
            Attempt::Failed(error) | Attempt::Unsendable(error) => {
                tracing::error!(%error, kind = %mail.kind, mail_id = %mail.id,
                    attempts = mail.attempts,
                    "a mail could not be sent and is given up; it stays in the outbox as failed");
                (outbox::give_up(&self.db, &mail, &error).await?, "failed")
            }
        };
        if !kept {
            // The lease ran out before the outcome was written: another sender has the mail.
            tracing::warn!(kind = %mail.kind, mail_id = %mail.id,
                "a mail attempt outlasted its lease; the mail may be sent twice");
        }
        count(&mail.kind, outcome);
        Ok(true)
    }

    async fn attempt(&self, mail: &QueuedMail) -> Attempt {
        let message = match compose(&self.from, mail) {
            Ok(message) => message,
            Err(error) => {
                return Attempt::Unsendable(format!("the mail cannot be composed: {error}"));
            }
        };
        match tokio::time::timeout(self.send_timeout, self.transport.send(message)).await {
            Ok(Ok(())) => Attempt::Sent,
            Ok(Err(error)) => Attempt::Failed(error),
            Err(_) => Attempt::Failed(format!(
                "no answer within {} s",
                self.send_timeout.as_secs()
            )),
        }
    }

    /// Gives up mails whose last attempt never reported back, purges old ones, and publishes the
    /// backlog. Failures are logged: mail keeps flowing without it.
    async fn housekeeping(&self) {
        match outbox::give_up_abandoned(&self.db, self.max_attempts).await {
            Ok(kinds) => {
                for kind in kinds {
                    tracing::error!(%kind, "a mail's last attempt never finished; it is given up");
                    count(&kind, "failed");
                }
            }
            Err(error) => tracing::warn!(%error, "giving up abandoned mails failed"),
        }
        match outbox::purge(&self.db, self.retention).await {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "old mails purged from the outbox"),
            Err(error) => tracing::warn!(%error, "purging old mails failed"),
        }
        match outbox::backlog(&self.db).await {
            Ok(backlog) => {
                metrics::gauge!("users_mail_outbox_pending").set(backlog.pending as f64);
                metrics::gauge!("users_mail_outbox_failed").set(backlog.failed as f64);
                metrics::gauge!("users_mail_outbox_oldest_pending_seconds")
                    .set(backlog.oldest_pending_seconds);
            }
            Err(error) => tracing::warn!(%error, "reading the mail backlog failed"),
        }
    }
}

/// The wait after `attempts` failed attempts: `base · 2^(attempts-1)`, capped at `max`, of which
/// a random half (`random` in `[0, 1)`) is jitter ("equal jitter"), so mails that failed together
/// do not all come back at once.
pub fn backoff(base: Duration, max: Duration, attempts: i32, random: f64) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(30);
    let full = base.saturating_mul(2u32.pow(exponent)).min(max);
    let half = full / 2;
    half + half.mul_f64(random.clamp(0.0, 1.0))
}

/// A uniform number in `[0, 1)`; the middle if the system's randomness fails (jitter only).
fn random_unit() -> f64 {
    match ring::rand::generate::<[u8; 8]>(&SystemRandom::new()) {
        Ok(bytes) => (u64::from_le_bytes(bytes.expose()) >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: Duration = Duration::from_secs(30);
    const MAX: Duration = Duration::from_secs(3600);

    #[test]
    fn backoff_doubles_per_attempt_with_half_of_it_jitter() {
        assert_eq!(backoff(BASE, MAX, 1, 0.0), Duration::from_secs(15));
        assert_eq!(backoff(BASE, MAX, 1, 1.0), Duration::from_secs(30));
        assert_eq!(backoff(BASE, MAX, 2, 1.0), Duration::from_secs(60));
        assert_eq!(backoff(BASE, MAX, 3, 0.5), Duration::from_secs(90));
        assert_eq!(backoff(BASE, MAX, 7, 1.0), Duration::from_secs(1920));
        // Every wait lies in [full/2, full].
        for attempts in 1..=8 {
            let full = BASE * 2u32.pow(attempts as u32 - 1);
            let full = full.min(MAX);
            let wait = backoff(BASE, MAX, attempts, random_unit());
            assert!(wait >= full / 2 && wait <= full, "{attempts}: {wait:?}");
        }
    }

    #[test]
    fn backoff_is_capped_and_never_overflows() {
        assert_eq!(backoff(BASE, MAX, 8, 1.0), MAX);
        assert_eq!(backoff(BASE, MAX, 100, 1.0), MAX);
        assert_eq!(backoff(BASE, MAX, i32::MAX, 0.0), MAX / 2);
        // Out-of-range inputs still give a sensible wait.
        assert_eq!(backoff(BASE, MAX, 0, 1.0), BASE);
        assert_eq!(backoff(BASE, MAX, -3, 1.0), BASE);
        assert_eq!(backoff(BASE, MAX, 1, 7.0), BASE);
    }

    #[test]
    fn jitter_is_uniform_in_the_unit_interval() {
        let draws: Vec<f64> = (0..1000).map(|_| random_unit()).collect();
        assert!(draws.iter().all(|r| (0.0..1.0).contains(r)));
        // Not a constant: both halves of the interval are drawn.
        assert!(draws.iter().any(|r| *r < 0.5) && draws.iter().any(|r| *r >= 0.5));
    }
}
