//! Products: public reads (by id, slug, SKU; filtered, sorted, cursor-paginated listings) and
//! admin writes with optimistic concurrency (`ETag` = version, `If-Match` → 412).

pub mod model;
pub mod store;
pub mod write;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use storefront_kit::{Admin, Json, Path, Principal, Query};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::categories;
use crate::error::Error;
use crate::ids::{IfMatch, ProductId, Sku, Version};
use crate::money::Money;
pub use model::{Product, ProductInput, ProductStatus, Variant};
use store::{After, ListQuery, Sort};
use storefront_kit::page::{self, Page};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/catalog/products",
            get(list_products).post(create_product),
        )
        .route(
            "/api/catalog/products/{id}",
            get(get_product).put(update_product).delete(delete_product),
        )
        .route(
            "/api/catalog/products/by-slug/{slug}",
            get(get_product_by_slug),
        )
        .route("/api/catalog/skus/{sku}", get(get_sku))
}

/// A product with its version as a strong ETag.
fn versioned(status: StatusCode, product: Product) -> Response {
    let etag = Version(product.version).etag();
    let mut response = (status, Json(product)).into_response();
    if let Ok(value) = etag.parse() {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// Drafts are visible to admins only.
fn visible(
    product: Option<Product>,
    principal: Option<&Principal>,
    what: &str,
) -> Result<Product, Error> {
    match product {
        Some(p)
            if p.status != ProductStatus::Draft || principal.is_some_and(Principal::is_admin) =>
        {
            Ok(p)
        }
        _ => Err(Error::not_found(format!("No product {what}."))),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Category id or slug; the listing includes its descendants.
    pub category: Option<String>,
    pub brand: Option<String>,
    /// Lowest `priceFrom.amount`, in minor units.
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub in_stock: Option<bool>,
    /// `draft`, `active` (default) or `archived`; other than `active` for admins only.
    #[param(value_type = Option<String>)]
    pub status: Option<ProductStatus>,
    /// `newest` (default), `price_asc` or `price_desc`.
    #[param(value_type = Option<String>)]
    pub sort: Option<Sort>,
    pub cursor: Option<String>,
    /// 1–100, default 20.
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/catalog/products", params(ListParams), tag = "products",
    responses((status = 200, body = inline(Page<Product>)), (status = 422, body = storefront_kit::Problem)))]
pub async fn list_products(
    State(state): State<AppState>,
    principal: Option<Principal>,
    Query(params): Query<ListParams>,
) -> Result<Json<Page<Product>>, Error> {
    let limit = page::limit(params.limit)?;
    let status = params.status.unwrap_or(ProductStatus::Active);
    if status != ProductStatus::Active && !principal.as_ref().is_some_and(Principal::is_admin) {
        return Err(Error::Forbidden(
            "Only admins may list draft or archived products.".into(),
        ));
    }
    let sort = params.sort.unwrap_or_default();
    let after = params
        .cursor
        .as_deref()
        .map(page::decode_cursor::<After>)
        .transpose()?;
    if after.as_ref().is_some_and(|a| a.sort != sort) {
        return Err(Error::invalid("cursor", "belongs to another sort order"));
    }
    if let (Some(min), Some(max)) = (params.min_price, params.max_price)
        && min > max
    {
        return Err(Error::invalid("minPrice", "must not exceed maxPrice"));
    }
    let category_ids = match &params.category {
        None => None,
        Some(key) => Some(
            categories::store::subtree_ids(&state.documents, key)
                .await?
                .ok_or_else(|| Error::invalid("category", "no such category"))?,
        ),
    };
    let query = ListQuery {
        statuses: vec![status],
        category_ids,
        brand: params.brand,
        min_price: params.min_price,
        max_price: params.max_price,
        in_stock: params.in_stock,
        sort,
        after,
        limit,
    };
    let (items, next) = store::list(&state.documents, &query).await?;
    Ok(Json(Page {
        items,
        next_cursor: next.map(|n| page::encode_cursor(&n)),
    }))
}

#[utoipa::path(get, path = "/api/catalog/products/{id}", tag = "products",
    responses((status = 200, body = Product), (status = 404, body = storefront_kit::Problem)))]
pub async fn get_product(
    State(state): State<AppState>,
    principal: Option<Principal>,
    Path(id): Path<String>,
) -> Result<Response, Error> {
    let id = ProductId::parse(&id)?;
    let product = store::get(&state.documents, &id).await?;
    let product = visible(product, principal.as_ref(), id.as_str())?;
    Ok(versioned(StatusCode::OK, product))
}

