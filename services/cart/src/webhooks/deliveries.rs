//! Deliveries: one row per (endpoint, event), sent by the dispatcher until the receiver answers
//! 2xx or the attempts run out. An attempt is claimed with a lease token (`FOR UPDATE SKIP
//! LOCKED`), so two replicas never send the same attempt; its outcome is recorded only by the
//! holder of that token. Failed attempts are retried with exponential backoff and jitter.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool, Row};
use utoipa::ToSchema;
use uuid::Uuid;

use super::client::{self, BODY_EXCERPT};
use super::signature::{
    self, DELIVERY_ID_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER,
};
use crate::config::WebhookSettings;
use crate::error::Error;

/// How long a claimed attempt is its claimer's (well above the request timeout).
const LEASE: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    fn parse(value: &str) -> Result<Self, Error> {
        Ok(match value {
            "pending" => Self::Pending,
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            other => return Err(Error::Internal(format!("stored delivery status {other:?}"))),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    #[schema(value_type = String, format = Uuid)]
    pub endpoint_id: Uuid,
    #[schema(value_type = String, format = Uuid)]
    pub event_id: Uuid,
    pub event_type: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    /// When the next attempt is due (pending deliveries only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub last_duration_ms: Option<i64>,
    /// The exact body that is signed and sent.
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, endpoint_id, event_id, event_type, status, attempts, next_attempt_at,
    last_status_code, last_error, last_duration_ms, body, created_at, updated_at";

fn from_row(row: &sqlx::postgres::PgRow) -> Result<Delivery, Error> {
    let status = DeliveryStatus::parse(row.try_get("status")?)?;
    Ok(Delivery {
        id: row.try_get("id")?,
        endpoint_id: row.try_get("endpoint_id")?,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        status,
        attempts: row.try_get("attempts")?,
        next_attempt_at: if status == DeliveryStatus::Pending {
            Some(row.try_get("next_attempt_at")?)
        } else {
            None
        },
        last_status_code: row.try_get("last_status_code")?,
        last_error: row.try_get("last_error")?,
        last_duration_ms: row.try_get("last_duration_ms")?,
        body: row.try_get("body")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The JSON body of an event, as every endpoint receives it.
pub fn event_body(
    event_id: Uuid,
    event_type: &str,
    occurred_at: DateTime<Utc>,
    data: &serde_json::Value,
) -> String {
    serde_json::json!({
        "id": event_id,
        "type": event_type,
        "createdAt": occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string()
}

/// Queues the event for every enabled endpoint subscribed to its type. Idempotent: an event id
/// already queued for an endpoint is not queued again. Returns how many were queued.
pub async fn enqueue(
    conn: &mut PgConnection,
    event_id: Uuid,
    event_type: &str,
    body: &str,
) -> Result<u64, Error> {
    let endpoints: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM webhook_endpoints WHERE enabled AND $1 = ANY (events) ORDER BY id",
    )
    .bind(event_type)
    .fetch_all(&mut *conn)
    .await?;
    if endpoints.is_empty() {
        return Ok(0);
    }
    // Time-ordered ids, so an endpoint's log lists its newest deliveries first.
    let ids: Vec<Uuid> = endpoints.iter().map(|_| Uuid::now_v7()).collect();
    let queued = sqlx::query(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, body)
         SELECT d.id, d.endpoint_id, $3, $4, $5 FROM unnest($1::uuid[], $2::uuid[]) AS d(id, endpoint_id)
         ON CONFLICT (endpoint_id, event_id) DO NOTHING",
    )
    .bind(&ids)
    .bind(&endpoints)
    .bind(event_id)
    .bind(event_type)
    .bind(body)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(queued)
}

/// Queues one delivery to one endpoint (a test ping); returns its id.
pub async fn enqueue_to(
    conn: &mut PgConnection,
    endpoint: Uuid,
    event_id: Uuid,
    event_type: &str,
    body: &str,
) -> Result<Uuid, Error> {
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, body)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(endpoint)
    .bind(event_id)
    .bind(event_type)
    .bind(body)
    .execute(conn)
    .await?;
    Ok(id)
}

/// A page of an endpoint's deliveries, newest first.
pub async fn list(
    conn: &mut PgConnection,
    endpoint: Uuid,
    status: Option<DeliveryStatus>,
    before: Option<Uuid>,
    limit: u32,
) -> Result<Vec<Delivery>, Error> {
    let status = status.map(|s| match s {
        DeliveryStatus::Pending => "pending",
        DeliveryStatus::Succeeded => "succeeded",
        DeliveryStatus::Failed => "failed",
    });
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_deliveries
          WHERE endpoint_id = $1 AND ($2::text IS NULL OR status = $2)
            AND ($3::uuid IS NULL OR id < $3)
          ORDER BY id DESC LIMIT $4"
    )))
    .bind(endpoint)
    .bind(status)
    .bind(before)
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn load(conn: &mut PgConnection, id: Uuid) -> Result<Option<Delivery>, Error> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_deliveries WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| from_row(&r)).transpose()
}

/// Makes a delivery due now again, whatever it ended as (the admin's replay). The event keeps
/// its id, so a receiver that deduplicates by `Storefront-Event-Id` still can.
pub async fn schedule_now(db: &PgPool, id: Uuid) -> Result<bool, Error> {
    let updated = sqlx::query(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .execute(db)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// The delay before attempt `attempt + 1` after `attempt` failures: `base · 2^(attempt-1)`
/// capped at `max`, of which a random half is jitter ("equal jitter"), so receivers that
/// recover do not get every retry at once.
pub fn backoff(settings: &WebhookSettings, attempt: i32, random: f64) -> Duration {
    let exponent = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(30);
    let full = settings
        .backoff
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(settings.backoff_max);
    let half = full / 2;
    half + half.mul_f64(random.clamp(0.0, 1.0))
}

fn random_unit() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

/// A claimed attempt: what to send where, and the token that owns it.
#[derive(Debug, Clone)]
struct Claimed {
    id: Uuid,
    token: Uuid,
    event_id: Uuid,
    event_type: String,
    body: String,
    attempts: i32,
    url: String,
    secret: String,
    enabled: bool,
}

const CLAIM_RETURNING: &str = "RETURNING d.id, d.event_id, d.event_type, d.body, d.attempts,
    (SELECT url FROM webhook_endpoints WHERE id = d.endpoint_id) AS url,
    (SELECT secret FROM webhook_endpoints WHERE id = d.endpoint_id) AS secret,
    (SELECT enabled FROM webhook_endpoints WHERE id = d.endpoint_id) AS enabled";

fn claimed(row: &sqlx::postgres::PgRow, token: Uuid) -> Result<Claimed, Error> {
    Ok(Claimed {
        id: row.try_get("id")?,
        token,
        event_id: row.try_get("event_id")?,
        event_type: row.try_get("event_type")?,
        body: row.try_get("body")?,
        attempts: row.try_get("attempts")?,
        url: row.try_get("url")?,
        secret: row.try_get("secret")?,
        enabled: row.try_get("enabled")?,
    })
}

/// Claims up to `batch` due deliveries for this dispatcher.
async fn claim_due(db: &PgPool, batch: i64) -> Result<Vec<Claimed>, Error> {
    let token = Uuid::new_v4();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE webhook_deliveries d SET lease_token = $1,
                lease_until = now() + make_interval(secs => $2)
          WHERE d.id IN (SELECT id FROM webhook_deliveries
                          WHERE status = 'pending' AND next_attempt_at <= now()
                            AND (lease_until IS NULL OR lease_until < now())
                          ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
         {CLAIM_RETURNING}"
    )))
    .bind(token)
    .bind(LEASE.as_secs_f64())
    .bind(batch)
    .fetch_all(db)
    .await?;
    rows.iter().map(|row| claimed(row, token)).collect()
}

/// Claims one delivery now, if no attempt of it is on the wire.
async fn claim_one(db: &PgPool, id: Uuid) -> Result<Option<Claimed>, Error> {
    let token = Uuid::new_v4();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE webhook_deliveries d SET lease_token = $1,
                lease_until = now() + make_interval(secs => $2)
          WHERE d.id = (SELECT id FROM webhook_deliveries
                         WHERE id = $3 AND (lease_until IS NULL OR lease_until < now())
                         FOR UPDATE SKIP LOCKED)
         {CLAIM_RETURNING}"
    )))
    .bind(token)
    .bind(LEASE.as_secs_f64())
    .bind(id)
    .fetch_optional(db)
    .await?;
    row.map(|row| claimed(&row, token)).transpose()
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    pub status_code: Option<u16>,
    pub error: Option<String>,
    pub duration: Duration,
}

