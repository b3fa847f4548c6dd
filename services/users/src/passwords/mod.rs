//! Passwords: the policy (8–128 characters, not a common password, not the email), argon2id
//! hashing off the async runtime with bounded concurrency, and the change-password endpoint.

use std::collections::HashSet;
use std::sync::OnceLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::State;
use serde::Deserialize;
use storefront_kit::Principal;
use tokio::sync::Semaphore;
use utoipa::ToSchema;
use validator::Validate;

use crate::AppState;
use crate::accounts;
use crate::error::{Error, Result};
use crate::input::ValidBody;
use crate::sessions::{self, TokenPair};
use crate::throttle::ClientAddress;

pub const MIN_LENGTH: usize = 8;
pub const MAX_LENGTH: usize = 128;

/// OWASP's argon2id minimum: 19 MiB of memory, 2 passes, 1 lane.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// Hashes and verifies passwords. Hashing is CPU-bound (tens of ms), so it runs on the blocking
/// pool, and at most `concurrency` at once so a burst of logins cannot starve the machine.
pub struct Passwords {
    argon2: Argon2<'static>,
    permits: Semaphore,
    /// A real hash of a random password: unknown accounts are verified against it, so that a
    /// login for an email that does not exist costs the same time as one that does.
    dummy_hash: String,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords").finish_non_exhaustive()
    }
}

impl Passwords {
    pub fn new(concurrency: usize) -> Result<Self> {
        let params = Params::new(MEMORY_KIB, PASSES, LANES, None)
            .map_err(|e| Error::Hashing(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let random = uuid::Uuid::new_v4().to_string();
        let dummy_hash = hash_with(&argon2, &random)?;
        Ok(Self {
            argon2,
            permits: Semaphore::new(concurrency.max(1)),
            dummy_hash,
        })
    }

    /// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of `password` with a fresh salt.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| Error::Hashing(e.to_string()))?;
        let argon2 = self.argon2.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_with(&argon2, &password))
            .await
            .map_err(|e| Error::Hashing(e.to_string()))?
    }

    /// Whether `password` matches `stored`; with no stored hash (unknown account) it does the same
    /// work against a dummy hash and answers `false`. The comparison is constant-time.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| Error::Hashing(e.to_string()))?;
        let known = stored.is_some();
        let hash = stored.unwrap_or(&self.dummy_hash).to_owned();
        let argon2 = self.argon2.clone();
        let password = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| argon2.verify_password(password.as_bytes(), &parsed).is_ok())
                .map_err(|e| Error::Hashing(format!("stored hash does not parse: {e}")))
        })
        .await
        .map_err(|e| Error::Hashing(e.to_string()))??;
        Ok(known && matches)
    }
}

fn hash_with(argon2: &Argon2<'_>, password: &str) -> Result<String> {
    argon2
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Hashing(e.to_string()))
}

fn common_passwords() -> &'static HashSet<&'static str> {
    static LIST: OnceLock<HashSet<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| {
        include_str!("common-passwords.txt")
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect()
    })
}

/// The password rules, checked before anything is hashed. `field` names the JSON field in errors.
pub fn check_policy(field: &str, password: &str, email: &str) -> Result<()> {
    let length = password.chars().count();
    let problem = if length < MIN_LENGTH {
        Some(format!("must be at least {MIN_LENGTH} characters long"))
    } else if length > MAX_LENGTH {
        Some(format!("must be at most {MAX_LENGTH} characters long"))
    } else if common_passwords().contains(password.to_lowercase().as_str()) {
        Some("is one of the most commonly used passwords; choose another".to_owned())
    } else if email_parts(email).any(|part| part.eq_ignore_ascii_case(password.trim())) {
        Some("must not be your email address".to_owned())
    } else {
        None
    };
    match problem {
        Some(message) => Err(Error::validation(field, &message)),
        None => Ok(()),
    }
}

fn email_parts(email: &str) -> impl Iterator<Item = &str> {
    let local = email.split('@').next().unwrap_or_default();
    [email, local].into_iter().filter(|part| !part.is_empty())
}

/// `POST /api/users/me/password` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangePassword {
    #[validate(length(min = 1, max = 128))]
    pub current_password: String,
    #[validate(length(min = 1, max = 128))]
    pub new_password: String,
}

/// Changes the caller's password. Every session of the account is revoked; the caller gets a new one.
#[utoipa::path(
    post,
    path = "/api/users/me/password",
    tag = "account",
    request_body = ChangePassword,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Password changed; all other sessions revoked", body = TokenPair),
        (status = 401, description = "Not signed in, or the current password is wrong", body = storefront_kit::Problem),
        (status = 422, description = "The new password breaks the rules", body = storefront_kit::Problem),
        (status = 429, description = "Too many wrong current passwords", body = storefront_kit::Problem),
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    principal: Principal,
    client: ClientAddress,
    ValidBody(body): ValidBody<ChangePassword>,
) -> Result<TokenPair> {
    let user_id = accounts::parse_user_id(&principal)?;
    let account = accounts::find_credentials_by_id(&state.db, user_id)
        .await?
        .ok_or(Error::InvalidCredentials)?;
    state
        .throttle
        .check(&state.db, &account.email, &client)
        .await?;
    if !state
        .passwords
        .verify(&body.current_password, Some(&account.password_hash))
        .await?
    {
        state
            .throttle
            .record_failure(&state.db, &account.email, &client)
            .await?;
        return Err(Error::InvalidCredentials);
    }
    check_policy("newPassword", &body.new_password, &account.email)?;
    let hash = state.passwords.hash(&body.new_password).await?;

    let mut tx = state.db.begin().await?;
    accounts::set_password_hash(&mut tx, user_id, &hash).await?;
    sessions::revoke_all(&mut tx, user_id, "password-changed").await?;
    tx.commit().await?;
    tracing::info!(%user_id, "password changed; sessions revoked");

    sessions::start_session(&state, account.into_identity()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds_are_enforced_and_long_passphrases_accepted() {
        assert!(check_policy("password", "short", "a@b.example").is_err());
        assert!(check_policy("password", &"x".repeat(129), "a@b.example").is_err());
        let passphrase = "correct horse battery staple ".repeat(4);
        assert!(passphrase.chars().count() >= 64);
        assert!(check_policy("password", passphrase.trim(), "a@b.example").is_ok());
    }

    #[test]
    fn common_and_email_like_passwords_are_refused() {
        for bad in ["password", "Password1", "QWERTYUIOP", "iloveyou"] {
            assert!(
                check_policy("password", bad, "a@b.example").is_err(),
                "{bad}"
            );
        }
        assert!(check_policy("password", "jane.doe.1990", "jane.doe.1990@shop.example").is_err());
        assert!(check_policy("password", "a-distinct-phrase", "a@b.example").is_ok());
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let passwords = Passwords::new(2).unwrap();
        let hash = passwords.hash("a-distinct-phrase").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            passwords
                .verify("a-distinct-phrase", Some(&hash))
                .await
                .unwrap()
        );
        assert!(
            !passwords
                .verify("a-distinct-phrasf", Some(&hash))
                .await
                .unwrap()
        );
        assert!(!passwords.verify("a-distinct-phrase", None).await.unwrap());
    }
}
