//! Registered endpoints in PostgreSQL. The secret is generated here (32 random bytes) and shown
//! to admins only on the endpoint's own page, never in lists.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, Row};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::Error;

/// What a store can subscribe to.
pub const EVENT_TYPES: &[&str] = &[
    "order.placed",
    "order.cancelled",
    "order.shipped",
    "order.expired",
    "order.refunded",
    "product.changed",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    pub url: String,
    pub description: String,
    pub events: Vec<String>,
    pub enabled: bool,
    /// `whsec_…`; present only when one endpoint is read (or just created).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, url, description, events, enabled, secret, version, created_at, updated_at";

fn from_row(row: &sqlx::postgres::PgRow, with_secret: bool) -> Result<Endpoint, Error> {
    Ok(Endpoint {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        description: row.try_get("description")?,
        events: row.try_get("events")?,
        enabled: row.try_get("enabled")?,
        secret: if with_secret {
            Some(row.try_get("secret")?)
        } else {
            None
        },
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// A fresh signing secret: `whsec_` and 32 random bytes in hex.
pub fn generate_secret() -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("whsec_{hex}"))
}

pub struct NewEndpoint<'a> {
    pub url: &'a str,
    pub description: &'a str,
    pub events: &'a [String],
    pub enabled: bool,
    pub idempotency_key: Option<&'a str>,
}

/// Inserts the endpoint; with an idempotency key already used, returns the endpoint it made
/// (`false`: not created now).
pub async fn insert(
    conn: &mut PgConnection,
    new: &NewEndpoint<'_>,
) -> Result<(Endpoint, bool), Error> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO webhook_endpoints (id, url, description, events, secret, enabled, idempotency_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING {COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(new.url)
    .bind(new.description)
    .bind(new.events)
    .bind(generate_secret()?)
    .bind(new.enabled)
    .bind(new.idempotency_key)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = row {
        return Ok((from_row(&row, true)?, true));
    }
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE idempotency_key = $1"
    )))
    .bind(new.idempotency_key)
    .fetch_one(&mut *conn)
    .await?;
    Ok((from_row(&row, true)?, false))
}

pub async fn load(conn: &mut PgConnection, id: Uuid) -> Result<Option<Endpoint>, Error> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| from_row(&r, true)).transpose()
}

/// Every endpoint, newest first (a store has a handful).
pub async fn list(conn: &mut PgConnection) -> Result<Vec<Endpoint>, Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints ORDER BY id DESC LIMIT 100"
    )))
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| from_row(r, false)).collect()
}

pub struct EndpointChange<'a> {
    pub url: Option<&'a str>,
    pub description: Option<&'a str>,
    pub events: Option<&'a [String]>,
    pub enabled: Option<bool>,
    pub rotate_secret: bool,
}

/// Applies a change; `None` when the endpoint does not exist.
pub async fn update(
    conn: &mut PgConnection,
    id: Uuid,
    change: &EndpointChange<'_>,
) -> Result<Option<Endpoint>, Error> {
    let secret = if change.rotate_secret {
        Some(generate_secret()?)
    } else {
        None
    };
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE webhook_endpoints
            SET url = COALESCE($2, url), description = COALESCE($3, description),
                events = COALESCE($4, events), enabled = COALESCE($5, enabled),
                secret = COALESCE($6, secret), version = version + 1, updated_at = now()
          WHERE id = $1
         RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(change.url)
    .bind(change.description)
    .bind(change.events)
    .bind(change.enabled)
    .bind(secret)
    .fetch_optional(conn)
    .await?;
    row.map(|r| from_row(&r, true)).transpose()
}

pub async fn delete(conn: &mut PgConnection, id: Uuid) -> Result<bool, Error> {
    let deleted = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(deleted == 1)
}
