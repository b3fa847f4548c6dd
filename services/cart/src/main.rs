//! `storefront-cart`: serves carts, checkout and orders, and runs the outbox relay and the
//! recovery loop beside the server; `storefront-cart seed` loads the demo pricing rules.

use storefront_cart::{Config, connect, prepare, seed, service, spawn_background};
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
    match std::env::args().nth(1).as_deref() {
        Some("seed") => {
            let report = seed::run(&state).await.unwrap_or_else(|e| exit_with(e));
            println!("{}", serde_json::to_string(&report).unwrap_or_default());
        }
        Some(other) => exit_with(format!(
            "unknown command {other:?}; try `seed` or nothing to serve"
        )),
        None => {
            let shutdown = Shutdown::on_signals();
            spawn_background(&state, &config, &shutdown);
            if let Err(error) = serve(service(state), &config.server, shutdown).await {
                exit_with(error);
            }
        }
    }
}
