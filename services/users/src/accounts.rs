//! Accounts: registration, the caller's profile (`/me`), and the account storage every other
//! module reads (credentials, roles). Emails are stored normalised (trimmed, lower-case) and are
//! unique case-insensitively.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use storefront_kit::{Json, Principal, Role};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::AppState;
use crate::concurrency::{IfMatch, etag};
use crate::error::{Error, Result};
use crate::input::ValidBody;
use crate::passwords;
use crate::recovery::email_verification;

pub const MAX_EMAIL_LENGTH: u64 = 254;
pub const MAX_NAME_LENGTH: u64 = 100;

/// The form emails are stored and compared in.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Who a token is issued to.
#[derive(Debug, Clone)]
pub struct Identity {
    pub id: Uuid,
    pub is_admin: bool,
}

impl Identity {
    pub fn roles(&self) -> Vec<Role> {
        if self.is_admin {
            vec![Role::Customer, Role::Admin]
        } else {
            vec![Role::Customer]
        }
    }
}

/// What login needs to know about an account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credentials {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
    pub is_admin: bool,
}

impl Credentials {
    pub fn into_identity(self) -> Identity {
        Identity {
            id: self.id,
            is_admin: self.is_admin,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub is_admin: bool,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An account as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    /// Whether the owner has followed a link mailed to `email` (verification or password reset).
    pub email_verified: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        let roles = Identity {
            id: row.id,
            is_admin: row.is_admin,
        }
        .roles();
        Self {
            id: row.id,
            email: row.email,
            name: row.name,
            roles,
            email_verified: row.email_verified_at.is_some(),
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// The columns of [`UserRow`], for `concat!` into literal SQL.
macro_rules! user_columns {
    () => {
        "id, email, name, is_admin, email_verified_at, version, created_at, updated_at"
    };
}

/// The caller's account id, from the token's subject.
pub fn parse_user_id(principal: &Principal) -> Result<Uuid> {
    Uuid::parse_str(&principal.user_id)
        .map_err(|_| Error::NotFound("No account matches this token.".to_owned()))
}

pub async fn find_credentials_by_email(db: &PgPool, email: &str) -> Result<Option<Credentials>> {
    Ok(sqlx::query_as::<_, Credentials>(
        "SELECT id, email, password_hash, is_admin FROM users WHERE lower(email) = lower($1)",
    )
    .bind(email)
    .fetch_optional(db)
    .await?)
}

pub async fn find_credentials_by_id(db: &PgPool, id: Uuid) -> Result<Option<Credentials>> {
    Ok(sqlx::query_as::<_, Credentials>(
        "SELECT id, email, password_hash, is_admin FROM users WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?)
}

pub async fn find_identity(db: &mut PgConnection, id: Uuid) -> Result<Option<Identity>> {
    let row: Option<(Uuid, bool)> = sqlx::query_as("SELECT id, is_admin FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.map(|(id, is_admin)| Identity { id, is_admin }))
}

pub async fn find_user(db: &PgPool, id: Uuid) -> Result<Option<UserRow>> {
    Ok(sqlx::query_as::<_, UserRow>(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// Inserts an account unless the email is taken; `Some(id)` if it was created.
pub async fn create_account(
    db: &mut PgConnection,
    email: &str,
    name: &str,
    password_hash: &str,
    is_admin: bool,
) -> Result<Option<Uuid>> {
    let id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO users (id, email, name, password_hash, is_admin) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(email)
    .bind(name)
    .bind(password_hash)
    .bind(is_admin)
    .fetch_optional(db)
    .await?;
    Ok(id)
}

pub async fn set_password_hash(db: &mut PgConnection, id: Uuid, hash: &str) -> Result<()> {
    sqlx::query(
        "UPDATE users SET password_hash = $2, password_changed_at = now(), updated_at = now()
         WHERE id = $1",
    )
    .bind(id)
    .bind(hash)
    .execute(db)
    .await?;
    Ok(())
}

/// Marks the account's address verified if it is still `email` (the address a link was sent to);
/// `false` if the account no longer has that address.
pub async fn mark_email_verified(db: &mut PgConnection, id: Uuid, email: &str) -> Result<bool> {
    let updated: Option<Uuid> = sqlx::query_scalar(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, now()),
                version = version + CASE WHEN email_verified_at IS NULL THEN 1 ELSE 0 END,
                updated_at = CASE WHEN email_verified_at IS NULL THEN now() ELSE updated_at END
         WHERE id = $1 AND email = $2
         RETURNING id",
    )
    .bind(id)
    .bind(email)
    .fetch_optional(db)
    .await?;
    Ok(updated.is_some())
}

/// `POST /api/users/register` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Registration {
    #[validate(email, length(max = 254))]
    pub email: String,
    /// 8–128 characters, not a common password.
    #[validate(length(min = 1, max = 128))]
    pub password: String,
    #[validate(length(max = 100))]
    #[serde(default)]
    pub name: String,
}

/// The answer to every well-formed registration, whether or not the email was already taken.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationAccepted {
    pub status: &'static str,
    pub message: &'static str,
}

const REGISTRATION_ACCEPTED: RegistrationAccepted = RegistrationAccepted {
    status: "accepted",
    message: "If this email address was not registered yet, the account now exists: sign in to continue. A link to confirm the address is on its way.",
};

/// Registers an account and mails a link that verifies its address. The answer is the same
/// whether or not the email is taken, and both cases hash the password, so neither the body nor
/// the timing tells an attacker which emails exist; the mail leaves after the answer.
#[utoipa::path(
    post,
    path = "/api/users/register",
    tag = "account",
    request_body = Registration,
    responses(
        (status = 202, description = "Accepted (also when the email is taken)", body = RegistrationAccepted),
        (status = 400, description = "Malformed body", body = storefront_kit::Problem),
        (status = 415, description = "Not JSON", body = storefront_kit::Problem),
        (status = 422, description = "Invalid email, name or password", body = storefront_kit::Problem),
    )
)]
pub async fn register(
    State(state): State<AppState>,
    ValidBody(body): ValidBody<Registration>,
) -> Result<Response> {
    let email = normalize_email(&body.email);
    passwords::check_policy("password", &body.password, &email)?;
    let hash = state.passwords.hash(&body.password).await?;
    let mut tx = state.db.begin().await?;
    let created = create_account(&mut tx, &email, body.name.trim(), &hash, false).await?;
    if let Some(id) = created {
        email_verification::issue(&mut tx, &state, id, &email).await?;
    }
    tx.commit().await?;
    match created {
        Some(id) => {
            tracing::info!(user_id = %id, "account registered");
            state.mailer.wake();
        }
        None => tracing::info!("registration for an email already registered"),
    }
    Ok((StatusCode::ACCEPTED, Json(REGISTRATION_ACCEPTED)).into_response())
}

/// The caller's account.
#[utoipa::path(
    get,
    path = "/api/users/me",
    tag = "account",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's account; `ETag` carries its version", body = User),
        (status = 401, description = "Not signed in", body = storefront_kit::Problem),
    )
)]
pub async fn me(State(state): State<AppState>, principal: Principal) -> Result<Response> {
    let id = parse_user_id(&principal)?;
    let row = find_user(&state.db, id)
        .await?
        .ok_or_else(|| Error::NotFound("The account no longer exists.".to_owned()))?;
    Ok((etag(row.version), Json(User::from(row))).into_response())
}

/// `PATCH /api/users/me` body: the fields to change.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileUpdate {
    #[validate(length(max = 100))]
    pub name: Option<String>,
}

/// Updates the caller's profile; with `If-Match`, only if it has not changed since it was read.
#[utoipa::path(
    patch,
    path = "/api/users/me",
    tag = "account",
    request_body = ProfileUpdate,
    security(("bearer" = [])),
    params(("If-Match" = Option<String>, Header, description = "The `ETag` last read")),
    responses(
        (status = 200, description = "The updated account", body = User),
        (status = 412, description = "Changed since read", body = storefront_kit::Problem),
        (status = 422, description = "Invalid field", body = storefront_kit::Problem),
    )
)]
pub async fn update_me(
    State(state): State<AppState>,
    principal: Principal,
    if_match: IfMatch,
    ValidBody(body): ValidBody<ProfileUpdate>,
) -> Result<Response> {
    let id = parse_user_id(&principal)?;
    let row = sqlx::query_as::<_, UserRow>(concat!(
        "UPDATE users SET name = COALESCE($2, name), version = version + 1, updated_at = now()
         WHERE id = $1 AND ($3::bigint IS NULL OR version = $3)
         RETURNING ",
        user_columns!()
    ))
    .bind(id)
    .bind(body.name.as_deref().map(str::trim))
    .bind(if_match.expected())
    .fetch_optional(&state.db)
    .await?;
    match row {
        Some(row) => Ok((etag(row.version), Json(User::from(row))).into_response()),
        None if find_user(&state.db, id).await?.is_some() => Err(Error::PreconditionFailed),
        None => Err(Error::NotFound("The account no longer exists.".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_for_case_insensitive_uniqueness() {
        assert_eq!(
            normalize_email("  Jane.Doe@Shop.Example "),
            "jane.doe@shop.example"
        );
    }
}
