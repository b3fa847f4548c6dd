//! Orders: what the saga creates, what shoppers list, read and cancel, and what admins ship,
//! cancel or refund, every move checked by the state machine in [`status`].

pub mod cancellation;
pub mod refunds;
pub mod shipping;
pub mod status;
pub mod store;
pub mod summary;

use axum::extract::State;
use chrono::{DateTime, Utc};
use http::HeaderMap;
use serde::{Deserialize, Serialize};
use storefront_kit::{Admin, FieldError, Json, Path, Principal, Problem, Query};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::Error;
use crate::ids::{OrderId, Sku};
use crate::money::Money;
pub use status::{Actor, OrderStatus, SagaStep};
use storefront_kit::page::{self, Page, PageQuery};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    #[schema(value_type = String)]
    pub sku: Sku,
    pub title: String,
    pub variant_title: Option<String>,
    pub quantity: i64,
    pub unit_price: Money,
    pub line_total: Money,
}

/// Why an order failed: a stable `reason` code (`out_of_stock`, `payment_declined`,
/// `payment_error`, `reservation_expired`, `unknown_sku`) and words for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    pub reason: String,
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    #[schema(value_type = String, format = Uuid)]
    pub id: OrderId,
    pub user_id: String,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    pub total: Money,
    /// What was charged: promotions, code, shipping and tax per line and in total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pricing: Option<crate::pricing::PricedOrder>,
    /// What the payment provider has taken (on shipping); zero before.
    pub captured: Money,
    /// What was given back by refunds that went through or are under way.
    pub refunded: Money,
    /// Refunds, oldest first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<refunds::Refund>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub saga_step: SagaStep,
    #[serde(skip)]
    pub payment_token: String,
    #[serde(skip)]
    pub authorization_id: Option<String>,
    #[serde(skip)]
    pub idempotency_key: Option<String>,
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_my_orders))
        .routes(routes!(get_my_order))
        .routes(routes!(list_orders))
        .routes(routes!(order_summary))
        .routes(routes!(get_order))
        .routes(routes!(change_status))
        .routes(routes!(cancel_my_order))
        .routes(routes!(refund_order))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AdminListParams {
    /// PENDING, CONFIRMED, FAILED, EXPIRED, SHIPPED, CANCELLED or REFUNDED.
    pub status: Option<String>,
    pub user_id: Option<String>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// 1–100, default 20.
    pub limit: Option<u32>,
}

fn order_id(value: &str) -> Result<OrderId, Error> {
    OrderId::parse(value).ok_or_else(|| Error::NotFound(format!("No order {value:?}.")))
}

/// The caller's orders, newest first.
#[utoipa::path(get, path = "/api/cart/orders", tag = "orders", params(PageQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of orders", body = Page<Order>),
        (status = 400, description = "Bad query parameter", body = Problem),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 422, description = "Bad limit or cursor", body = Problem)))]
async fn list_my_orders(
    State(state): State<AppState>,
    principal: Principal,
    Query(params): Query<PageQuery>,
) -> Result<Json<Page<Order>>, Error> {
    let limit = params.limit()?;
    let after = params.after()?;
    let mut conn = state.db.acquire().await?;
    let orders = store::list(&mut conn, Some(&principal.user_id), None, after, limit + 1).await?;
    Ok(Json(Page::from_rows(orders, limit, |o| o.id)))
}

/// The owner's order; anyone else (but an admin) is told it does not exist.
#[utoipa::path(get, path = "/api/cart/orders/{id}", tag = "orders",
    params(("id" = String, Path, description = "The order id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The order", body = Order),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 404, description = "No such order of the caller's", body = Problem)))]
