//! The PostgreSQL ledger: connecting, and the row locks every catalog write takes before it
//! touches a document, so writers of one product (or of the category tree) are serialised across
//! replicas. See ARCHITECTURE §2, "Why the catalog has a ledger".

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres, Row, Transaction};

use crate::error::Error;
use crate::ids::{ProductId, Version};

pub type Tx = Transaction<'static, Postgres>;

/// Arbitrary but fixed key of the advisory lock that serialises writes to the category tree.
const CATEGORY_TREE_LOCK: i64 = 0x5f0_ca7e;

pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
}

/// A product's ledger row, locked until the transaction ends.
#[derive(Debug, Clone)]
pub struct ProductRow {
    pub version: Version,
    pub slug: String,
}

/// Locks the product's row (`SELECT … FOR UPDATE`). `None` if it does not exist or was deleted.
pub async fn lock_product(tx: &mut Tx, id: &ProductId) -> Result<Option<ProductRow>, Error> {
    let row = sqlx::query("SELECT version, slug, deleted FROM products WHERE id = $1 FOR UPDATE")
        .bind(id.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.and_then(|row| {
        let deleted: bool = row.get("deleted");
        (!deleted).then(|| ProductRow {
            version: Version(row.get("version")),
            slug: row.get("slug"),
        })
    }))
}

/// Records the product's new version (and slug) in its locked row.
pub async fn set_product_version(
    tx: &mut Tx,
    id: &ProductId,
    version: Version,
    slug: &str,
    deleted: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE products SET version = $2, slug = $3, deleted = $4, updated_at = now() WHERE id = $1",
    )
    .bind(id.as_str())
    .bind(version.0)
    .bind(slug)
    .bind(deleted)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Serialises writers of the category tree until the transaction ends.
pub async fn lock_category_tree(tx: &mut Tx) -> Result<(), sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(CATEGORY_TREE_LOCK)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
