//! The search API against a real engine: relevance, typos, facets, suggest, versions, pagination.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http_body_util::BodyExt;
use serde_json::Value;
use storefront_kit::testing::{opensearch_url, unique_name};
use storefront_kit::{JwtSettings, JwtVerifier};
use storefront_search::catalog::CatalogClient;
use storefront_search::engine::{Engine, ProductDoc};
use storefront_search::sync::Follower;
use storefront_search::{AppState, service};
use tower::ServiceExt;

fn doc(
    id: &str,
    title: &str,
    brand: &str,
    price: i64,
    in_stock: bool,
    attrs: &[&str],
) -> ProductDoc {
    ProductDoc {
        id: id.into(),
        version: 1,
        deleted: false,
        slug: Some(id.into()),
        title: Some(title.into()),
        brand: Some(brand.into()),
        description: Some(format!("{title} by {brand}, a fine product.")),
        category_ids: vec![
            "clothing".into(),
            if title.contains("Shoe") {
                "shoes".into()
            } else {
                "tops".into()
            },
        ],
        category_names: vec![
            "Clothing".into(),
            if title.contains("Shoe") {
                "Running Shoes".into()
            } else {
                "Tops".into()
            },
        ],
        attributes: attrs.iter().map(|a| a.to_string()).collect(),
        price_min: Some(price),
        price_max: Some(price),
        currency: Some("EUR".into()),
        in_stock,
        image: None,
        created_at: Some(format!(
            "2026-01-{:02}T00:00:00Z",
            id.len() + price as usize % 20
        )),
    }
}

fn catalog() -> Vec<ProductDoc> {
    vec![
        doc(
            "p1",
            "Trail Running Shoe",
            "Adidas",
            8_999,
            true,
            &["color=red", "size=42"],
        ),
        doc(
            "p2",
            "Road Running Shoe",
            "Adidas",
            12_999,
            false,
            &["color=blue", "size=43"],
        ),
        doc(
            "p3",
            "Court Shoe",
            "Nike",
            6_999,
            true,
            &["color=red", "size=44"],
        ),
        doc(
            "p4",
            "Cotton T-Shirt",
            "Uniqlo",
            1_499,
            true,
            &["color=white", "size=M"],
        ),
        doc(
            "p5",
            "Linen Shirt",
            "Uniqlo",
            3_999,
            true,
            &["color=blue", "size=L"],
        ),
        doc(
            "p6",
            "Hooded Sweatshirt",
            "Nike",
            5_499,
            true,
            &["color=red", "size=M"],
        ),
    ]
}

struct Harness {
    engine: Engine,
    app: axum::Router,
}

impl Harness {
    /// Removes this test's index (left behind only when a test fails first).
    async fn cleanup(self) {
        if let Some(index) = self.engine.current_index().await.unwrap() {
            self.engine.delete_index(&index).await.unwrap();
        }
    }
}

async fn harness() -> Harness {
    storefront_kit::install_crypto_provider();
    let engine = Engine::connect(
        &opensearch_url(),
        &unique_name("products"),
        Duration::from_secs(10),
    )
    .expect("engine url");
    let index = engine.ensure_alias().await.expect("create index");
    let outcome = engine.write(&index, &catalog()).await.expect("write");
    assert_eq!(outcome.written, 6);
    engine.refresh().await.expect("refresh");
    let settings = JwtSettings {
        jwks_url: "http://127.0.0.1:9/unused".into(),
        issuer: "storefront-users".into(),
        audience: "storefront".into(),
    };
    let verifier = Arc::new(JwtVerifier::remote(&settings).unwrap());
    let config = storefront_kit::ServerConfig::from_env(&storefront_kit::Env::from_map(
        "SEARCH",
        Vec::<(String, String)>::new(),
    ))
    .unwrap();
    // No catalog here: the follower is never started; these tests write documents directly.
    let catalog = CatalogClient::new("http://127.0.0.1:9", Duration::from_secs(1)).unwrap();
    let (_follower, sync) = Follower::new(engine.clone(), catalog, Duration::from_millis(100));
    let app = service(AppState {
        engine: engine.clone(),
        verifier,
        sync,
    })
    .into_router(&config);
    Harness { engine, app }
}

