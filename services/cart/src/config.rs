//! The service's configuration, read once at start from `CART_*` variables.

use std::time::Duration;

use storefront_kit::config::ConfigError;
use storefront_kit::{Env, JwtSettings, ServerConfig};

/// Cart limits: `CART_TTL_SECONDS` (default 30 days), `CART_MAX_LINES` (50),
/// `CART_MAX_QUANTITY` (99 per line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CartLimits {
    pub ttl: Duration,
    pub max_lines: u32,
    pub max_quantity: i64,
}

impl Default for CartLimits {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(30 * 24 * 3600),
            max_lines: 50,
            max_quantity: 99,
        }
    }
}

/// How the cart calls the catalog: `CART_CATALOG_URL`, `CART_CATALOG_TIMEOUT_MS` (2000),
/// `CART_CATALOG_RETRIES` (2, idempotent calls only), `CART_CATALOG_BREAKER_FAILURES` (5
/// consecutive failures open the circuit), `CART_CATALOG_BREAKER_OPEN_SECONDS` (10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogSettings {
    pub url: String,
    pub timeout: Duration,
    pub retries: u32,
    pub breaker_failures: u32,
    pub breaker_open_for: Duration,
}

impl CatalogSettings {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            timeout: Duration::from_millis(2000),
            retries: 2,
            breaker_failures: 5,
            breaker_open_for: Duration::from_secs(10),
        }
    }
}

/// The checkout saga: `CART_IDEMPOTENCY_WAIT_MS` (how long a duplicate request waits for the
/// first to finish before answering 409; 10000), `CART_SAGA_LEASE_SECONDS` (how long a running
/// saga owns its order before the recovery loop may take over; 60), `CART_RESERVATION_TTL_SECONDS`
/// (900), `CART_PAYMENT_TIMEOUT_MS` (10000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckoutSettings {
    pub idempotency_wait: Duration,
    pub saga_lease: Duration,
    pub reservation_ttl: Duration,
    pub payment_timeout: Duration,
    /// When a saga is suspended (a dependency is down), how long before recovery retries it.
    pub suspend_backoff: Duration,
    /// `CART_ORDER_EXPIRES_AFTER_SECONDS` (900): a PENDING order whose payment is still not
    /// authorized this long after it was placed expires (stock released, authorization voided).
    pub order_expires_after: Duration,
}

impl Default for CheckoutSettings {
    fn default() -> Self {
        Self {
            idempotency_wait: Duration::from_secs(10),
            saga_lease: Duration::from_secs(60),
            reservation_ttl: Duration::from_secs(900),
            payment_timeout: Duration::from_secs(10),
            suspend_backoff: Duration::from_secs(5),
            order_expires_after: Duration::from_secs(900),
        }
    }
}

/// Webhooks: `CART_WEBHOOKS_ALLOW_PRIVATE_TARGETS` (false: loopback, private and link-local
/// targets are refused, and only https), `CART_WEBHOOKS_TIMEOUT_MS` (10000 per attempt),
/// `CART_WEBHOOKS_MAX_ATTEMPTS` (10), `CART_WEBHOOKS_BACKOFF_SECONDS` (first retry after about
/// this, doubling; 10), `CART_WEBHOOKS_BACKOFF_MAX_SECONDS` (3600), `CART_WEBHOOKS_INTERVAL_MS`
/// (dispatcher period when idle; 1000), `CART_WEBHOOKS_FOLLOW_CATALOG` (true: follow the
/// catalog's change feed for `product.changed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookSettings {
    pub allow_private_targets: bool,
    pub timeout: Duration,
    pub max_attempts: i32,
    pub backoff: Duration,
    pub backoff_max: Duration,
    pub dispatch_every: Duration,
    pub follow_catalog: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            timeout: Duration::from_secs(10),
            max_attempts: 10,
            backoff: Duration::from_secs(10),
            backoff_max: Duration::from_secs(3600),
            dispatch_every: Duration::from_secs(1),
            follow_catalog: true,
        }
    }
}

