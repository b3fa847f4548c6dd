//! The order's life after checkout, against the real stores and catalog: an order whose payment
//! is never completed expires and its stock returns; shipping captures; refunds (full and
//! partial) never exceed the capture, once per Idempotency-Key; shoppers cancel their own
//! unshipped orders.

use http::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_cart::recovery;

use crate::common::{TestApp, app};

const APPROVE: &str = "4242424242424242";
const ACTION_REQUIRED: &str = "4000 0027 6000 3184";

async fn order(app: &TestApp, user: &str, sku: &str, quantity: i64) -> String {
    app.add(user, sku, quantity).await;
    let reply = app.checkout(user, &format!("{user}-{sku}"), APPROVE).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    reply.body["id"].as_str().unwrap().to_owned()
}

async fn admin_order(app: &TestApp, id: &str) -> Value {
    let reply = app
        .request(
            Method::GET,
            &format!("/api/cart/admin/orders/{id}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply.body
}

async fn set_status(app: &TestApp, id: &str, status: &str) -> crate::common::Reply {
    app.request(
        Method::POST,
        &format!("/api/cart/admin/orders/{id}/status"),
        Some(&app.admin),
        &[],
        Some(json!({"status": status})),
    )
    .await
}

async fn refund(app: &TestApp, id: &str, key: &str, body: Value) -> crate::common::Reply {
    app.request(
        Method::POST,
        &format!("/api/cart/admin/orders/{id}/refunds"),
        Some(&app.admin),
        &[("idempotency-key", key)],
        Some(body),
    )
    .await
}

async fn sandbox(app: &TestApp, id: &str) -> (String, i64, i64) {
    sqlx::query_as(
        "SELECT status, captured_amount, refunded_amount FROM sandbox_payments WHERE order_id = $1::uuid",
    )
    .bind(id)
    .fetch_one(&app.state.db)
    .await
    .unwrap()
}

#[tokio::test]
async fn an_order_whose_payment_is_never_completed_expires_and_its_stock_returns() {
    let app = app().await;
    app.catalog.product("LAMP", 4000, 5).await;
    app.add("dana", "LAMP", 2).await;

    let placed = app.checkout("dana", "pay-later", ACTION_REQUIRED).await;
    assert_eq!(placed.status, StatusCode::ACCEPTED, "{placed:?}");
    assert_eq!(placed.body["status"], "PENDING");
    let id = placed.body["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.catalog.inventory("LAMP").await,
        (5, 2),
        "two units held"
    );
    let replay = app.checkout("dana", "pay-later", ACTION_REQUIRED).await;
    assert_eq!(replay.status, StatusCode::ACCEPTED);
    assert_eq!(replay.headers["idempotent-replayed"], "true");

    // Before its time the recovery loop only asks the provider again; the order waits.
    sqlx::query("UPDATE orders SET lease_until = now() - interval '1 second' WHERE id = $1::uuid")
        .bind(&id)
        .execute(&app.state.db)
        .await
        .unwrap();
    let report = recovery::recover_once(&app.state, 10).await.unwrap();
    assert_eq!(report.expired, 0);
    assert_eq!(admin_order(&app, &id).await["status"], "PENDING");
    assert_eq!(app.catalog.inventory("LAMP").await, (5, 2));

    // Time passes beyond CART_ORDER_EXPIRES_AFTER_SECONDS.
    sqlx::query(
        "UPDATE orders SET created_at = now() - interval '1 hour',
                lease_until = now() - interval '1 second' WHERE id = $1::uuid",
    )
    .bind(&id)
    .execute(&app.state.db)
    .await
    .unwrap();
    let report = recovery::recover_once(&app.state, 10).await.unwrap();
    assert_eq!(report.expired, 1, "{report:?}");

    let expired = admin_order(&app, &id).await;
    assert_eq!(expired["status"], "EXPIRED");
    assert_eq!(expired["failure"]["reason"], "payment_expired");
    assert_eq!(
        app.catalog.inventory("LAMP").await,
        (5, 0),
        "stock is back for sale"
    );
    assert_eq!(
        app.catalog.reservation(&id).await.as_deref(),
        Some("released")
    );
    assert_eq!(app.payment(&id).await.as_deref(), Some("voided"));
    let events = app.outbox("OrderExpired").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["orderId"], id.as_str());

    let after = app.checkout("dana", "pay-later", ACTION_REQUIRED).await;
    assert_eq!(after.status, StatusCode::PAYMENT_REQUIRED, "{after:?}");
    assert_eq!(after.body["reason"], "payment_expired");
    let again = recovery::recover_once(&app.state, 10).await.unwrap();
    assert_eq!(again.expired, 0, "an expired order stays expired");
    assert_eq!(app.catalog.inventory("LAMP").await, (5, 0));
    let shopper = app
        .user(Method::GET, &format!("/api/cart/orders/{id}"), "dana", None)
        .await;
    assert_eq!(shopper.body["status"], "EXPIRED");
    app.cleanup().await;
}

#[tokio::test]
async fn shipping_captures_and_refunds_never_exceed_the_capture() {
    let app = app().await;
    app.catalog.product("CHAIR", 1000, 10).await;
    let id = order(&app, "erin", "CHAIR", 3).await;

    let early = refund(&app, &id, "r0", json!({})).await;
    assert_eq!(
        early.status,
        StatusCode::CONFLICT,
        "nothing captured yet: {early:?}"
    );
    assert_eq!(early.content_type(), "application/problem+json");

    let shipped = set_status(&app, &id, "SHIPPED").await;
    assert_eq!(shipped.status, StatusCode::OK, "{shipped:?}");
    assert_eq!(
        shipped.body["captured"],
        json!({"amount": 3000, "currency": "EUR"})
    );
    assert_eq!(sandbox(&app, &id).await, ("captured".into(), 3000, 0));

    let partial = refund(
        &app,
        &id,
        "r1",
        json!({"amount": {"amount": 1000, "currency": "EUR"}, "reason": "scratched"}),
    )
    .await;
    assert_eq!(partial.status, StatusCode::CREATED, "{partial:?}");
    assert_eq!(partial.body["status"], "SHIPPED");
    assert_eq!(partial.body["refunded"]["amount"], 1000);
    assert_eq!(partial.body["refunds"][0]["status"], "succeeded");

    let retried = refund(
        &app,
        &id,
        "r1",
        json!({"amount": {"amount": 1000, "currency": "EUR"}, "reason": "scratched"}),
    )
    .await;
    assert_eq!(retried.status, StatusCode::OK, "{retried:?}");
    assert_eq!(retried.body["refunded"]["amount"], 1000, "refunded once");
    let reused = refund(
        &app,
        &id,
        "r1",
        json!({"amount": {"amount": 5, "currency": "EUR"}}),
    )
    .await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let too_much = refund(
        &app,
        &id,
        "r2",
        json!({"amount": {"amount": 2001, "currency": "EUR"}}),
    )
    .await;
    assert_eq!(
        too_much.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{too_much:?}"
    );
    assert_eq!(too_much.body["errors"][0]["field"], "amount.amount");
    let wrong_currency = refund(
        &app,
        &id,
        "r3",
        json!({"amount": {"amount": 10, "currency": "USD"}}),
    )
    .await;
    assert_eq!(wrong_currency.status, StatusCode::UNPROCESSABLE_ENTITY);
    let missing_key = app
        .request(
            Method::POST,
            &format!("/api/cart/admin/orders/{id}/refunds"),
            Some(&app.admin),
            &[],
            Some(json!({})),
        )
        .await;
    assert_eq!(missing_key.status, StatusCode::BAD_REQUEST);

    // Two admins refund the rest at once: one goes through, the other finds nothing left.
    let (a, b) = tokio::join!(
        refund(
            &app,
            &id,
            "r4",
            json!({"amount": {"amount": 2000, "currency": "EUR"}})
        ),
        refund(
            &app,
            &id,
            "r5",
            json!({"amount": {"amount": 2000, "currency": "EUR"}})
        ),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses[0], StatusCode::CREATED, "{a:?} {b:?}");
    assert!(statuses[1].is_client_error(), "{a:?} {b:?}");

    let done = admin_order(&app, &id).await;
    assert_eq!(done["status"], "REFUNDED");
    assert_eq!(done["refunded"]["amount"], 3000);
    assert_eq!(sandbox(&app, &id).await, ("captured".into(), 3000, 3000));
    let events = app.outbox("OrderRefunded").await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["fullyRefunded"], true);
    let nothing_left = refund(&app, &id, "r6", json!({})).await;
    assert_eq!(nothing_left.status, StatusCode::CONFLICT);
    app.cleanup().await;
}

