//! Product documents in MongoDB. Written only whole, by `_id` (replace with upsert), and only
//! while the product's ledger row is locked; read by `_id`, slug, or a filtered, keyset-paginated
//! listing. Every filter value reaching a query is typed (string, integer, bool), never client JSON.

use futures::TryStreamExt;
use mongodb::bson::{self, Bson, Document, doc};
use mongodb::{Collection, Database};
use serde::{Deserialize, Serialize};

use crate::documents::ensure_indexes;
use crate::error::Error;
use crate::ids::ProductId;
use crate::products::model::{Product, ProductStatus};

pub const COLLECTION: &str = "products";

pub fn collection(db: &Database) -> Collection<Document> {
    db.collection(COLLECTION)
}

pub async fn create_indexes(db: &Database) -> Result<(), Error> {
    ensure_indexes(
        &collection(db),
        &[
            ("slug", doc! { "slug": 1 }),
            ("status_category", doc! { "status": 1, "categoryIds": 1 }),
            (
                "status_price",
                doc! { "status": 1, "sortPrice": 1, "_id": 1 },
            ),
            ("brand", doc! { "brand": 1 }),
        ],
    )
    .await
}

fn to_document(product: &Product) -> Result<Document, Error> {
    let mut document =
        bson::to_document(product).map_err(|e| Error::Internal(format!("product to BSON: {e}")))?;
    document.insert("_id", product.id.clone());
    document.insert("sortPrice", product.price_from.amount);
    Ok(document)
}

fn from_document(mut document: Document) -> Result<Product, Error> {
    document.remove("_id");
    document.remove("sortPrice");
    bson::from_document(document)
        .map_err(|e| Error::Internal(format!("stored product is malformed: {e}")))
}

pub async fn get(db: &Database, id: &ProductId) -> Result<Option<Product>, Error> {
    collection(db)
        .find_one(doc! { "_id": id.as_str() })
        .await?
        .map(from_document)
        .transpose()
}

/// The products with these ids that exist, in no particular order.
pub async fn get_many(db: &Database, ids: &[&str]) -> Result<Vec<Product>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let documents: Vec<Document> = collection(db)
        .find(doc! { "_id": { "$in": ids } })
        .await?
        .try_collect()
        .await?;
    documents.into_iter().map(from_document).collect()
}

pub async fn get_by_slug(db: &Database, slug: &str) -> Result<Option<Product>, Error> {
    collection(db)
        .find_one(doc! { "slug": slug })
        .await?
        .map(from_document)
        .transpose()
}

/// Writes the whole document by `_id`. Call only while holding the product's ledger lock.
pub async fn replace(db: &Database, product: &Product) -> Result<(), Error> {
    collection(db)
        .replace_one(doc! { "_id": product.id.as_str() }, to_document(product)?)
        .upsert(true)
        .await?;
    Ok(())
}

pub async fn delete(db: &Database, id: &ProductId) -> Result<(), Error> {
    collection(db)
        .delete_one(doc! { "_id": id.as_str() })
        .await?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Most recently created first (ids are time-ordered UUIDv7).
    #[default]
    Newest,
    PriceAsc,
    PriceDesc,
}

/// Where the previous page ended: the last item's sort key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct After {
    pub sort: Sort,
    pub price: i64,
    pub id: String,
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub statuses: Vec<ProductStatus>,
    /// Any of these categories (the caller expands a category to its subtree).
    pub category_ids: Option<Vec<String>>,
    pub brand: Option<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub in_stock: Option<bool>,
    pub sort: Sort,
    pub after: Option<After>,
    pub limit: u32,
}

impl ListQuery {
    pub fn filter(&self) -> Document {
        let mut all: Vec<Document> = Vec::new();
        let statuses: Vec<&str> = self.statuses.iter().map(|s| s.as_str()).collect();
        match statuses.as_slice() {
            [] => {}
            [one] => all.push(doc! { "status": *one }),
            many => all.push(doc! { "status": { "$in": many.to_vec() } }),
        }
        if let Some(ids) = &self.category_ids {
            all.push(doc! { "categoryIds": { "$in": ids.clone() } });
        }
        if let Some(brand) = &self.brand {
            all.push(doc! { "brand": brand.as_str() });
        }
        if let Some(min) = self.min_price {
            all.push(doc! { "sortPrice": { "$gte": min } });
        }
        if let Some(max) = self.max_price {
            all.push(doc! { "sortPrice": { "$lte": max } });
        }
        if let Some(in_stock) = self.in_stock {
            all.push(doc! { "inStock": in_stock });
        }
        if let Some(after) = &self.after {
            let id = after.id.as_str();
            let p = after.price;
            all.push(match self.sort {
                Sort::Newest => doc! { "_id": { "$lt": id } },
                Sort::PriceAsc => doc! { "$or": [
                    { "sortPrice": { "$gt": p } },
                    { "sortPrice": p, "_id": { "$gt": id } },
                ] },
                Sort::PriceDesc => doc! { "$or": [
                    { "sortPrice": { "$lt": p } },
                    { "sortPrice": p, "_id": { "$lt": id } },
                ] },
            });
        }
        match all.len() {
            0 => Document::new(),
            1 => all.remove(0),
            _ => doc! { "$and": all.into_iter().map(Bson::Document).collect::<Vec<_>>() },
        }
    }

    pub fn sort_document(&self) -> Document {
        match self.sort {
            Sort::Newest => doc! { "_id": -1 },
            Sort::PriceAsc => doc! { "sortPrice": 1, "_id": 1 },
            Sort::PriceDesc => doc! { "sortPrice": -1, "_id": -1 },
        }
    }
}

/// One page of products and where the next one starts.
pub async fn list(
    db: &Database,
    query: &ListQuery,
) -> Result<(Vec<Product>, Option<After>), Error> {
    let limit = i64::from(query.limit);
    let documents: Vec<Document> = collection(db)
        .find(query.filter())
        .sort(query.sort_document())
        .limit(limit + 1)
        .await?
        .try_collect()
        .await?;
    let mut products = documents
        .into_iter()
        .map(from_document)
        .collect::<Result<Vec<_>, _>>()?;
    let more = products.len() > query.limit as usize;
    products.truncate(query.limit as usize);
    let next = match products.last() {
        Some(last) if more => Some(After {
            sort: query.sort,
            price: last.price_from.amount,
            id: last.id.clone(),
        }),
        _ => None,
    };
    Ok((products, next))
}
