//! A small client for S3-compatible buckets (AWS S3, MinIO, Ceph, R2, …): SigV4-presigned requests
//! built by `rusty-s3` and sent with `reqwest`. Keys live under an optional prefix, so several
//! stores can share one bucket. Enabled by the `s3` feature.

use std::time::Duration;

use reqwest::{StatusCode, Url};
use rusty_s3::actions::ListObjectsV2;
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

use crate::config::{ConfigError, Env};

/// Where the bucket is and how to sign for it.
#[derive(Clone, PartialEq, Eq)]
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
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl S3Settings {
    /// Reads `<group>_{ENDPOINT, REGION, PREFIX, ACCESS_KEY_ID, SECRET_ACCESS_KEY, PATH_STYLE,
    /// TIMEOUT_SECONDS}` for `bucket`: region `us-east-1` and the AWS endpoint of the region by
    /// default, no prefix, virtual-host style. Callers check the prefix against their own key rules.
    pub fn from_env(
        env: &Env,
        group: &str,
        bucket: String,
        default_timeout: Duration,
    ) -> Result<Self, ConfigError> {
        let name = |part: &str| format!("{group}_{part}");
        let region: String = env.optional(&name("REGION"), "us-east-1".to_owned())?;
        Ok(Self {
            endpoint: env.optional(
                &name("ENDPOINT"),
                format!("https://s3.{region}.amazonaws.com"),
            )?,
            region,
            bucket,
            prefix: env.optional(&name("PREFIX"), String::new())?,
            access_key_id: env.required(&name("ACCESS_KEY_ID"))?,
            secret_access_key: env.required(&name("SECRET_ACCESS_KEY"))?,
            path_style: env.optional(&name("PATH_STYLE"), false)?,
            timeout: env.seconds(&name("TIMEOUT_SECONDS"), default_timeout)?,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("the S3 endpoint {0:?} is not a URL")]
    Endpoint(String),
    #[error("the S3 bucket can't be addressed: {0}")]
    Bucket(#[from] rusty_s3::BucketError),
    #[error("the HTTP client could not be built: {0}")]
    Client(reqwest::Error),
    /// A request failed or was refused; `key` includes the prefix.
    #[error("S3 {action} {key}: {detail}")]
    Request {
        action: &'static str,
        key: String,
        detail: String,
    },
}

/// A stored object as the bucket returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
}

/// One bucket (under one prefix), with requests signed for `signature_ttl`.
pub struct S3Bucket {
    bucket: Bucket,
    credentials: Credentials,
    prefix: String,
    http: reqwest::Client,
    signature_ttl: Duration,
}

fn failed(action: &'static str, key: &str, detail: impl std::fmt::Display) -> S3Error {
    S3Error::Request {
        action,
        key: key.to_owned(),
        detail: detail.to_string(),
    }
}

impl S3Bucket {
    /// `signature_ttl`: how long a signed request stays valid, i.e. how long it may take to send.
    pub fn new(settings: &S3Settings, signature_ttl: Duration) -> Result<Self, S3Error> {
        let endpoint: Url = settings
            .endpoint
            .parse()
            .map_err(|_| S3Error::Endpoint(settings.endpoint.clone()))?;
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
                .map_err(S3Error::Client)?,
            signature_ttl,
        })
    }

    fn full(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Stores `bytes` under `key`, replacing any object there.
    pub async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), S3Error> {
        let full = self.full(key);
        let url = self
            .bucket
            .put_object(Some(&self.credentials), &full)
            .sign(self.signature_ttl);
        let response = self
            .http
            .put(url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(bytes)
            .send()
            .await
            .map_err(|e| failed("PUT", &full, e))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(failed("PUT", &full, response.status()))
        }
    }

    /// The object under `key`, or `None` when there is none.
    pub async fn get(&self, key: &str) -> Result<Option<S3Object>, S3Error> {
        let full = self.full(key);
        let url = self
            .bucket
            .get_object(Some(&self.credentials), &full)
            .sign(self.signature_ttl);
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| failed("GET", &full, e))?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            status if status.is_success() => {
                let content_type = response
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let bytes = response
                    .bytes()
                    .await
                    .map_err(|e| failed("GET", &full, e))?;
                Ok(Some(S3Object {
                    bytes: bytes.to_vec(),
                    content_type,
                }))
            }
            status => Err(failed("GET", &full, status)),
        }
    }

    /// Every key under `folder`, without the bucket's prefix.
    pub async fn list(&self, folder: &str) -> Result<Vec<String>, S3Error> {
        let full = self.full(folder);
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut action = ListObjectsV2::new(&self.bucket, Some(&self.credentials));
            action.with_prefix(full.as_str());
            if let Some(token) = &token {
                action.with_continuation_token(token.clone());
            }
            let url = action.sign(self.signature_ttl);
            let response = self
                .http
                .get(url)
                .send()
                .await
                .map_err(|e| failed("LIST", &full, e))?;
            let status = response.status();
            let text = response
                .text()
                .await
                .map_err(|e| failed("LIST", &full, e))?;
            if !status.is_success() {
                return Err(failed("LIST", &full, status));
            }
            let page =
                ListObjectsV2::parse_response(&text).map_err(|e| failed("LIST", &full, e))?;
            keys.extend(page.contents.into_iter().filter_map(|object| {
                object
                    .key
                    .strip_prefix(self.prefix.as_str())
                    .map(str::to_owned)
            }));
            match page.next_continuation_token {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        Ok(keys)
    }

    /// Removes the object under `key`; a missing one is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), S3Error> {
        let full = self.full(key);
        let url = self
            .bucket
            .delete_object(Some(&self.credentials), &full)
            .sign(self.signature_ttl);
        let response = self
            .http
            .delete(url)
            .send()
            .await
            .map_err(|e| failed("DELETE", &full, e))?;
        if response.status().is_success() || response.status() == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(failed("DELETE", &full, response.status()))
        }
    }
}
