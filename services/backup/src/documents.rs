//! The catalog's MongoDB database, without mongodump: one gzip stream of JSON lines — a header, then
//! for each collection its indexes and every document as canonical extended JSON (types kept
//! exactly: Int32 vs Int64, ObjectId, dates), then a trailer with the counts, so a truncated file
//! is detected before anything is restored.
//!
//! Both ways stream. A dump is compressed line by line as the cursors yield documents and handed
//! to the storage in chunks. A restore first copies the backup to a temporary file and reads it
//! through to its trailer; only a file that checks out is read a second time and inserted, in
//! batches.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use futures::TryStreamExt;
use mongodb::Database;
use mongodb::bson::{Bson, Document, doc};
use serde_json::{Value, json};
use tokio::io::AsyncRead;
use tokio::sync::mpsc;

use crate::error::Error;
use crate::pipe::{CHUNK, CopyError, Sink, write_file};

pub const EXTENSION: &str = "ndjson.gz";
const FORMAT: &str = "storefront-documents";
const VERSION: u64 = 1;
const INSERT_BATCH: usize = 500;

/// Dumps every collection of `db` with its indexes and documents into `sink`, finishing it only
/// once the trailer is written.
pub async fn dump(db: &Database, mut sink: Sink) -> Result<(), Error> {
    let mut names = user_collections(db).await?;
    names.sort();
    let mut out = Lines::new();
    out.write(&json!({ "format": FORMAT, "version": VERSION, "database": db.name() }))?;
    let mut total = 0_u64;
    for name in &names {
        let indexes = indexes(db, name).await?;
        out.write(&json!({
            "collection": name,
            "indexes": indexes.into_iter().map(|i| Bson::Document(i).into_canonical_extjson()).collect::<Vec<_>>(),
        }))?;
        let mut cursor = db
            .collection::<Document>(name)
            .find(doc! {})
            .sort(doc! { "_id": 1 })
            .await?;
        while let Some(document) = cursor.try_next().await? {
            total += 1;
            out.write(&json!({
                "collection": name,
                "document": Bson::Document(document).into_canonical_extjson(),
            }))?;
            if out.pending() >= CHUNK {
                sink.send(out.take()).await?;
            }
        }
    }
    out.write(&json!({ "end": true, "collections": names.len(), "documents": total }))?;
    sink.send(out.finish()?).await?;
    sink.finish().await
}

/// JSON lines compressed as they are written; the compressed bytes are taken out as they pile up.
struct Lines {
    gzip: GzEncoder<Vec<u8>>,
}

impl Lines {
    fn new() -> Self {
        Self {
            gzip: GzEncoder::new(Vec::with_capacity(2 * CHUNK), Compression::default()),
        }
    }

    fn write(&mut self, line: &Value) -> Result<(), Error> {
        let compress_failed = Error::io("compress the backup");
        serde_json::to_writer(&mut self.gzip, line)
            .map_err(std::io::Error::from)
            .and_then(|()| self.gzip.write_all(b"\n"))
            .map_err(compress_failed)
    }

    /// Compressed bytes not yet taken.
    fn pending(&self) -> usize {
        self.gzip.get_ref().len()
    }

    fn take(&mut self) -> Vec<u8> {
        std::mem::replace(self.gzip.get_mut(), Vec::with_capacity(2 * CHUNK))
    }

    /// The rest of the compressed stream, with the gzip trailer.
    fn finish(self) -> Result<Vec<u8>, Error> {
        self.gzip.finish().map_err(Error::io("compress the backup"))
    }
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

/// One record of a backup after the header.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A collection starts: its name and indexes. Its documents follow.
    Collection {
        name: String,
        indexes: Vec<Document>,
    },
    /// A document of the collection last started.
    Document(Document),
}

/// What a whole backup holds, as its trailer confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub collections: u64,
    pub documents: u64,
}

/// The records of a decompressed backup, read line by line and checked as they come: the header
/// first, each document inside its collection, the end record last with counts that match. A
/// file without its end record is an error at its end, so only reading to the end proves a
/// backup whole.
pub struct Records<B> {
    lines: std::iter::Enumerate<std::io::Lines<B>>,
    name: String,
    header: bool,
    current: Option<String>,
    seen: Summary,
    ended: bool,
    done: bool,
}

impl<B: BufRead> Records<B> {
    /// `name`: the backup's, for error messages.
    pub fn new(text: B, name: &str) -> Self {
        Self {
            lines: text.lines().enumerate(),
            name: name.to_owned(),
            header: false,
            current: None,
            seen: Summary {
                collections: 0,
                documents: 0,
            },
            ended: false,
            done: false,
        }
    }

    /// The counts so far; once the records have run out without error, those of the whole backup.
    pub fn summary(&self) -> Summary {
        self.seen
    }

    fn corrupt(&self, reason: String) -> Error {
        Error::Corrupt {
            name: self.name.clone(),
            kind: "documents",
            reason,
        }
    }

