//! The catalog's MongoDB database, without mongodump: one gzip stream of JSON lines — a header, then
//! for each collection its indexes and every document as canonical extended JSON (types kept
//! exactly: Int32 vs Int64, ObjectId, dates), then a trailer with the counts, so a truncated file
//! is detected before anything is restored.

use std::io::{BufRead, Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use futures::TryStreamExt;
use mongodb::Database;
use mongodb::bson::{Bson, Document, doc};
use serde_json::{Value, json};

use crate::error::Error;

pub const EXTENSION: &str = "ndjson.gz";
const FORMAT: &str = "storefront-documents";
const VERSION: u64 = 1;
const INSERT_BATCH: usize = 500;

/// One collection as read from a backup.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Collection {
    pub name: String,
    pub indexes: Vec<Document>,
    pub documents: Vec<Document>,
}

/// Every collection of `db` with its indexes and documents.
pub async fn dump(db: &Database) -> Result<Vec<u8>, Error> {
    let mut names = user_collections(db).await?;
    names.sort();
    let mut out = GzEncoder::new(Vec::new(), Compression::default());
    let mut lines = Vec::new();
    lines.push(json!({ "format": FORMAT, "version": VERSION, "database": db.name() }));
    let mut total = 0_u64;
    for name in &names {
        let indexes = indexes(db, name).await?;
        lines.push(json!({
            "collection": name,
            "indexes": indexes.into_iter().map(|i| Bson::Document(i).into_canonical_extjson()).collect::<Vec<_>>(),
        }));
        let mut cursor = db
            .collection::<Document>(name)
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await?;
        while let Some(document) = cursor.try_next().await? {
            total += 1;
            lines.push(json!({
                "collection": name,
                "document": Bson::Document(document).into_canonical_extjson(),
            }));
            if lines.len() >= 1000 {
                write_lines(&mut out, &mut lines).map_err(Error::io("compress the backup"))?;
            }
        }
    }
    lines.push(json!({ "end": true, "collections": names.len(), "documents": total }));
    write_lines(&mut out, &mut lines).map_err(Error::io("compress the backup"))?;
    out.finish().map_err(Error::io("compress the backup"))
}

