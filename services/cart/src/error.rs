//! The cart service's one error type, turned into problem+json in exactly one place.

use axum::response::{IntoResponse, Response};
use storefront_kit::{FieldError, Problem};

use crate::catalog_client::CatalogError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// A query parameter that is missing or malformed (400, naming it).
    #[error("{field} {message}")]
    BadParameter { field: String, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{detail}")]
    Conflict {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// Not enough stock for some lines (409 `out-of-stock`, one field error per short line).
    #[error("not enough stock")]
    OutOfStock(Vec<FieldError>),
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("the Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still being processed")]
    IdempotencyInFlight,
    #[error("catalog: {0}")]
    Catalog(#[from] CatalogError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// The payment provider failed or did not answer; retrying the same request is safe.
    #[error("payment provider: {0}")]
    PaymentProvider(String),
    /// The payment provider said no (e.g. nothing left to capture).
    #[error("payment refused: {0}")]
    PaymentRefused(String),
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn bad_parameter(field: &str, message: impl Into<String>) -> Self {
        Self::BadParameter {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    pub fn conflict(detail: impl Into<String>, errors: Vec<FieldError>) -> Self {
        Self::Conflict {
            detail: detail.into(),
            errors,
        }
    }

    pub fn problem(&self) -> Problem {
        match self {
            Self::BadRequest(detail) => Problem::bad_request(detail.clone()),
            Self::Invalid(errors) => Problem::validation(errors.clone()),
            Self::BadParameter { field, message } => {
                Problem::bad_request(format!("The query parameter {field} {message}."))
                    .with_errors(vec![FieldError::new(field.clone(), message.clone())])
            }
            Self::NotFound(detail) => Problem::not_found(detail.clone()),
            Self::Unauthorized(detail) => Problem::unauthorized(detail.clone()),
            Self::Conflict { detail, errors } => {
                Problem::conflict(detail.clone()).with_errors(errors.clone())
            }
            Self::OutOfStock(errors) => {
                Problem::new(http::StatusCode::CONFLICT, "out-of-stock", "Out of stock")
                    .with_detail(
                        "Not enough stock for this order; nothing was reserved or charged.",
                    )
                    .with_errors(errors.clone())
            }
            Self::PreconditionFailed(detail) => Problem::precondition_failed(detail.clone()),
            Self::IdempotencyKeyReused => Problem::new(
                http::StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency-Key reused",
            )
            .with_detail(
                "This Idempotency-Key was already used with a different request body; \
                 use a new key for a new request.",
            ),
            Self::IdempotencyInFlight => Problem::new(
                http::StatusCode::CONFLICT,
                "idempotency-in-flight",
                "Request in progress",
            )
            .with_detail(
                "A request with this Idempotency-Key is still being processed; \
                 retry later with the same key to get its answer.",
            )
            .with_retry_after(1),
            Self::Catalog(error) => catalog_problem(error),
            Self::Database(error) => database_problem(error),
            Self::Redis(error) => {
                tracing::error!(%error, "redis failed");
                Problem::service_unavailable("Carts are unavailable right now.", 5)
            }
            Self::PaymentProvider(detail) => {
                tracing::warn!(%detail, "payment provider failed");
                Problem::new(
                    http::StatusCode::BAD_GATEWAY,
                    "payment-provider-failed",
                    "Payment provider unavailable",
                )
                .with_detail(
                    "The payment provider did not complete the request; nothing changed on its \
                     side twice. Retry with the same Idempotency-Key, or later.",
                )
                .with_retry_after(5)
            }
            Self::PaymentRefused(why) => Problem::new(
                http::StatusCode::CONFLICT,
                "payment-refused",
                "Payment provider refused",
            )
            .with_detail(format!("The payment provider refused: {why}.")),
            Self::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                Problem::internal()
            }
        }
    }
}

fn catalog_problem(error: &CatalogError) -> Problem {
    match error {
        CatalogError::CircuitOpen { retry_after } => Problem::service_unavailable(
            "The catalog is unavailable; requests to it are paused.",
            seconds(*retry_after),
        ),
        CatalogError::Unavailable(detail) => {
            tracing::warn!(%detail, "catalog unavailable");
            Problem::service_unavailable("The catalog is unavailable right now.", 5)
        }
        other => {
            tracing::error!(error = %other, "unexpected catalog answer");
            Problem::internal()
        }
    }
}

/// Whole seconds for `Retry-After`, at least 1.
pub fn seconds(duration: std::time::Duration) -> u32 {
    let whole = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    u32::try_from(whole.max(1)).unwrap_or(u32::MAX)
}

fn database_problem(error: &sqlx::Error) -> Problem {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            tracing::error!(%error, "orders database unavailable");
            Problem::service_unavailable("Orders are unavailable right now.", 5)
        }
        other => {
            tracing::error!(error = %other, "orders database failed");
            Problem::internal()
        }
    }
}

impl From<FieldError> for Error {
    fn from(error: FieldError) -> Self {
        Self::Invalid(vec![error])
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.problem().into_response()
    }
}
