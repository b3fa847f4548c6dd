//! Where backups are kept: an S3-compatible bucket (presigned SigV4 requests by `rusty-s3`, sent
//! with `reqwest`, as the catalog's image store does) or a directory, typically a mounted volume.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::{StatusCode, Url};
use rusty_s3::actions::ListObjectsV2;
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

/// How long a signed request stays valid: long enough to upload a large dump.
const SIGNATURE_TTL: Duration = Duration::from_secs(3600);

/// The bucket and how to sign for it.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    /// Prepended to every key; empty, or segments ending in `/`.
    pub prefix: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub path_style: bool,
    /// Per request.
    pub timeout: Duration,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("path_style", &self.path_style)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("the S3 endpoint {0:?} is not a URL")]
    Endpoint(String),
    #[error("the S3 bucket can't be addressed: {0}")]
    Bucket(#[from] rusty_s3::BucketError),
    #[error("the HTTP client could not be built: {0}")]
    Client(reqwest::Error),
    #[error("S3 {action} {key}: {detail}")]
    S3 {
        action: &'static str,
        key: String,
        detail: String,
    },
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

pub struct S3Bucket {
    bucket: Bucket,
    credentials: Credentials,
    prefix: String,
    http: reqwest::Client,
}

impl S3Bucket {
    pub fn new(settings: &S3Settings) -> Result<Self, StorageError> {
        let endpoint: Url = settings
            .endpoint
            .parse()
            .map_err(|_| StorageError::Endpoint(settings.endpoint.clone()))?;
        let style = if settings.path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        Ok(Self {
            bucket: Bucket::new(
                endpoint,
                style,
                settings.bucket.clone(),
                settings.region.clone(),
            )?,
            credentials: Credentials::new(
                settings.access_key_id.clone(),
                settings.secret_access_key.clone(),
            ),
            prefix: settings.prefix.clone(),
            http: reqwest::Client::builder()
                .timeout(settings.timeout)
                .build()
                .map_err(StorageError::Client)?,
        })
    }
}

fn s3_failed(action: &'static str, key: &str, detail: impl std::fmt::Display) -> StorageError {
    StorageError::S3 {
        action,
        key: key.to_owned(),
        detail: detail.to_string(),
    }
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
            Storage::S3(s3) => {
                let full = format!("{}{key}", s3.prefix);
                let url = s3
                    .bucket
                    .put_object(Some(&s3.credentials), &full)
                    .sign(SIGNATURE_TTL);
                let response = s3
                    .http
                    .put(url)
                    .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                    .body(bytes)
                    .send()
                    .await
                    .map_err(|e| s3_failed("PUT", &full, e))?;
                if response.status().is_success() {
                    Ok(())
                } else {
                    Err(s3_failed("PUT", &full, response.status()))
                }
            }
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
            Storage::S3(s3) => {
                let full = format!("{}{key}", s3.prefix);
                let url = s3
                    .bucket
                    .get_object(Some(&s3.credentials), &full)
                    .sign(SIGNATURE_TTL);
                let response = s3
                    .http
                    .get(url)
                    .send()
                    .await
                    .map_err(|e| s3_failed("GET", &full, e))?;
                match response.status() {
                    StatusCode::NOT_FOUND => Ok(None),
                    status if status.is_success() => {
                        let bytes = response
                            .bytes()
                            .await
                            .map_err(|e| s3_failed("GET", &full, e))?;
                        Ok(Some(bytes.to_vec()))
                    }
                    status => Err(s3_failed("GET", &full, status)),
                }
            }
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
            Storage::S3(s3) => {
                let full = format!("{}{folder}", s3.prefix);
                let mut keys = Vec::new();
                let mut token: Option<String> = None;
                loop {
                    let mut action = ListObjectsV2::new(&s3.bucket, Some(&s3.credentials));
                    action.with_prefix(full.as_str());
                    if let Some(token) = &token {
                        action.with_continuation_token(token.clone());
                    }
                    let url = action.sign(SIGNATURE_TTL);
                    let response = s3
                        .http
                        .get(url)
                        .send()
                        .await
                        .map_err(|e| s3_failed("LIST", &full, e))?;
                    let status = response.status();
                    let text = response
                        .text()
                        .await
                        .map_err(|e| s3_failed("LIST", &full, e))?;
                    if !status.is_success() {
                        return Err(s3_failed("LIST", &full, status));
                    }
                    let page = ListObjectsV2::parse_response(&text)
                        .map_err(|e| s3_failed("LIST", &full, e))?;
                    keys.extend(page.contents.into_iter().filter_map(|object| {
                        object
                            .key
                            .strip_prefix(s3.prefix.as_str())
                            .map(str::to_owned)
                    }));
                    match page.next_continuation_token {
                        Some(next) => token = Some(next),
                        None => break,
                    }
                }
                Ok(keys)
            }
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
            Storage::S3(s3) => {
                let full = format!("{}{key}", s3.prefix);
                let url = s3
                    .bucket
                    .delete_object(Some(&s3.credentials), &full)
                    .sign(SIGNATURE_TTL);
                let response = s3
                    .http
                    .delete(url)
                    .send()
                    .await
                    .map_err(|e| s3_failed("DELETE", &full, e))?;
                if response.status().is_success() || response.status() == StatusCode::NOT_FOUND {
                    Ok(())
                } else {
                    Err(s3_failed("DELETE", &full, response.status()))
                }
            }
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
