//! The catalog over HTTP: SKU lookups for pricing, and the stock reservations of the checkout
//! saga. Every call has a timeout; calls that are safe to repeat are retried with jittered
//! backoff; a circuit breaker stops calling a catalog that keeps failing.
//!
//! Which calls are retried: the SKU lookup is a GET, and reserve, commit, release and return are
//! idempotent by order id on the catalog's side (a replay answers with the first outcome), so
//! all of today's calls may be repeated. A call that is not idempotent must be sent with
//! `Retry::Never`.

pub mod breaker;

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use axum::body::Bytes;
use http::{HeaderMap, Method, StatusCode};
use serde::{Deserialize, Serialize};
use storefront_kit::{FieldError, Problem, telemetry};

use crate::config::CatalogSettings;
use crate::ids::{OrderId, Sku};
use crate::money::Money;
pub use breaker::CircuitBreaker;

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// No usable answer (connection refused, timeout, 5xx), after the retries allowed.
    #[error("catalog unavailable: {0}")]
    Unavailable(String),
    /// The breaker is open: the call was not even tried.
    #[error("catalog circuit open for another {retry_after:?}")]
    CircuitOpen { retry_after: Duration },
    /// A 4xx the caller must handle (e.g. 409 short of stock).
    #[error("catalog refused with {status}: {}", .problem.detail.as_deref().unwrap_or(""))]
    Refused {
        status: StatusCode,
        problem: Problem,
    },
    #[error("catalog answer not understood: {0}")]
    Protocol(String),
}

impl CatalogError {
    /// Whether the catalog could not be reached (as opposed to a definite answer).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::CircuitOpen { .. })
    }

    /// The field errors of a refusal (e.g. which line is short of stock).
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::Refused { problem, .. } => problem.errors.clone(),
            _ => Vec::new(),
        }
    }
}

/// A SKU as the catalog describes it (`GET /api/catalog/skus/{sku}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkuView {
    pub sku: String,
    pub product_id: String,
    pub slug: String,
    pub title: String,
    #[serde(default)]
    pub variant_title: Option<String>,
    pub price: Money,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// `active`, `draft` or `archived`; only active products are for sale.
    pub status: String,
    /// Units that can be reserved now.
    pub available: i64,
    #[serde(default)]
    pub image: Option<String>,
    /// The product's categories (for promotions and codes by category).
    #[serde(default)]
    pub category_ids: Vec<String>,
    /// The variant's shipping weight, when the catalog knows it.
    #[serde(default)]
    pub weight_grams: Option<i64>,
}