async fn get_my_order(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Order>, Error> {
    let id = order_id(&id)?;
    let mut conn = state.db.acquire().await?;
    match store::load(&mut conn, &id).await? {
        Some(order) if order.user_id == principal.user_id || principal.is_admin() => {
            Ok(Json(order))
        }
        _ => Err(Error::NotFound(format!("No order {id}."))),
    }
}

/// Every order, newest first (admin).
#[utoipa::path(get, path = "/api/cart/admin/orders", tag = "admin", params(AdminListParams),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of orders", body = Page<Order>),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 422, description = "Bad status, limit or cursor", body = Problem)))]
async fn list_orders(
    State(state): State<AppState>,
    _admin: Admin,
    Query(params): Query<AdminListParams>,
) -> Result<Json<Page<Order>>, Error> {
    let limit = page::limit(params.limit)?;
    let after = page::decode_after(params.cursor.as_deref())?;
    let status = match params.status.as_deref() {
        None => None,
        Some(s) => Some(OrderStatus::parse(&s.to_ascii_uppercase()).ok_or_else(|| {
            Error::invalid(
                "status",
                "must be PENDING, CONFIRMED, FAILED, EXPIRED, SHIPPED, CANCELLED or REFUNDED",
            )
        })?),
    };
    let mut conn = state.db.acquire().await?;
    let orders = store::list(
        &mut conn,
        params.user_id.as_deref(),
        status,
        after,
        limit + 1,
    )
    .await?;
    Ok(Json(Page::from_rows(orders, limit, |o| o.id)))
}

/// Any order (admin).
#[utoipa::path(get, path = "/api/cart/admin/orders/{id}", tag = "admin",
    params(("id" = String, Path, description = "The order id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The order", body = Order),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such order", body = Problem)))]
async fn get_order(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<Order>, Error> {
    let id = order_id(&id)?;
    let mut conn = state.db.acquire().await?;
    store::load(&mut conn, &id)
        .await?
        .map(Json)
        .ok_or_else(|| Error::NotFound(format!("No order {id}.")))
}

/// Orders taken, cancelled and revenue (per currency) of orders created since `since` (admin).
#[utoipa::path(get, path = "/api/cart/admin/orders/summary", tag = "admin",
    params(summary::SummaryParams),
    security(("bearer" = [])),
    responses((status = 200, description = "The figures", body = summary::Summary),
        (status = 400, description = "`since` missing or not RFC 3339", body = Problem),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 403, description = "Not an admin", body = Problem)))]
async fn order_summary(
    State(state): State<AppState>,
    _admin: Admin,
    Query(params): Query<summary::SummaryParams>,
) -> Result<Json<summary::Summary>, Error> {
    let since = summary::since(&params)?;
    Ok(Json(summary::summarize(&state.db, since).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StatusChange {
    pub status: String,
    /// Why (kept on the event), e.g. "customer request".
    pub reason: Option<String>,
}

/// `If-Match: "<version>"` when present must name the current version.
fn if_match(headers: &HeaderMap) -> Result<Option<i64>, Error> {
    let Some(value) = headers.get(http::header::IF_MATCH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
        .and_then(|v| v.parse().ok())
        .map(Some)
        .ok_or_else(|| Error::BadRequest("If-Match must be a quoted order version.".into()))
}

/// Where a requested move stands after the order's row is locked.
pub enum Move {
    /// The order has the target status already: nothing to do (the answer is the order).
    AlreadyThere(Order),
    /// The move is allowed; the row stays locked until the transaction ends.
    Allowed(Order),
}

/// Locks the order and checks, in one place, that `actor` may move it to `target` (and that
/// `If-Match`, when given, names its version).
pub async fn lock_for_move(
    tx: &mut sqlx::PgConnection,
    id: &OrderId,
    target: OrderStatus,
    actor: Actor,
    expected_version: Option<i64>,
) -> Result<Move, Error> {
    let current: Option<(String, i64)> =
        sqlx::query_as("SELECT status, version FROM orders WHERE id = $1 FOR UPDATE")
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await?;
    let Some((current, version)) = current else {
        return Err(Error::NotFound(format!("No order {id}.")));
    };
    if expected_version.is_some_and(|v| v != version) {
        return Err(Error::PreconditionFailed(format!(
            "The order is at version {version}, not the one in If-Match."
        )));
    }
    let current = OrderStatus::parse(&current)
        .ok_or_else(|| Error::Internal(format!("stored status {current:?}")))?;
    let order = store::load(tx, id)
        .await?
        .ok_or_else(|| Error::Internal("order vanished".into()))?;
    if current == target {
        return Ok(Move::AlreadyThere(order));
    }
    if !current.allows(target, actor) {
        return Err(Error::conflict(
            format!(
                "An order that is {} cannot become {}.",
                current.as_str(),
                target.as_str()
            ),
            vec![FieldError::new(
                "status",
                "not allowed from the current status",
            )],
        ));
    }
    Ok(Move::Allowed(order))
}

/// Ships or cancels a confirmed order. Setting the status it already has changes nothing.
/// Shipping captures the payment and announces `OrderShipped`; cancelling voids the payment,
/// returns the stock to the catalog ([`cancellation`]) and announces `OrderCancelled`.
#[utoipa::path(post, path = "/api/cart/admin/orders/{id}/status", tag = "admin", request_body = StatusChange,
    params(("id" = String, Path, description = "The order id"),
        ("If-Match" = Option<String>, Header, description = "The order's version, quoted")),
    security(("bearer" = [])),
    responses((status = 200, description = "The order", body = Order),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such order", body = Problem),
        (status = 409, description = "Not allowed from the current status, or the payment provider refused the capture", body = Problem),
        (status = 412, description = "If-Match names another version", body = Problem),
        (status = 422, description = "Bad status", body = Problem),
        (status = 502, description = "The payment provider failed; retry", body = Problem)))]
async fn change_status(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(change): Json<StatusChange>,
) -> Result<Json<Order>, Error> {
    let id = order_id(&id)?;
    let target = OrderStatus::parse(&change.status.to_ascii_uppercase())
        .filter(|s| s.settable_by_admin())
        .ok_or_else(|| Error::invalid("status", "must be SHIPPED or CANCELLED"))?;
    let expected_version = if_match(&headers)?;
    let reason = change
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(Error::invalid("reason", "must be at most 500 characters"));
    }
    let order = match target {
        OrderStatus::Shipped => shipping::ship(&state, &id, expected_version).await?,
        _ => {
            cancellation::cancel(
                &state,
                &id,
                Actor::Admin,
                &admin.user_id,
                reason,
                expected_version,
            )
            .await?
        }
    };
    Ok(Json(order))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancelRequest {
    /// Why, in the shopper's words (kept on the event).
    pub reason: Option<String>,
}

/// The shopper cancels their own order while it has not shipped: the payment is voided and the
/// items go back on the shelf. Cancelling a cancelled order again changes nothing.
#[utoipa::path(post, path = "/api/cart/orders/{id}/cancel", tag = "orders", request_body = CancelRequest,
    params(("id" = String, Path, description = "The order id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The CANCELLED order", body = Order),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 404, description = "No such order of the caller's", body = Problem),
        (status = 409, description = "Shipped, failed or expired orders cannot be cancelled", body = Problem),
        (status = 422, description = "Bad body", body = Problem)))]
