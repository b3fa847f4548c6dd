//! Refunds of a shipped (captured) order, full or partial, never above what was captured.
//!
//! A refund is first set aside on the order (`refunded_amount` grows, under the order's row
//! lock, so two concurrent refunds cannot both pass the limit) and stored `pending` under the
//! admin's `Idempotency-Key`; then the payment provider is asked (idempotent by refund id). Its
//! yes makes the refund `succeeded`, announces `OrderRefunded` and, when everything captured is
//! given back, ends the order REFUNDED; its no makes the refund `failed` and frees the amount.
//! A refund left pending (the provider was down, the process died) is asked again by the
//! recovery loop.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, Row};
use storefront_kit::FieldError;
use utoipa::ToSchema;
use uuid::Uuid;

use super::status::{Actor, OrderStatus};
use super::{Order, store};
use crate::AppState;
use crate::checkout::idempotency;
use crate::error::Error;
use crate::ids::OrderId;
use crate::money::Money;
use crate::outbox;
use crate::payments::{PaymentError, RefundRequest};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    pub amount: Money,
    /// pending, succeeded or failed.
    pub status: String,
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Loads the refunds of the given orders into them.
pub async fn attach(conn: &mut PgConnection, orders: &mut [Order]) -> Result<(), Error> {
    if orders.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = orders.iter().map(|o| o.id.as_uuid()).collect();
    let rows = sqlx::query(
        "SELECT id, order_id, amount, status, reason, failure, created_at FROM refunds
          WHERE order_id = ANY($1) ORDER BY id",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let order_id = OrderId::from(row.try_get::<Uuid, _>("order_id")?);
        let Some(order) = orders.iter_mut().find(|o| o.id == order_id) else {
            continue;
        };
        order.refunds.push(Refund {
            id: row.try_get("id")?,
            amount: Money::new(row.try_get("amount")?, order.total.currency),
            status: row.try_get("status")?,
            reason: row.try_get("reason")?,
            failure: row.try_get("failure")?,
            created_at: row.try_get("created_at")?,
        });
    }
    Ok(())
}

/// What an admin asks for.
#[derive(Debug, Clone)]
pub struct RefundAsk<'a> {
    /// Minor units; `None` refunds everything not refunded yet.
    pub amount: Option<i64>,
    pub currency: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub requested_by: &'a str,
    pub idempotency_key: &'a str,
}

/// Whether the refund was recorded now or found under its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New(Uuid),
    Replayed(Uuid),
}

/// Sets the refund aside on the order (or finds it under its key). Nothing is asked of the
/// payment provider yet.
pub async fn record(
    state: &AppState,
    order: &OrderId,
    ask: &RefundAsk<'_>,
) -> Result<Recorded, Error> {
    let fingerprint = idempotency::fingerprint(&[
        "refund/v1",
        &ask.amount.map(|a| a.to_string()).unwrap_or_default(),
        ask.currency.unwrap_or_default(),
        ask.reason.unwrap_or_default(),
    ]);
    let mut tx = state.db.begin().await?;
    let row: Option<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT status, currency, captured_amount, refunded_amount FROM orders
          WHERE id = $1 FOR UPDATE",
    )
    .bind(order.as_uuid())
    .fetch_optional(&mut *tx)
    .await?;
    let Some((status, currency, captured, refunded)) = row else {
        return Err(Error::NotFound(format!("No order {order}.")));
    };
    let existing: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT id, fingerprint FROM refunds WHERE order_id = $1 AND idempotency_key = $2",
    )
    .bind(order.as_uuid())
    .bind(ask.idempotency_key)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some((id, stored)) = existing {
        if stored != fingerprint {
            return Err(Error::IdempotencyKeyReused);
        }
        return Ok(Recorded::Replayed(id));
    }
    let status = OrderStatus::parse(&status)
        .ok_or_else(|| Error::Internal(format!("stored status {status:?}")))?;
    if status != OrderStatus::Shipped {
        let hint = if status == OrderStatus::Confirmed {
            " Nothing was captured yet: cancel the order instead."
        } else {
            ""
        };
        return Err(Error::conflict(
            format!(
                "Only a SHIPPED order can be refunded; this one is {}.{hint}",
                status.as_str()
            ),
            vec![FieldError::new("status", "not refundable")],
        ));
    }
    if let Some(asked) = ask.currency
        && !asked.eq_ignore_ascii_case(&currency)
    {
        return Err(Error::invalid(
            "amount.currency",
            format!("must be the order's currency, {currency}"),
        ));
    }
    let remaining = captured - refunded;
    let amount = ask.amount.unwrap_or(remaining);
    if remaining <= 0 {
        return Err(Error::conflict(
            "Everything captured for this order has been refunded already.",
            vec![FieldError::new("amount", "nothing left to refund")],
        ));
    }
    if amount <= 0 || amount > remaining {
        return Err(Error::invalid(
            "amount.amount",
            format!("must be between 1 and {remaining} (what is left of the capture)"),
        ));
    }
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO refunds (id, order_id, amount, currency, reason, requested_by, idempotency_key, fingerprint)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(order.as_uuid())
    .bind(amount)
    .bind(&currency)
    .bind(ask.reason)
    .bind(ask.requested_by)
    .bind(ask.idempotency_key)
    .bind(&fingerprint)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE orders SET refunded_amount = refunded_amount + $2, version = version + 1,
                updated_at = now()
          WHERE id = $1",
    )
    .bind(order.as_uuid())
    .bind(amount)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Recorded::New(id))
}

