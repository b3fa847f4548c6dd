//! Signing keys in PostgreSQL: generation, rotation under an advisory lock (so replicas never
//! create two keys for the same period), retirement, and encryption of private keys at rest.
//!
//! A key *signs* during `[signs_from, signs_until)` and is *published* in the JWKS until
//! `published_until` = `signs_until` + the access-token lifetime + a margin, so the last token it
//! signed can still be verified. The next key is created (and published) ahead of its period, so
//! verifiers that cache the JWKS already know it when the first token it signs arrives.

use std::time::Duration;

use chrono::{DateTime, Utc};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::config::{KeyEncryptionKey, TokenSettings};
use crate::error::{Error, Result};

/// Published beyond the last token's expiry: clock skew and replicas that reload keys late.
const PUBLISH_MARGIN: Duration = Duration::from_secs(120);
const ENCRYPTION_NONE: &str = "none";
const ENCRYPTION_AES_256_GCM: &str = "aes-256-gcm";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub kid: String,
    pub public_key: Vec<u8>,
    private_key: Vec<u8>,
    private_key_encryption: String,
    pub signs_from: DateTime<Utc>,
    pub signs_until: DateTime<Utc>,
    pub published_until: DateTime<Utc>,
}

impl KeyRow {
    /// The 32-byte Ed25519 seed, decrypted if it is stored encrypted.
    pub fn private_seed(&self, kek: Option<&KeyEncryptionKey>) -> Result<[u8; 32]> {
        let plain = match (self.private_key_encryption.as_str(), kek) {
            (ENCRYPTION_NONE, _) => self.private_key.clone(),
            (ENCRYPTION_AES_256_GCM, Some(kek)) => open(kek, &self.kid, &self.private_key)?,
            (ENCRYPTION_AES_256_GCM, None) => {
                return Err(Error::Keys(
                    "signing keys are stored encrypted; set USERS_SIGNING_KEY_ENCRYPTION_KEY"
                        .to_owned(),
                ));
            }
            (other, _) => return Err(Error::Keys(format!("unknown key encryption `{other}`"))),
        };
        plain
            .try_into()
            .map_err(|_| Error::Keys(format!("key {} is not a 32-byte seed", self.kid)))
    }
}

fn chrono_duration(duration: Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(duration).unwrap_or(chrono::TimeDelta::MAX)
}

/// How far ahead of its period the next key is created and published.
fn prepublish(settings: &TokenSettings) -> chrono::TimeDelta {
    chrono_duration((settings.key_rotation / 4).min(Duration::from_secs(24 * 3600)))
}

fn published_until(settings: &TokenSettings, signs_until: DateTime<Utc>) -> DateTime<Utc> {
    signs_until + chrono_duration(settings.access_ttl + PUBLISH_MARGIN)
}

async fn lock(tx: &mut PgConnection) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('storefront-users.signing-keys'))")
        .execute(tx)
        .await?;
    Ok(())
}

