//! Cart load figures: the release `storefront-cart` binary runs as its own process (on fresh
//! databases and a Redis key prefix) in front of a catalog served in-process. Measured at 64
//! connections: add-to-cart and get-cart requests per second with p50/p99, beside the catalog's
//! own SKU lookup (every priced cart line is one) for scale; then checkout
//! throughput (orders per second) when more shoppers than units race for one SKU, with the
//! oversell check printed; and the service's idle RSS after start-up and after a warm-up. Prints
//! figures only. Run with `--release` (`cargo xtask bench cart`, which builds the binary first).

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use storefront_kit::testing::{access_token, create_database, drop_database, test_jwks};
use storefront_tests::load::{percentile, phase_seconds, print_row, run};
use storefront_tests::release::ReleaseService;
use storefront_tests::stack::RunningCatalog;
use storefront_tests::{redis_url, unique_name};

const CONNECTIONS: usize = 64;
/// SKUs a shopper's cart draws from in the add phase (a cart holds at most one of each).
const CART_SKUS: usize = 5;
/// Checkout race: shoppers with one unit each in their cart, and the units in stock.
const RACERS: usize = 600;
const RACE_STOCK: i64 = 400;
const RACE_SKU: &str = "RACE-1";

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    storefront_kit::install_crypto_provider();
    let seconds = phase_seconds();
    let duration = Duration::from_secs(seconds);

    let catalog = RunningCatalog::start().await;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .timeout(Duration::from_secs(30))
        .build()?;
    let admin = access_token("bench-admin", &["admin"]);
    let skus: Vec<String> = (0..CART_SKUS).map(|i| format!("BENCH-{i}")).collect();
    for sku in &skus {
        product(&http, &catalog.url, &admin, sku, 1_000_000).await?;
    }
    product(&http, &catalog.url, &admin, RACE_SKU, RACE_STOCK).await?;

    let jwks = jwks_server().await?;
    let (database_url, database) = create_database("orders_bench").await;
    let prefix = format!("{}:", unique_name("cartbench"));
    let cart = ReleaseService::start(
        "storefront-cart",
        "CART",
        &[
            ("CART_REDIS_URL", redis_url()),
            ("CART_REDIS_PREFIX", prefix.clone()),
            ("CART_DATABASE_URL", database_url.clone()),
            ("CART_CATALOG_URL", catalog.url.clone()),
            ("CART_JWKS_URL", jwks.clone()),
            ("RUST_LOG", "warn".to_owned()),
        ],
    )
    .await;
    let outcome = match cart {
        Ok(cart) => {
            let ledger = catalog.state.ledger.clone();
            measure(
                &http,
                &cart,
                &catalog.url,
                &ledger,
                &skus,
                duration,
                seconds,
            )
            .await
        }
        Err(error) => Err(error),
    };
    drop_database(&database).await;
    forget_redis_keys(&prefix).await;
    catalog.stop().await;
    outcome
}

