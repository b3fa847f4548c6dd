//! Where backups are kept: an S3-compatible bucket (the kit's bucket client, as the catalog's
//! image store uses) or a directory, typically a mounted volume.

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use storefront_kit::s3::S3Settings;
use storefront_kit::s3::{S3Bucket, S3Error};

/// How long a signed request stays valid: long enough to upload a large dump.
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
}

pub enum Storage {
    S3(Box<S3Bucket>),
    Directory(PathBuf),
}

fn file_failed(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StorageError {
    let path = path.to_owned();
    move |source| StorageError::File {
        action,
        path,
        source,
    }
}

impl Storage {
    /// Stores `bytes` under `key`, replacing nothing half-written: a directory target writes a
    /// temporary file and renames it.
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        match self {
            Storage::S3(s3) => Ok(s3.put(key, bytes, "application/octet-stream").await?),
            Storage::Directory(root) => {
                let path = root.join(key);
                if let Some(parent) = path.parent() {
                    tokio::fs::create_dir_all(parent)
                        .await
                        .map_err(file_failed("create", parent))?;
                }
                let partial = path.with_extension("partial");
                tokio::fs::write(&partial, bytes)
                    .await
                    .map_err(file_failed("write", &partial))?;
                tokio::fs::rename(&partial, &path)
                    .await
                    .map_err(file_failed("rename", &path))
            }
        }
    }

    /// The object under `key`, or `None` when there is none.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        match self {
            Storage::S3(s3) => Ok(s3.get(key).await?.map(|object| object.bytes)),
            Storage::Directory(root) => {
                let path = root.join(key);
                match tokio::fs::read(&path).await {
                    Ok(bytes) => Ok(Some(bytes)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(file_failed("read", &path)(e)),
                }
            }
        }
    }

    /// Every key directly inside `folder` (which ends in `/`), without the storage's own prefix.
    pub async fn list(&self, folder: &str) -> Result<Vec<String>, StorageError> {
        match self {
            Storage::S3(s3) => Ok(s3.list(folder).await?),
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
            Storage::S3(s3) => Ok(s3.delete(key).await?),
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
