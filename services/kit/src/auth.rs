//! Verifying the access tokens the users service issues. Keys come from its JWKS document, cached
//! and refreshed when a token names an unknown key (rotation). Only asymmetric algorithms are
//! accepted, and each key only with its own algorithm; `iss`, `aud`, `exp` and the `at+jwt` type
//! are always checked. [`Principal`] and [`Admin`] are the extractors handlers use.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::header::AUTHORIZATION;
use http::request::Parts;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, RwLock};

use crate::config::{ConfigError, Env};
use crate::problem::Problem;

/// The `typ` header of access tokens (RFC 9068), so no other kind of token passes as one.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// Algorithms a key may use. Symmetric ones never: a public key must not become an HMAC secret.
const ALLOWED_ALGORITHMS: [Algorithm; 4] = [
    Algorithm::EdDSA,
    Algorithm::ES256,
    Algorithm::RS256,
    Algorithm::PS256,
];
const CACHE_TTL: Duration = Duration::from_secs(300);
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(10);
const CLOCK_LEEWAY_SECONDS: u64 = 30;

/// Who may present tokens to this service: `<PREFIX>_JWKS_URL`, `<PREFIX>_JWT_ISSUER`
/// (default `storefront-users`), `<PREFIX>_JWT_AUDIENCE` (default `storefront`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtSettings {
    pub jwks_url: String,
    pub issuer: String,
    pub audience: String,
}

impl JwtSettings {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            jwks_url: env.required("JWKS_URL")?,
            issuer: env.optional("JWT_ISSUER", "storefront-users".to_owned())?,
            audience: env.optional("JWT_AUDIENCE", "storefront".to_owned())?,
        })
    }
}

/// A store role carried in the token's `roles` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Customer,
    Admin,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: String,
    pub roles: Vec<Role>,
    /// The token's `jti`, when it has one.
    pub token_id: Option<String>,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.roles.contains(&Role::Admin)
    }
}

/// The claims of an access token as issued by the users service.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub exp: u64,
    pub iat: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Role names; names this version does not know are ignored.
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    MissingToken,
    #[error("the Authorization header is not `Bearer <token>`")]
    NotBearer,
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's algorithm is not accepted")]
    AlgorithmNotAllowed,
    #[error("the token is not an access token")]
    WrongType,
    #[error("the token names no known key")]
    UnknownKey,
    #[error("the token is expired")]
    Expired,
    #[error("the token is not valid: {0}")]
    Invalid(String),
    #[error("the signing keys cannot be fetched: {0}")]
    KeysUnavailable(String),
}

