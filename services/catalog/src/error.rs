//! The catalog's one error type, turned into problem+json in exactly one place.

use axum::response::{IntoResponse, Response};
use storefront_kit::{FieldError, Problem};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("{0}")]
    Forbidden(String),
    #[error("{detail}")]
    Conflict {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("the resource is at version {current}, not the one in If-Match")]
    VersionMismatch { current: i64 },
    #[error("{0}")]
    UnsupportedMedia(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("ledger: {0}")]
    Ledger(#[from] sqlx::Error),
    #[error("documents: {0}")]
    Documents(#[from] mongodb::error::Error),
    #[error("object store: {0}")]
    Storage(#[from] std::io::Error),
    #[error("{0}")]
    Internal(String),
}

impl Error {
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::Conflict {
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, message)])
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound(what.into())
    }

    fn problem(self) -> Problem {
        match self {
            Self::NotFound(detail) => Problem::not_found(detail),
            Self::BadRequest(detail) => Problem::bad_request(detail),
            Self::Invalid(errors) => Problem::validation(errors),
            Self::Forbidden(detail) => Problem::forbidden(detail),
            Self::Conflict { detail, errors } => Problem::conflict(detail).with_errors(errors),
            Self::VersionMismatch { current } => Problem::precondition_failed(format!(
                "The resource has changed (now at version {current}); fetch it and retry."
            )),
            Self::UnsupportedMedia(detail) => Problem::unsupported_media_type(detail),
            Self::TooLarge(detail) => Problem::payload_too_large(detail),
            Self::Ledger(error) => ledger_problem(&error),
            Self::Documents(error) => documents_problem(&error),
            Self::Storage(error) => {
                tracing::error!(%error, "object store failed");
                Problem::service_unavailable("Images cannot be stored right now.", 5)
            }
            Self::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                Problem::internal()
            }
        }
    }
}

fn ledger_problem(error: &sqlx::Error) -> Problem {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            tracing::warn!(%error, "ledger unavailable");
            Problem::service_unavailable("The catalog ledger is unavailable.", 2)
        }
        // Connection exceptions, too many clients, shutting down or starting up.
        sqlx::Error::Database(db)
            if db.code().is_some_and(|c| {
                c.starts_with("08") || c.starts_with("53") || c.starts_with("57P")
            }) =>
        {
            tracing::warn!(%error, "ledger unavailable");
            Problem::service_unavailable("The catalog ledger is unavailable.", 2)
        }
        other => {
            tracing::error!(error = %other, "ledger query failed");
            Problem::internal()
        }
    }
}

fn documents_problem(error: &mongodb::error::Error) -> Problem {
    use mongodb::error::ErrorKind;
    if error.contains_label("RetryableError") || error.contains_label("SystemOverloadedError") {
        tracing::warn!(%error, "document store unavailable");
        return Problem::service_unavailable("The catalog document store is unavailable.", 2);
    }
    match *error.kind {
        ErrorKind::ServerSelection { .. }
        | ErrorKind::Io(_)
        | ErrorKind::ConnectionPoolCleared { .. } => {
            tracing::warn!(%error, "document store unavailable");
            Problem::service_unavailable("The catalog document store is unavailable.", 2)
        }
        _ => {
            tracing::error!(%error, "document store failed");
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

/// Whether a ledger error is the violation of the named unique constraint.
pub(crate) fn is_unique_violation(error: &sqlx::Error, constraint: &str) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            db.code().as_deref() == Some("23505") && db.constraint() == Some(constraint)
        }
        _ => false,
    }
}