/// Makes sure a key signs now and the next one is published in time; drops keys past publication.
pub async fn ensure_keys(db: &PgPool, settings: &TokenSettings) -> Result<()> {
    let mut tx = db.begin().await?;
    lock(&mut tx).await?;
    let now = Utc::now();
    let latest: Option<DateTime<Utc>> =
        sqlx::query_scalar("SELECT max(signs_until) FROM signing_keys")
            .fetch_one(&mut *tx)
            .await?;
    match latest {
        Some(until) if until > now + prepublish(settings) => {}
        Some(until) if until > now => {
            insert_key(&mut tx, settings, until).await?;
            tracing::info!(starts = %until, "next signing key published");
        }
        _ => {
            insert_key(&mut tx, settings, now).await?;
            tracing::info!("signing key created");
        }
    }
    sqlx::query("DELETE FROM signing_keys WHERE published_until < $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends the current key's period now and starts a new key (a compromised key, or tests).
/// The old key stays published until the tokens it signed have expired.
pub async fn rotate_now(db: &PgPool, settings: &TokenSettings) -> Result<()> {
    let mut tx = db.begin().await?;
    lock(&mut tx).await?;
    let now = Utc::now();
    // Keys not yet in their period never signed anything: nothing to keep them for.
    sqlx::query("DELETE FROM signing_keys WHERE signs_from > $1")
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE signing_keys SET signs_until = $1, published_until = $2 WHERE signs_until > $1",
    )
    .bind(now)
    .bind(published_until(settings, now))
    .execute(&mut *tx)
    .await?;
    insert_key(&mut tx, settings, now).await?;
    tx.commit().await?;
    tracing::warn!("signing key rotated ahead of schedule");
    Ok(())
}

async fn insert_key(
    tx: &mut PgConnection,
    settings: &TokenSettings,
    signs_from: DateTime<Utc>,
) -> Result<()> {
    let seed = random_seed()?;
    let public_key = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes();
    let kid = Uuid::now_v7().simple().to_string();
    let (private_key, encryption) = match &settings.key_encryption_key {
        Some(kek) => (seal(kek, &kid, &seed)?, ENCRYPTION_AES_256_GCM),
        None => (seed.to_vec(), ENCRYPTION_NONE),
    };
    let signs_until = signs_from + chrono_duration(settings.key_rotation);
    sqlx::query(
        "INSERT INTO signing_keys
           (kid, public_key, private_key, private_key_encryption, signs_from, signs_until, published_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&kid)
    .bind(public_key.as_slice())
    .bind(private_key)
    .bind(encryption)
    .bind(signs_from)
    .bind(signs_until)
    .bind(published_until(settings, signs_until))
    .execute(tx)
    .await?;
    Ok(())
}

/// Every key that is published now, oldest first.
pub async fn published_keys(db: &PgPool) -> Result<Vec<KeyRow>> {
    Ok(sqlx::query_as::<_, KeyRow>(
        "SELECT kid, public_key, private_key, private_key_encryption, signs_from, signs_until,
                published_until
         FROM signing_keys WHERE published_until > $1 ORDER BY signs_from",
    )
    .bind(Utc::now())
    .fetch_all(db)
    .await?)
}

fn random_seed() -> Result<[u8; 32]> {
    ring::rand::generate::<[u8; 32]>(&SystemRandom::new())
        .map(|random| random.expose())
        .map_err(|_| Error::Keys("the system random generator failed".to_owned()))
}

fn aead_key(kek: &KeyEncryptionKey) -> Result<LessSafeKey> {
    UnboundKey::new(&AES_256_GCM, &kek.0)
        .map(LessSafeKey::new)
        .map_err(|_| Error::Keys("bad key-encryption key".to_owned()))
}

/// `nonce ‖ ciphertext ‖ tag`, with the kid as associated data so a sealed key cannot be
/// swapped onto another kid's row.
fn seal(kek: &KeyEncryptionKey, kid: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| Error::Keys("the system random generator failed".to_owned()))?;
    let mut in_out = plaintext.to_vec();
    aead_key(kek)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(kid.as_bytes()),
            &mut in_out,
        )
        .map_err(|_| Error::Keys("sealing a signing key failed".to_owned()))?;
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&in_out);
    Ok(sealed)
}

fn open(kek: &KeyEncryptionKey, kid: &str, sealed: &[u8]) -> Result<Vec<u8>> {
    let wrong = || {
        Error::Keys(format!(
            "key {kid} cannot be decrypted: is USERS_SIGNING_KEY_ENCRYPTION_KEY the one it was stored with?"
        ))
    };
    if sealed.len() < NONCE_LEN {
        return Err(wrong());
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| wrong())?;
    let mut in_out = ciphertext.to_vec();
    let plain = aead_key(kek)?
        .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut in_out)
        .map_err(|_| wrong())?;
    Ok(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_keys_open_only_with_the_same_key_and_kid() {
        let kek = KeyEncryptionKey([9; 32]);
        let sealed = seal(&kek, "kid-1", &[1; 32]).unwrap();
        assert_ne!(&sealed[NONCE_LEN..NONCE_LEN + 32], &[1; 32]);
        assert_eq!(open(&kek, "kid-1", &sealed).unwrap(), vec![1; 32]);
        assert!(open(&kek, "kid-2", &sealed).is_err(), "bound to its kid");
        assert!(open(&KeyEncryptionKey([8; 32]), "kid-1", &sealed).is_err());
    }
}
