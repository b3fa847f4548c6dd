//! Login sessions: sign in, refresh, sign out. A session is a *family* of refresh tokens with an
//! absolute expiry; each refresh token is opaque (256 random bits), stored only as its SHA-256,
//! and single-use: refreshing rotates it. Presenting an already rotated token means it was
//! copied, so the whole family is revoked (RFC 9700 §4.14.2).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use http::HeaderValue;
use http::header::{CACHE_CONTROL, PRAGMA};
use ring::rand::SystemRandom;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use storefront_kit::Json;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::AppState;
use crate::accounts::{self, Identity};
use crate::error::{Error, Result};
use crate::input::ValidBody;
use crate::throttle::ClientAddress;

/// What a successful sign-in or refresh returns (never cached).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenPair {
    /// An EdDSA-signed JWT (`typ: at+jwt`); send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// Opaque and single-use: exchange it at `/api/users/refresh` for a new pair.
    pub refresh_token: String,
    /// When the session ends, however often it is refreshed.
    pub refresh_token_expires_at: DateTime<Utc>,
}

impl IntoResponse for TokenPair {
    fn into_response(self) -> Response {
        (
            [
                (CACHE_CONTROL, HeaderValue::from_static("no-store")),
                (PRAGMA, HeaderValue::from_static("no-cache")),
            ],
            Json(self),
        )
            .into_response()
    }
}

fn new_refresh_token() -> Result<(String, Vec<u8>)> {
    let bytes = ring::rand::generate::<[u8; 32]>(&SystemRandom::new())
        .map_err(|_| Error::Keys("the system random generator failed".to_owned()))?
        .expose();
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    Ok((token, hash))
}

fn hash_token(token: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
        .as_ref()
        .to_vec()
}

/// Starts a new session (a new refresh-token family) for `identity`.
pub async fn start_session(state: &AppState, identity: Identity) -> Result<TokenPair> {
    let settings = state.keys.settings();
    let expires_at = Utc::now()
        + chrono::TimeDelta::from_std(settings.refresh_ttl).unwrap_or(chrono::TimeDelta::MAX);
    let (refresh_token, hash) = new_refresh_token()?;
    let mut tx = state.db.begin().await?;
    let family = Uuid::now_v7();
    sqlx::query("INSERT INTO refresh_families (id, user_id, expires_at) VALUES ($1, $2, $3)")
        .bind(family)
        .bind(identity.id)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO refresh_tokens (token_hash, family_id) VALUES ($1, $2)")
        .bind(&hash)
        .bind(family)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let (access_token, expires_in) = state.keys.issue(&state.db, &identity).await?;
    Ok(TokenPair {
        access_token,
        token_type: "Bearer",
        expires_in,
        refresh_token,
        refresh_token_expires_at: expires_at,
    })
}

/// Revokes every live session of a user (password change, account changes).
pub async fn revoke_all(db: &mut PgConnection, user_id: Uuid, reason: &str) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE refresh_families SET revoked_at = now(), revoked_reason = $2
         WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(user_id)
    .bind(reason)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// `POST /api/users/login` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Login {
    #[validate(length(min = 1, max = 254))]
    pub email: String,
    #[validate(length(min = 1, max = 128))]
    pub password: String,
}

/// Signs in. Wrong password and unknown email answer the same 401 after the same work.
#[utoipa::path(
    post,
    path = "/api/users/login",
    tag = "sessions",
    request_body = Login,
    responses(
        (status = 200, description = "Signed in", body = TokenPair),
        (status = 401, description = "Wrong email or password (same answer for unknown emails)", body = storefront_kit::Problem),
        (status = 429, description = "Too many failed attempts; see Retry-After", body = storefront_kit::Problem),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    client: ClientAddress,
    ValidBody(body): ValidBody<Login>,
) -> Result<TokenPair> {
    let email = accounts::normalize_email(&body.email);
    state.throttle.check(&state.db, &email, &client).await?;
    let account = accounts::find_credentials_by_email(&state.db, &email).await?;
    let matches = state
        .passwords
        .verify(
            &body.password,
            account.as_ref().map(|a| a.password_hash.as_str()),
        )
        .await?;
    let Some(account) = account.filter(|_| matches) else {
        state
            .throttle
            .record_failure(&state.db, &email, &client)
            .await?;
        metrics::counter!("users_logins_total", "outcome" => "failed").increment(1);
        return Err(Error::InvalidCredentials);
    };
    state
        .throttle
        .record_success(&state.db, account.id, &email, &client)
        .await?;
    metrics::counter!("users_logins_total", "outcome" => "succeeded").increment(1);
    start_session(&state, account.into_identity()).await
}