    fn step(&mut self) -> Result<Option<Record>, Error> {
        loop {
            let Some((index, line)) = self.lines.next() else {
                if self.ended {
                    return Ok(None);
                }
                return Err(self.corrupt("it is truncated (no end record)".into()));
            };
            let number = index + 1;
            let line = line.map_err(|e| self.corrupt(format!("it does not decompress: {e}")))?;
            if line.trim().is_empty() {
                continue;
            }
            if self.ended {
                return Err(self.corrupt(format!("line {number} follows the end")));
            }
            let value: Value = serde_json::from_str(&line)
                .map_err(|e| self.corrupt(format!("line {number}: {e}")))?;
            if !self.header {
                if value.get("format").and_then(Value::as_str) != Some(FORMAT)
                    || value.get("version").and_then(Value::as_u64) != Some(VERSION)
                {
                    return Err(self.corrupt("the header is missing".into()));
                }
                self.header = true;
                continue;
            }
            if value.get("end").is_some() {
                if value.get("collections").and_then(Value::as_u64) != Some(self.seen.collections)
                    || value.get("documents").and_then(Value::as_u64) != Some(self.seen.documents)
                {
                    return Err(self.corrupt("its counts do not match its end record".into()));
                }
                self.ended = true;
                continue;
            }
            let Some(collection) = value.get("collection").and_then(Value::as_str) else {
                return Err(self.corrupt(format!("line {number} names no collection")));
            };
            if let Some(indexes) = value.get("indexes").and_then(Value::as_array) {
                let indexes = indexes
                    .iter()
                    .map(|i| to_document(i.clone()))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| self.corrupt(format!("line {number}: {e}")))?;
                self.seen.collections += 1;
                self.current = Some(collection.to_owned());
                return Ok(Some(Record::Collection {
                    name: collection.to_owned(),
                    indexes,
                }));
            }
            if let Some(document) = value.get("document") {
                if self.current.as_deref() != Some(collection) {
                    return Err(self.corrupt(format!(
                        "line {number}: a document of {collection} outside its collection"
                    )));
                }
                let document = to_document(document.clone())
                    .map_err(|e| self.corrupt(format!("line {number}: {e}")))?;
                self.seen.documents += 1;
                return Ok(Some(Record::Document(document)));
            }
            return Err(self.corrupt(format!("line {number} is not a record")));
        }
    }
}

