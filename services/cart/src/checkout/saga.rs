//! The checkout saga (ARCHITECTURE §3): reprice, order PENDING, reserve stock, authorize
//! payment, confirm — or compensate (void, release) and fail. The step reached is persisted
//! after every call that has an effect elsewhere, and every such call is idempotent by order id,
//! so whoever drives an order next (the same request, or the recovery loop after a crash) can
//! simply run the step again.
//!
//! Ownership: a run owns an order through a lease (`lease_token`, `lease_until`). Every write is
//! fenced by the token; a run whose lease was taken over stops without further effects.

use std::time::Duration;

use futures::future::try_join_all;
use http::StatusCode;
use sqlx::PgConnection;
use storefront_kit::{FieldError, Problem};
use uuid::Uuid;

use super::idempotency::{self, StoredResponse};
use crate::AppState;
use crate::carts::CartOwner;
use crate::catalog_client::{CatalogError, ReservationLine};
use crate::error::Error;
use crate::ids::{IdempotencyKey, OrderId, Sku};
use crate::money::{Currency, Money};
use crate::orders::{Order, OrderLine, OrderStatus, SagaStep, store};
use crate::outbox;
use crate::payments::{AuthorizeRequest, PaymentError};
use crate::pricing::LineInput;
use crate::pricing::quote::{self, PricingChoices};
use crate::promotions::codes;

/// The right to drive one order, held until the lease runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub order: OrderId,
    pub token: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The order is CONFIRMED or FAILED; this is the answer for the client.
    Settled(StoredResponse),
    /// A dependency is down: the order stays PENDING and the recovery loop finishes it.
    Suspended {
        order: OrderId,
        retry_after: Duration,
    },
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Continue,
    Settled(StoredResponse),
    Suspended(Duration),
    /// Another run owns the order now.
    LostLease,
}

/// Failure reason codes, stable for clients.
pub mod reason {
    pub const OUT_OF_STOCK: &str = "out_of_stock";
    pub const UNKNOWN_SKU: &str = "unknown_sku";
    pub const PAYMENT_DECLINED: &str = "payment_declined";
    pub const PAYMENT_ERROR: &str = "payment_error";
    pub const RESERVATION_EXPIRED: &str = "reservation_expired";
    /// The payment was not completed before the order expired (the order ends EXPIRED).
    pub const PAYMENT_EXPIRED: &str = "payment_expired";
}

/// Steps 1–2: reprice the caller's cart from the catalog and create the order PENDING, claimed
/// by this run. Errors here leave nothing behind (no order exists yet).
pub async fn create_order(
    state: &AppState,
    user: &str,
    key: Option<&IdempotencyKey>,
    payment_token: &str,
) -> Result<Claim, Error> {
    create_priced_order(state, user, key, payment_token, &PricingChoices::default()).await
}

/// [`create_order`] with the shopper's pricing choices: the lines are priced by
/// [`pricing`](crate::pricing) (catalogue promotion → code → shipping → tax), the order keeps
/// that snapshot, and a discount code is redeemed in the transaction that creates the order.
pub async fn create_priced_order(
    state: &AppState,
    user: &str,
    key: Option<&IdempotencyKey>,
    payment_token: &str,
    choices: &PricingChoices,
) -> Result<Claim, Error> {
    let cart = state.carts.lines(&CartOwner::User(user.to_owned())).await?;
    if cart.is_empty() {
        return Err(Error::invalid("cart", "is empty"));
    }
    let (mut lines, inputs, currency) = reprice(state, &cart).await?;
    let quote = quote::price_lines(state, currency, &inputs, choices, Some(user), true).await?;
    let mut priced = quote
        .pricing
        .ok_or_else(|| Error::invalid("cart", "is empty"))?;
    priced.shipping_address = quote.shipping_address;
    for (line, priced_line) in lines.iter_mut().zip(&priced.lines) {
        line.unit_price = priced_line.unit_price;
        line.line_total = priced_line.line_amount;
    }
    let now = chrono::Utc::now();
    let order = Order {
        id: OrderId::generate(),
        user_id: user.to_owned(),
        status: OrderStatus::Pending,
        lines,
        captured: Money::new(0, priced.total.currency),
        refunded: Money::new(0, priced.total.currency),
        refunds: Vec::new(),
        total: priced.total,
        pricing: Some(priced),
        failure: None,
        version: 1,
        created_at: now,
        updated_at: now,
        saga_step: SagaStep::Created,
        payment_token: payment_token.to_owned(),
        authorization_id: None,
        idempotency_key: key.map(|k| k.as_str().to_owned()),
    };
    let claim = Claim {
        order: order.id,
        token: Uuid::new_v4(),
    };
    let mut tx = state.db.begin().await?;
    store::insert_pending(&mut tx, &order, claim.token, state.checkout.saga_lease).await?;
    if let Some(code) = order
        .pricing
        .as_ref()
        .and_then(|p| p.discount_code.as_deref())
    {
        codes::redeem(&mut tx, code, user, &order.id).await?;
    }
    if let Some(key) = key {
        idempotency::attach_order(&mut tx, user, key.as_str(), &order.id).await?;
    }
    tx.commit().await?;
    Ok(claim)
}

