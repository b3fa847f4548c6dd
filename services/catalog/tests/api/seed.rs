use std::time::Instant;

use storefront_catalog::seed;

use crate::common::app;

#[tokio::test]
async fn the_demo_catalog_is_large_deterministic_and_idempotent() {
    let app = app().await;
    let started = Instant::now();
    let first = seed::run(&app.state).await.unwrap();
    eprintln!("seeded in {:?}: {first:?}", started.elapsed());
    assert!(first.products_created >= 200, "{first:?}");
    assert!(first.categories_created >= 15, "{first:?}");

    let again = seed::run(&app.state).await.unwrap();
    assert_eq!(
        again.products_created + again.categories_created,
        0,
        "{again:?}"
    );
    assert_eq!(
        again.already_present,
        first.products_created + first.categories_created
    );

    // Fixed ids: the same on every machine and every run.
    let clothing = app.get("/api/catalog/categories/clothing").await;
    assert_eq!(clothing.body["id"], seed::first_category_id().to_string());

    let page = app
        .get("/api/catalog/products?category=clothing&limit=100&inStock=true")
        .await;
    let items = page.body["items"].as_array().unwrap();
    assert!(items.len() > 20, "{} in stock", items.len());
    let thumbnail = items[0]["images"][0]["urls"]["thumbnail"].as_str().unwrap();
    assert_eq!(app.get(thumbnail).await.status, http::StatusCode::OK);
    let tree = app.get("/api/catalog/categories?limit=100").await;
    assert_eq!(
        tree.body["items"].as_array().unwrap().len(),
        first.categories_created
    );
    app.cleanup().await;
}
