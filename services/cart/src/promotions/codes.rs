//! Discount codes: definitions (admin), the check a quote makes, and the redemption written in
//! the transaction that creates the order.
//!
//! Exactly-once usage: the redemption is one guarded statement
//! (`UPDATE … SET times_used = times_used + 1 WHERE … AND times_used < usage_limit`). Concurrent
//! checkouts queue on the code's row lock and PostgreSQL re-checks the condition on the row
//! version the winner committed, so a code with one use left is redeemed once however many
//! checkouts race. The per-customer count is read after that statement, i.e. while the row lock
//! serialises every redemption of the code. A FAILED order gives its use back ([`release`]);
//! a cancelled order keeps it, as a used code stays used.

use axum::extract::State;
use chrono::{DateTime, Utc};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, Row};
use storefront_kit::{Admin, FieldError, Json, Path, Problem, Query};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{json_field, to_json, validate_window};
use crate::AppState;
use crate::error::Error;
use crate::ids::OrderId;
use crate::money::{Currency, Money};
use crate::pricing::{DiscountCode, DiscountValue, Target};
use crate::rules_page;
use storefront_kit::page::{Page, PageQuery};

pub const CODE_RULE: &str = "must be 1–32 letters, digits, '-' or '_'";

/// The stored spelling of a code (upper case), or `None` when it cannot be one.
pub fn normalize(code: &str) -> Option<String> {
    let code = code.trim().to_ascii_uppercase();
    let ok = !code.is_empty()
        && code.len() <= 32
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_');
    ok.then_some(code)
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiscountCodeInput {
    #[serde(default)]
    pub description: String,
    /// Percent of the eligible lines, or a fixed amount off the order (split over them).
    pub value: DiscountValue,
    /// Empty: the whole order.
    #[serde(default)]
    pub target: Target,
    /// The subtotal (after catalogue promotions) an order must reach.
    #[serde(default)]
    pub minimum_subtotal: Option<Money>,
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    /// Uses in total (1 = single use); none = unlimited.
    #[serde(default)]
    pub usage_limit: Option<i32>,
    /// Uses per customer; none = unlimited.
    #[serde(default)]
    pub per_customer_limit: Option<i32>,
    #[serde(default = "default_true")]
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiscountCodeView {
    pub code: String,
    pub description: String,
    pub value: DiscountValue,
    pub target: Target,
    pub minimum_subtotal: Option<Money>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub usage_limit: Option<i32>,
    pub per_customer_limit: Option<i32>,
    /// Orders that used it (failed orders give their use back).
    pub times_used: i32,
    pub active: bool,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

impl DiscountCodeInput {
    fn validate(&self) -> Result<(), Error> {
        let mut errors = Vec::new();
        if self.description.chars().count() > 500 {
            errors.push(FieldError::new("description", "at most 500 characters"));
        }
        self.value.validate("value", &mut errors);
        self.target.validate("target", &mut errors);
        validate_window(self.starts_at, self.ends_at, &mut errors);
        if let Some(minimum) = self.minimum_subtotal {
            if !(0..=100_000_000_000).contains(&minimum.amount) {
                errors.push(FieldError::new(
                    "minimumSubtotal.amount",
                    "must be between 0 and 100000000000 minor units",
                ));
            }
            if self.value.currency().is_some_and(|c| c != minimum.currency) {
                errors.push(FieldError::new(
                    "minimumSubtotal.currency",
                    "must be the currency of the value",
                ));
            }
        }
        for (field, limit) in [
            ("usageLimit", self.usage_limit),
            ("perCustomerLimit", self.per_customer_limit),
        ] {
            if limit.is_some_and(|n| n < 1) {
                errors.push(FieldError::new(field, "must be at least 1"));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(errors))
        }
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_codes))
        .routes(routes!(get_code, put_code, delete_code))
}

const CODE_COLUMNS: &str = "code, description, value, target, minimum_subtotal, starts_at, ends_at,
    usage_limit, per_customer_limit, times_used, active, version, updated_at";

fn code_from_row(row: &sqlx::postgres::PgRow) -> Result<DiscountCodeView, Error> {
    let minimum: Option<serde_json::Value> = row.try_get("minimum_subtotal")?;
    Ok(DiscountCodeView {
        code: row.try_get("code")?,
        description: row.try_get("description")?,
        value: json_field(row, "value")?,
        target: json_field(row, "target")?,
        minimum_subtotal: minimum
            .map(serde_json::from_value)
            .transpose()
            .map_err(|e| Error::Internal(format!("stored minimum: {e}")))?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        usage_limit: row.try_get("usage_limit")?,
        per_customer_limit: row.try_get("per_customer_limit")?,
        times_used: row.try_get("times_used")?,
        active: row.try_get("active")?,
        version: row.try_get("version")?,
        updated_at: row.try_get("updated_at")?,
    })
}

async fn load(conn: &mut PgConnection, code: &str) -> Result<Option<DiscountCodeView>, Error> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CODE_COLUMNS} FROM discount_codes WHERE code = $1"
    )))
    .bind(code)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(code_from_row).transpose()
}

