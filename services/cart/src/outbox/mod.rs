//! Events about orders, written to the `outbox` table in the same transaction as the change
//! they announce, then relayed to a Redis stream. The relay is at-least-once (a crash between
//! publishing and stamping publishes again), so every event carries a unique id and consumers
//! ([`consumer`]) drop ids they have already handled.

pub mod consumer;

use std::time::Duration;

use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool, Row};
use storefront_kit::Shutdown;
use uuid::Uuid;

use crate::error::Error;
use crate::orders::Order;

pub const ORDER_PLACED: &str = "OrderPlaced";
pub const ORDER_CANCELLED: &str = "OrderCancelled";
pub const ORDER_SHIPPED: &str = "OrderShipped";
pub const ORDER_EXPIRED: &str = "OrderExpired";
pub const ORDER_REFUNDED: &str = "OrderRefunded";

/// The name of the orders stream under a key prefix.
pub fn stream_name(prefix: &str) -> String {
    format!("{prefix}events:orders")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub aggregate_id: String,
    pub payload: serde_json::Value,
}

impl Event {
    fn new(event_type: &str, order: &Order, payload: serde_json::Value) -> Self {
        Self {
            id: Uuid::now_v7(),
            event_type: event_type.to_owned(),
            aggregate_id: order.id.to_string(),
            payload,
        }
    }

    pub fn order_placed(order: &Order) -> Self {
        Self::new(
            ORDER_PLACED,
            order,
            serde_json::json!({
                "orderId": order.id,
                "userId": order.user_id,
                "lines": order.lines,
                "total": order.total,
            }),
        )
    }

    /// Carries the lines, so the catalog can return them to stock.
    pub fn order_cancelled(order: &Order, by: &str, reason: Option<&str>) -> Self {
        Self::new(
            ORDER_CANCELLED,
            order,
            serde_json::json!({
                "orderId": order.id,
                "userId": order.user_id,
                "lines": order.lines,
                "cancelledBy": by,
                "reason": reason,
            }),
        )
    }

    pub fn order_shipped(order: &Order) -> Self {
        Self::new(
            ORDER_SHIPPED,
            order,
            serde_json::json!({
                "orderId": order.id,
                "userId": order.user_id,
                "captured": order.captured,
            }),
        )
    }

    /// The payment was not completed in time; the stock is released already.
    pub fn order_expired(order: &Order) -> Self {
        Self::new(
            ORDER_EXPIRED,
            order,
            serde_json::json!({
                "orderId": order.id,
                "userId": order.user_id,
                "lines": order.lines,
                "total": order.total,
            }),
        )
    }

    /// One refund went through; `fullyRefunded` when the order is REFUNDED now.
    pub fn order_refunded(order: &Order, refund: uuid::Uuid, amount: &crate::money::Money) -> Self {
        Self::new(
            ORDER_REFUNDED,
            order,
            serde_json::json!({
                "orderId": order.id,
                "userId": order.user_id,
                "refundId": refund,
                "amount": amount,
                "refunded": order.refunded,
                "captured": order.captured,
                "fullyRefunded": order.refunded.amount == order.captured.amount,
            }),
        )
    }
}

/// Adds the event to the outbox inside the caller's transaction.
pub async fn append(conn: &mut PgConnection, event: &Event) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO outbox (id, event_type, aggregate_id, payload) VALUES ($1, $2, $3, $4)",
    )
    .bind(event.id)
    .bind(&event.event_type)
    .bind(&event.aggregate_id)
    .bind(&event.payload)
    .execute(conn)
    .await?;
    Ok(())
}

/// Publishes up to `batch` unpublished events in id order; returns how many. Rows are locked
/// (`SKIP LOCKED`) so relays on several replicas share the work instead of doubling it.
pub async fn relay_once(
    db: &PgPool,
    redis: &mut ConnectionManager,
    stream: &str,
    batch: i64,
) -> Result<usize, Error> {
    let mut tx = db.begin().await?;
    let rows = sqlx::query(
        "SELECT id, event_type, aggregate_id, payload::text AS payload FROM outbox
          WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
    )
    .bind(batch)
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut pipe = redis::pipe();
    let mut ids = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: Uuid = row.try_get("id")?;
        let event_type: String = row.try_get("event_type")?;
        let aggregate: String = row.try_get("aggregate_id")?;
        let payload: String = row.try_get("payload")?;
        pipe.cmd("XADD")
            .arg(stream)
            .arg("MAXLEN")
            .arg("~")
            .arg(1_000_000)
            .arg("*")
            .arg("id")
            .arg(id.to_string())
            .arg("type")
            .arg(event_type)
            .arg("aggregateId")
            .arg(aggregate)
            .arg("payload")
            .arg(payload)
            .ignore();
        ids.push(id);
    }
    pipe.query_async::<()>(redis).await?;
    sqlx::query("UPDATE outbox SET published_at = now() WHERE id = ANY($1)")
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(ids.len())
}

/// Relays until shutdown, draining the backlog before sleeping `every`.
pub async fn run_relay(
    db: PgPool,
    mut redis: ConnectionManager,
    stream: String,
    every: Duration,
    shutdown: Shutdown,
) {
    loop {
        let published = match relay_once(&db, &mut redis, &stream, 200).await {
            Ok(n) => n,
            Err(error) => {
                tracing::warn!(%error, "outbox relay failed");
                0
            }
        };
        if published > 0 {
            tracing::debug!(published, "outbox events published");
            continue;
        }
        tokio::select! {
            () = shutdown.wait() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}
