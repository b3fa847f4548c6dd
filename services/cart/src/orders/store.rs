//! Orders in PostgreSQL: the row, its lines, and the lists (newest first, cursor by id).

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

use super::status::{OrderStatus, SagaStep};
use super::{Failure, Order, OrderLine};
use crate::error::Error;
use crate::ids::{OrderId, Sku};
use crate::money::{Currency, Money};

const ORDER_COLUMNS: &str = "id, user_id, status, saga_step, currency, total_amount, payment_token,
    authorization_id, failure_reason, failure_detail, failure_errors, idempotency_key, version,
    created_at, updated_at, pricing, captured_amount, refunded_amount";

fn currency(code: &str) -> Result<Currency, Error> {
    Currency::parse(code).ok_or_else(|| Error::Internal(format!("stored currency {code:?}")))
}

fn order_from_row(row: &sqlx::postgres::PgRow) -> Result<Order, Error> {
    let status: String = row.try_get("status")?;
    let step: String = row.try_get("saga_step")?;
    let currency = currency(row.try_get("currency")?)?;
    let reason: Option<String> = row.try_get("failure_reason")?;
    let errors: Option<serde_json::Value> = row.try_get("failure_errors")?;
    Ok(Order {
        id: OrderId::from(row.try_get::<Uuid, _>("id")?),
        user_id: row.try_get("user_id")?,
        status: OrderStatus::parse(&status)
            .ok_or_else(|| Error::Internal(format!("stored status {status:?}")))?,
        saga_step: SagaStep::parse(&step)
            .ok_or_else(|| Error::Internal(format!("stored saga step {step:?}")))?,
        lines: Vec::new(),
        total: Money::new(row.try_get("total_amount")?, currency),
        pricing: row
            .try_get::<Option<serde_json::Value>, _>("pricing")?
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| Error::Internal(format!("stored pricing: {e}")))?,
        captured: Money::new(row.try_get("captured_amount")?, currency),
        refunded: Money::new(row.try_get("refunded_amount")?, currency),
        refunds: Vec::new(),
        failure: match reason {
            Some(reason) => Some(Failure {
                reason,
                detail: row.try_get("failure_detail")?,
                errors: errors
                    .and_then(|v| serde_json::from_value(v).ok())
                    .unwrap_or_default(),
            }),
            None => None,
        },
        payment_token: row.try_get("payment_token")?,
        authorization_id: row.try_get("authorization_id")?,
        idempotency_key: row.try_get("idempotency_key")?,
        version: row.try_get("version")?,
        created_at: row.try_get::<DateTime<Utc>, _>("created_at")?,
        updated_at: row.try_get::<DateTime<Utc>, _>("updated_at")?,
    })
}

async fn attach_lines(conn: &mut PgConnection, orders: &mut [Order]) -> Result<(), Error> {
    if orders.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = orders.iter().map(|o| o.id.as_uuid()).collect();
    let rows = sqlx::query(
        "SELECT order_id, sku, title, variant_title, quantity, unit_amount, line_amount
           FROM order_lines WHERE order_id = ANY($1) ORDER BY order_id, position",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    for row in rows {
        let id = OrderId::from(row.try_get::<Uuid, _>("order_id")?);
        let Some(order) = orders.iter_mut().find(|o| o.id == id) else {
            continue;
        };
        let sku: String = row.try_get("sku")?;
        let currency = order.total.currency;
        order.lines.push(OrderLine {
            sku: Sku::parse(&sku).map_err(|e| Error::Internal(format!("stored sku: {e}")))?,
            title: row.try_get("title")?,
            variant_title: row.try_get("variant_title")?,
            quantity: row.try_get("quantity")?,
            unit_price: Money::new(row.try_get("unit_amount")?, currency),
            line_total: Money::new(row.try_get("line_amount")?, currency),
        });
    }
    Ok(())
}

pub async fn load(conn: &mut PgConnection, id: &OrderId) -> Result<Option<Order>, Error> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"
    )))
    .bind(id.as_uuid())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let mut orders = [order_from_row(&row)?];
    attach_lines(conn, &mut orders).await?;
    super::refunds::attach(conn, &mut orders).await?;
    let [order] = orders;
    Ok(Some(order))
}

/// A page of orders, newest first, optionally only one user's or one status'.
pub async fn list(
    conn: &mut PgConnection,
    user: Option<&str>,
    status: Option<OrderStatus>,
    after: Option<OrderId>,
    limit: u32,
) -> Result<Vec<Order>, Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {ORDER_COLUMNS} FROM orders
          WHERE ($1::text IS NULL OR user_id = $1)
            AND ($2::text IS NULL OR status = $2)
            AND ($3::uuid IS NULL OR id < $3)
          ORDER BY id DESC
          LIMIT $4"
    )))
    .bind(user)
    .bind(status.map(OrderStatus::as_str))
    .bind(after.map(|id| id.as_uuid()))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await?;
    let mut orders = rows
        .iter()
        .map(order_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    attach_lines(conn, &mut orders).await?;
    super::refunds::attach(conn, &mut orders).await?;
    Ok(orders)
}

/// Inserts a PENDING order with its lines, owned by the saga run holding `lease_token`.
pub async fn insert_pending(
    conn: &mut PgConnection,
    order: &Order,
    lease_token: Uuid,
    lease: std::time::Duration,
) -> Result<(), Error> {
    sqlx::query(
        "INSERT INTO orders (id, user_id, status, saga_step, currency, total_amount, payment_token,
                             idempotency_key, lease_token, lease_until, pricing)
         VALUES ($1, $2, 'PENDING', 'created', $3, $4, $5, $6, $7, now() + make_interval(secs => $8), $9)",
    )
    .bind(order.id.as_uuid())
    .bind(&order.user_id)
    .bind(order.total.currency.as_str())
    .bind(order.total.amount)
    .bind(&order.payment_token)
    .bind(&order.idempotency_key)
    .bind(lease_token)
    .bind(lease.as_secs_f64())
    .bind(
        order
            .pricing
            .as_ref()
            .map(serde_json::to_value)
            .transpose()
            .map_err(|e| Error::Internal(e.to_string()))?,
    )
    .execute(&mut *conn)
    .await?;
    let positions: Vec<i32> = (0..).take(order.lines.len()).collect();
    let skus: Vec<&str> = order.lines.iter().map(|l| l.sku.as_str()).collect();
    let titles: Vec<&str> = order.lines.iter().map(|l| l.title.as_str()).collect();
    let variants: Vec<Option<&str>> = order
        .lines
        .iter()
        .map(|l| l.variant_title.as_deref())
        .collect();
    let quantities: Vec<i64> = order.lines.iter().map(|l| l.quantity).collect();
    let units: Vec<i64> = order.lines.iter().map(|l| l.unit_price.amount).collect();
    let totals: Vec<i64> = order.lines.iter().map(|l| l.line_total.amount).collect();
    sqlx::query(
        "INSERT INTO order_lines (order_id, position, sku, title, variant_title, quantity, unit_amount, line_amount)
         SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[])",
    )
    .bind(order.id.as_uuid())
    .bind(&positions)
    .bind(&skus)
    .bind(&titles)
    .bind(&variants)
    .bind(&quantities)
    .bind(&units)
    .bind(&totals)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
