//! Catalog load figures on the demo catalog at 64 connections: get-by-id and a category listing
//! (with descendants) through the service, and the same queries issued directly with the `mongodb`
//! driver through the service's own store functions in the same run; the ratio of the two is the
//! service's overhead (target ≥ 0.8). Then the idle memory of the release binary, started as a
//! process on the same databases and warmed with the same queries (target ≤ 30 MB). Prints figures
//! only. Run with `--release` (`cargo xtask bench catalog`, which builds the binary first).

use std::error::Error;
use std::time::Duration;

use storefront_catalog::ids::ProductId;
use storefront_catalog::products::ProductStatus;
use storefront_catalog::products::store::{self as products, ListQuery};
use storefront_tests::load::{phase_seconds, print_row, run};
use storefront_tests::release::ReleaseService;
use storefront_tests::stack::RunningCatalog;
use storefront_tests::{mongodb_url, postgres_url, unique_name, with_database};

const CONNECTIONS: usize = 64;
const CATEGORY: &str = "clothing";

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    storefront_kit::install_crypto_provider();
    let seconds = phase_seconds();
    let duration = Duration::from_secs(seconds);

    let catalog = RunningCatalog::start().await;
    storefront_catalog::seed::run(&catalog.state).await?;
    let db = catalog.state.documents.clone();
    let (all, _) = products::list(
        &db,
        &ListQuery {
            statuses: vec![ProductStatus::Active],
            limit: 100,
            ..Default::default()
        },
    )
    .await?;
    let ids: Vec<String> = all.iter().map(|p| p.id.clone()).collect();
    if ids.is_empty() {
        return Err("the demo catalog is empty".into());
    }

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()?;
    let get_service = run(CONNECTIONS, duration, {
        let (http, base, ids) = (http.clone(), catalog.url.clone(), ids.clone());
        move |i| {
            let url = format!("{base}/api/catalog/products/{}", ids[i % ids.len()]);
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
    let get_direct = run(CONNECTIONS, duration, {
        let (db, ids) = (db.clone(), ids.clone());
        move |i| {
            let (db, id) = (db.clone(), ids[i % ids.len()].clone());
            async move {
                match ProductId::parse(&id) {
                    Ok(id) => matches!(products::get(&db, &id).await, Ok(Some(_))),
                    Err(_) => false,
                }
            }
        }
    })
    .await;
    let list_service = run(CONNECTIONS, duration, {
        let (http, base) = (http.clone(), catalog.url.clone());
        move |_| {
            let url = format!("{base}/api/catalog/products?category={CATEGORY}&limit=20");
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
    let list_direct = run(CONNECTIONS, duration, {
        let db = db.clone();
        move |_| {
            let db = db.clone();
            async move {
                let Ok(Some(subtree)) =
                    storefront_catalog::categories::store::subtree_ids(&db, CATEGORY).await
                else {
                    return false;
                };
                let query = ListQuery {
                    statuses: vec![ProductStatus::Active],
                    category_ids: Some(subtree),
                    limit: 20,
                    ..Default::default()
                };
                products::list(&db, &query).await.is_ok()
            }
        }
    })
    .await;

    println!(
        "\n{CONNECTIONS} connections, {seconds} s each              req/s     p50 ms   p99 ms   errors"
    );
    print_row("get by id through the service", &get_service);
    print_row("get by id straight to the driver", &get_direct);
    print_row("category listing, service", &list_service);
    print_row("category listing, driver", &list_direct);
    println!(
        "service / driver throughput: get {:.2}, listing {:.2} (target ≥ 0.8)",
        get_service.rate / get_direct.rate,
        list_service.rate / list_direct.rate
    );

    let rss = idle_rss(&catalog, &ids).await;
    catalog.stop().await;
    let rss = rss?;
    println!(
        "idle RSS of the release service after warm-up: {:.1} MB (target ≤ 30 MB)",
        rss as f64 / 1e6
    );
    Ok(())
}

/// Resident memory in bytes of the release binary serving the benchmark's databases, after
/// answering a few hundred reads and then idling for a few seconds.
async fn idle_rss(catalog: &RunningCatalog, ids: &[String]) -> Result<u64, Box<dyn Error>> {
    let ledger = catalog
        .state
        .ledger
        .connect_options()
        .get_database()
        .unwrap_or("postgres")
        .to_owned();
    let images = std::env::temp_dir().join(unique_name("catalog-images"));
    let service = ReleaseService::start(
        "storefront-catalog",
        "CATALOG",
        &[
            ("CATALOG_MONGODB_URL", mongodb_url()),
            (
                "CATALOG_MONGODB_DATABASE",
                catalog.state.documents.name().to_owned(),
            ),
            (
                "CATALOG_LEDGER_DATABASE_URL",
                with_database(&postgres_url(), &ledger),
            ),
            // Reads never verify a token; the key set is fetched only when one is presented.
            (
                "CATALOG_JWKS_URL",
                "http://127.0.0.1:9/.well-known/jwks.json".to_owned(),
            ),
            ("CATALOG_IMAGES_DIR", images.display().to_string()),
        ],
    )
    .await?;
    let base = &service.url;
    let http = reqwest::Client::new();
    for (i, id) in ids.iter().cycle().take(400).enumerate() {
        let url = if i % 4 == 0 {
            format!("{base}/api/catalog/products?category={CATEGORY}&limit=20")
        } else {
            format!("{base}/api/catalog/products/{id}")
        };
        http.get(url).send().await?.error_for_status()?;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss = service.rss()?;
    service.kill().await?;
    let _ = std::fs::remove_dir_all(images);
    Ok(rss)
}
