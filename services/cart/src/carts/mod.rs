//! Carts: a guest's (by the opaque id in `X-Cart-Id` or the `cart_id` cookie) or a signed-in
//! user's (by the token's subject), kept in Redis. Prices and availability in a cart view always
//! come from the catalog, never from the client. On login the guest cart merges into the user's.

pub mod store;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use futures::future::try_join_all;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use storefront_kit::{FieldError, Json, Path, Principal, Problem};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::catalog_client::SkuView;
use crate::error::Error;
use crate::ids::{CartId, Sku};
use crate::money::{self, Money};
pub use store::{CartOwner, CartStore, Write};

pub const CART_ID_HEADER: &str = "x-cart-id";
pub const CART_COOKIE: &str = "cart_id";

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_cart, create_cart))
        .routes(routes!(add_line))
        .routes(routes!(update_line, remove_line))
        .routes(routes!(merge))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartLineView {
    #[schema(value_type = String)]
    pub sku: Sku,
    pub quantity: i64,
    /// False when the catalog no longer sells the SKU; such a line blocks checkout.
    pub purchasable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant_title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Money>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_total: Option<Money>,
    /// Units the catalog can sell now.
    pub available: i64,
    pub in_stock: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CartView {
    /// The guest cart's id; absent for a signed-in user's cart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub lines: Vec<CartLineView>,
    pub item_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtotal: Option<Money>,
}

/// The cart a request addresses. A signed-in user always gets their own cart; a guest gets the
/// cart named by header or cookie (`None` when they have none yet).
fn owner(principal: Option<&Principal>, headers: &HeaderMap) -> Result<Option<CartOwner>, Error> {
    if let Some(principal) = principal {
        return Ok(Some(CartOwner::User(principal.user_id.clone())));
    }
    Ok(guest_cart_id(headers)?.map(CartOwner::Guest))
}

/// The guest cart id from `X-Cart-Id`, else from the `cart_id` cookie; a malformed one is a 400.
pub fn guest_cart_id(headers: &HeaderMap) -> Result<Option<CartId>, Error> {
    let from_header = headers
        .get(CART_ID_HEADER)
        .map(|v| v.to_str().unwrap_or_default().trim().to_owned());
    let from_cookie = || {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == CART_COOKIE)
            .map(|(_, value)| value.trim().to_owned())
    };
    match from_header.or_else(from_cookie) {
        None => Ok(None),
        Some(raw) => CartId::parse(&raw).map(Some).ok_or_else(|| {
            Error::BadRequest(
                "The cart id (X-Cart-Id or the cart_id cookie) is not one this service issued."
                    .into(),
            )
        }),
    }
}

/// The cart's lines priced by the catalog, looked up concurrently.
pub async fn view(state: &AppState, owner: Option<&CartOwner>) -> Result<CartView, Error> {
    let id = match owner {
        Some(CartOwner::Guest(id)) => Some(id.to_string()),
        _ => None,
    };
    let lines = match owner {
        Some(owner) => state.carts.lines(owner).await?,
        None => Vec::new(),
    };
    let lookups = lines.iter().map(|(sku, _)| state.catalog.sku(sku));
    let skus = try_join_all(lookups).await?;
    let lines: Vec<CartLineView> = lines
        .into_iter()
        .zip(skus)
        .map(|((sku, quantity), found)| line_view(sku, quantity, found))
        .collect();
    let priced: Vec<(&Money, i64)> = lines
        .iter()
        .filter_map(|l| l.unit_price.as_ref().map(|p| (p, l.quantity)))
        .collect();
    Ok(CartView {
        id,
        item_count: lines.iter().map(|l| l.quantity).sum(),
        subtotal: money::total(priced),
        lines,
    })
}

fn line_view(sku: Sku, quantity: i64, found: Option<SkuView>) -> CartLineView {
    match found {
        Some(item) if item.for_sale() => CartLineView {
            sku,
            quantity,
            purchasable: true,
            title: Some(item.title),
            variant_title: item.variant_title,
            image: item.image,
            line_total: item.price.checked_mul(quantity),
            unit_price: Some(item.price),
            available: item.available.max(0),
            in_stock: item.available >= quantity,
        },
        _ => CartLineView {
            sku,
            quantity,
            purchasable: false,
            title: None,
            variant_title: None,
            image: None,
            unit_price: None,
            line_total: None,
            available: 0,
            in_stock: false,
        },
    }
}

/// The view, plus the guest cart id as `X-Cart-Id` and an HttpOnly cookie.
fn respond(state: &AppState, status: StatusCode, view: CartView) -> Response {
    let mut response = (status, Json(&view)).into_response();
    if let Some(id) = &view.id {
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(id) {
            headers.insert(CART_ID_HEADER, value);
        }
        let cookie = format!(
            "{CART_COOKIE}={id}; Path=/api/cart; Max-Age={}; HttpOnly; SameSite=Lax",
            state.carts.limits().ttl.as_secs()
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.insert(header::SET_COOKIE, value);
        }
    }
    response
}

