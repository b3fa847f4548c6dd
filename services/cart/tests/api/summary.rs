//! The dashboard summary: confirmed and shipped orders, cancellations and revenue per currency.

use http::{Method, StatusCode};
use serde_json::json;

use crate::common::{TestApp, app, token};

const APPROVE: &str = "4242424242424242";
const DECLINE: &str = "4000000000000002";

async fn buy(app: &TestApp, user: &str, sku: &str, quantity: i64, card: &str) -> String {
    app.add(user, sku, quantity).await;
    let reply = app.checkout(user, &format!("{user}-{sku}"), card).await;
    reply.body["id"]
        .as_str()
        .or(reply.body["orderId"].as_str())
        .unwrap_or_else(|| panic!("{reply:?}"))
        .to_owned()
}

async fn set_status(app: &TestApp, id: &str, status: &str) {
    let reply = app
        .request(
            Method::POST,
            &format!("/api/cart/admin/orders/{id}/status"),
            Some(&app.admin),
            &[],
            Some(json!({"status": status})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
}

async fn summary(app: &TestApp, query: &str) -> crate::common::Reply {
    app.request(
        Method::GET,
        &format!("/api/cart/admin/orders/summary{query}"),
        Some(&app.admin),
        &[],
        None,
    )
    .await
}

#[tokio::test]
async fn the_summary_counts_orders_cancellations_and_revenue_per_currency_since_a_date() {
    let app = app().await;
    app.catalog.product("MUG", 1000, 50).await;
    app.catalog.product_in("HAT", 2500, "USD", 50).await;
    let old = buy(&app, "old", "MUG", 1, APPROVE).await;
    let shipped = buy(&app, "alice", "MUG", 2, APPROVE).await;
    buy(&app, "bob", "MUG", 1, APPROVE).await;
    buy(&app, "carol", "HAT", 3, APPROVE).await;
    let cancelled = buy(&app, "dave", "MUG", 5, APPROVE).await;
    buy(&app, "erin", "MUG", 7, DECLINE).await;
    set_status(&app, &shipped, "SHIPPED").await;
    set_status(&app, &cancelled, "CANCELLED").await;
    sqlx::query("UPDATE orders SET created_at = '2026-01-01T00:00:00Z' WHERE id = $1::uuid")
        .bind(&old)
        .execute(&app.state.db)
        .await
        .unwrap();

    let since = summary(&app, "?since=2026-06-01T00:00:00Z").await;
    assert_eq!(since.status, StatusCode::OK, "{since:?}");
    assert_eq!(
        since.body,
        json!({
            "since": "2026-06-01T00:00:00Z",
            "orders": 3,
            "cancelled": 1,
            "revenue": [
                {"amount": 3000, "currency": "EUR"},
                {"amount": 7500, "currency": "USD"},
            ],
        })
    );
    // An offset is converted to UTC; an earlier start takes the old order in.
    let all = summary(&app, "?since=2025-12-31T23:00:00-02:00").await;
    assert_eq!(all.body["since"], "2026-01-01T01:00:00Z");
    assert_eq!(all.body["orders"], 3, "the old order is just before");
    let all = summary(&app, "?since=2025-12-31T00:00:00%2B00:00").await;
    assert_eq!(all.body["orders"], 4);
    assert_eq!(
        all.body["revenue"][0],
        json!({"amount": 4000, "currency": "EUR"})
    );
    let future = summary(&app, "?since=2999-01-01T00:00:00Z").await;
    assert_eq!(
        (
            &future.body["orders"],
            &future.body["cancelled"],
            &future.body["revenue"]
        ),
        (&json!(0), &json!(0), &json!([]))
    );
    app.cleanup().await;
}

#[tokio::test]
async fn the_summary_wants_an_admin_and_an_rfc3339_since() {
    let app = app().await;
    for query in [
        "",
        "?since=",
        "?since=yesterday",
        "?since=2026-11-01",
        "?since=2026-11-01T00:00:00Z&x=1",
    ] {
        let reply = summary(&app, query).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{query}: {reply:?}");
        assert_eq!(reply.content_type(), "application/problem+json", "{query}");
    }
    let missing = summary(&app, "").await;
    assert_eq!(missing.body["errors"][0]["field"], "since");
    let customer = token("alice", &["customer"]);
    let forbidden = app
        .request(
            Method::GET,
            "/api/cart/admin/orders/summary?since=2026-11-01T00:00:00Z",
            Some(&customer),
            &[],
            None,
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    assert_eq!(forbidden.content_type(), "application/problem+json");
    let anonymous = app
        .request(
            Method::GET,
            "/api/cart/admin/orders/summary?since=2026-11-01T00:00:00Z",
            None,
            &[],
            None,
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    app.cleanup().await;
}
