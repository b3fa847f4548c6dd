//! A cart per test, against a real catalog served in-process on 127.0.0.1:0, each with fresh
//! PostgreSQL databases, a fresh MongoDB database and its own Redis key prefix.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use storefront_cart::carts::CartStore;
use storefront_cart::catalog_client::CatalogClient;
use storefront_cart::config::{CartLimits, CatalogSettings, CheckoutSettings, WebhookSettings};
use storefront_cart::payments::SandboxProvider;
use storefront_cart::webhooks::Webhooks;
use storefront_cart::{AppState, prepare, service};
use storefront_catalog::images::{ImageLimits, LocalDirectory};
pub use storefront_kit::testing::Reply;
use storefront_kit::testing::{
    access_token, drop_database, json_request, mongodb_url, redis_url, send, server_config,
    test_verifier, unique_name,
};
use storefront_kit::{JwtVerifier, Shutdown, serve_on};

pub fn token(sub: &str, roles: &[&str]) -> String {
    access_token(sub, roles)
}

fn verifier() -> Arc<JwtVerifier> {
    test_verifier()
}

/// A fresh database (dropped by [`drop_database`]) and a pool on it.
async fn create_database(prefix: &str) -> (String, sqlx::PgPool) {
    let (url, name) = storefront_kit::testing::create_database(prefix).await;
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(20)
        .connect(&url)
        .await
        .unwrap();
    (name, pool)
}

/// The real catalog, served over HTTP.
pub struct Catalog {
    pub url: String,
    pub state: storefront_catalog::AppState,
    pub http: reqwest::Client,
    admin: String,
    database: String,
    shutdown: Shutdown,
    images_dir: std::path::PathBuf,
}

