//! Product images: multipart upload (admin), checked and resized once into a medium and a
//! thumbnail variant, stored through an [`ObjectStore`], served with long-lived cache headers
//! (each URL is content-addressed, so its bytes never change).

pub mod process;
pub mod s3;
pub mod store;

use std::sync::Arc;

use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use storefront_kit::Admin;
use storefront_kit::Path;

use crate::AppState;
use crate::error::Error;
use crate::ids::ProductId;
use crate::products::model::{ImageUrls, ProductImage};
use crate::products::write;
pub use process::{ImageLimits, Processed};
pub use s3::{S3Error, S3Settings, S3Store};
pub use store::{LocalDirectory, Object, ObjectStore};

/// Where image bytes are kept.
#[derive(Debug, Clone)]
pub enum ImageStorage {
    /// Files under a directory (the default; one replica, or a shared volume).
    Local(std::path::PathBuf),
    /// An S3-compatible bucket (production, many replicas).
    S3(S3Settings),
}

impl ImageStorage {
    pub fn open(&self) -> Result<Arc<dyn ObjectStore>, S3Error> {
        Ok(match self {
            Self::Local(dir) => Arc::new(LocalDirectory::new(dir)),
            Self::S3(settings) => Arc::new(S3Store::new(settings)?),
        })
    }
}

const VARIANTS: [&str; 2] = ["medium.jpg", "thumbnail.jpg"];

pub fn routes(limits: &ImageLimits) -> Router<AppState> {
    Router::new()
        .route(
            "/api/catalog/products/{id}/images",
            // Room for the multipart framing and the other fields around the file.
            post(upload_image).layer(DefaultBodyLimit::max(
                limits.max_bytes.saturating_add(64 * 1024),
            )),
        )
        .route("/api/catalog/images/{image_id}/{file}", get(get_image))
}

fn urls(id: &str, format: process::Format) -> ImageUrls {
    let base = format!("/api/catalog/images/{id}");
    ImageUrls {
        original: format!("{base}/original.{}", format.extension()),
        medium: format!("{base}/medium.jpg"),
        thumbnail: format!("{base}/thumbnail.jpg"),
    }
}

/// Checks, resizes (off the async runtime) and stores an image; returns how to refer to it.
pub async fn store_image(
    objects: &Arc<dyn ObjectStore>,
    limits: ImageLimits,
    bytes: Vec<u8>,
    alt: String,
) -> Result<ProductImage, Error> {
    let processed = tokio::task::spawn_blocking(move || process::process(bytes, &limits))
        .await
        .map_err(|e| Error::Internal(format!("image task failed: {e}")))??;
    let Processed {
        id,
        format,
        width,
        height,
        original,
        medium,
        thumbnail,
    } = processed;
    let original_key = format!("{id}/original.{}", format.extension());
    let content_type = match format {
        process::Format::Jpeg => "image/jpeg",
        process::Format::Png => "image/png",
        process::Format::WebP => "image/webp",
    };
    objects.put(&original_key, original, content_type).await?;
    objects
        .put(&format!("{id}/medium.jpg"), medium, "image/jpeg")
        .await?;
    objects
        .put(&format!("{id}/thumbnail.jpg"), thumbnail, "image/jpeg")
        .await?;
    Ok(ProductImage {
        urls: urls(&id, format),
        id,
        alt,
        width,
        height,
    })
}

/// `multipart/form-data` with a `file` part (JPEG, PNG or WebP) and an optional `alt` part.
#[utoipa::path(post, path = "/api/catalog/products/{id}/images", tag = "images",
    request_body(content_type = "multipart/form-data", content = String),
    responses((status = 201, body = crate::products::Product), (status = 413, body = storefront_kit::Problem),
        (status = 415, body = storefront_kit::Problem), (status = 422, body = storefront_kit::Problem)),
    security(("bearer" = [])))]
pub async fn upload_image(
    State(state): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, Error> {
    let id = ProductId::parse(&id)?;
    let mut multipart = multipart.map_err(|e| {
        Error::UnsupportedMedia(format!("Expected multipart/form-data: {}", e.body_text()))
    })?;
    let mut file = None;
    let mut alt = String::new();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name() {
            Some("file") => file = Some(field.bytes().await.map_err(multipart_error)?.to_vec()),
            Some("alt") => alt = field.text().await.map_err(multipart_error)?,
            _ => {}
        }
    }
    let file = file.ok_or_else(|| Error::invalid("file", "is required"))?;
    if alt.chars().count() > 200 {
        return Err(Error::invalid("alt", "must be at most 200 characters long"));
    }
    let image = store_image(&state.images, state.limits, file, alt).await?;
    let product = write::add_image(&state, &id, image).await?;
    let etag = crate::ids::Version(product.version).etag();
    let mut response = (StatusCode::CREATED, storefront_kit::Json(product)).into_response();
    if let Ok(value) = etag.parse() {
        response.headers_mut().insert(header::ETAG, value);
    }
    Ok(response)
}

fn multipart_error(error: axum::extract::multipart::MultipartError) -> Error {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Error::TooLarge("The upload is larger than images may be.".into())
    } else {
        Error::BadRequest(format!(
            "The multipart body could not be read: {}",
            error.body_text()
        ))
    }
}

fn valid_file(file: &str) -> bool {
    VARIANTS.contains(&file) || ["original.jpg", "original.png", "original.webp"].contains(&file)
}

/// An image variant: `original.<ext>`, `medium.jpg` or `thumbnail.jpg`.
#[utoipa::path(get, path = "/api/catalog/images/{image_id}/{file}", tag = "images",
    responses((status = 200, content_type = "image/jpeg"), (status = 304), (status = 404, body = storefront_kit::Problem)))]
pub async fn get_image(
    State(state): State<AppState>,
    Path((image_id, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let missing = || Error::not_found("No such image.");
    let id_ok = image_id.len() == 32
        && image_id
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
    if !id_ok || !valid_file(&file) {
        return Err(missing());
    }
    let etag = format!("\"{image_id}-{file}\"");
    let cache = (
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok((StatusCode::NOT_MODIFIED, [cache]).into_response());
    }
    let object = state
        .images
        .get(&format!("{image_id}/{file}"))
        .await?
        .ok_or_else(missing)?;
    let content_type = HeaderValue::from_str(&object.content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let etag = HeaderValue::from_str(&etag).map_err(|_| missing())?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            cache,
            (header::ETAG, etag),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        object.bytes,
    )
        .into_response())
}
