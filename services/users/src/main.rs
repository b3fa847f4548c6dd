//! The users service binary: read config, connect, migrate, serve until SIGTERM.

use std::process::ExitCode;

use storefront_kit::config::load_or_exit;
use storefront_kit::{Env, Shutdown, install_crypto_provider, serve, telemetry};
use storefront_users::Config;

#[tokio::main]
async fn main() -> ExitCode {
    install_crypto_provider();
    let _telemetry = match telemetry::init("users") {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("telemetry: {error}");
            return ExitCode::FAILURE;
        }
    };
    let config = load_or_exit(|| Config::from_env(&Env::new("USERS")));

    let state = match storefront_users::start(&config).await {
        Ok(state) => state,
        Err(error) => {
            tracing::error!(%error, "users service cannot start");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = Shutdown::on_signals();
    let maintenance = tokio::spawn(storefront_users::maintain(state.clone(), shutdown.clone()));
    let db = state.db.clone();
    let served = serve(storefront_users::service(state), &config.server, shutdown).await;
    maintenance.abort();
    db.close().await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "users service failed");
            ExitCode::FAILURE
        }
    }
}
