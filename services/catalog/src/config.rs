//! The service's configuration, read once at start from `CATALOG_*` variables.

use std::path::PathBuf;
use std::time::Duration;

use storefront_kit::config::ConfigError;
use storefront_kit::{Env, JwtSettings, ServerConfig};

use crate::images::{ImageLimits, ImageStorage, S3Settings};

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    /// `CATALOG_MONGODB_URL`.
    pub mongodb_url: String,
    /// `CATALOG_MONGODB_DATABASE` (default `catalog`).
    pub mongodb_database: String,
    /// `CATALOG_LEDGER_DATABASE_URL`: the PostgreSQL ledger.
    pub ledger_url: String,
    /// `CATALOG_LEDGER_MAX_CONNECTIONS` (default 16).
    pub ledger_max_connections: u32,
    /// `CATALOG_JWKS_URL`, `CATALOG_JWT_ISSUER`, `CATALOG_JWT_AUDIENCE`.
    pub jwt: JwtSettings,
    /// `CATALOG_IMAGES_S3_*` when `CATALOG_IMAGES_S3_BUCKET` is set, else `CATALOG_IMAGES_DIR`:
    /// the local directory images are kept in (default `./data/images`).
    pub images: ImageStorage,
    /// `CATALOG_IMAGE_MAX_BYTES` (default 10 MiB) and `CATALOG_IMAGE_MAX_PIXELS` (default 40 M).
    pub image_limits: ImageLimits,
    /// `CATALOG_RESERVATION_SWEEP_SECONDS`: how often expired reservations are released (default 30).
    pub reservation_sweep: Duration,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let defaults = ImageLimits::default();
        Ok(Self {
            server: ServerConfig::from_env(env)?,
            mongodb_url: env.required("MONGODB_URL")?,
            mongodb_database: env.optional("MONGODB_DATABASE", "catalog".to_owned())?,
            ledger_url: env.required("LEDGER_DATABASE_URL")?,
            ledger_max_connections: env.optional("LEDGER_MAX_CONNECTIONS", 16)?,
            jwt: JwtSettings::from_env(env)?,
            images: image_storage(env)?,
            image_limits: ImageLimits {
                max_bytes: env.optional("IMAGE_MAX_BYTES", defaults.max_bytes)?,
                max_pixels: env.optional("IMAGE_MAX_PIXELS", defaults.max_pixels)?,
            },
            reservation_sweep: env.seconds("RESERVATION_SWEEP_SECONDS", Duration::from_secs(30))?,
        })
    }
}

fn image_storage(env: &Env) -> Result<ImageStorage, ConfigError> {
    let Some(bucket) = env.maybe::<String>("IMAGES_S3_BUCKET")? else {
        return Ok(ImageStorage::Local(
            env.optional("IMAGES_DIR", PathBuf::from("./data/images"))?,
        ));
    };
    Ok(ImageStorage::S3(S3Settings::from_env(
        env,
        "IMAGES_S3",
        bucket,
        Duration::from_secs(10),
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_and_missing_urls_are_named() {
        let env = Env::from_map(
            "CATALOG",
            [
                ("CATALOG_MONGODB_URL", "mongodb://127.0.0.1:27018"),
                (
                    "CATALOG_LEDGER_DATABASE_URL",
                    "postgres://x@127.0.0.1/catalog",
                ),
                ("CATALOG_JWKS_URL", "http://users/.well-known/jwks.json"),
            ],
        );
        let config = Config::from_env(&env).unwrap();
        assert_eq!(config.mongodb_database, "catalog");
        assert_eq!(config.image_limits.max_bytes, 10 * 1024 * 1024);
        assert!(matches!(config.images, ImageStorage::Local(ref dir) if dir.ends_with("images")));

        let env = Env::from_map("CATALOG", [("CATALOG_MONGODB_URL", "mongodb://x")]);
        assert_eq!(
            Config::from_env(&env).unwrap_err().to_string(),
            "CATALOG_LEDGER_DATABASE_URL is not set"
        );
    }
}
