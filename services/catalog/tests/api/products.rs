use http::{Method, StatusCode};
use serde_json::json;

use crate::common::{app, product_body};

#[tokio::test]
async fn product_crud_with_etags_and_if_match() {
    let app = app().await;
    let created = app
        .admin_post(
            "/api/catalog/products",
            product_body("red-tee", "TEE-1", 1999, 5, &[]),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(created.headers["etag"], "\"1\"");
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.headers["location"],
        format!("/api/catalog/products/{id}")
    );
    assert_eq!(
        created.body["priceFrom"],
        json!({"amount": 1999, "currency": "EUR"})
    );
    assert_eq!(created.body["inStock"], true);

    let by_id = app.get(&format!("/api/catalog/products/{id}")).await;
    assert_eq!(by_id.status, StatusCode::OK);
    assert_eq!(by_id.body["slug"], "red-tee");
    let by_slug = app.get("/api/catalog/products/by-slug/red-tee").await;
    assert_eq!(by_slug.body["id"], id.as_str());
    let sku = app.get("/api/catalog/skus/TEE-1").await;
    assert_eq!(sku.status, StatusCode::OK, "{sku:?}");
    assert_eq!(sku.body["available"], 5);
    assert_eq!(sku.body["price"]["amount"], 1999);

    // Update with the current version, then a stale one.
    let mut body = product_body("red-tee", "TEE-1", 2499, 5, &[]);
    body["title"] = json!("Red tee, v2");
    let path = format!("/api/catalog/products/{id}");
    let admin = app.admin.clone();
    let updated = app
        .request(
            Method::PUT,
            &path,
            Some(&admin),
            &[("if-match", "\"1\"")],
            Some(body.clone()),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{updated:?}");
    assert_eq!(updated.headers["etag"], "\"2\"");
    assert_eq!(updated.body["title"], "Red tee, v2");
    let stale = app
        .request(
            Method::PUT,
            &path,
            Some(&admin),
            &[("if-match", "\"1\"")],
            Some(body),
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{stale:?}");
    assert_eq!(stale.headers["content-type"], "application/problem+json");

    // Customers cannot write; nobody unauthenticated can.
    let customer = app.customer.clone();
    let forbidden = app
        .request(Method::DELETE, &path, Some(&customer), &[], None)
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let anonymous = app.request(Method::DELETE, &path, None, &[], None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    let stale_delete = app
        .request(
            Method::DELETE,
            &path,
            Some(&admin),
            &[("if-match", "\"1\"")],
            None,
        )
        .await;
    assert_eq!(stale_delete.status, StatusCode::PRECONDITION_FAILED);
    let deleted = app
        .request(
            Method::DELETE,
            &path,
            Some(&admin),
            &[("if-match", "\"2\"")],
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/api/catalog/skus/TEE-1").await.status,
        StatusCode::NOT_FOUND
    );
    // The slug is free again.
    app.product("red-tee", "TEE-2", 999, 1, &[]).await;
    app.cleanup().await;
}

#[tokio::test]
async fn invalid_input_is_a_problem_never_a_500() {
    let app = app().await;
    let bad = app
        .admin_post(
            "/api/catalog/products",
            json!({
                "slug": "Not A Slug", "title": "",
                "variants": [
                    {"sku": "A", "price": {"amount": -1, "currency": "EUR"}, "attributes": {"$set": "x"}},
                    {"sku": "A", "price": {"amount": 1, "currency": "EUR"}}
                ]
            }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    assert_eq!(bad.headers["content-type"], "application/problem+json");
    let fields: Vec<&str> = bad.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for field in [
        "slug",
        "title",
        "variants[0].price.amount",
        "variants[0].attributes.$set",
        "variants[1].sku",
    ] {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }

    let wrong_shape = app
        .admin_post("/api/catalog/products", json!({"slug": 5}))
        .await;
    assert_eq!(wrong_shape.status, StatusCode::BAD_REQUEST);
    let bad_currency = app
        .admin_post("/api/catalog/products", json!({"slug": "a", "title": "a", "variants": [{"sku": "A", "price": {"amount": 1, "currency": "euro"}}]}))
        .await;
    assert_eq!(bad_currency.status, StatusCode::BAD_REQUEST);
    let no_category = app
        .admin_post(
            "/api/catalog/products",
            product_body("x", "X-1", 1, 1, &["0190c1a2-7b3c-7def-8000-000000000001"]),
        )
        .await;
    assert_eq!(
        no_category.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{no_category:?}"
    );

    app.product("taken", "SKU-1", 100, 1, &[]).await;
    let same_slug = app
        .admin_post(
            "/api/catalog/products",
            product_body("taken", "SKU-2", 100, 1, &[]),
        )
        .await;
    assert_eq!(same_slug.status, StatusCode::CONFLICT);
    let same_sku = app
        .admin_post(
            "/api/catalog/products",
            product_body("other", "SKU-1", 100, 1, &[]),
        )
        .await;
    assert_eq!(same_sku.status, StatusCode::CONFLICT, "{same_sku:?}");

    for path in [
        "/api/catalog/products/..%2F..%2Fetc",
        "/api/catalog/products/%7B%22%24ne%22%3Anull%7D",
        "/api/catalog/products/by-slug/$where",
        "/api/catalog/skus/%24gt",
        "/api/catalog/products?limit=1000",
        "/api/catalog/products?limit=-1",
        "/api/catalog/products?cursor=garbage",
        "/api/catalog/products?sort=random",
        "/api/catalog/products?minPrice=5&maxPrice=1",
        "/api/catalog/products?status=draft",
    ] {
        let reply = app.get(path).await;
        assert!(reply.status.is_client_error(), "{path}: {reply:?}");
        assert_eq!(
            reply.headers["content-type"], "application/problem+json",
            "{path}"
        );
    }
    app.cleanup().await;
}

#[tokio::test]
async fn operators_in_filters_are_rejected_or_taken_literally() {
    let app = app().await;
    app.product("one", "ONE", 100, 1, &[]).await;
    for path in [
        "/api/catalog/products?brand%5B%24ne%5D=x",
        "/api/catalog/products?brand%5B%24ne%5D=null",
        "/api/catalog/products?minPrice%5B%24gt%5D=0",
        "/api/catalog/products?inStock=%7B%22%24ne%22%3Anull%7D",
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}: {reply:?}");
    }
    for literal in [
        "%7B%22%24ne%22%3Anull%7D",
        "%24ne",
        "Acme%22%2C%22%24where%22%3A%221",
    ] {
        let reply = app
            .get(&format!("/api/catalog/products?brand={literal}"))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{literal}: {reply:?}");
        assert_eq!(
            reply.body["items"].as_array().unwrap().len(),
            0,
            "{literal} matched: {reply:?}"
        );
    }
    let category = app
        .get("/api/catalog/products?category=%7B%22%24ne%22%3Anull%7D")
        .await;
    assert_eq!(category.status, StatusCode::UNPROCESSABLE_ENTITY);
    let acme = app.get("/api/catalog/products?brand=Acme").await;
    assert_eq!(acme.body["items"].as_array().unwrap().len(), 1);
    app.cleanup().await;
}

#[tokio::test]
async fn category_listing_includes_descendants_and_filters_sort_and_paginate() {
    let app = app().await;
    let clothing = app.category("clothing", None, 0).await;
    let tops = app.category("tops", Some(&clothing), 0).await;
    let tees = app.category("tees", Some(&tops), 0).await;
    let home = app.category("home", None, 1).await;

    let tree = app.get("/api/catalog/categories").await;
    let slugs: Vec<&str> = tree.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        slugs,
        ["clothing", "tops", "tees", "home"],
        "depth first, by position"
    );
    let children = app
        .get(&format!("/api/catalog/categories?parent={clothing}"))
        .await;
    assert_eq!(children.body["items"].as_array().unwrap().len(), 1);
    let tees_doc = app.get("/api/catalog/categories/tees").await;
    assert_eq!(tees_doc.body["path"], json!([clothing, tops]));

    // Prices 100..=1500 in clothing's subtree, one in home; one out of stock.
    let mut expected = Vec::new();
    for i in 1..=15 {
        let category = match i % 3 {
            0 => &clothing,
            1 => &tops,
            _ => &tees,
        };
        let stock = if i == 7 { 0 } else { 3 };
        expected.push(
            app.product(
                &format!("p-{i}"),
                &format!("P-{i}"),
                i * 100,
                stock,
                &[category],
            )
            .await,
        );
    }
    app.product("lamp", "LAMP", 5000, 1, &[&home]).await;

    // Category (by slug or id) includes descendants; pages of 4 by price.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/catalog/products?category=clothing&sort=price_asc&limit=4".to_owned();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = app.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        for item in page.body["items"].as_array().unwrap() {
            seen.push(item["priceFrom"]["amount"].as_i64().unwrap());
        }
        match page.body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, (1..=15).map(|i| i * 100).collect::<Vec<_>>());

    let tops_only = app
        .get(&format!("/api/catalog/products?category={tops}&limit=100"))
        .await;
    assert_eq!(
        tops_only.body["items"].as_array().unwrap().len(),
        10,
        "tops and tees"
    );
    let newest = app.get("/api/catalog/products?limit=2").await;
    assert_eq!(newest.body["items"][0]["slug"], "lamp");
    assert_eq!(newest.body["items"][1]["slug"], "p-15");
    let range = app
        .get("/api/catalog/products?minPrice=300&maxPrice=600&sort=price_desc")
        .await;
    let prices: Vec<i64> = range.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["priceFrom"]["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(prices, [600, 500, 400, 300]);
    let in_stock = app
        .get("/api/catalog/products?category=clothing&inStock=false")
        .await;
    assert_eq!(in_stock.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(in_stock.body["items"][0]["slug"], "p-7");
    let wrong_sort = app
        .get(&format!(
            "/api/catalog/products?sort=newest&cursor={}",
            cursor.unwrap()
        ))
        .await;
    assert_eq!(wrong_sort.status, StatusCode::UNPROCESSABLE_ENTITY);
    app.cleanup().await;
}

#[tokio::test]
async fn moving_a_category_moves_its_subtree_and_cycles_are_refused() {
    let app = app().await;
    let a = app.category("a", None, 0).await;
    let b = app.category("b", None, 1).await;
    let a1 = app.category("a1", Some(&a), 0).await;
    let a11 = app.category("a11", Some(&a1), 0).await;
    let admin = app.admin.clone();

    let cycle = app
        .request(
            Method::PUT,
            &format!("/api/catalog/categories/{a}"),
            Some(&admin),
            &[],
            Some(json!({"slug": "a", "name": "A", "parentId": a11})),
        )
        .await;
    assert_eq!(cycle.status, StatusCode::UNPROCESSABLE_ENTITY, "{cycle:?}");

    let moved = app
        .request(
            Method::PUT,
            &format!("/api/catalog/categories/{a1}"),
            Some(&admin),
            &[("if-match", "\"1\"")],
            Some(json!({"slug": "a1", "name": "A1", "parentId": b})),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{moved:?}");
    let leaf = app.get(&format!("/api/catalog/categories/{a11}")).await;
    assert_eq!(leaf.body["path"], json!([b, a1]));
    let tree = app.get("/api/catalog/categories").await;
    let slugs: Vec<&str> = tree.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["a", "b", "a1", "a11"]);

    let not_leaf = app
        .request(
            Method::DELETE,
            &format!("/api/catalog/categories/{b}"),
            Some(&admin),
            &[],
            None,
        )
        .await;
    assert_eq!(not_leaf.status, StatusCode::CONFLICT);
    let gone = app
        .request(
            Method::DELETE,
            &format!("/api/catalog/categories/{a}"),
            Some(&admin),
            &[],
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    app.cleanup().await;
}

#[tokio::test]
async fn drafts_are_hidden_from_shoppers() {
    let app = app().await;
    let mut body = product_body("secret", "SECRET", 100, 1, &[]);
    body["status"] = json!("draft");
    let created = app.admin_post("/api/catalog/products", body).await;
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/api/catalog/products/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/catalog/products").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let admin = app.admin.clone();
    let as_admin = app
        .request(
            Method::GET,
            "/api/catalog/products?status=draft",
            Some(&admin),
            &[],
            None,
        )
        .await;
    assert_eq!(as_admin.body["items"].as_array().unwrap().len(), 1);
    app.cleanup().await;
}

#[tokio::test]
async fn the_service_reports_ready_and_publishes_its_openapi_document() {
    let app = app().await;
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status, StatusCode::OK, "{ready:?}");
    assert_eq!(ready.body["checks"]["mongodb"], "ok");
    assert_eq!(ready.body["checks"]["postgres"], "ok");
    let doc = app.get("/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    for path in [
        "/api/catalog/products",
        "/api/catalog/products/{id}",
        "/internal/changes",
        "/internal/stock/reservations",
    ] {
        assert!(doc.body["paths"].get(path).is_some(), "{path} documented");
    }
    app.cleanup().await;
}

#[tokio::test]
async fn preparing_an_existing_store_again_is_harmless() {
    let app = app().await;
    storefront_catalog::prepare(&app.state.ledger, &app.state.documents)
        .await
        .unwrap();
    app.cleanup().await;
}