/// `POST /api/users/refresh` and `/logout` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 256))]
    pub refresh_token: String,
}

#[derive(sqlx::FromRow)]
struct PresentedToken {
    family_id: Uuid,
    rotated_at: Option<DateTime<Utc>>,
    user_id: Uuid,
    expires_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

/// Exchanges a refresh token for a new pair. Reusing a rotated token revokes its session.
#[utoipa::path(
    post,
    path = "/api/users/refresh",
    tag = "sessions",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair; the presented refresh token is now spent", body = TokenPair),
        (status = 401, description = "Unknown, expired, revoked or reused refresh token", body = storefront_kit::Problem),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    ValidBody(body): ValidBody<RefreshRequest>,
) -> Result<TokenPair> {
    let presented = hash_token(&body.refresh_token);
    let mut tx = state.db.begin().await?;
    // Locking the token and its family serialises concurrent refreshes of one session.
    let found = sqlx::query_as::<_, PresentedToken>(
        "SELECT t.family_id, t.rotated_at, f.user_id, f.expires_at, f.revoked_at
         FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id
         WHERE t.token_hash = $1
         FOR UPDATE OF t, f",
    )
    .bind(&presented)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(token) = found else {
        return Err(Error::InvalidRefreshToken);
    };
    if token.revoked_at.is_some() || token.expires_at <= Utc::now() {
        return Err(Error::InvalidRefreshToken);
    }
    if token.rotated_at.is_some() {
        sqlx::query(
            "UPDATE refresh_families SET revoked_at = now(), revoked_reason = 'refresh-token-reused'
             WHERE id = $1",
        )
        .bind(token.family_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        metrics::counter!("users_refresh_token_reuse_total").increment(1);
        tracing::warn!(user_id = %token.user_id, family = %token.family_id,
            "rotated refresh token presented again; session revoked");
        return Err(Error::InvalidRefreshToken);
    }
    let Some(identity) = accounts::find_identity(&mut tx, token.user_id).await? else {
        return Err(Error::InvalidRefreshToken);
    };
    let (refresh_token, hash) = new_refresh_token()?;
    sqlx::query("UPDATE refresh_tokens SET rotated_at = now() WHERE token_hash = $1")
        .bind(&presented)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO refresh_tokens (token_hash, family_id) VALUES ($1, $2)")
        .bind(&hash)
        .bind(token.family_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let (access_token, expires_in) = state.keys.issue(&state.db, &identity).await?;
    Ok(TokenPair {
        access_token,
        token_type: "Bearer",
        expires_in,
        refresh_token,
        refresh_token_expires_at: token.expires_at,
    })
}

/// Signs out: revokes the session the refresh token belongs to. Always 204, so it is safe to
/// repeat. Access tokens already issued stay valid until they expire (at most 15 minutes).
#[utoipa::path(
    post,
    path = "/api/users/logout",
    tag = "sessions",
    request_body = RefreshRequest,
    responses((status = 204, description = "The session is revoked (or was not live)"))
)]
pub async fn logout(
    State(state): State<AppState>,
    ValidBody(body): ValidBody<RefreshRequest>,
) -> Result<StatusCode> {
    sqlx::query(
        "UPDATE refresh_families SET revoked_at = now(), revoked_reason = 'logout'
         WHERE id = (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)
           AND revoked_at IS NULL",
    )
    .bind(hash_token(&body.refresh_token))
    .execute(&state.db)
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Drops sessions that ended more than a day ago (their tokens go with them).
pub async fn purge(db: &sqlx::PgPool) -> Result<u64> {
    let done = sqlx::query(
        "DELETE FROM refresh_families
         WHERE expires_at < now() - interval '1 day' OR revoked_at < now() - interval '1 day'",
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
