//! What every Storefront service shares, so that each service's `main.rs` is a dozen lines:
//! typed config from the environment ([`config`]), JSON logs and W3C trace context
//! ([`telemetry`]), Prometheus metrics ([`metrics`]), health and readiness ([`health`]), RFC 9457
//! errors ([`problem`]) and extractors that answer with them ([`extract`]), access-token
//! verification ([`auth`]), money in minor units ([`money`]), and the server with graceful
//! shutdown ([`server`], [`shutdown`]).

pub mod auth;
pub mod config;
pub mod extract;
pub mod health;
pub mod metrics;
pub mod money;
pub mod openapi;
pub mod page;
pub mod problem;
#[cfg(feature = "s3")]
pub mod s3;
pub mod server;
pub mod shutdown;
pub mod telemetry;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use auth::{Admin, JwtSettings, JwtVerifier, Principal, Role};
pub use config::{ConfigError, Env, ServerConfig};
pub use extract::{Json, Path, Query, ValidJson};
pub use health::Readiness;
pub use page::{Page, PageQuery};
pub use problem::{FieldError, Problem};
pub use server::{Service, serve, serve_on};
pub use shutdown::Shutdown;

/// Selects ring as the process's TLS crypto provider. Call first in every `main` and test harness:
/// HTTP clients built before it panic. Calling it again is harmless.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