impl From<AuthError> for Problem {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::KeysUnavailable(_) => {
                tracing::warn!(%error, "token verification unavailable");
                Problem::service_unavailable("Tokens cannot be verified right now.", 5)
            }
            other => Problem::unauthorized(format!("{}.", capitalise(&other.to_string()))),
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        Problem::from(self).into_response()
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

enum KeySource {
    Remote { http: reqwest::Client, url: String },
    Static(JwkSet),
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, (DecodingKey, Algorithm)>,
    fetched_at: Option<Instant>,
}

/// Verifies access tokens against a JWKS. Share one per process (`Arc`); it is cheap to query.
pub struct JwtVerifier {
    issuer: String,
    audience: String,
    source: KeySource,
    cache: RwLock<KeyCache>,
    refresh: Mutex<()>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// Fetches keys from `settings.jwks_url` (lazily, with a 5 s timeout per fetch).
    pub fn remote(settings: &JwtSettings) -> Result<Self, AuthError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| AuthError::KeysUnavailable(e.to_string()))?;
        Ok(Self::with_source(
            settings,
            KeySource::Remote {
                http,
                url: settings.jwks_url.clone(),
            },
        ))
    }

    /// Verifies against a fixed key set (the issuing service verifying its own tokens).
    pub fn from_jwks(settings: &JwtSettings, jwks: JwkSet) -> Self {
        Self::with_source(settings, KeySource::Static(jwks))
    }

    fn with_source(settings: &JwtSettings, source: KeySource) -> Self {
        Self {
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            source,
            cache: RwLock::new(KeyCache::default()),
            refresh: Mutex::new(()),
        }
    }

    /// Checks signature, algorithm, type, issuer, audience and expiry; returns the caller.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        if !ALLOWED_ALGORITHMS.contains(&header.alg) {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        let typ_ok = header.typ.as_deref().is_some_and(|t| {
            t.eq_ignore_ascii_case(ACCESS_TOKEN_TYPE)
                || t.eq_ignore_ascii_case("application/at+jwt")
        });
        if !typ_ok {
            return Err(AuthError::WrongType);
        }
        let kid = header.kid.ok_or(AuthError::UnknownKey)?;
        let (key, key_algorithm) = self.key(&kid).await?;
        if key_algorithm != header.alg {
            return Err(AuthError::AlgorithmNotAllowed);
        }

        let mut validation = Validation::new(key_algorithm);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = CLOCK_LEEWAY_SECONDS;
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            match e.kind() {
                ErrorKind::ExpiredSignature => AuthError::Expired,
                ErrorKind::InvalidIssuer => AuthError::Invalid("wrong issuer".into()),
                ErrorKind::InvalidAudience => AuthError::Invalid("wrong audience".into()),
                ErrorKind::InvalidSignature => AuthError::Invalid("bad signature".into()),
                ErrorKind::InvalidAlgorithm => AuthError::AlgorithmNotAllowed,
                ErrorKind::MissingRequiredClaim(claim) => {
                    AuthError::Invalid(format!("missing claim `{claim}`"))
                }
                _ => AuthError::Malformed,
            }
        })?;
        let claims = data.claims;
        Ok(Principal {
            user_id: claims.sub,
            roles: claims
                .roles
                .iter()
                .filter_map(|r| match r.as_str() {
                    "customer" => Some(Role::Customer),
                    "admin" => Some(Role::Admin),
                    _ => None,
                })
                .collect(),
            token_id: claims.jti,
        })
    }

    async fn key(&self, kid: &str) -> Result<(DecodingKey, Algorithm), AuthError> {
        {
            let cache = self.cache.read().await;
            let fresh = cache.fetched_at.is_some_and(|t| t.elapsed() < CACHE_TTL);
            if let Some(found) = cache.keys.get(kid).filter(|_| fresh) {
                return Ok(found.clone());
            }
        }
        // One refresh at a time; whoever waited re-checks what the first one fetched.
        let _refreshing = self.refresh.lock().await;
        {
            let cache = self.cache.read().await;
            let recent = cache
                .fetched_at
                .is_some_and(|t| t.elapsed() < MIN_REFRESH_INTERVAL);
            if let Some(found) = cache.keys.get(kid).filter(|_| recent) {
                return Ok(found.clone());
            }
            if recent {
                // Just fetched and still unknown: do not let a bad kid hammer the issuer.
                return Err(AuthError::UnknownKey);
            }
        }
        match self.fetch().await {
            Ok(keys) => {
                let mut cache = self.cache.write().await;
                cache.keys = keys;
                cache.fetched_at = Some(Instant::now());
                cache.keys.get(kid).cloned().ok_or(AuthError::UnknownKey)
            }
            Err(error) => {
                // The issuer is unreachable: keep serving from keys we already trust.
                let cache = self.cache.read().await;
                match cache.keys.get(kid) {
                    Some(found) => {
                        tracing::warn!(%error, "using cached signing keys");
                        Ok(found.clone())
                    }
                    None => Err(error),
                }
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, (DecodingKey, Algorithm)>, AuthError> {
        let set = match &self.source {
            KeySource::Static(set) => set.clone(),
            KeySource::Remote { http, url } => {
                let response = http
                    .get(url)
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .map_err(|e| AuthError::KeysUnavailable(e.to_string()))?;
                response
                    .json::<JwkSet>()
                    .await
                    .map_err(|e| AuthError::KeysUnavailable(format!("bad JWKS document: {e}")))?
            }
        };
        Ok(set.keys.iter().filter_map(usable_key).collect())
    }
}

/// A JWKS entry we can verify with: it has a `kid`, an allowed `alg`, and a valid key.
fn usable_key(jwk: &Jwk) -> Option<(String, (DecodingKey, Algorithm))> {
    let kid = jwk.common.key_id.clone()?;
    let algorithm: Algorithm = jwk
        .common
        .key_algorithm
        .and_then(|a| a.to_string().parse().ok())?;
    if !ALLOWED_ALGORITHMS.contains(&algorithm) {
        return None;
    }
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some((kid, (key, algorithm)))
}

fn bearer_token(parts: &Parts) -> Result<Option<&str>, AuthError> {
    let Some(value) = parts.headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| AuthError::NotBearer)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::NotBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::NotBearer);
    }
    Ok(Some(token.trim()))
}

