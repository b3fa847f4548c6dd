use http::{Method, StatusCode};
use serde_json::json;

use crate::common::app;

async fn inventory(app: &crate::common::TestApp, sku: &str) -> (i64, i64) {
    sqlx::query_as("SELECT on_hand, reserved FROM inventory WHERE sku = $1")
        .bind(sku)
        .fetch_one(&app.state.ledger)
        .await
        .unwrap()
}

#[tokio::test]
async fn fifty_concurrent_reservations_of_ten_units_never_oversell() {
    let app = app().await;
    let product = app.product("scarce", "SCARCE", 500, 10, &[]).await;
    let attempts = (0..50).map(|i| {
        let app = &app;
        async move {
            app.internal_post(
                "/internal/stock/reservations",
                Some(json!({"orderId": format!("order-{i}"), "lines": [{"sku": "SCARCE", "quantity": 1}]})),
            )
            .await
        }
    });
    let replies = futures::future::join_all(attempts).await;
    let created = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let refused = replies
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT)
        .count();
    assert_eq!(created, 10, "{replies:?}");
    assert_eq!(refused, 40, "every other attempt is a 409: {replies:?}");
    assert_eq!(inventory(&app, "SCARCE").await, (10, 10));

    // Replaying a successful order changes nothing.
    let winner = replies
        .iter()
        .find(|r| r.status == StatusCode::CREATED)
        .unwrap();
    let order = winner.body["orderId"].as_str().unwrap().to_owned();
    let replay = app
        .internal_post(
            "/internal/stock/reservations",
            Some(json!({"orderId": order, "lines": [{"sku": "SCARCE", "quantity": 1}]})),
        )
        .await;
    assert_eq!(replay.status, StatusCode::OK, "{replay:?}");
    assert_eq!(replay.body, winner.body);
    assert_eq!(inventory(&app, "SCARCE").await, (10, 10));
    let other_lines = app
        .internal_post(
            "/internal/stock/reservations",
            Some(json!({"orderId": order, "lines": [{"sku": "SCARCE", "quantity": 2}]})),
        )
        .await;
    assert_eq!(other_lines.status, StatusCode::CONFLICT);

    // The document mirrors the ledger: nothing left to buy.
    let doc = app.get(&format!("/api/catalog/products/{product}")).await;
    assert_eq!(doc.body["inStock"], false, "{doc:?}");
    assert_eq!(
        app.get("/api/catalog/skus/SCARCE").await.body["available"],
        0
    );
    app.cleanup().await;
}

#[tokio::test]
async fn concurrent_replays_of_one_order_reserve_once() {
    let app = app().await;
    app.product("plenty", "PLENTY", 500, 100, &[]).await;
    let body = json!({"orderId": "order-same", "lines": [{"sku": "PLENTY", "quantity": 3}]});
    let replies = futures::future::join_all(
        (0..20).map(|_| app.internal_post("/internal/stock/reservations", Some(body.clone()))),
    )
    .await;
    assert_eq!(
        replies
            .iter()
            .filter(|r| r.status == StatusCode::CREATED)
            .count(),
        1,
        "{replies:?}"
    );
    assert!(replies.iter().all(|r| r.status.is_success()), "{replies:?}");
    assert_eq!(inventory(&app, "PLENTY").await, (100, 3));
    app.cleanup().await;
}