impl WebhookSettings {
    fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            allow_private_targets: env
                .optional("WEBHOOKS_ALLOW_PRIVATE_TARGETS", d.allow_private_targets)?,
            timeout: millis(env, "WEBHOOKS_TIMEOUT_MS", d.timeout)?,
            max_attempts: env
                .optional("WEBHOOKS_MAX_ATTEMPTS", d.max_attempts)?
                .max(1),
            backoff: env.seconds("WEBHOOKS_BACKOFF_SECONDS", d.backoff)?,
            backoff_max: env.seconds("WEBHOOKS_BACKOFF_MAX_SECONDS", d.backoff_max)?,
            dispatch_every: millis(env, "WEBHOOKS_INTERVAL_MS", d.dispatch_every)?,
            follow_catalog: env.optional("WEBHOOKS_FOLLOW_CATALOG", d.follow_catalog)?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    /// `CART_REDIS_URL`: carts and the event stream.
    pub redis_url: String,
    /// `CART_REDIS_PREFIX` (default `cart:`): every key and stream name starts with it.
    pub redis_prefix: String,
    /// `CART_DATABASE_URL`: the PostgreSQL `orders` database.
    pub database_url: String,
    /// `CART_DATABASE_MAX_CONNECTIONS` (default 16).
    pub database_max_connections: u32,
    pub catalog: CatalogSettings,
    /// `CART_JWKS_URL`, `CART_JWT_ISSUER`, `CART_JWT_AUDIENCE`.
    pub jwt: JwtSettings,
    pub carts: CartLimits,
    pub checkout: CheckoutSettings,
    /// `CART_SANDBOX_SLOW_MS`: how long the sandbox's slow test card takes (default 3000).
    pub sandbox_slow: Duration,
    /// `CART_RECOVERY_INTERVAL_SECONDS` (default 10).
    pub recovery_every: Duration,
    /// `CART_OUTBOX_INTERVAL_MS` (default 500).
    pub outbox_every: Duration,
    pub webhooks: WebhookSettings,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let carts = CartLimits::default();
        let checkout = CheckoutSettings::default();
        let mut catalog = CatalogSettings::new(env.required::<String>("CATALOG_URL")?);
        catalog.timeout = millis(env, "CATALOG_TIMEOUT_MS", catalog.timeout)?;
        catalog.retries = env.optional("CATALOG_RETRIES", catalog.retries)?;
        catalog.breaker_failures =
            env.optional("CATALOG_BREAKER_FAILURES", catalog.breaker_failures)?;
        catalog.breaker_open_for =
            env.seconds("CATALOG_BREAKER_OPEN_SECONDS", catalog.breaker_open_for)?;
        Ok(Self {
            server: ServerConfig::from_env(env)?,
            redis_url: env.required("REDIS_URL")?,
            redis_prefix: env.optional("REDIS_PREFIX", "cart:".to_owned())?,
            database_url: env.required("DATABASE_URL")?,
            database_max_connections: env.optional("DATABASE_MAX_CONNECTIONS", 16)?,
            catalog,
            jwt: JwtSettings::from_env(env)?,
            carts: CartLimits {
                ttl: env.seconds("TTL_SECONDS", carts.ttl)?,
                max_lines: env.optional("MAX_LINES", carts.max_lines)?,
                max_quantity: env.optional("MAX_QUANTITY", carts.max_quantity)?,
            },
            checkout: CheckoutSettings {
                idempotency_wait: millis(env, "IDEMPOTENCY_WAIT_MS", checkout.idempotency_wait)?,
                saga_lease: env.seconds("SAGA_LEASE_SECONDS", checkout.saga_lease)?,
                reservation_ttl: env
                    .seconds("RESERVATION_TTL_SECONDS", checkout.reservation_ttl)?,
                payment_timeout: millis(env, "PAYMENT_TIMEOUT_MS", checkout.payment_timeout)?,
                suspend_backoff: env
                    .seconds("SUSPEND_BACKOFF_SECONDS", checkout.suspend_backoff)?,
                order_expires_after: env
                    .seconds("ORDER_EXPIRES_AFTER_SECONDS", checkout.order_expires_after)?,
            },
            sandbox_slow: millis(env, "SANDBOX_SLOW_MS", Duration::from_secs(3))?,
            recovery_every: env.seconds("RECOVERY_INTERVAL_SECONDS", Duration::from_secs(10))?,
            outbox_every: millis(env, "OUTBOX_INTERVAL_MS", Duration::from_millis(500))?,
            webhooks: WebhookSettings::from_env(env)?,
        })
    }
}

fn millis(env: &Env, name: &str, default: Duration) -> Result<Duration, ConfigError> {
    Ok(env
        .maybe::<u64>(name)?
        .map(Duration::from_millis)
        .unwrap_or(default))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_and_missing_urls_are_named() {
        let env = Env::from_map(
            "CART",
            [
                ("CART_REDIS_URL", "redis://127.0.0.1:16379"),
                ("CART_DATABASE_URL", "postgres://x@127.0.0.1/orders"),
                ("CART_CATALOG_URL", "http://127.0.0.1:8081"),
                ("CART_JWKS_URL", "http://users/.well-known/jwks.json"),
                ("CART_CATALOG_TIMEOUT_MS", "500"),
            ],
        );
        let config = Config::from_env(&env).unwrap();
        assert_eq!(config.redis_prefix, "cart:");
        assert_eq!(config.carts.max_quantity, 99);
        assert_eq!(config.catalog.timeout, Duration::from_millis(500));

        let env = Env::from_map("CART", [("CART_CATALOG_URL", "http://x")]);
        assert_eq!(
            Config::from_env(&env).unwrap_err().to_string(),
            "CART_REDIS_URL is not set"
        );
    }
}