impl<S> FromRequestParts<S> for Principal
where
    Arc<JwtVerifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts)?.ok_or(AuthError::MissingToken)?;
        let verifier = Arc::<JwtVerifier>::from_ref(state);
        Ok(verifier.verify(token).await?)
    }
}

/// No `Authorization` header → `None` (a guest); a header with a bad token is still a 401.
impl<S> OptionalFromRequestParts<S> for Principal
where
    Arc<JwtVerifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        match bearer_token(parts)? {
            None => Ok(None),
            Some(token) => {
                let verifier = Arc::<JwtVerifier>::from_ref(state);
                Ok(Some(verifier.verify(token).await?))
            }
        }
    }
}

/// A caller with the `admin` role; anyone else authenticated gets 403.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin(pub Principal);

impl<S> FromRequestParts<S> for Admin
where
    Arc<JwtVerifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let principal =
            <Principal as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        if principal.is_admin() {
            Ok(Admin(principal))
        } else {
            Err(Problem::forbidden("This action requires the admin role."))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{EncodingKey, Header};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower::ServiceExt;

    const KEY_A: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIG/kK4Yr3caDjsWcb2mBPzP0bnncpZLorIYTOHMvHLdh\n-----END PRIVATE KEY-----\n";
    const KEY_A_X: &str = "oYCeWTHGngknWb4qs750qzrkDE6VT0mvY2jdqMwD-dM";
    const KEY_B: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIIyTd7tVcFEAVQJo/x3t2mJNoQGPtMNd3gDDqye/VkpY\n-----END PRIVATE KEY-----\n";
    const KEY_B_X: &str = "s1kbvEH_4esEtt3RrOWpK-Yff2hZivIT5YNPO4_nWsY";

    fn jwk(kid: &str, x: &str) -> serde_json::Value {
        serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"})
    }

    fn jwks(keys: Vec<serde_json::Value>) -> JwkSet {
        serde_json::from_value(serde_json::json!({ "keys": keys })).unwrap()
    }

    fn settings(url: &str) -> JwtSettings {
        JwtSettings {
            jwks_url: url.to_owned(),
            issuer: "storefront-users".into(),
            audience: "storefront".into(),
        }
    }

    fn now() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn claims(roles: &[&str]) -> AccessClaims {
        AccessClaims {
            sub: "user-1".into(),
            iss: "storefront-users".into(),
            aud: "storefront".into(),
            exp: now() + 600,
            iat: now(),
            jti: Some("t-1".into()),
            roles: roles.iter().map(|r| r.to_string()).collect(),
        }
    }

    fn sign(kid: &str, pem: &str, claims: &AccessClaims) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.into());
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        let key = EncodingKey::from_ed_pem(pem.as_bytes()).unwrap();
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    fn verifier() -> JwtVerifier {
        JwtVerifier::from_jwks(&settings("unused"), jwks(vec![jwk("a", KEY_A_X)]))
    }

    #[tokio::test]
    async fn valid_token_yields_the_principal() {
        let token = sign("a", KEY_A, &claims(&["customer", "admin", "auditor"]));
        let principal = verifier().verify(&token).await.unwrap();
        assert_eq!(principal.user_id, "user-1");
        assert_eq!(principal.roles, vec![Role::Customer, Role::Admin]);
        assert_eq!(principal.token_id.as_deref(), Some("t-1"));
    }

    #[tokio::test]
    async fn expired_token_is_rejected() {
        let mut expired = claims(&[]);
        expired.exp = now() - 3600;
        let error = verifier()
            .verify(&sign("a", KEY_A, &expired))
            .await
            .unwrap_err();
        assert_eq!(error, AuthError::Expired);
    }

    #[tokio::test]
    async fn wrong_audience_or_issuer_is_rejected() {
        let mut other_aud = claims(&[]);
        other_aud.aud = "another-app".into();
        let mut other_iss = claims(&[]);
        other_iss.iss = "someone-else".into();
        for bad in [other_aud, other_iss] {
            let error = verifier()
                .verify(&sign("a", KEY_A, &bad))
                .await
                .unwrap_err();
            assert!(matches!(error, AuthError::Invalid(_)), "{error:?}");
        }
    }

    #[tokio::test]
    async fn token_signed_by_an_unknown_key_is_rejected() {
        // Signed by key B but claiming to be key A: the signature does not verify.
        let forged = sign("a", KEY_B, &claims(&["admin"]));
        assert_eq!(
            verifier().verify(&forged).await.unwrap_err(),
            AuthError::Invalid("bad signature".into())
        );
        // Naming a key that is not published.
        let unknown = sign("b", KEY_B, &claims(&["admin"]));
        assert_eq!(
            verifier().verify(&unknown).await.unwrap_err(),
            AuthError::UnknownKey
        );
    }

    fn b64(value: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
    }

    #[tokio::test]
    async fn alg_none_is_rejected() {
        let header = serde_json::json!({"alg": "none", "typ": "at+jwt", "kid": "a"});
        let payload = serde_json::to_value(claims(&["admin"])).unwrap();
        let token = format!("{}.{}.", b64(&header), b64(&payload));
        assert!(verifier().verify(&token).await.is_err());
    }

    #[tokio::test]
    async fn hs256_signed_with_the_public_key_is_rejected() {
        let public_key = URL_SAFE_NO_PAD.decode(KEY_A_X).unwrap();
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("a".into());
        header.typ = Some(ACCESS_TOKEN_TYPE.into());
        let token = jsonwebtoken::encode(
            &header,
            &claims(&["admin"]),
            &EncodingKey::from_secret(&public_key),
        )
        .unwrap();
        assert_eq!(
            verifier().verify(&token).await.unwrap_err(),
            AuthError::AlgorithmNotAllowed
        );
    }

    #[tokio::test]
    async fn token_of_another_type_is_rejected() {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some("a".into());
        header.typ = Some("JWT".into());
        let key = EncodingKey::from_ed_pem(KEY_A.as_bytes()).unwrap();
        let token = jsonwebtoken::encode(&header, &claims(&[]), &key).unwrap();
        assert_eq!(
            verifier().verify(&token).await.unwrap_err(),
            AuthError::WrongType
        );
    }

    #[tokio::test]
    async fn tampered_payload_is_rejected() {
        let token = sign("a", KEY_A, &claims(&["customer"]));
        let mut parts: Vec<&str> = token.split('.').collect();
        let elevated = b64(&serde_json::to_value(claims(&["admin"])).unwrap());
        parts[1] = &elevated;
        let tampered = parts.join(".");
        assert!(verifier().verify(&tampered).await.is_err());
    }

    /// A real JWKS endpoint on loopback whose key set can be rotated, counting fetches.
    async fn jwks_server(
        keys: Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
        fetches: Arc<AtomicUsize>,
    ) -> String {
        let app = Router::new().route(
            "/.well-known/jwks.json",
            get(move || {
                let keys = keys.lock().unwrap().clone();
                fetches.fetch_add(1, Ordering::SeqCst);
                async move { axum::Json(serde_json::json!({ "keys": keys })) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/.well-known/jwks.json")
    }

    #[tokio::test]
    async fn remote_keys_are_cached_and_refetched_when_a_new_key_appears() {
        crate::install_crypto_provider();
        let keys = Arc::new(std::sync::Mutex::new(vec![jwk("a", KEY_A_X)]));
        let fetches = Arc::new(AtomicUsize::new(0));
        let url = jwks_server(keys.clone(), fetches.clone()).await;
        let verifier = JwtVerifier::remote(&settings(&url)).unwrap();

        for _ in 0..3 {
            verifier
                .verify(&sign("a", KEY_A, &claims(&[])))
                .await
                .unwrap();
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1, "keys are cached");

        // Rotation: the issuer publishes key b. A token naming b right after the first fetch is
        // refused (refetches are rate-limited) …
        keys.lock().unwrap().push(jwk("b", KEY_B_X));
        let token_b = sign("b", KEY_B, &claims(&[]));
        assert_eq!(
            verifier.verify(&token_b).await.unwrap_err(),
            AuthError::UnknownKey
        );
        // … and accepted once the refresh interval has passed.
        verifier.cache.write().await.fetched_at =
            Some(Instant::now() - MIN_REFRESH_INTERVAL - Duration::from_secs(1));
        verifier.verify(&token_b).await.unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn unreachable_issuer_is_a_503_not_a_401() {
        crate::install_crypto_provider();
        let verifier = JwtVerifier::remote(&settings("http://127.0.0.1:9/jwks.json")).unwrap();
        let error = verifier
            .verify(&sign("a", KEY_A, &claims(&[])))
            .await
            .unwrap_err();
        assert!(matches!(error, AuthError::KeysUnavailable(_)), "{error:?}");
        assert_eq!(Problem::from(error).status, 503);
    }

    #[derive(Clone)]
    struct AppState {
        verifier: Arc<JwtVerifier>,
    }

    impl FromRef<AppState> for Arc<JwtVerifier> {
        fn from_ref(state: &AppState) -> Self {
            state.verifier.clone()
        }
    }

    fn app() -> Router {
        Router::new()
            .route("/me", get(|p: Principal| async move { p.user_id }))
            .route("/admin", get(|Admin(p): Admin| async move { p.user_id }))
            .route(
                "/maybe",
                get(|p: Option<Principal>| async move {
                    p.map_or("guest".to_owned(), |p| p.user_id)
                }),
            )
            .with_state(AppState {
                verifier: Arc::new(verifier()),
            })
    }

    async fn call(path: &str, authorization: Option<String>) -> (u16, String) {
        let mut request = http::Request::get(path);
        if let Some(value) = authorization {
            request = request.header(AUTHORIZATION, value);
        }
        let response = app()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let bytes = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn extractors_enforce_authentication_and_the_admin_role() {
        let customer = format!("Bearer {}", sign("a", KEY_A, &claims(&["customer"])));
        let admin = format!("Bearer {}", sign("a", KEY_A, &claims(&["admin"])));

        assert_eq!(call("/me", None).await.0, 401);
        assert_eq!(call("/me", Some("Basic dXNlcjpwYXNz".into())).await.0, 401);
        assert_eq!(
            call("/me", Some(customer.clone())).await,
            (200, "user-1".into())
        );
        let (status, body) = call("/admin", Some(customer.clone())).await;
        assert_eq!(status, 403);
        assert!(body.contains("admin role"), "{body}");
        assert_eq!(call("/admin", Some(admin)).await.0, 200);
        assert_eq!(call("/maybe", None).await, (200, "guest".into()));
        assert_eq!(call("/maybe", Some(customer)).await, (200, "user-1".into()));
        assert_eq!(call("/maybe", Some("Bearer junk".into())).await.0, 401);
    }
}
