//! Administration: listing accounts and granting or revoking the `admin` role, for callers with
//! that role; and creating the first administrator at start, from configuration (never through
//! an open endpoint).

use axum::extract::State;
use serde::Deserialize;
use sqlx::PgPool;
use storefront_kit::{Admin, Json, Path, Query};
use utoipa::IntoParams;
use uuid::Uuid;
use validator::ValidateEmail;

use crate::AppState;
use crate::accounts::{self, User, UserRow, normalize_email};
use crate::config::BootstrapAdmin;
use crate::error::{Error, Result};
use crate::passwords::{self, Passwords};
use storefront_kit::page::{self, Page};

/// `GET /api/users/admin/users` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// 1–100, default 20.
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Only accounts whose email starts with this (case-insensitive).
    pub email: Option<String>,
}

/// Accounts, oldest first.
#[utoipa::path(
    get,
    path = "/api/users/admin/users",
    tag = "admin",
    params(UserQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of accounts", body = Page<User>),
        (status = 403, description = "The caller is not an admin", body = storefront_kit::Problem),
    )
)]
pub async fn list_users(
    State(state): State<AppState>,
    _admin: Admin,
    Query(query): Query<UserQuery>,
) -> Result<Json<Page<User>>> {
    let limit = page::limit(query.limit)?;
    let after = page::decode_after::<Uuid>(query.cursor.as_deref())?;
    let prefix = query
        .email
        .as_deref()
        .map(normalize_email)
        .filter(|p| !p.is_empty());
    if prefix.as_ref().is_some_and(|p| p.len() > 254) {
        return Err(Error::validation(
            "email",
            "must be at most 254 characters long",
        ));
    }
    let pattern = prefix.map(|p| format!("{}%", escape_like(&p)));
    let rows = sqlx::query_as::<_, UserRow>(
        "SELECT id, email, name, is_admin, email_verified_at, version, created_at, updated_at FROM users
         WHERE ($1::uuid IS NULL OR id > $1) AND ($2::text IS NULL OR email LIKE $2)
         ORDER BY id LIMIT $3",
    )
    .bind(after)
    .bind(pattern)
    .bind(i64::from(limit) + 1)
    .fetch_all(&state.db)
    .await?;
    let page = Page::from_rows(rows, limit, |row| row.id);
    Ok(Json(Page {
        items: page.items.into_iter().map(User::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

fn escape_like(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// Grants the `admin` role (idempotent). It appears in the user's tokens from their next
/// sign-in or refresh.
#[utoipa::path(
    put,
    path = "/api/users/admin/users/{id}/roles/admin",
    tag = "admin",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account, now an admin", body = User),
        (status = 403, description = "The caller is not an admin", body = storefront_kit::Problem),
        (status = 404, description = "No such account", body = storefront_kit::Problem),
    )
)]
pub async fn grant_admin(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<Uuid>,
) -> Result<Json<User>> {
    let row = set_admin(&state.db, id, true).await?;
    tracing::info!(target_user = %id, by = %caller.user_id, "admin role granted");
    Ok(Json(User::from(row)))
}

/// Revokes the `admin` role (idempotent). The last admin cannot be demoted. Tokens already
/// issued keep the role until they expire (at most 15 minutes); refreshes drop it at once.
#[utoipa::path(
    delete,
    path = "/api/users/admin/users/{id}/roles/admin",
    tag = "admin",
    params(("id" = Uuid, Path)),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account, no longer an admin", body = User),
        (status = 403, description = "The caller is not an admin", body = storefront_kit::Problem),
        (status = 404, description = "No such account", body = storefront_kit::Problem),
        (status = 409, description = "It is the last admin", body = storefront_kit::Problem),
    )
)]
pub async fn revoke_admin(
    State(state): State<AppState>,
    Admin(caller): Admin,
    Path(id): Path<Uuid>,
) -> Result<Json<User>> {
    let row = set_admin(&state.db, id, false).await?;
    tracing::info!(target_user = %id, by = %caller.user_id, "admin role revoked");
    Ok(Json(User::from(row)))
}

async fn set_admin(db: &PgPool, id: Uuid, admin: bool) -> Result<UserRow> {
    let mut tx = db.begin().await?;
    // One role change at a time, so two admins cannot demote each other to zero admins.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('storefront-users.admins'))")
        .execute(&mut *tx)
        .await?;
    let current: Option<bool> = sqlx::query_scalar("SELECT is_admin FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(is_admin) = current else {
        return Err(Error::NotFound("No such account.".to_owned()));
    };
    if is_admin && !admin {
        let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE is_admin")
            .fetch_one(&mut *tx)
            .await?;
        if admins <= 1 {
            return Err(Error::Conflict(
                "This is the last admin; grant the role to someone else first.".to_owned(),
            ));
        }
    }
    let row = sqlx::query_as::<_, UserRow>(
        "UPDATE users SET is_admin = $2,
           version = version + CASE WHEN is_admin = $2 THEN 0 ELSE 1 END,
           updated_at = CASE WHEN is_admin = $2 THEN updated_at ELSE now() END
         WHERE id = $1
         RETURNING id, email, name, is_admin, email_verified_at, version, created_at, updated_at",
    )
    .bind(id)
    .bind(admin)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Creates the configured first admin, or promotes the account if it exists (its password is
/// then left alone). Run at start; safe to repeat.
pub async fn bootstrap(db: &PgPool, passwords: &Passwords, admin: &BootstrapAdmin) -> Result<Uuid> {
    let email = normalize_email(&admin.email);
    if !email.validate_email() {
        return Err(Error::validation(
            "USERS_BOOTSTRAP_ADMIN_EMAIL",
            "must be a valid email address",
        ));
    }
    if let Some(existing) = accounts::find_credentials_by_email(db, &email).await? {
        if !existing.is_admin {
            set_admin(db, existing.id, true).await?;
            tracing::info!(user_id = %existing.id, "bootstrap admin promoted");
        }
        return Ok(existing.id);
    }
    passwords::check_policy("USERS_BOOTSTRAP_ADMIN_PASSWORD", &admin.password, &email)?;
    let hash = passwords.hash(&admin.password).await?;
    let mut conn = db.acquire().await?;
    match accounts::create_account(&mut conn, &email, "Administrator", &hash, true).await? {
        Some(id) => {
            tracing::info!(user_id = %id, "bootstrap admin created");
            Ok(id)
        }
        // Another replica created it at the same moment.
        None => accounts::find_credentials_by_email(db, &email)
            .await?
            .map(|c| c.id)
            .ok_or_else(|| Error::Conflict("the bootstrap admin vanished".to_owned())),
    }
}