/// The caller's cart (a guest's by `X-Cart-Id` or cookie; empty when they have none).
#[utoipa::path(get, path = "/api/cart", tag = "carts",
    params(("X-Cart-Id" = Option<String>, Header, description = "A guest's cart id")),
    security((), ("bearer" = [])),
    responses((status = 200, description = "The cart", body = CartView),
        (status = 400, description = "Malformed cart id", body = Problem),
        (status = 503, description = "A dependency is down", body = Problem)))]
async fn get_cart(
    State(state): State<AppState>,
    principal: Option<Principal>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let owner = owner(principal.as_ref(), &headers)?;
    let view = view(&state, owner.as_ref()).await?;
    Ok(respond(&state, StatusCode::OK, view))
}

/// A guest gets a new, empty cart (201); a signed-in user gets their cart.
#[utoipa::path(post, path = "/api/cart", tag = "carts",
    security((), ("bearer" = [])),
    responses((status = 201, description = "A new guest cart; its id in `X-Cart-Id` and the cookie", body = CartView),
        (status = 200, description = "The signed-in user's cart", body = CartView),
        (status = 503, description = "A dependency is down", body = Problem)))]
async fn create_cart(
    State(state): State<AppState>,
    principal: Option<Principal>,
) -> Result<Response, Error> {
    match principal {
        Some(principal) => {
            let owner = CartOwner::User(principal.user_id);
            let view = view(&state, Some(&owner)).await?;
            Ok(respond(&state, StatusCode::OK, view))
        }
        None => {
            let owner = CartOwner::Guest(CartId::generate());
            let view = view(&state, Some(&owner)).await?;
            Ok(respond(&state, StatusCode::CREATED, view))
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddLine {
    pub sku: String,
    /// Default 1.
    pub quantity: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateLine {
    /// 0 removes the line.
    pub quantity: i64,
}

fn parse_sku(field: &str, value: &str) -> Result<Sku, Error> {
    Sku::parse(value).map_err(|rule| Error::invalid(field, rule))
}

fn check_quantity(state: &AppState, quantity: i64, zero_ok: bool) -> Result<(), Error> {
    let min = i64::from(!zero_ok);
    let max = state.carts.limits().max_quantity;
    if (min..=max).contains(&quantity) {
        Ok(())
    } else {
        Err(Error::invalid(
            "quantity",
            format!("must be between {min} and {max}"),
        ))
    }
}

/// The SKU as the catalog sells it now: 422 when it does not, 409 when there are not enough.
async fn sellable(state: &AppState, sku: &Sku, wanted: i64) -> Result<SkuView, Error> {
    let item = state
        .catalog
        .sku(sku)
        .await?
        .filter(SkuView::for_sale)
        .ok_or_else(|| Error::invalid("sku", format!("the catalog does not sell {sku}")))?;
    if item.available < wanted {
        return Err(Error::conflict(
            format!("Only {} of {sku} available.", item.available.max(0)),
            vec![FieldError::new(
                "quantity",
                format!("only {} available", item.available.max(0)),
            )],
        ));
    }
    Ok(item)
}

fn write_result(state: &AppState, write: Write) -> Result<(), Error> {
    let limits = state.carts.limits();
    match write {
        Write::Done(_) => Ok(()),
        Write::TooManyLines => Err(Error::invalid(
            "sku",
            format!("a cart holds at most {} lines", limits.max_lines),
        )),
        Write::TooMany => Err(Error::invalid(
            "quantity",
            format!("a line holds at most {} units", limits.max_quantity),
        )),
    }
}

/// Adds units of a SKU (default 1). A guest without a cart gets one.
#[utoipa::path(post, path = "/api/cart/lines", tag = "carts", request_body = AddLine,
    params(("X-Cart-Id" = Option<String>, Header, description = "A guest's cart id")),
    security((), ("bearer" = [])),
    responses((status = 200, description = "The cart", body = CartView),
        (status = 409, description = "Not that many available", body = Problem),
        (status = 422, description = "Bad body, a SKU not sold, or over a limit", body = Problem),
        (status = 503, description = "A dependency is down", body = Problem)))]
async fn add_line(
    State(state): State<AppState>,
    principal: Option<Principal>,
    headers: HeaderMap,
    Json(body): Json<AddLine>,
) -> Result<Response, Error> {
    let sku = parse_sku("sku", &body.sku)?;
    let quantity = body.quantity.unwrap_or(1);
    check_quantity(&state, quantity, false)?;
    let owner = owner(principal.as_ref(), &headers)?
        .unwrap_or_else(|| CartOwner::Guest(CartId::generate()));
    let current = state.carts.quantity(&owner, &sku).await?;
    sellable(&state, &sku, current.saturating_add(quantity)).await?;
    let write = state.carts.add(&owner, &sku, quantity).await?;
    write_result(&state, write)?;
    let view = view(&state, Some(&owner)).await?;
    Ok(respond(&state, StatusCode::OK, view))
}

/// Sets a line's quantity; 0 removes it.
#[utoipa::path(put, path = "/api/cart/lines/{sku}", tag = "carts", request_body = UpdateLine,
    params(("sku" = String, Path, description = "The line's SKU"),
        ("X-Cart-Id" = Option<String>, Header, description = "A guest's cart id")),
    security((), ("bearer" = [])),
    responses((status = 200, description = "The cart", body = CartView),
        (status = 404, description = "No such line", body = Problem),
        (status = 409, description = "Not that many available", body = Problem),
        (status = 422, description = "Bad quantity", body = Problem)))]
