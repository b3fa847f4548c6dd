//! A catalog per test: fresh databases, an in-process router, tokens signed by a test key.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use storefront_catalog::images::{ImageLimits, LocalDirectory, ObjectStore};
use storefront_catalog::{AppState, prepare, service};
use storefront_kit::ServerConfig;
pub use storefront_kit::testing::Reply;
use storefront_kit::testing::{
    access_token, create_database, drop_database, json_request, mongodb_url, send, test_verifier,
    unique_name,
};

pub struct TestApp {
    pub state: AppState,
    pub router: Router,
    pub admin: String,
    pub customer: String,
    pg_database: String,
    images_dir: std::path::PathBuf,
}

fn token(roles: &[&str]) -> String {
    access_token("user-1", roles)
}

/// Limits small enough that tests can exceed them cheaply.
pub const TEST_LIMITS: ImageLimits = ImageLimits {
    max_bytes: 256 * 1024,
    max_pixels: 1_000_000,
};

pub async fn app() -> TestApp {
    app_with_images(None).await
}

/// A catalog whose images go to `images` (a fresh local directory when `None`).
pub async fn app_with_images(images: Option<Arc<dyn ObjectStore>>) -> TestApp {
    storefront_kit::install_crypto_provider();
    let (ledger_url, pg_database) = create_database("catalog").await;
    let ledger = storefront_catalog::ledger::connect(&ledger_url, 20)
        .await
        .unwrap();
    let client = mongodb::Client::with_uri_str(mongodb_url()).await.unwrap();
    let documents = client.database(&unique_name("catalog"));
    prepare(&ledger, &documents).await.unwrap();

    let images_dir = std::env::temp_dir().join(unique_name("catalog-images"));
    let state = AppState {
        ledger,
        documents,
        verifier: test_verifier(),
        images: images.unwrap_or_else(|| Arc::new(LocalDirectory::new(&images_dir))),
        limits: TEST_LIMITS,
    };
    let config = ServerConfig {
        listen_addr: "127.0.0.1:0".parse().unwrap(),
        body_limit_bytes: 1024 * 1024,
        request_timeout: Duration::from_secs(60),
        shutdown_grace: Duration::from_secs(1),
    };
    let router = service(state.clone()).into_router(&config);
    TestApp {
        state,
        router,
        admin: token(&["admin"]),
        customer: token(&["customer"]),
        pg_database,
        images_dir,
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
        send(&self.router, request).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request(Method::GET, path, None, &[], None).await
    }

    pub async fn admin_post(&self, path: &str, body: Value) -> Reply {
        self.request(
            Method::POST,
            path,
            Some(&self.admin.clone()),
            &[],
            Some(body),
        )
        .await
    }

    pub async fn internal_post(&self, path: &str, body: Option<Value>) -> Reply {
        self.request(Method::POST, path, None, &[], body).await
    }

    /// Creates a category, returning its id.
    pub async fn category(&self, slug: &str, parent: Option<&str>, position: i32) -> String {
        let reply = self
            .admin_post(
                "/api/catalog/categories",
                json!({"slug": slug, "name": slug, "parentId": parent, "position": position}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        reply.body["id"].as_str().unwrap().to_owned()
    }

    /// Creates an active product with one variant, returning its id.
    pub async fn product(
        &self,
        slug: &str,
        sku: &str,
        price: i64,
        stock: i64,
        categories: &[&str],
    ) -> String {
        let reply = self
            .admin_post(
                "/api/catalog/products",
                product_body(slug, sku, price, stock, categories),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        reply.body["id"].as_str().unwrap().to_owned()
    }

    /// Drops this test's databases and files.
    pub async fn cleanup(self) {
        let _ = self.state.documents.drop().await;
        self.state.ledger.close().await;
        drop_database(&self.pg_database).await;
        let _ = std::fs::remove_dir_all(&self.images_dir);
    }
}

pub fn product_body(slug: &str, sku: &str, price: i64, stock: i64, categories: &[&str]) -> Value {
    json!({
        "slug": slug,
        "title": format!("Product {slug}"),
        "description": "A thing.",
        "brand": "Acme",
        "status": "active",
        "categoryIds": categories,
        "variants": [{"sku": sku, "price": {"amount": price, "currency": "EUR"}, "attributes": {"colour": "red"}, "stock": stock}],
    })
}
