//! Scale benchmark (ignored by default; `cargo xtask bench operator` runs it): N Storefronts
//! (default 300, `STOREFRONT_BENCH_COUNT`) created at once on the local control plane, with the
//! operator binary reconciling them. Prints time until all are Ready, reconcile latency p50/p99
//! (from the operator's histogram), API requests per reconcile and the operator's peak RSS.
//! Reports figures; never fails on timing.
//!
//! `STOREFRONT_BENCH_DATABASES=external` points every Storefront at external databases: no
//! StatefulSets and no volumes, so the figures show the operator rather than the simulated
//! cluster's volume binding (the PersistentVolume controller binds claims one at a time).

mod harness;

use std::time::{Duration, Instant};

use harness::{OperatorProcess, client, minimal_example, namespace, set_volume_pool};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, PostParams};
use storefront_operator::Storefront;

/// Reported, not asserted: the run stops waiting after this.
const TIMEOUT: Duration = Duration::from_secs(600);

fn external_databases() -> bool {
    std::env::var("STOREFRONT_BENCH_DATABASES").is_ok_and(|v| v == "external")
}

fn count() -> usize {
    std::env::var("STOREFRONT_BENCH_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

/// Sum of a metric's samples (all label sets) in a Prometheus text exposition.
fn metric(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.starts_with(name)
                && (l[name.len()..].starts_with(' ') || l[name.len()..].starts_with('{'))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Quantile `q` from cumulative histogram buckets, interpolated linearly inside the bucket.
fn quantile(text: &str, name: &str, q: f64) -> f64 {
    let prefix = format!("{name}_bucket{{le=\"");
    let mut buckets: Vec<(f64, f64)> = text
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .filter_map(|rest| {
            let (le, value) = rest.split_once("\"} ")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, value.trim().parse().ok()?))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last().map(|b| b.1).unwrap_or(0.0);
    let target = q * total;
    let (mut lower, mut below) = (0.0, 0.0);
    for (le, cumulative) in buckets {
        if cumulative >= target {
            if le.is_infinite() {
                return lower;
            }
            let share = if cumulative > below {
                (target - below) / (cumulative - below)
            } else {
                1.0
            };
            return lower + (le - lower) * share;
        }
        lower = le;
        below = cumulative;
    }
    lower
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "scale benchmark: run with `cargo xtask bench operator`"]
async fn operator_scale() {
    let n = count();
    let external = external_databases();
    set_volume_pool(if external { 0 } else { n * 4 + 20 });
    let setup = Instant::now();
    let client = client().await;
    eprintln!(
        "control plane ready in {:.1}s",
        setup.elapsed().as_secs_f64()
    );
    let ns = namespace(&client, "bench").await;
    let operator =
        OperatorProcess::spawn_with(&ns, "bench-operator", &[("STOREFRONT_CONCURRENCY", "16")]);
    let pid = operator.child.id();

    let api: Api<Storefront> = Api::namespaced(client.clone(), &ns);
    let started = Instant::now();
    for i in 0..n {
        let mut sf = minimal_example();
        sf.metadata.name = Some(format!("shop-{i:03}"));
        sf.spec.host = format!("shop-{i:03}.example.com");
        if external {
            let db: storefront_operator::crd::DatabaseSpec = serde_json::from_value(
                serde_json::json!({"external": {"secretRef": {"name": "cloud-db"}}}),
            )
            .expect("external database");
            sf.spec.databases.postgres = db.clone();
            sf.spec.databases.redis = db.clone();
            sf.spec.databases.mongodb = db.clone();
            sf.spec.databases.opensearch = db;
        }
        api.create(&PostParams::default(), &sf)
            .await
            .expect("create");
    }
    let created = started.elapsed();
    let mut peak_rss = 0u64;
    let mut last_report = Instant::now();
    let (ready, ready_after) = loop {
        peak_rss = peak_rss.max(rss_kib(pid, "VmRSS:"));
        let ready = match api.list(&ListParams::default()).await {
            Ok(list) => list
                .items
                .iter()
                .filter(|sf| sf.condition("Ready").is_some_and(|c| c.status == "True"))
                .count(),
            Err(_) => 0,
        };
        if ready == n || started.elapsed() > TIMEOUT {
            break (ready, started.elapsed());
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            last_report = Instant::now();
            let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
            let pending = pods
                .list(&ListParams::default())
                .await
                .map(|l| {
                    l.items
                        .iter()
                        .filter(|p| {
                            p.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Running")
                        })
                        .count()
                })
                .unwrap_or(0);
            eprintln!(
                "  {:>5.0}s: {ready}/{n} Ready, {pending} pods not running",
                started.elapsed().as_secs_f64()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    // Let the queue drain so the figures cover the whole run.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let text = operator.metrics().await.unwrap_or_default();
    let reconciles = metric(&text, "storefront_operator_reconciles_total");
    let requests = metric(&text, "storefront_operator_api_requests_total");
    let errors = metric(&text, "storefront_operator_reconcile_errors_total");
    let hwm = rss_kib(pid, "VmHWM:");
    println!(
        "operator bench: {n} Storefronts, {} databases",
        if external { "external" } else { "managed" }
    );
    println!("  created in            {:>8.1} s", created.as_secs_f64());
    println!(
        "  {ready}/{n} Ready after {:>8.1} s (target: all within 300 s)",
        ready_after.as_secs_f64()
    );
    println!(
        "  reconciles            {reconciles:>8.0} ({:.1} per Storefront), errors {errors:.0}",
        reconciles / n as f64
    );
    println!(
        "  reconcile p50 / p99   {:>8.0} / {:.0} ms",
        quantile(&text, "storefront_operator_reconcile_duration_seconds", 0.5) * 1000.0,
        quantile(
            &text,
            "storefront_operator_reconcile_duration_seconds",
            0.99
        ) * 1000.0
    );
    println!(
        "  API requests          {requests:>8.0} ({:.1} per reconcile)",
        requests / reconciles.max(1.0)
    );
    // The most frequent reconcile errors, from the operator's JSON log.
    let log = harness::control_plane()
        .dir
        .join("operator-bench-operator.log");
    let mut causes: std::collections::BTreeMap<String, usize> = Default::default();
    for line in std::fs::read_to_string(&log).unwrap_or_default().lines() {
        if line.contains("reconcile failed") {
            let cause = line
                .split("\"error\":\"")
                .nth(1)
                .map(|e| e.chars().take(120).collect::<String>())
                .unwrap_or_default();
            *causes.entry(cause).or_default() += 1;
        }
    }
    let mut causes: Vec<_> = causes.into_iter().collect();
    causes.sort_by_key(|c| std::cmp::Reverse(c.1));
    for (cause, count) in causes.iter().take(3) {
        println!("  error x{count}: {cause}");
    }
    println!(
        "  operator RSS peak     {:>8.1} MiB (sampled {:.1} MiB; target 150 MiB)",
        hwm as f64 / 1024.0,
        peak_rss as f64 / 1024.0
    );
}
