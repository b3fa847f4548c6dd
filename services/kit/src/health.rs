//! Liveness and readiness. `/healthz` answers while the process runs; `/readyz` runs every
//! dependency check of the service concurrently (each bounded by a timeout) and answers 503 with
//! the failing checks, or while the service is shutting down.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::extract::Json;
use crate::problem::Problem;

type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type CheckFn = Arc<dyn Fn() -> CheckFuture + Send + Sync>;

/// The dependency checks behind `/readyz`, and whether the service is draining.
#[derive(Clone, Default)]
pub struct Readiness {
    checks: Vec<(String, CheckFn)>,
    timeout: Option<Duration>,
    draining: Arc<AtomicBool>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.checks.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Readiness").field("checks", &names).finish()
    }
}

#[derive(Debug, Serialize)]
struct ReadyBody {
    status: &'static str,
    checks: BTreeMap<String, String>,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a named check, e.g. `"postgres"` running `SELECT 1`. An `Err` carries what failed.
    pub fn with_check<F, Fut>(mut self, name: &str, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.checks
            .push((name.to_owned(), Arc::new(move || Box::pin(check()))));
        self
    }

    /// How long one check may take before it counts as failed (default 2 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// From now on `/readyz` answers 503 so load balancers stop sending new requests.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Runs every check; `Ok` lists them all as `"ok"`, `Err` says which failed and why.
    pub async fn run(&self) -> Result<BTreeMap<String, String>, BTreeMap<String, String>> {
        let timeout = self.timeout.unwrap_or(Duration::from_secs(2));
        let runs = self.checks.iter().map(|(name, check)| {
            let check = Arc::clone(check);
            let name = name.clone();
            async move {
                let outcome = match tokio::time::timeout(timeout, check()).await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(error)) => Err(error),
                    Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
                };
                (name, outcome)
            }
        });
        let outcomes = futures::future::join_all(runs).await;
        let failed = outcomes.iter().any(|(_, o)| o.is_err());
        let report = outcomes
            .into_iter()
            .map(|(name, outcome)| (name, outcome.err().unwrap_or_else(|| "ok".to_owned())))
            .collect();
        if failed { Err(report) } else { Ok(report) }
    }
}

/// `GET /healthz`: the process is alive.
pub async fn healthz() -> Response {
    Json(serde_json::json!({ "status": "alive" })).into_response()
}

/// `GET /readyz`: every dependency answers and the service is not draining.
pub async fn readyz(State(readiness): State<Readiness>) -> Response {
    if readiness.draining.load(Ordering::SeqCst) {
        return Problem::service_unavailable("The service is shutting down.", 1).into_response();
    }
    match readiness.run().await {
        Ok(checks) => Json(ReadyBody {
            status: "ready",
            checks,
        })
        .into_response(),
        Err(checks) => {
            let failing: Vec<String> = checks
                .iter()
                .filter(|(_, v)| v.as_str() != "ok")
                .map(|(name, why)| format!("{name}: {why}"))
                .collect();
            Problem::service_unavailable(format!("Not ready: {}", failing.join("; ")), 5)
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn all_checks_passing_is_ready() {
        let readiness = Readiness::new()
            .with_check("postgres", || async { Ok(()) })
            .with_check("redis", || async { Ok(()) });
        let report = readiness.run().await.unwrap();
        assert_eq!(report["postgres"], "ok");
        assert_eq!(report["redis"], "ok");
    }

    #[tokio::test]
    async fn a_failing_check_is_reported_by_name() {
        let readiness = Readiness::new()
            .with_check("postgres", || async { Ok(()) })
            .with_check("redis", || async { Err("connection refused".to_owned()) });
        let report = readiness.run().await.unwrap_err();
        assert_eq!(report["redis"], "connection refused");
        assert_eq!(report["postgres"], "ok");
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_check_times_out() {
        let readiness = Readiness::new()
            .with_timeout(Duration::from_millis(50))
            .with_check("search", std::future::pending);
        let report = readiness.run().await.unwrap_err();
        assert_eq!(report["search"], "no answer within 50 ms");
    }
}
