//! `storefront-cart`: serves carts, checkout and orders, and runs the outbox relay and the
//! recovery loop beside the server.

use storefront_cart::{Config, connect, prepare, service, spawn_background};
use storefront_kit::config::load_or_exit;
use storefront_kit::{Env, Shutdown, install_crypto_provider, serve, telemetry};

fn exit_with(message: impl std::fmt::Display) -> ! {
    eprintln!("cart: {message}");
    std::process::exit(1);
}

#[tokio::main]
async fn main() {
    install_crypto_provider();
    let _telemetry = telemetry::init("cart").unwrap_or_else(|e| exit_with(e));
    let config = load_or_exit(|| Config::from_env(&Env::new("CART")));
    let state = connect(&config).await.unwrap_or_else(|e| exit_with(e));
    prepare(&state.db).await.unwrap_or_else(|e| exit_with(e));
    let shutdown = Shutdown::on_signals();
    spawn_background(&state, &config, &shutdown);
    if let Err(error) = serve(service(state), &config.server, shutdown).await {
        exit_with(error);
    }
}
