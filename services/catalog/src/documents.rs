//! The MongoDB side: creating indexes in a way the local MongoDB-wire server (FerretDB v1) accepts.

use mongodb::bson::Document;
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};

use crate::error::Error;

/// Creates the named indexes that do not exist yet, one per command. FerretDB v1 drops the
/// connection when one `createIndexes` command names several indexes of which some already exist.
pub async fn ensure_indexes(
    collection: &Collection<Document>,
    indexes: &[(&str, Document)],
) -> Result<(), Error> {
    let existing = collection.list_index_names().await.unwrap_or_default();
    for (name, keys) in indexes {
        if existing.iter().any(|e| e == name) {
            continue;
        }
        let index = IndexModel::builder()
            .keys(keys.clone())
            .options(IndexOptions::builder().name((*name).to_owned()).build())
            .build();
        collection.create_index(index).await?;
    }
    Ok(())
}