fn bad_code(message: &str) -> Error {
    Error::invalid("discountCode", message)
}

/// The code as pricing applies it, when `user` may use it now on an order in `currency`;
/// otherwise a 422 on `discountCode` saying why.
pub async fn usable(
    conn: &mut PgConnection,
    entered: &str,
    user: Option<&str>,
    currency: Currency,
) -> Result<DiscountCode, Error> {
    let code = normalize(entered).ok_or_else(|| bad_code("is not a valid code"))?;
    let view = load(conn, &code)
        .await?
        .filter(|v| v.active)
        .ok_or_else(|| bad_code("is not a valid code"))?;
    let now = Utc::now();
    if view.starts_at.is_some_and(|start| now < start) {
        return Err(bad_code("is not valid yet"));
    }
    if view.ends_at.is_some_and(|end| now >= end) {
        return Err(bad_code("has expired"));
    }
    if view
        .usage_limit
        .is_some_and(|limit| view.times_used >= limit)
    {
        return Err(bad_code("has been used up"));
    }
    if let (Some(limit), Some(user)) = (view.per_customer_limit, user)
        && live_uses(conn, &code, user).await? >= i64::from(limit)
    {
        return Err(bad_code("has already been used on your account"));
    }
    let minimum_subtotal = match view.minimum_subtotal {
        Some(minimum) if minimum.currency != currency => {
            return Err(bad_code("cannot be used in this currency"));
        }
        Some(minimum) => Some(minimum.amount),
        None => None,
    };
    Ok(DiscountCode {
        code,
        value: view.value,
        target: view.target,
        minimum_subtotal,
    })
}

async fn live_uses(conn: &mut PgConnection, code: &str, user: &str) -> Result<i64, Error> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM code_redemptions
          WHERE code = $1 AND user_id = $2 AND released_at IS NULL",
    )
    .bind(code)
    .bind(user)
    .fetch_one(&mut *conn)
    .await?)
}

/// Records that `order` uses `code`, inside the transaction that creates the order. Fails
/// (and the caller rolls back) when the code was used up or expired meanwhile.
pub async fn redeem(
    tx: &mut PgConnection,
    code: &str,
    user: &str,
    order: &OrderId,
) -> Result<(), Error> {
    let per_customer: Option<Option<i32>> = sqlx::query_scalar(
        "UPDATE discount_codes SET times_used = times_used + 1
          WHERE code = $1 AND active
            AND (starts_at IS NULL OR starts_at <= now()) AND (ends_at IS NULL OR ends_at > now())
            AND (usage_limit IS NULL OR times_used < usage_limit)
          RETURNING per_customer_limit",
    )
    .bind(code)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(per_customer) = per_customer else {
        return Err(Error::conflict(
            format!("The discount code {code} can no longer be used; nothing was charged."),
            vec![FieldError::new("discountCode", "has been used up")],
        ));
    };
    // The row lock taken above serialises this code's redemptions, so this count is current.
    if let Some(limit) = per_customer
        && live_uses(tx, code, user).await? >= i64::from(limit)
    {
        return Err(bad_code("has already been used on your account"));
    }
    sqlx::query("INSERT INTO code_redemptions (order_id, code, user_id) VALUES ($1, $2, $3)")
        .bind(order.as_uuid())
        .bind(code)
        .bind(user)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Gives a failed order's use of its code back (idempotent; nothing for an order without one).
pub async fn release(tx: &mut PgConnection, order: &OrderId) -> Result<(), Error> {
    sqlx::query(
        "WITH released AS (
             UPDATE code_redemptions SET released_at = now()
              WHERE order_id = $1 AND released_at IS NULL
          RETURNING code)
         UPDATE discount_codes SET times_used = times_used - 1
          WHERE code IN (SELECT code FROM released) AND times_used > 0",
    )
    .bind(order.as_uuid())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Creates or replaces a code; `true` when it was created. The use count is kept.
pub async fn save_code(
    db: &sqlx::PgPool,
    code: &str,
    input: &DiscountCodeInput,
) -> Result<(DiscountCodeView, bool), Error> {
    let code = normalize(code).ok_or_else(|| Error::invalid("code", CODE_RULE))?;
    input.validate()?;
    let minimum = input.minimum_subtotal.as_ref().map(to_json).transpose()?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO discount_codes (code, description, value, target, minimum_subtotal, starts_at,
                                     ends_at, usage_limit, per_customer_limit, active)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (code) DO UPDATE SET description = $2, value = $3, target = $4,
                minimum_subtotal = $5, starts_at = $6, ends_at = $7, usage_limit = $8,
                per_customer_limit = $9, active = $10, version = discount_codes.version + 1,
                updated_at = now()
         RETURNING {CODE_COLUMNS}"
    )))
    .bind(&code)
    .bind(input.description.trim())
    .bind(to_json(&input.value)?)
    .bind(to_json(&input.target)?)
    .bind(minimum)
    .bind(input.starts_at)
    .bind(input.ends_at)
    .bind(input.usage_limit)
    .bind(input.per_customer_limit)
    .bind(input.active)
    .fetch_one(db)
    .await?;
    let view = code_from_row(&row)?;
    let created = view.version == 1;
    Ok((view, created))
}

