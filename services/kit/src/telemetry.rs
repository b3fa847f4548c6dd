//! Logs and traces. JSON log lines (one per event) carry the request id and the W3C trace id of
//! the request being served; incoming `traceparent` headers continue the caller's trace and
//! [`inject_trace_context`] carries it on to the services we call.

use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::trace::{TraceContextExt, TraceId, TracerProvider as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry};

#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("RUST_LOG is not a valid filter: {0}")]
    Filter(#[from] tracing_subscriber::filter::ParseError),
    #[error("a global tracing subscriber is already installed")]
    AlreadyInstalled(#[from] tracing_subscriber::util::TryInitError),
}

/// Keeps the tracer provider alive; dropping it flushes and shuts tracing down.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkTracerProvider,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("tracing shutdown: {error}");
        }
    }
}

/// Installs the global subscriber: `RUST_LOG` filter (default `info`), JSON lines on stdout
/// (`LOG_FORMAT=text` for a terminal), and OpenTelemetry spans with W3C trace context.
pub fn init(service_name: &str) -> Result<Telemetry, TelemetryError> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.trim().is_empty() => EnvFilter::try_new(directives)?,
        _ => EnvFilter::new("info"),
    };
    let provider = tracer_provider(service_name);
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer(service_name.to_owned()));
    let text = std::env::var("LOG_FORMAT").is_ok_and(|f| f == "text");
    let registry = Registry::default().with(filter).with(otel);
    if text {
        registry
            .with(tracing_subscriber::fmt::layer().with_target(false))
            .try_init()?;
    } else {
        registry.with(json_layer()).try_init()?;
    }
    Ok(Telemetry { provider })
}

/// The provider that assigns trace and span ids. Spans are not exported anywhere by default;
/// the ids still tie log lines together and travel on to downstream services.
pub fn tracer_provider(service_name: &str) -> SdkTracerProvider {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    SdkTracerProvider::builder()
        .with_resource(
            Resource::builder()
                .with_service_name(service_name.to_owned())
                .build(),
        )
        .build()
}

/// JSON log lines; fields of every enclosing span (request id, trace id, route) go on each line.
pub fn json_layer<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(true)
        .with_target(true)
}

/// Continues the trace named by the `traceparent` header (if any) in `span`, and records the trace
/// id in the span's `trace_id` field. Returns the trace id.
pub fn continue_trace(span: &Span, headers: &HeaderMap) -> Option<TraceId> {
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(headers))
    });
    // Fails only when no OpenTelemetry layer is installed; then there is no trace to continue.
    span.set_parent(parent).ok()?;
    let trace_id = span.context().span().span_context().trace_id();
    if trace_id == TraceId::INVALID {
        return None;
    }
    span.record("trace_id", tracing::field::display(trace_id));
    Some(trace_id)
}

/// Adds `traceparent` (and `tracestate`) for the current span to an outgoing request's headers.
pub fn inject_trace_context(headers: &mut HeaderMap) {
    let context = Span::current().context();
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&context, &mut HeaderInjector(headers));
    });
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_tracing<T>(f: impl FnOnce() -> T) -> T {
        let provider = tracer_provider("test");
        let subscriber = Registry::default()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        tracing::subscriber::with_default(subscriber, f)
    }

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn incoming_traceparent_is_continued() {
        let mut headers = HeaderMap::new();
        headers.insert("traceparent", HeaderValue::from_static(PARENT));
        let trace_id = with_tracing(|| {
            let span = tracing::info_span!("request", trace_id = tracing::field::Empty);
            continue_trace(&span, &headers)
        });
        assert_eq!(
            trace_id.map(|t| t.to_string()).as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
    }

    #[test]
    fn request_without_traceparent_starts_a_new_trace() {
        let trace_id = with_tracing(|| {
            let span = tracing::info_span!("request", trace_id = tracing::field::Empty);
            continue_trace(&span, &HeaderMap::new())
        });
        let trace_id = trace_id.expect("a fresh trace id");
        assert_ne!(trace_id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
    }

    #[test]
    fn outgoing_requests_carry_the_current_trace() {
        let mut incoming = HeaderMap::new();
        incoming.insert("traceparent", HeaderValue::from_static(PARENT));
        let outgoing = with_tracing(|| {
            let span = tracing::info_span!("request", trace_id = tracing::field::Empty);
            continue_trace(&span, &incoming);
            let _entered = span.enter();
            let mut outgoing = HeaderMap::new();
            inject_trace_context(&mut outgoing);
            outgoing
        });
        let traceparent = outgoing["traceparent"].to_str().unwrap();
        assert!(
            traceparent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
            "{traceparent}"
        );
        assert!(
            !traceparent.contains("00f067aa0ba902b7"),
            "the child span has its own id"
        );
    }
}
