//! Search load figures on the demo catalog: query and suggest latency (p50/p99) and throughput at
//! 32 connections through the search service, the same queries sent straight to the engine in the
//! same run (the service's overhead as a ratio), and the lag from a catalog write to searchable.
//! Prints figures only; never fails on timing. Run with `--release` (`cargo xtask bench search`).

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use storefront_kit::Shutdown;
use storefront_kit::testing::{opensearch_url, unique_name};
use storefront_search::catalog::CatalogClient;
use storefront_search::engine::Engine;
use storefront_search::request::SearchRequest;
use storefront_search::sync::Follower;
use storefront_search::{AppState, query, service};
use storefront_tests::load::{compare, percentile, phase_seconds, print_row, run};
use storefront_tests::stack::{self, RunningCatalog};

const CONNECTIONS: usize = 32;
const QUERIES: &[&str] = &[
    "travel", "shirt", "lamp", "jacket", "bag", "shoe", "mug", "classic", "vintage", "light",
];
const SUGGESTIONS: &[&str] = &["tr", "sh", "la", "ja", "ba", "cl", "vi", "li", "mu", "wo"];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    storefront_kit::install_crypto_provider();
    let seconds = phase_seconds();
    let duration = Duration::from_secs(seconds);

    let catalog = RunningCatalog::start().await;
    let seeded = storefront_catalog::seed::run(&catalog.state).await?;
    let engine = Engine::connect(
        &opensearch_url(),
        &unique_name("bench"),
        Duration::from_secs(10),
    )?;
    let feed = CatalogClient::new(&catalog.url, Duration::from_secs(10))?;
    let (follower, sync) = Follower::new(engine.clone(), feed, Duration::from_millis(50));
    let shutdown = Shutdown::new();
    let following = tokio::spawn(follower.run(shutdown.clone()));

    let indexed_after = Instant::now();
    let products = seeded.products_created + seeded.already_present;
    loop {
        engine.refresh().await.ok();
        let count = engine
            .search(json!({ "size": 0, "query": { "term": { "deleted": false } } }))
            .await
            .map(|a| a["hits"]["total"]["value"].as_u64().unwrap_or(0))
            .unwrap_or(0);
        if count as usize >= products {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "demo catalog: {products} products indexed in {} ms",
        indexed_after.elapsed().as_millis()
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let app = service(AppState {
        engine: engine.clone(),
        verifier: stack::verifier(),
        sync,
    });
    let serving = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { storefront_kit::serve_on(listener, app, &stack::server_config(), shutdown).await }
    });

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()?;
    // A fresh engine is cold (JIT, caches): warm it with both kinds of query before measuring, so
    // whichever path is measured first is not the one that pays for it.
    let warm_up = Duration::from_secs(seconds.min(3));
    run(CONNECTIONS, warm_up, {
        let engine = engine.clone();
        move |i| {
            let pairs = vec![("q".to_owned(), QUERIES[i % QUERIES.len()].to_owned())];
            let engine = engine.clone();
            let text = SUGGESTIONS[i % SUGGESTIONS.len()];
            async move {
                let Ok(request) = SearchRequest::parse(&pairs) else {
                    return false;
                };
                engine.search(query::search_body(&request)).await.is_ok()
                    && engine.search(query::suggest_body(text, 8)).await.is_ok()
            }
        }
    })
    .await;
    // Each pair runs together, every connection alternating between the two, so load from
    // elsewhere on the machine weighs on both sides alike. A client of the service reads the whole answer, as the engine's client does.
    let (service_search, engine_search) = compare(
        CONNECTIONS,
        duration,
        {
            let (http, base) = (http.clone(), base.clone());
            move |i| {
                let url = format!("{base}/api/search?q={}", QUERIES[i % QUERIES.len()]);
                let http = http.clone();
                async move { read_ok(http.get(url).send().await).await }
            }
        },
        {
            let engine = engine.clone();
            move |i| {
                let pairs = vec![("q".to_owned(), QUERIES[i % QUERIES.len()].to_owned())];
                let engine = engine.clone();
                async move {
                    match SearchRequest::parse(&pairs) {
                        Ok(request) => engine.search(query::search_body(&request)).await.is_ok(),
                        Err(_) => false,
                    }
                }
            }
        },
    )
    .await;
    let (service_suggest, engine_suggest) = compare(
        CONNECTIONS,
        duration,
        {
            let (http, base) = (http.clone(), base.clone());
            move |i| {
                let url = format!(
                    "{base}/api/search/suggest?q={}",
                    SUGGESTIONS[i % SUGGESTIONS.len()]
                );
                let http = http.clone();
                async move { read_ok(http.get(url).send().await).await }
            }
        },
        {
            let engine = engine.clone();
            move |i| {
                let engine = engine.clone();
                let text = SUGGESTIONS[i % SUGGESTIONS.len()];
                async move { engine.search(query::suggest_body(text, 8)).await.is_ok() }
            }
        },
    )
    .await;

    println!(
        "\n{:<34} {:>9} {:>9} {:>8} {:>8}",
        format!("{CONNECTIONS} connections, {} s a pair", seconds * 2),
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors"
    );
    for (name, figures) in [
        ("search through the service", &service_search),
        ("search straight to the engine", &engine_search),
        ("suggest through the service", &service_suggest),
        ("suggest straight to the engine", &engine_suggest),
    ] {
        print_row(name, figures);
    }
    println!("(each pair measured together, every connection alternating between its two sides)");
    println!(
        "service p99 / engine p99: search {:.2}x, suggest {:.2}x (target ≤ 1.25x)",
        service_search.p99_ms / engine_search.p99_ms,
        service_suggest.p99_ms / engine_suggest.p99_ms
    );

    let lags = indexing_lag(&catalog, &engine, 30).await?;
    println!(
        "catalog write → searchable over {} writes: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (target p99 ≤ 2000 ms)",
        lags.len(),
        percentile(&lags, 0.50),
        percentile(&lags, 0.99),
        lags.last().copied().unwrap_or_default()
    );

    shutdown.trigger();
    following.await?;
    serving.await??;
    if let Some(index) = engine.current_index().await? {
        engine.delete_index(&index).await?;
    }
    catalog.stop().await;
    Ok(())
}

