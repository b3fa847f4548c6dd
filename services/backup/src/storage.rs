//! Where backups are kept: an S3-compatible bucket (the kit's bucket client, as the catalog's
//! image store uses) or a directory, typically a mounted volume. Backups stream in and out: an
//! upload holds at most two parts in memory, a directory target a small buffer.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::AsyncRead;

pub use storefront_kit::s3::{PartSize, S3Settings};
use storefront_kit::s3::{S3Bucket, S3Error};

use crate::pipe::{CopyError, write_file};

/// How long a signed request stays valid: long enough to send one part.
pub const SIGNATURE_TTL: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(transparent)]
    S3(#[from] S3Error),
    #[error("{action} {path}: {source}")]
    File {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// What was to be stored could not be read to its end; nothing was stored.
    #[error("reading what was to be stored failed: {0}")]
    Read(std::io::Error),
}

pub enum Storage {
    S3 {
        bucket: Box<S3Bucket>,
        part_size: PartSize,
    },
    Directory(PathBuf),
}

/// A backup being read.
pub type Download = Box<dyn AsyncRead + Unpin + Send>;

fn file_failed(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StorageError {
    let path = path.to_owned();
    move |source| StorageError::File {
        action,
        path,
        source,
    }
}

impl Storage {
    /// Stores what `source` yields under `key`, only once it has ended without error; returns the
    /// bytes stored. Nothing half-written remains on failure: a bucket aborts its multipart
    /// upload, a directory writes a temporary file that is renamed at the end or removed.
    pub async fn put_stream<R>(&self, key: &str, mut source: R) -> Result<u64, StorageError>
    where
        R: AsyncRead + Unpin + Send,
    {
        match self {
            Storage::S3 { bucket, part_size } => Ok(bucket
                .put_stream(key, source, "application/octet-stream", *part_size)
                .await?),
            Storage::Directory(root) => {
                let path = root.join(key);
                if let Some(parent) = path.parent() {
                    tokio::fs::create_dir_all(parent)
                        .await
                        .map_err(file_failed("create", parent))?;
                }
                let partial = path.with_extension("partial");
                let bytes = write_file(&partial, &mut source)
                    .await
                    .map_err(|e| match e {
                        CopyError::Read(source) => StorageError::Read(source),
                        CopyError::Write(source) => file_failed("write", &partial)(source),
                    })?;
                tokio::fs::rename(&partial, &path)
                    .await
                    .map_err(file_failed("rename", &path))?;
                Ok(bytes)
            }
        }
    }

    /// The object under `key` as a reader, or `None` when there is none.
    pub async fn get_stream(&self, key: &str) -> Result<Option<Download>, StorageError> {
        match self {
            Storage::S3 { bucket, .. } => Ok(bucket
                .get_stream(key)
                .await?
                .map(|download| Box::new(download) as Download)),
            Storage::Directory(root) => {
                let path = root.join(key);
                match tokio::fs::File::open(&path).await {
                    Ok(file) => Ok(Some(Box::new(file))),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(file_failed("read", &path)(e)),
                }
            }
        }
    }

    /// Every key directly inside `folder` (which ends in `/`), without the storage's own prefix.
    pub async fn list(&self, folder: &str) -> Result<Vec<String>, StorageError> {
        match self {
            Storage::S3 { bucket, .. } => Ok(bucket.list(folder).await?),
            Storage::Directory(root) => {
                let dir = root.join(folder);
                let mut entries = match tokio::fs::read_dir(&dir).await {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
                    Err(e) => return Err(file_failed("list", &dir)(e)),
                };
                let mut keys = Vec::new();
                while let Some(entry) = entries
                    .next_entry()
                    .await
                    .map_err(file_failed("list", &dir))?
                {
                    if let Some(name) = entry.file_name().to_str() {
                        keys.push(format!("{folder}{name}"));
                    }
                }
                Ok(keys)
            }
        }
    }

    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self {
            Storage::S3 { bucket, .. } => Ok(bucket.delete(key).await?),
            Storage::Directory(root) => {
                let path = root.join(key);
                match tokio::fs::remove_file(&path).await {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(file_failed("delete", &path)(e)),
                }
            }
        }
    }
}
