//! Reservations in the ledger. Reserving is one transaction over all of an order's lines, each a
//! single guarded `UPDATE … WHERE on_hand - reserved >= n`: all or nothing, never below zero, and
//! idempotent by order id (the reservation row's primary key). Lines are taken in SKU order so
//! concurrent multi-line reservations cannot deadlock.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgPool, Row};
use storefront_kit::FieldError;
use utoipa::ToSchema;

use crate::error::Error;
use crate::ids::{OrderId, ProductId, Sku};
use crate::ledger::Tx;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReservationStatus {
    Reserved,
    Committed,
    Released,
    Expired,
    /// Committed, then the order was cancelled: the units are back on hand.
    Returned,
}

impl ReservationStatus {
    fn parse(value: &str) -> Result<Self, Error> {
        Ok(match value {
            "reserved" => Self::Reserved,
            "committed" => Self::Committed,
            "released" => Self::Released,
            "expired" => Self::Expired,
            "returned" => Self::Returned,
            other => {
                return Err(Error::Internal(format!(
                    "unknown reservation status {other}"
                )));
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Reservation {
    pub order_id: String,
    pub status: ReservationStatus,
    pub lines: Vec<Line>,
    pub expires_at: DateTime<Utc>,
}

/// What a reserve call did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reserved {
    /// Stock was reserved now; these products' availability may have changed.
    Created(Reservation, Vec<ProductId>),
    /// The same order id with the same lines was reserved before: nothing changed.
    Replayed(Reservation),
}

pub const MAX_LINES: usize = 100;
pub const MAX_QUANTITY: i64 = 10_000;

/// Validated, SKU-ordered lines.
pub fn validate_lines(lines: &[Line]) -> Result<Vec<(Sku, i64)>, Error> {
    let mut errors = Vec::new();
    if lines.is_empty() || lines.len() > MAX_LINES {
        errors.push(FieldError::new(
            "lines",
            format!("must have 1 to {MAX_LINES} lines"),
        ));
    }
    let mut parsed: Vec<(Sku, i64)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        match Sku::validate(&line.sku) {
            Ok(sku) if parsed.iter().any(|(s, _)| *s == sku) => {
                errors.push(FieldError::new(
                    format!("lines[{i}].sku"),
                    "appears on another line",
                ));
            }
            Ok(sku) => parsed.push((sku, line.quantity)),
            Err(message) => errors.push(FieldError::new(format!("lines[{i}].sku"), message)),
        }
        if !(1..=MAX_QUANTITY).contains(&line.quantity) {
            errors.push(FieldError::new(
                format!("lines[{i}].quantity"),
                format!("must be between 1 and {MAX_QUANTITY}"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    parsed.sort();
    Ok(parsed)
}

pub async fn reserve(
    pool: &PgPool,
    order: &OrderId,
    lines: &[(Sku, i64)],
    ttl_seconds: i64,
) -> Result<Reserved, Error> {
    let mut tx = pool.begin().await?;
    // A concurrent reserve of the same order waits here until the first one ends.
    let inserted = sqlx::query(
        "INSERT INTO reservations (order_id, status, expires_at)
         VALUES ($1, 'reserved', now() + make_interval(secs => $2))
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(order.as_str())
    .bind(ttl_seconds as f64)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        drop(tx);
        let existing = get(pool, order)
            .await?
            .ok_or_else(|| Error::Internal("reservation vanished".into()))?;
        return replay(existing, lines);
    }

    let mut products = Vec::new();
    let mut unknown = Vec::new();
    let mut short = Vec::new();
    for (index, (sku, quantity)) in lines.iter().enumerate() {
        let taken = sqlx::query(
            "UPDATE inventory SET reserved = reserved + $2
              WHERE sku = $1 AND NOT retired AND on_hand - reserved >= $2
             RETURNING product_id",
        )
        .bind(sku.as_str())
        .bind(quantity)
        .fetch_optional(&mut *tx)
        .await?;
        match taken {
            Some(row) => products.push(ProductId::parse(row.get("product_id"))?),
            None => {
                let available: Option<i64> = sqlx::query_scalar(
                    "SELECT on_hand - reserved FROM inventory WHERE sku = $1 AND NOT retired",
                )
                .bind(sku.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                match available {
                    None => unknown.push(FieldError::new(
                        format!("lines[{index}].sku"),
                        "no such SKU",
                    )),
                    Some(n) => short.push(FieldError::new(
                        format!("lines[{index}].quantity"),
                        format!("only {} of {sku} available", n.max(0)),
                    )),
                }
            }
        }
    }
    if !unknown.is_empty() {
        return Err(Error::Invalid(unknown));
    }
    if !short.is_empty() {
        return Err(Error::Conflict {
            detail: "Not enough stock for this order; nothing was reserved.".into(),
            errors: short,
        });
    }
    let skus: Vec<&str> = lines.iter().map(|(s, _)| s.as_str()).collect();
    let quantities: Vec<i64> = lines.iter().map(|(_, q)| *q).collect();
    sqlx::query(
        "INSERT INTO reservation_lines (order_id, sku, quantity)
         SELECT $1, sku, quantity FROM unnest($2::text[], $3::bigint[]) AS l(sku, quantity)",
    )
    .bind(order.as_str())
    .bind(&skus)
    .bind(&quantities)
    .execute(&mut *tx)
    .await?;
    let reservation = load(&mut tx, order)
        .await?
        .ok_or_else(|| Error::Internal("reservation vanished".into()))?;
    tx.commit().await?;
    products.sort();
    products.dedup();
    Ok(Reserved::Created(reservation, products))
}

/// The same order id again: the same lines are a replay, anything else a conflict.
fn replay(existing: Reservation, lines: &[(Sku, i64)]) -> Result<Reserved, Error> {
    let same = existing.lines.len() == lines.len()
        && existing
            .lines
            .iter()
            .zip(lines)
            .all(|(a, (sku, q))| a.sku == sku.as_str() && a.quantity == *q);
    if !same {
        return Err(Error::conflict(format!(
            "Order {} already has a reservation with other lines.",
            existing.order_id
        )));
    }
    match existing.status {
        ReservationStatus::Reserved | ReservationStatus::Committed => {
            Ok(Reserved::Replayed(existing))
        }
        status => Err(Error::conflict(format!(
            "The reservation of order {} is {}; reserve under a new order id.",
            existing.order_id,
            serde_json::to_value(status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        ))),
    }
}

pub async fn get(pool: &PgPool, order: &OrderId) -> Result<Option<Reservation>, Error> {
    let mut tx = pool.begin().await?;
    let found = load(&mut tx, order).await?;
    tx.commit().await?;
    Ok(found)
}

async fn load(tx: &mut Tx, order: &OrderId) -> Result<Option<Reservation>, Error> {
    let Some(row) = sqlx::query("SELECT status, expires_at FROM reservations WHERE order_id = $1")
        .bind(order.as_str())
        .fetch_optional(&mut **tx)
        .await?
    else {
        return Ok(None);
    };
    let lines =
        sqlx::query("SELECT sku, quantity FROM reservation_lines WHERE order_id = $1 ORDER BY sku")
            .bind(order.as_str())
            .fetch_all(&mut **tx)
            .await?
            .into_iter()
            .map(|l| Line {
                sku: l.get("sku"),
                quantity: l.get("quantity"),
            })
            .collect();
    Ok(Some(Reservation {
        order_id: order.to_string(),
        status: ReservationStatus::parse(row.get("status"))?,
        lines,
        expires_at: row.get("expires_at"),
    }))
}

/// Locks the reservation row: its status and whether it is past its expiry.
async fn lock(tx: &mut Tx, order: &OrderId) -> Result<Option<(ReservationStatus, bool)>, Error> {
    let row = sqlx::query("SELECT status, expires_at < now() AS overdue FROM reservations WHERE order_id = $1 FOR UPDATE")
        .bind(order.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| Ok((ReservationStatus::parse(r.get("status"))?, r.get("overdue"))))
        .transpose()
}

/// Moves the reservation's units: `consume` takes them off the shelf (commit), otherwise they
/// return to sale (release, expiry). Returns the products whose stock moved.
async fn settle(
    tx: &mut Tx,
    order: &OrderId,
    status: ReservationStatus,
) -> Result<Vec<ProductId>, Error> {
    let consume = status == ReservationStatus::Committed;
    let lines =
        sqlx::query("SELECT sku, quantity FROM reservation_lines WHERE order_id = $1 ORDER BY sku")
            .bind(order.as_str())
            .fetch_all(&mut **tx)
            .await?;
    let mut products = Vec::new();
    for line in lines {
        let sku: String = line.get("sku");
        let quantity: i64 = line.get("quantity");
        let product: String = sqlx::query_scalar(
            "UPDATE inventory
                SET reserved = reserved - $2,
                    on_hand = on_hand - CASE WHEN $3 THEN $2 ELSE 0 END
              WHERE sku = $1
             RETURNING product_id",
        )
        .bind(&sku)
        .bind(quantity)
        .bind(consume)
        .fetch_one(&mut **tx)
        .await?;
        products.push(ProductId::parse(&product)?);
    }
    let status = serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    sqlx::query("UPDATE reservations SET status = $2, updated_at = now() WHERE order_id = $1")
        .bind(order.as_str())
        .bind(status)
        .execute(&mut **tx)
        .await?;
    products.sort();
    products.dedup();
    Ok(products)
}

/// Confirms the sale: reserved units leave the shelf. Idempotent; an expired or released
/// reservation cannot be committed.
pub async fn commit(
    pool: &PgPool,
    order: &OrderId,
) -> Result<(Reservation, Vec<ProductId>), Error> {
    let mut tx = pool.begin().await?;
    let (status, overdue) = lock(&mut tx, order)
        .await?
        .ok_or_else(|| Error::not_found(format!("No reservation for order {order}.")))?;
    let products = match status {
        ReservationStatus::Committed => Vec::new(),
        ReservationStatus::Reserved if overdue => {
            settle(&mut tx, order, ReservationStatus::Expired).await?;
            tx.commit().await?;
            return Err(Error::conflict(format!(
                "The reservation of order {order} has expired."
            )));
        }
        ReservationStatus::Reserved => settle(&mut tx, order, ReservationStatus::Committed).await?,
        ReservationStatus::Released | ReservationStatus::Expired => {
            return Err(Error::conflict(format!(
                "The reservation of order {order} was released or expired; it cannot be committed."
            )));
        }
        ReservationStatus::Returned => {
            return Err(Error::conflict(format!(
                "The stock of order {order} was returned; it cannot be committed again."
            )));
        }
    };
    let reservation = load(&mut tx, order)
        .await?
        .ok_or_else(|| Error::Internal("reservation vanished".into()))?;
    tx.commit().await?;
    Ok((reservation, products))
}

/// Returns reserved units to sale. Idempotent; releasing an order never reserved leaves a
/// `released` marker so a reserve arriving late (a retried request) cannot take stock for it.
pub async fn release(
    pool: &PgPool,
    order: &OrderId,
) -> Result<(Reservation, Vec<ProductId>), Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO reservations (order_id, status, expires_at) VALUES ($1, 'released', now())
         ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(order.as_str())
    .execute(&mut *tx)
    .await?;
    let (status, _) = lock(&mut tx, order)
        .await?
        .ok_or_else(|| Error::Internal("reservation vanished".into()))?;
    let products = match status {
        ReservationStatus::Reserved => settle(&mut tx, order, ReservationStatus::Released).await?,
        ReservationStatus::Released | ReservationStatus::Expired => Vec::new(),
        ReservationStatus::Committed | ReservationStatus::Returned => {
            return Err(Error::conflict(format!(
                "The reservation of order {order} is committed; it cannot be released."
            )));
        }
    };
    let reservation = load(&mut tx, order)
        .await?
        .ok_or_else(|| Error::Internal("reservation vanished".into()))?;
    tx.commit().await?;
    Ok((reservation, products))
}

/// Puts a committed order's units back on hand (the order was cancelled). Idempotent by order id:
/// the first call adds the units and marks the reservation `returned`, later calls change
/// nothing; a reservation that was never committed (or no reservation at all) is a conflict.
pub async fn return_stock(
    pool: &PgPool,
    order: &OrderId,
) -> Result<(Reservation, Vec<ProductId>), Error> {
    let mut tx = pool.begin().await?;
    let status = lock(&mut tx, order).await?.map(|(status, _)| status);
    let products = match status {
        Some(ReservationStatus::Returned) => Vec::new(),
        Some(ReservationStatus::Committed) => {
            let lines = sqlx::query(
                "SELECT sku, quantity FROM reservation_lines WHERE order_id = $1 ORDER BY sku",
            )
            .bind(order.as_str())
            .fetch_all(&mut *tx)
            .await?;
            let mut products = Vec::new();
            for line in lines {
                let product: String = sqlx::query_scalar(
                    "UPDATE inventory SET on_hand = on_hand + $2 WHERE sku = $1 RETURNING product_id",
                )
                .bind(line.get::<String, _>("sku"))
                .bind(line.get::<i64, _>("quantity"))
                .fetch_one(&mut *tx)
                .await?;
                products.push(ProductId::parse(&product)?);
            }
            sqlx::query(
                "UPDATE reservations SET status = 'returned', updated_at = now() WHERE order_id = $1",
            )
            .bind(order.as_str())
            .execute(&mut *tx)
            .await?;
            products.sort();
            products.dedup();
            products
        }
        Some(_) | None => {
            return Err(Error::conflict(format!(
                "Order {order} has no committed stock to return."
            )));
        }
    };
    let reservation = load(&mut tx, order)
        .await?
        .ok_or_else(|| Error::Internal("reservation vanished".into()))?;
    tx.commit().await?;
    Ok((reservation, products))
}

/// Releases up to `batch` reservations past their expiry, one transaction each (so locks are
/// always taken in SKU order); returns how many and the products touched. Replicas sweeping at
/// once skip each other's rows.
pub async fn expire_overdue(pool: &PgPool, batch: usize) -> Result<(usize, Vec<ProductId>), Error> {
    let mut expired = 0;
    let mut products = Vec::new();
    while expired < batch {
        let mut tx = pool.begin().await?;
        let order: Option<String> = sqlx::query_scalar(
            "SELECT order_id FROM reservations
              WHERE status = 'reserved' AND expires_at < now()
              ORDER BY expires_at
              LIMIT 1
              FOR UPDATE SKIP LOCKED",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(order) = order else { break };
        let order = OrderId::validate(&order).map_err(Error::Internal)?;
        products.extend(settle(&mut tx, &order, ReservationStatus::Expired).await?);
        tx.commit().await?;
        expired += 1;
    }
    products.sort();
    products.dedup();
    Ok((expired, products))
}
