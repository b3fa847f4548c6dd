//! The crate's one error type and its one conversion to problem+json.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use storefront_kit::{FieldError, Problem};

/// What can go wrong while serving a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Wrong email or password; deliberately the same for unknown accounts.
    #[error("the email or password is incorrect")]
    InvalidCredentials,
    #[error("the refresh token is not valid")]
    InvalidRefreshToken,
    /// A verification or reset link that is unknown, used or expired: deliberately one answer.
    #[error("the link is invalid or has expired")]
    InvalidLink,
    #[error("too many failed attempts; retry in {retry_after} s")]
    Throttled { retry_after: u32 },
    #[error("the request is not valid")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the resource has changed since it was read (If-Match does not match)")]
    PreconditionFailed,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrations(#[from] sqlx::migrate::MigrateError),
    #[error("signing keys: {0}")]
    Keys(String),
    #[error("password hashing: {0}")]
    Hashing(String),
    #[error("mail: {0}")]
    Mail(String),
}

impl Error {
    pub fn validation(field: &str, message: &str) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }
}

impl From<Error> for Problem {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidCredentials => {
                Problem::unauthorized("The email or password is incorrect.")
            }
            Error::InvalidRefreshToken => Problem::unauthorized(
                "The refresh token is not valid, expired or revoked; sign in again.",
            ),
            Error::InvalidLink => Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-link",
                "Invalid link",
            )
            .with_detail("The link is invalid or has expired."),
            Error::Throttled { retry_after } => Problem::too_many_requests(retry_after),
            Error::Validation(errors) => Problem::validation(errors),
            Error::BadRequest(detail) => Problem::bad_request(detail),
            Error::NotFound(detail) => Problem::not_found(detail),
            Error::Conflict(detail) => Problem::conflict(detail),
            Error::PreconditionFailed => Problem::precondition_failed(
                "The resource has changed since it was read; fetch it again and retry.",
            ),
            Error::Database(ref source) if is_unavailable(source) => {
                tracing::warn!(%error, "database unavailable");
                Problem::service_unavailable("The account store is unavailable.", 2)
            }
            Error::Database(_)
            | Error::Migrations(_)
            | Error::Keys(_)
            | Error::Hashing(_)
            | Error::Mail(_) => {
                tracing::error!(%error, "request failed");
                Problem::internal()
            }
        }
    }
}

impl From<FieldError> for Error {
    fn from(error: FieldError) -> Self {
        Self::Validation(vec![error])
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        Problem::from(self).into_response()
    }
}

fn is_unavailable(error: &sqlx::Error) -> bool {
    matches!(
        error,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_)
    )
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
