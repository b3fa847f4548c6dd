//! The search service: full-text search, autocomplete and facets over the catalog, served from an
//! Elasticsearch-API engine (Elasticsearch 7.10+ or OpenSearch) that follows the catalog's change
//! feed. The index is a projection: it can be rebuilt from the catalog at any time.

pub mod api;
pub mod catalog;
pub mod config;
pub mod engine;
pub mod error;
pub mod internal;
pub mod mapping;
pub mod query;
pub mod request;
pub mod results;
pub mod sync;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use storefront_kit::openapi::BearerAuth;
use storefront_kit::{JwtVerifier, Readiness, Service};
use utoipa::OpenApi;

use crate::engine::Engine;

#[derive(Clone)]
pub struct AppState {
    pub engine: Engine,
    pub verifier: Arc<JwtVerifier>,
    pub sync: sync::SyncHandle,
}

impl FromRef<AppState> for Arc<JwtVerifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Storefront search",
        description = "Full-text search, autocomplete and facets."
    ),
    paths(api::search, api::suggest, internal::status, internal::reindex),
    components(schemas(storefront_kit::Problem, storefront_kit::FieldError)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// The service with its routes, readiness checks and OpenAPI document.
pub fn service(state: AppState) -> Service {
    let engine = state.engine.clone();
    let readiness = Readiness::new().with_check("search-engine", move || {
        let engine = engine.clone();
        async move { engine.ping().await.map_err(|e| e.to_string()) }
    });
    Service::new("search", app(state))
        .readiness(readiness)
        .openapi(ApiDoc::openapi())
}

/// The service's own routes.
pub fn app(state: AppState) -> Router {
    api::routes().merge(internal::routes()).with_state(state)
}
