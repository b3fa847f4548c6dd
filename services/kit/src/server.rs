//! The HTTP server every service runs: its own routes plus `/healthz`, `/readyz`, `/metrics` and
//! `/openapi.json`, behind one middleware stack (request id, trace span, metrics, panic guard,
//! timeout, body limit), served until shutdown with in-flight requests drained.

use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt as _;
use http::HeaderName;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

use crate::config::ServerConfig;
use crate::extract::Json;
use crate::health::{self, Readiness};
use crate::metrics;
use crate::problem::Problem;
use crate::shutdown::Shutdown;
use crate::telemetry;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A service's routes and what the platform serves around them.
pub struct Service {
    name: String,
    routes: Router,
    readiness: Readiness,
    openapi: Option<utoipa::openapi::OpenApi>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("name", &self.name)
            .field("readiness", &self.readiness)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// `routes` are the service's own endpoints, with their state already applied.
    pub fn new(name: &str, routes: Router) -> Self {
        Self {
            name: name.to_owned(),
            routes,
            readiness: Readiness::new(),
            openapi: None,
        }
    }

    pub fn readiness(mut self, readiness: Readiness) -> Self {
        self.readiness = readiness;
        self
    }

    pub fn openapi(mut self, document: utoipa::openapi::OpenApi) -> Self {
        self.openapi = Some(document);
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The complete application, as served; tests drive it in-process.
    pub fn into_router(self, config: &ServerConfig) -> Router {
        let platform = Router::new()
            .route("/healthz", get(health::healthz))
            .route(
                "/readyz",
                get(health::readyz).with_state(self.readiness.clone()),
            )
            .route(
                "/metrics",
                get(metrics::render).with_state(metrics::recorder()),
            );
        let platform = match self.openapi {
            Some(document) => platform.route(
                "/openapi.json",
                get(move || {
                    let document = document.clone();
                    async move { Json(document) }
                }),
            ),
            None => platform,
        };

        let timeout = config.request_timeout;
        self.routes
            .route_layer(middleware::from_fn(metrics::track))
            .merge(platform)
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .layer(
                ServiceBuilder::new()
                    .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                    .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                    .layer(
                        TraceLayer::new_for_http()
                            .make_span_with(request_span)
                            .on_request(())
                            .on_response(log_response),
                    )
                    .layer(CatchPanicLayer::custom(|_| {
                        tracing::error!("handler panicked");
                        Problem::internal().into_response()
                    }))
                    .layer(middleware::from_fn(move |request, next| {
                        within(timeout, request, next)
                    }))
                    .layer(DefaultBodyLimit::max(config.body_limit_bytes)),
            )
    }
}

fn request_span(request: &Request) -> Span {
    let request_id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
        trace_id = tracing::field::Empty,
    );
    telemetry::continue_trace(&span, request.headers());
    span
}

fn log_response<B>(response: &http::Response<B>, latency: Duration, _span: &Span) {
    let status = response.status().as_u16();
    let latency_ms = latency.as_secs_f64() * 1000.0;
    if status >= 500 {
        tracing::error!(status, latency_ms, "request failed");
    } else {
        tracing::info!(status, latency_ms, "request served");
    }
}

async fn within(timeout: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout_ms = timeout.as_millis(), "request timed out");
            Problem::service_unavailable("The request took too long and was abandoned.", 1)
                .into_response()
        }
    }
}

async fn not_found(request: Request) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    metrics::record_request(method, metrics::UNMATCHED.to_owned(), async move {
        Problem::not_found(format!("No resource at {path}.")).into_response()
    })
    .await
}

async fn method_not_allowed() -> Response {
    Problem::method_not_allowed().into_response()
}

/// Serves `service` on `config.listen_addr` until `shutdown` is triggered, then stops accepting,
/// fails readiness, and gives in-flight requests up to `config.shutdown_grace` to finish.
pub async fn serve(
    service: Service,
    config: &ServerConfig,
    shutdown: Shutdown,
) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(config.listen_addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen_addr,
            source,
        })?;
    serve_on(listener, service, config, shutdown).await
}

