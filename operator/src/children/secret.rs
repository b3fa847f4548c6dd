//! Generated credentials: database passwords and the key that encrypts the users service's token
//! signing keys at rest.
//!
//! These Secrets are created once and never overwritten: re-generating a password would lock the
//! services out of a database that was initialised with the old one.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;

use crate::component::Database;
use crate::crd::Storefront;
use crate::meta::{child_name, object_meta};

pub const CREDENTIALS_SUFFIX: &str = "credentials";
pub const JWT_SUFFIX: &str = "jwt";
/// Key, in the JWT Secret, of the users service's key-encryption key (base64 of 32 bytes).
pub const KEY_ENCRYPTION_KEY: &str = "key-encryption-key";

/// Key of a managed store's password in the credentials Secret.
pub fn password_key(db: Database) -> String {
    format!("{}-password", db.name())
}

/// The random number generator failed.
#[derive(Debug, thiserror::Error)]
#[error("random number generator failed: {0}")]
pub struct RandomError(getrandom::Error);

/// A source of random secret material.
pub trait SecretGenerator {
    /// A URL-safe password of `len` alphanumeric characters.
    fn password(&mut self, len: usize) -> Result<String, RandomError>;
    /// `len` random bytes, base64-encoded (standard alphabet, padded).
    fn base64(&mut self, len: usize) -> Result<String, RandomError>;
}

/// The operating system's CSPRNG.
pub struct OsRandom;

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl OsRandom {
    fn bytes(len: usize) -> Result<Vec<u8>, RandomError> {
        let mut buf = vec![0u8; len];
        getrandom::fill(&mut buf).map_err(RandomError)?;
        Ok(buf)
    }
}

impl SecretGenerator for OsRandom {
    fn password(&mut self, len: usize) -> Result<String, RandomError> {
        let mut out = String::with_capacity(len);
        while out.len() < len {
            for b in Self::bytes(len)? {
                // Rejection sampling keeps the distribution uniform (248 = 4 * 62).
                if b < 248 && out.len() < len {
                    out.push(char::from(
                        ALPHANUMERIC[usize::from(b) % ALPHANUMERIC.len()],
                    ));
                }
            }
        }
        Ok(out)
    }

    fn base64(&mut self, len: usize) -> Result<String, RandomError> {
        use base64::Engine as _;
        Ok(base64::engine::general_purpose::STANDARD.encode(Self::bytes(len)?))
    }
}

fn secret(sf: &Storefront, suffix: &str, data: BTreeMap<String, String>) -> Secret {
    Secret {
        metadata: object_meta(sf, child_name(sf, suffix), "storefront", "credentials"),
        string_data: Some(data),
        type_: Some("Opaque".into()),
        ..Secret::default()
    }
}

/// Passwords of the managed data stores (all of them, so switching a store from external to
/// managed later needs no new Secret).
pub fn credentials(
    sf: &Storefront,
    random: &mut impl SecretGenerator,
) -> Result<Secret, RandomError> {
    let mut data = BTreeMap::new();
    for db in [Database::Postgres, Database::Redis, Database::Mongodb] {
        data.insert(password_key(db), random.password(32)?);
    }
    Ok(secret(sf, CREDENTIALS_SUFFIX, data))
}

/// The users service keeps its signing keys (which it generates and rotates) encrypted with this
/// 32-byte key.
pub fn jwt(sf: &Storefront, random: &mut impl SecretGenerator) -> Result<Secret, RandomError> {
    let data = BTreeMap::from([(KEY_ENCRYPTION_KEY.to_string(), random.base64(32)?)]);
    Ok(secret(sf, JWT_SUFFIX, data))
}

/// Every generated Secret of a Storefront.
pub fn generated(
    sf: &Storefront,
    random: &mut impl SecretGenerator,
) -> Result<Vec<Secret>, RandomError> {
    Ok(vec![credentials(sf, random)?, jwt(sf, random)?])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::testing::minimal;

    #[test]
    fn passwords_are_long_alphanumeric_and_distinct() {
        let secrets = generated(&minimal(), &mut OsRandom).expect("random");
        let creds = secrets[0].string_data.as_ref().expect("data");
        assert_eq!(
            creds.keys().collect::<Vec<_>>(),
            ["mongodb-password", "postgres-password", "redis-password"]
        );
        for v in creds.values() {
            assert_eq!(v.len(), 32);
            assert!(v.bytes().all(|b| b.is_ascii_alphanumeric()));
        }
        let values: std::collections::BTreeSet<_> = creds.values().collect();
        assert_eq!(values.len(), 3);
        let key = &secrets[1].string_data.as_ref().expect("data")[KEY_ENCRYPTION_KEY];
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(key)
            .expect("base64");
        assert_eq!(bytes.len(), 32);
        assert_eq!(secrets[1].metadata.name.as_deref(), Some("shop-jwt"));
    }
}
