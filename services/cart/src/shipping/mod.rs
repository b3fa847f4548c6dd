//! Shipping: zones (sets of countries, each country in at most one zone) and the methods
//! offered in each. Admins `PUT` a whole zone by its id (create or replace, so retries are
//! harmless); checkout and quotes look methods up by the shipping country.

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
use crate::pricing::ShippingMethod;
use crate::pricing::rules::{SLUG_RULE, valid_slug};
use crate::rules_page;
use crate::tax::valid_country;
use storefront_kit::page::{Page, PageQuery};

const MAX_COUNTRIES: usize = 250;
const MAX_METHODS: usize = 20;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ZoneInput {
    pub name: String,
    /// ISO 3166-1 alpha-2 codes; a country may belong to one zone only.
    pub countries: Vec<String>,
    pub methods: Vec<ShippingMethod>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Zone {
    pub id: String,
    pub name: String,
    pub countries: Vec<String>,
    pub methods: Vec<ShippingMethod>,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

impl ZoneInput {
    fn validate(&self) -> Result<(), Error> {
        let mut errors = Vec::new();
        let name = self.name.trim().chars().count();
        if !(1..=100).contains(&name) {
            errors.push(FieldError::new("name", "must be 1–100 characters"));
        }
        if self.countries.is_empty() || self.countries.len() > MAX_COUNTRIES {
            errors.push(FieldError::new(
                "countries",
                format!("must list 1 to {MAX_COUNTRIES} countries"),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, country) in self.countries.iter().enumerate() {
            if !valid_country(country) {
                errors.push(FieldError::new(
                    format!("countries[{i}]"),
                    "must be an ISO 3166-1 alpha-2 code in upper case, e.g. DE",
                ));
            } else if !seen.insert(country.as_str()) {
                errors.push(FieldError::new(
                    format!("countries[{i}]"),
                    "is listed twice",
                ));
            }
        }
        if self.methods.is_empty() || self.methods.len() > MAX_METHODS {
            errors.push(FieldError::new(
                "methods",
                format!("must have 1 to {MAX_METHODS} methods"),
            ));
        }
        let mut ids = std::collections::HashSet::new();
        for (i, method) in self.methods.iter().enumerate() {
            method.validate(&format!("methods[{i}]"), &mut errors);
            if !ids.insert(method.id.as_str()) {
                errors.push(FieldError::new(format!("methods[{i}].id"), "is used twice"));
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
        .routes(routes!(list_zones))
        .routes(routes!(get_zone, put_zone, delete_zone))
}

fn zone_from_row(row: &sqlx::postgres::PgRow) -> Result<Zone, Error> {
    let methods: serde_json::Value = row.try_get("methods")?;
    Ok(Zone {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        countries: row.try_get("countries")?,
        methods: serde_json::from_value(methods)
            .map_err(|e| Error::Internal(format!("stored shipping methods: {e}")))?,
        version: row.try_get("version")?,
        updated_at: row.try_get("updated_at")?,
    })
}

const ZONE_SELECT: &str = "SELECT z.id, z.name, z.methods, z.version, z.updated_at,
        COALESCE(ARRAY(SELECT country FROM shipping_zone_countries c WHERE c.zone_id = z.id
                        ORDER BY country), '{}') AS countries
   FROM shipping_zones z";

async fn load_zone(conn: &mut PgConnection, id: &str) -> Result<Option<Zone>, Error> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{ZONE_SELECT} WHERE z.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(zone_from_row).transpose()
}

/// The methods offered for shipping to `country` (none when no zone holds it).
pub async fn methods_for(
    conn: &mut PgConnection,
    country: &str,
) -> Result<Vec<ShippingMethod>, Error> {
    let methods: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT z.methods FROM shipping_zones z
           JOIN shipping_zone_countries c ON c.zone_id = z.id
          WHERE c.country = $1",
    )
    .bind(country)
    .fetch_optional(&mut *conn)
    .await?;
    match methods {
        None => Ok(Vec::new()),
        Some(value) => serde_json::from_value(value)
            .map_err(|e| Error::Internal(format!("stored shipping methods: {e}"))),
    }
}

/// Whether any zone exists: a store without zones sells without shipping.
pub async fn ships_anywhere(conn: &mut PgConnection) -> Result<bool, Error> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM shipping_zones)")
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// Creates or replaces a zone; 409 naming the countries another zone already holds.
pub async fn save_zone(
    db: &sqlx::PgPool,
    id: &str,
    input: &ZoneInput,
) -> Result<(Zone, bool), Error> {
    if !valid_slug(id) {
        return Err(Error::invalid("id", SLUG_RULE));
    }
    input.validate()?;
    let methods =
        serde_json::to_value(&input.methods).map_err(|e| Error::Internal(e.to_string()))?;
    let mut tx = db.begin().await?;
    let created: bool = sqlx::query_scalar(
        "INSERT INTO shipping_zones (id, name, methods) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET name = $2, methods = $3, version = shipping_zones.version + 1,
                                        updated_at = now()
         RETURNING version = 1",
    )
    .bind(id)
    .bind(input.name.trim())
    .bind(methods)
    .fetch_one(&mut *tx)
    .await?;
    let taken: Vec<(String, String)> = sqlx::query_as(
        "SELECT country, zone_id FROM shipping_zone_countries
          WHERE country = ANY($1) AND zone_id <> $2 ORDER BY country FOR UPDATE",
    )
    .bind(&input.countries)
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    if !taken.is_empty() {
        let errors = taken
            .iter()
            .map(|(country, zone)| {
                let index = input
                    .countries
                    .iter()
                    .position(|c| c == country)
                    .unwrap_or(0);
                FieldError::new(
                    format!("countries[{index}]"),
                    format!("{country} already belongs to zone {zone}"),
                )
            })
            .collect();
        return Err(Error::conflict(
            "A country can belong to one shipping zone only.",
            errors,
        ));
    }
    sqlx::query("DELETE FROM shipping_zone_countries WHERE zone_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let inserted = sqlx::query(
        "INSERT INTO shipping_zone_countries (country, zone_id)
         SELECT unnest($1::text[]), $2 ON CONFLICT (country) DO NOTHING",
    )
    .bind(&input.countries)
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted != input.countries.len() as u64 {
        // Another zone took a country after our check: let the client retry.
        return Err(Error::conflict(
            "Another zone claimed one of these countries meanwhile; retry.",
            Vec::new(),
        ));
    }
    let zone = load_zone(&mut tx, id)
        .await?
        .ok_or_else(|| Error::Internal("zone vanished".into()))?;
    tx.commit().await?;
    Ok((zone, created))
}

/// Shipping zones, by id (admin).
#[utoipa::path(get, path = "/api/cart/admin/shipping-zones", tag = "pricing", params(PageQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "A page of zones", body = Page<Zone>),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 422, description = "Bad limit or cursor", body = Problem)))]
async fn list_zones(
    State(state): State<AppState>,
    _admin: Admin,
    Query(params): Query<PageQuery>,
) -> Result<Json<Page<Zone>>, Error> {
    let page = rules_page::list(
        &state.db,
        &params,
        ZONE_SELECT,
        "z.id",
        zone_from_row,
        |z| &z.id,
    )
    .await?;
    Ok(Json(page))
}

/// One zone (admin).
#[utoipa::path(get, path = "/api/cart/admin/shipping-zones/{id}", tag = "pricing",
    params(("id" = String, Path, description = "The zone id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The zone", body = Zone),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 404, description = "No such zone", body = Problem)))]
async fn get_zone(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<Json<Zone>, Error> {
    let mut conn = state.db.acquire().await?;
    load_zone(&mut conn, &id)
        .await?
        .map(Json)
        .ok_or_else(|| Error::NotFound(format!("No shipping zone {id:?}.")))
}

/// Creates or replaces a zone with its countries and methods (admin). Idempotent.
#[utoipa::path(put, path = "/api/cart/admin/shipping-zones/{id}", tag = "pricing",
    request_body = ZoneInput,
    params(("id" = String, Path, description = "The zone id: 1–64 of [a-z0-9-]")),
    security(("bearer" = [])),
    responses((status = 200, description = "Replaced", body = Zone),
        (status = 201, description = "Created", body = Zone),
        (status = 403, description = "Not an admin", body = Problem),
        (status = 409, description = "A country already belongs to another zone", body = Problem),
        (status = 422, description = "Invalid zone", body = Problem)))]
async fn put_zone(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
    Json(input): Json<ZoneInput>,
) -> Result<(StatusCode, Json<Zone>), Error> {
    let (zone, created) = save_zone(&state.db, &id, &input).await?;
    Ok(crate::put::answer(created, zone))
}

/// Deletes a zone (admin); its countries are then not shipped to. Deleting twice is fine.
#[utoipa::path(delete, path = "/api/cart/admin/shipping-zones/{id}", tag = "pricing",
    params(("id" = String, Path, description = "The zone id")),
    security(("bearer" = [])),
    responses((status = 204, description = "Gone"),
        (status = 403, description = "Not an admin", body = Problem)))]
async fn delete_zone(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    sqlx::query("DELETE FROM shipping_zones WHERE id = $1")
        .bind(&id)
        .execute(&state.db)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