/// Current catalog prices for the cart's lines, with what pricing needs to know of each SKU.
/// Unknown SKUs are a 422 and short stock a 409, both before any order exists; the
/// reservation still decides under concurrency.
async fn reprice(
    state: &AppState,
    cart: &[(Sku, i64)],
) -> Result<(Vec<OrderLine>, Vec<LineInput>, Currency), Error> {
    let found = try_join_all(cart.iter().map(|(sku, _)| state.catalog.sku(sku))).await?;
    let mut unknown = Vec::new();
    let mut short = Vec::new();
    let mut lines = Vec::with_capacity(cart.len());
    let mut inputs = Vec::with_capacity(cart.len());
    let mut currency = None;
    for (index, ((sku, quantity), item)) in cart.iter().zip(found).enumerate() {
        match item.filter(|i| i.for_sale()) {
            None => unknown.push(FieldError::new(
                format!("lines[{index}].sku"),
                format!("the catalog no longer sells {sku}"),
            )),
            Some(item) if item.available < *quantity => short.push(FieldError::new(
                format!("lines[{index}].quantity"),
                format!("only {} of {sku} available", item.available.max(0)),
            )),
            Some(item) => {
                if currency.is_some_and(|c| c != item.price.currency) {
                    return Err(Error::invalid("cart", "mixes currencies"));
                }
                currency = Some(item.price.currency);
                let line_total = item.price.checked_mul(*quantity).ok_or_else(|| {
                    Error::invalid(&format!("lines[{index}].quantity"), "is too large")
                })?;
                inputs.push(quote::line_input(&item, *quantity));
                lines.push(OrderLine {
                    sku: sku.clone(),
                    title: item.title,
                    variant_title: item.variant_title,
                    quantity: *quantity,
                    unit_price: item.price,
                    line_total,
                });
            }
        }
    }
    if !unknown.is_empty() {
        return Err(Error::Invalid(unknown));
    }
    if !short.is_empty() {
        return Err(out_of_stock(short));
    }
    let currency = currency.ok_or_else(|| Error::invalid("cart", "is empty"))?;
    Ok((lines, inputs, currency))
}

fn out_of_stock(errors: Vec<FieldError>) -> Error {
    Error::OutOfStock(errors)
}

/// Runs the order's saga from wherever it stands until it settles or must wait.
pub async fn drive(state: &AppState, claim: Claim) -> Result<Outcome, Error> {
    loop {
        match advance(state, &claim).await? {
            Step::Continue => {}
            Step::Settled(response) => return Ok(Outcome::Settled(response)),
            Step::Suspended(retry_after) => {
                return Ok(Outcome::Suspended {
                    order: claim.order,
                    retry_after,
                });
            }
            Step::LostLease => {
                // Someone else drives it now; report what is known.
                let mut conn = state.db.acquire().await?;
                let order = load(&mut conn, &claim.order).await?;
                return Ok(match order.saga_step {
                    SagaStep::Done => Outcome::Settled(response_for(&order)),
                    _ => Outcome::Suspended {
                        order: claim.order,
                        retry_after: state.checkout.suspend_backoff,
                    },
                });
            }
        }
    }
}

async fn load(conn: &mut PgConnection, id: &OrderId) -> Result<Order, Error> {
    store::load(conn, id)
        .await?
        .ok_or_else(|| Error::Internal(format!("order {id} vanished")))
}

