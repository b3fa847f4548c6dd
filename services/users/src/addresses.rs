//! The caller's address book (`/api/users/me/addresses`). Every query is scoped to the caller,
//! so another user's address is simply not found (404), never revealed.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http::HeaderValue;
use http::header::LOCATION;
use serde::{Deserialize, Serialize};
use storefront_kit::{Json, Path, Principal, Query};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::AppState;
use crate::accounts::parse_user_id;
use crate::concurrency::{IfMatch, etag};
use crate::error::{Error, Result};
use crate::input::ValidBody;
use storefront_kit::page::{Page, PageQuery};

/// How many addresses one account may keep.
pub const MAX_ADDRESSES: i64 = 50;

/// The columns of [`Address`], for `concat!` into literal SQL.
macro_rules! columns {
    () => {
        "id, label, full_name, line1, line2, city, region, postal_code, country, phone, version, \
         created_at, updated_at"
    };
}

/// A postal address as the API shows it.
#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub id: Uuid,
    pub label: Option<String>,
    pub full_name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    pub phone: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The body of `POST` (create) and `PUT` (replace).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddressInput {
    #[validate(length(min = 1, max = 50))]
    pub label: Option<String>,
    #[validate(length(min = 1, max = 100))]
    pub full_name: String,
    #[validate(length(min = 1, max = 200))]
    pub line1: String,
    #[validate(length(max = 200))]
    pub line2: Option<String>,
    #[validate(length(min = 1, max = 100))]
    pub city: String,
    #[validate(length(max = 100))]
    pub region: Option<String>,
    #[validate(length(min = 1, max = 20))]
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 (`FR`, `us`).
    #[validate(custom(function = "country_code"))]
    pub country: String,
    #[validate(length(min = 3, max = 32))]
    pub phone: Option<String>,
}

fn country_code(value: &str) -> Result<(), ValidationError> {
    if value.len() == 2 && value.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(())
    } else {
        Err(ValidationError::new("country")
            .with_message("must be an ISO 3166-1 alpha-2 code, e.g. FR".into()))
    }
}

fn trimmed(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn not_found() -> Error {
    Error::NotFound("No such address.".to_owned())
}

fn with_etag(status: StatusCode, address: Address) -> Response {
    (status, etag(address.version), Json(address)).into_response()
}

/// The caller's addresses, oldest first.
#[utoipa::path(
    get,
    path = "/api/users/me/addresses",
    tag = "addresses",
    params(PageQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of addresses", body = Page<Address>))
)]
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Query(page): Query<PageQuery>,
) -> Result<Json<Page<Address>>> {
    let user_id = parse_user_id(&principal)?;
    let limit = page.limit()?;
    let after = page.after::<Uuid>()?;
    let rows = sqlx::query_as::<_, Address>(concat!(
        "SELECT ",
        columns!(),
        " FROM addresses
         WHERE user_id = $1 AND ($2::uuid IS NULL OR id > $2)
         ORDER BY id LIMIT $3"
    ))
    .bind(user_id)
    .bind(after)
    .bind(i64::from(limit) + 1)
    .fetch_all(&state.db)
    .await?;
    Ok(Json(Page::from_rows(rows, limit, |a| a.id)))
}

/// Adds an address.
#[utoipa::path(
    post,
    path = "/api/users/me/addresses",
    tag = "addresses",
    request_body = AddressInput,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; `Location` names it", body = Address),
        (status = 409, description = "The address book is full", body = storefront_kit::Problem),
        (status = 422, description = "Invalid field", body = storefront_kit::Problem),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ValidBody(input): ValidBody<AddressInput>,
) -> Result<Response> {
    let user_id = parse_user_id(&principal)?;
    let mut tx = state.db.begin().await?;
    // Serialise creations per user so the cap holds under concurrency.
    let exists: Option<Uuid> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1 FOR UPDATE")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?;
    if exists.is_none() {
        return Err(Error::NotFound("The account no longer exists.".to_owned()));
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM addresses WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&mut *tx)
        .await?;
    if count >= MAX_ADDRESSES {
        return Err(Error::Conflict(format!(
            "An account keeps at most {MAX_ADDRESSES} addresses; delete one first."
        )));
    }
    let address = sqlx::query_as::<_, Address>(concat!(
        "INSERT INTO addresses
           (id, user_id, label, full_name, line1, line2, city, region, postal_code, country, phone)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         RETURNING ",
        columns!()
    ))
    .bind(Uuid::now_v7())
    .bind(user_id)
    .bind(trimmed(&input.label))
    .bind(input.full_name.trim())
    .bind(input.line1.trim())
    .bind(trimmed(&input.line2))
    .bind(input.city.trim())
    .bind(trimmed(&input.region))
    .bind(input.postal_code.trim())
    .bind(input.country.to_ascii_uppercase())
    .bind(trimmed(&input.phone))
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let location = HeaderValue::from_str(&format!("/api/users/me/addresses/{}", address.id))
        .map_err(|e| Error::BadRequest(e.to_string()))?;
    let mut response = with_etag(StatusCode::CREATED, address);
    response.headers_mut().insert(LOCATION, location);
    Ok(response)
}