/// [`serve`] on a listener the caller bound (tests bind port 0). Handlers can read the peer's
/// address with `ConnectInfo<SocketAddr>`.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    service: Service,
    config: &ServerConfig,
    shutdown: Shutdown,
) -> Result<(), ServeError> {
    let name = service.name.clone();
    let readiness = service.readiness.clone();
    let app = service.into_router(config);
    let addr = listener.local_addr()?;
    tracing::info!(service = %name, %addr, "listening");

    let draining = shutdown.clone();
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    // Small JSON answers go out at once rather than waiting on Nagle's algorithm.
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
    });
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        draining.wait().await;
        readiness.start_draining();
    });
    let grace = config.shutdown_grace;
    let deadline = async {
        shutdown.wait().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        biased;
        result = server => result?,
        () = deadline => tracing::warn!(grace_ms = grace.as_millis(), "grace period over; exiting with requests in flight"),
    }
    tracing::info!(service = %name, "stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http::StatusCode;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    fn config() -> ServerConfig {
        ServerConfig {
            listen_addr: "127.0.0.1:0".parse().unwrap(),
            body_limit_bytes: 1024,
            request_timeout: Duration::from_millis(200),
            shutdown_grace: Duration::from_secs(5),
        }
    }

    fn service() -> Service {
        let routes = Router::new()
            .route("/items/{id}", get(|| async { "item" }))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .route(
                "/panic",
                get(|| async {
                    if std::hint::black_box(true) {
                        panic!("boom");
                    }
                    "unreachable"
                }),
            );
        Service::new("test", routes)
            .readiness(Readiness::new().with_check("db", || async { Ok(()) }))
            .openapi(utoipa::openapi::OpenApiBuilder::new().build())
    }

    async fn get_path(path: &str) -> (StatusCode, http::HeaderMap, String) {
        let response = service()
            .into_router(&config())
            .oneshot(http::Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    #[tokio::test]
    async fn platform_endpoints_are_served() {
        assert_eq!(get_path("/healthz").await.0, StatusCode::OK);
        let (status, _, body) = get_path("/readyz").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains(r#""db":"ok""#), "{body}");
        let (status, _, body) = get_path("/openapi.json").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("openapi"), "{body}");
    }

    #[tokio::test]
    async fn every_response_carries_a_request_id_and_keeps_the_callers() {
        let (_, headers, _) = get_path("/items/1").await;
        assert_eq!(headers[&REQUEST_ID].len(), 36, "a generated UUID");

        let response = service()
            .into_router(&config())
            .oneshot(
                http::Request::get("/items/1")
                    .header(&REQUEST_ID, "abc-123")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.headers()[&REQUEST_ID], "abc-123");
    }

    #[tokio::test]
    async fn unknown_path_and_wrong_method_are_problems() {
        let (status, headers, body) = get_path("/nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            headers[http::header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert!(body.contains("/nope"), "{body}");

        let response = service()
            .into_router(&config())
            .oneshot(
                http::Request::delete("/items/1")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            response.headers()[http::header::CONTENT_TYPE],
            "application/problem+json"
        );
    }

    #[tokio::test]
    async fn a_panic_is_a_500_problem_and_the_server_lives_on() {
        let (status, headers, body) = get_path("/panic").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            headers[http::header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert!(!body.contains("boom"), "internals stay out: {body}");
    }

    #[tokio::test]
    async fn a_slow_request_is_abandoned_with_a_503() {
        let (status, headers, _) = get_path("/slow").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(headers.contains_key(http::header::RETRY_AFTER));
    }

    #[tokio::test]
    async fn metrics_count_requests_by_route_template_and_status() {
        let router = service().into_router(&config());
        for path in ["/items/1", "/items/2", "/nope"] {
            router
                .clone()
                .oneshot(http::Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
        }
        let (_, _, body) = get_path("/metrics").await;
        let line = |route: &str, status: &str| {
            body.lines()
                .find(|l| {
                    l.starts_with("http_requests_total{")
                        && l.contains(&format!("route=\"{route}\""))
                        && l.contains(&format!("status=\"{status}\""))
                })
                .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        };
        assert!(line("/items/{id}", "200").unwrap() >= 2.0, "{body}");
        assert!(line("<unmatched>", "404").unwrap() >= 1.0, "{body}");
        assert!(
            body.contains("http_request_duration_seconds_bucket{"),
            "latency is a histogram: {body}"
        );
        assert!(
            !body.contains("route=\"/items/1\""),
            "raw paths are never labels"
        );
    }

    #[tokio::test]
    async fn shutdown_drains_in_flight_requests_and_fails_readiness() {
        let routes = Router::new().route(
            "/work",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                "done"
            }),
        );
        let readiness = Readiness::new();
        let service = Service::new("drain", routes).readiness(readiness.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let mut config = config();
        config.request_timeout = Duration::from_secs(5);
        let server = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { serve_on(listener, service, &config, shutdown).await }
        });

        crate::install_crypto_provider();
        let client = reqwest::Client::new();
        let in_flight = tokio::spawn({
            let client = client.clone();
            async move {
                client
                    .get(format!("http://{addr}/work"))
                    .send()
                    .await?
                    .text()
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        shutdown.trigger();

        assert_eq!(in_flight.await.unwrap().unwrap(), "done");
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("the server stops after draining")
            .unwrap()
            .unwrap();
        assert!(
            readiness.run().await.is_ok(),
            "checks themselves still pass"
        );
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "no longer accepting"
        );
    }
}
