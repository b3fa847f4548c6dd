//! What search reads from the catalog over HTTP: its change feed and its category tree, and how a
//! catalog product becomes a search document. Only the wire format is shared, never a database.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::engine::ProductDoc;
use crate::query::attribute_value;

#[derive(Debug, thiserror::Error)]
#[error("catalog: {0}")]
pub struct CatalogError(pub String);

/// One entry of `GET /internal/changes`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub cursor: String,
    pub kind: String,
    pub id: String,
    pub version: i64,
    pub deleted: bool,
    #[serde(default)]
    pub document: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangePage {
    pub items: Vec<Change>,
    pub next_cursor: Option<String>,
}

/// A category's name and its ancestors (root first), as search needs them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryInfo {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub path: Vec<String>,
}

pub type Categories = HashMap<String, CategoryInfo>;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CategoryPage {
    items: Vec<CategoryInfo>,
    next_cursor: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CatalogClient {
    http: reqwest::Client,
    base_url: String,
}

impl CatalogClient {
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, CatalogError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| CatalogError(e.to_string()))?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, CatalogError> {
        let mut headers = http::HeaderMap::new();
        storefront_kit::telemetry::inject_trace_context(&mut headers);
        self.http
            .get(format!("{}{path}", self.base_url))
            .headers(headers)
            .query(query)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| CatalogError(e.to_string()))?
            .json()
            .await
            .map_err(|e| CatalogError(format!("unexpected answer from {path}: {e}")))
    }

    /// Settled changes after `after` (from the beginning when `None`).
    pub async fn changes(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<ChangePage, CatalogError> {
        let mut query = vec![("limit", limit.to_string())];
        if let Some(after) = after {
            query.push(("after", after.to_owned()));
        }
        self.get("/internal/changes", &query).await
    }

    /// The whole category tree.
    pub async fn categories(&self) -> Result<Categories, CatalogError> {
        let mut all = Categories::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("limit", "100".to_owned())];
            if let Some(cursor) = &cursor {
                query.push(("cursor", cursor.clone()));
            }
            let page: CategoryPage = self.get("/api/catalog/categories", &query).await?;
            let done = page.items.is_empty() || page.next_cursor.is_none();
            all.extend(page.items.into_iter().map(|c| (c.id.clone(), c)));
            if done {
                return Ok(all);
            }
            cursor = page.next_cursor;
        }
    }
}

/// The search document for a product change: a tombstone when it was removed or is not for sale
/// (draft, archived), else its searchable fields with categories widened to their ancestors.
pub fn product_doc(change: &Change, categories: &Categories) -> ProductDoc {
    let Some(product) = change.document.as_ref().filter(|_| !change.deleted) else {
        return ProductDoc::tombstone(&change.id, change.version);
    };
    if product["status"].as_str() != Some("active") {
        return ProductDoc::tombstone(&change.id, change.version);
    }
    let text = |field: &str| product[field].as_str().map(str::to_owned);

    let mut category_ids = BTreeSet::new();
    for id in product["categoryIds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        category_ids.insert(id.to_owned());
        if let Some(category) = categories.get(id) {
            category_ids.extend(category.path.iter().cloned());
        }
    }
    let category_names: BTreeSet<String> = category_ids
        .iter()
        .filter_map(|id| categories.get(id).map(|c| c.name.clone()))
        .collect();

    let variants = product["variants"].as_array().cloned().unwrap_or_default();
    let mut attributes = BTreeSet::new();
    let mut prices = Vec::new();
    for variant in &variants {
        if let Some(map) = variant["attributes"].as_object() {
            for (name, value) in map {
                if let Some(value) = value.as_str() {
                    attributes.insert(attribute_value(name, value));
                }
            }
        }
        if let Some(amount) = variant["price"]["amount"].as_i64() {
            prices.push(amount);
        }
    }
    let currency = product["priceFrom"]["currency"]
        .as_str()
        .or_else(|| {
            variants
                .first()
                .and_then(|v| v["price"]["currency"].as_str())
        })
        .map(str::to_owned);

    ProductDoc {
        id: change.id.clone(),
        version: change.version,
        deleted: false,
        slug: text("slug"),
        title: text("title"),
        brand: text("brand"),
        description: text("description"),
        category_ids: category_ids.into_iter().collect(),
        category_names: category_names.into_iter().collect(),
        attributes: attributes.into_iter().collect(),
        price_min: prices
            .iter()
            .min()
            .copied()
            .or(product["priceFrom"]["amount"].as_i64()),
        price_max: prices.iter().max().copied(),
        currency,
        in_stock: product["inStock"].as_bool().unwrap_or(false),
        image: product["images"][0]["urls"]["thumbnail"]
            .as_str()
            .map(str::to_owned),
        created_at: text("createdAt"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn categories() -> Categories {
        [
            CategoryInfo {
                id: "c-root".into(),
                name: "Clothing".into(),
                path: vec![],
            },
            CategoryInfo {
                id: "c-tops".into(),
                name: "Tops".into(),
                path: vec!["c-root".into()],
            },
        ]
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect()
    }

    fn change(document: Value) -> Change {
        Change {
            cursor: "1.1".into(),
            kind: "product".into(),
            id: "p-1".into(),
            version: 4,
            deleted: false,
            document: Some(document),
        }
    }

    #[test]
    fn active_product_is_flattened_with_ancestor_categories() {
        let doc = product_doc(
            &change(json!({
                "status": "active", "slug": "tee", "title": "Tee", "brand": "Acme",
                "description": "Soft.", "categoryIds": ["c-tops"], "inStock": true,
                "priceFrom": { "amount": 1500, "currency": "EUR" },
                "variants": [
                    { "sku": "T-S", "price": { "amount": 1500, "currency": "EUR" }, "attributes": { "Size": "S" } },
                    { "sku": "T-L", "price": { "amount": 1700, "currency": "EUR" }, "attributes": { "Size": "L" } }
                ],
                "images": [{ "urls": { "thumbnail": "/t.webp" } }],
                "createdAt": "2026-01-01T00:00:00Z"
            })),
            &categories(),
        );
        assert_eq!(doc.category_ids, vec!["c-root", "c-tops"]);
        assert_eq!(doc.category_names, vec!["Clothing", "Tops"]);
        assert_eq!(doc.attributes, vec!["size=L", "size=S"]);
        assert_eq!((doc.price_min, doc.price_max), (Some(1500), Some(1700)));
        assert_eq!(doc.version, 4);
        assert_eq!(doc.image.as_deref(), Some("/t.webp"));
        assert!(!doc.deleted);
    }

    #[test]
    fn removed_draft_and_archived_products_are_tombstones() {
        let mut removed = change(json!({}));
        removed.deleted = true;
        removed.document = None;
        for c in [
            removed,
            change(json!({ "status": "draft" })),
            change(json!({ "status": "archived" })),
        ] {
            let doc = product_doc(&c, &categories());
            assert!(doc.deleted);
            assert_eq!(
                doc.version, 4,
                "keeps the version so older writes stay stale"
            );
        }
    }
}
