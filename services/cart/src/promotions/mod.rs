//! Promotions: automatic catalogue promotions (a sale price on matching SKUs, products or
//! categories within a time window) and discount codes ([`codes`]). Admins `PUT` them by id
//! (create or replace; retries are harmless).

pub mod codes;

use axum::extract::State;
use chrono::{DateTime, Utc};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Row};
use storefront_kit::{Admin, FieldError, Json, Path, Problem, Query};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::Error;
use storefront_kit::page::{Page, PageQuery};

use crate::pricing::rules::{SLUG_RULE, valid_slug};
use crate::pricing::{DiscountValue, Promotion, Target};
use crate::rules_page;

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromotionInput {
    /// Shown to shoppers beside the sale price, e.g. "Summer sale".
    pub name: String,
    /// Percent of the unit price, or a fixed amount off each unit.
    pub value: DiscountValue,
    #[serde(default)]
    pub target: Target,
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default = "default_true")]
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromotionView {
    pub id: String,
    pub name: String,
    pub value: DiscountValue,
    pub target: Target,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub active: bool,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

/// Checks a name, a window and a target shared by promotions and codes.
pub fn validate_window(
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    errors: &mut Vec<FieldError>,
) {
    if let (Some(start), Some(end)) = (starts_at, ends_at)
        && end <= start
    {
        errors.push(FieldError::new("endsAt", "must be after startsAt"));
    }
}

impl PromotionInput {
    fn validate(&self) -> Result<(), Error> {
        let mut errors = Vec::new();
        let name = self.name.trim().chars().count();
        if !(1..=100).contains(&name) {
            errors.push(FieldError::new("name", "must be 1–100 characters"));
        }
        self.value.validate("value", &mut errors);
        self.target.validate("target", &mut errors);
        validate_window(self.starts_at, self.ends_at, &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(errors))
        }
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_promotions))
        .routes(routes!(get_promotion, put_promotion, delete_promotion))
        .merge(codes::routes())
}

pub fn json_field<T: serde::de::DeserializeOwned>(
    row: &sqlx::postgres::PgRow,
    name: &str,
) -> Result<T, Error> {
    let value: serde_json::Value = row.try_get(name)?;
    serde_json::from_value(value).map_err(|e| Error::Internal(format!("stored {name}: {e}")))
}

pub fn to_json<T: Serialize>(value: &T) -> Result<serde_json::Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::Internal(e.to_string()))
}

const PROMOTION_COLUMNS: &str =
    "id, name, value, target, starts_at, ends_at, active, version, updated_at";

fn promotion_from_row(row: &sqlx::postgres::PgRow) -> Result<PromotionView, Error> {
    Ok(PromotionView {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        value: json_field(row, "value")?,
        target: json_field(row, "target")?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        active: row.try_get("active")?,
        version: row.try_get("version")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// The promotions in force now (active and inside their window).
pub async fn active(conn: &mut PgConnection) -> Result<Vec<Promotion>, Error> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PROMOTION_COLUMNS} FROM promotions
          WHERE active AND (starts_at IS NULL OR starts_at <= now())
            AND (ends_at IS NULL OR ends_at > now())
          ORDER BY id"
    )))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let view = promotion_from_row(row)?;
            Ok(Promotion {
                id: view.id,
                name: view.name,
                value: view.value,
                target: view.target,
            })
        })
        .collect()
}

/// Creates or replaces a promotion; `true` when it was created.
pub async fn save_promotion(
    db: &sqlx::PgPool,
    id: &str,
    input: &PromotionInput,
) -> Result<(PromotionView, bool), Error> {
    if !valid_slug(id) {
        return Err(Error::invalid("id", SLUG_RULE));
    }
    input.validate()?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO promotions (id, name, value, target, starts_at, ends_at, active)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET name = $2, value = $3, target = $4, starts_at = $5,
                ends_at = $6, active = $7, version = promotions.version + 1, updated_at = now()
         RETURNING {PROMOTION_COLUMNS}"
    )))
    .bind(id)
    .bind(input.name.trim())
    .bind(to_json(&input.value)?)
    .bind(to_json(&input.target)?)
    .bind(input.starts_at)
    .bind(input.ends_at)
    .bind(input.active)
    .fetch_one(db)
    .await?;
    let view = promotion_from_row(&row)?;
    let created = view.version == 1;
    Ok((view, created))
}

/// Catalogue promotions, by id (admin).
#[utoipa::path(get, path = "/api/cart/admin/promotions", tag = "pricing", params(PageQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of promotions", body = Page<PromotionView>),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 422, description = "Bad limit or cursor", body = Problem)))]
async fn list_promotions(
    State(state): State<AppState>,
    _admin: Admin,
    Query(params): Query<PageQuery>,
) -> Result<Json<Page<PromotionView>>, Error> {
    let select = format!("SELECT {PROMOTION_COLUMNS} FROM promotions");
    let page = rules_page::list(&state.db, &params, &select, "id", promotion_from_row, |p| {
        &p.id
    })
    .await?;
    Ok(Json(page))
}

/// One promotion (admin).
#[utoipa::path(get, path = "/api/cart/admin/promotions/{id}", tag = "pricing",
    params(("id" = String, Path, description = "The promotion id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The promotion", body = PromotionView),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such promotion", body = Problem)))]
async fn get_promotion(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<PromotionView>, Error> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PROMOTION_COLUMNS} FROM promotions WHERE id = $1"
    )))
    .bind(&id)
    .fetch_optional(&state.db)
    .await?
    .ok_or_else(|| Error::NotFound(format!("No promotion {id:?}.")))?;
    Ok(Json(promotion_from_row(&row)?))
}

/// Creates or replaces a catalogue promotion (admin). Idempotent.
#[utoipa::path(put, path = "/api/cart/admin/promotions/{id}", tag = "pricing",
    request_body = PromotionInput,
    params(("id" = String, Path, description = "The promotion id: 1–64 of [a-z0-9-]")),
    security(("bearer" = [])),
    responses((status = 200, description = "Replaced", body = PromotionView),
        (status = 201, description = "Created", body = PromotionView),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 422, description = "Invalid promotion", body = Problem)))]
async fn put_promotion(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
    Json(input): Json<PromotionInput>,
) -> Result<(StatusCode, Json<PromotionView>), Error> {
    let (view, created) = save_promotion(&state.db, &id, &input).await?;
    Ok(crate::put::answer(created, view))
}

/// Deletes a promotion (admin). Deleting twice is fine.
#[utoipa::path(delete, path = "/api/cart/admin/promotions/{id}", tag = "pricing",
    params(("id" = String, Path, description = "The promotion id")),
    security(("bearer" = [])),
    responses((status = 204, description = "Gone"),
        (status = 403, description = "Not an admin", body = Problem)))]
async fn delete_promotion(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    sqlx::query("DELETE FROM promotions WHERE id = $1")
        .bind(&id)
        .execute(&state.db)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
