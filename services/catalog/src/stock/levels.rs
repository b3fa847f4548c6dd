//! The admin's view of stock levels: SKUs running low, fewest available first, from the ledger
//! (the truth), titled from the product documents.

use std::collections::HashMap;

use axum::extract::State;
use serde::{Deserialize, Serialize};
use storefront_kit::{Admin, Json, Query};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::Error;
use crate::ids::Sku;
use crate::products::store as products;
use crate::products::{Product, ProductStatus};
use storefront_kit::page::{self, Page, decode_cursor, encode_cursor};

pub const DEFAULT_THRESHOLD: i64 = 5;
pub const MAX_THRESHOLD: i64 = 1_000_000_000;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LowStockQuery {
    /// SKUs with at most this many units available (on hand minus reserved); default 5.
    pub threshold: Option<i64>,
    /// 1–100, default 20.
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// A SKU's stock as the ledger has it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockItem {
    pub sku: String,
    pub product_id: String,
    /// The product's title; absent if its document is missing.
    pub title: Option<String>,
    pub variant_title: Option<String>,
    pub status: Option<ProductStatus>,
    pub on_hand: i64,
    pub reserved: i64,
    pub available: i64,
}

/// Where the next page starts: after this (available, sku).
#[derive(Debug, Serialize, Deserialize)]
struct After {
    available: i64,
    sku: String,
}

/// SKUs with few units available, fewest first (retired SKUs and deleted products left out).
#[utoipa::path(get, path = "/api/catalog/admin/low-stock", params(LowStockQuery), tag = "products",
    responses((status = 200, body = inline(Page<StockItem>)), (status = 400, body = storefront_kit::Problem),
        (status = 401, body = storefront_kit::Problem), (status = 403, body = storefront_kit::Problem)),
    security(("bearer" = [])))]
pub async fn low_stock(
    State(state): State<AppState>,
    _admin: Admin,
    Query(query): Query<LowStockQuery>,
) -> Result<Json<Page<StockItem>>, Error> {
    let threshold = query.threshold.unwrap_or(DEFAULT_THRESHOLD);
    if !(0..=MAX_THRESHOLD).contains(&threshold) {
        return Err(Error::invalid(
            "threshold",
            format!("must be between 0 and {MAX_THRESHOLD}"),
        ));
    }
    let limit = page::limit(query.limit)?;
    let after: Option<After> = query.cursor.as_deref().map(decode_cursor).transpose()?;
    if let Some(after) = &after {
        Sku::parse(&after.sku)
            .map_err(|_| Error::invalid("cursor", "is not a cursor this API issued"))?;
    }
    let (after_available, after_sku) = match &after {
        Some(a) => (Some(a.available), Some(a.sku.as_str())),
        None => (None, None),
    };
    let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT i.sku, i.product_id, i.on_hand, i.reserved
           FROM inventory i JOIN products p ON p.id = i.product_id
          WHERE NOT i.retired AND NOT p.deleted
            AND i.on_hand - i.reserved <= $1
            AND ($2::bigint IS NULL OR (i.on_hand - i.reserved, i.sku) > ($2, $3::text))
          ORDER BY i.on_hand - i.reserved, i.sku
          LIMIT $4",
    )
    .bind(threshold)
    .bind(after_available)
    .bind(after_sku)
    .bind(i64::from(limit) + 1)
    .fetch_all(&state.ledger)
    .await?;
    let more = rows.len() > limit as usize;
    let rows = &rows[..rows.len().min(limit as usize)];

    let mut ids: Vec<&str> = rows
        .iter()
        .map(|(_, product, _, _)| product.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let documents: HashMap<String, Product> = products::get_many(&state.documents, &ids)
        .await?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();

    let items: Vec<StockItem> = rows
        .iter()
        .map(|(sku, product_id, on_hand, reserved)| {
            let product = documents.get(product_id);
            StockItem {
                sku: sku.clone(),
                product_id: product_id.clone(),
                title: product.map(|p| p.title.clone()),
                variant_title: product
                    .and_then(|p| p.variants.iter().find(|v| &v.sku == sku))
                    .and_then(|v| v.title.clone()),
                status: product.map(|p| p.status),
                on_hand: *on_hand,
                reserved: *reserved,
                available: on_hand - reserved,
            }
        })
        .collect();
    let next_cursor = match items.last() {
        Some(last) if more => Some(encode_cursor(&After {
            available: last.available,
            sku: last.sku.clone(),
        })),
        _ => None,
    };
    Ok(Json(Page { items, next_cursor }))
}
