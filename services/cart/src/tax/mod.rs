//! Tax: one flat rate per shipping country and whether catalogue prices include tax, set by
//! admins as one document (`PUT` replaces it, so a retry is harmless).

use axum::extract::State;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use storefront_kit::{Admin, FieldError, Json, Problem};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::Error;
use crate::pricing::TaxRule;

pub const MAX_RATES: usize = 250;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaxRate {
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    /// 0–10000 (2000 = 20 %).
    pub rate_basis_points: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaxSettings {
    /// Whether catalogue prices already contain tax (tax is then taken out of them).
    pub prices_include_tax: bool,
    /// Countries without a rate pay no tax.
    pub rates: Vec<TaxRate>,
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_tax, put_tax))
}

/// Whether `value` is an ISO 3166-1 alpha-2 code in upper case.
pub fn valid_country(value: &str) -> bool {
    value.len() == 2 && value.bytes().all(|b| b.is_ascii_uppercase())
}

impl TaxSettings {
    fn validate(&self) -> Result<(), Error> {
        let mut errors = Vec::new();
        if self.rates.len() > MAX_RATES {
            errors.push(FieldError::new("rates", format!("at most {MAX_RATES}")));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, rate) in self.rates.iter().enumerate() {
            if !valid_country(&rate.country) {
                errors.push(FieldError::new(
                    format!("rates[{i}].country"),
                    "must be an ISO 3166-1 alpha-2 code in upper case, e.g. DE",
                ));
            } else if !seen.insert(rate.country.as_str()) {
                errors.push(FieldError::new(
                    format!("rates[{i}].country"),
                    "is listed twice",
                ));
            }
            if !(0..=10_000).contains(&rate.rate_basis_points) {
                errors.push(FieldError::new(
                    format!("rates[{i}].rateBasisPoints"),
                    "must be between 0 and 10000",
                ));
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(errors))
        }
    }
}

pub async fn load(conn: &mut PgConnection) -> Result<TaxSettings, Error> {
    let prices_include_tax: bool =
        sqlx::query_scalar("SELECT prices_include_tax FROM tax_settings")
            .fetch_optional(&mut *conn)
            .await?
            .unwrap_or(true);
    let rates: Vec<(String, i32)> =
        sqlx::query_as("SELECT country, rate_basis_points FROM tax_rates ORDER BY country")
            .fetch_all(&mut *conn)
            .await?;
    Ok(TaxSettings {
        prices_include_tax,
        rates: rates
            .into_iter()
            .map(|(country, rate)| TaxRate {
                country,
                rate_basis_points: i64::from(rate),
            })
            .collect(),
    })
}

/// The tax rule for an order shipped to `country` (no country, or no rate: 0 %).
pub async fn rule_for(conn: &mut PgConnection, country: Option<&str>) -> Result<TaxRule, Error> {
    let row: Option<(bool, Option<i32>)> = sqlx::query_as(
        "SELECT s.prices_include_tax,
                (SELECT rate_basis_points FROM tax_rates WHERE country = $1)
           FROM tax_settings s",
    )
    .bind(country)
    .fetch_optional(&mut *conn)
    .await?;
    let (prices_include_tax, rate) = row.unwrap_or((true, None));
    Ok(TaxRule {
        rate_basis_points: i64::from(rate.unwrap_or(0)),
        prices_include_tax,
    })
}

/// Replaces the settings and every rate in one transaction.
pub async fn save(db: &sqlx::PgPool, settings: &TaxSettings) -> Result<(), Error> {
    settings.validate()?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO tax_settings (id, prices_include_tax) VALUES (true, $1)
         ON CONFLICT (id) DO UPDATE SET prices_include_tax = $1, updated_at = now()",
    )
    .bind(settings.prices_include_tax)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM tax_rates")
        .execute(&mut *tx)
        .await?;
    let countries: Vec<&str> = settings.rates.iter().map(|r| r.country.as_str()).collect();
    let rates: Vec<i32> = settings
        .rates
        .iter()
        .map(|r| i32::try_from(r.rate_basis_points).unwrap_or_default())
        .collect();
    sqlx::query(
        "INSERT INTO tax_rates (country, rate_basis_points)
         SELECT * FROM unnest($1::text[], $2::int[])",
    )
    .bind(&countries)
    .bind(&rates)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The store's tax settings (admin).
#[utoipa::path(get, path = "/api/cart/admin/tax", tag = "pricing",
    security(("bearer" = [])),
    responses((status = 200, description = "The settings and rates", body = TaxSettings),
        (status = 401, description = "Not signed in", body = Problem),
        (status = 403, description = "Not an admin", body = Problem)))]
async fn get_tax(State(state): State<AppState>, _admin: Admin) -> Result<Json<TaxSettings>, Error> {
    let mut conn = state.db.acquire().await?;
    Ok(Json(load(&mut conn).await?))
}

/// Replaces the tax settings and all rates (admin). Idempotent.
#[utoipa::path(put, path = "/api/cart/admin/tax", tag = "pricing", request_body = TaxSettings,
    security(("bearer" = [])),
    responses((status = 200, description = "The settings as stored", body = TaxSettings),
        (status = 400, description = "Malformed body", body = Problem),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 422, description = "A bad country or rate", body = Problem)))]
async fn put_tax(
    State(state): State<AppState>,
    _admin: Admin,
    Json(settings): Json<TaxSettings>,
) -> Result<Json<TaxSettings>, Error> {
    save(&state.db, &settings).await?;
    let mut conn = state.db.acquire().await?;
    Ok(Json(load(&mut conn).await?))
}
