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
    /// `SEARCH_CATALOG_URL`: the catalog service, whose change feed is followed.
    pub catalog_url: String,
    /// `SEARCH_SYNC_POLL_MS` (default 200): pause when the feed has nothing new.
    pub sync_poll: Duration,
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
            catalog_url: env.required("CATALOG_URL")?,
            sync_poll: Duration::from_millis(env.optional("SYNC_POLL_MS", 200)?),
            jwt: JwtSettings::from_env(env)?,
        })
    }
}