/// Runs the one step the order is at. Public so tests can stop a saga half-way (a crash).
pub async fn advance(state: &AppState, claim: &Claim) -> Result<Step, Error> {
    let order = {
        let mut conn = state.db.acquire().await?;
        load(&mut conn, &claim.order).await?
    };
    if order.status != OrderStatus::Pending || order.saga_step == SagaStep::Done {
        return Ok(Step::Settled(response_for(&order)));
    }
    match order.saga_step {
        SagaStep::Created => reserve_stock(state, claim, &order).await,
        SagaStep::Reserved => authorize_payment(state, claim, &order).await,
        SagaStep::Authorized => confirm(state, claim, &order).await,
        SagaStep::Compensating => compensate(state, claim, &order).await,
        SagaStep::Done => Ok(Step::Settled(response_for(&order))),
    }
}

async fn reserve_stock(state: &AppState, claim: &Claim, order: &Order) -> Result<Step, Error> {
    let lines: Vec<ReservationLine> = order
        .lines
        .iter()
        .map(|l| ReservationLine {
            sku: l.sku.to_string(),
            quantity: l.quantity,
        })
        .collect();
    match state
        .catalog
        .reserve(&order.id, &lines, state.checkout.reservation_ttl)
        .await
    {
        Ok(()) => persist(state, claim, SagaStep::Created, SagaStep::Reserved, None).await,
        Err(error) if error.is_unavailable() => suspend(state, claim, &error).await,
        Err(error @ CatalogError::Refused { status, .. }) if status == StatusCode::CONFLICT => {
            let errors = error.field_errors();
            fail(
                state,
                claim,
                SagaStep::Created,
                reason::OUT_OF_STOCK,
                "Not enough stock for this order; nothing was reserved or charged.",
                errors,
            )
            .await
        }
        Err(error @ CatalogError::Refused { .. }) => {
            let errors = error.field_errors();
            fail(
                state,
                claim,
                SagaStep::Created,
                reason::UNKNOWN_SKU,
                "The catalog no longer sells an item of this order.",
                errors,
            )
            .await
        }
        Err(error) => suspend(state, claim, &error).await,
    }
}

async fn authorize_payment(state: &AppState, claim: &Claim, order: &Order) -> Result<Step, Error> {
    let request = AuthorizeRequest {
        order: order.id,
        amount: order.total,
        payment_token: order.payment_token.clone(),
    };
    let outcome = tokio::time::timeout(
        state.checkout.payment_timeout,
        state.payments.authorize(&request),
    )
    .await
    .unwrap_or_else(|_| Err(PaymentError::Failed("no answer in time".into())));
    match outcome {
        Ok(authorization) => {
            persist(
                state,
                claim,
                SagaStep::Reserved,
                SagaStep::Authorized,
                Some(&authorization.id),
            )
            .await
        }
        Err(PaymentError::Declined(code)) => {
            fail(
                state,
                claim,
                SagaStep::Reserved,
                reason::PAYMENT_DECLINED,
                &format!("The payment was declined ({code})."),
                Vec::new(),
            )
            .await
        }
        Err(PaymentError::ActionRequired(what)) => await_payment(state, claim, order, &what).await,
        Err(PaymentError::Failed(why)) => {
            tracing::warn!(order = %order.id, %why, "payment authorization failed");
            fail(
                state,
                claim,
                SagaStep::Reserved,
                reason::PAYMENT_ERROR,
                "The payment could not be processed; nothing was charged.",
                Vec::new(),
            )
            .await
        }
    }
}

async fn confirm(state: &AppState, claim: &Claim, order: &Order) -> Result<Step, Error> {
    match state.catalog.commit(&order.id).await {
        Ok(()) => {}
        Err(error) if error.is_unavailable() => return suspend(state, claim, &error).await,
        Err(error @ CatalogError::Refused { .. }) => {
            tracing::warn!(order = %order.id, %error, "reservation could not be committed");
            return fail(
                state,
                claim,
                SagaStep::Authorized,
                reason::RESERVATION_EXPIRED,
                "The stock held for this order was released before payment completed; nothing was charged.",
                Vec::new(),
            )
            .await;
        }
        Err(error) => return suspend(state, claim, &error).await,
    }
    let mut tx = state.db.begin().await?;
    let Some(confirmed) = finish(&mut tx, claim, "CONFIRMED", SagaStep::Authorized).await? else {
        return Ok(Step::LostLease);
    };
    outbox::append(&mut tx, &outbox::Event::order_placed(&confirmed)).await?;
    let response = answer(&mut tx, &confirmed).await?;
    tx.commit().await?;
    tracing::info!(order = %claim.order, "order confirmed");

    let ordered: Vec<(Sku, i64)> = confirmed
        .lines
        .iter()
        .map(|l| (l.sku.clone(), l.quantity))
        .collect();
    let owner = CartOwner::User(confirmed.user_id.clone());
    if let Err(error) = state.carts.subtract(&owner, &ordered).await {
        // The order stands; the shopper can remove the lines by hand.
        tracing::warn!(%error, order = %confirmed.id, "could not clear ordered lines from the cart");
    }
    Ok(Step::Settled(response))
}