/// Discount codes with their use counts, by code (admin).
#[utoipa::path(get, path = "/api/cart/admin/discount-codes", tag = "pricing", params(PageQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of codes", body = Page<DiscountCodeView>),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 422, description = "Bad limit or cursor", body = Problem)))]
async fn list_codes(
    State(state): State<AppState>,
    _admin: Admin,
    Query(params): Query<PageQuery>,
) -> Result<Json<Page<DiscountCodeView>>, Error> {
    let select = format!("SELECT {CODE_COLUMNS} FROM discount_codes");
    let page = rules_page::list(&state.db, &params, &select, "code", code_from_row, |c| {
        &c.code
    })
    .await?;
    Ok(Json(page))
}

/// One code (admin).
#[utoipa::path(get, path = "/api/cart/admin/discount-codes/{code}", tag = "pricing",
    params(("code" = String, Path, description = "The code (any case)")),
    security(("bearer" = [])),
    responses((status = 200, description = "The code", body = DiscountCodeView),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such code", body = Problem)))]
async fn get_code(
    State(state): State<AppState>,
    _admin: Admin,
    Path(code): Path<String>,
) -> Result<Json<DiscountCodeView>, Error> {
    let missing = || Error::NotFound(format!("No discount code {code:?}."));
    let normalized = normalize(&code).ok_or_else(missing)?;
    let mut conn = state.db.acquire().await?;
    load(&mut conn, &normalized)
        .await?
        .map(Json)
        .ok_or_else(missing)
}

/// Creates or replaces a discount code (admin). Idempotent; keeps the use count.
#[utoipa::path(put, path = "/api/cart/admin/discount-codes/{code}", tag = "pricing",
    request_body = DiscountCodeInput,
    params(("code" = String, Path, description = "1–32 letters, digits, '-' or '_' (stored upper case)")),
    security(("bearer" = [])),
    responses((status = 200, description = "Replaced", body = DiscountCodeView),
        (status = 201, description = "Created", body = DiscountCodeView),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 422, description = "Invalid code", body = Problem)))]
async fn put_code(
    State(state): State<AppState>,
    _admin: Admin,
    Path(code): Path<String>,
    Json(input): Json<DiscountCodeInput>,
) -> Result<(StatusCode, Json<DiscountCodeView>), Error> {
    let (view, created) = save_code(&state.db, &code, &input).await?;
    Ok(crate::put::answer(created, view))
}

/// Deletes a code (admin); orders that used it keep it in their snapshot.
#[utoipa::path(delete, path = "/api/cart/admin/discount-codes/{code}", tag = "pricing",
    params(("code" = String, Path, description = "The code")),
    security(("bearer" = [])),
    responses((status = 204, description = "Gone"),
        (status = 403, description = "Not an admin", body = Problem)))]
async fn delete_code(
    State(state): State<AppState>,
    _admin: Admin,
    Path(code): Path<String>,
) -> Result<StatusCode, Error> {
    if let Some(code) = normalize(&code) {
        sqlx::query("DELETE FROM discount_codes WHERE code = $1")
            .bind(&code)
            .execute(&state.db)
            .await?;
    }
    Ok(StatusCode::NO_CONTENT)
}