/// How asking the provider ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    Succeeded,
    /// The provider said no (e.g. more than captured); the amount is free again.
    Refused(String),
    /// Settled before (or by someone else).
    AlreadySettled,
}

/// Asks the provider for a pending refund and records its answer. A provider failure leaves
/// the refund pending (for the recovery loop) and is returned as an error.
pub async fn settle(state: &AppState, refund: Uuid) -> Result<Settled, Error> {
    let row: Option<(Uuid, i64, String, String)> =
        sqlx::query_as("SELECT order_id, amount, currency, status FROM refunds WHERE id = $1")
            .bind(refund)
            .fetch_optional(&state.db)
            .await?;
    let Some((order_id, amount, currency, status)) = row else {
        return Err(Error::NotFound(format!("No refund {refund}.")));
    };
    if status != "pending" {
        return Ok(Settled::AlreadySettled);
    }
    let order = OrderId::from(order_id);
    let currency = crate::money::Currency::parse(&currency)
        .ok_or_else(|| Error::Internal(format!("stored currency {currency:?}")))?;
    let amount = Money::new(amount, currency);
    let asked = tokio::time::timeout(
        state.checkout.payment_timeout,
        state.payments.refund(&RefundRequest {
            refund,
            order,
            amount,
        }),
    )
    .await
    .unwrap_or_else(|_| Err(PaymentError::Failed("no answer in time".into())));
    match asked {
        Ok(()) => succeed(state, &order, refund, &amount).await,
        Err(PaymentError::Declined(why)) => refuse(state, &order, refund, &amount, &why).await,
        Err(error) => {
            sqlx::query("UPDATE refunds SET updated_at = now() WHERE id = $1")
                .bind(refund)
                .execute(&state.db)
                .await?;
            Err(Error::PaymentProvider(error.to_string()))
        }
    }
}

async fn succeed(
    state: &AppState,
    order: &OrderId,
    refund: Uuid,
    amount: &Money,
) -> Result<Settled, Error> {
    let mut tx = state.db.begin().await?;
    let status: Option<String> =
        sqlx::query_scalar("SELECT status FROM orders WHERE id = $1 FOR UPDATE")
            .bind(order.as_uuid())
            .fetch_optional(&mut *tx)
            .await?;
    let updated = sqlx::query(
        "UPDATE refunds SET status = 'succeeded', updated_at = now()
          WHERE id = $1 AND status = 'pending'",
    )
    .bind(refund)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Ok(Settled::AlreadySettled);
    }
    // When the refunds that went through add up to the capture, the order is REFUNDED.
    let fully: bool = sqlx::query_scalar(
        "SELECT captured_amount > 0 AND captured_amount = (
                    SELECT coalesce(sum(amount), 0) FROM refunds
                     WHERE order_id = $1 AND status = 'succeeded')
           FROM orders WHERE id = $1",
    )
    .bind(order.as_uuid())
    .fetch_one(&mut *tx)
    .await?;
    let shipped = status.as_deref() == Some(OrderStatus::Shipped.as_str());
    if fully && shipped && OrderStatus::Shipped.allows(OrderStatus::Refunded, Actor::Refunds) {
        sqlx::query(
            "UPDATE orders SET status = 'REFUNDED', version = version + 1, updated_at = now()
              WHERE id = $1",
        )
        .bind(order.as_uuid())
        .execute(&mut *tx)
        .await?;
    }
    let current = store::load(&mut tx, order)
        .await?
        .ok_or_else(|| Error::Internal(format!("order {order} vanished")))?;
    outbox::append(
        &mut tx,
        &outbox::Event::order_refunded(&current, refund, amount),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(%order, %refund, amount = amount.amount, "refund went through");
    Ok(Settled::Succeeded)
}

async fn refuse(
    state: &AppState,
    order: &OrderId,
    refund: Uuid,
    amount: &Money,
    why: &str,
) -> Result<Settled, Error> {
    let mut tx = state.db.begin().await?;
    sqlx::query("SELECT 1 FROM orders WHERE id = $1 FOR UPDATE")
        .bind(order.as_uuid())
        .execute(&mut *tx)
        .await?;
    let updated = sqlx::query(
        "UPDATE refunds SET status = 'failed', failure = $2, updated_at = now()
          WHERE id = $1 AND status = 'pending'",
    )
    .bind(refund)
    .bind(why)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Ok(Settled::AlreadySettled);
    }
    sqlx::query(
        "UPDATE orders SET refunded_amount = refunded_amount - $2, version = version + 1,
                updated_at = now()
          WHERE id = $1",
    )
    .bind(order.as_uuid())
    .bind(amount.amount)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::warn!(%order, %refund, %why, "the payment provider refused a refund");
    Ok(Settled::Refused(why.to_owned()))
}

/// Asks the provider again for refunds pending longer than the suspend backoff.
pub async fn settle_stale(state: &AppState, batch: usize) -> Result<usize, Error> {
    let stale: Vec<Uuid> = sqlx::query_scalar(
        "SELECT id FROM refunds WHERE status = 'pending'
            AND updated_at < now() - make_interval(secs => $1)
          ORDER BY updated_at LIMIT $2",
    )
    .bind(state.checkout.suspend_backoff.as_secs_f64())
    .bind(i64::try_from(batch).unwrap_or(i64::MAX))
    .fetch_all(&state.db)
    .await?;
    let mut settled = 0;
    for refund in stale {
        match settle(state, refund).await {
            Ok(_) => settled += 1,
            Err(error) => tracing::warn!(%refund, %error, "a pending refund is still unsettled"),
        }
    }
    Ok(settled)
}
