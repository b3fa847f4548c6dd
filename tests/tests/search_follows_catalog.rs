//! Search follows the catalog: after concurrent writes, a follower killed and restarted mid-sync,
//! and a full rebuild under a stream of queries, the index holds exactly the catalog's products at
//! their latest versions, and no query failed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use storefront_kit::Shutdown;
use storefront_kit::testing::{opensearch_url, unique_name};
use storefront_search::catalog::CatalogClient;
use storefront_search::engine::Engine;
use storefront_search::sync::Follower;
use storefront_tests::stack::{self, RunningCatalog};

const CONVERGENCE_LIMIT: Duration = Duration::from_secs(60);

struct Admin {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Admin {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("catalog answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
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
        "variants": [{ "sku": format!("SKU-{n}"), "price": { "amount": 1000 + n as i64, "currency": "EUR" }, "stock": 5 }]
    })
}

/// What the catalog says now: product id → (version, removed or unpublished).
async fn catalog_truth(catalog: &CatalogClient) -> BTreeMap<String, (i64, bool)> {
    let mut truth = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let page = catalog.changes(after.as_deref(), 500).await.expect("feed");
        if page.items.is_empty() {
            return truth;
        }
        for change in page.items.iter().filter(|c| c.kind == "product") {
            let hidden = change.deleted
                || change.document.as_ref().and_then(|d| d["status"].as_str()) != Some("active");
            truth.insert(change.id.clone(), (change.version, hidden));
        }
        after = page.next_cursor;
    }
}

/// What the index holds: product id → (version, tombstone).
async fn index_state(engine: &Engine) -> BTreeMap<String, (i64, bool)> {
    let Ok(answer) = engine
        .search(json!({ "size": 10000, "query": { "match_all": {} }, "_source": ["id", "version", "deleted"] }))
        .await
    else {
        return BTreeMap::new();
    };
    answer["hits"]["hits"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| {
            let s = &h["_source"];
            (
                s["id"].as_str().unwrap_or_default().to_owned(),
                (
                    s["version"].as_i64().unwrap_or(-1),
                    s["deleted"].as_bool().unwrap_or(false),
                ),
            )
        })
        .collect()
}

