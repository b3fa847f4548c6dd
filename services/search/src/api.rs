//! The public search endpoints: `GET /api/search` and `GET /api/search/suggest`.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;
use storefront_kit::{FieldError, Json, Problem, Query};

use crate::AppState;
use crate::error::SearchError;
use crate::query;
use crate::request::{self, SearchRequest};
use crate::results::{self, SearchPage};

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
    let answer = state.engine.search(query::search_body(&request)).await?;
    Ok(Json(results::search_page(&request, &answer)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Suggestions {
    pub products: Vec<SuggestedProduct>,
    pub categories: Vec<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestedProduct {
    pub id: String,
    pub slug: Option<String>,
    pub title: Option<String>,
    pub image: Option<String>,
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
        .search(query::suggest_body(&text, MAX_SUGGESTIONS))
        .await?;
    let products = answer["hits"]["hits"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|hit| {
            let source = &hit["_source"];
            let text = |f: &str| source[f].as_str().map(str::to_owned);
            SuggestedProduct {
                id: text("id").unwrap_or_default(),
                slug: text("slug"),
                title: text("title"),
                image: text("image"),
            }
        })
        .collect();
    let categories = matching_categories(
        &text,
        &answer["aggregations"]["categories"]["matching"]["names"],
    );
    Ok(Json(Suggestions {
        products,
        categories,
    }))
}

/// Category names among the hits' categories whose words start with every typed word.
fn matching_categories(text: &str, agg: &serde_json::Value) -> Vec<String> {
    let typed: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    agg["buckets"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["key"].as_str())
        .filter(|name| {
            let words: Vec<String> = name.split_whitespace().map(str::to_lowercase).collect();
            typed
                .iter()
                .all(|t| words.iter().any(|w| w.starts_with(t.as_str())))
        })
        .take(MAX_SUGGESTIONS)
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_categories_matching_every_typed_word_are_suggested() {
        let agg = json!({ "buckets": [
            { "key": "Running Shoes" }, { "key": "Shirts" }, { "key": "Rugs" }
        ] });
        assert_eq!(matching_categories("ru sh", &agg), vec!["Running Shoes"]);
        assert_eq!(
            matching_categories("SH", &agg),
            vec!["Running Shoes", "Shirts"]
        );
    }
}
