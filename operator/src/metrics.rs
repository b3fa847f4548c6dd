//! Operator metrics (Prometheus) and the small HTTP server for `/metrics` and `/healthz`.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};

pub const RECONCILES: &str = "storefront_operator_reconciles_total";
pub const RECONCILE_ERRORS: &str = "storefront_operator_reconcile_errors_total";
pub const RECONCILE_DURATION: &str = "storefront_operator_reconcile_duration_seconds";
pub const QUEUE_DEPTH: &str = "storefront_operator_queue_depth";
pub const IN_FLIGHT: &str = "storefront_operator_reconciles_in_flight";
pub const LEADER: &str = "storefront_operator_leader";
pub const APPLIED_OBJECTS: &str = "storefront_operator_applied_objects_total";
pub const API_REQUESTS: &str = "storefront_operator_api_requests_total";

fn count_request<B>(request: http::Request<B>) -> http::Request<B> {
    metrics::counter!(API_REQUESTS).increment(1);
    request
}

/// A client for `config` that counts its API requests in [`API_REQUESTS`].
pub fn counting_client(config: kube::Config) -> Result<kube::Client> {
    let builder = kube::client::ClientBuilder::try_from(config)?;
    Ok(builder
        .with_layer(&tower::util::MapRequestLayer::new(
            count_request::<kube::client::Body>,
        ))
        .build())
}

/// Installs the global Prometheus recorder (once per process).
pub fn install() -> Result<PrometheusHandle> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full(RECONCILE_DURATION.into()),
            &[
                0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5,
                2.0, 3.0, 5.0, 10.0,
            ],
        )
        .map_err(|e| Error::Metrics(e.to_string()))?
        .install_recorder()
        .map_err(|e| Error::Metrics(e.to_string()))
}

async fn render(State(handle): State<PrometheusHandle>) -> String {
    handle.render()
}

/// Serves `/metrics` and `/healthz` on `addr` until `shutdown`.
pub async fn serve(
    addr: SocketAddr,
    handle: PrometheusHandle,
    shutdown: CancellationToken,
) -> Result<()> {
    let app = Router::new()
        .route("/metrics", get(render))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(handle);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "serving /metrics and /healthz");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await?;
    Ok(())
}
