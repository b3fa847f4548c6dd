//! Where tests find the real backing services (`cargo xtask test` and `cargo xtask up` start them),
//! names and databases that keep parallel tests apart, and access tokens that services under test
//! trust. Enabled by the `testing` feature, for dev-dependencies.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::auth::{ACCESS_TOKEN_TYPE, AccessClaims};
use crate::{JwtSettings, JwtVerifier, ServerConfig};

/// Superuser URL of the test PostgreSQL server (`STOREFRONT_POSTGRES_URL`); tests create their own databases.
pub fn postgres_url() -> String {
    var(
        "STOREFRONT_POSTGRES_URL",
        "postgres://storefront@127.0.0.1:15432/postgres",
    )
}

/// `STOREFRONT_REDIS_URL`.
pub fn redis_url() -> String {
    var("STOREFRONT_REDIS_URL", "redis://127.0.0.1:16379")
}

/// The MongoDB-wire server (`STOREFRONT_MONGODB_URL`).
pub fn mongodb_url() -> String {
    var("STOREFRONT_MONGODB_URL", "mongodb://127.0.0.1:27018")
}

/// The Elasticsearch-API search engine (`STOREFRONT_OPENSEARCH_URL`).
pub fn opensearch_url() -> String {
    var("STOREFRONT_OPENSEARCH_URL", "http://127.0.0.1:19200")
}

/// The S3-compatible object store (`STOREFRONT_S3_URL`), addressed path-style, signed with
/// [`S3_ACCESS_KEY`] / [`S3_SECRET_KEY`]; tests create their own buckets.
pub fn s3_url() -> String {
    var("STOREFRONT_S3_URL", "http://127.0.0.1:19000")
}

/// The local object store's key pair (loopback only).
pub const S3_ACCESS_KEY: &str = "storefront";
pub const S3_SECRET_KEY: &str = "storefront-local-secret";

/// Settings for `bucket` on the local object store: path-style, the local key pair, no prefix.
#[cfg(feature = "s3")]
pub fn s3_settings(bucket: &str) -> crate::s3::S3Settings {
    crate::s3::S3Settings {
        endpoint: s3_url(),
        region: "us-east-1".into(),
        bucket: bucket.into(),
        prefix: String::new(),
        access_key_id: S3_ACCESS_KEY.into(),
        secret_access_key: S3_SECRET_KEY.into(),
        path_style: true,
        timeout: Duration::from_secs(10),
    }
}

/// A fresh bucket on the local object store; returns its name.
#[cfg(feature = "s3")]
pub async fn create_s3_bucket(prefix: &str) -> String {
    use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
    let name = unique_name(prefix).replace('_', "-");
    let bucket = Bucket::new(
        s3_url().parse().expect("STOREFRONT_S3_URL is a URL"),
        UrlStyle::Path,
        name.clone(),
        "us-east-1",
    )
    .expect("a bucket name");
    let url = bucket
        .create_bucket(&Credentials::new(S3_ACCESS_KEY, S3_SECRET_KEY))
        .sign(Duration::from_secs(60));
    let response = reqwest::Client::new()
        .put(url)
        .send()
        .await
        .expect("the S3 store is up (cargo xtask up)");
    assert!(response.status().is_success(), "{response:?}");
    name
}

fn var(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// A name no other test run uses: `prefix_` + 16 hex digits (valid as a database or index name).
pub fn unique_name(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    )
}

/// `url` with its database (path) replaced by `database`.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|i| i + 3)
        .and_then(|start| base[start..].find('/').map(|i| start + i))
        .unwrap_or(base.len());
    let mut out = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// An Ed25519 key for tests only; [`TEST_KEY_X`] is its public half.
const TEST_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIyTd7tVcFEAVQJo/x3t2mJNoQGPtMNd3gDDqye/VkpY\n-----END PRIVATE KEY-----\n";
const TEST_KEY_X: &str = "s1kbvEH_4esEtt3RrOWpK-Yff2hZivIT5YNPO4_nWsY";
const TEST_KEY_ID: &str = "test";

