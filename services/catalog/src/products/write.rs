//! Product writes. Each is one ledger transaction: lock the product's row, check `If-Match`,
//! bump the version, keep the SKUs' inventory rows in step, append the change, write the whole
//! document to MongoDB by `_id`, commit. The document write happens last before the commit, while
//! the lock is held; if the commit then fails, the previous document is put back.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sqlx::Row;
use storefront_kit::FieldError;

use crate::AppState;
use crate::changes::{self, Entity};
use crate::error::{Error, is_unique_violation};
use crate::ids::{CategoryId, IfMatch, ProductId, Sku, Version};
use crate::ledger::{self, Tx};
use crate::money::Money;
use crate::products::model::{Product, ProductImage, ProductInput, Variant};
use crate::products::store;

/// Creates a product with a fresh id.
pub async fn create(state: &AppState, input: ProductInput) -> Result<Product, Error> {
    create_with_id(state, ProductId::generate(), input, Utc::now()).await
}

/// Creates a product with the given id and creation time (seed data uses fixed ones).
pub async fn create_with_id(
    state: &AppState,
    id: ProductId,
    input: ProductInput,
    now: DateTime<Utc>,
) -> Result<Product, Error> {
    let (categories, skus) = input.validate()?;
    let mut tx = state.ledger.begin().await?;
    let inserted = sqlx::query("INSERT INTO products (id, slug, version) VALUES ($1, $2, 1)")
        .bind(id.as_str())
        .bind(&input.slug)
        .execute(&mut *tx)
        .await;
    match inserted {
        Err(e) if is_unique_violation(&e, "products_slug_key") => {
            return Err(Error::Conflict {
                detail: format!("Another product already has the slug {:?}.", input.slug),
                errors: vec![FieldError::new("slug", "is taken")],
            });
        }
        Err(e) if is_unique_violation(&e, "products_pkey") => {
            return Err(Error::conflict(format!("Product {id} already exists.")));
        }
        other => other?,
    };
    check_categories(&mut tx, &categories).await?;
    let available = sync_inventory(&mut tx, &id, &input, &skus).await?;
    let product = build(&id, input, &available, Vec::new(), Version(1), now, now);
    finish(state, tx, &product, None).await?;
    Ok(product)
}

/// Replaces a product's content (its images and creation time are kept).
pub async fn update(
    state: &AppState,
    id: &ProductId,
    input: ProductInput,
    condition: Option<&IfMatch>,
) -> Result<Product, Error> {
    let (categories, skus) = input.validate()?;
    let mut tx = state.ledger.begin().await?;
    let row = locked(&mut tx, id).await?;
    IfMatch::check(condition, row.version)?;
    let version = row.version.next()?;
    if let Err(e) = ledger::set_product_version(&mut tx, id, version, &input.slug, false).await {
        return Err(if is_unique_violation(&e, "products_slug_key") {
            Error::Conflict {
                detail: format!("Another product already has the slug {:?}.", input.slug),
                errors: vec![FieldError::new("slug", "is taken")],
            }
        } else {
            e.into()
        });
    }
    check_categories(&mut tx, &categories).await?;
    let available = sync_inventory(&mut tx, id, &input, &skus).await?;
    let previous = store::get(&state.documents, id).await?;
    let now = Utc::now();
    let (images, created_at) = previous
        .as_ref()
        .map_or((Vec::new(), now), |p| (p.images.clone(), p.created_at));
    let product = build(id, input, &available, images, version, created_at, now);
    finish(state, tx, &product, previous.as_ref()).await?;
    Ok(product)
}

/// Removes a product: its document goes, the change log gets a tombstone, its SKUs are retired.
pub async fn delete(
    state: &AppState,
    id: &ProductId,
    condition: Option<&IfMatch>,
) -> Result<(), Error> {
    let mut tx = state.ledger.begin().await?;
    let row = locked(&mut tx, id).await?;
    IfMatch::check(condition, row.version)?;
    let version = row.version.next()?;
    // The slug is freed for a new product; the row stays so the id is never reused.
    ledger::set_product_version(&mut tx, id, version, &format!("~{id}"), true).await?;
    sqlx::query("UPDATE inventory SET retired = true WHERE product_id = $1")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
    changes::append(&mut tx, Entity::Product, id.as_str(), version, None).await?;
    let previous = store::get(&state.documents, id).await?;
    store::delete(&state.documents, id).await?;
    if let Err(error) = tx.commit().await {
        if let Some(previous) = previous {
            restore(state, &previous).await;
        }
        return Err(error.into());
    }
    Ok(())
}

