//! Services of the platform started in-process on loopback ports, each on fresh databases, and
//! access tokens signed by a test key that every started service trusts.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use storefront_kit::auth::{ACCESS_TOKEN_TYPE, AccessClaims};
use storefront_kit::testing::{mongodb_url, postgres_url, unique_name, with_database};
use storefront_kit::{JwtSettings, JwtVerifier, ServerConfig, Shutdown};

/// An Ed25519 key for tests only; `KEY_X` is its public half.
const KEY: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIyTd7tVcFEAVQJo/x3t2mJNoQGPtMNd3gDDqye/VkpY\n-----END PRIVATE KEY-----\n";
const KEY_X: &str = "s1kbvEH_4esEtt3RrOWpK-Yff2hZivIT5YNPO4_nWsY";
const KEY_ID: &str = "stack-test";

/// An access token for `user_id` with `roles`, valid for an hour.
pub fn token(user_id: &str, roles: &[&str]) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let claims = AccessClaims {
        sub: user_id.to_owned(),
        iss: "storefront-users".into(),
        aud: "storefront".into(),
        exp: now + 3600,
        iat: now,
        jti: None,
        roles: roles.iter().map(|r| r.to_string()).collect(),
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(KEY_ID.into());
    header.typ = Some(ACCESS_TOKEN_TYPE.into());
    let key = EncodingKey::from_ed_pem(KEY.as_bytes()).expect("test key");
    jsonwebtoken::encode(&header, &claims, &key).expect("signed token")
}

/// A verifier that trusts [`token`]'s key.
pub fn verifier() -> Arc<JwtVerifier> {
    let settings = JwtSettings {
        jwks_url: "http://127.0.0.1:9/unused".into(),
        issuer: "storefront-users".into(),
        audience: "storefront".into(),
    };
    let jwks = serde_json::from_value(json!({ "keys": [
        { "kty": "OKP", "crv": "Ed25519", "x": KEY_X, "kid": KEY_ID, "alg": "EdDSA", "use": "sig" }
    ] }))
    .expect("test JWKS");
    Arc::new(JwtVerifier::from_jwks(&settings, jwks))
}

/// Server settings for in-process services.
pub fn server_config() -> ServerConfig {
    ServerConfig {
        listen_addr: ([127, 0, 0, 1], 0).into(),
        body_limit_bytes: 1024 * 1024,
        request_timeout: Duration::from_secs(60),
        shutdown_grace: Duration::from_secs(2),
    }
}

/// A fresh PostgreSQL database; returns its URL.
pub async fn fresh_postgres(prefix: &str) -> (String, String) {
    let name = unique_name(prefix);
    let admin = sqlx::PgPool::connect(&postgres_url())
        .await
        .expect("PostgreSQL is up (cargo xtask up)");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("create database");
    admin.close().await;
    (with_database(&postgres_url(), &name), name)
}

/// A catalog service listening on loopback, on its own databases.
pub struct RunningCatalog {
    pub url: String,
    pub state: storefront_catalog::AppState,
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<()>,
}

impl RunningCatalog {
    pub async fn start() -> Self {
        storefront_kit::install_crypto_provider();
        let (ledger_url, _) = fresh_postgres("catalog").await;
        let ledger = storefront_catalog::ledger::connect(&ledger_url, 20)
            .await
            .expect("ledger");
        let documents = mongodb::Client::with_uri_str(mongodb_url())
            .await
            .expect("MongoDB-wire server is up (cargo xtask up)")
            .database(&unique_name("catalog"));
        storefront_catalog::prepare(&ledger, &documents)
            .await
            .expect("catalog migrations");
        let images_dir = std::env::temp_dir().join(unique_name("catalog-images"));
        let state = storefront_catalog::AppState {
            ledger,
            documents,
            verifier: verifier(),
            images: Arc::new(storefront_catalog::images::LocalDirectory::new(&images_dir)),
            limits: Default::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let shutdown = Shutdown::new();
        let service = storefront_catalog::service(state.clone());
        let task = tokio::spawn({
            let shutdown = shutdown.clone();
            async move {
                let _ =
                    storefront_kit::serve_on(listener, service, &server_config(), shutdown).await;
            }
        });
        Self {
            url,
            state,
            shutdown,
            task,
        }
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        let _ = self.task.await;
        let _ = self.state.documents.drop().await;
    }
}
