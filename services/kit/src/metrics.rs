//! Prometheus metrics: per-route request counts and latency histograms, plus whatever business
//! counters a service records with the `metrics` macros; rendered at `GET /metrics`.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

pub const REQUESTS_TOTAL: &str = "http_requests_total";
pub const REQUEST_DURATION: &str = "http_request_duration_seconds";
pub const REQUESTS_IN_FLIGHT: &str = "http_requests_in_flight";

/// Latency buckets in seconds, from 1 ms to 10 s.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process-wide recorder. `metrics` has one global recorder, so this installs it once and
/// hands out the same handle after that.
pub fn recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.to_owned()), LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; then our handle renders nothing,
            // which the `/metrics` tests would catch.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            handle
        })
        .clone()
}

/// `GET /metrics` in the Prometheus text format.
pub async fn render(State(handle): State<PrometheusHandle>) -> Response {
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        handle.render(),
    )
        .into_response()
}

/// Route-level middleware: labels by the route template (`/products/{id}`), never the raw path,
/// so the number of series stays bounded.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| UNMATCHED.to_owned());
    let method = request.method().as_str().to_owned();
    record_request(method, route, next.run(request)).await
}

/// The route label of requests that matched no route.
pub const UNMATCHED: &str = "<unmatched>";

pub(crate) async fn record_request(
    method: String,
    route: String,
    response: impl Future<Output = Response>,
) -> Response {
    let started = Instant::now();
    let in_flight = metrics::gauge!(REQUESTS_IN_FLIGHT, "route" => route.clone());
    in_flight.increment(1.0);
    let response = response.await;
    in_flight.decrement(1.0);
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!(REQUESTS_TOTAL, &labels).increment(1);
    metrics::histogram!(REQUEST_DURATION, &labels).record(started.elapsed().as_secs_f64());
    response
}