/// The shopper still has to complete the payment: the order stays PENDING at `reserved`, the
/// recovery loop asks the provider again after the backoff, and the expiry pass ends it if that
/// takes too long. The client gets 202 with the PENDING order (also for a replay of its key,
/// until the order settles).
async fn await_payment(
    state: &AppState,
    claim: &Claim,
    order: &Order,
    what: &str,
) -> Result<Step, Error> {
    tracing::info!(order = %order.id, %what, "payment awaits the shopper");
    suspend_for(state, claim).await?;
    let response = response_for(order);
    if let Some(key) = &order.idempotency_key {
        let mut conn = state.db.acquire().await?;
        idempotency::complete(&mut conn, &order.user_id, key, &response).await?;
    }
    Ok(Step::Settled(response))
}

async fn compensate(state: &AppState, claim: &Claim, order: &Order) -> Result<Step, Error> {
    if let Err(error) = state.payments.void(&order.id).await {
        tracing::warn!(order = %order.id, %error, "voiding failed; will retry");
        return suspend_for(state, claim).await;
    }
    match state.catalog.release(&order.id).await {
        Ok(()) => {}
        Err(error @ CatalogError::Refused { .. }) => {
            // Only a committed reservation refuses release, and we never fail a committed order.
            tracing::error!(order = %order.id, %error, "stock of a failing order cannot be released");
            return suspend_for(state, claim).await;
        }
        Err(error) => return suspend(state, claim, &error).await,
    }
    let expired = order
        .failure
        .as_ref()
        .is_some_and(|f| f.reason == reason::PAYMENT_EXPIRED);
    let status = if expired { "EXPIRED" } else { "FAILED" };
    let mut tx = state.db.begin().await?;
    let Some(failed) = finish(&mut tx, claim, status, SagaStep::Compensating).await? else {
        return Ok(Step::LostLease);
    };
    codes::release(&mut tx, &failed.id).await?;
    if expired {
        outbox::append(&mut tx, &outbox::Event::order_expired(&failed)).await?;
    }
    let response = answer(&mut tx, &failed).await?;
    tx.commit().await?;
    tracing::info!(order = %claim.order, "order failed and compensated");
    Ok(Step::Settled(response))
}

/// Ends the saga of a leased order that is at step `from`: sets its final `status` and releases
/// the lease. `None` when another runner took the order over meanwhile.
async fn finish(
    tx: &mut PgConnection,
    claim: &Claim,
    status: &str,
    from: SagaStep,
) -> Result<Option<Order>, Error> {
    let updated = sqlx::query(
        "UPDATE orders SET status = $3, saga_step = 'done', lease_token = NULL,
                version = version + 1, updated_at = now()
          WHERE id = $1 AND lease_token = $2 AND status = 'PENDING' AND saga_step = $4",
    )
    .bind(claim.order.as_uuid())
    .bind(claim.token)
    .bind(status)
    .bind(from.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Ok(None);
    }
    Ok(Some(load(tx, &claim.order).await?))
}

/// The checkout's answer for a settled order, stored under the client's idempotency key.
async fn answer(tx: &mut PgConnection, order: &Order) -> Result<StoredResponse, Error> {
    let response = response_for(order);
    if let Some(key) = &order.idempotency_key {
        idempotency::complete(tx, &order.user_id, key, &response).await?;
    }
    Ok(response)
}

/// Records that `from` completed, moving to `to`, and renews the lease.
async fn persist(
    state: &AppState,
    claim: &Claim,
    from: SagaStep,
    to: SagaStep,
    authorization: Option<&str>,
) -> Result<Step, Error> {
    let updated = sqlx::query(
        "UPDATE orders SET saga_step = $4, authorization_id = COALESCE($5, authorization_id),
                lease_until = now() + make_interval(secs => $6), updated_at = now()
          WHERE id = $1 AND lease_token = $2 AND status = 'PENDING' AND saga_step = $3",
    )
    .bind(claim.order.as_uuid())
    .bind(claim.token)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(authorization)
    .bind(state.checkout.saga_lease.as_secs_f64())
    .execute(&state.db)
    .await?
    .rows_affected();
    Ok(if updated == 1 {
        Step::Continue
    } else {
        Step::LostLease
    })
}

