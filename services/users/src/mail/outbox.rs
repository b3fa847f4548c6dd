//! The `mail_outbox` table: queueing a mail inside the caller's transaction, claiming due mails
//! for one sender at a time, recording how each attempt ended, and the retention.
//!
//! A claim is one `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED)` that sets a lease
//! (`leased_by`, a fresh id per claim, and `leased_until`), so concurrent dispatchers never take
//! the same mail, and only the holder of a claim may record its outcome. A lease that ran out
//! means its sender stopped mid-send; the mail is then claimed again (delivery is at least once).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Row};
use uuid::Uuid;

use super::Mail;
use crate::error::Result;

/// The longest error text kept on a row.
const ERROR_CHARS: usize = 2000;

/// Writes `mail` into the outbox within the caller's transaction, due now.
pub async fn queue(db: &mut PgConnection, mail: &Mail) -> Result<Uuid> {
    let id = Uuid::now_v7();
    insert(db, id, mail, true).await?;
    Ok(id)
}

/// Like [`queue`], but writes the row only if `send`. The statement runs either way, so a
/// request whose answer must not tell which case it was in does the same work in both.
pub async fn queue_if(db: &mut PgConnection, mail: &Mail, send: bool) -> Result<Option<Uuid>> {
    let id = Uuid::now_v7();
    Ok(insert(db, id, mail, send).await?.then_some(id))
}

async fn insert(db: &mut PgConnection, id: Uuid, mail: &Mail, send: bool) -> Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO mail_outbox (id, kind, recipient, subject, text_body, html_body)
         SELECT $1, $2, $3, $4, $5, $6 WHERE $7",
    )
    .bind(id)
    .bind(mail.kind)
    .bind(&mail.to)
    .bind(&mail.subject)
    .bind(&mail.text)
    .bind(&mail.html)
    .bind(send)
    .execute(db)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// A mail claimed for one attempt.
#[derive(Debug, Clone)]
pub struct QueuedMail {
    pub id: Uuid,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub created_at: DateTime<Utc>,
    /// Attempts started, this one included.
    pub attempts: i32,
    /// The claim: only it may record the attempt's outcome.
    pub lease: Uuid,
}

/// Claims the mail due first, if any, for `lease`: its attempt count goes up now, so an attempt
/// that never reports back still counts. Mails that used up `max_attempts` are not claimed.
pub async fn claim_next(
    db: &PgPool,
    lease: Duration,
    max_attempts: i32,
) -> Result<Option<QueuedMail>> {
    let claim = Uuid::new_v4();
    let row = sqlx::query(
        "UPDATE mail_outbox m
            SET attempts = m.attempts + 1,
                leased_by = $1,
                leased_until = now() + make_interval(secs => $2),
                last_error = CASE WHEN m.leased_until IS NULL THEN m.last_error
                                  ELSE 'the previous attempt did not finish (its sender stopped)' END
          WHERE m.id = (SELECT id FROM mail_outbox
                         WHERE sent_at IS NULL AND failed_at IS NULL
                           AND next_attempt_at <= now()
                           AND (leased_until IS NULL OR leased_until < now())
                           AND attempts < $3
                         ORDER BY next_attempt_at, id
                         LIMIT 1
                         FOR UPDATE SKIP LOCKED)
         RETURNING m.id, m.kind, m.recipient, m.subject, m.text_body, m.html_body, m.created_at,
                   m.attempts",
    )
    .bind(claim)
    .bind(lease.as_secs_f64())
    .bind(max_attempts)
    .fetch_optional(db)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(QueuedMail {
        id: row.try_get("id")?,
        kind: row.try_get("kind")?,
        recipient: row.try_get("recipient")?,
        subject: row.try_get("subject")?,
        text: row.try_get("text_body")?,
        html: row.try_get("html_body")?,
        created_at: row.try_get("created_at")?,
        attempts: row.try_get("attempts")?,
        lease: claim,
    }))
}