async fn wait_until_converged(engine: &Engine, catalog: &CatalogClient) -> Duration {
    let started = Instant::now();
    loop {
        let truth = catalog_truth(catalog).await;
        engine.refresh().await.ok();
        let indexed = index_state(engine).await;
        if !truth.is_empty() && truth == indexed {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < CONVERGENCE_LIMIT,
            "index did not converge: {} in catalog, {} indexed; first difference: {:?}",
            truth.len(),
            indexed.len(),
            truth.iter().find(|(id, v)| indexed.get(*id) != Some(v))
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn start_follower(
    engine: &Engine,
    catalog: &CatalogClient,
) -> (
    Shutdown,
    tokio::task::JoinHandle<()>,
    storefront_search::sync::SyncHandle,
) {
    let (follower, handle) =
        Follower::new(engine.clone(), catalog.clone(), Duration::from_millis(50));
    let shutdown = Shutdown::new();
    let task = tokio::spawn(follower.run(shutdown.clone()));
    (shutdown, task, handle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn index_converges_through_concurrent_writes_restarts_and_a_rebuild() {
    let catalog_service = RunningCatalog::start().await;
    let catalog = CatalogClient::new(&catalog_service.url, Duration::from_secs(10)).unwrap();
    let engine = Engine::connect(
        &opensearch_url(),
        &unique_name("products"),
        Duration::from_secs(10),
    )
    .unwrap();
    let admin = std::sync::Arc::new(Admin {
        http: reqwest::Client::new(),
        base: catalog_service.url.clone(),
        token: stack::token("admin-1", &["admin"]),
    });
    let (status, root) = admin
        .send(
            reqwest::Method::POST,
            "/api/catalog/categories",
            Some(json!({ "slug": "home", "name": "Home" })),
        )
        .await;
    assert_eq!(status, 201, "{root}");
    let root = root["id"].as_str().unwrap().to_owned();

    let (first_shutdown, first_task, _) = start_follower(&engine, &catalog);

    // 8 writers create 5 products each and revise each 3 times, concurrently with the follower.
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let admin = admin.clone();
            let root = root.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..5 {
                    let n = w * 5 + i;
                    let (status, body) = admin
                        .send(
                            reqwest::Method::POST,
                            "/api/catalog/products",
                            Some(product(n, 0, &root)),
                        )
                        .await;
                    assert_eq!(status, 201, "{body}");
                    ids.push((n, body["id"].as_str().unwrap().to_owned()));
                }
                for revision in 1..=3 {
                    for (n, id) in &ids {
                        let (status, body) = admin
                            .send(
                                reqwest::Method::PUT,
                                &format!("/api/catalog/products/{id}"),
                                Some(product(*n, revision, &root)),
                            )
                            .await;
                        assert_eq!(status, 200, "{body}");
                    }
                }
                ids
            })
        })
        .collect();

    // Kill the follower mid-stream; restart it a moment later from its checkpoint.
    tokio::time::sleep(Duration::from_millis(300)).await;
    first_task.abort();
    let _ = first_task.await;
    drop(first_shutdown);
    let mut ids = Vec::new();
    for writer in writers {
        ids.extend(writer.await.unwrap());
    }
    // Remove two products and unpublish one: they must disappear from search.
    for (_, id) in &ids[..2] {
        let (status, body) = admin
            .send(
                reqwest::Method::DELETE,
                &format!("/api/catalog/products/{id}"),
                None,
            )
            .await;
        assert!(status == 200 || status == 204, "{status} {body}");
    }
    let mut draft = product(ids[2].0, 9, &root);
    draft["status"] = json!("draft");
    let (status, body) = admin
        .send(
            reqwest::Method::PUT,
            &format!("/api/catalog/products/{}", ids[2].1),
            Some(draft),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let (shutdown, task, sync) = start_follower(&engine, &catalog);
    let took = wait_until_converged(&engine, &catalog).await;
    println!("converged {} ms after the last write", took.as_millis());

    // A full rebuild while queries run: none may fail, and the result is still the catalog.
    let app = storefront_search::service(storefront_search::AppState {
        engine: engine.clone(),
        verifier: stack::verifier(),
        sync: sync.clone(),
    })
    .into_router(&stack::server_config());
    let before = engine.current_index().await.unwrap();
    let querying = tokio::spawn({
        let app = app.clone();
        async move {
            use tower::ServiceExt;
            let (mut ok, mut failed) = (0, 0);
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                let response = app
                    .clone()
                    .oneshot(
                        http::Request::get("/api/search?q=item")
                            .body(axum::body::Body::empty())
                            .unwrap(),
                    )
                    .await
                    .unwrap();
                if response.status() == 200 {
                    ok += 1
                } else {
                    failed += 1
                }
            }
            (ok, failed)
        }
    });
    let report = sync.reindex().await.expect("rebuild");
    let (ok, failed) = querying.await.unwrap();
    println!("rebuild: {report:?}; {ok} queries ok, {failed} failed");
    assert_eq!(failed, 0);
    assert!(ok > 0);
    assert_ne!(
        engine.current_index().await.unwrap(),
        before,
        "the alias moved"
    );
    wait_until_converged(&engine, &catalog).await;

    shutdown.trigger();
    task.await.unwrap();
    if let Some(index) = engine.current_index().await.unwrap() {
        engine.delete_index(&index).await.unwrap();
    }
    engine
        .delete_index(&format!("{}-sync", engine.alias()))
        .await
        .ok();
    catalog_service.stop().await;
}

/// Several full rebuilds back to back while many clients search over HTTP: every answer is a 200
/// with the whole live catalog in it, whichever index the alias pointed at when it was asked.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reindexes_under_concurrent_queries_fail_none() {
    const PRODUCTS: usize = 30;
    const CLIENTS: usize = 16;
    const REBUILDS: usize = 4;

    let catalog_service = RunningCatalog::start().await;
    let catalog = CatalogClient::new(&catalog_service.url, Duration::from_secs(10)).unwrap();
    let engine = Engine::connect(
        &opensearch_url(),
        &unique_name("products"),
        Duration::from_secs(10),
    )
    .unwrap();
    let admin = Admin {
        http: reqwest::Client::new(),
        base: catalog_service.url.clone(),
        token: stack::token("admin-1", &["admin"]),
    };
    let (status, root) = admin
        .send(
            reqwest::Method::POST,
            "/api/catalog/categories",
            Some(json!({ "slug": "home", "name": "Home" })),
        )
        .await;
    assert_eq!(status, 201, "{root}");
    let root = root["id"].as_str().unwrap().to_owned();
    for n in 0..PRODUCTS {
        let (status, body) = admin
            .send(
                reqwest::Method::POST,
                "/api/catalog/products",
                Some(product(n, 0, &root)),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (shutdown, task, sync) = start_follower(&engine, &catalog);
    wait_until_converged(&engine, &catalog).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let service = storefront_search::service(storefront_search::AppState {
        engine: engine.clone(),
        verifier: stack::verifier(),
        sync: sync.clone(),
    });
    let serving = tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            storefront_kit::serve_on(listener, service, &stack::server_config(), shutdown).await
        }
    });

    let rebuilding = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let http = reqwest::Client::new();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (http, base, rebuilding) = (http.clone(), base.clone(), rebuilding.clone());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                let queries = ["item", "made", "acme", "revision"];
                let mut i = c;
                while rebuilding.load(std::sync::atomic::Ordering::SeqCst) {
                    let url = format!("{base}/api/search?q={}&limit=5", queries[i % 4]);
                    i += 1;
                    let answer = match http.get(url).send().await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let page: Value = response.json().await.unwrap_or(Value::Null);
                            (
                                status,
                                page["total"].as_u64(),
                                page["items"].as_array().map(Vec::len),
                            )
                        }
                        Err(error) => panic!("search did not answer: {error}"),
                    };
                    answers.push(answer);
                }
                answers
            })
        })
        .collect();

    let mut indices = vec![engine.current_index().await.unwrap()];
    for _ in 0..REBUILDS {
        let report = sync.reindex().await.expect("rebuild");
        println!("rebuild: {report:?}");
        indices.push(Some(report.index));
    }
    rebuilding.store(false, std::sync::atomic::Ordering::SeqCst);
    let mut answers = Vec::new();
    for client in clients {
        answers.extend(client.await.unwrap());
    }
    let failed: Vec<_> = answers
        .iter()
        .filter(|(status, total, items)| {
            *status != 200 || *total != Some(PRODUCTS as u64) || *items != Some(5)
        })
        .collect();
    println!(
        "{} searches during {REBUILDS} rebuilds, {} not a full page of the whole catalog",
        answers.len(),
        failed.len()
    );
    assert!(
        answers.len() >= CLIENTS * REBUILDS,
        "searches ran throughout"
    );
    assert!(
        failed.is_empty(),
        "first failures: {:?}",
        &failed[..failed.len().min(5)]
    );
    indices.dedup();
    assert_eq!(indices.len(), REBUILDS + 1, "every rebuild moved the alias");
    wait_until_converged(&engine, &catalog).await;

    shutdown.trigger();
    task.await.unwrap();
    serving.await.unwrap().unwrap();
    if let Some(index) = engine.current_index().await.unwrap() {
        engine.delete_index(&index).await.unwrap();
    }
    engine
        .delete_index(&format!("{}-sync", engine.alias()))
        .await
        .ok();
    catalog_service.stop().await;
}