fn write_lines(out: &mut impl Write, lines: &mut Vec<Value>) -> std::io::Result<()> {
    for line in lines.drain(..) {
        serde_json::to_writer(&mut *out, &line)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

async fn user_collections(db: &Database) -> Result<Vec<String>, Error> {
    Ok(db
        .list_collection_names()
        .await?
        .into_iter()
        .filter(|n| !n.starts_with("system."))
        .collect())
}

/// The collection's indexes except the implicit `_id_`, as `createIndexes` takes them.
async fn indexes(db: &Database, collection: &str) -> Result<Vec<Document>, Error> {
    let reply = db.run_command(doc! { "listIndexes": collection }).await?;
    let batch = reply
        .get_document("cursor")
        .and_then(|c| c.get_array("firstBatch"))
        .map_err(|e| Error::Io {
            what: format!("read the indexes of {collection}"),
            source: std::io::Error::other(e.to_string()),
        })?;
    Ok(batch
        .iter()
        .filter_map(|b| b.as_document())
        .filter(|d| d.get_str("name").ok() != Some("_id_"))
        .map(|d| {
            let mut d = d.clone();
            d.remove("v");
            d.remove("ns");
            d
        })
        .collect())
}

/// Parses a whole backup, checking its header and trailer; nothing is restored from a file that
/// does not parse to the end.
pub fn parse(bytes: &[u8], name: &str) -> Result<Vec<Collection>, Error> {
    let corrupt = |reason: String| Error::Corrupt {
        name: name.to_owned(),
        kind: "documents",
        reason,
    };
    let mut text = String::new();
    GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .map_err(|e| corrupt(format!("it does not decompress: {e}")))?;
    let mut collections: Vec<Collection> = Vec::new();
    let mut header = false;
    let mut trailer = None;
    for (number, line) in text.as_bytes().lines().enumerate() {
        let line = line.map_err(|e| corrupt(e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        if trailer.is_some() {
            return Err(corrupt(format!("line {} follows the end", number + 1)));
        }
        let value: Value = serde_json::from_str(&line)
            .map_err(|e| corrupt(format!("line {}: {e}", number + 1)))?;
        if !header {
            if value.get("format").and_then(Value::as_str) != Some(FORMAT)
                || value.get("version").and_then(Value::as_u64) != Some(VERSION)
            {
                return Err(corrupt("the header is missing".into()));
            }
            header = true;
            continue;
        }
        if value.get("end").is_some() {
            trailer = Some(value);
            continue;
        }
        let Some(collection) = value.get("collection").and_then(Value::as_str) else {
            return Err(corrupt(format!("line {} names no collection", number + 1)));
        };
        if let Some(indexes) = value.get("indexes").and_then(Value::as_array) {
            let indexes = indexes
                .iter()
                .map(|i| to_document(i.clone()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| corrupt(format!("line {}: {e}", number + 1)))?;
            collections.push(Collection {
                name: collection.to_owned(),
                indexes,
                documents: Vec::new(),
            });
        } else if let Some(document) = value.get("document") {
            let document = to_document(document.clone())
                .map_err(|e| corrupt(format!("line {}: {e}", number + 1)))?;
            match collections.last_mut() {
                Some(current) if current.name == collection => current.documents.push(document),
                _ => {
                    return Err(corrupt(format!(
                        "line {}: a document of {collection} outside its collection",
                        number + 1
                    )));
                }
            }
        } else {
            return Err(corrupt(format!("line {} is not a record", number + 1)));
        }
    }
    let Some(trailer) = trailer else {
        return Err(corrupt("it is truncated (no end record)".into()));
    };
    let documents: usize = collections.iter().map(|c| c.documents.len()).sum();
    if trailer.get("collections").and_then(Value::as_u64) != Some(collections.len() as u64)
        || trailer.get("documents").and_then(Value::as_u64) != Some(documents as u64)
    {
        return Err(corrupt("its counts do not match its end record".into()));
    }
    Ok(collections)
}

fn to_document(value: Value) -> Result<Document, String> {
    match Bson::try_from(value).map_err(|e| e.to_string())? {
        Bson::Document(d) => Ok(d),
        other => Err(format!(
            "expected a document, found {:?}",
            other.element_type()
        )),
    }
}

/// Restores `collections` into `db`. An existing database with collections is refused unless
/// `replace`, which drops them first.
pub async fn restore(
    db: &Database,
    collections: Vec<Collection>,
    replace: bool,
) -> Result<usize, Error> {
    let existing = user_collections(db).await?;
    if !existing.is_empty() {
        if !replace {
            return Err(Error::NotEmpty {
                database: db.name().to_owned(),
                collections: existing.len(),
            });
        }
        for name in &existing {
            db.collection::<Document>(name).drop().await?;
        }
    }
    let mut restored = 0;
    for collection in collections {
        db.create_collection(&collection.name).await?;
        let target = db.collection::<Document>(&collection.name);
        for chunk in collection.documents.chunks(INSERT_BATCH) {
            target.insert_many(chunk).await?;
            restored += chunk.len();
        }
        if !collection.indexes.is_empty() {
            db.run_command(doc! {
                "createIndexes": &collection.name,
                "indexes": collection.indexes.into_iter().map(Bson::Document).collect::<Vec<_>>(),
            })
            .await?;
        }
    }
    Ok(restored)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gz(text: &str) -> Vec<u8> {
        let mut out = GzEncoder::new(Vec::new(), Compression::default());
        out.write_all(text.as_bytes()).unwrap();
        out.finish().unwrap()
    }

    const HEADER: &str = r#"{"format":"storefront-documents","version":1,"database":"c"}"#;

    #[test]
    fn a_complete_file_parses_with_exact_types() {
        let text = format!(
            "{HEADER}\n{}\n{}\n{}\n",
            r#"{"collection":"p","indexes":[{"key":{"sku":{"$numberInt":"1"}},"name":"sku_1","unique":true}]}"#,
            r#"{"collection":"p","document":{"_id":"a","n":{"$numberLong":"5"},"i":{"$numberInt":"5"}}}"#,
            r#"{"end":true,"collections":1,"documents":1}"#
        );
        let parsed = parse(&gz(&text), "x").unwrap();
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].indexes[0].get_str("name").unwrap(), "sku_1");
        let d = &parsed[0].documents[0];
        assert_eq!(d.get("n"), Some(&Bson::Int64(5)));
        assert_eq!(d.get("i"), Some(&Bson::Int32(5)));
    }

    #[test]
    fn truncated_or_foreign_files_are_refused() {
        let no_end = format!("{HEADER}\n{}\n", r#"{"collection":"p","indexes":[]}"#);
        let wrong_count = format!(
            "{HEADER}\n{}\n{}\n",
            r#"{"collection":"p","indexes":[]}"#, r#"{"end":true,"collections":1,"documents":2}"#
        );
        for bytes in [
            gz(&no_end),
            gz(&wrong_count),
            gz("{\"hello\":1}\n"),
            b"not gzip".to_vec(),
        ] {
            assert!(matches!(parse(&bytes, "x"), Err(Error::Corrupt { .. })));
        }
    }
}
