//! Images in an S3-compatible bucket (AWS S3, MinIO, Ceph, R2, …) through the kit's bucket
//! client, with the object store's key rules. Keys live under an optional prefix, so several
//! stores can share one bucket.

use std::io;
use std::time::Duration;

use futures::future::BoxFuture;
use storefront_kit::s3::S3Bucket;
pub use storefront_kit::s3::S3Settings;

use super::store::{Object, ObjectStore, valid_key};

/// How long a signed request stays valid: only as long as it takes to send it.
const SIGNATURE_TTL: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("the S3 prefix {0:?} must be segments of [a-z0-9._-] ending in '/'")]
    Prefix(String),
    #[error(transparent)]
    Bucket(#[from] storefront_kit::s3::S3Error),
}

pub struct S3Store {
    bucket: S3Bucket,
}

impl S3Store {
    pub fn new(settings: &S3Settings) -> Result<Self, S3Error> {
        let prefix = &settings.prefix;
        let prefix_ok =
            prefix.is_empty() || (prefix.ends_with('/') && valid_key(prefix.trim_end_matches('/')));
        if !prefix_ok {
            return Err(S3Error::Prefix(prefix.clone()));
        }
        Ok(Self {
            bucket: S3Bucket::new(settings, SIGNATURE_TTL)?,
        })
    }
}

fn checked(key: &str) -> io::Result<&str> {
    if valid_key(key) {
        Ok(key)
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "invalid object key",
        ))
    }
}

impl ObjectStore for S3Store {
    fn put<'a>(
        &'a self,
        key: &'a str,
        bytes: Vec<u8>,
        content_type: &'a str,
    ) -> BoxFuture<'a, io::Result<()>> {
        Box::pin(async move {
            self.bucket
                .put(checked(key)?, bytes, content_type)
                .await
                .map_err(io::Error::other)
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, io::Result<Option<Object>>> {
        Box::pin(async move {
            let object = self
                .bucket
                .get(checked(key)?)
                .await
                .map_err(io::Error::other)?;
            Ok(object.map(|object| Object {
                bytes: object.bytes,
                content_type: object
                    .content_type
                    .unwrap_or_else(|| "application/octet-stream".to_owned()),
            }))
        })
    }
}