async fn get(app: &axum::Router, uri: &str) -> (u16, Value) {
    let response = app
        .clone()
        .oneshot(http::Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn misspelt_brand_still_finds_its_products() {
    let h = harness().await;
    let (status, page) = get(&h.app, "/api/search?q=addidas").await;
    assert_eq!(status, 200, "{page}");
    let mut found = ids(&page);
    found.sort();
    assert_eq!(found, vec!["p1", "p2"]);
    h.cleanup().await;
}

#[tokio::test]
async fn title_matches_rank_above_description_matches_and_in_stock_first() {
    let h = harness().await;
    let (_, page) = get(&h.app, "/api/search?q=running+shoe").await;
    let found = ids(&page);
    assert_eq!(
        &found[..2],
        &["p1", "p2"],
        "in-stock trail shoe first: {page}"
    );
    assert!(
        page["items"][0]["highlights"]["title"]
            .as_str()
            .unwrap()
            .contains("<mark>")
    );
    h.cleanup().await;
}

#[tokio::test]
async fn synonyms_match_other_words_for_the_same_thing() {
    let h = harness().await;
    let (_, page) = get(&h.app, "/api/search?q=tee").await;
    assert_eq!(ids(&page), vec!["p4"], "tee = t-shirt: {page}");
    h.cleanup().await;
}

#[tokio::test]
async fn facet_counts_equal_a_recount_and_ignore_their_own_filter() {
    let h = harness().await;
    let (_, page) = get(&h.app, "/api/search?brand=Nike&attr.color=red").await;
    let mut found = ids(&page);
    found.sort();
    assert_eq!(found, vec!["p3", "p6"]);

    let products = catalog();
    let count =
        |pred: &dyn Fn(&ProductDoc) -> bool| products.iter().filter(|p| pred(p)).count() as u64;
    let has = |p: &ProductDoc, a: &str| p.attributes.iter().any(|x| x == a);
    let facet = |name: &str, value: &str| -> u64 {
        page["facets"][name]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["value"] == value)
            .map(|f| f["count"].as_u64().unwrap())
            .unwrap_or(0)
    };
    // Brand counts apply the colour filter but not the brand filter.
    for brand in ["Adidas", "Nike", "Uniqlo"] {
        let expected = count(&|p| p.brand.as_deref() == Some(brand) && has(p, "color=red"));
        assert_eq!(facet("brand", brand), expected, "brand {brand}");
    }
    // Colour counts apply the brand filter but not the colour filter.
    let colors = page["facets"]["attributes"]["color"].as_array().unwrap();
    for value in ["red", "blue", "white"] {
        let expected =
            count(&|p| p.brand.as_deref() == Some("Nike") && has(p, &format!("color={value}")));
        let got = colors
            .iter()
            .find(|f| f["value"] == value)
            .map(|f| f["count"].as_u64().unwrap())
            .unwrap_or(0);
        assert_eq!(got, expected, "color {value}");
    }
    // Other attributes apply every filter.
    let sizes = page["facets"]["attributes"]["size"].as_array().unwrap();
    assert_eq!(sizes.len(), 2, "{sizes:?}");
    h.cleanup().await;
}

#[tokio::test]
async fn price_filters_and_sort_page_through_everything_once() {
    let h = harness().await;
    let mut seen = Vec::new();
    let mut uri = "/api/search?sort=price_asc&limit=2&price_min=1000".to_owned();
    loop {
        let (status, page) = get(&h.app, &uri).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(ids(&page));
        match page["nextCursor"].as_str() {
            Some(cursor) => {
                uri = format!("/api/search?sort=price_asc&limit=2&price_min=1000&cursor={cursor}")
            }
            None => break,
        }
    }
    assert_eq!(seen, vec!["p4", "p5", "p6", "p3", "p1", "p2"]);
    h.cleanup().await;
}

#[tokio::test]
async fn suggest_returns_prefix_matches_of_products_and_categories() {
    let h = harness().await;
    let (status, body) = get(&h.app, "/api/search/suggest?q=run").await;
    assert_eq!(status, 200, "{body}");
    let titles: Vec<&str> = body["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(titles.iter().all(|t| t.contains("Running")));
    assert_eq!(body["categories"], serde_json::json!(["Running Shoes"]));
    h.cleanup().await;
}

#[tokio::test]
async fn bad_parameters_are_400_problems() {
    let h = harness().await;
    for uri in [
        "/api/search?limit=0",
        "/api/search?sort=cheapest",
        "/api/search?cursor=garbage",
        "/api/search?price_min=abc",
        "/api/search/suggest",
        "/api/search/suggest?q=",
    ] {
        let (status, body) = get(&h.app, uri).await;
        assert_eq!(status, 400, "{uri}: {body}");
        assert!(body["detail"].is_string(), "{uri}: {body}");
    }
    let long = "x".repeat(201);
    let (status, _) = get(&h.app, &format!("/api/search?q={long}")).await;
    assert_eq!(status, 400);
    h.cleanup().await;
}

#[tokio::test]
async fn query_syntax_in_the_text_finds_nothing_rather_than_everything() {
    let h = harness().await;
    let (status, page) = get(&h.app, "/api/search?q=*%3A*").await;
    assert_eq!(status, 200);
    assert_eq!(page["total"], 0, "{page}");
    h.cleanup().await;
}

#[tokio::test]
async fn older_versions_never_overwrite_newer_ones_and_deletions_stick() {
    let h = harness().await;
    let index = h.engine.current_index().await.unwrap().unwrap();
    let mut newer = catalog()[3].clone();
    newer.version = 3;
    newer.title = Some("Organic Cotton T-Shirt".into());
    let mut older = catalog()[3].clone();
    older.version = 2;
    older.title = Some("Stale Title".into());
    assert_eq!(h.engine.write(&index, &[newer]).await.unwrap().written, 1);
    let outcome = h.engine.write(&index, &[older]).await.unwrap();
    assert_eq!((outcome.written, outcome.stale), (0, 1));
    h.engine
        .write(&index, &[ProductDoc::tombstone("p5", 2)])
        .await
        .unwrap();
    let mut resurrect = catalog()[4].clone();
    resurrect.version = 1;
    assert_eq!(h.engine.write(&index, &[resurrect]).await.unwrap().stale, 1);
    h.engine.refresh().await.unwrap();

    let (_, page) = get(&h.app, "/api/search?q=organic").await;
    assert_eq!(ids(&page), vec!["p4"]);
    let (_, page) = get(&h.app, "/api/search?q=stale").await;
    assert_eq!(page["total"], 0);
    let (_, page) = get(&h.app, "/api/search?q=linen").await;
    assert_eq!(page["total"], 0, "tombstoned product is gone: {page}");
    h.cleanup().await;
}