impl AttemptOutcome {
    pub fn succeeded(&self) -> bool {
        self.status_code.is_some_and(|c| (200..300).contains(&c))
    }
}

/// Sends one signed attempt. Never follows a redirect; a 3xx counts as a failure.
async fn send(
    http: &reqwest::Client,
    settings: &WebhookSettings,
    delivery: &Claimed,
) -> AttemptOutcome {
    let started = Instant::now();
    let failed = |error: String| AttemptOutcome {
        status_code: None,
        error: Some(error),
        duration: started.elapsed(),
    };
    if let Err(error) = client::check_form(&delivery.url, settings.allow_private_targets) {
        return failed(format!("refused: {error}"));
    }
    let signed = match signature::sign(
        &delivery.secret,
        Utc::now().timestamp(),
        delivery.body.as_bytes(),
    ) {
        Ok(signed) => signed,
        Err(error) => return failed(error.to_string()),
    };
    let response = http
        .post(&delivery.url)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signed)
        .header(EVENT_ID_HEADER, delivery.event_id.to_string())
        .header(EVENT_TYPE_HEADER, &delivery.event_type)
        .header(DELIVERY_ID_HEADER, delivery.id.to_string())
        .body(delivery.body.clone())
        .send()
        .await;
    match response {
        Ok(response) => {
            let code = response.status().as_u16();
            let excerpt = client::read_excerpt(response, BODY_EXCERPT).await;
            AttemptOutcome {
                status_code: Some(code),
                error: if (200..300).contains(&code) {
                    None
                } else if (300..400).contains(&code) {
                    Some("redirects are not followed".to_owned())
                } else if excerpt.is_empty() {
                    None
                } else {
                    Some(excerpt)
                },
                duration: started.elapsed(),
            }
        }
        Err(error) => failed(client::describe(&error)),
    }
}

