use std::sync::Arc;

use storefront_kit::{Env, JwtVerifier, Shutdown, config::load_or_exit, telemetry};
use storefront_search::catalog::CatalogClient;
use storefront_search::config::Config;
use storefront_search::engine::Engine;
use storefront_search::sync::Follower;
use storefront_search::{AppState, service};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    storefront_kit::install_crypto_provider();
    let _telemetry = telemetry::init("search")?;
    let config = load_or_exit(|| Config::from_env(&Env::new("SEARCH")));

    let engine = Engine::connect(
        &config.engine_url,
        &config.index_alias,
        config.engine_timeout,
    )?;
    let index = engine.ensure_alias().await?;
    tracing::info!(%index, alias = %config.index_alias, "search index ready");
    let verifier = Arc::new(JwtVerifier::remote(&config.jwt)?);

    let catalog = CatalogClient::new(&config.catalog_url, config.engine_timeout)?;
    let (follower, sync) = Follower::new(engine.clone(), catalog, config.sync_poll);
    let shutdown = Shutdown::on_signals();
    let following = tokio::spawn(follower.run(shutdown.clone()));

    let state = AppState {
        engine,
        verifier,
        sync,
    };
    storefront_kit::serve(service(state), &config.server, shutdown.clone()).await?;
    shutdown.trigger();
    following.await?;
    Ok(())
}
