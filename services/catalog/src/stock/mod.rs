//! Stock: the checkout saga's internal endpoints (reserve, commit, release, return by order id), the
//! admin's stock level per SKU and low-stock list, and the loop that expires reservations never
//! committed.

pub mod levels;
pub mod reservations;

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use storefront_kit::{Admin, Json, Path, Shutdown};
use utoipa::ToSchema;

use crate::AppState;
use crate::error::Error;
use crate::ids::{OrderId, ProductId, Sku};
use crate::products::write::refresh_availability;
pub use reservations::{Line, Reservation, ReservationStatus, Reserved};

pub const DEFAULT_TTL_SECONDS: u32 = 15 * 60;
pub const MAX_TTL_SECONDS: u32 = 24 * 60 * 60;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/internal/stock/reservations", post(reserve))
        .route(
            "/internal/stock/reservations/{order_id}",
            get(get_reservation),
        )
        .route(
            "/internal/stock/reservations/{order_id}/commit",
            post(commit),
        )
        .route(
            "/internal/stock/reservations/{order_id}/release",
            post(release),
        )
        .route(
            "/internal/stock/reservations/{order_id}/return",
            post(return_stock),
        )
        .route("/api/catalog/skus/{sku}/stock", put(set_stock))
        .route("/api/catalog/admin/low-stock", get(levels::low_stock))
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReserveRequest {
    pub order_id: String,
    pub lines: Vec<Line>,
    /// Seconds until an uncommitted reservation is released (default 900, at most 86400).
    #[serde(default)]
    pub ttl_seconds: Option<u32>,
}

/// The ledger decides; documents only mirror availability, so a failed refresh is logged, not returned.
async fn mirror(state: &AppState, products: &[ProductId]) {
    if products.is_empty() {
        return;
    }
    if let Err(error) = refresh_availability(state, products).await {
        tracing::warn!(%error, "could not refresh product availability");
    }
}

fn order_id(value: &str) -> Result<OrderId, Error> {
    OrderId::validate(value).map_err(|message| Error::invalid("orderId", message))
}

/// Reserves every line or none. 201 when stock was taken now, 200 when the same order id and
/// lines were reserved before (a replay changes nothing), 409 when stock is short.
#[utoipa::path(post, path = "/internal/stock/reservations", request_body = ReserveRequest, tag = "internal",
    responses((status = 201, body = Reservation), (status = 200, body = Reservation),
        (status = 409, body = storefront_kit::Problem), (status = 422, body = storefront_kit::Problem)))]
pub async fn reserve(
    State(state): State<AppState>,
    Json(request): Json<ReserveRequest>,
) -> Result<Response, Error> {
    let order = order_id(&request.order_id)?;
    let lines = reservations::validate_lines(&request.lines)?;
    let ttl = request.ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS);
    if ttl > MAX_TTL_SECONDS {
        return Err(Error::invalid(
            "ttlSeconds",
            format!("must be at most {MAX_TTL_SECONDS}"),
        ));
    }
    match reservations::reserve(&state.ledger, &order, &lines, i64::from(ttl)).await? {
        Reserved::Created(reservation, products) => {
            mirror(&state, &products).await;
            Ok((StatusCode::CREATED, Json(reservation)).into_response())
        }
        Reserved::Replayed(reservation) => Ok((StatusCode::OK, Json(reservation)).into_response()),
    }
}

#[utoipa::path(get, path = "/internal/stock/reservations/{order_id}", tag = "internal",
    responses((status = 200, body = Reservation), (status = 404, body = storefront_kit::Problem)))]
pub async fn get_reservation(
    State(state): State<AppState>,
    Path(order): Path<String>,
) -> Result<Json<Reservation>, Error> {
    let order = OrderId::parse(&order)?;
    reservations::get(&state.ledger, &order)
        .await?
        .map(Json)
        .ok_or_else(|| Error::not_found(format!("No reservation for order {order}.")))
}

/// Confirms the sale (idempotent). 409 if the reservation was released or has expired.
#[utoipa::path(post, path = "/internal/stock/reservations/{order_id}/commit", tag = "internal",
    responses((status = 200, body = Reservation), (status = 404, body = storefront_kit::Problem),
        (status = 409, body = storefront_kit::Problem)))]