#[tokio::test]
async fn a_full_refund_without_an_amount_gives_back_the_rest() {
    let app = app().await;
    app.catalog.product("DESK", 2500, 4).await;
    let id = order(&app, "finn", "DESK", 2).await;
    assert_eq!(
        set_status(&app, &id, "SHIPPED").await.status,
        StatusCode::OK
    );
    let all = refund(&app, &id, "all", json!({"reason": "returned"})).await;
    assert_eq!(all.status, StatusCode::CREATED, "{all:?}");
    assert_eq!(all.body["status"], "REFUNDED");
    assert_eq!(
        all.body["refunded"],
        json!({"amount": 5000, "currency": "EUR"})
    );
    let shopper = app
        .user(Method::GET, &format!("/api/cart/orders/{id}"), "finn", None)
        .await;
    assert_eq!(shopper.body["status"], "REFUNDED");
    let cancel = set_status(&app, &id, "CANCELLED").await;
    assert_eq!(cancel.status, StatusCode::CONFLICT, "final: {cancel:?}");
    app.cleanup().await;
}

#[tokio::test]
async fn shoppers_cancel_their_own_orders_until_they_ship() {
    let app = app().await;
    app.catalog.product("VASE", 1500, 6).await;
    let mine = order(&app, "gus", "VASE", 2).await;
    let shipped = order(&app, "hana", "VASE", 1).await;
    assert_eq!(app.catalog.inventory("VASE").await, (3, 0));

    let stranger = app
        .user(
            Method::POST,
            &format!("/api/cart/orders/{mine}/cancel"),
            "hana",
            Some(json!({})),
        )
        .await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);

    let cancelled = app
        .user(
            Method::POST,
            &format!("/api/cart/orders/{mine}/cancel"),
            "gus",
            Some(json!({"reason": "changed my mind"})),
        )
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{cancelled:?}");
    assert_eq!(cancelled.body["status"], "CANCELLED");
    assert_eq!(
        app.catalog.inventory("VASE").await,
        (5, 0),
        "two back on the shelf"
    );
    assert_eq!(app.payment(&mine).await.as_deref(), Some("voided"));
    let twice = app
        .user(
            Method::POST,
            &format!("/api/cart/orders/{mine}/cancel"),
            "gus",
            Some(json!({})),
        )
        .await;
    assert_eq!(
        twice.status,
        StatusCode::OK,
        "cancelling again changes nothing"
    );
    assert_eq!(app.catalog.inventory("VASE").await, (5, 0));
    let events = app.outbox("OrderCancelled").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["cancelledBy"], "gus");

    assert_eq!(
        set_status(&app, &shipped, "SHIPPED").await.status,
        StatusCode::OK
    );
    let late = app
        .user(
            Method::POST,
            &format!("/api/cart/orders/{shipped}/cancel"),
            "hana",
            Some(json!({})),
        )
        .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "{late:?}");
    assert_eq!(late.content_type(), "application/problem+json");
    app.cleanup().await;
}
