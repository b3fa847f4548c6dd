//! The admin lists of pricing rules (promotions, discount codes, shipping zones): each rule has a
//! text key, and a list is a keyset page over it.

use sqlx::postgres::PgRow;
use storefront_kit::page::{Page, PageQuery};

use crate::error::Error;

/// A page of rules: `select` reads them (ending before any `WHERE`), `key` is the key column as
/// `select` names it, `from_row` maps a row and `key_of` gives a rule's key back.
pub async fn list<T>(
    db: &sqlx::PgPool,
    query: &PageQuery,
    select: &str,
    key: &str,
    from_row: fn(&PgRow) -> Result<T, Error>,
    key_of: fn(&T) -> &str,
) -> Result<Page<T>, Error> {
    let limit = query.limit()?;
    let after = query.after::<String>()?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{select} WHERE ($1::text IS NULL OR {key} > $1) ORDER BY {key} LIMIT $2"
    )))
    .bind(after)
    .bind(i64::from(limit) + 1)
    .fetch_all(db)
    .await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, limit, |item| {
        key_of(item).to_owned()
    }))
}
