//! Access tokens: the signing-key ring (EdDSA / Ed25519 keys with a `kid`, rotated on a
//! schedule), issuing `at+jwt` tokens with the kit's [`AccessClaims`], and the JWKS document
//! other services verify them with.

pub mod store;

use std::sync::{Arc, RwLock};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::pkcs8::EncodePrivateKey;
use http::HeaderValue;
use http::header::CACHE_CONTROL;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;
use sqlx::PgPool;
use storefront_kit::auth::{ACCESS_TOKEN_TYPE, AccessClaims};
use storefront_kit::{JwtSettings, JwtVerifier, Role};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::accounts::Identity;
use crate::config::TokenSettings;
use crate::error::{Error, Result};

struct SigningKey {
    kid: String,
    key: EncodingKey,
    signs_from: DateTime<Utc>,
    signs_until: DateTime<Utc>,
}

/// The keys loaded from the database at one moment.
struct Loaded {
    signing: Vec<SigningKey>,
    jwks: Jwks,
    verifier: Arc<JwtVerifier>,
}

/// The service's signing keys, shared by all requests; reloaded from the database by the
/// maintenance loop, so every replica signs with the same key and publishes the same set.
pub struct KeyRing {
    settings: TokenSettings,
    loaded: RwLock<Arc<Loaded>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Creates keys if there are none and loads them.
    pub async fn load(db: &PgPool, settings: TokenSettings) -> Result<Self> {
        let loaded = build(db, &settings).await?;
        Ok(Self {
            settings,
            loaded: RwLock::new(Arc::new(loaded)),
        })
    }

    pub fn settings(&self) -> &TokenSettings {
        &self.settings
    }

    fn current(&self) -> Arc<Loaded> {
        match self.loaded.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Rotates on schedule, retires old keys, and picks up keys other replicas created.
    pub async fn reload(&self, db: &PgPool) -> Result<()> {
        let loaded = Arc::new(build(db, &self.settings).await?);
        match self.loaded.write() {
            Ok(mut guard) => *guard = loaded,
            Err(poisoned) => *poisoned.into_inner() = loaded,
        }
        Ok(())
    }

    /// Starts a new key now (see [`store::rotate_now`]) and reloads.
    pub async fn rotate_now(&self, db: &PgPool) -> Result<()> {
        store::rotate_now(db, &self.settings).await?;
        self.reload(db).await
    }

    /// Verifies tokens against the published keys (the service checking its own tokens).
    pub fn verifier(&self) -> Arc<JwtVerifier> {
        Arc::clone(&self.current().verifier)
    }

    pub fn jwks(&self) -> Jwks {
        self.current().jwks.clone()
    }

    /// A signed access token for `identity` and its lifetime in seconds.
    pub async fn issue(&self, db: &PgPool, identity: &Identity) -> Result<(String, u64)> {
        let now = Utc::now();
        let loaded = match signing_key_at(&self.current(), now) {
            Some(_) => self.current(),
            // The period of the loaded key ended before the maintenance loop caught up.
            None => {
                self.reload(db).await?;
                self.current()
            }
        };
        let key = signing_key_at(&loaded, now)
            .ok_or_else(|| Error::Keys("no signing key covers the current time".to_owned()))?;

        let ttl = self.settings.access_ttl.as_secs();
        let issued_at = u64::try_from(now.timestamp()).unwrap_or_default();
        let claims = AccessClaims {
            sub: identity.id.to_string(),
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
            exp: issued_at + ttl,
            iat: issued_at,
            jti: Some(Uuid::now_v7().to_string()),
            roles: identity
                .roles()
                .iter()
                .map(|r| role_name(*r).to_owned())
                .collect(),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        let token = jsonwebtoken::encode(&header, &claims, &key.key)
            .map_err(|e| Error::Keys(format!("signing failed: {e}")))?;
        Ok((token, ttl))
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Customer => "customer",
        Role::Admin => "admin",
    }
}

/// The key that signs at `now`: the newest whose period has begun and not ended.
fn signing_key_at(loaded: &Loaded, now: DateTime<Utc>) -> Option<&SigningKey> {
    loaded
        .signing
        .iter()
        .filter(|k| k.signs_from <= now && now < k.signs_until)
        .max_by_key(|k| k.signs_from)
}

async fn build(db: &PgPool, settings: &TokenSettings) -> Result<Loaded> {
    store::ensure_keys(db, settings).await?;
    let rows = store::published_keys(db).await?;
    let now = Utc::now();
    let mut signing = Vec::new();
    let mut keys = Vec::new();
    for row in &rows {
        keys.push(Jwk {
            kty: "OKP",
            crv: "Ed25519",
            x: URL_SAFE_NO_PAD.encode(&row.public_key),
            kid: row.kid.clone(),
            alg: "EdDSA",
            key_use: "sig",
        });
        if row.signs_until > now {
            let seed = row.private_seed(settings.key_encryption_key.as_ref())?;
            let der = ed25519_dalek::SigningKey::from_bytes(&seed)
                .to_pkcs8_der()
                .map_err(|e| Error::Keys(format!("encoding key {}: {e}", row.kid)))?;
            signing.push(SigningKey {
                kid: row.kid.clone(),
                key: EncodingKey::from_ed_der(der.as_bytes()),
                signs_from: row.signs_from,
                signs_until: row.signs_until,
            });
        }
    }
    let jwks = Jwks { keys };
    let set: JwkSet = serde_json::to_value(&jwks)
        .and_then(serde_json::from_value)
        .map_err(|e| Error::Keys(format!("building the JWKS: {e}")))?;
    let verifier_settings = JwtSettings {
        jwks_url: String::new(),
        issuer: settings.issuer.clone(),
        audience: settings.audience.clone(),
    };
    Ok(Loaded {
        signing,
        jwks,
        verifier: Arc::new(JwtVerifier::from_jwks(&verifier_settings, set)),
    })
}

/// A JSON Web Key Set (RFC 7517) of Ed25519 public keys (RFC 8037).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// One public key.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Jwk {
    /// Always `OKP`.
    pub kty: &'static str,
    /// Always `Ed25519`.
    pub crv: &'static str,
    /// The public key, base64url.
    pub x: String,
    pub kid: String,
    /// Always `EdDSA`.
    pub alg: &'static str,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub key_use: &'static str,
}

/// The public keys access tokens are signed with: the current key, the next one (published
/// ahead of use) and retired ones until the last token they signed has expired.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "tokens",
    responses((status = 200, description = "The JWKS (also served at /api/users/.well-known/jwks.json)", body = Jwks))
)]
pub async fn jwks(State(state): State<AppState>) -> Response {
    (
        [(
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60"),
        )],
        axum::Json(state.keys.jwks()),
    )
        .into_response()
}