async fn measure(
    http: &reqwest::Client,
    cart: &ReleaseService,
    catalog: &str,
    ledger: &sqlx::PgPool,
    skus: &[String],
    duration: Duration,
    seconds: u64,
) -> Result<(), Box<dyn Error>> {
    let base = cart.url.clone();
    let rss_started = cart.rss()?;

    // Warm-up: a few hundred requests of each kind, then idle.
    warm_up(http, &base, skus).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_idle = cart.rss()?;

    let add = run(CONNECTIONS, duration, {
        let (http, base, skus) = (http.clone(), base.clone(), skus.to_vec());
        move |i| {
            // Each request adds one SKU to a shopper's cart; a shopper gets each SKU once.
            let token = access_token(&format!("adder-{}", i / skus.len()), &["customer"]);
            let sku = skus[i % skus.len()].clone();
            let (http, url) = (http.clone(), format!("{base}/api/cart/lines"));
            async move {
                http.post(url)
                    .bearer_auth(token)
                    .json(&json!({"sku": sku, "quantity": 1}))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        }
    })
    .await;

    // Get-cart: one shopper per connection, each with three lines priced by the catalog.
    let readers: Vec<String> = (0..CONNECTIONS)
        .map(|i| access_token(&format!("reader-{i}"), &["customer"]))
        .collect();
    for token in &readers {
        for sku in skus.iter().take(3) {
            add_line(http, &base, token, sku).await?;
        }
    }
    let get = run(CONNECTIONS, duration, {
        let (http, base, readers) = (http.clone(), base.clone(), readers.clone());
        move |i| {
            let token = readers[i % readers.len()].clone();
            let (http, url) = (http.clone(), format!("{base}/api/cart"));
            async move {
                http.get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        }
    })
    .await;

    let lookup = run(CONNECTIONS, duration, {
        let (http, catalog, skus) = (http.clone(), catalog.to_owned(), skus.to_vec());
        move |i| {
            let url = format!("{catalog}/api/catalog/skus/{}", skus[i % skus.len()]);
            let http = http.clone();
            async move {
                http.get(url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        }
    })
    .await;

    println!(
        "\n{CONNECTIONS} connections, {seconds} s each              req/s     p50 ms   p99 ms   errors"
    );
    print_row("add to cart (POST /api/cart/lines)", &add);
    print_row("get cart, 3 lines (GET /api/cart)", &get);
    print_row("catalog SKU lookup alone", &lookup);
    println!(
        "catalog lookups per second made for the cart: add {:.0} (4 per answer on average: the \
         SKU, then the cart's 1–5 lines), get {:.0} (3 per answer); {:.0} alone",
        add.rate * 4.0,
        get.rate * 3.0,
        lookup.rate
    );

    checkout_race(http, &cart.url, ledger).await?;

    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_after = cart.rss()?;
    println!(
        "cart RSS (release binary): {:.1} MB after start-up, {:.1} MB idle after warm-up, \
         {:.1} MB idle after the load",
        rss_started as f64 / 1e6,
        rss_idle as f64 / 1e6,
        rss_after as f64 / 1e6
    );
    Ok(())
}

/// `RACERS` shoppers with one unit each in their cart check out at once, `CONNECTIONS` at a
/// time, for `RACE_STOCK` units: orders per second, and whether the ledger was oversold.
async fn checkout_race(
    http: &reqwest::Client,
    base: &str,
    ledger: &sqlx::PgPool,
) -> Result<(), Box<dyn Error>> {
    let racers: Vec<String> = (0..RACERS)
        .map(|i| access_token(&format!("racer-{i}"), &["customer"]))
        .collect();
    for token in &racers {
        add_line(http, base, token, RACE_SKU).await?;
    }
    let racers = Arc::new(racers);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (http, base, racers, next) =
                (http.clone(), base.to_owned(), racers.clone(), next.clone());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(token) = racers.get(i) else { break };
                    let sent = Instant::now();
                    let status = http
                        .post(format!("{base}/api/cart/checkout"))
                        .bearer_auth(token)
                        .header("idempotency-key", format!("race-{i}"))
                        .json(&json!({"paymentToken": "4242 4242 4242 4242"}))
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0);
                    seen.push((status, sent.elapsed().as_secs_f64() * 1000.0));
                }
                seen
            })
        })
        .collect();
    let mut replies = Vec::new();
    for worker in workers {
        replies.extend(worker.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let confirmed = replies.iter().filter(|(s, _)| *s == 201).count();
    let refused = replies.iter().filter(|(s, _)| *s == 409).count();
    let other = replies.len() - confirmed - refused;
    let mut latencies: Vec<f64> = replies.iter().map(|(_, ms)| *ms).collect();
    latencies.sort_by(f64::total_cmp);

    let (on_hand, reserved): (i64, i64) =
        sqlx::query_as("SELECT on_hand, reserved FROM inventory WHERE sku = $1")
            .bind(RACE_SKU)
            .fetch_one(ledger)
            .await?;
    let committed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM reservations r JOIN reservation_lines l USING (order_id)
          WHERE l.sku = $1 AND r.status = 'committed'",
    )
    .bind(RACE_SKU)
    .fetch_one(ledger)
    .await?;
    let sold = RACE_STOCK - on_hand;
    let oversold =
        sold > RACE_STOCK || confirmed as i64 != sold || committed != sold || on_hand < 0;
    println!(
        "\ncheckout race: {RACERS} shoppers for {RACE_STOCK} units, {CONNECTIONS} at a time: \
         {:.1} orders/s ({confirmed} confirmed in {elapsed:.2} s), {:.1} answers/s, \
         p50 {:.1} ms, p99 {:.1} ms; {refused} refused out of stock, {other} other",
        confirmed as f64 / elapsed,
        replies.len() as f64 / elapsed,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
    );
    println!(
        "oversell check: {} (ledger: {sold} sold, {committed} reservations committed, \
         {on_hand} on hand, {reserved} reserved; {confirmed} orders confirmed)",
        if oversold { "OVERSOLD" } else { "none" }
    );
    Ok(())
}

async fn warm_up(
    http: &reqwest::Client,
    base: &str,
    skus: &[String],
) -> Result<(), Box<dyn Error>> {
    for i in 0..200 {
        let token = access_token(&format!("warm-{}", i / skus.len()), &["customer"]);
        add_line(http, base, &token, &skus[i % skus.len()]).await?;
        http.get(format!("{base}/api/cart"))
            .bearer_auth(&token)
            .send()
            .await?
            .error_for_status()?;
    }
    for i in 0..20 {
        let token = access_token(&format!("warm-buyer-{i}"), &["customer"]);
        add_line(http, base, &token, &skus[0]).await?;
        http.post(format!("{base}/api/cart/checkout"))
            .bearer_auth(&token)
            .header("idempotency-key", format!("warm-{i}"))
            .json(&json!({"paymentToken": "4242424242424242"}))
            .send()
            .await?
            .error_for_status()?;
    }
    Ok(())
}

async fn add_line(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    sku: &str,
) -> Result<(), Box<dyn Error>> {
    http.post(format!("{base}/api/cart/lines"))
        .bearer_auth(token)
        .json(&json!({"sku": sku, "quantity": 1}))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// An active product with one variant of `sku`.
async fn product(
    http: &reqwest::Client,
    catalog: &str,
    admin: &str,
    sku: &str,
    stock: i64,
) -> Result<(), Box<dyn Error>> {
    let body = json!({
        "slug": sku.to_ascii_lowercase(),
        "title": format!("Bench {sku}"),
        "description": "A thing to buy.",
        "brand": "Acme",
        "status": "active",
        "categoryIds": [],
        "variants": [{"sku": sku, "price": {"amount": 1999, "currency": "EUR"}, "attributes": {}, "stock": stock}],
    });
    http.post(format!("{catalog}/api/catalog/products"))
        .bearer_auth(admin)
        .json(&body)
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

/// Serves the test key's JWKS, as the users service would.
async fn jwks_server() -> Result<String, Box<dyn Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/jwks.json", listener.local_addr()?);
    let router = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(|| async { axum::Json(test_jwks()) }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    Ok(url)
}

async fn forget_redis_keys(prefix: &str) {
    let Ok(client) = redis::Client::open(redis_url()) else {
        return;
    };
    let Ok(mut redis) = client.get_multiplexed_async_connection().await else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut redis)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: Result<(), _> = redis::cmd("DEL").arg(keys).query_async(&mut redis).await;
    }
}