impl SkuView {
    pub fn for_sale(&self) -> bool {
        self.status == "active"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationLine {
    pub sku: String,
    pub quantity: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Safe to repeat: a GET, or a write the catalog deduplicates.
    Idempotent,
    Never,
}

pub struct CatalogClient {
    http: reqwest::Client,
    base: String,
    retries: u32,
    /// Calls made for shoppers (prices, stock).
    breaker: CircuitBreaker,
    /// The change feed the webhooks follow in the background: its failures (say, while the
    /// catalog is still starting) must not pause shoppers' calls.
    feed_breaker: CircuitBreaker,
}

impl std::fmt::Debug for CatalogClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl CatalogClient {
    /// Needs a TLS crypto provider installed first (`storefront_kit::install_crypto_provider`).
    pub fn new(settings: &CatalogSettings) -> Result<Self, CatalogError> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(1)))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| CatalogError::Protocol(e.to_string()))?;
        Ok(Self {
            http,
            base: settings.url.trim_end_matches('/').to_owned(),
            retries: settings.retries,
            breaker: CircuitBreaker::new(settings.breaker_failures, settings.breaker_open_for),
            feed_breaker: CircuitBreaker::new(settings.breaker_failures, settings.breaker_open_for),
        })
    }

    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// The SKU, or `None` when the catalog does not sell it.
    pub async fn sku(&self, sku: &Sku) -> Result<Option<SkuView>, CatalogError> {
        let path = format!("/api/catalog/skus/{sku}");
        let (status, body) = self
            .call(Method::GET, &path, None, Retry::Idempotent)
            .await?;
        match status {
            StatusCode::OK => decode(&body).map(Some),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(refused(status, &body)),
        }
    }

    /// The id of the category with this slug, among the first 100 of the tree (for demo data).
    pub async fn category_id(&self, slug: &str) -> Result<Option<String>, CatalogError> {
        #[derive(Deserialize)]
        struct Category {
            id: String,
            slug: String,
        }
        #[derive(Deserialize)]
        struct Categories {
            items: Vec<Category>,
        }
        let (status, body) = self
            .call(
                Method::GET,
                "/api/catalog/categories?limit=100",
                None,
                Retry::Idempotent,
            )
            .await?;
        if status != StatusCode::OK {
            return Err(refused(status, &body));
        }
        let categories: Categories = decode(&body)?;
        Ok(categories
            .items
            .into_iter()
            .find(|c| c.slug == slug)
            .map(|c| c.id))
    }

    /// Reserves every line or none; a replay of the same order is a success.
    pub async fn reserve(
        &self,
        order: &OrderId,
        lines: &[ReservationLine],
        ttl: Duration,
    ) -> Result<(), CatalogError> {
        let body = serde_json::json!({
            "orderId": order.to_string(),
            "lines": lines,
            "ttlSeconds": ttl.as_secs(),
        });
        let (status, answer) = self
            .call(
                Method::POST,
                "/internal/stock/reservations",
                Some(body),
                Retry::Idempotent,
            )
            .await?;
        match status {
            StatusCode::CREATED | StatusCode::OK => Ok(()),
            _ => Err(refused(status, &answer)),
        }
    }

    /// Turns the reservation into a sale (idempotent).
    pub async fn commit(&self, order: &OrderId) -> Result<(), CatalogError> {
        self.settle(order, "commit").await
    }

    /// Returns the reserved units to sale (idempotent; fine for an order never reserved).
    pub async fn release(&self, order: &OrderId) -> Result<(), CatalogError> {
        self.settle(order, "release").await
    }

    /// Puts a cancelled order's committed units back on hand (idempotent by order id).
    pub async fn return_stock(&self, order: &OrderId) -> Result<(), CatalogError> {
        self.settle(order, "return").await
    }

    /// A page of the catalog's change feed after `after` (from the beginning without one).
    pub async fn changes(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<ChangePage, CatalogError> {
        let mut path = format!("/internal/changes?limit={limit}");
        if let Some(after) = after {
            // Cursors are `<xid>.<seq>`: digits and a dot, nothing to escape.
            if !after.chars().all(|c| c.is_ascii_digit() || c == '.') {
                return Err(CatalogError::Protocol(format!("bad feed cursor {after:?}")));
            }
            path.push_str("&after=");
            path.push_str(after);
        }
        let (status, answer) = self
            .call_through(
                &self.feed_breaker,
                Method::GET,
                &path,
                None,
                Retry::Idempotent,
            )
            .await?;
        if status != StatusCode::OK {
            return Err(refused(status, &answer));
        }
        decode(&answer)
    }

    async fn settle(&self, order: &OrderId, action: &str) -> Result<(), CatalogError> {
        let path = format!("/internal/stock/reservations/{order}/{action}");
        let (status, answer) = self
            .call(Method::POST, &path, None, Retry::Idempotent)
            .await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(refused(status, &answer))
        }
    }

    /// A shopper's call, through the shoppers' breaker.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        retry: Retry,
    ) -> Result<(StatusCode, Bytes), CatalogError> {
        self.call_through(&self.breaker, method, path, body, retry)
            .await
    }

    /// One logical call: breaker check, then up to `1 + retries` attempts when `retry` allows.
    /// Every attempt that gets no usable answer counts as a failure for the breaker.
    async fn call_through(
        &self,
        breaker: &CircuitBreaker,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        retry: Retry,
    ) -> Result<(StatusCode, Bytes), CatalogError> {
        let attempts = match retry {
            Retry::Idempotent => 1 + self.retries,
            Retry::Never => 1,
        };
        let mut last_error = String::new();
        for attempt in 0..attempts {
            if let Err(retry_after) = breaker.check() {
                return Err(CatalogError::CircuitOpen { retry_after });
            }
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt)).await;
            }
            match self.attempt(method.clone(), path, body.as_ref()).await {
                Ok((status, answer)) if !status.is_server_error() => {
                    breaker.record_success();
                    return Ok((status, answer));
                }
                Ok((status, _)) => last_error = format!("{method} {path} answered {status}"),
                Err(error) => last_error = format!("{method} {path}: {error}"),
            }
            breaker.record_failure();
            tracing::debug!(attempt, error = %last_error, "catalog call failed");
        }
        Err(CatalogError::Unavailable(last_error))
    }

    async fn attempt(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(StatusCode, Bytes), reqwest::Error> {
        let mut headers = HeaderMap::new();
        telemetry::inject_trace_context(&mut headers);
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .headers(headers);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let answer = response.bytes().await?;
        Ok((status, answer))
    }
}

/// One entry of the catalog's change feed.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub cursor: String,
    pub kind: String,
    pub id: String,
    pub version: i64,
    pub deleted: bool,
    #[serde(default)]
    pub document: Option<serde_json::Value>,
    pub changed_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangePage {
    pub items: Vec<Change>,
    pub next_cursor: Option<String>,
}

/// Exponential backoff with full jitter: a random delay in `[0, 50 ms × 2^attempt)`.
fn backoff(attempt: u32) -> Duration {
    let ceiling_ms = 50u64.saturating_mul(1 << attempt.min(6));
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    Duration::from_millis(random % ceiling_ms.max(1))
}

fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, CatalogError> {
    serde_json::from_slice(body).map_err(|e| CatalogError::Protocol(e.to_string()))
}

fn refused(status: StatusCode, body: &[u8]) -> CatalogError {
    let problem = serde_json::from_slice::<Problem>(body).unwrap_or_else(|_| {
        Problem::new(status, "catalog", "Catalog refused the request").with_detail(
            String::from_utf8_lossy(body)
                .chars()
                .take(200)
                .collect::<String>(),
        )
    });
    CatalogError::Refused { status, problem }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_under_its_ceiling() {
        for attempt in 1..5 {
            for _ in 0..50 {
                assert!(backoff(attempt) < Duration::from_millis(50 << attempt));
            }
        }
    }
}
