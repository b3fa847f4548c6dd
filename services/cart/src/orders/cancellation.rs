//! What cancelling a confirmed order owes the outside world: the payment voided and the stock
//! returned to the catalog. The status change commits with `cancellation_pending` set; the
//! handler then settles it at once, and when a call fails (or the process dies in between) the
//! recovery loop claims the order once its lease runs out and settles it again. Both calls are
//! idempotent by order id, so a repeat never voids or restocks twice.

use sqlx::PgConnection;
use uuid::Uuid;

use super::status::{Actor, OrderStatus};
use super::{Move, Order, lock_for_move, store};
use crate::AppState;
use crate::catalog_client::CatalogError;
use crate::error::Error;
use crate::ids::OrderId;
use crate::outbox;

/// Cancels a CONFIRMED order on behalf of `actor` (an admin, or the shopper who owns it): the
/// status change, the compensation mark and `OrderCancelled` commit together, then the payment
/// is voided and the stock returned at once (or by the recovery loop, if that fails).
pub async fn cancel(
    state: &AppState,
    id: &OrderId,
    actor: Actor,
    by: &str,
    reason: Option<&str>,
    expected_version: Option<i64>,
) -> Result<Order, Error> {
    let mut tx = state.db.begin().await?;
    match lock_for_move(&mut tx, id, OrderStatus::Cancelled, actor, expected_version).await? {
        Move::AlreadyThere(order) => return Ok(order),
        Move::Allowed(_) => {}
    }
    record(&mut tx, id, state.checkout.saga_lease).await?;
    let order = store::load(&mut tx, id)
        .await?
        .ok_or_else(|| Error::Internal("order vanished".into()))?;
    outbox::append(&mut tx, &outbox::Event::order_cancelled(&order, by, reason)).await?;
    tx.commit().await?;
    if let Err(error) = settle(state, id).await {
        // The order is cancelled; the recovery loop finishes the compensation.
        tracing::warn!(%error, order = %id, "compensating a cancelled order failed; will retry");
        if let Err(error) = retry_later(state, id).await {
            tracing::warn!(%error, order = %id, "could not schedule the retry");
        }
    }
    Ok(order)
}

/// Marks a CONFIRMED order CANCELLED with its compensation pending, owned by the caller for
/// one saga lease. Runs in the caller's transaction.
pub async fn record(
    tx: &mut PgConnection,
    order: &OrderId,
    lease: std::time::Duration,
) -> Result<(), Error> {
    sqlx::query(
        "UPDATE orders SET status = 'CANCELLED', cancellation_pending = true,
                lease_until = now() + make_interval(secs => $2),
                version = version + 1, updated_at = now()
          WHERE id = $1",
    )
    .bind(order.as_uuid())
    .bind(lease.as_secs_f64())
    .execute(tx)
    .await?;
    Ok(())
}

/// Voids the payment and returns the stock, then clears the pending mark.
pub async fn settle(state: &AppState, order: &OrderId) -> Result<(), Error> {
    state
        .payments
        .void(order)
        .await
        .map_err(|e| Error::Internal(format!("voiding the payment failed: {e}")))?;
    match state.catalog.return_stock(order).await {
        Ok(()) => {}
        Err(error @ CatalogError::Refused { .. }) => {
            // A confirmed order's stock is always committed; nothing sensible is left to retry.
            tracing::error!(%order, %error, "the catalog has no committed stock to return");
        }
        Err(error) => return Err(error.into()),
    }
    sqlx::query("UPDATE orders SET cancellation_pending = false WHERE id = $1")
        .bind(order.as_uuid())
        .execute(&state.db)
        .await?;
    tracing::info!(%order, "cancelled order compensated");
    Ok(())
}

/// Takes over one cancelled order whose compensation is pending and whose lease ran out.
pub async fn claim_pending(state: &AppState) -> Result<Option<OrderId>, Error> {
    let claimed: Option<Uuid> = sqlx::query_scalar(
        "UPDATE orders SET lease_until = now() + make_interval(secs => $1)
          WHERE id = (SELECT id FROM orders
                       WHERE cancellation_pending AND lease_until < now()
                       ORDER BY lease_until LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING id",
    )
    .bind(state.checkout.saga_lease.as_secs_f64())
    .fetch_optional(&state.db)
    .await?;
    Ok(claimed.map(OrderId::from))
}

/// After a failed attempt, when the recovery loop may try again.
pub async fn retry_later(state: &AppState, order: &OrderId) -> Result<(), Error> {
    sqlx::query(
        "UPDATE orders SET lease_until = now() + make_interval(secs => $2)
          WHERE id = $1 AND cancellation_pending",
    )
    .bind(order.as_uuid())
    .bind(state.checkout.suspend_backoff.as_secs_f64())
    .execute(&state.db)
    .await?;
    Ok(())
}