/// Decides that the order fails (the reason is kept); compensation runs next.
async fn fail(
    state: &AppState,
    claim: &Claim,
    from: SagaStep,
    reason: &str,
    detail: &str,
    errors: Vec<FieldError>,
) -> Result<Step, Error> {
    let errors = serde_json::to_value(&errors).map_err(|e| Error::Internal(e.to_string()))?;
    let updated = sqlx::query(
        "UPDATE orders SET saga_step = 'compensating', failure_reason = $4, failure_detail = $5,
                failure_errors = $6, lease_until = now() + make_interval(secs => $7), updated_at = now()
          WHERE id = $1 AND lease_token = $2 AND status = 'PENDING' AND saga_step = $3",
    )
    .bind(claim.order.as_uuid())
    .bind(claim.token)
    .bind(from.as_str())
    .bind(reason)
    .bind(detail)
    .bind(errors)
    .bind(state.checkout.saga_lease.as_secs_f64())
    .execute(&state.db)
    .await?
    .rows_affected();
    Ok(if updated == 1 {
        Step::Continue
    } else {
        Step::LostLease
    })
}

async fn suspend(state: &AppState, claim: &Claim, error: &CatalogError) -> Result<Step, Error> {
    tracing::warn!(order = %claim.order, %error, "saga suspended: catalog unavailable");
    suspend_for(state, claim).await
}

/// Hands the order to the recovery loop after the backoff.
async fn suspend_for(state: &AppState, claim: &Claim) -> Result<Step, Error> {
    let backoff = state.checkout.suspend_backoff;
    sqlx::query(
        "UPDATE orders SET lease_until = now() + make_interval(secs => $3)
          WHERE id = $1 AND lease_token = $2",
    )
    .bind(claim.order.as_uuid())
    .bind(claim.token)
    .bind(backoff.as_secs_f64())
    .execute(&state.db)
    .await?;
    Ok(Step::Suspended(backoff))
}

/// The answer for a settled order: 201 with the order when it went through, otherwise a
/// problem naming the order and why it failed (out of stock 409, declined 402, payment error
/// 502, unknown SKU 422).
pub fn response_for(order: &Order) -> StoredResponse {
    let problem = match (&order.status, &order.failure) {
        (OrderStatus::Failed | OrderStatus::Expired, Some(failure)) => {
            let (status, slug, title) = match failure.reason.as_str() {
                reason::OUT_OF_STOCK => (StatusCode::CONFLICT, "out-of-stock", "Out of stock"),
                reason::UNKNOWN_SKU => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown-sku",
                    "Item no longer sold",
                ),
                reason::PAYMENT_DECLINED => (
                    StatusCode::PAYMENT_REQUIRED,
                    "payment-declined",
                    "Payment declined",
                ),
                reason::RESERVATION_EXPIRED => (
                    StatusCode::CONFLICT,
                    "reservation-expired",
                    "Stock no longer held",
                ),
                reason::PAYMENT_EXPIRED => (
                    StatusCode::PAYMENT_REQUIRED,
                    "payment-expired",
                    "Payment not completed in time",
                ),
                _ => (StatusCode::BAD_GATEWAY, "payment-failed", "Payment failed"),
            };
            Some(
                Problem::new(status, slug, title)
                    .with_detail(failure.detail.clone().unwrap_or_default())
                    .with_errors(failure.errors.clone()),
            )
        }
        _ => None,
    };
    match problem {
        None if order.status == OrderStatus::Pending => StoredResponse {
            status: StatusCode::ACCEPTED.as_u16(),
            body: serde_json::to_string(order).unwrap_or_default(),
        },
        None => StoredResponse {
            status: StatusCode::CREATED.as_u16(),
            body: serde_json::to_string(order).unwrap_or_default(),
        },
        Some(problem) => {
            let mut body = serde_json::to_value(&problem).unwrap_or_default();
            if let Some(object) = body.as_object_mut() {
                object.insert("orderId".into(), serde_json::json!(order.id));
                object.insert(
                    "reason".into(),
                    serde_json::json!(order.failure.as_ref().map(|f| &f.reason)),
                );
            }
            StoredResponse {
                status: problem.status,
                body: body.to_string(),
            }
        }
    }
}