pub async fn commit(
    State(state): State<AppState>,
    Path(order): Path<String>,
) -> Result<Json<Reservation>, Error> {
    let order = OrderId::parse(&order)?;
    let (reservation, products) = reservations::commit(&state.ledger, &order).await?;
    mirror(&state, &products).await;
    Ok(Json(reservation))
}

/// Returns the units to sale (idempotent; also fine for an order never reserved).
#[utoipa::path(post, path = "/internal/stock/reservations/{order_id}/release", tag = "internal",
    responses((status = 200, body = Reservation), (status = 409, body = storefront_kit::Problem)))]
pub async fn release(
    State(state): State<AppState>,
    Path(order): Path<String>,
) -> Result<Json<Reservation>, Error> {
    let order = OrderId::parse(&order)?;
    let (reservation, products) = reservations::release(&state.ledger, &order).await?;
    mirror(&state, &products).await;
    Ok(Json(reservation))
}

/// Puts a cancelled order's committed units back on hand, exactly once per order id (a repeat
/// answers 200 and changes nothing). 409 if the order's stock was never committed.
#[utoipa::path(post, path = "/internal/stock/reservations/{order_id}/return", tag = "internal",
    responses((status = 200, body = Reservation), (status = 409, body = storefront_kit::Problem)))]
pub async fn return_stock(
    State(state): State<AppState>,
    Path(order): Path<String>,
) -> Result<Json<Reservation>, Error> {
    let order = OrderId::parse(&order)?;
    let (reservation, products) = reservations::return_stock(&state.ledger, &order).await?;
    mirror(&state, &products).await;
    Ok(Json(reservation))
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockLevel {
    pub on_hand: i64,
    #[serde(default)]
    pub reserved: i64,
}

/// Sets the units on hand of a SKU (never below what is reserved).
#[utoipa::path(put, path = "/api/catalog/skus/{sku}/stock", request_body = StockLevel, tag = "products",
    responses((status = 200, body = StockLevel), (status = 409, body = storefront_kit::Problem)),
    security(("bearer" = [])))]
pub async fn set_stock(
    State(state): State<AppState>,
    _admin: Admin,
    Path(sku): Path<String>,
    Json(level): Json<StockLevel>,
) -> Result<Json<StockLevel>, Error> {
    let sku = Sku::parse(&sku)?;
    if !(0..=1_000_000_000).contains(&level.on_hand) {
        return Err(Error::invalid("onHand", "must be between 0 and 1000000000"));
    }
    let updated: Option<(String, i64)> = sqlx::query_as(
        "UPDATE inventory SET on_hand = $2 WHERE sku = $1 AND NOT retired AND reserved <= $2
         RETURNING product_id, reserved",
    )
    .bind(sku.as_str())
    .bind(level.on_hand)
    .fetch_optional(&state.ledger)
    .await?;
    let Some((product, reserved)) = updated else {
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT reserved FROM inventory WHERE sku = $1 AND NOT retired")
                .bind(sku.as_str())
                .fetch_optional(&state.ledger)
                .await?;
        return Err(match exists {
            None => Error::not_found(format!("No SKU {sku}.")),
            Some(reserved) => Error::Conflict {
                detail: format!(
                    "{reserved} units of {sku} are reserved; on hand cannot go below that."
                ),
                errors: vec![storefront_kit::FieldError::new(
                    "onHand",
                    "is below the units reserved",
                )],
            },
        });
    };
    mirror(&state, &[ProductId::parse(&product)?]).await;
    Ok(Json(StockLevel {
        on_hand: level.on_hand,
        reserved,
    }))
}

/// Releases expired reservations every `every` until shutdown.
pub async fn expire_reservations(state: AppState, every: Duration, shutdown: Shutdown) {
    loop {
        tokio::select! {
            () = shutdown.wait() => return,
            () = tokio::time::sleep(every) => {}
        }
        match reservations::expire_overdue(&state.ledger, 500).await {
            Ok((0, _)) => {}
            Ok((count, products)) => {
                tracing::info!(count, "expired reservations released");
                mirror(&state, &products).await;
            }
            Err(error) => tracing::warn!(%error, "expiring reservations failed"),
        }
    }
}
