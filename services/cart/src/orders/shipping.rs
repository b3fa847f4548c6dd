//! Shipping a confirmed order captures its payment: the money is taken when the goods leave,
//! as most shops with authorize-then-capture do. The capture happens under the order's row
//! lock and is idempotent by order id, so a retried request (or one that failed after the
//! capture) captures once and ships once.

use super::status::{Actor, OrderStatus};
use super::{Move, Order, lock_for_move, store};
use crate::AppState;
use crate::error::Error;
use crate::ids::OrderId;
use crate::outbox;
use crate::payments::PaymentError;

/// Moves a CONFIRMED order to SHIPPED, capturing its total.
pub async fn ship(
    state: &AppState,
    id: &OrderId,
    expected_version: Option<i64>,
) -> Result<Order, Error> {
    let mut tx = state.db.begin().await?;
    let order = match lock_for_move(
        &mut tx,
        id,
        OrderStatus::Shipped,
        Actor::Admin,
        expected_version,
    )
    .await?
    {
        Move::AlreadyThere(order) => return Ok(order),
        Move::Allowed(order) => order,
    };
    let captured = tokio::time::timeout(
        state.checkout.payment_timeout,
        state.payments.capture(id, order.total),
    )
    .await
    .unwrap_or_else(|_| Err(PaymentError::Failed("no answer in time".into())));
    match captured {
        Ok(()) => {}
        Err(PaymentError::Declined(why)) => return Err(Error::PaymentRefused(why)),
        Err(error) => return Err(Error::PaymentProvider(error.to_string())),
    }
    sqlx::query(
        "UPDATE orders SET status = 'SHIPPED', captured_amount = total_amount,
                version = version + 1, updated_at = now()
          WHERE id = $1",
    )
    .bind(id.as_uuid())
    .execute(&mut *tx)
    .await?;
    let shipped = store::load(&mut tx, id)
        .await?
        .ok_or_else(|| Error::Internal("order vanished".into()))?;
    outbox::append(&mut tx, &outbox::Event::order_shipped(&shipped)).await?;
    tx.commit().await?;
    tracing::info!(order = %id, captured = shipped.captured.amount, "order shipped, payment captured");
    Ok(shipped)
}