/// Records the delivery and drops the bodies (their link is no business of the database any
/// more). `false` if the claim had lapsed and another sender owns the mail now.
pub async fn mark_sent(db: &PgPool, mail: &QueuedMail) -> Result<bool> {
    let updated = sqlx::query(
        "UPDATE mail_outbox
            SET sent_at = now(), leased_by = NULL, leased_until = NULL,
                text_body = NULL, html_body = NULL
          WHERE id = $1 AND leased_by = $2",
    )
    .bind(mail.id)
    .bind(mail.lease)
    .execute(db)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Records a failed attempt and makes the mail due again after `delay`.
pub async fn retry_later(
    db: &PgPool,
    mail: &QueuedMail,
    delay: Duration,
    error: &str,
) -> Result<bool> {
    let updated = sqlx::query(
        "UPDATE mail_outbox
            SET next_attempt_at = now() + make_interval(secs => $3), last_error = $4,
                leased_by = NULL, leased_until = NULL
          WHERE id = $1 AND leased_by = $2",
    )
    .bind(mail.id)
    .bind(mail.lease)
    .bind(delay.as_secs_f64())
    .bind(truncate(error))
    .execute(db)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Records the last failed attempt: the mail stays, failed, for inspection.
pub async fn give_up(db: &PgPool, mail: &QueuedMail, error: &str) -> Result<bool> {
    let updated = sqlx::query(
        "UPDATE mail_outbox
            SET failed_at = now(), last_error = $3, leased_by = NULL, leased_until = NULL
          WHERE id = $1 AND leased_by = $2",
    )
    .bind(mail.id)
    .bind(mail.lease)
    .bind(truncate(error))
    .execute(db)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Marks failed the mails whose last allowed attempt never reported back (its sender stopped
/// and the lease ran out). Returns their kinds, one per mail.
pub async fn give_up_abandoned(db: &PgPool, max_attempts: i32) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "UPDATE mail_outbox
            SET failed_at = now(), leased_by = NULL, leased_until = NULL,
                last_error = 'the last attempt did not finish (its sender stopped)'
          WHERE sent_at IS NULL AND failed_at IS NULL
            AND attempts >= $1 AND leased_until < now()
         RETURNING kind",
    )
    .bind(max_attempts)
    .fetch_all(db)
    .await?)
}

/// Deletes sent and failed mails older than `retention`.
pub async fn purge(db: &PgPool, retention: Duration) -> Result<u64> {
    let deleted = sqlx::query(
        "DELETE FROM mail_outbox
          WHERE sent_at < now() - make_interval(secs => $1)
             OR failed_at < now() - make_interval(secs => $1)",
    )
    .bind(retention.as_secs_f64())
    .execute(db)
    .await?
    .rows_affected();
    Ok(deleted)
}

/// How the outbox stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backlog {
    /// Mails not sent yet that will still be tried.
    pub pending: i64,
    /// Mails given up and kept for inspection.
    pub failed: i64,
    /// How long the oldest pending mail has waited, in seconds (0 without any).
    pub oldest_pending_seconds: f64,
}

pub async fn backlog(db: &PgPool) -> Result<Backlog> {
    let row = sqlx::query(
        "SELECT (SELECT count(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL)
                    AS pending,
                (SELECT count(*) FROM mail_outbox WHERE failed_at IS NOT NULL) AS failed,
                (SELECT coalesce(extract(epoch FROM now() - min(created_at))::float8, 0)
                   FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL)
                    AS oldest_pending_seconds",
    )
    .fetch_one(db)
    .await?;
    Ok(Backlog {
        pending: row.try_get("pending")?,
        failed: row.try_get("failed")?,
        oldest_pending_seconds: row.try_get("oldest_pending_seconds")?,
    })
}

fn truncate(error: &str) -> String {
    error.chars().take(ERROR_CHARS).collect()
}
