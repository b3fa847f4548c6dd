//! The catalog service: products with variants, the category tree and images as MongoDB documents,
//! and the PostgreSQL ledger that keeps what must be exact (versions, stock, reservations, the
//! change feed). [`service`] builds the whole HTTP service from an [`AppState`]; `main.rs` only
//! reads config, connects and serves.

pub mod categories;
pub mod changes;
pub mod config;
pub mod documents;
pub mod error;
pub mod ids;
pub mod images;
pub mod ledger;
pub mod money;
pub mod products;
pub mod seed;
pub mod stock;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use storefront_kit::openapi::BearerAuth;
use storefront_kit::{JwtVerifier, Readiness, Service};
use utoipa::OpenApi;

pub use config::Config;
pub use error::Error;

use crate::images::ObjectStore;

/// Everything a request handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The exact part: versions, stock, reservations, changes.
    pub ledger: sqlx::PgPool,
    /// The documents: products and categories.
    pub documents: mongodb::Database,
    pub verifier: Arc<JwtVerifier>,
    pub images: Arc<dyn ObjectStore>,
    pub limits: images::ImageLimits,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("documents", &self.documents.name())
            .finish_non_exhaustive()
    }
}

impl FromRef<AppState> for Arc<JwtVerifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// The catalog's own routes (public under `/api/catalog`, internal under `/internal`).
pub fn routes(state: AppState) -> Router {
    Router::new()
        .merge(products::routes())
        .merge(categories::routes())
        .merge(stock::routes())
        .merge(changes::routes())
        .merge(images::routes(&state.limits))
        .with_state(state)
}

/// `/readyz` checks both stores.
pub fn readiness(state: &AppState) -> Readiness {
    let ledger = state.ledger.clone();
    let documents = state.documents.clone();
    Readiness::new()
        .with_check("postgres", move || {
            let ledger = ledger.clone();
            async move {
                sqlx::query("SELECT 1")
                    .execute(&ledger)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
        .with_check("mongodb", move || {
            let documents = documents.clone();
            async move {
                documents
                    .run_command(mongodb::bson::doc! { "ping": 1 })
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
}

/// The complete service as served: routes, readiness and the OpenAPI document.
pub fn service(state: AppState) -> Service {
    let readiness = readiness(&state);
    Service::new("catalog", routes(state))
        .readiness(readiness)
        .openapi(ApiDoc::openapi())
}

/// Connects to both stores and builds the state the configuration describes.
pub async fn connect(config: &Config) -> Result<AppState, Error> {
    let ledger = ledger::connect(&config.ledger_url, config.ledger_max_connections).await?;
    let mut options = mongodb::options::ClientOptions::parse(&config.mongodb_url).await?;
    options.app_name = Some("storefront-catalog".to_owned());
    options.server_selection_timeout = Some(std::time::Duration::from_secs(5));
    options.connect_timeout = Some(std::time::Duration::from_secs(5));
    let documents = mongodb::Client::with_options(options)?.database(&config.mongodb_database);
    let verifier = JwtVerifier::remote(&config.jwt).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(AppState {
        ledger,
        documents,
        verifier: Arc::new(verifier),
        images: config
            .images
            .open()
            .map_err(|e| Error::Internal(e.to_string()))?,
        limits: config.image_limits,
    })
}

/// Applies the ledger's migrations and creates the document indexes. Idempotent.
pub async fn prepare(ledger: &sqlx::PgPool, documents: &mongodb::Database) -> Result<(), Error> {
    sqlx::migrate!("./migrations")
        .run(ledger)
        .await
        .map_err(|e| Error::Internal(format!("migrations failed: {e}")))?;
    products::store::create_indexes(documents).await?;
    categories::store::create_indexes(documents).await?;
    Ok(())
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Storefront catalog",
        description = "Products, categories, images, stock and the change feed."
    ),
    paths(
        products::list_products,
        products::get_product,
        products::get_product_by_slug,
        products::create_product,
        products::update_product,
        products::delete_product,
        products::get_sku,
        stock::set_stock,
        stock::levels::low_stock,
        categories::list_categories,
        categories::get_category,
        categories::create_category,
        categories::update_category,
        categories::delete_category,
        images::upload_image,
        images::get_image,
        stock::reserve,
        stock::get_reservation,
        stock::commit,
        stock::release,
        stock::return_stock,
        changes::list_changes,
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;
