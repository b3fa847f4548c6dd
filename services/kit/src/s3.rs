//! A small client for S3-compatible buckets (AWS S3, MinIO, Ceph, R2, …): SigV4-presigned requests
//! built by `rusty-s3` and sent with `reqwest`. Keys live under an optional prefix, so several
//! stores can share one bucket. Enabled by the `s3` feature.
//!
//! Objects of any size stream both ways: [`S3Bucket::put_stream`] uploads what a reader yields in
//! parts (a multipart upload, aborted on any failure) and [`S3Bucket::get_stream`] hands out an
//! object as a reader, so memory stays at a couple of parts whatever the object's size.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, ETAG};
use reqwest::{RequestBuilder, Response, StatusCode, Url};
use rusty_s3::actions::{CreateMultipartUpload, ListObjectsV2};
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};
use tokio_util::io::StreamReader;

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
    /// Per request; a streamed download has no overall limit but fails when a read stalls this
    /// long.
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

const MIB: usize = 1024 * 1024;

/// S3 numbers parts from 1 to 10,000.
const MAX_PARTS: u16 = 10_000;

/// The size of every part of a multipart upload but the last, within S3's limits (5 MiB to
/// 5 GiB). A streamed upload holds two parts in memory: one being sent, the next being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartSize(usize);

impl PartSize {
    pub const MIN_MIB: usize = 5;
    pub const MAX_MIB: usize = 5 * 1024;
    pub const DEFAULT: PartSize = PartSize(8 * MIB);

    /// `mib` MiB, or `None` outside S3's limits.
    pub fn from_mib(mib: usize) -> Option<Self> {
        if (Self::MIN_MIB..=Self::MAX_MIB).contains(&mib) {
            mib.checked_mul(MIB).map(Self)
        } else {
            None
        }
    }

    pub fn bytes(self) -> usize {
        self.0
    }

    pub fn mib(self) -> usize {
        self.0 / MIB
    }
}

impl Default for PartSize {
    fn default() -> Self {
        Self::DEFAULT
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
    /// Reading what was to be uploaded failed; nothing is stored under `key`.
    #[error("S3 upload {key}: reading the data failed: {source}")]
    Read { key: String, source: io::Error },
    #[error(
        "S3 upload {key}: more than {MAX_PARTS} parts of {part_mib} MiB; a larger part size is needed"
    )]
    TooManyParts { key: String, part_mib: usize },
    /// A multipart upload failed and was aborted: neither an object nor parts remain.
    #[error("{cause} (the multipart upload was aborted)")]
    Aborted {
        upload_id: String,
        cause: Box<S3Error>,
    },
    /// A multipart upload failed and aborting it failed too: its parts stay in the bucket until
    /// a lifecycle rule for incomplete multipart uploads removes them.
    #[error(
        "{cause}; aborting the multipart upload {upload_id} failed too ({abort}), so its parts remain until the bucket's lifecycle rule removes them"
    )]
    NotAborted {
        upload_id: String,
        cause: Box<S3Error>,
        abort: Box<S3Error>,
    },
}

/// A stored object as the bucket returned it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Object {
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
}

/// An object being read from the bucket as its reader is consumed.
pub struct S3Download {
    pub content_type: Option<String>,
    /// As the bucket announced it.
    pub content_length: Option<u64>,
    body: StreamReader<BoxStream<'static, io::Result<Bytes>>, Bytes>,
}

impl AsyncRead for S3Download {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().body).poll_read(cx, buf)
    }
}

