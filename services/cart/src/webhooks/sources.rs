//! Where webhook events come from, turned into queued deliveries:
//! - order events, read from the cart's own events stream as the consumer group `webhooks`
//!   (at-least-once; the delivery table's unique (endpoint, event) pair drops repeats);
//! - `product.changed`, by following the catalog's change feed the way search does, with the
//!   checkpoint in `webhook_checkpoints`. A store without a checkpoint starts at the feed's end:
//!   endpoints hear of changes made after webhooks were switched on, not the whole history.

use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use super::deliveries;
use crate::AppState;
use crate::error::Error;
use crate::outbox::{self, Event, consumer::EventConsumer};

pub const CONSUMER_GROUP: &str = "webhooks";
const CATALOG_SOURCE: &str = "catalog.changes";
const FEED_PAGE: u32 = 200;

/// The public name of an order event (`OrderPlaced` → `order.placed`); `None` for events that
/// are not offered to webhooks.
pub fn public_name(event_type: &str) -> Option<&'static str> {
    Some(match event_type {
        outbox::ORDER_PLACED => "order.placed",
        outbox::ORDER_CANCELLED => "order.cancelled",
        outbox::ORDER_SHIPPED => "order.shipped",
        outbox::ORDER_EXPIRED => "order.expired",
        outbox::ORDER_REFUNDED => "order.refunded",
        _ => return None,
    })
}

/// Queues deliveries for one order event.
pub async fn queue_order_event(db: &PgPool, event: &Event) -> Result<u64, Error> {
    let Some(name) = public_name(&event.event_type) else {
        return Ok(0);
    };
    // UUIDv7 ids carry their creation time; the payload has no timestamp of its own.
    let occurred = uuid_time(event.id).unwrap_or_else(chrono::Utc::now);
    let body = deliveries::event_body(event.id, name, occurred, &event.payload);
    let mut conn = db.acquire().await?;
    deliveries::enqueue(&mut conn, event.id, name, &body).await
}

fn uuid_time(id: Uuid) -> Option<chrono::DateTime<chrono::Utc>> {
    let (seconds, nanos) = id.get_timestamp()?.to_unix();
    chrono::DateTime::from_timestamp(i64::try_from(seconds).ok()?, nanos)
}

/// The stream consumer for order events.
pub fn order_consumer(state: &AppState, consumer: &str) -> EventConsumer {
    EventConsumer::new(
        state.redis.clone(),
        &state.events_stream(),
        CONSUMER_GROUP,
        consumer,
        &state.redis_prefix,
    )
}

/// Reads order events until none is waiting (or `block` passed); returns how many were queued.
pub async fn queue_order_events_once(
    state: &AppState,
    consumer: &mut EventConsumer,
    block: Duration,
) -> Result<usize, Error> {
    consumer.ensure_group().await?;
    let db = state.db.clone();
    consumer
        .poll(100, block, |event| {
            let db = db.clone();
            async move { queue_order_event(&db, &event).await.map(|_| ()) }
        })
        .await
}

/// A stable event id for one catalog change, so following the feed twice (a crash before the
/// checkpoint was saved) queues nothing twice.
fn change_event_id(change: &crate::catalog_client::Change) -> Uuid {
    use sha2::{Digest, Sha256};
    let name = format!("catalog:{}:{}:{}", change.kind, change.id, change.version);
    let digest = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

async fn checkpoint(db: &PgPool) -> Result<Option<String>, Error> {
    Ok(
        sqlx::query_scalar("SELECT cursor FROM webhook_checkpoints WHERE source = $1")
            .bind(CATALOG_SOURCE)
            .fetch_optional(db)
            .await?,
    )
}

async fn save_checkpoint(db: &PgPool, cursor: &str) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO webhook_checkpoints (source, cursor) VALUES ($1, $2)
         ON CONFLICT (source) DO UPDATE SET cursor = $2, updated_at = now()",
    )
    .bind(CATALOG_SOURCE)
    .bind(cursor)
    .execute(db)
    .await?;
    Ok(())
}

/// Follows the catalog's feed one page: queues `product.changed` for every product change and
/// moves the checkpoint. Without a checkpoint it only walks to the end of the feed and stores
/// it. Returns how many changes were queued.
pub async fn follow_catalog_once(state: &AppState) -> Result<usize, Error> {
    let Some(after) = checkpoint(&state.db).await? else {
        let mut cursor: Option<String> = None;
        loop {
            let page = state.catalog.changes(cursor.as_deref(), 1000).await?;
            let done = page.items.is_empty();
            cursor = page.next_cursor.or(cursor);
            if done {
                break;
            }
        }
        save_checkpoint(&state.db, cursor.as_deref().unwrap_or("0.0")).await?;
        return Ok(0);
    };
    let page = state.catalog.changes(Some(&after), FEED_PAGE).await?;
    let mut queued = 0;
    let mut conn = state.db.acquire().await?;
    for change in &page.items {
        if change.kind != "product" {
            continue;
        }
        let id = change_event_id(change);
        let data = serde_json::json!({
            "productId": change.id,
            "version": change.version,
            "deleted": change.deleted,
            "product": change.document,
        });
        let body = deliveries::event_body(id, "product.changed", change.changed_at, &data);
        deliveries::enqueue(&mut conn, id, "product.changed", &body).await?;
        queued += 1;
    }
    if let Some(next) = page.next_cursor.filter(|next| *next != after) {
        save_checkpoint(&state.db, &next).await?;
    }
    Ok(queued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_events_get_public_names() {
        assert_eq!(public_name("OrderPlaced"), Some("order.placed"));
        assert_eq!(public_name("OrderExpired"), Some("order.expired"));
        assert_eq!(public_name("OrderRefunded"), Some("order.refunded"));
        assert_eq!(public_name("Something"), None);
        let id = Uuid::parse_str("019a3c2e-8f00-7000-8000-000000000000").unwrap();
        assert_eq!(
            uuid_time(id).unwrap().to_rfc3339(),
            "2025-10-31T21:31:15.584+00:00"
        );
    }
}