async fn update_line(
    State(state): State<AppState>,
    principal: Option<Principal>,
    headers: HeaderMap,
    Path(sku): Path<String>,
    Json(body): Json<UpdateLine>,
) -> Result<Response, Error> {
    let sku = parse_sku("sku", &sku)?;
    check_quantity(&state, body.quantity, true)?;
    let owner = owner(principal.as_ref(), &headers)?
        .ok_or_else(|| Error::NotFound(format!("No line {sku} in this cart.")))?;
    if body.quantity == 0 {
        state.carts.remove(&owner, &sku).await?;
    } else {
        if state.carts.quantity(&owner, &sku).await? == 0 {
            return Err(Error::NotFound(format!("No line {sku} in this cart.")));
        }
        sellable(&state, &sku, body.quantity).await?;
        let write = state.carts.set(&owner, &sku, body.quantity).await?;
        write_result(&state, write)?;
    }
    let view = view(&state, Some(&owner)).await?;
    Ok(respond(&state, StatusCode::OK, view))
}

/// Removes a line.
#[utoipa::path(delete, path = "/api/cart/lines/{sku}", tag = "carts",
    params(("sku" = String, Path, description = "The line's SKU"),
        ("X-Cart-Id" = Option<String>, Header, description = "A guest's cart id")),
    security((), ("bearer" = [])),
    responses((status = 200, description = "The cart", body = CartView),
        (status = 404, description = "No such line", body = Problem)))]
async fn remove_line(
    State(state): State<AppState>,
    principal: Option<Principal>,
    headers: HeaderMap,
    Path(sku): Path<String>,
) -> Result<Response, Error> {
    let sku = parse_sku("sku", &sku)?;
    let owner = owner(principal.as_ref(), &headers)?
        .ok_or_else(|| Error::NotFound(format!("No line {sku} in this cart.")))?;
    if !state.carts.remove(&owner, &sku).await? {
        return Err(Error::NotFound(format!("No line {sku} in this cart.")));
    }
    let view = view(&state, Some(&owner)).await?;
    Ok(respond(&state, StatusCode::OK, view))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MergeRequest {
    /// The guest cart; defaults to `X-Cart-Id` or the `cart_id` cookie.
    pub cart_id: Option<String>,
}

/// On login: the guest cart's lines move into the user's cart and the guest cart is deleted
/// (its cookie is cleared). Merging again, or with no guest cart, changes nothing.
#[utoipa::path(post, path = "/api/cart/merge", tag = "carts", request_body(content = Option<MergeRequest>),
    params(("X-Cart-Id" = Option<String>, Header, description = "The guest cart, when the body names none")),
    security(("bearer" = [])),
    responses((status = 200, description = "The user's cart after the merge", body = CartView),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 422, description = "Bad cart id", body = Problem)))]
async fn merge(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Error> {
    let request: MergeRequest = if body.iter().all(u8::is_ascii_whitespace) {
        MergeRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            Error::BadRequest(format!(
                "The JSON body does not have the expected shape: {e}"
            ))
        })?
    };
    let guest = match request.cart_id {
        Some(raw) => Some(
            CartId::parse(&raw)
                .ok_or_else(|| Error::invalid("cartId", "is not a cart id this service issued"))?,
        ),
        None => guest_cart_id(&headers)?,
    };
    if let Some(guest) = &guest {
        let dropped = state.carts.merge(guest, &principal.user_id).await?;
        if dropped > 0 {
            tracing::info!(
                dropped,
                "guest cart lines beyond the limit were dropped on merge"
            );
        }
    }
    let owner = CartOwner::User(principal.user_id);
    let view = view(&state, Some(&owner)).await?;
    let mut response = respond(&state, StatusCode::OK, view);
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("cart_id=; Path=/api/cart; Max-Age=0; HttpOnly; SameSite=Lax"),
    );
    Ok(response)
}