impl<B: BufRead> Iterator for Records<B> {
    type Item = Result<Record, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.step() {
            Ok(Some(record)) => Some(Ok(record)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
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

/// The records of the backup file at `path`.
fn open(path: &Path, name: &str) -> Result<Records<impl BufRead + use<>>, Error> {
    let file = std::fs::File::open(path).map_err(Error::io(format!("read {}", path.display())))?;
    Ok(Records::new(
        BufReader::new(GzDecoder::new(BufReader::new(file))),
        name,
    ))
}

/// Reads the whole file through, checking every record; returns what the trailer confirmed.
fn verify(path: &Path, name: &str) -> Result<Summary, Error> {
    let mut records = open(path, name)?;
    for record in records.by_ref() {
        record?;
    }
    Ok(records.summary())
}

/// Restores the backup `backup` (named `name`) into `db`; returns the documents restored. The
/// backup is copied to a temporary file and checked to its trailer before anything is written. A
/// database with collections is refused unless `replace`, which drops them first.
pub async fn restore<R>(
    db: &Database,
    name: &str,
    backup: &mut R,
    replace: bool,
) -> Result<u64, Error>
where
    R: AsyncRead + Unpin + Send,
{
    let file = std::env::temp_dir().join(format!(
        "storefront-backup-{}.{EXTENSION}",
        uuid::Uuid::new_v4()
    ));
    let result = restore_through(db, name, backup, &file, replace).await;
    let _ = tokio::fs::remove_file(&file).await;
    result
}

async fn restore_through<R>(
    db: &Database,
    name: &str,
    backup: &mut R,
    file: &Path,
    replace: bool,
) -> Result<u64, Error>
where
    R: AsyncRead + Unpin + Send,
{
    write_file(file, backup).await.map_err(|e| match e {
        CopyError::Read(source) => Error::io(format!("read the backup {name}"))(source),
        CopyError::Write(source) => Error::io(format!("write {}", file.display()))(source),
    })?;
    let (path, owned_name) = (file.to_owned(), name.to_owned());
    tokio::task::spawn_blocking(move || verify(&path, &owned_name))
        .await
        .map_err(|e| Error::io("check the backup")(std::io::Error::other(e)))??;

    let existing = user_collections(db).await?;
    if !existing.is_empty() {
        if !replace {
            return Err(Error::NotEmpty {
                database: db.name().to_owned(),
                collections: existing.len(),
            });
        }
        for collection in &existing {
            db.collection::<Document>(collection).drop().await?;
        }
    }
    load(db, file.to_owned(), name).await
}

/// Inserts the records of the checked file at `path`, read on a blocking thread and handed over
/// a batch's worth at a time.
async fn load(db: &Database, path: PathBuf, name: &str) -> Result<u64, Error> {
    let (sender, mut receiver) = mpsc::channel(INSERT_BATCH);
    let name = name.to_owned();
    let reader = tokio::task::spawn_blocking(move || match open(&path, &name) {
        Ok(records) => {
            for record in records {
                if sender.blocking_send(record).is_err() {
                    break;
                }
            }
        }
        Err(e) => {
            let _ = sender.blocking_send(Err(e));
        }
    });
    let mut restored = 0;
    let mut current: Option<(String, Vec<Document>)> = None;
    let mut batch = Vec::with_capacity(INSERT_BATCH);
    while let Some(record) = receiver.recv().await {
        match record? {
            Record::Collection { name, indexes } => {
                if let Some(done) = current.take() {
                    restored += finish_collection(db, done, &mut batch).await?;
                }
                db.create_collection(&name).await?;
                current = Some((name, indexes));
            }
            Record::Document(document) => {
                batch.push(document);
                if let Some((name, _)) = &current
                    && batch.len() >= INSERT_BATCH
                {
                    restored += insert(db, name, &mut batch).await?;
                }
            }
        }
    }
    if let Some(done) = current.take() {
        restored += finish_collection(db, done, &mut batch).await?;
    }
    let _ = reader.await;
    Ok(restored)
}

async fn insert(db: &Database, collection: &str, batch: &mut Vec<Document>) -> Result<u64, Error> {
    if batch.is_empty() {
        return Ok(0);
    }
    db.collection::<Document>(collection)
        .insert_many(batch.iter())
        .await?;
    let inserted = batch.len() as u64;
    batch.clear();
    Ok(inserted)
}

/// Inserts the collection's last documents, then builds its indexes.
async fn finish_collection(
    db: &Database,
    (name, indexes): (String, Vec<Document>),
    batch: &mut Vec<Document>,
) -> Result<u64, Error> {
    let inserted = insert(db, &name, batch).await?;
    if !indexes.is_empty() {
        db.run_command(doc! {
            "createIndexes": &name,
            "indexes": indexes.into_iter().map(Bson::Document).collect::<Vec<_>>(),
        })
        .await?;
    }
    Ok(inserted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gz(text: &str) -> Vec<u8> {
        let mut out = GzEncoder::new(Vec::new(), Compression::default());
        out.write_all(text.as_bytes()).unwrap();
        out.finish().unwrap()
    }

    fn records(bytes: &[u8]) -> Result<Vec<Record>, Error> {
        Records::new(BufReader::new(GzDecoder::new(bytes)), "x").collect()
    }

    const HEADER: &str = r#"{"format":"storefront-documents","version":1,"database":"c"}"#;

    #[test]
    fn a_complete_file_reads_with_exact_types() {
        let text = format!(
            "{HEADER}\n{}\n{}\n{}\n",
            r#"{"collection":"p","indexes":[{"key":{"sku":{"$numberInt":"1"}},"name":"sku_1","unique":true}]}"#,
            r#"{"collection":"p","document":{"_id":"a","n":{"$numberLong":"5"},"i":{"$numberInt":"5"}}}"#,
            r#"{"end":true,"collections":1,"documents":1}"#
        );
        let read = records(&gz(&text)).unwrap();
        let [Record::Collection { name, indexes }, Record::Document(d)] = &read[..] else {
            panic!("a collection and a document: {read:?}");
        };
        assert_eq!(name, "p");
        assert_eq!(indexes[0].get_str("name").unwrap(), "sku_1");
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
        let stray = format!(
            "{HEADER}\n{}\n{}\n",
            r#"{"collection":"p","indexes":[]}"#, r#"{"collection":"q","document":{"_id":1}}"#
        );
        let after_end = format!(
            "{HEADER}\n{}\n{}\n",
            r#"{"end":true,"collections":0,"documents":0}"#, r#"{"collection":"p","indexes":[]}"#
        );
        let complete = gz(&format!(
            "{HEADER}\n{}\n",
            r#"{"end":true,"collections":0,"documents":0}"#
        ));
        for bytes in [
            gz(&no_end),
            gz(&wrong_count),
            gz(&stray),
            gz(&after_end),
            gz("{\"hello\":1}\n"),
            b"not gzip".to_vec(),
            complete[..complete.len() - 4].to_vec(),
        ] {
            assert!(matches!(records(&bytes), Err(Error::Corrupt { .. })));
        }
        assert_eq!(records(&complete).unwrap(), Vec::new());
    }

    #[test]
    fn compressed_output_taken_in_pieces_is_one_valid_stream() {
        let mut lines = Lines::new();
        let mut out = Vec::new();
        lines
            .write(&json!({ "format": FORMAT, "version": VERSION }))
            .unwrap();
        lines
            .write(&json!({ "collection": "p", "indexes": [] }))
            .unwrap();
        for i in 0..20_000 {
            lines
                .write(&json!({ "collection": "p", "document": { "_id": i, "pad": "x".repeat(i % 97) } }))
                .unwrap();
            if lines.pending() >= CHUNK {
                out.extend(lines.take());
            }
        }
        lines
            .write(&json!({ "end": true, "collections": 1, "documents": 20_000 }))
            .unwrap();
        out.extend(lines.finish().unwrap());
        let read = records(&out).unwrap();
        assert_eq!(read.len(), 20_001);
    }
}
