//! The operator binary: JSON logs, `/metrics` + `/healthz`, leader election, graceful shutdown on
//! SIGTERM/SIGINT. Configured by environment (see `settings_from_env`).

use std::net::SocketAddr;
use std::time::Duration;

use storefront_operator::error::{Error, Result};
use storefront_operator::{Scope, Settings, metrics};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

fn parse<T: std::str::FromStr>(name: &'static str, default: &str) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    env_or(name, default)
        .parse()
        .map_err(|e: T::Err| Error::Setting {
            name,
            reason: e.to_string(),
        })
}

/// `STOREFRONT_WATCH_NAMESPACE` (all when empty), `POD_NAME` (lease identity), `POD_NAMESPACE`
/// (lease namespace), `STOREFRONT_LEASE_NAME`, `STOREFRONT_LEASE_SECONDS`,
/// `STOREFRONT_LEASE_GRACE_SECONDS`, `STOREFRONT_CONCURRENCY`.
fn settings_from_env() -> Result<Settings> {
    let defaults = Settings::default();
    let scope = match env_or("STOREFRONT_WATCH_NAMESPACE", "") {
        ns if ns.is_empty() => Scope::AllNamespaces,
        ns => Scope::Namespace(ns),
    };
    let fallback_identity = format!(
        "{}-{}",
        env_or("HOSTNAME", "storefront-operator"),
        std::process::id()
    );
    Ok(Settings {
        scope,
        identity: env_or("POD_NAME", &fallback_identity),
        lease_namespace: env_or("POD_NAMESPACE", &defaults.lease_namespace),
        lease_name: env_or("STOREFRONT_LEASE_NAME", &defaults.lease_name),
        lease_duration: Duration::from_secs(parse("STOREFRONT_LEASE_SECONDS", "15")?),
        lease_grace: Duration::from_secs(parse("STOREFRONT_LEASE_GRACE_SECONDS", "5")?),
        concurrency: parse("STOREFRONT_CONCURRENCY", "16")?,
    })
}

async fn shutdown_signal(token: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for SIGTERM");
                    let _ = ctrl_c.await;
                    token.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down");
    token.cancel();
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,kube=warn")),
        )
        .init();
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "operator failed");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<()> {
    // reqwest/kube with rustls need a process-wide crypto provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let settings = settings_from_env()?;
    let listen: SocketAddr = parse("STOREFRONT_OPERATOR_LISTEN", "0.0.0.0:8080")?;
    let handle = metrics::install()?;
    let config = kube::Config::infer().await.map_err(|e| Error::Setting {
        name: "kubeconfig",
        reason: e.to_string(),
    })?;
    let client = metrics::counting_client(config)?;

    let shutdown = CancellationToken::new();
    tokio::spawn(shutdown_signal(shutdown.clone()));
    let server = tokio::spawn(metrics::serve(listen, handle, shutdown.clone()));
    let result = storefront_operator::run(client, settings, shutdown.clone()).await;
    shutdown.cancel();
    match server.await {
        Ok(Err(e)) => tracing::warn!(error = %e, "metrics server failed"),
        Err(e) => tracing::warn!(error = %e, "metrics server task failed"),
        Ok(Ok(())) => {}
    }
    result
}
