//! Category documents in MongoDB: whole-document writes by `_id` under the category-tree lock.
//! Each stores its ancestors (`path`, root first) and a `sortKey` that orders the tree depth
//! first by position, which makes subtree lookups one query and tree listings keyset-paginated.

use futures::TryStreamExt;
use mongodb::bson::{self, Document, doc};
use mongodb::{Collection, Database};

use crate::categories::Category;
use crate::documents::ensure_indexes;
use crate::error::Error;
use crate::ids::{CategoryId, validate_slug};

pub const COLLECTION: &str = "categories";

pub fn collection(db: &Database) -> Collection<Document> {
    db.collection(COLLECTION)
}

pub async fn create_indexes(db: &Database) -> Result<(), Error> {
    ensure_indexes(
        &collection(db),
        &[
            ("slug", doc! { "slug": 1 }),
            ("path", doc! { "path": 1 }),
            ("sort_key", doc! { "sortKey": 1 }),
        ],
    )
    .await
}

/// The key of one tree level: siblings sort by position, then id.
pub fn sort_key(parent_key: Option<&str>, position: i32, id: &str) -> String {
    let own = format!("{position:05}.{id}");
    match parent_key {
        Some(parent) => format!("{parent}/{own}"),
        None => own,
    }
}

fn to_document(category: &Category, sort_key: &str) -> Result<Document, Error> {
    let mut document = bson::to_document(category)
        .map_err(|e| Error::Internal(format!("category to BSON: {e}")))?;
    document.insert("_id", category.id.clone());
    document.insert("sortKey", sort_key);
    Ok(document)
}

/// A stored category and its sort key.
fn from_document(mut document: Document) -> Result<(Category, String), Error> {
    document.remove("_id");
    let key = match document.remove("sortKey") {
        Some(bson::Bson::String(key)) => key,
        _ => String::new(),
    };
    let category = bson::from_document(document)
        .map_err(|e| Error::Internal(format!("stored category is malformed: {e}")))?;
    Ok((category, key))
}

pub async fn get(db: &Database, id: &CategoryId) -> Result<Option<(Category, String)>, Error> {
    collection(db)
        .find_one(doc! { "_id": id.as_str() })
        .await?
        .map(from_document)
        .transpose()
}

/// A category by id or, failing that, by slug. Anything else finds nothing.
pub async fn find(db: &Database, key: &str) -> Result<Option<(Category, String)>, Error> {
    if let Ok(id) = CategoryId::parse(key)
        && let Some(found) = get(db, &id).await?
    {
        return Ok(Some(found));
    }
    if validate_slug(key).is_err() {
        return Ok(None);
    }
    collection(db)
        .find_one(doc! { "slug": key })
        .await?
        .map(from_document)
        .transpose()
}

/// All categories below `id` (not `id` itself), with their sort keys.
pub async fn descendants(db: &Database, id: &str) -> Result<Vec<(Category, String)>, Error> {
    let documents: Vec<Document> = collection(db)
        .find(doc! { "path": id })
        .sort(doc! { "sortKey": 1 })
        .await?
        .try_collect()
        .await?;
    documents.into_iter().map(from_document).collect()
}

/// The ids of the category named by `key` (id or slug) and of all its descendants.
pub async fn subtree_ids(db: &Database, key: &str) -> Result<Option<Vec<String>>, Error> {
    let Some((category, _)) = find(db, key).await? else {
        return Ok(None);
    };
    let mut ids = vec![category.id.clone()];
    ids.extend(
        descendants(db, &category.id)
            .await?
            .into_iter()
            .map(|(c, _)| c.id),
    );
    Ok(Some(ids))
}

/// One page of the tree in depth-first order (or of one parent's children), after `after`.
pub async fn list(
    db: &Database,
    parent: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> Result<(Vec<Category>, Option<String>), Error> {
    let mut filter = Document::new();
    if let Some(parent) = parent {
        filter.insert("parentId", parent);
    }
    if let Some(after) = after {
        filter.insert("sortKey", doc! { "$gt": after });
    }
    let documents: Vec<Document> = collection(db)
        .find(filter)
        .sort(doc! { "sortKey": 1 })
        .limit(i64::from(limit) + 1)
        .await?
        .try_collect()
        .await?;
    let mut page = documents
        .into_iter()
        .map(from_document)
        .collect::<Result<Vec<_>, _>>()?;
    let more = page.len() > limit as usize;
    page.truncate(limit as usize);
    let next = if more {
        page.last().map(|(_, key)| key.clone())
    } else {
        None
    };
    Ok((page.into_iter().map(|(c, _)| c).collect(), next))
}

/// Writes the whole document by `_id`; only under the category-tree lock.
pub async fn replace(db: &Database, category: &Category, sort_key: &str) -> Result<(), Error> {
    collection(db)
        .replace_one(
            doc! { "_id": category.id.as_str() },
            to_document(category, sort_key)?,
        )
        .upsert(true)
        .await?;
    Ok(())
}

pub async fn delete(db: &Database, id: &CategoryId) -> Result<(), Error> {
    collection(db)
        .delete_one(doc! { "_id": id.as_str() })
        .await?;
    Ok(())
}
