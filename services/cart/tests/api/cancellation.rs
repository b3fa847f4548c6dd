//! Cancelling a confirmed order voids its payment and returns its stock to the catalog, once,
//! even when the catalog is away at that moment or the process dies right after the status change.

use std::sync::Arc;

use http::{Method, StatusCode};
use serde_json::json;
use storefront_cart::catalog_client::CatalogClient;
use storefront_cart::config::CatalogSettings;
use storefront_cart::ids::OrderId;
use storefront_cart::orders::cancellation;
use storefront_cart::{recovery, service};
use storefront_kit::testing::server_config;

use crate::common::{Reply, TestApp, app, dead_catalog};

const APPROVE: &str = "4242424242424242";

async fn order(app: &TestApp, user: &str, quantity: i64) -> String {
    app.add(user, "MUG", quantity).await;
    let reply = app
        .checkout(user, &format!("{user}-{quantity}"), APPROVE)
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    reply.body["id"].as_str().unwrap().to_owned()
}

async fn cancel(app: &TestApp, router: &axum::Router, id: &str) -> Reply {
    let request = http::Request::builder()
        .method(Method::POST)
        .uri(format!("/api/cart/admin/orders/{id}/status"))
        .header("authorization", format!("Bearer {}", app.admin))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            json!({"status": "CANCELLED", "reason": "customer request"}).to_string(),
        ))
        .unwrap();
    app.send_to(router, request).await
}

async fn pending(app: &TestApp, id: &str) -> bool {
    sqlx::query_scalar("SELECT cancellation_pending FROM orders WHERE id = $1::uuid")
        .bind(id)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

/// Time passes: the order's lease runs out.
async fn expire_lease(app: &TestApp, id: &str) {
    sqlx::query("UPDATE orders SET lease_until = now() - interval '1 second' WHERE id = $1::uuid")
        .bind(id)
        .execute(&app.state.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn cancelling_a_confirmed_order_returns_its_stock_once() {
    let app = app().await;
    app.catalog.product("MUG", 1000, 10).await;
    let id = order(&app, "alice", 3).await;
    let other = order(&app, "bob", 2).await;
    assert_eq!(app.catalog.inventory("MUG").await, (5, 0));

    let first = cancel(&app, &app.router, &id).await;
    assert_eq!(first.status, StatusCode::OK, "{first:?}");
    assert_eq!(first.body["status"], "CANCELLED");
    assert_eq!(
        app.catalog.inventory("MUG").await,
        (8, 0),
        "three back on the shelf"
    );
    assert_eq!(
        app.catalog.reservation(&id).await.as_deref(),
        Some("returned")
    );
    assert_eq!(app.payment(&id).await.as_deref(), Some("voided"));
    assert!(!pending(&app, &id).await);

    let second = cancel(&app, &app.router, &id).await;
    assert_eq!(second.status, StatusCode::OK, "{second:?}");
    assert_eq!(
        second.body["version"], first.body["version"],
        "nothing changed"
    );
    let report = {
        expire_lease(&app, &id).await;
        recovery::recover_once(&app.state, 10).await.unwrap()
    };
    assert_eq!(report.cancellations, 0, "nothing left to do");
    assert_eq!(
        app.catalog.inventory("MUG").await,
        (8, 0),
        "returned only once"
    );
    assert_eq!(app.outbox("OrderCancelled").await.len(), 1);

    // The other order is untouched; the available stock shows in the catalog again.
    assert_eq!(app.payment(&other).await.as_deref(), Some("authorized"));
    let sku = app
        .catalog
        .http
        .get(format!("{}/api/catalog/skus/MUG", app.catalog.url))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(sku["available"], 8);
    app.cleanup().await;
}

#[tokio::test]
async fn a_cancellation_the_catalog_missed_is_finished_by_the_recovery_loop() {
    let app = app().await;
    app.catalog.product("MUG", 1000, 10).await;
    let id = order(&app, "alice", 4).await;

    // The catalog cannot be reached when the admin cancels.
    let (dead, _) = dead_catalog().await;
    let mut settings = CatalogSettings::new(dead);
    settings.retries = 0;
    let mut cut_off = app.state.clone();
    cut_off.catalog = Arc::new(CatalogClient::new(&settings).unwrap());
    let router = service(cut_off).into_router(&server_config());
    let reply = cancel(&app, &router, &id).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "the cancellation stands: {reply:?}"
    );
    assert_eq!(reply.body["status"], "CANCELLED");
    assert_eq!(
        app.catalog.inventory("MUG").await,
        (6, 0),
        "not returned yet"
    );
    assert!(pending(&app, &id).await);

    expire_lease(&app, &id).await;
    let report = recovery::recover_once(&app.state, 10).await.unwrap();
    assert_eq!(report.cancellations, 1, "{report:?}");
    assert_eq!(app.catalog.inventory("MUG").await, (10, 0));
    assert_eq!(app.payment(&id).await.as_deref(), Some("voided"));
    assert!(!pending(&app, &id).await);
    app.cleanup().await;
}

#[tokio::test]
async fn a_crash_right_after_the_status_change_is_compensated_by_the_recovery_loop() {
    let app = app().await;
    app.catalog.product("MUG", 1000, 10).await;
    let id = order(&app, "alice", 2).await;
    let order_id = OrderId::parse(&id).unwrap();

    // The status change committed, then the process died before calling anyone.
    let mut tx = app.state.db.begin().await.unwrap();
    cancellation::record(&mut tx, &order_id, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        recovery::recover_once(&app.state, 10)
            .await
            .unwrap()
            .cancellations,
        0,
        "the lease of the (dead) handler still holds"
    );
    assert_eq!(app.catalog.inventory("MUG").await, (8, 0));

    expire_lease(&app, &id).await;
    let report = recovery::recover_once(&app.state, 10).await.unwrap();
    assert_eq!(report.cancellations, 1, "{report:?}");
    assert_eq!(app.catalog.inventory("MUG").await, (10, 0));
    assert_eq!(app.payment(&id).await.as_deref(), Some("voided"));
    assert_eq!(
        app.catalog.reservation(&id).await.as_deref(),
        Some("returned")
    );
    app.cleanup().await;
}