#[tokio::test]
async fn a_reservation_is_all_or_nothing_and_moves_through_commit_and_release() {
    let app = app().await;
    app.product("a", "A", 100, 5, &[]).await;
    app.product("b", "B", 100, 1, &[]).await;

    let short = app
        .internal_post("/internal/stock/reservations", Some(json!({"orderId": "o-1", "lines": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 2}]})))
        .await;
    assert_eq!(short.status, StatusCode::CONFLICT, "{short:?}");
    assert_eq!(short.body["errors"][0]["field"], "lines[1].quantity");
    assert_eq!(inventory(&app, "A").await, (5, 0), "nothing taken");
    let unknown = app
        .internal_post(
            "/internal/stock/reservations",
            Some(json!({"orderId": "o-1", "lines": [{"sku": "NOPE", "quantity": 1}]})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad = app
        .internal_post(
            "/internal/stock/reservations",
            Some(json!({"orderId": "o 1", "lines": [{"sku": "A", "quantity": 0}]})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let ok = app
        .internal_post("/internal/stock/reservations", Some(json!({"orderId": "o-1", "lines": [{"sku": "B", "quantity": 1}, {"sku": "A", "quantity": 2}]})))
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{ok:?}");
    assert_eq!(inventory(&app, "A").await, (5, 2));
    let committed = app
        .internal_post("/internal/stock/reservations/o-1/commit", None)
        .await;
    assert_eq!(committed.status, StatusCode::OK, "{committed:?}");
    assert_eq!(committed.body["status"], "committed");
    assert_eq!(inventory(&app, "A").await, (3, 0));
    assert_eq!(inventory(&app, "B").await, (0, 0));
    assert_eq!(
        app.internal_post("/internal/stock/reservations/o-1/commit", None)
            .await
            .status,
        StatusCode::OK,
        "idempotent"
    );
    assert_eq!(inventory(&app, "A").await, (3, 0));
    assert_eq!(
        app.internal_post("/internal/stock/reservations/o-1/release", None)
            .await
            .status,
        StatusCode::CONFLICT
    );

    let o2 = app
        .internal_post(
            "/internal/stock/reservations",
            Some(json!({"orderId": "o-2", "lines": [{"sku": "A", "quantity": 3}]})),
        )
        .await;
    assert_eq!(o2.status, StatusCode::CREATED);
    for _ in 0..2 {
        let released = app
            .internal_post("/internal/stock/reservations/o-2/release", None)
            .await;
        assert_eq!(released.status, StatusCode::OK);
        assert_eq!(released.body["status"], "released");
    }
    assert_eq!(inventory(&app, "A").await, (3, 0));
    assert_eq!(
        app.internal_post("/internal/stock/reservations/o-2/commit", None)
            .await
            .status,
        StatusCode::CONFLICT
    );

    // Releasing an order never reserved blocks a late reserve under that id.
    assert_eq!(
        app.internal_post("/internal/stock/reservations/o-3/release", None)
            .await
            .status,
        StatusCode::OK
    );
    let late = app
        .internal_post(
            "/internal/stock/reservations",
            Some(json!({"orderId": "o-3", "lines": [{"sku": "A", "quantity": 1}]})),
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{late:?}");
    assert_eq!(inventory(&app, "A").await, (3, 0));
    assert_eq!(
        app.get("/internal/stock/reservations/o-2").await.body["status"],
        "released"
    );
    assert_eq!(
        app.get("/internal/stock/reservations/none").await.status,
        StatusCode::NOT_FOUND
    );
    app.cleanup().await;
}

#[tokio::test]
async fn uncommitted_reservations_expire_and_return_their_stock() {
    let app = app().await;
    app.product("e", "E", 100, 4, &[]).await;
    let reply = app
        .internal_post(
            "/internal/stock/reservations",
            Some(
                json!({"orderId": "late", "lines": [{"sku": "E", "quantity": 4}], "ttlSeconds": 0}),
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let held = app
        .internal_post(
            "/internal/stock/reservations",
            Some(json!({"orderId": "kept", "lines": [{"sku": "E", "quantity": 1}]})),
        )
        .await;
    assert_eq!(
        held.status,
        StatusCode::CONFLICT,
        "all four are held until expiry"
    );
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let (expired, _) =
        storefront_catalog::stock::reservations::expire_overdue(&app.state.ledger, 100)
            .await
            .unwrap();
    assert_eq!(expired, 1);
    assert_eq!(inventory(&app, "E").await, (4, 0));
    assert_eq!(
        app.get("/internal/stock/reservations/late").await.body["status"],
        "expired"
    );
    assert_eq!(
        app.internal_post("/internal/stock/reservations/late/commit", None)
            .await
            .status,
        StatusCode::CONFLICT
    );

    // A reservation past its expiry but not yet swept cannot be committed either.
    app.internal_post(
        "/internal/stock/reservations",
        Some(json!({"orderId": "slow", "lines": [{"sku": "E", "quantity": 1}], "ttlSeconds": 0})),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(
        app.internal_post("/internal/stock/reservations/slow/commit", None)
            .await
            .status,
        StatusCode::CONFLICT
    );
    assert_eq!(inventory(&app, "E").await, (4, 0));
    app.cleanup().await;
}

#[tokio::test]
async fn admins_set_stock_but_never_below_what_is_reserved() {
    let app = app().await;
    let product = app.product("s", "S", 100, 0, &[]).await;
    assert_eq!(
        app.get(&format!("/api/catalog/products/{product}"))
            .await
            .body["inStock"],
        false
    );
    let admin = app.admin.clone();
    let set = app
        .request(
            Method::PUT,
            "/api/catalog/skus/S/stock",
            Some(&admin),
            &[],
            Some(json!({"onHand": 5})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{set:?}");
    let doc = app.get(&format!("/api/catalog/products/{product}")).await;
    assert_eq!(doc.body["inStock"], true, "availability refreshed");
    assert_eq!(doc.headers["etag"], "\"2\"");
    app.internal_post(
        "/internal/stock/reservations",
        Some(json!({"orderId": "x", "lines": [{"sku": "S", "quantity": 4}]})),
    )
    .await;
    let below = app
        .request(
            Method::PUT,
            "/api/catalog/skus/S/stock",
            Some(&admin),
            &[],
            Some(json!({"onHand": 3})),
        )
        .await;
    assert_eq!(below.status, StatusCode::CONFLICT);
    assert_eq!(inventory(&app, "S").await, (5, 4));
    app.cleanup().await;
}

#[tokio::test]
async fn returning_a_committed_order_puts_its_units_back_exactly_once() {
    let app = app().await;
    let product = app.product("r", "R", 100, 1, &[]).await;
    app.product("q", "Q", 100, 10, &[]).await;
    let reserve = |order: &'static str, lines: serde_json::Value| {
        let app = &app;
        async move {
            app.internal_post(
                "/internal/stock/reservations",
                Some(json!({"orderId": order, "lines": lines})),
            )
            .await
        }
    };
    let sold = reserve(
        "sold",
        json!([{"sku": "R", "quantity": 1}, {"sku": "Q", "quantity": 3}]),
    )
    .await;
    assert_eq!(sold.status, StatusCode::CREATED, "{sold:?}");
    let committed = app
        .internal_post("/internal/stock/reservations/sold/commit", None)
        .await;
    assert_eq!(committed.status, StatusCode::OK, "{committed:?}");
    assert_eq!(inventory(&app, "R").await, (0, 0));
    assert_eq!(inventory(&app, "Q").await, (7, 0));
    assert_eq!(
        app.get(&format!("/api/catalog/products/{product}"))
            .await
            .body["inStock"],
        false
    );

    // Concurrent and repeated returns add the units once.
    let returns =
        (0..5).map(|_| app.internal_post("/internal/stock/reservations/sold/return", None));
    for reply in futures::future::join_all(returns).await {
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert_eq!(reply.body["status"], "returned");
    }
    let again = app
        .internal_post("/internal/stock/reservations/sold/return", None)
        .await;
    assert_eq!(again.status, StatusCode::OK, "{again:?}");
    assert_eq!(inventory(&app, "R").await, (1, 0));
    assert_eq!(inventory(&app, "Q").await, (10, 0));
    assert_eq!(
        app.get(&format!("/api/catalog/products/{product}"))
            .await
            .body["inStock"],
        true,
        "availability refreshed"
    );
    assert_eq!(
        app.get("/internal/stock/reservations/sold").await.body["status"],
        "returned"
    );
    // A returned order can neither be committed nor released again.
    for action in ["commit", "release"] {
        let reply = app
            .internal_post(&format!("/internal/stock/reservations/sold/{action}"), None)
            .await;
        assert_eq!(reply.status, StatusCode::CONFLICT, "{action}: {reply:?}");
        assert_eq!(reply.headers["content-type"], "application/problem+json");
    }
    assert_eq!(inventory(&app, "Q").await, (10, 0));

    // Stock that was never committed cannot be returned.
    assert_eq!(
        reserve("held", json!([{"sku": "Q", "quantity": 2}]))
            .await
            .status,
        StatusCode::CREATED
    );
    app.internal_post("/internal/stock/reservations/gone/release", None)
        .await;
    for order in ["held", "gone", "never-seen"] {
        let reply = app
            .internal_post(
                &format!("/internal/stock/reservations/{order}/return"),
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::CONFLICT, "{order}: {reply:?}");
    }
    assert_eq!(inventory(&app, "Q").await, (10, 2));
    app.cleanup().await;
}

#[tokio::test]
async fn admins_see_skus_running_low_fewest_available_first() {
    let app = app().await;
    app.product("last-one", "LOW-B", 100, 1, &[]).await;
    app.product("few-left", "LOW-A", 100, 3, &[]).await;
    app.product("plenty", "PLENTY", 100, 10, &[]).await;
    app.product("sold-out", "GONE", 100, 0, &[]).await;
    let reserved = app
        .internal_post(
            "/internal/stock/reservations",
            Some(json!({"orderId": "order-low-1", "lines": [{"sku": "LOW-A", "quantity": 2}]})),
        )
        .await;
    assert_eq!(reserved.status, StatusCode::CREATED, "{reserved:?}");

    let admin = app.admin.clone();
    let get = |path: String, token: Option<String>| {
        let app = &app;
        async move {
            app.request(Method::GET, &path, token.as_deref(), &[], None)
                .await
        }
    };
    let first = get(
        "/api/catalog/admin/low-stock?threshold=1&limit=2".into(),
        Some(admin.clone()),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{first:?}");
    let rows: Vec<(String, i64, i64, i64)> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["sku"].as_str().unwrap().to_owned(),
                i["onHand"].as_i64().unwrap(),
                i["reserved"].as_i64().unwrap(),
                i["available"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [("GONE".to_owned(), 0, 0, 0), ("LOW-A".to_owned(), 3, 2, 1)],
        "fewest available first, reservations counted"
    );
    assert_eq!(first.body["items"][1]["title"], "Product few-left");
    let cursor = first.body["nextCursor"].as_str().unwrap();
    let second = get(
        format!("/api/catalog/admin/low-stock?threshold=1&limit=2&cursor={cursor}"),
        Some(admin.clone()),
    )
    .await;
    assert_eq!(second.status, StatusCode::OK, "{second:?}");
    let skus: Vec<&str> = second.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, ["LOW-B"]);
    assert!(second.body["nextCursor"].is_null());

    let customer = app.customer.clone();
    let path = "/api/catalog/admin/low-stock".to_owned();
    assert_eq!(
        get(path.clone(), None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(path.clone(), Some(customer)).await.status,
        StatusCode::FORBIDDEN
    );
    for (bad, status) in [
        ("threshold=-1", StatusCode::UNPROCESSABLE_ENTITY),
        ("limit=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("cursor=e30", StatusCode::UNPROCESSABLE_ENTITY),
        ("threshold=many", StatusCode::BAD_REQUEST),
        ("sku[$ne]=x", StatusCode::BAD_REQUEST),
    ] {
        let reply = get(format!("{path}?{bad}"), Some(admin.clone())).await;
        assert_eq!(reply.status, status, "{bad}: {reply:?}");
        assert_eq!(reply.headers["content-type"], "application/problem+json");
    }
    app.cleanup().await;
}
