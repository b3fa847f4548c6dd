//! Email verification. Registration mails a link; a signed-in customer can ask for another
//! (`POST /api/users/me/email/verification`); `POST /api/users/email/verify` uses it and marks the
//! address verified, if the account still has the address the link was sent to.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sqlx::PgConnection;
use storefront_kit::{Json, Principal};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use super::{MailAccepted, Purpose, messages};
use crate::AppState;
use crate::accounts;
use crate::error::{Error, Result};
use crate::input::ValidBody;
use crate::mail::outbox;
use crate::throttle::ClientAddress;

/// Stores a verification link for the account's address and queues the mail that carries it,
/// both in the caller's transaction; the caller wakes the mailer once it has committed.
pub async fn issue(
    db: &mut PgConnection,
    state: &AppState,
    user_id: Uuid,
    email: &str,
) -> Result<()> {
    let ttl = state.recovery.email_verification_ttl;
    let link = super::issue(db, Purpose::VerifyEmail, user_id, email, ttl).await?;
    let mail = messages::email_verification(&state.mailer, email, &link.token, ttl);
    outbox::queue(db, &mail).await?;
    Ok(())
}

const VERIFICATION_SENT: MailAccepted = MailAccepted {
    status: "accepted",
    message: "A link to confirm your email address is on its way.",
};

/// Mails the caller a new verification link (earlier ones keep working until they expire).
#[utoipa::path(
    post,
    path = "/api/users/me/email/verification",
    tag = "recovery",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "A verification mail is on its way", body = MailAccepted),
        (status = 401, description = "Not signed in", body = storefront_kit::Problem),
        (status = 409, description = "The address is already verified", body = storefront_kit::Problem),
        (status = 429, description = "Too many mails asked for; see Retry-After", body = storefront_kit::Problem),
    )
)]
pub async fn resend(
    State(state): State<AppState>,
    principal: Principal,
    client: ClientAddress,
) -> Result<Response> {
    let user_id = accounts::parse_user_id(&principal)?;
    let user = accounts::find_user(&state.db, user_id)
        .await?
        .ok_or_else(|| Error::NotFound("The account no longer exists.".to_owned()))?;
    if user.email_verified_at.is_some() {
        return Err(Error::Conflict(
            "The email address is already verified.".to_owned(),
        ));
    }
    state
        .throttle
        .limit_mail(&state.db, &user.email, &client)
        .await?;
    let mut tx = state.db.begin().await?;
    issue(&mut tx, &state, user_id, &user.email).await?;
    tx.commit().await?;
    state.mailer.wake();
    Ok((StatusCode::ACCEPTED, Json(VERIFICATION_SENT)).into_response())
}

/// `POST /api/users/email/verify` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyEmail {
    /// The `token` parameter of the link in the mail.
    #[validate(length(min = 1, max = 128))]
    pub token: String,
}

/// Confirms the address with a verification link; no sign-in needed (the link may be opened
/// on another device). The link works once.
#[utoipa::path(
    post,
    path = "/api/users/email/verify",
    tag = "recovery",
    request_body = VerifyEmail,
    responses(
        (status = 204, description = "The address is verified"),
        (status = 422, description = "The link is invalid, used or expired (one answer for all three)", body = storefront_kit::Problem),
    )
)]
pub async fn verify(
    State(state): State<AppState>,
    ValidBody(body): ValidBody<VerifyEmail>,
) -> Result<StatusCode> {
    let mut tx = state.db.begin().await?;
    let (user_id, sent_to) = super::consume(&mut tx, Purpose::VerifyEmail, &body.token)
        .await?
        .ok_or(Error::InvalidLink)?;
    if !accounts::mark_email_verified(&mut tx, user_id, &sent_to).await? {
        // The account's address changed since the link was sent.
        return Err(Error::InvalidLink);
    }
    tx.commit().await?;
    tracing::info!(%user_id, "email address verified");
    Ok(StatusCode::NO_CONTENT)
}
