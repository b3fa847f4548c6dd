//! Internal endpoints: the sync status and a full rebuild of the index (admin only).

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use storefront_kit::{Admin, Json};

use crate::AppState;
use crate::error::SearchError;
use crate::sync::{ReindexReport, SyncStatus};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/internal/sync", get(status))
        .route("/internal/reindex", post(reindex))
}

/// Where the index stands against the catalog's change feed.
#[utoipa::path(get, path = "/internal/sync", responses((status = 200, body = SyncStatus)))]
pub async fn status(State(state): State<AppState>) -> Json<SyncStatus> {
    Json(state.sync.status().await)
}

/// Rebuilds the index from the whole catalog into a new index and swaps the alias to it;
/// searches keep being served from the old index until the swap.
#[utoipa::path(post, path = "/internal/reindex", security(("bearer" = [])),
    responses((status = 200, body = ReindexReport),
        (status = 401, body = storefront_kit::Problem), (status = 403, body = storefront_kit::Problem)))]
pub async fn reindex(
    State(state): State<AppState>,
    Admin(admin): Admin,
) -> Result<Json<ReindexReport>, SearchError> {
    tracing::info!(user = %admin.user_id, "reindex requested");
    state
        .sync
        .reindex()
        .await
        .map(Json)
        .map_err(SearchError::Catalog)
}
