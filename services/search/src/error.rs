//! The search service's errors, mapped to problem+json in one place.

use axum::response::{IntoResponse, Response};
use storefront_kit::Problem;

use crate::engine::EngineError;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Client(#[from] Problem),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("catalog unavailable: {0}")]
    Catalog(String),
}

impl IntoResponse for SearchError {
    fn into_response(self) -> Response {
        match self {
            SearchError::Client(problem) => problem.into_response(),
            SearchError::Engine(error) => {
                tracing::error!(%error, "search engine request failed");
                Problem::service_unavailable("Search is unavailable right now.", 5).into_response()
            }
            SearchError::Catalog(error) => {
                tracing::error!(%error, "catalog request failed");
                Problem::service_unavailable("The catalog is unavailable right now.", 5)
                    .into_response()
            }
        }
    }
}
