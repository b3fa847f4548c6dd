//! Load figures for the users service, against the test PostgreSQL server
//! (`STOREFRONT_POSTGRES_URL`): login throughput (argon2-bound), `GET /api/users/me` requests/s
//! and latency percentiles at 64 connections, and kit JWT verifications per second on one core.
//! Prints figures only; it never fails on timing. Run with `--release`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::{Connection, PgConnection};
use storefront_kit::testing::{postgres_url, unique_name, with_database};
use storefront_kit::{Env, JwtSettings, JwtVerifier, Shutdown, serve_on};
use storefront_users::{AppState, Config, MIGRATOR};

const PASSWORD: &str = "a sturdy benchmark passphrase";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    storefront_kit::install_crypto_provider();
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let server = postgres_url();
    let database = unique_name("users_bench");
    let mut admin = PgConnection::connect(&server).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&mut admin)
        .await?;
    let url = with_database(&server, &database);

    // The registration's verification mail goes to a scratch directory, not the working one.
    let mail_dir = std::env::temp_dir().join(format!("storefront-{database}-mail"));
    let result = run(&url, &mail_dir, Duration::from_secs(seconds)).await;
    let _ = std::fs::remove_dir_all(&mail_dir);

    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await?;
    result
}

async fn run(
    url: &str,
    mail_dir: &std::path::Path,
    duration: Duration,
) -> Result<(), Box<dyn std::error::Error>> {
    let mail_dir = mail_dir.display().to_string();
    let config = Config::from_env(&Env::from_map(
        "USERS",
        [
            ("USERS_DATABASE_URL", url),
            ("USERS_MAIL_DIR", &mail_dir),
            ("USERS_DATABASE_MAX_CONNECTIONS", "32"),
            ("USERS_LOGIN_MAX_FAILURES_PER_CLIENT", "1000000"),
            ("USERS_MAIL_LIMIT_PER_EMAIL", "1000000"),
            ("USERS_MAIL_LIMIT_PER_CLIENT", "1000000"),
        ],
    ))?;
    let db = sqlx::postgres::PgPoolOptions::new()
        .max_connections(32)
        .connect(url)
        .await?;
    MIGRATOR.run(&db).await?;
    let state = AppState::new(db, &config).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let shutdown = Shutdown::new();
    let server = tokio::spawn({
        let service = storefront_users::service(state.clone());
        let server_config = config.server.clone();
        let shutdown = shutdown.clone();
        async move { serve_on(listener, service, &server_config, shutdown).await }
    });

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .build()?;
    http.post(format!("{base}/api/users/register"))
        .json(&json!({"email": "bench@shop.example", "password": PASSWORD}))
        .send()
        .await?;

    // Logins: as many in flight as the hash concurrency allows, for `duration`.
    let logins = load(16, duration, {
        let http = http.clone();
        let base = base.clone();
        move || {
            let http = http.clone();
            let base = base.clone();
            async move {
                http.post(format!("{base}/api/users/login"))
                    .json(&json!({"email": "bench@shop.example", "password": PASSWORD}))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        }
    })
    .await;
    report("POST /api/users/login (16 connections)", &logins, duration);

    let token = http
        .post(format!("{base}/api/users/login"))
        .json(&json!({"email": "bench@shop.example", "password": PASSWORD}))
        .send()
        .await?
        .json::<serde_json::Value>()
        .await?["accessToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let me = load(64, duration, {
        let http = http.clone();
        let base = base.clone();
        let token = token.clone();
        move || {
            let http = http.clone();
            let base = base.clone();
            let token = token.clone();
            async move {
                http.get(format!("{base}/api/users/me"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        }
    })
    .await;
    report("GET /api/users/me (64 connections)", &me, duration);

    // Forgotten password for an address in use and for one nobody uses, one request at a time,
    // alternating: the two must not be told apart by their timing.
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    let deadline = Instant::now() + duration;
    while Instant::now() < deadline {
        for (email, latencies) in [
            ("bench@shop.example", &mut known),
            ("nobody@shop.example", &mut unknown),
        ] {
            let started = Instant::now();
            let accepted = http
                .post(format!("{base}/api/users/password/forgot"))
                .json(&json!({ "email": email }))
                .send()
                .await
                .is_ok_and(|r| r.status() == reqwest::StatusCode::ACCEPTED);
            if accepted {
                latencies.push(started.elapsed());
            }
        }
    }
    known.sort();
    unknown.sort();
    let median = |latencies: &[Duration]| {
        latencies
            .get(latencies.len() / 2)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "POST /api/users/password/forgot (one connection, alternating): known address p50 {:.3} ms \
         ({} requests), unknown address p50 {:.3} ms ({} requests), known/unknown {:.2}×",
        median(&known),
        known.len(),
        median(&unknown),
        unknown.len(),
        median(&known) / median(&unknown).max(f64::MIN_POSITIVE),
    );

    shutdown.trigger();
    let _ = server.await;

    // JWT verification in the kit, on one core (a current-thread runtime on its own thread).
    let jwks = serde_json::from_value(serde_json::to_value(state.keys.jwks())?)?;
    let verifier = JwtVerifier::from_jwks(
        &JwtSettings {
            jwks_url: String::new(),
            issuer: config.tokens.issuer.clone(),
            audience: config.tokens.audience.clone(),
        },
        jwks,
    );
    let verifications = std::thread::spawn(move || -> Result<(u64, Duration), String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let started = Instant::now();
            let mut count = 0u64;
            while started.elapsed() < Duration::from_secs(2) {
                for _ in 0..1000 {
                    verifier.verify(&token).await.map_err(|e| e.to_string())?;
                }
                count += 1000;
            }
            Ok((count, started.elapsed()))
        })
    })
    .join()
    .map_err(|_| "verification thread panicked")??;
    let per_second = verifications.0 as f64 / verifications.1.as_secs_f64();
    println!(
        "kit JwtVerifier::verify (EdDSA, one core): {per_second:.0}/s (target ≥ 50000: {:.2}×)",
        per_second / 50_000.0
    );
    Ok(())
}

