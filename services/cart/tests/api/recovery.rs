//! A crash mid-saga is simulated by running the saga's steps up to a point and abandoning the
//! order (its lease runs out); the recovery loop must then resume or compensate it.

use http::{Method, StatusCode};
use storefront_cart::checkout::idempotency::{self, Begin};
use storefront_cart::checkout::saga::{self, Claim, Step};
use storefront_cart::ids::IdempotencyKey;
use storefront_cart::recovery;

use crate::common::{TestApp, app};

const APPROVE: &str = "4242424242424242";
const DECLINE: &str = "4000000000000002";

/// A checkout that got as far as `steps` saga steps before the process died.
async fn crash_after(app: &TestApp, user: &str, key: &str, card: &str, steps: usize) -> Claim {
    let key = IdempotencyKey::parse(key).unwrap();
    let fingerprint = idempotency::fingerprint(&["checkout/v1", card]);
    let begun = idempotency::begin(
        &app.state.db,
        user,
        &key,
        &fingerprint,
        std::time::Duration::ZERO,
    )
    .await
    .unwrap();
    assert_eq!(begun, Begin::Started);
    let claim = saga::create_order(&app.state, user, Some(&key), card)
        .await
        .unwrap();
    for _ in 0..steps {
        assert_eq!(
            saga::advance(&app.state, &claim).await.unwrap(),
            Step::Continue
        );
    }
    // The dead process's lease runs out.
    sqlx::query("UPDATE orders SET lease_until = now() - interval '1 second' WHERE id = $1")
        .bind(claim.order.as_uuid())
        .execute(&app.state.db)
        .await
        .unwrap();
    claim
}

async fn status(app: &TestApp, claim: &Claim) -> (String, Option<String>) {
    sqlx::query_as("SELECT status, failure_reason FROM orders WHERE id = $1")
        .bind(claim.order.as_uuid())
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn orders_abandoned_at_any_step_are_resumed_by_the_recovery_loop() {
    let app = app().await;
    app.catalog.product("MUG", 1000, 10).await;
    let mut claims = Vec::new();
    for (steps, user) in [(0, "u0"), (1, "u1"), (2, "u2")] {
        app.add(user, "MUG", 1).await;
        claims.push((user, crash_after(&app, user, "k", APPROVE, steps).await));
    }
    assert_eq!(
        app.catalog.inventory("MUG").await,
        (10, 2),
        "two got as far as reserving"
    );

    // Its owner is still within its lease: recovery leaves it alone.
    app.add("busy", "MUG", 1).await;
    let busy = saga::create_order(&app.state, "busy", None, APPROVE)
        .await
        .unwrap();

    let report = recovery::recover_once(&app.state, 10).await.unwrap();
    assert_eq!(report.settled, 3, "{report:?}");
    for (user, claim) in &claims {
        assert_eq!(status(&app, claim).await.0, "CONFIRMED");
        // The client's retry gets the answer the recovery stored.
        let retry = app.checkout(user, "k", APPROVE).await;
        assert_eq!(retry.status, StatusCode::CREATED, "{retry:?}");
        assert_eq!(retry.body["id"], claim.order.to_string());
        assert_eq!(
            app.catalog
                .reservation(&claim.order.to_string())
                .await
                .as_deref(),
            Some("committed")
        );
    }
    assert_eq!(
        app.catalog.inventory("MUG").await,
        (7, 0),
        "each confirmed order took stock once"
    );
    assert_eq!(status(&app, &busy).await.0, "PENDING");
    assert_eq!(app.outbox("OrderPlaced").await.len(), 3);
    app.cleanup().await;
}

#[tokio::test]
async fn a_crash_while_failing_is_compensated_by_the_recovery_loop() {
    let app = app().await;
    app.catalog.product("MUG", 1000, 10).await;
    app.add("alice", "MUG", 3).await;
    // Reserved, then the card was declined (compensation decided), then the crash.
    let claim = crash_after(&app, "alice", "k", DECLINE, 2).await;
    assert_eq!(app.catalog.inventory("MUG").await, (10, 3));
    assert_eq!(
        status(&app, &claim).await,
        ("PENDING".into(), Some("payment_declined".into()))
    );

    recovery::recover_once(&app.state, 10).await.unwrap();
    assert_eq!(
        status(&app, &claim).await,
        ("FAILED".into(), Some("payment_declined".into()))
    );
    assert_eq!(app.catalog.inventory("MUG").await, (10, 0), "released");
    let retry = app.checkout("alice", "k", DECLINE).await;
    assert_eq!(retry.status, StatusCode::PAYMENT_REQUIRED, "{retry:?}");
    app.cleanup().await;
}

#[tokio::test]
async fn an_authorized_order_whose_reservation_expired_is_compensated_and_voided() {
    let app = app().await;
    app.catalog.product("MUG", 1000, 10).await;
    app.add("alice", "MUG", 2).await;
    let claim = crash_after(&app, "alice", "k", APPROVE, 2).await;
    let order = claim.order.to_string();
    assert_eq!(app.payment(&order).await.as_deref(), Some("authorized"));
    // While the process was down the catalog let the reservation go.
    let released = app
        .catalog
        .http
        .post(format!(
            "{}/internal/stock/reservations/{order}/release",
            app.catalog.url
        ))
        .send()
        .await
        .unwrap();
    assert!(released.status().is_success());

    recovery::recover_once(&app.state, 10).await.unwrap();
    assert_eq!(
        status(&app, &claim).await,
        ("FAILED".into(), Some("reservation_expired".into()))
    );
    assert_eq!(
        app.payment(&order).await.as_deref(),
        Some("voided"),
        "no authorization without an order"
    );
    assert_eq!(app.catalog.inventory("MUG").await, (10, 0));
    let mine = app
        .user(
            Method::GET,
            &format!("/api/cart/orders/{order}"),
            "alice",
            None,
        )
        .await;
    assert_eq!(mine.body["failure"]["reason"], "reservation_expired");
    app.cleanup().await;
}