async fn cancel_my_order(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    Json(request): Json<CancelRequest>,
) -> Result<Json<Order>, Error> {
    let id = order_id(&id)?;
    let reason = request
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(Error::invalid("reason", "must be at most 500 characters"));
    }
    {
        let mut conn = state.db.acquire().await?;
        match store::load(&mut conn, &id).await? {
            Some(order) if order.user_id == principal.user_id => {}
            _ => return Err(Error::NotFound(format!("No order {id}."))),
        }
    }
    let order =
        cancellation::cancel(&state, &id, Actor::Owner, &principal.user_id, reason, None).await?;
    Ok(Json(order))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefundMoney {
    /// Minor units.
    pub amount: i64,
    /// The order's currency.
    pub currency: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefundRequestBody {
    /// How much to give back; without it, everything captured and not yet refunded.
    pub amount: Option<RefundMoney>,
    pub reason: Option<String>,
}

/// Refunds part or all of a shipped order's captured payment (admin). Requires an
/// `Idempotency-Key`: a retry returns the same refund instead of refunding twice. The sum of
/// refunds never exceeds the capture; when it reaches it, the order becomes REFUNDED.
#[utoipa::path(post, path = "/api/cart/admin/orders/{id}/refunds", tag = "admin",
    request_body = RefundRequestBody,
    params(("id" = String, Path, description = "The order id"),
        ("Idempotency-Key" = String, Header, description = "1–255 visible ASCII characters; a retry returns the same refund")),
    security(("bearer" = [])),
    responses((status = 201, description = "Refunded; the order with its refunds", body = Order),
        (status = 200, description = "Refunded before under this Idempotency-Key", body = Order),
        (status = 400, description = "Missing Idempotency-Key", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such order", body = Problem),
        (status = 409, description = "Not shipped, nothing left to refund, or the provider refused", body = Problem),
        (status = 422, description = "Bad amount or currency, or the key reused with another body", body = Problem),
        (status = 502, description = "The payment provider failed; retry with the same key", body = Problem)))]
async fn refund_order(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(request): Json<RefundRequestBody>,
) -> Result<axum::response::Response, Error> {
    use axum::response::IntoResponse;
    let id = order_id(&id)?;
    let key = crate::checkout::idempotency_key(&headers)?;
    let reason = request
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(Error::invalid("reason", "must be at most 500 characters"));
    }
    if let Some(money) = &request.amount
        && money.amount <= 0
    {
        return Err(Error::invalid(
            "amount.amount",
            "must be a positive number of minor units",
        ));
    }
    let recorded = refunds::record(
        &state,
        &id,
        &refunds::RefundAsk {
            amount: request.amount.as_ref().map(|m| m.amount),
            currency: request.amount.as_ref().map(|m| m.currency.as_str()),
            reason,
            requested_by: &admin.user_id,
            idempotency_key: key.as_str(),
        },
    )
    .await?;
    let (refund, status) = match recorded {
        refunds::Recorded::New(refund) => (refund, http::StatusCode::CREATED),
        refunds::Recorded::Replayed(refund) => (refund, http::StatusCode::OK),
    };
    if let refunds::Settled::Refused(why) = refunds::settle(&state, refund).await? {
        return Err(Error::PaymentRefused(why));
    }
    let mut conn = state.db.acquire().await?;
    let order = store::load(&mut conn, &id)
        .await?
        .ok_or_else(|| Error::NotFound(format!("No order {id}.")))?;
    Ok((status, Json(order)).into_response())
}
