//! Idempotency keys for checkout, per caller. The first request with a key claims it; a replay
//! gets the stored first answer byte for byte; the same key with a different body is refused;
//! a duplicate arriving while the first is still running waits a little for its answer, then
//! gets 409. A key abandoned by a crash before its order existed is taken over after a while.

use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

use crate::error::Error;
use crate::ids::{IdempotencyKey, OrderId};

/// How long an in-flight key without an order may sit before another request takes it over.
const ABANDONED_AFTER: Duration = Duration::from_secs(30);
const POLL_EVERY: Duration = Duration::from_millis(25);

/// The answer stored for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// This request owns the key: run it.
    Started,
    /// Answered before: send this again.
    Replay(StoredResponse),
}

/// A stable digest of what the request asks for.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub async fn begin(
    db: &PgPool,
    user: &str,
    key: &IdempotencyKey,
    fingerprint: &str,
    wait: Duration,
) -> Result<Begin, Error> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys (user_id, key, fingerprint) VALUES ($1, $2, $3)
             ON CONFLICT (user_id, key) DO NOTHING",
        )
        .bind(user)
        .bind(key.as_str())
        .bind(fingerprint)
        .execute(db)
        .await?
        .rows_affected();
        if claimed == 1 {
            return Ok(Begin::Started);
        }
        let existing: Option<(String, Option<i32>, Option<String>)> = sqlx::query_as(
            "SELECT fingerprint, response_status, response_body FROM idempotency_keys
              WHERE user_id = $1 AND key = $2",
        )
        .bind(user)
        .bind(key.as_str())
        .fetch_optional(db)
        .await?;
        // Deleted between our insert and select (an abandoned attempt): claim it again.
        let Some((stored_fingerprint, status, body)) = existing else {
            continue;
        };
        if stored_fingerprint != fingerprint {
            return Err(Error::IdempotencyKeyReused);
        }
        if let (Some(status), Some(body)) = (status, body) {
            let status = u16::try_from(status)
                .map_err(|_| Error::Internal(format!("stored status {status}")))?;
            return Ok(Begin::Replay(StoredResponse { status, body }));
        }
        let taken_over = sqlx::query(
            "UPDATE idempotency_keys SET locked_at = now()
              WHERE user_id = $1 AND key = $2 AND order_id IS NULL AND response_status IS NULL
                AND locked_at < now() - make_interval(secs => $3)",
        )
        .bind(user)
        .bind(key.as_str())
        .bind(ABANDONED_AFTER.as_secs_f64())
        .execute(db)
        .await?
        .rows_affected();
        if taken_over == 1 {
            return Ok(Begin::Started);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Error::IdempotencyInFlight);
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Links the key to the order it created (inside the order's transaction).
pub async fn attach_order(
    conn: &mut PgConnection,
    user: &str,
    key: &str,
    order: &OrderId,
) -> Result<(), Error> {
    sqlx::query("UPDATE idempotency_keys SET order_id = $3 WHERE user_id = $1 AND key = $2")
        .bind(user)
        .bind(key)
        .bind(order.as_uuid())
        .execute(conn)
        .await?;
    Ok(())
}

/// Stores the answer (inside the transaction that settles the order). An interim 202 (the
/// order awaits the shopper's payment) is replaced by the final answer once there is one.
pub async fn complete(
    conn: &mut PgConnection,
    user: &str,
    key: &str,
    response: &StoredResponse,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE idempotency_keys SET response_status = $3, response_body = $4, completed_at = now()
          WHERE user_id = $1 AND key = $2 AND (response_status IS NULL OR response_status = 202)",
    )
    .bind(user)
    .bind(key)
    .bind(i32::from(response.status))
    .bind(&response.body)
    .execute(conn)
    .await?;
    Ok(())
}

/// Frees a key whose request failed before creating an order (nothing happened, so the client
/// may retry with the same key).
pub async fn abandon(db: &PgPool, user: &str, key: &IdempotencyKey) -> Result<(), Error> {
    sqlx::query(
        "DELETE FROM idempotency_keys
          WHERE user_id = $1 AND key = $2 AND order_id IS NULL AND response_status IS NULL",
    )
    .bind(user)
    .bind(key.as_str())
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets answers older than `age` (clients retry within minutes, not days).
pub async fn purge(db: &PgPool, age: Duration) -> Result<u64, Error> {
    Ok(sqlx::query(
        "DELETE FROM idempotency_keys
          WHERE completed_at < now() - make_interval(secs => $1)",
    )
    .bind(age.as_secs_f64())
    .execute(db)
    .await?
    .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_separate_their_parts() {
        assert_eq!(fingerprint(&["a", "bc"]), fingerprint(&["a", "bc"]));
        assert_ne!(fingerprint(&["a", "bc"]), fingerprint(&["ab", "c"]));
        assert_eq!(fingerprint(&[]).len(), 64);
    }
}