#[utoipa::path(get, path = "/api/catalog/products/by-slug/{slug}", tag = "products",
    responses((status = 200, body = Product), (status = 404, body = storefront_kit::Problem)))]
pub async fn get_product_by_slug(
    State(state): State<AppState>,
    principal: Option<Principal>,
    Path(slug): Path<String>,
) -> Result<Response, Error> {
    if crate::ids::validate_slug(&slug).is_err() {
        return Err(Error::not_found(format!("No product {slug:?}.")));
    }
    let product = store::get_by_slug(&state.documents, &slug).await?;
    let product = visible(product, principal.as_ref(), &slug)?;
    Ok(versioned(StatusCode::OK, product))
}

#[utoipa::path(post, path = "/api/catalog/products", request_body = ProductInput, tag = "products",
    responses((status = 201, body = Product), (status = 409, body = storefront_kit::Problem),
        (status = 422, body = storefront_kit::Problem)), security(("bearer" = [])))]
pub async fn create_product(
    State(state): State<AppState>,
    _admin: Admin,
    Json(input): Json<ProductInput>,
) -> Result<Response, Error> {
    let product = write::create(&state, input).await?;
    let location = format!("/api/catalog/products/{}", product.id);
    let mut response = versioned(StatusCode::CREATED, product);
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

#[utoipa::path(put, path = "/api/catalog/products/{id}", request_body = ProductInput, tag = "products",
    params(("If-Match" = Option<String>, Header, description = "The ETag of the version being replaced")),
    responses((status = 200, body = Product), (status = 412, body = storefront_kit::Problem),
        (status = 422, body = storefront_kit::Problem)), security(("bearer" = [])))]
pub async fn update_product(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(input): Json<ProductInput>,
) -> Result<Response, Error> {
    let id = ProductId::parse(&id)?;
    let condition = IfMatch::from_headers(&headers)?;
    let product = write::update(&state, &id, input, condition.as_ref()).await?;
    Ok(versioned(StatusCode::OK, product))
}

#[utoipa::path(delete, path = "/api/catalog/products/{id}", tag = "products",
    responses((status = 204), (status = 412, body = storefront_kit::Problem)), security(("bearer" = [])))]
pub async fn delete_product(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, Error> {
    let id = ProductId::parse(&id)?;
    let condition = IfMatch::from_headers(&headers)?;
    write::delete(&state, &id, condition.as_ref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One variant with its product, for the cart (pricing) and checkout.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkuView {
    pub sku: String,
    pub product_id: String,
    pub slug: String,
    pub title: String,
    pub variant_title: Option<String>,
    pub price: Money,
    pub attributes: std::collections::BTreeMap<String, String>,
    pub status: ProductStatus,
    /// Units that can be reserved now (from the ledger).
    pub available: i64,
    pub image: Option<String>,
    pub version: i64,
    /// The product's categories (the cart prices promotions and codes by category).
    pub category_ids: Vec<String>,
    /// The variant's shipping weight, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_grams: Option<i64>,
}

#[utoipa::path(get, path = "/api/catalog/skus/{sku}", tag = "products",
    responses((status = 200, body = SkuView), (status = 404, body = storefront_kit::Problem)))]
pub async fn get_sku(
    State(state): State<AppState>,
    principal: Option<Principal>,
    Path(sku): Path<String>,
) -> Result<Json<SkuView>, Error> {
    let sku = Sku::parse(&sku)?;
    let missing = || Error::not_found(format!("No SKU {sku}."));
    let row = sqlx::query("SELECT product_id, on_hand - reserved AS available FROM inventory WHERE sku = $1 AND NOT retired")
        .bind(sku.as_str())
        .fetch_optional(&state.ledger)
        .await?
        .ok_or_else(missing)?;
    let product_id = ProductId::parse(row.get("product_id"))?;
    let product = store::get(&state.documents, &product_id).await?;
    let product = visible(product, principal.as_ref(), sku.as_str()).map_err(|_| missing())?;
    let variant = product
        .variants
        .iter()
        .find(|v| v.sku == sku.as_str())
        .ok_or_else(missing)?;
    Ok(Json(SkuView {
        sku: variant.sku.clone(),
        product_id: product.id.clone(),
        slug: product.slug.clone(),
        title: product.title.clone(),
        variant_title: variant.title.clone(),
        price: variant.price,
        attributes: variant.attributes.clone(),
        status: product.status,
        available: row.get("available"),
        image: product.images.first().map(|i| i.urls.thumbnail.clone()),
        version: product.version,
        category_ids: product.category_ids.clone(),
        weight_grams: variant.weight_grams,
    }))
}
