//! The store UI server binary: read config, serve the built assets until SIGTERM.

use std::process::ExitCode;

use storefront_kit::config::load_or_exit;
use storefront_kit::{Env, Shutdown, install_crypto_provider, serve, telemetry};
use storefront_store_ui_server::{Config, service};

#[tokio::main]
async fn main() -> ExitCode {
    install_crypto_provider();
    let _telemetry = match telemetry::init("store-ui") {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("telemetry: {error}");
            return ExitCode::FAILURE;
        }
    };
    let config = load_or_exit(|| Config::from_env(&Env::new("STORE_UI")));
    match serve(service(&config), &config.server, Shutdown::on_signals()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "store UI server failed");
            ExitCode::FAILURE
        }
    }
}
