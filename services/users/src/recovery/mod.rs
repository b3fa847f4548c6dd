//! Account recovery by mail: single-use links that verify an email address or reset a password.
//!
//! A link carries 256 random bits (base64url). Only their SHA-256 is stored, with the purpose,
//! the account, the address the link was sent to, an expiry and when it was used. Using a link is
//! one `UPDATE … WHERE used_at IS NULL AND expires_at > now() RETURNING`, so of two concurrent
//! uses exactly one succeeds.

pub mod email_verification;
pub mod messages;
pub mod password_reset;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::{Error, Result};

/// What a link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ResetPassword => "reset_password",
        }
    }
}

/// A freshly drawn link token: the part that goes into the mail, and the part that is stored.
pub struct LinkToken {
    pub token: String,
    pub hash: Vec<u8>,
}

impl LinkToken {
    pub fn generate() -> Result<Self> {
        let bytes = ring::rand::generate::<[u8; 32]>(&SystemRandom::new())
            .map_err(|_| Error::Keys("the system random generator failed".to_owned()))?
            .expose();
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let hash = hash_token(&token);
        Ok(Self { token, hash })
    }
}

fn hash_token(token: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, token.as_bytes())
        .as_ref()
        .to_vec()
}

/// The answer to a request that may send a mail.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MailAccepted {
    pub status: &'static str,
    pub message: &'static str,
}

/// Stores a new link for `user_id`, sent to `email`, usable for `ttl`.
pub async fn issue(
    db: &mut PgConnection,
    purpose: Purpose,
    user_id: Uuid,
    email: &str,
    ttl: Duration,
) -> Result<LinkToken> {
    let link = LinkToken::generate()?;
    sqlx::query(
        "INSERT INTO account_tokens (token_hash, purpose, user_id, email, expires_at)
         VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))",
    )
    .bind(&link.hash)
    .bind(purpose.as_str())
    .bind(user_id)
    .bind(email)
    .bind(ttl.as_secs_f64())
    .execute(db)
    .await?;
    Ok(link)
}

/// The account of a usable link and its current email, without using the link.
pub async fn find_usable(
    db: &PgPool,
    purpose: Purpose,
    token: &str,
) -> Result<Option<(Uuid, String)>> {
    Ok(sqlx::query_as(
        "SELECT u.id, u.email FROM account_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL AND t.expires_at > now()",
    )
    .bind(hash_token(token))
    .bind(purpose.as_str())
    .fetch_optional(db)
    .await?)
}

/// Uses the link: the account and the address the link was sent to, for exactly one caller,
/// while the link is unused and unexpired; `None` for everyone else.
pub async fn consume(
    db: &mut PgConnection,
    purpose: Purpose,
    token: &str,
) -> Result<Option<(Uuid, String)>> {
    Ok(sqlx::query_as(
        "UPDATE account_tokens SET used_at = now()
         WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now()
         RETURNING user_id, email",
    )
    .bind(hash_token(token))
    .bind(purpose.as_str())
    .fetch_optional(db)
    .await?)
}

/// Drops links that expired more than a day ago, used or not.
pub async fn purge(db: &PgPool) -> Result<u64> {
    let done =
        sqlx::query("DELETE FROM account_tokens WHERE expires_at < now() - interval '1 day'")
            .execute(db)
            .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_random_bits_in_base64url_and_only_their_hash_is_kept() {
        let one = LinkToken::generate().unwrap();
        let two = LinkToken::generate().unwrap();
        assert_eq!(one.token.len(), 43);
        assert!(
            one.token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_ne!(one.token, two.token);
        assert_eq!(one.hash.len(), 32);
        assert_eq!(one.hash, hash_token(&one.token));
        assert_ne!(one.hash, one.token.as_bytes());
    }
}