struct Outcome {
    ok: u64,
    failed: u64,
    latencies: Vec<Duration>,
}

/// Runs `connections` loops of `request` for `duration`.
async fn load<F, Fut>(connections: usize, duration: Duration, request: F) -> Outcome
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let deadline = Instant::now() + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let request = Arc::clone(&request);
            tokio::spawn(async move {
                let mut outcome = Outcome {
                    ok: 0,
                    failed: 0,
                    latencies: Vec::new(),
                };
                while Instant::now() < deadline {
                    let started = Instant::now();
                    if request().await {
                        outcome.ok += 1;
                    } else {
                        outcome.failed += 1;
                    }
                    outcome.latencies.push(started.elapsed());
                }
                outcome
            })
        })
        .collect();
    let mut total = Outcome {
        ok: 0,
        failed: 0,
        latencies: Vec::new(),
    };
    for task in tasks {
        if let Ok(outcome) = task.await {
            total.ok += outcome.ok;
            total.failed += outcome.failed;
            total.latencies.extend(outcome.latencies);
        }
    }
    total.latencies.sort();
    total
}

fn report(name: &str, outcome: &Outcome, duration: Duration) {
    let percentile = |p: f64| {
        let n = outcome.latencies.len();
        if n == 0 {
            return 0.0;
        }
        let index = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
        outcome.latencies[index].as_secs_f64() * 1000.0
    };
    println!(
        "{name}: {:.0} ok/s, {} failed, p50 {:.1} ms, p99 {:.1} ms",
        outcome.ok as f64 / duration.as_secs_f64(),
        outcome.failed,
        percentile(0.50),
        percentile(0.99),
    );
}