/// Whether the service answered a success and its whole body arrived.
async fn read_ok(sent: reqwest::Result<reqwest::Response>) -> bool {
    match sent {
        Ok(response) if response.status().is_success() => response.bytes().await.is_ok(),
        _ => false,
    }
}

/// Renames a product in the catalog and waits until search finds it by its new word.
async fn indexing_lag(
    catalog: &RunningCatalog,
    engine: &Engine,
    writes: usize,
) -> Result<Vec<f64>, Box<dyn std::error::Error>> {
    let http = reqwest::Client::new();
    let admin = stack::token("bench-admin", &["admin"]);
    let page: Value = http
        .get(format!("{}/api/catalog/products?limit=1", catalog.url))
        .send()
        .await?
        .json()
        .await?;
    let product = page["items"][0].clone();
    let id = product["id"].as_str().ok_or("no product")?.to_owned();
    let mut lags = Vec::new();
    for n in 0..writes {
        let word = format!("zq{n}marker");
        let mut body = product.clone();
        body["title"] = json!(format!("Benchmark {word}"));
        let body = json!({
            "slug": body["slug"], "title": body["title"], "description": body["description"],
            "brand": body["brand"], "status": "active", "categoryIds": body["categoryIds"],
            "variants": body["variants"].as_array().map(|vs| vs.iter().map(|v| json!({
                "sku": v["sku"], "title": v["title"], "price": v["price"], "attributes": v["attributes"]
            })).collect::<Vec<_>>()),
        });
        let written = Instant::now();
        let status = http
            .put(format!("{}/api/catalog/products/{id}", catalog.url))
            .bearer_auth(&admin)
            .json(&body)
            .send()
            .await?
            .status();
        if !status.is_success() {
            return Err(format!("catalog write answered {status}").into());
        }
        loop {
            let found = engine
                .search(json!({ "size": 0, "query": { "match": { "title": word } } }))
                .await
                .map(|a| a["hits"]["total"]["value"].as_u64().unwrap_or(0) > 0)
                .unwrap_or(false);
            if found {
                break;
            }
            if written.elapsed() > Duration::from_secs(30) {
                return Err("a write did not become searchable within 30 s".into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        lags.push(written.elapsed().as_secs_f64() * 1000.0);
    }
    lags.sort_by(f64::total_cmp);
    Ok(lags)
}
