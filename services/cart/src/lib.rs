//! The cart service: carts in Redis, the checkout saga, orders and their outbox in PostgreSQL.
//! [`service`] builds the whole HTTP service from an [`AppState`]; `main.rs` only reads config,
//! connects, starts the background loops ([`outbox`] relay, [`recovery`]) and serves.

pub mod carts;
pub mod catalog_client;
pub mod checkout;
pub mod config;
pub mod error;
pub mod ids;
pub mod money;
pub mod orders;
pub mod outbox;
pub mod payments;
pub mod pricing;
pub mod promotions;
pub mod put;
pub mod recovery;
pub mod rules_page;
pub mod seed;
pub mod shipping;
pub mod tax;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use redis::aio::ConnectionManager;
use sqlx::postgres::PgPoolOptions;
use storefront_kit::openapi::BearerAuth;
use storefront_kit::{JwtVerifier, Readiness, Service, Shutdown};
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;

pub use config::Config;
pub use error::Error;

use crate::carts::CartStore;
use crate::catalog_client::CatalogClient;
use crate::config::CheckoutSettings;
use crate::payments::{PaymentProvider, SandboxProvider};

/// Everything a request handler or background loop needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The `orders` database: orders, saga state, idempotency keys, outbox.
    pub db: sqlx::PgPool,
    pub redis: ConnectionManager,
    /// Prefix of every Redis key and stream of this service.
    pub redis_prefix: String,
    pub carts: CartStore,
    pub catalog: Arc<CatalogClient>,
    pub payments: Arc<dyn PaymentProvider>,
    pub verifier: Arc<JwtVerifier>,
    pub checkout: CheckoutSettings,
    /// Webhook settings and the HTTP client deliveries go out on.
    pub webhooks: Arc<webhooks::Webhooks>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("redis_prefix", &self.redis_prefix)
            .field("catalog", &self.catalog)
            .finish_non_exhaustive()
    }
}

impl FromRef<AppState> for Arc<JwtVerifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

impl AppState {
    /// The name of the stream order events are relayed to.
    pub fn events_stream(&self) -> String {
        outbox::stream_name(&self.redis_prefix)
    }
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Storefront cart",
        description = "Carts, checkout and orders. Errors are RFC 9457 problem+json."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "carts", description = "A guest's or signed-in user's cart"),
        (name = "checkout", description = "The cart becomes an order, once per Idempotency-Key"),
        (name = "orders", description = "The caller's orders"),
        (name = "admin", description = "Every order, status changes and the dashboard summary (admin only)"),
        (name = "pricing", description = "Quotes, sale prices, and (admin) promotions, discount codes, tax and shipping"),
        (name = "webhooks", description = "Webhook endpoints, their signed deliveries, replays and test pings (admin only)"),
    )
)]
struct ApiDoc;

/// Every route with its OpenAPI description: a route cannot be served without being documented.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(carts::routes())
        .merge(checkout::routes())
        .merge(orders::routes())
        .merge(pricing::quote::routes())
        .merge(promotions::routes())
        .merge(shipping::routes())
        .merge(tax::routes())
        .merge(webhooks::routes())
}

/// The service's own routes, all under `/api/cart` (the gateway forwards the prefix as is).
pub fn routes(state: AppState) -> Router {
    api().with_state(state).split_for_parts().0
}

/// The OpenAPI document of [`routes`], served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// `/readyz` checks PostgreSQL and Redis (the catalog has its own breaker; it does not make
/// this service unready).
pub fn readiness(state: &AppState) -> Readiness {
    let db = state.db.clone();
    let redis = state.redis.clone();
    Readiness::new()
        .with_check("postgres", move || {
            let db = db.clone();
            async move {
                sqlx::query("SELECT 1")
                    .execute(&db)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
        .with_check("redis", move || {
            let mut redis = redis.clone();
            async move {
                redis::cmd("PING")
                    .query_async::<String>(&mut redis)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
}

/// The complete service as served.
pub fn service(state: AppState) -> Service {
    let readiness = readiness(&state);
    Service::new("cart", routes(state))
        .readiness(readiness)
        .openapi(openapi())
}

/// Connects to PostgreSQL and Redis and builds the state the configuration describes. Needs
/// a TLS crypto provider installed first.
pub async fn connect(config: &Config) -> Result<AppState, Error> {
    let db = PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(&config.database_url)
        .await?;
    let client = redis::Client::open(config.redis_url.as_str())?;
    let redis = ConnectionManager::new(client).await?;
    let verifier = JwtVerifier::remote(&config.jwt).map_err(|e| Error::Internal(e.to_string()))?;
    let catalog =
        CatalogClient::new(&config.catalog).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(AppState {
        payments: Arc::new(SandboxProvider::new(db.clone(), config.sandbox_slow)),
        carts: CartStore::new(redis.clone(), &config.redis_prefix, config.carts),
        db,
        redis,
        redis_prefix: config.redis_prefix.clone(),
        catalog: Arc::new(catalog),
        verifier: Arc::new(verifier),
        checkout: config.checkout,
        webhooks: Arc::new(webhooks::Webhooks::new(config.webhooks)?),
    })
}

/// Applies the migrations of the `orders` database. Idempotent.
pub async fn prepare(db: &sqlx::PgPool) -> Result<(), Error> {
    sqlx::migrate!("./migrations")
        .run(db)
        .await
        .map_err(|e| Error::Internal(format!("migrations failed: {e}")))
}

/// Starts the outbox relay, the recovery loop and the webhook loops; they stop on `shutdown`.
pub fn spawn_background(state: &AppState, config: &Config, shutdown: &Shutdown) {
    tokio::spawn(outbox::run_relay(
        state.db.clone(),
        state.redis.clone(),
        state.events_stream(),
        config.outbox_every,
        shutdown.clone(),
    ));
    tokio::spawn(recovery::run(
        state.clone(),
        config.recovery_every,
        shutdown.clone(),
    ));
    webhooks::spawn(state, &config.redis_url, shutdown);
}
