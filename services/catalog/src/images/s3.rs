//! An S3-compatible object store (AWS S3, MinIO, Ceph, R2, …): presigned `PUT`/`GET` requests
//! signed with SigV4 by `rusty-s3` and sent with `reqwest`. Keys live under an optional prefix, so
//! several stores can share one bucket.

use std::io;
use std::time::Duration;

use futures::future::BoxFuture;
use reqwest::{StatusCode, Url};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

use super::store::{Object, ObjectStore, valid_key};

/// How long a signed request stays valid: only as long as it takes to send it.
const SIGNATURE_TTL: Duration = Duration::from_secs(60);

/// Where the bucket is and how to sign for it.
#[derive(Clone)]
pub struct S3Settings {
    /// e.g. `https://s3.eu-west-1.amazonaws.com`, or a MinIO address.
    pub endpoint: String,
    pub region: String,
    pub bucket: String,
    /// Prepended to every key (`store-a/` …); empty for none.
    pub prefix: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Path-style addressing (`endpoint/bucket/key`), which S3-compatible servers usually need;
    /// otherwise virtual-host style (`bucket.endpoint/key`), as AWS prefers.
    pub path_style: bool,
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
pub enum S3Error {
    #[error("the S3 endpoint {0:?} is not a URL")]
    Endpoint(String),
    #[error("the S3 bucket can't be addressed: {0}")]
    Bucket(#[from] rusty_s3::BucketError),
    #[error("the S3 prefix {0:?} must be segments of [a-z0-9._-] ending in '/'")]
    Prefix(String),
    #[error("the HTTP client could not be built: {0}")]
    Client(#[from] reqwest::Error),
}

pub struct S3Store {
    bucket: Bucket,
    credentials: Credentials,
    prefix: String,
    http: reqwest::Client,
}

impl S3Store {
    pub fn new(settings: &S3Settings) -> Result<Self, S3Error> {
        let endpoint: Url = settings
            .endpoint
            .parse()
            .map_err(|_| S3Error::Endpoint(settings.endpoint.clone()))?;
        let style = if settings.path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let prefix = settings.prefix.clone();
        let prefix_ok =
            prefix.is_empty() || (prefix.ends_with('/') && valid_key(prefix.trim_end_matches('/')));
        if !prefix_ok {
            return Err(S3Error::Prefix(prefix));
        }
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
            prefix,
            http: reqwest::Client::builder()
                .timeout(settings.timeout)
                .build()?,
        })
    }

    fn object_key(&self, key: &str) -> io::Result<String> {
        if valid_key(key) {
            Ok(format!("{}{key}", self.prefix))
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "invalid object key",
            ))
        }
    }
}

fn failed(what: &str, error: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("S3 {what}: {error}"))
}

impl ObjectStore for S3Store {
    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: Vec<u8>,
        content_type: &'a str,
    ) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            let key = self.object_key(key)?;
            let url = self
                .bucket
                .put_object(Some(&self.credentials), &key)
                .sign(SIGNATURE_TTL);
            let response = self
                .http
                .put(url)
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(bytes)
                .send()
                .await
                .map_err(|e| failed("PUT", e))?;
            if response.status().is_success() {
                Ok(())
            } else {
                Err(failed("PUT", response.status()))
            }
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Option<Object>>> {
        Box::pin(async move {
            let key = self.object_key(key)?;
            let url = self
                .bucket
                .get_object(Some(&self.credentials), &key)
                .sign(SIGNATURE_TTL);
            let response = self
                .http
                .get(url)
                .send()
                .await
                .map_err(|e| failed("GET", e))?;
            match response.status() {
                StatusCode::NOT_FOUND => Ok(None),
                status if status.is_success() => {
                    let content_type = response
                        .headers()
                        .get(reqwest::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("application/octet-stream")
                        .to_owned();
                    let bytes = response.bytes().await.map_err(|e| failed("GET", e))?;
                    Ok(Some(Object {
                        bytes: bytes.to_vec(),
                        content_type,
                    }))
                }
                status => Err(failed("GET", status)),
            }
        })
    }
}