/// Adds an image to a product (no change if it already has it).
pub async fn add_image(
    state: &AppState,
    id: &ProductId,
    image: ProductImage,
) -> Result<Product, Error> {
    let mut tx = state.ledger.begin().await?;
    let row = locked(&mut tx, id).await?;
    let previous = store::get(&state.documents, id)
        .await?
        .ok_or_else(|| Error::not_found(format!("No product {id}.")))?;
    if previous.images.iter().any(|i| i.id == image.id) {
        return Ok(previous);
    }
    let version = row.version.next()?;
    ledger::set_product_version(&mut tx, id, version, &row.slug, false).await?;
    let mut product = previous.clone();
    product.images.push(image);
    product.version = version.0;
    product.updated_at = Utc::now();
    finish(state, tx, &product, Some(&previous)).await?;
    Ok(product)
}

/// Brings the documents' `inStock` flags in line with the ledger after stock moved. A product whose
/// flags did not change is left alone (no new version, no change row).
pub async fn refresh_availability(state: &AppState, ids: &[ProductId]) -> Result<(), Error> {
    for id in ids {
        let mut tx = state.ledger.begin().await?;
        let Some(row) = ledger::lock_product(&mut tx, id).await? else {
            continue;
        };
        let Some(previous) = store::get(&state.documents, id).await? else {
            continue;
        };
        let available = availability(&mut tx, id).await?;
        let mut product = previous.clone();
        for variant in &mut product.variants {
            variant.in_stock = available.get(&variant.sku).is_some_and(|n| *n > 0);
        }
        product.in_stock = product.variants.iter().any(|v| v.in_stock);
        if product.variants == previous.variants && product.in_stock == previous.in_stock {
            continue;
        }
        let version = row.version.next()?;
        ledger::set_product_version(&mut tx, id, version, &row.slug, false).await?;
        product.version = version.0;
        product.updated_at = Utc::now();
        finish(state, tx, &product, Some(&previous)).await?;
    }
    Ok(())
}

async fn locked(tx: &mut Tx, id: &ProductId) -> Result<ledger::ProductRow, Error> {
    ledger::lock_product(tx, id)
        .await?
        .ok_or_else(|| Error::not_found(format!("No product {id}.")))
}

/// Appends the change, writes the document, commits; puts `previous` back if the commit fails.
async fn finish(
    state: &AppState,
    mut tx: Tx,
    product: &Product,
    previous: Option<&Product>,
) -> Result<(), Error> {
    let json = serde_json::to_value(product)
        .map_err(|e| Error::Internal(format!("product to JSON: {e}")))?;
    changes::append(
        &mut tx,
        Entity::Product,
        &product.id,
        Version(product.version),
        Some(&json),
    )
    .await?;
    store::replace(&state.documents, product).await?;
    if let Err(error) = tx.commit().await {
        match previous {
            Some(previous) => restore(state, previous).await,
            None => {
                if let Ok(id) = ProductId::parse(&product.id) {
                    let _ = store::delete(&state.documents, &id).await;
                }
            }
        }
        return Err(error.into());
    }
    Ok(())
}

async fn restore(state: &AppState, previous: &Product) {
    if let Err(error) = store::replace(&state.documents, previous).await {
        // The next write of this product rewrites the document from the ledger's version.
        tracing::error!(%error, product = %previous.id, "could not restore the document after a failed commit");
    }
}

async fn check_categories(tx: &mut Tx, ids: &[CategoryId]) -> Result<(), Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let wanted: Vec<&str> = ids.iter().map(CategoryId::as_str).collect();
    let found: Vec<String> = sqlx::query_scalar("SELECT id FROM categories WHERE id = ANY($1)")
        .bind(&wanted)
        .fetch_all(&mut **tx)
        .await?;
    let errors: Vec<FieldError> = wanted
        .iter()
        .enumerate()
        .filter(|(_, id)| !found.iter().any(|f| f == *id))
        .map(|(i, _)| FieldError::new(format!("categoryIds[{i}]"), "no such category"))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errors))
    }
}

