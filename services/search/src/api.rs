//! The public search endpoints: `GET /api/search` and `GET /api/search/suggest`.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use storefront_kit::{FieldError, Json, Problem, Query};

use crate::AppState;
use crate::error::SearchError;
use crate::query;
use crate::request::{self, SearchRequest};
use crate::results::{self, SearchPage, Suggestions};

pub const MAX_SUGGESTIONS: usize = 8;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/search", get(search))
        .route("/api/search/suggest", get(suggest))
}

/// Full-text search with filters, facets and cursor pagination.
#[utoipa::path(
    get,
    path = "/api/search",
    params(
        ("q" = Option<String>, Query, description = "Search text, at most 200 characters"),
        ("category" = Option<Vec<String>>, Query, description = "Category ids (repeat for several)"),
        ("brand" = Option<Vec<String>>, Query, description = "Brands (repeat for several)"),
        ("price_min" = Option<i64>, Query, description = "Lowest price in minor units"),
        ("price_max" = Option<i64>, Query, description = "Highest price in minor units"),
        ("in_stock" = Option<bool>, Query),
        ("sort" = Option<String>, Query, description = "relevance | price_asc | price_desc | newest"),
        ("cursor" = Option<String>, Query, description = "nextCursor of the previous page"),
        ("limit" = Option<usize>, Query, description = "1-100, default 20"),
    ),
    responses(
        (status = 200, body = SearchPage),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<SearchPage>, SearchError> {
    let request = SearchRequest::parse(&pairs)?;
    let answer = state
        .engine
        .search_as(&query::search_body(&request))
        .await?;
    Ok(Json(results::search_page(&request, answer)))
}

#[derive(Debug, serde::Deserialize)]
pub struct SuggestParams {
    q: Option<String>,
}

/// Prefix autocomplete over product titles and category names.
#[utoipa::path(
    get,
    path = "/api/search/suggest",
    params(("q" = String, Query, description = "What was typed so far (1-100 characters)")),
    responses(
        (status = 200, body = Suggestions),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn suggest(
    State(state): State<AppState>,
    Query(params): Query<SuggestParams>,
) -> Result<Json<Suggestions>, SearchError> {
    let text = params.q.unwrap_or_default();
    let text = match request::check_text(&text) {
        Ok(Some(text)) if text.chars().count() <= 100 => text,
        Ok(Some(_)) => {
            return Err(request::invalid(vec![FieldError::new(
                "q",
                "must be at most 100 characters",
            )])
            .into());
        }
        Ok(None) => {
            return Err(request::invalid(vec![FieldError::new("q", "is required")]).into());
        }
        Err(message) => return Err(request::invalid(vec![FieldError::new("q", message)]).into()),
    };
    let answer = state
        .engine
        .search_as(&query::suggest_body(&text, MAX_SUGGESTIONS))
        .await?;
    Ok(Json(results::suggestions(&text, answer, MAX_SUGGESTIONS)))
}