/// One bucket (under one prefix), with requests signed for `signature_ttl`.
pub struct S3Bucket {
    bucket: Bucket,
    credentials: Credentials,
    prefix: String,
    /// Connects and reads within `timeout`; each request but a streamed download is also limited
    /// to `timeout` as a whole.
    http: reqwest::Client,
    timeout: Duration,
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
                .connect_timeout(settings.timeout)
                .read_timeout(settings.timeout)
                .build()
                .map_err(S3Error::Client)?,
            timeout: settings.timeout,
            signature_ttl,
        })
    }

    fn full(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Sends a request that must finish, body included, within the timeout.
    async fn send(&self, request: RequestBuilder) -> reqwest::Result<Response> {
        request.timeout(self.timeout).send().await
    }

    /// Stores `bytes` under `key`, replacing any object there.
    pub async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), S3Error> {
        let full = self.full(key);
        let url = self
            .bucket
            .put_object(Some(&self.credentials), &full)
            .sign(self.signature_ttl);
        let response = self
            .send(
                self.http
                    .put(url)
                    .header(CONTENT_TYPE, content_type)
                    .body(bytes),
            )
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
            .send(self.http.get(url))
            .await
            .map_err(|e| failed("GET", &full, e))?;
        match response.status() {
            StatusCode::NOT_FOUND => Ok(None),
            status if status.is_success() => {
                let content_type = header(&response, CONTENT_TYPE);
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
                .send(self.http.get(url))
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
            .send(self.http.delete(url))
            .await
            .map_err(|e| failed("DELETE", &full, e))?;
        if response.status().is_success() || response.status() == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(failed("DELETE", &full, response.status()))
        }
    }

    /// Stores everything `reader` yields under `key` and returns how many bytes that was. Input
    /// that fits in one part goes up in a single `PUT`; anything larger as a multipart upload,
    /// reading the next part while the previous one is sent, and completed only once the reader
    /// has ended without error. Any failure aborts the upload, so neither an object nor parts
    /// are left behind.
    pub async fn put_stream<R>(
        &self,
        key: &str,
        mut reader: R,
        content_type: &str,
        part_size: PartSize,
    ) -> Result<u64, S3Error>
    where
        R: AsyncRead + Unpin + Send,
    {
        let full = self.full(key);
        let size = part_size.bytes();
        let first = read_part(&mut reader, size)
            .await
            .map_err(|source| S3Error::Read {
                key: full.clone(),
                source,
            })?;
        if first.len() < size {
            let bytes = first.len() as u64;
            self.put(key, first, content_type).await?;
            return Ok(bytes);
        }
        let upload_id = self.create_upload(&full, content_type).await?;
        match self
            .send_parts(&full, &upload_id, first, &mut reader, part_size)
            .await
        {
            Ok(bytes) => Ok(bytes),
            Err(cause) => Err(match self.abort_upload(&full, &upload_id).await {
                Ok(()) => S3Error::Aborted {
                    upload_id,
                    cause: Box::new(cause),
                },
                Err(abort) => S3Error::NotAborted {
                    upload_id,
                    cause: Box::new(cause),
                    abort: Box::new(abort),
                },
            }),
        }
    }

    /// Sends `first` and every further part of `reader`, then completes the upload.
    async fn send_parts<R>(
        &self,
        full: &str,
        upload_id: &str,
        first: Vec<u8>,
        reader: &mut R,
        part_size: PartSize,
    ) -> Result<u64, S3Error>
    where
        R: AsyncRead + Unpin + Send,
    {
        let size = part_size.bytes();
        let mut etags = Vec::new();
        let mut total = 0_u64;
        let mut number: u16 = 1;
        let mut part = first;
        loop {
            total += part.len() as u64;
            // A part shorter than the part size was cut short by the end of the input.
            let more = part.len() == size;
            let (sent, next) =
                tokio::join!(self.upload_part(full, upload_id, number, part), async {
                    if more {
                        read_part(reader, size).await.map(Some)
                    } else {
                        Ok(None)
                    }
                });
            let next = next.map_err(|source| S3Error::Read {
                key: full.to_owned(),
                source,
            })?;
            etags.push(sent?);
            match next {
                Some(next) if !next.is_empty() => {
                    if number == MAX_PARTS {
                        return Err(S3Error::TooManyParts {
                            key: full.to_owned(),
                            part_mib: part_size.mib(),
                        });
                    }
                    number += 1;
                    part = next;
                }
                _ => break,
            }
        }
        self.complete_upload(full, upload_id, &etags).await?;
        Ok(total)
    }

    /// Starts a multipart upload to `full`; returns its id.
    async fn create_upload(&self, full: &str, content_type: &str) -> Result<String, S3Error> {
        const ACTION: &str = "CreateMultipartUpload";
        let url = self
            .bucket
            .create_multipart_upload(Some(&self.credentials), full)
            .sign(self.signature_ttl);
        let response = self
            .send(self.http.post(url).header(CONTENT_TYPE, content_type))
            .await
            .map_err(|e| failed(ACTION, full, e))?;
        let text = reply(response, ACTION, full).await?;
        CreateMultipartUpload::parse_response(&text)
            .map(|created| created.upload_id().to_owned())
            .map_err(|e| failed(ACTION, full, e))
    }

    /// Sends part `number`; returns its ETag, which completing the upload names.
    async fn upload_part(
        &self,
        full: &str,
        upload_id: &str,
        number: u16,
        bytes: Vec<u8>,
    ) -> Result<String, S3Error> {
        const ACTION: &str = "UploadPart";
        let url = self
            .bucket
            .upload_part(Some(&self.credentials), full, number, upload_id)
            .sign(self.signature_ttl);
        let response = self
            .send(self.http.put(url).body(bytes))
            .await
            .map_err(|e| failed(ACTION, full, e))?;
        if !response.status().is_success() {
            return Err(refused(response, ACTION, full).await);
        }
        header(&response, ETAG).ok_or_else(|| failed(ACTION, full, "the reply has no ETag"))
    }

    async fn complete_upload(
        &self,
        full: &str,
        upload_id: &str,
        etags: &[String],
    ) -> Result<(), S3Error> {
        const ACTION: &str = "CompleteMultipartUpload";
        let action = self.bucket.complete_multipart_upload(
            Some(&self.credentials),
            full,
            upload_id,
            etags.iter().map(String::as_str),
        );
        let url = action.sign(self.signature_ttl);
        let response = self
            .send(self.http.post(url).body(action.body()))
            .await
            .map_err(|e| failed(ACTION, full, e))?;
        let text = reply(response, ACTION, full).await?;
        // S3 may answer 200 and still report an error in the body.
        if text.contains("<Error>") {
            return Err(failed(ACTION, full, error_code(&text)));
        }
        Ok(())
    }

    /// Removes a multipart upload and its parts; one that no longer exists is not an error.
    async fn abort_upload(&self, full: &str, upload_id: &str) -> Result<(), S3Error> {
        const ACTION: &str = "AbortMultipartUpload";
        let url = self
            .bucket
            .abort_multipart_upload(Some(&self.credentials), full, upload_id)
            .sign(self.signature_ttl);
        let response = self
            .send(self.http.delete(url))
            .await
            .map_err(|e| failed(ACTION, full, e))?;
        if response.status().is_success() || response.status() == StatusCode::NOT_FOUND {
            Ok(())
        } else {
            Err(refused(response, ACTION, full).await)
        }
    }

    /// The object under `key` as a reader, or `None` when there is none. The body arrives as the
    /// reader is consumed, so memory stays small whatever the object's size. The download as a
    /// whole has no time limit; a read that stalls for the timeout fails, as does a body that
    /// ends before its announced length.
    pub async fn get_stream(&self, key: &str) -> Result<Option<S3Download>, S3Error> {
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
                let content_type = header(&response, CONTENT_TYPE);
                let content_length =
                    header(&response, CONTENT_LENGTH).and_then(|length| length.parse().ok());
                let body = futures::stream::try_unfold(response, move |mut response| {
                    let full = full.clone();
                    async move {
                        match response.chunk().await {
                            Ok(Some(chunk)) => Ok(Some((chunk, response))),
                            Ok(None) => Ok(None),
                            Err(e) => Err(io::Error::other(failed("GET", &full, e))),
                        }
                    }
                })
                .boxed();
                Ok(Some(S3Download {
                    content_type,
                    content_length,
                    body: StreamReader::new(body),
                }))
            }
            _ => Err(refused(response, "GET", &full).await),
        }
    }
}