/// Makes the product's inventory rows match its variants: new SKUs get a row (a SKU of another
/// product is a conflict), given stock levels are set (never below what is reserved), dropped
/// SKUs are retired. Returns what each SKU has available.
async fn sync_inventory(
    tx: &mut Tx,
    id: &ProductId,
    input: &ProductInput,
    skus: &[Sku],
) -> Result<HashMap<String, i64>, Error> {
    let existing: Vec<String> = sqlx::query_scalar(
        "SELECT sku FROM inventory WHERE product_id = $1 ORDER BY sku FOR UPDATE",
    )
    .bind(id.as_str())
    .fetch_all(&mut **tx)
    .await?;
    let mut errors = Vec::new();
    for (i, (variant, sku)) in input.variants.iter().zip(skus).enumerate() {
        let affected = if existing.iter().any(|e| e == sku.as_str()) {
            sqlx::query(
                "UPDATE inventory SET retired = false, on_hand = COALESCE($2, on_hand)
                  WHERE sku = $1 AND reserved <= COALESCE($2, on_hand)",
            )
            .bind(sku.as_str())
            .bind(variant.stock)
            .execute(&mut **tx)
            .await?
            .rows_affected()
        } else {
            sqlx::query(
                "INSERT INTO inventory (sku, product_id, on_hand) VALUES ($1, $2, $3)
                 ON CONFLICT (sku) DO NOTHING",
            )
            .bind(sku.as_str())
            .bind(id.as_str())
            .bind(variant.stock.unwrap_or(0))
            .execute(&mut **tx)
            .await?
            .rows_affected()
        };
        if affected == 0 {
            let message = if existing.iter().any(|e| e == sku.as_str()) {
                "is below the units already reserved"
            } else {
                "is already used by another product"
            };
            let field = if message.starts_with("is below") {
                "stock"
            } else {
                "sku"
            };
            errors.push(FieldError::new(format!("variants[{i}].{field}"), message));
        }
    }
    if !errors.is_empty() {
        return Err(Error::Conflict {
            detail: "The variants conflict with the stock ledger.".into(),
            errors,
        });
    }
    let dropped: Vec<&str> = existing
        .iter()
        .map(String::as_str)
        .filter(|e| !skus.iter().any(|s| s.as_str() == *e))
        .collect();
    if !dropped.is_empty() {
        sqlx::query("UPDATE inventory SET retired = true WHERE sku = ANY($1)")
            .bind(&dropped)
            .execute(&mut **tx)
            .await?;
    }
    availability(tx, id).await
}

/// Units available (on hand minus reserved) per live SKU of the product.
async fn availability(tx: &mut Tx, id: &ProductId) -> Result<HashMap<String, i64>, Error> {
    let rows = sqlx::query("SELECT sku, on_hand - reserved AS available FROM inventory WHERE product_id = $1 AND NOT retired")
        .bind(id.as_str())
        .fetch_all(&mut **tx)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.get("sku"), row.get("available")))
        .collect())
}

fn build(
    id: &ProductId,
    input: ProductInput,
    available: &HashMap<String, i64>,
    images: Vec<ProductImage>,
    version: Version,
    created_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Product {
    let variants: Vec<Variant> = input
        .variants
        .into_iter()
        .map(|v| Variant {
            in_stock: available.get(&v.sku).is_some_and(|n| *n > 0),
            sku: v.sku,
            title: v.title.map(|t| t.trim().to_owned()),
            price: v.price,
            attributes: v.attributes,
            weight_grams: v.weight_grams,
        })
        .collect();
    // Validation guarantees at least one variant and a single currency.
    let price_from = variants
        .iter()
        .map(|v| v.price)
        .min_by_key(|p| p.amount)
        .unwrap_or(Money::new(0, crate::money::Currency::EUR));
    Product {
        id: id.to_string(),
        slug: input.slug,
        title: input.title.trim().to_owned(),
        description: input.description,
        brand: input.brand.map(|b| b.trim().to_owned()),
        status: input.status,
        category_ids: input.category_ids,
        in_stock: variants.iter().any(|v| v.in_stock),
        variants,
        images,
        price_from,
        version: version.0,
        created_at,
        updated_at: now,
    }
}