impl Catalog {
    pub async fn start() -> Catalog {
        storefront_kit::install_crypto_provider();
        let (database, ledger) = create_database("catalog").await;
        let client = mongodb::Client::with_uri_str(mongodb_url()).await.unwrap();
        let documents = client.database(&unique_name("catalog"));
        storefront_catalog::prepare(&ledger, &documents)
            .await
            .unwrap();
        let images_dir = std::env::temp_dir().join(unique_name("cart-test-images"));
        let state = storefront_catalog::AppState {
            ledger,
            documents,
            verifier: verifier(),
            images: Arc::new(LocalDirectory::new(&images_dir)),
            limits: ImageLimits::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let service = storefront_catalog::service(state.clone());
        tokio::spawn({
            let shutdown = shutdown.clone();
            async move { serve_on(listener, service, &server_config(), shutdown).await }
        });
        Catalog {
            url: format!("http://{addr}"),
            state,
            http: reqwest::Client::new(),
            admin: token("catalog-admin", &["admin"]),
            database,
            shutdown,
            images_dir,
        }
    }

    /// An active product with one variant.
    pub async fn product(&self, sku: &str, price: i64, stock: i64) {
        self.product_in(sku, price, "EUR", stock).await;
    }

    /// An active product with one variant priced in `currency`.
    pub async fn product_in(&self, sku: &str, price: i64, currency: &str, stock: i64) {
        let slug = sku.to_ascii_lowercase().replace(['_', '.'], "-");
        let body = json!({
            "slug": slug,
            "title": format!("Product {sku}"),
            "description": "A thing.",
            "brand": "Acme",
            "status": "active",
            "categoryIds": [],
            "variants": [{"sku": sku, "price": {"amount": price, "currency": currency}, "attributes": {"colour": "red"}, "stock": stock}],
        });
        let response = self
            .http
            .post(format!("{}/api/catalog/products", self.url))
            .bearer_auth(&self.admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{:?}",
            response.text().await
        );
    }

    /// Creates a product from a whole `ProductInput` body.
    pub async fn product_from(&self, body: Value) {
        let response = self
            .http
            .post(format!("{}/api/catalog/products", self.url))
            .bearer_auth(&self.admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{:?}",
            response.text().await
        );
    }

    /// A top-level category; returns its id.
    pub async fn category(&self, slug: &str) -> String {
        let response = self
            .http
            .post(format!("{}/api/catalog/categories", self.url))
            .bearer_auth(&self.admin)
            .json(&json!({"slug": slug, "name": slug}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    pub async fn set_stock(&self, sku: &str, on_hand: i64) {
        let response = self
            .http
            .put(format!("{}/api/catalog/skus/{sku}/stock", self.url))
            .bearer_auth(&self.admin)
            .json(&json!({"onHand": on_hand}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }

    /// (on hand, reserved) from the ledger.
    pub async fn inventory(&self, sku: &str) -> (i64, i64) {
        sqlx::query_as("SELECT on_hand, reserved FROM inventory WHERE sku = $1")
            .bind(sku)
            .fetch_one(&self.state.ledger)
            .await
            .unwrap()
    }

    /// The reservation's status for an order, if it has one.
    pub async fn reservation(&self, order: &str) -> Option<String> {
        sqlx::query_scalar("SELECT status FROM reservations WHERE order_id = $1")
            .bind(order)
            .fetch_optional(&self.state.ledger)
            .await
            .unwrap()
    }

    pub async fn reservation_count(&self) -> i64 {
        sqlx::query_scalar(
            "SELECT count(*) FROM reservations WHERE status IN ('reserved', 'committed')",
        )
        .fetch_one(&self.state.ledger)
        .await
        .unwrap()
    }

    pub async fn cleanup(self) {
        self.shutdown.trigger();
        let _ = self.state.documents.drop().await;
        self.state.ledger.close().await;
        drop_database(&self.database).await;
        let _ = std::fs::remove_dir_all(&self.images_dir);
    }
}

/// Knobs a test may turn.
#[derive(Debug, Clone)]
pub struct Options {
    pub checkout: CheckoutSettings,
    pub sandbox_slow: Duration,
    pub catalog_url: Option<String>,
    pub catalog_timeout: Duration,
    pub breaker_failures: u32,
    pub limits: CartLimits,
    pub webhooks: WebhookSettings,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            checkout: CheckoutSettings {
                idempotency_wait: Duration::from_secs(10),
                saga_lease: Duration::from_secs(60),
                reservation_ttl: Duration::from_secs(900),
                payment_timeout: Duration::from_secs(10),
                suspend_backoff: Duration::from_secs(1),
                order_expires_after: Duration::from_secs(900),
            },
            sandbox_slow: Duration::from_millis(1500),
            catalog_url: None,
            catalog_timeout: Duration::from_millis(1500),
            breaker_failures: 5,
            limits: CartLimits {
                ttl: Duration::from_secs(3600),
                max_lines: 5,
                max_quantity: 20,
            },
            // Receivers in tests listen on loopback.
            webhooks: WebhookSettings {
                allow_private_targets: true,
                timeout: Duration::from_secs(5),
                follow_catalog: false,
                ..WebhookSettings::default()
            },
        }
    }
}

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub catalog: Catalog,
    pub admin: String,
    database: String,
}

pub async fn app() -> TestApp {
    app_with(Options::default()).await
}

pub async fn app_with(options: Options) -> TestApp {
    let catalog = Catalog::start().await;
    let (database, db) = create_database("orders").await;
    prepare(&db).await.unwrap();
    let redis = redis::aio::ConnectionManager::new(redis::Client::open(redis_url()).unwrap())
        .await
        .expect("Redis is up (cargo xtask up)");
    let prefix = format!("{}:", unique_name("carttest"));
    let mut settings =
        CatalogSettings::new(options.catalog_url.clone().unwrap_or(catalog.url.clone()));
    settings.timeout = options.catalog_timeout;
    settings.retries = 1;
    settings.breaker_failures = options.breaker_failures;
    settings.breaker_open_for = Duration::from_secs(30);
    let state = AppState {
        payments: Arc::new(SandboxProvider::new(db.clone(), options.sandbox_slow)),
        carts: CartStore::new(redis.clone(), &prefix, options.limits),
        db,
        redis,
        redis_prefix: prefix,
        catalog: Arc::new(CatalogClient::new(&settings).unwrap()),
        verifier: verifier(),
        checkout: options.checkout,
        webhooks: Arc::new(Webhooks::new(options.webhooks).unwrap()),
    };
    let router = service(state.clone()).into_router(&server_config());
    TestApp {
        state,
        router,
        catalog,
        admin: token("the-admin", &["admin"]),
        database,
    }
}

impl TestApp {
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        self.send(json_request(method, path, token, headers, body))
            .await
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        self.send_to(&self.router, request).await
    }

    /// Sends through another router built on this app's stores (e.g. with a different catalog).
    pub async fn send_to(&self, router: &Router, request: Request<Body>) -> Reply {
        send(router, request).await
    }

    /// A signed-in user's request.
    pub async fn user(&self, method: Method, path: &str, user: &str, body: Option<Value>) -> Reply {
        let token = token(user, &["customer"]);
        self.request(method, path, Some(&token), &[], body).await
    }

    /// A guest's request with their cart id (if any).
    pub async fn guest(
        &self,
        method: Method,
        path: &str,
        cart: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let headers: Vec<(&str, &str)> = cart.map(|c| vec![("x-cart-id", c)]).unwrap_or_default();
        self.request(method, path, None, &headers, body).await
    }

    /// Puts `quantity` of `sku` in the user's cart.
    pub async fn add(&self, user: &str, sku: &str, quantity: i64) {
        let reply = self
            .user(
                Method::POST,
                "/api/cart/lines",
                user,
                Some(json!({"sku": sku, "quantity": quantity})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    }

    /// Puts a line straight into the user's cart, without asking the catalog.
    pub async fn add_raw_line(&self, user: &str, sku: &str, quantity: i64) {
        let owner = storefront_cart::carts::CartOwner::User(user.to_owned());
        let sku = storefront_cart::ids::Sku::parse(sku).unwrap();
        self.state.carts.add(&owner, &sku, quantity).await.unwrap();
    }

    pub async fn checkout(&self, user: &str, key: &str, card: &str) -> Reply {
        let token = token(user, &["customer"]);
        self.request(
            Method::POST,
            "/api/cart/checkout",
            Some(&token),
            &[("idempotency-key", key)],
            Some(json!({"paymentToken": card})),
        )
        .await
    }

    /// Checkout with pricing choices (address, method, code) merged into the body.
    pub async fn checkout_with(&self, user: &str, key: &str, card: &str, choices: Value) -> Reply {
        let token = token(user, &["customer"]);
        let mut body = json!({"paymentToken": card});
        if let (Some(body), Some(choices)) = (body.as_object_mut(), choices.as_object()) {
            body.extend(choices.clone());
        }
        self.request(
            Method::POST,
            "/api/cart/checkout",
            Some(&token),
            &[("idempotency-key", key)],
            Some(body),
        )
        .await
    }

    /// An admin's request.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.request(method, path, Some(&self.admin), &[], body)
            .await
    }

    pub async fn order_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM orders")
            .fetch_one(&self.state.db)
            .await
            .unwrap()
    }

    /// The sandbox's record of an order's payment.
    pub async fn payment(&self, order: &str) -> Option<String> {
        sqlx::query_scalar("SELECT status FROM sandbox_payments WHERE order_id = $1::uuid")
            .bind(order)
            .fetch_optional(&self.state.db)
            .await
            .unwrap()
    }

    /// Events in the outbox, by type.
    pub async fn outbox(&self, event_type: &str) -> Vec<Value> {
        sqlx::query_scalar("SELECT payload FROM outbox WHERE event_type = $1 ORDER BY id")
            .bind(event_type)
            .fetch_all(&self.state.db)
            .await
            .unwrap()
    }

    pub async fn cleanup(self) {
        let mut redis = self.state.redis.clone();
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(format!("{}*", self.state.redis_prefix))
            .query_async(&mut redis)
            .await
            .unwrap_or_default();
        if !keys.is_empty() {
            let _: Result<(), _> = redis::cmd("DEL").arg(keys).query_async(&mut redis).await;
        }
        self.state.db.close().await;
        drop_database(&self.database).await;
        self.catalog.cleanup().await;
    }
}

/// A port where nothing answers: connections are accepted and dropped at once. Returns its URL
/// and a counter of connections made.
pub async fn dead_catalog() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(socket);
        }
    });
    (format!("http://{addr}"), count)
}
