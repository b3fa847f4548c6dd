//! Forgotten passwords. `POST /api/users/password/forgot` mails a reset link and answers the same
//! 202 whether or not the account exists; `POST /api/users/password/reset` sets a new password
//! with the link, once, and ends every session of the account.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use storefront_kit::Json;
use utoipa::ToSchema;
use validator::Validate;

use super::{LinkToken, MailAccepted, Purpose, messages};
use crate::AppState;
use crate::accounts;
use crate::error::{Error, Result};
use crate::input::ValidBody;
use crate::mail::outbox;
use crate::passwords;
use crate::sessions;
use crate::throttle::ClientAddress;

/// `POST /api/users/password/forgot` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForgotPassword {
    #[validate(email, length(max = 254))]
    pub email: String,
}

const RESET_REQUESTED: MailAccepted = MailAccepted {
    status: "accepted",
    message: "If an account uses this email address, a link to reset its password is on its way.",
};

/// Mails a password-reset link if an account uses the address. The answer, and the work done
/// before it, are the same either way; the mail leaves after the answer. A new link makes the
/// account's earlier unused reset links stop working.
#[utoipa::path(
    post,
    path = "/api/users/password/forgot",
    tag = "recovery",
    request_body = ForgotPassword,
    responses(
        (status = 202, description = "Accepted (also when no account uses the address)", body = MailAccepted),
        (status = 422, description = "Not an email address", body = storefront_kit::Problem),
        (status = 429, description = "Too many requests for this address or from this client; see Retry-After", body = storefront_kit::Problem),
    )
)]
pub async fn forgot(
    State(state): State<AppState>,
    client: ClientAddress,
    ValidBody(body): ValidBody<ForgotPassword>,
) -> Result<Response> {
    let email = accounts::normalize_email(&body.email);
    let ttl = state.recovery.password_reset_ttl;
    let link = LinkToken::generate()?;
    // Composed whether or not an account uses the address, so both cases do the same work.
    let mut mail = messages::password_reset(&state.mailer, &email, &link.token, ttl);
    // One transaction that writes whether or not the account exists (the counters, then one
    // statement that adds a link only for an account, then one that queues its mail only for
    // one), so both take the same time to commit. The link and its mail commit together.
    let mut tx = state.db.begin().await?;
    if let Some(retry_after) = state.throttle.count_mail(&mut tx, &email, &client).await? {
        tx.commit().await?;
        return Err(Error::Throttled { retry_after });
    }
    let sent_to: Option<String> = sqlx::query_scalar(
        "WITH account AS (
             SELECT id, email FROM users WHERE lower(email) = $1
         ), superseded AS (
             DELETE FROM account_tokens t USING account a
             WHERE t.user_id = a.id AND t.purpose = $2 AND t.used_at IS NULL
         )
         INSERT INTO account_tokens (token_hash, purpose, user_id, email, expires_at)
         SELECT $3, $2, id, email, now() + make_interval(secs => $4) FROM account
         RETURNING email",
    )
    .bind(&email)
    .bind(Purpose::ResetPassword.as_str())
    .bind(&link.hash)
    .bind(ttl.as_secs_f64())
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(to) = &sent_to {
        mail.to.clone_from(to);
    }
    let queued = outbox::queue_if(&mut tx, &mail, sent_to.is_some()).await?;
    tx.commit().await?;
    if queued.is_some() {
        tracing::info!("password reset link issued");
        state.mailer.wake();
    }
    Ok((StatusCode::ACCEPTED, Json(RESET_REQUESTED)).into_response())
}

/// `POST /api/users/password/reset` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResetPassword {
    /// The `token` parameter of the link in the mail.
    #[validate(length(min = 1, max = 128))]
    pub token: String,
    /// 8–128 characters, not a common password, not the email.
    #[validate(length(min = 1, max = 128))]
    pub new_password: String,
}

/// Sets a new password with a reset link. The link works once; every session of the account is
/// revoked, and the address counts as verified (the link reached it).
#[utoipa::path(
    post,
    path = "/api/users/password/reset",
    tag = "recovery",
    request_body = ResetPassword,
    responses(
        (status = 204, description = "Password changed; every session revoked"),
        (status = 422, description = "The link is invalid, used or expired (one answer for all three), or the new password breaks the rules", body = storefront_kit::Problem),
    )
)]
pub async fn reset(
    State(state): State<AppState>,
    ValidBody(body): ValidBody<ResetPassword>,
) -> Result<StatusCode> {
    // Checked before hashing, so a bad link costs no argon2 work; used only below.
    let (_, email) = super::find_usable(&state.db, Purpose::ResetPassword, &body.token)
        .await?
        .ok_or(Error::InvalidLink)?;
    passwords::check_policy("newPassword", &body.new_password, &email)?;
    let hash = state.passwords.hash(&body.new_password).await?;

    let mut tx = state.db.begin().await?;
    let (user_id, sent_to) = super::consume(&mut tx, Purpose::ResetPassword, &body.token)
        .await?
        .ok_or(Error::InvalidLink)?;
    accounts::set_password_hash(&mut tx, user_id, &hash).await?;
    let revoked = sessions::revoke_all(&mut tx, user_id, "password-reset").await?;
    sqlx::query(
        "DELETE FROM account_tokens WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
    )
    .bind(user_id)
    .bind(Purpose::ResetPassword.as_str())
    .execute(&mut *tx)
    .await?;
    accounts::mark_email_verified(&mut tx, user_id, &sent_to).await?;
    tx.commit().await?;
    tracing::info!(%user_id, revoked, "password reset; sessions revoked");
    Ok(StatusCode::NO_CONTENT)
}
