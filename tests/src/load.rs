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
    measure(workers, duration, request).await.figures()
}

/// Latencies and failures of one or more load phases, kept raw so phases can be pooled.
#[derive(Debug, Clone, Default)]
pub struct Samples {
    latencies_ms: Vec<f64>,
    errors: usize,
    measured: Duration,
}

impl Samples {
    pub fn figures(mut self) -> Figures {
        self.latencies_ms.sort_by(f64::total_cmp);
        Figures {
            rate: self.latencies_ms.len() as f64 / self.measured.as_secs_f64(),
            p50_ms: percentile(&self.latencies_ms, 0.50),
            p99_ms: percentile(&self.latencies_ms, 0.99),
            errors: self.errors,
        }
    }
}

/// [`run`], answering the raw samples.
pub async fn measure<F, Fut>(workers: usize, duration: Duration, request: F) -> Samples
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
    let mut samples = Samples {
        measured: duration,
        ..Default::default()
    };
    for task in tasks {
        if let Ok((l, e)) = task.await {
            samples.latencies_ms.extend(l);
            samples.errors += e;
        }
    }
    samples
}

/// Two ways of doing the same thing, measured together: each of `workers` tasks alternates
/// between them call by call (half the workers start with `a`, half with `b`) for twice
/// `duration`, so whatever else loads the machine meanwhile weighs on both alike and their ratio
/// compares like with like.
pub async fn compare<FA, FutA, FB, FutB>(
    workers: usize,
    duration: Duration,
    a: FA,
    b: FB,
) -> (Figures, Figures)
where
    FA: Fn(usize) -> FutA + Clone + Send + 'static,
    FutA: Future<Output = bool> + Send,
    FB: Fn(usize) -> FutB + Clone + Send + 'static,
    FutB: Future<Output = bool> + Send,
{
    let deadline = Instant::now() + duration * 2;
    let tasks: Vec<_> = (0..workers)
        .map(|worker| {
            let (a, b) = (a.clone(), b.clone());
            tokio::spawn(async move {
                let (mut first, mut second) = (Samples::default(), Samples::default());
                let mut i = worker;
                while Instant::now() < deadline {
                    let a_turn = (i / workers) % 2 == worker % 2;
                    let started = Instant::now();
                    let (ok, side) = if a_turn {
                        (a(i).await, &mut first)
                    } else {
                        (b(i).await, &mut second)
                    };
                    if ok {
                        side.latencies_ms
                            .push(started.elapsed().as_secs_f64() * 1000.0);
                    } else {
                        side.errors += 1;
                    }
                    i += workers;
                }
                (first, second)
            })
        })
        .collect();
    // Each side ran for the whole time, sharing it with the other.
    let mut first = Samples {
        measured: duration * 2,
        ..Default::default()
    };
    let mut second = first.clone();
    for task in tasks {
        if let Ok((a, b)) = task.await {
            first.latencies_ms.extend(a.latencies_ms);
            first.errors += a.errors;
            second.latencies_ms.extend(b.latencies_ms);
            second.errors += b.errors;
        }
    }
    (first.figures(), second.figures())
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

    #[tokio::test]
    async fn compare_measures_both_sides_with_their_own_failures() {
        let duration = Duration::from_millis(200);
        let (fast, failing) = compare(
            2,
            duration,
            |_| async { true },
            |i| async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                i % 2 == 0
            },
        )
        .await;
        assert!(fast.rate > failing.rate);
        assert_eq!(fast.errors, 0);
        assert!(failing.errors > 0);
        assert!(failing.p50_ms >= 5.0);
    }
}
