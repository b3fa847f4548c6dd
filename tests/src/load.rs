//! A small closed-loop load generator for the benchmarks: N workers issue requests back to back for a
//! while, and the figures are requests per second and latency percentiles.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long each load phase lasts: `BENCH_SECONDS`, default 5.
pub fn phase_seconds() -> u64 {
    std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
}

/// What one load phase measured.
#[derive(Debug, Clone, Copy)]
pub struct Figures {
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: usize,
}

/// `workers` tasks call `request(i)` back to back for `duration`; `i` counts each worker's calls
/// (interleaved across workers). `request` answers whether the call succeeded.
pub async fn run<F, Fut>(workers: usize, duration: Duration, request: F) -> Figures
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let deadline = Instant::now() + duration;
    let tasks: Vec<_> = (0..workers)
        .map(|worker| {
            let request = request.clone();
            tokio::spawn(async move {
                let (mut latencies, mut errors, mut i) = (Vec::new(), 0, worker);
                while Instant::now() < deadline {
                    let started = Instant::now();
                    if request(i).await {
                        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                    } else {
                        errors += 1;
                    }
                    i += workers;
                }
                (latencies, errors)
            })
        })
        .collect();
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for task in tasks {
        if let Ok((l, e)) = task.await {
            latencies.extend(l);
            errors += e;
        }
    }
    latencies.sort_by(f64::total_cmp);
    Figures {
        rate: latencies.len() as f64 / duration.as_secs_f64(),
        p50_ms: percentile(&latencies, 0.50),
        p99_ms: percentile(&latencies, 0.99),
        errors,
    }
}

/// The `p` quantile of ascending `sorted` values (NaN when empty).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Prints one table row.
pub fn print_row(name: &str, figures: &Figures) {
    println!(
        "{name:<34} {:>9.0} {:>9.2} {:>8.2} {:>8}",
        figures.rate, figures.p50_ms, figures.p99_ms, figures.errors
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.5), 51.0);
        assert_eq!(percentile(&values, 0.99), 99.0);
        assert!(percentile(&[], 0.5).is_nan());
    }
}
