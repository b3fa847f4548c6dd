//! The real `storefront-search` process against real failures while the catalog keeps changing:
//! the process killed with SIGKILL mid-sync and started again, the catalog stopped and started
//! again on the same address and databases, and the engine cut off behind a TCP proxy. Each time
//! the index ends equal to the catalog: the same products at the same versions, tombstones for
//! removed and unpublished ones.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use storefront_kit::testing::{opensearch_url, unique_name};
use storefront_search::catalog::CatalogClient;
use storefront_search::engine::Engine;
use storefront_tests::proxy::TcpProxy;
use storefront_tests::stack::{self, RunningCatalog};
use tokio::process::{Child, Command};

/// How long any wait in these tests may take: a timeout for the test, not a performance figure.
const DEADLINE: Duration = Duration::from_secs(60);
const WRITERS: usize = 6;
const PRODUCTS_PER_WRITER: usize = 4;

/// The search binary as a child process, on its own port and index alias.
struct SearchProcess {
    child: Child,
    base: String,
    log: PathBuf,
}

impl SearchProcess {
    async fn start(engine_url: &str, catalog_url: &str, alias: &str) -> Self {
        let addr = free_port();
        let log = std::env::temp_dir().join(format!("{alias}.log"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_storefront-search"))
            .env("SEARCH_ELASTICSEARCH_URL", engine_url)
            .env("SEARCH_CATALOG_URL", catalog_url)
            .env(
                "SEARCH_JWKS_URL",
                "http://127.0.0.1:9/.well-known/jwks.json",
            )
            .env("SEARCH_INDEX_ALIAS", alias)
            .env("SEARCH_LISTEN_ADDR", addr.to_string())
            .env("SEARCH_SYNC_POLL_MS", "50")
            .env("SEARCH_SHUTDOWN_GRACE_SECONDS", "1")
            .stdin(std::process::Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .kill_on_drop(true)
            .spawn()
            .expect("the search binary starts");
        let mut process = Self {
            child,
            base: format!("http://{addr}"),
            log,
        };
        process.wait_until_serving().await;
        process
    }

    async fn wait_until_serving(&mut self) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                panic!("search exited ({status}); its log:\n{}", self.log_text());
            }
            let health = reqwest::get(format!("{}/healthz", self.base)).await;
            if health.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "search did not start; its log:\n{}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown hook runs, whatever the follower was doing is cut short.
    async fn kill(mut self) {
        self.child.kill().await.expect("SIGKILL");
    }

    async fn sync_status(&self) -> Value {
        get_json(&format!("{}/internal/sync", self.base)).await
    }

    /// Waits until the follower has applied more than `applied` changes since it started.
    async fn wait_for_progress(&self, applied: u64) {
        let started = Instant::now();
        while self.sync_status().await["changesApplied"]
            .as_u64()
            .unwrap_or(0)
            <= applied
        {
            assert!(
                started.elapsed() < DEADLINE,
                "the follower made no progress"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }
}

async fn status_applied(search: &SearchProcess) -> u64 {
    search.sync_status().await["changesApplied"]
        .as_u64()
        .unwrap_or(0)
}

fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address")
}

async fn get_json(url: &str) -> Value {
    match reqwest::get(url).await {
        Ok(response) => response.json().await.unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

/// The catalog's admin API, retrying requests the catalog could not take (while it restarts).
#[derive(Clone)]
struct CatalogAdmin {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl CatalogAdmin {
    fn new(catalog: &RunningCatalog) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: catalog.url.clone(),
            token: stack::token("admin-1", &["admin"]),
        }
    }

    /// Answers the status and body, and how many attempts it took.
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value, usize) {
        let started = Instant::now();
        let mut attempts = 0;
        loop {
            attempts += 1;
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .bearer_auth(&self.token);
            if let Some(body) = body {
                request = request.json(body);
            }
            match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    return (
                        status,
                        response.json().await.unwrap_or(Value::Null),
                        attempts,
                    );
                }
                Err(error) => {
                    assert!(
                        started.elapsed() < DEADLINE,
                        "the catalog stayed unreachable: {error}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}

fn product(n: usize, revision: usize, category: &str) -> Value {
    json!({
        "slug": format!("item-{n}"),
        "title": format!("Item {n} revision {revision}"),
        "description": "Made to last.",
        "brand": "Acme",
        "status": "active",
        "categoryIds": [category],
        "variants": [{
            "sku": format!("SKU-{n}"),
            "price": { "amount": 1000 + n as i64, "currency": "EUR" },
            "stock": 5
        }]
    })
}

/// A category and `WRITERS * PRODUCTS_PER_WRITER` products; answers the category and the products'
/// (number, id).
async fn seed(admin: &CatalogAdmin) -> (String, Vec<(usize, String)>) {
    let (status, category, _) = admin
        .send(
            reqwest::Method::POST,
            "/api/catalog/categories",
            Some(&json!({ "slug": "home", "name": "Home" })),
        )
        .await;
    assert_eq!(status, 201, "{category}");
    let category = category["id"].as_str().expect("category id").to_owned();
    let mut products = Vec::new();
    for n in 0..WRITERS * PRODUCTS_PER_WRITER {
        let (status, body, _) = admin
            .send(
                reqwest::Method::POST,
                "/api/catalog/products",
                Some(&product(n, 0, &category)),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        products.push((n, body["id"].as_str().expect("product id").to_owned()));
    }
    (category, products)
}

/// Concurrent writers revising every product, paced, until `stop` is set; then a last round in
/// which each writer removes its first product and unpublishes its second. `writes` counts the
/// writes done so far.
fn revise_concurrently(
    admin: &CatalogAdmin,
    category: &str,
    products: &[(usize, String)],
    stop: Arc<AtomicBool>,
    writes: Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<()> {
    let writers: Vec<_> = products
        .chunks(PRODUCTS_PER_WRITER)
        .map(|mine| {
            let (admin, category, mine) = (admin.clone(), category.to_owned(), mine.to_vec());
            let (stop, writes) = (stop.clone(), writes.clone());
            tokio::spawn(async move {
                let mut revision = 0;
                loop {
                    revision += 1;
                    let last = stop.load(Ordering::SeqCst);
                    for (k, (n, id)) in mine.iter().enumerate() {
                        let path = format!("/api/catalog/products/{id}");
                        let (status, body, attempts) = if last && k == 0 {
                            admin.send(reqwest::Method::DELETE, &path, None).await
                        } else {
                            let mut body = product(*n, revision, &category);
                            if last && k == 1 {
                                body["status"] = json!("draft");
                            }
                            admin.send(reqwest::Method::PUT, &path, Some(&body)).await
                        };
                        // A retried removal may find that the first attempt took effect.
                        let removed_before = last && k == 0 && attempts > 1 && status == 404;
                        assert!(
                            (200..300).contains(&status) || removed_before,
                            "{status} {body}"
                        );
                        writes.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    if last {
                        return;
                    }
                }
            })
        })
        .collect();
    tokio::spawn(async move {
        for writer in writers {
            writer.await.expect("writer");
        }
    })
}

/// The catalog's feed from the start: product id → (version, hidden), the number of product
/// changes, and the last cursor.
async fn catalog_truth(
    catalog: &CatalogClient,
) -> (BTreeMap<String, (i64, bool)>, usize, Option<String>) {
    let (mut truth, mut product_changes) = (BTreeMap::new(), 0);
    let mut after: Option<String> = None;
    loop {
        let page = catalog.changes(after.as_deref(), 500).await.expect("feed");
        if page.items.is_empty() {
            return (truth, product_changes, after);
        }
        for change in page.items.iter().filter(|c| c.kind == "product") {
            let hidden = change.deleted
                || change.document.as_ref().and_then(|d| d["status"].as_str()) != Some("active");
            truth.insert(change.id.clone(), (change.version, hidden));
            product_changes += 1;
        }
        after = page.next_cursor;
    }
}

/// What the index holds: product id → (version, tombstone).
async fn index_state(engine: &Engine) -> BTreeMap<String, (i64, bool)> {
    let Ok(answer) = engine
        .search(json!({
            "size": 10000,
            "query": { "match_all": {} },
            "_source": ["id", "version", "deleted"]
        }))
        .await
    else {
        return BTreeMap::new();
    };
    answer["hits"]["hits"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|hit| {
            let source = &hit["_source"];
            (
                source["id"].as_str().unwrap_or_default().to_owned(),
                (
                    source["version"].as_i64().unwrap_or(-1),
                    source["deleted"].as_bool().unwrap_or(false),
                ),
            )
        })
        .collect()
}

/// Waits until the index equals the catalog; answers the catalog's product changes and last cursor.
async fn wait_until_converged(engine: &Engine, catalog: &CatalogClient) -> (usize, String) {
    let started = Instant::now();
    loop {
        let (truth, product_changes, cursor) = catalog_truth(catalog).await;
        engine.refresh().await.ok();
        let indexed = index_state(engine).await;
        if !truth.is_empty() && truth == indexed {
            println!(
                "index equals the catalog ({} products) {} ms after the last write",
                truth.len(),
                started.elapsed().as_millis()
            );
            return (product_changes, cursor.expect("a cursor"));
        }
        assert!(
            started.elapsed() < DEADLINE,
            "index did not converge: {} in catalog, {} indexed; first difference: {:?}",
            truth.len(),
            indexed.len(),
            truth.iter().find(|(id, v)| indexed.get(*id) != Some(v))
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Tombstones are part of "equal": the removed and unpublished products are there, marked deleted.
fn assert_tombstones(indexed: &BTreeMap<String, (i64, bool)>, products: &[(usize, String)]) {
    for mine in products.chunks(PRODUCTS_PER_WRITER) {
        for (_, id) in &mine[..2] {
            assert!(
                indexed.get(id).is_some_and(|(_, deleted)| *deleted),
                "{id} is a tombstone"
            );
        }
    }
}

/// Removes every index this test's alias created (live, abandoned rebuilds, the checkpoint).
async fn remove_indices(alias: &str) {
    let engine = opensearch_url();
    let http = reqwest::Client::new();
    let Ok(response) = http.get(format!("{engine}/{alias}-*")).send().await else {
        return;
    };
    let indices: Value = response.json().await.unwrap_or(Value::Null);
    for name in indices.as_object().into_iter().flat_map(|m| m.keys()) {
        let _ = http.delete(format!("{engine}/{name}")).send().await;
    }
}

struct World {
    catalog: RunningCatalog,
    admin: CatalogAdmin,
    feed: CatalogClient,
    engine: Engine,
    alias: String,
    category: String,
    products: Vec<(usize, String)>,
}

async fn world() -> World {
    storefront_kit::install_crypto_provider();
    let catalog = RunningCatalog::start().await;
    let admin = CatalogAdmin::new(&catalog);
    let feed = CatalogClient::new(&catalog.url, Duration::from_secs(10)).expect("catalog client");
    let alias = unique_name("products");
    let engine =
        Engine::connect(&opensearch_url(), &alias, Duration::from_secs(10)).expect("engine client");
    let (category, products) = seed(&admin).await;
    World {
        catalog,
        admin,
        feed,
        engine,
        alias,
        category,
        products,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn search_killed_mid_sync_converges_after_restart() {
    let w = world().await;
    let mut search = SearchProcess::start(&opensearch_url(), &w.catalog.url, &w.alias).await;
    let (stop, writes) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let stream = revise_concurrently(
        &w.admin,
        &w.category,
        &w.products,
        stop.clone(),
        writes.clone(),
    );

    for _ in 0..3 {
        search.wait_for_progress(0).await;
        let before = writes.load(Ordering::SeqCst);
        search.kill().await;
        // The catalog keeps changing while search is down.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let while_down = writes.load(Ordering::SeqCst) - before;
        println!("search killed; {while_down} catalog writes while it was down");
        assert!(while_down > 0, "the catalog kept changing");
        search = SearchProcess::start(&opensearch_url(), &w.catalog.url, &w.alias).await;
    }
    stop.store(true, Ordering::SeqCst);
    stream.await.expect("writers");

    wait_until_converged(&w.engine, &w.feed).await;
    assert_tombstones(&index_state(&w.engine).await, &w.products);

    search.kill().await;
    remove_indices(&w.alias).await;
    w.catalog.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn catalog_restart_mid_stream_loses_and_repeats_nothing() {
    let w = world().await;
    let search = SearchProcess::start(&opensearch_url(), &w.catalog.url, &w.alias).await;
    let (stop, writes) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let stream = revise_concurrently(
        &w.admin,
        &w.category,
        &w.products,
        stop.clone(),
        writes.clone(),
    );

    search.wait_for_progress(0).await;
    let stopped = w.catalog.stop_for_a_while().await;
    // Search notices: its follower fails to read the feed and says so.
    let started = Instant::now();
    while search.sync_status().await["lastError"].is_null() {
        assert!(
            started.elapsed() < DEADLINE,
            "the follower never reported the catalog missing"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let catalog = stopped.start().await;
    // Writers that waited for the catalog carry on; let the stream run a while longer.
    search
        .wait_for_progress(status_applied(&search).await)
        .await;
    stop.store(true, Ordering::SeqCst);
    stream.await.expect("writers");

    let (product_changes, last_cursor) = wait_until_converged(&w.engine, &w.feed).await;
    assert_tombstones(&index_state(&w.engine).await, &w.products);
    // Every product change was applied exactly once: written, or skipped as older than what the
    // index already had. A change replayed or applied twice would make the sum larger.
    let started = Instant::now();
    let status = loop {
        let status = search.sync_status().await;
        if status["checkpoint"].as_str() == Some(last_cursor.as_str()) {
            break status;
        }
        assert!(started.elapsed() < DEADLINE, "checkpoint stuck: {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let applied = status["changesApplied"].as_u64().unwrap_or(0)
        + status["staleSkipped"].as_u64().unwrap_or(0);
    assert_eq!(applied as usize, product_changes, "{status}");
    assert!(status["lastError"].is_null(), "{status}");

    search.kill().await;
    remove_indices(&w.alias).await;
    catalog.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn engine_outage_answers_503_and_sync_converges_after() {
    let w = world().await;
    let upstream = reqwest::Url::parse(&opensearch_url())
        .expect("engine URL")
        .socket_addrs(|| None)
        .expect("engine address")[0];
    let proxy = TcpProxy::start(upstream).await.expect("proxy");
    let search = SearchProcess::start(
        &format!("http://{}", proxy.addr()),
        &w.catalog.url,
        &w.alias,
    )
    .await;
    let http = reqwest::Client::new();
    let (stop, writes) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicUsize::new(0)),
    );
    let stream = revise_concurrently(
        &w.admin,
        &w.category,
        &w.products,
        stop.clone(),
        writes.clone(),
    );

    search.wait_for_progress(0).await;
    // Searches keep their connections to the engine open: the cut closes them.
    let answer = http
        .get(format!("{}/api/search?q=item", search.base))
        .send()
        .await
        .expect("search answers");
    assert_eq!(answer.status(), 200);
    let cut = proxy.cut().await;
    let written_before = writes.load(Ordering::SeqCst);
    let outage = Instant::now();
    let (mut readiness_checks, mut searches) = (0, 0);
    while outage.elapsed() < Duration::from_secs(4) {
        let ready = http
            .get(format!("{}/readyz", search.base))
            .send()
            .await
            .expect("readyz answers");
        assert_eq!(ready.status(), 503, "readyz during the outage");
        assert_problem(&ready);
        readiness_checks += 1;

        for path in ["/api/search?q=item", "/api/search/suggest?q=it"] {
            let answer = http
                .get(format!("{}{path}", search.base))
                .send()
                .await
                .expect("search answers");
            assert_eq!(answer.status(), 503, "{path} during the outage");
            assert_problem(&answer);
            assert!(
                answer.headers().contains_key(reqwest::header::RETRY_AFTER),
                "Retry-After"
            );
            searches += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = search.sync_status().await;
    assert!(
        status["lastError"].is_string(),
        "the follower reports the engine missing: {status}"
    );
    let written_during = writes.load(Ordering::SeqCst) - written_before;
    println!(
        "engine cut ({cut} connections closed): {readiness_checks} readiness checks and {searches} \
         searches and suggestions answered 503; {written_during} catalog writes meanwhile"
    );
    assert!(written_during > 0, "the catalog kept changing");
    proxy.restore().await.expect("proxy listens again");
    search
        .wait_for_progress(status_applied(&search).await)
        .await;
    stop.store(true, Ordering::SeqCst);
    stream.await.expect("writers");

    wait_until_converged(&w.engine, &w.feed).await;
    assert_tombstones(&index_state(&w.engine).await, &w.products);
    let ready = http
        .get(format!("{}/readyz", search.base))
        .send()
        .await
        .expect("readyz answers");
    assert_eq!(ready.status(), 200);
    let page: Value = http
        .get(format!("{}/api/search?q=item", search.base))
        .send()
        .await
        .expect("search answers")
        .json()
        .await
        .expect("a page");
    assert!(page["total"].as_u64().unwrap_or(0) > 0, "{page}");

    search.kill().await;
    remove_indices(&w.alias).await;
    w.catalog.stop().await;
}

fn assert_problem(response: &reqwest::Response) {
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert_eq!(content_type, "application/problem+json");
}