/// Records the attempt's outcome if this claim still owns the delivery.
async fn record(
    db: &PgPool,
    settings: &WebhookSettings,
    delivery: &Claimed,
    outcome: &AttemptOutcome,
) -> Result<(), Error> {
    let attempt = delivery.attempts + 1;
    let (status, next) = if outcome.succeeded() {
        ("succeeded", Duration::ZERO)
    } else if attempt >= settings.max_attempts || !delivery.enabled {
        ("failed", Duration::ZERO)
    } else {
        ("pending", backoff(settings, attempt, random_unit()))
    };
    let duration_ms = i64::try_from(outcome.duration.as_millis()).unwrap_or(i64::MAX);
    let code = outcome.status_code.map(i32::from);
    let mut tx = db.begin().await?;
    let updated = sqlx::query(
        "UPDATE webhook_deliveries
            SET attempts = $3, status = $4, next_attempt_at = now() + make_interval(secs => $5),
                last_status_code = $6, last_error = $7, last_duration_ms = $8,
                lease_token = NULL, lease_until = NULL, updated_at = now()
          WHERE id = $1 AND lease_token = $2",
    )
    .bind(delivery.id)
    .bind(delivery.token)
    .bind(attempt)
    .bind(status)
    .bind(next.as_secs_f64())
    .bind(code)
    .bind(&outcome.error)
    .bind(duration_ms)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 1 {
        sqlx::query(
            "INSERT INTO webhook_attempts (delivery_id, attempt, status_code, error, duration_ms)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(delivery.id)
        .bind(attempt)
        .bind(code)
        .bind(&outcome.error)
        .bind(duration_ms)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    metrics::counter!("cart_webhook_attempts_total", "outcome" => status).increment(1);
    Ok(())
}

async fn attempt(
    db: &PgPool,
    http: &reqwest::Client,
    settings: &WebhookSettings,
    delivery: &Claimed,
) -> Result<AttemptOutcome, Error> {
    let outcome = if delivery.enabled {
        send(http, settings, delivery).await
    } else {
        AttemptOutcome {
            status_code: None,
            error: Some("the endpoint is disabled".to_owned()),
            duration: Duration::ZERO,
        }
    };
    record(db, settings, delivery, &outcome).await?;
    Ok(outcome)
}

/// Sends every due delivery (up to `batch`, concurrently); returns how many attempts were made.
pub async fn dispatch_once(
    db: &PgPool,
    http: &reqwest::Client,
    settings: &WebhookSettings,
    batch: i64,
) -> Result<usize, Error> {
    let due = claim_due(db, batch).await?;
    let results = futures::future::join_all(
        due.iter()
            .map(|delivery| attempt(db, http, settings, delivery)),
    )
    .await;
    for result in &results {
        if let Err(error) = result {
            tracing::warn!(%error, "recording a webhook attempt failed");
        }
    }
    Ok(due.len())
}

/// Attempts one delivery right away (test pings, replays). `None` when an attempt of it is
/// already on the wire.
pub async fn attempt_now(
    db: &PgPool,
    http: &reqwest::Client,
    settings: &WebhookSettings,
    id: Uuid,
) -> Result<Option<AttemptOutcome>, Error> {
    let Some(delivery) = claim_one(db, id).await? else {
        return Ok(None);
    };
    attempt(db, http, settings, &delivery).await.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let settings = WebhookSettings {
            backoff: Duration::from_secs(10),
            backoff_max: Duration::from_secs(3600),
            ..WebhookSettings::default()
        };
        assert_eq!(backoff(&settings, 1, 0.0), Duration::from_secs(5));
        assert_eq!(backoff(&settings, 1, 1.0), Duration::from_secs(10));
        assert_eq!(backoff(&settings, 2, 1.0), Duration::from_secs(20));
        assert_eq!(backoff(&settings, 4, 0.5), Duration::from_secs(60));
        assert_eq!(backoff(&settings, 20, 1.0), Duration::from_secs(3600));
        assert_eq!(backoff(&settings, i32::MAX, 0.0), Duration::from_secs(1800));
        for _ in 0..100 {
            let r = random_unit();
            assert!((0.0..1.0).contains(&r));
        }
    }

    #[test]
    fn the_body_names_the_event() {
        let id = Uuid::nil();
        let at = DateTime::parse_from_rfc3339("2026-11-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let body = event_body(
            id,
            "order.placed",
            at,
            &serde_json::json!({"orderId": "o1"}),
        );
        let value: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["type"], "order.placed");
        assert_eq!(value["createdAt"], "2026-11-01T10:00:00.000Z");
        assert_eq!(value["data"]["orderId"], "o1");
    }
}