/// One of the caller's addresses.
#[utoipa::path(
    get,
    path = "/api/users/me/addresses/{id}",
    tag = "addresses",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The address", body = Address),
        (status = 404, description = "No such address of the caller", body = storefront_kit::Problem),
    )
)]
pub async fn get_one(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
) -> Result<Response> {
    let user_id = parse_user_id(&principal)?;
    let address = sqlx::query_as::<_, Address>(concat!(
        "SELECT ",
        columns!(),
        " FROM addresses WHERE id = $1 AND user_id = $2"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(&state.db)
    .await?
    .ok_or_else(not_found)?;
    Ok(with_etag(StatusCode::OK, address))
}

/// Replaces one of the caller's addresses; with `If-Match`, only if unchanged since read.
#[utoipa::path(
    put,
    path = "/api/users/me/addresses/{id}",
    tag = "addresses",
    request_body = AddressInput,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The replaced address", body = Address),
        (status = 404, description = "No such address of the caller", body = storefront_kit::Problem),
        (status = 412, description = "Changed since read", body = storefront_kit::Problem),
    )
)]
pub async fn replace(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    if_match: IfMatch,
    ValidBody(input): ValidBody<AddressInput>,
) -> Result<Response> {
    let user_id = parse_user_id(&principal)?;
    let updated = sqlx::query_as::<_, Address>(concat!(
        "UPDATE addresses SET label = $3, full_name = $4, line1 = $5, line2 = $6, city = $7,
           region = $8, postal_code = $9, country = $10, phone = $11,
           version = version + 1, updated_at = now()
         WHERE id = $1 AND user_id = $2 AND ($12::bigint IS NULL OR version = $12)
         RETURNING ",
        columns!()
    ))
    .bind(id)
    .bind(user_id)
    .bind(trimmed(&input.label))
    .bind(input.full_name.trim())
    .bind(input.line1.trim())
    .bind(trimmed(&input.line2))
    .bind(input.city.trim())
    .bind(trimmed(&input.region))
    .bind(input.postal_code.trim())
    .bind(input.country.to_ascii_uppercase())
    .bind(trimmed(&input.phone))
    .bind(if_match.expected())
    .fetch_optional(&state.db)
    .await?;
    match updated {
        Some(address) => Ok(with_etag(StatusCode::OK, address)),
        None if owns(&state, id, user_id).await? => Err(Error::PreconditionFailed),
        None => Err(not_found()),
    }
}

/// Deletes one of the caller's addresses.
#[utoipa::path(
    delete,
    path = "/api/users/me/addresses/{id}",
    tag = "addresses",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such address of the caller", body = storefront_kit::Problem),
        (status = 412, description = "Changed since read", body = storefront_kit::Problem),
    )
)]
pub async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Uuid>,
    if_match: IfMatch,
) -> Result<StatusCode> {
    let user_id = parse_user_id(&principal)?;
    let done = sqlx::query(
        "DELETE FROM addresses WHERE id = $1 AND user_id = $2 AND ($3::bigint IS NULL OR version = $3)",
    )
    .bind(id)
    .bind(user_id)
    .bind(if_match.expected())
    .execute(&state.db)
    .await?;
    if done.rows_affected() == 1 {
        Ok(StatusCode::NO_CONTENT)
    } else if owns(&state, id, user_id).await? {
        Err(Error::PreconditionFailed)
    } else {
        Err(not_found())
    }
}

async fn owns(state: &AppState, id: Uuid, user_id: Uuid) -> Result<bool> {
    Ok(
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM addresses WHERE id = $1 AND user_id = $2)",
        )
        .bind(id)
        .bind(user_id)
        .fetch_one(&state.db)
        .await?,
    )
}
