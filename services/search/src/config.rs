//! The search service's configuration, from `SEARCH_*` environment variables.

use std::time::Duration;

use storefront_kit::{ConfigError, Env, JwtSettings, ServerConfig};

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    /// `SEARCH_ELASTICSEARCH_URL`: the engine's HTTP endpoint.
    pub engine_url: String,
    /// `SEARCH_INDEX_ALIAS` (default `products`).
    pub index_alias: String,
    /// `SEARCH_ENGINE_TIMEOUT_SECONDS` (default 5).
    pub engine_timeout: Duration,
    /// `SEARCH_JWKS_URL`, `SEARCH_JWT_ISSUER`, `SEARCH_JWT_AUDIENCE`.
    pub jwt: JwtSettings,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            server: ServerConfig::from_env(env)?,
            engine_url: env.required("ELASTICSEARCH_URL")?,
            index_alias: env.optional("INDEX_ALIAS", "products".to_owned())?,
            engine_timeout: env.seconds("ENGINE_TIMEOUT_SECONDS", Duration::from_secs(5))?,
            jwt: JwtSettings::from_env(env)?,
        })
    }
}
