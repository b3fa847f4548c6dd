//! The users service: accounts, authentication and roles. It owns the `users` PostgreSQL
//! database (accounts, argon2id password hashes, roles, addresses, refresh-token families,
//! signing keys), issues short-lived EdDSA access tokens and rotating refresh tokens, and
//! publishes the JWKS every other service verifies tokens with.
//!
//! [`app`] builds the router from an [`AppState`]; [`service`] wraps it with what the kit serves
//! around every service; `main.rs` only reads config, connects and serves.

pub mod accounts;
pub mod addresses;
pub mod admin;
pub mod concurrency;
pub mod config;
pub mod error;
pub mod input;
pub mod mail;
pub mod passwords;
pub mod recovery;
pub mod sessions;
pub mod throttle;
pub mod tokens;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::get;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use storefront_kit::openapi::BearerAuth;
use storefront_kit::{JwtVerifier, Readiness, Service, Shutdown};
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use config::{Config, RecoverySettings};
pub use error::{Error, Result};

use mail::Mailer;
use passwords::Passwords;
use throttle::Throttle;
use tokens::KeyRing;

/// The largest request body this service reads; every body it accepts is a few hundred bytes.
pub const BODY_LIMIT_BYTES: usize = 16 * 1024;
/// How often keys are reloaded (and rotated on schedule) and expired rows purged.
pub const MAINTENANCE_INTERVAL: Duration = Duration::from_secs(60);

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// What every request handler shares.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: PgPool,
    pub keys: Arc<KeyRing>,
    pub passwords: Arc<Passwords>,
    pub throttle: Arc<Throttle>,
    pub trusted_proxy_hops: usize,
    pub recovery: Arc<RecoverySettings>,
    pub mailer: Mailer,
}

impl FromRef<AppState> for Arc<JwtVerifier> {
    fn from_ref(state: &AppState) -> Self {
        state.keys.verifier()
    }
}

impl AppState {
    /// Loads (or creates) the signing keys and starts the mail dispatcher, which runs until the
    /// last clone of the state is dropped; `db` must be migrated.
    pub async fn new(db: PgPool, config: &Config) -> Result<Self> {
        let keys = KeyRing::load(&db, config.tokens.clone()).await?;
        let mailer = Mailer::start(db.clone(), &config.mail)?;
        Ok(Self {
            db,
            keys: Arc::new(keys),
            passwords: Arc::new(Passwords::new(config.password_hash_concurrency)?),
            throttle: Arc::new(Throttle::new(config.throttle.clone())),
            trusted_proxy_hops: config.trusted_proxy_hops,
            recovery: Arc::new(config.recovery.clone()),
            mailer,
        })
    }
}

/// Connects, migrates, loads keys and creates the bootstrap admin: everything before serving.
pub async fn start(config: &Config) -> Result<AppState> {
    let db = PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect(&config.database_url)
        .await?;
    MIGRATOR.run(&db).await?;
    let state = AppState::new(db, config).await?;
    if config.tokens.key_encryption_key.is_none() {
        tracing::warn!(
            "USERS_SIGNING_KEY_ENCRYPTION_KEY is not set: private signing keys are stored unencrypted"
        );
    }
    if let Some(admin) = &config.bootstrap_admin {
        admin::bootstrap(&state.db, &state.passwords, admin).await?;
    }
    Ok(state)
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Storefront users",
        description = "Accounts, sign-in, tokens, addresses and roles. Errors are RFC 9457 problem+json."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "account", description = "Registration and the caller's profile"),
        (name = "sessions", description = "Sign in, refresh, sign out"),
        (name = "recovery", description = "Email verification and password reset by single-use links sent by mail"),
        (name = "addresses", description = "The caller's address book"),
        (name = "admin", description = "Accounts and roles (admin only)"),
        (name = "tokens", description = "Public keys of access tokens"),
    )
)]
struct ApiDoc;

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(accounts::register))
        .routes(routes!(sessions::login))
        .routes(routes!(sessions::refresh))
        .routes(routes!(sessions::logout))
        .routes(routes!(accounts::me, accounts::update_me))
        .routes(routes!(passwords::change_password))
        .routes(routes!(recovery::password_reset::forgot))
        .routes(routes!(recovery::password_reset::reset))
        .routes(routes!(recovery::email_verification::resend))
        .routes(routes!(recovery::email_verification::verify))
        .routes(routes!(addresses::list, addresses::create))
        .routes(routes!(
            addresses::get_one,
            addresses::replace,
            addresses::remove
        ))
        .routes(routes!(admin::list_users))
        .routes(routes!(admin::grant_admin, admin::revoke_admin))
        .routes(routes!(tokens::jwks))
        // The gateway forwards only `/api/users/...` here.
        .route("/api/users/.well-known/jwks.json", get(tokens::jwks))
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
}

/// The service's own routes, with state applied.
pub fn app(state: AppState) -> Router {
    api().with_state(state).split_for_parts().0
}

/// The OpenAPI document of [`app`], served at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().into_openapi()
}

/// [`app`] with health (`/readyz` checks PostgreSQL), metrics and the OpenAPI document.
pub fn service(state: AppState) -> Service {
    let db = state.db.clone();
    let readiness = Readiness::new().with_check("postgres", move || {
        let db = db.clone();
        async move {
            sqlx::query("SELECT 1")
                .execute(&db)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    });
    Service::new("users", app(state))
        .readiness(readiness)
        .openapi(openapi())
}

/// Until shutdown, every [`MAINTENANCE_INTERVAL`]: rotates and reloads signing keys, purges
/// expired throttling counters, ended sessions and expired recovery links.
pub async fn maintain(state: AppState, shutdown: Shutdown) {
    let mut tick = tokio::time::interval(MAINTENANCE_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = shutdown.wait() => return,
        }
        if let Err(error) = state.keys.reload(&state.db).await {
            tracing::error!(%error, "reloading signing keys failed");
        }
        if let Err(error) = state.throttle.purge(&state.db).await {
            tracing::warn!(%error, "purging login counters failed");
        }
        if let Err(error) = sessions::purge(&state.db).await {
            tracing::warn!(%error, "purging ended sessions failed");
        }
        if let Err(error) = recovery::purge(&state.db).await {
            tracing::warn!(%error, "purging expired recovery links failed");
        }
    }
}