fn header(response: &Response, name: reqwest::header::HeaderName) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The body of a successful reply, or the refusal.
async fn reply(response: Response, action: &'static str, key: &str) -> Result<String, S3Error> {
    if !response.status().is_success() {
        return Err(refused(response, action, key).await);
    }
    response.text().await.map_err(|e| failed(action, key, e))
}

/// A refusal, named by its status and the S3 error code of its body when there is one.
async fn refused(response: Response, action: &'static str, key: &str) -> S3Error {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let code = error_code(&text);
    if code.is_empty() {
        failed(action, key, status)
    } else {
        failed(action, key, format!("{status} {code}"))
    }
}

/// The `<Code>` of an S3 error body, or nothing.
fn error_code(text: &str) -> &str {
    text.split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map(|(code, _)| code)
        .unwrap_or_default()
}

/// Reads up to `size` bytes: fewer only when the reader ends.
async fn read_part<R>(reader: &mut R, size: usize) -> io::Result<Vec<u8>>
where
    R: AsyncRead + Unpin,
{
    // Exactly one allocation of the part size; reading to the end of a `take` would grow it.
    let mut part = vec![0; size];
    let mut filled = 0;
    while filled < size {
        let n = reader.read(&mut part[filled..]).await?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    part.truncate(filled);
    Ok(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_sizes_stay_within_s3_limits() {
        assert_eq!(PartSize::from_mib(4), None);
        assert_eq!(PartSize::from_mib(5).map(PartSize::bytes), Some(5 * MIB));
        assert_eq!(PartSize::from_mib(5 * 1024 + 1), None);
        assert_eq!(PartSize::default().mib(), 8);
    }

    #[test]
    fn error_codes_are_read_from_error_bodies() {
        let body =
            "<?xml version=\"1.0\"?><Error><Code>NoSuchUpload</Code><Message>m</Message></Error>";
        assert_eq!(error_code(body), "NoSuchUpload");
        assert_eq!(error_code("<Result/>"), "");
    }

    /// A reader that fails: a dump whose tool gave up half-way.
    struct Failing;

    impl AsyncRead for Failing {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Ready(Err(io::Error::other("the producer failed")))
        }
    }

    #[tokio::test]
    async fn a_part_is_read_whole_even_from_a_reader_of_small_pieces() {
        let data: Vec<u8> = (0..100_u8).collect();
        let mut reader = tokio::io::BufReader::with_capacity(7, &data[..]);
        assert_eq!(read_part(&mut reader, 64).await.unwrap(), &data[..64]);
        assert_eq!(read_part(&mut reader, 64).await.unwrap(), &data[64..]);
        assert!(read_part(&mut reader, 64).await.unwrap().is_empty());
        let mut failing = (&data[..10]).chain(Failing);
        assert!(read_part(&mut failing, 64).await.is_err());
    }

    #[cfg(feature = "testing")]
    mod against_the_local_store {
        use super::*;
        use crate::testing::{create_s3_bucket, s3_settings};

        async fn bucket() -> S3Bucket {
            crate::install_crypto_provider();
            let name = create_s3_bucket("kit-s3").await;
            S3Bucket::new(&s3_settings(&name), Duration::from_secs(60)).unwrap()
        }

        fn five_mib() -> PartSize {
            PartSize::from_mib(5).unwrap()
        }

        /// Bytes that do not repeat within a part (xorshift), so a misplaced part shows.
        fn noise(len: usize) -> Vec<u8> {
            let mut state = 0x9E37_79B9_7F4A_7C15_u64;
            (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect()
        }

        async fn read_all(s3: &S3Bucket, key: &str) -> Option<Vec<u8>> {
            let mut download = s3.get_stream(key).await.unwrap()?;
            let mut bytes = Vec::new();
            download.read_to_end(&mut bytes).await.unwrap();
            assert_eq!(download.content_length, Some(bytes.len() as u64));
            Some(bytes)
        }

        /// The object's ETag: a multipart upload's ends in `-<number of parts>`.
        async fn etag(s3: &S3Bucket, key: &str) -> String {
            let url = s3
                .bucket
                .head_object(Some(&s3.credentials), &s3.full(key))
                .sign(Duration::from_secs(60));
            let response = s3.http.head(url).send().await.unwrap();
            assert!(response.status().is_success(), "{response:?}");
            header(&response, ETAG).unwrap()
        }

        #[tokio::test]
        async fn a_stream_larger_than_a_part_is_stored_in_parts_and_read_back_whole() {
            let s3 = bucket().await;
            let data = noise(2 * five_mib().bytes() + 12_345);
            let stored = s3
                .put_stream("dumps/big.bin", &data[..], "application/x-test", five_mib())
                .await
                .unwrap();
            assert_eq!(stored, data.len() as u64);
            assert!(etag(&s3, "dumps/big.bin").await.ends_with("-3\""));
            let back = read_all(&s3, "dumps/big.bin").await.unwrap();
            assert!(back == data, "the object differs from what was sent");
            let object = s3.get("dumps/big.bin").await.unwrap().unwrap();
            assert_eq!(object.content_type.as_deref(), Some("application/x-test"));
        }

        #[tokio::test]
        async fn an_exact_multiple_of_the_part_size_ends_without_an_empty_part() {
            let s3 = bucket().await;
            let data = noise(2 * five_mib().bytes());
            s3.put_stream(
                "exact.bin",
                &data[..],
                "application/octet-stream",
                five_mib(),
            )
            .await
            .unwrap();
            assert!(etag(&s3, "exact.bin").await.ends_with("-2\""));
            assert!(read_all(&s3, "exact.bin").await.unwrap() == data);
        }

        #[tokio::test]
        async fn a_stream_within_one_part_is_a_single_put() {
            let s3 = bucket().await;
            for (key, data) in [("small.bin", noise(1000)), ("empty.bin", Vec::new())] {
                let stored = s3
                    .put_stream(key, &data[..], "application/octet-stream", five_mib())
                    .await
                    .unwrap();
                assert_eq!(stored, data.len() as u64);
                assert!(!etag(&s3, key).await.contains('-'));
                assert_eq!(read_all(&s3, key).await.unwrap(), data);
            }
            assert!(s3.get_stream("missing.bin").await.unwrap().is_none());
        }

        #[tokio::test]
        async fn a_reader_failing_half_way_leaves_neither_an_object_nor_parts() {
            let s3 = bucket().await;
            let data = noise(2 * five_mib().bytes() + 1);
            let reader = (&data[..]).chain(Failing);
            let error = s3
                .put_stream(
                    "dumps/broken.bin",
                    reader,
                    "application/octet-stream",
                    five_mib(),
                )
                .await
                .unwrap_err();
            let S3Error::Aborted { upload_id, cause } = error else {
                panic!("an aborted upload: {error}");
            };
            assert!(matches!(*cause, S3Error::Read { .. }), "{cause}");
            assert!(s3.list("dumps/").await.unwrap().is_empty());
            // The upload is gone: it takes no more parts, and none of its parts is listed.
            let refused = s3
                .upload_part("dumps/broken.bin", &upload_id, 4, vec![1, 2, 3])
                .await;
            assert!(refused.is_err(), "the aborted upload took a part");
            assert!(parts(&s3, "dumps/broken.bin", &upload_id).await.is_empty());
        }

        /// The parts a multipart upload holds; none when it does not exist.
        async fn parts(s3: &S3Bucket, key: &str, upload_id: &str) -> Vec<u16> {
            let url = s3
                .bucket
                .list_parts(Some(&s3.credentials), key, upload_id)
                .sign(Duration::from_secs(60));
            let response = s3.http.get(url).send().await.unwrap();
            if response.status() == StatusCode::NOT_FOUND {
                return Vec::new();
            }
            let text = reply(response, "ListParts", key).await.unwrap();
            // Read by hand: the local store's reply leaves out fields rusty-s3's parser requires.
            text.split("<PartNumber>")
                .skip(1)
                .filter_map(|rest| rest.split_once("</PartNumber>"))
                .map(|(number, _)| number.parse().unwrap())
                .collect()
        }

        #[tokio::test]
        async fn listing_parts_sees_an_upload_in_progress() {
            // The check above is only worth something if a live upload's parts do show.
            let s3 = bucket().await;
            let upload_id = s3
                .create_upload("live.bin", "application/octet-stream")
                .await
                .unwrap();
            s3.upload_part("live.bin", &upload_id, 1, noise(1000))
                .await
                .unwrap();
            let live = parts(&s3, "live.bin", &upload_id).await;
            s3.abort_upload("live.bin", &upload_id).await.unwrap();
            assert_eq!(live, vec![1]);
            assert!(parts(&s3, "live.bin", &upload_id).await.is_empty());
        }
    }
}