/// An access token for `user_id` with `roles`, valid for an hour, signed by the test key.
pub fn access_token(user_id: &str, roles: &[&str]) -> String {
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
    header.kid = Some(TEST_KEY_ID.into());
    header.typ = Some(ACCESS_TOKEN_TYPE.into());
    let key = EncodingKey::from_ed_pem(TEST_KEY.as_bytes()).expect("the test key parses");
    jsonwebtoken::encode(&header, &claims, &key).expect("the test token signs")
}

/// The JWKS document of [`access_token`]'s key, for a service started as a process that fetches
/// its keys from a URL.
pub fn test_jwks() -> serde_json::Value {
    serde_json::json!({ "keys": [{
        "kty": "OKP", "crv": "Ed25519", "x": TEST_KEY_X, "kid": TEST_KEY_ID, "alg": "EdDSA", "use": "sig"
    }] })
}

/// A verifier that trusts [`access_token`]'s key (and nothing else).
pub fn test_verifier() -> Arc<JwtVerifier> {
    let settings = JwtSettings {
        jwks_url: "http://127.0.0.1:9/unused".into(),
        issuer: "storefront-users".into(),
        audience: "storefront".into(),
    };
    let jwks = serde_json::from_value(test_jwks()).expect("the test JWKS parses");
    Arc::new(JwtVerifier::from_jwks(&settings, jwks))
}

/// Server settings for services started in-process on a loopback port.
pub fn server_config() -> ServerConfig {
    ServerConfig {
        listen_addr: ([127, 0, 0, 1], 0).into(),
        body_limit_bytes: 1024 * 1024,
        request_timeout: Duration::from_secs(60),
        shutdown_grace: Duration::from_secs(1),
    }
}

/// Creates a fresh PostgreSQL database named `prefix_<unique>`; returns its URL and name.
pub async fn create_database(prefix: &str) -> (String, String) {
    let name = unique_name(prefix);
    let admin = sqlx::PgPool::connect(&postgres_url())
        .await
        .expect("PostgreSQL is up (cargo xtask up, or cargo xtask test)");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("CREATE DATABASE");
    admin.close().await;
    (with_database(&postgres_url(), &name), name)
}

/// Drops a database made by [`create_database`], closing its remaining connections.
pub async fn drop_database(name: &str) {
    if let Ok(admin) = sqlx::PgPool::connect(&postgres_url()).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&admin)
        .await;
        admin.close().await;
    }
}

/// What a request sent in-process answered: the status, the headers, the body as JSON (`Null`
/// when it is not JSON) and as text.
pub struct Reply {
    pub status: http::StatusCode,
    pub headers: http::HeaderMap,
    pub body: serde_json::Value,
    pub raw: String,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.raw)
    }
}

impl Reply {
    pub fn content_type(&self) -> &str {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// A request with an optional bearer token, extra headers and an optional JSON body.
pub fn json_request(
    method: http::Method,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<serde_json::Value>,
) -> http::Request<axum::body::Body> {
    let mut request = http::Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let body = match body {
        Some(value) => {
            request = request.header(http::header::CONTENT_TYPE, "application/json");
            axum::body::Body::from(serde_json::to_vec(&value).expect("a JSON body"))
        }
        None => axum::body::Body::empty(),
    };
    request.body(body).expect("a request")
}

/// Sends `request` through `router` in-process and reads the whole answer.
pub async fn send(router: &axum::Router, request: http::Request<axum::body::Body>) -> Reply {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("routers are infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a readable body")
        .to_bytes();
    Reply {
        status,
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        raw: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_swapped_and_the_query_kept() {
        assert_eq!(
            with_database("postgres://u@h:1/postgres?sslmode=disable", "t_1"),
            "postgres://u@h:1/t_1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@h:1", "t_2"),
            "postgres://u@h:1/t_2"
        );
    }

    #[tokio::test]
    async fn test_tokens_pass_the_test_verifier() {
        let principal = test_verifier()
            .verify(&access_token("u-1", &["admin"]))
            .await
            .unwrap();
        assert_eq!(principal.user_id, "u-1");
        assert!(principal.is_admin());
    }

    #[test]
    fn unique_names_differ() {
        assert_ne!(unique_name("t"), unique_name("t"));
        assert!(unique_name("users").starts_with("users_"));
    }
}
