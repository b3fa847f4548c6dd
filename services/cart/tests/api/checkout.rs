use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::json;
use storefront_cart::checkout::saga;

use crate::common::{Options, app, app_with, token};

const APPROVE: &str = "4242 4242 4242 4242";
const DECLINE: &str = "4000000000000002";
const ERROR: &str = "4000000000000119";
const SLOW: &str = "4000000000003055";

#[tokio::test]
async fn checkout_confirms_the_order_takes_stock_once_and_clears_the_cart() {
    let app = app().await;
    app.catalog.product("MUG", 1299, 10).await;
    app.catalog.product("TEE", 2500, 5).await;
    app.add("alice", "MUG", 2).await;
    app.add("alice", "TEE", 1).await;

    let reply = app.checkout("alice", "order-1", APPROVE).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    assert_eq!(reply.body["status"], "CONFIRMED");
    assert_eq!(
        reply.body["total"],
        json!({"amount": 2 * 1299 + 2500, "currency": "EUR"})
    );
    assert_eq!(reply.body["lines"][0]["unitPrice"]["amount"], 1299);
    let id = reply.body["id"].as_str().unwrap().to_owned();

    assert_eq!(
        app.catalog.inventory("MUG").await,
        (8, 0),
        "taken off the shelf once"
    );
    assert_eq!(app.catalog.inventory("TEE").await, (4, 0));
    assert_eq!(
        app.catalog.reservation(&id).await.as_deref(),
        Some("committed")
    );
    assert_eq!(app.payment(&id).await.as_deref(), Some("authorized"));
    assert_eq!(
        app.user(Method::GET, "/api/cart", "alice", None).await.body["lines"],
        json!([])
    );

    let placed = app.outbox("OrderPlaced").await;
    assert_eq!(placed.len(), 1);
    assert_eq!(placed[0]["orderId"], id.as_str());

    let listed = app
        .user(Method::GET, "/api/cart/orders", "alice", None)
        .await;
    assert_eq!(listed.body["items"][0]["id"], id.as_str());
    assert_eq!(listed.body["items"][0], reply.body);
    app.cleanup().await;
}

#[tokio::test]
async fn the_same_idempotency_key_five_times_at_once_makes_one_order_and_one_answer() {
    let app = app().await;
    app.catalog.product("MUG", 1299, 10).await;
    app.add("alice", "MUG", 3).await;

    let replies =
        futures::future::join_all((0..5).map(|_| app.checkout("alice", "same-key", APPROVE))).await;
    for reply in &replies {
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        assert_eq!(reply.raw, replies[0].raw, "identical answers");
    }
    assert_eq!(
        replies
            .iter()
            .filter(|r| r.headers.contains_key("idempotent-replayed"))
            .count(),
        4,
        "one ran, four were replays"
    );
    assert_eq!(app.order_count().await, 1);
    assert_eq!(app.catalog.inventory("MUG").await, (7, 0));

    // Later replays too; a new key with an empty cart now is a 422.
    let later = app.checkout("alice", "same-key", APPROVE).await;
    assert_eq!(later.raw, replies[0].raw);
    let empty = app.checkout("alice", "another-key", APPROVE).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY, "{empty:?}");
    assert_eq!(app.order_count().await, 1);
    app.cleanup().await;
}

#[tokio::test]
async fn a_reused_key_with_another_body_is_422_and_a_missing_key_is_400() {
    let app = app().await;
    app.catalog.product("MUG", 1299, 10).await;
    app.add("alice", "MUG", 1).await;
    assert_eq!(
        app.checkout("alice", "k", APPROVE).await.status,
        StatusCode::CREATED
    );

    let reused = app.checkout("alice", "k", DECLINE).await;
    assert_eq!(
        reused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{reused:?}"
    );
    assert_eq!(reused.content_type(), "application/problem+json");
    assert!(
        reused.body["type"]
            .as_str()
            .unwrap()
            .ends_with("idempotency-key-reused")
    );

    // Keys are per caller: Bob's "k" is his own.
    app.add("bob", "MUG", 1).await;
    assert_eq!(
        app.checkout("bob", "k", DECLINE).await.status,
        StatusCode::PAYMENT_REQUIRED
    );

    let alice = token("alice", &["customer"]);
    let missing = app
        .request(
            Method::POST,
            "/api/cart/checkout",
            Some(&alice),
            &[],
            Some(json!({"paymentToken": APPROVE})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert!(
        missing.body["detail"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key")
    );
    let blank = app.checkout("alice", "k2", " ").await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    let guest = app
        .request(
            Method::POST,
            "/api/cart/checkout",
            None,
            &[("idempotency-key", "g")],
            Some(json!({"paymentToken": APPROVE})),
        )
        .await;
    assert_eq!(guest.status, StatusCode::UNAUTHORIZED);
    app.cleanup().await;
}

#[tokio::test]
async fn a_key_still_in_flight_is_409_and_its_answer_comes_later() {
    let mut options = Options::default();
    options.checkout.idempotency_wait = Duration::from_millis(100);
    options.sandbox_slow = Duration::from_millis(1500);
    let app = app_with(options).await;
    app.catalog.product("MUG", 1299, 10).await;
    app.add("alice", "MUG", 1).await;

    let (first, second) = tokio::join!(app.checkout("alice", "slow", SLOW), async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        app.checkout("alice", "slow", SLOW).await
    });
    assert_eq!(second.status, StatusCode::CONFLICT, "{second:?}");
    assert!(second.headers.contains_key("retry-after"));
    assert_eq!(second.content_type(), "application/problem+json");
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");

    let third = app.checkout("alice", "slow", SLOW).await;
    assert_eq!(third.raw, first.raw);
    assert_eq!(third.headers["idempotent-replayed"], "true");
    assert_eq!(app.order_count().await, 1);
    app.cleanup().await;
}

#[tokio::test]
async fn a_declined_card_fails_the_order_with_its_reason_and_releases_the_stock() {
    let app = app().await;
    app.catalog.product("MUG", 1299, 10).await;
    app.add("alice", "MUG", 4).await;

    let reply = app.checkout("alice", "declined", DECLINE).await;
    assert_eq!(reply.status, StatusCode::PAYMENT_REQUIRED, "{reply:?}");
    assert_eq!(reply.content_type(), "application/problem+json");
    assert_eq!(reply.body["reason"], "payment_declined");
    let id = reply.body["orderId"].as_str().unwrap().to_owned();

    let order = app
        .user(
            Method::GET,
            &format!("/api/cart/orders/{id}"),
            "alice",
            None,
        )
        .await;
    assert_eq!(order.body["status"], "FAILED");
    assert_eq!(order.body["failure"]["reason"], "payment_declined");
    assert!(
        order.body["failure"]["detail"]
            .as_str()
            .unwrap()
            .contains("card_declined")
    );
    assert_eq!(
        app.catalog.inventory("MUG").await,
        (10, 0),
        "stock released"
    );
    assert_eq!(
        app.catalog.reservation(&id).await.as_deref(),
        Some("released")
    );
    assert_eq!(app.payment(&id).await.as_deref(), Some("declined"));
    assert_eq!(
        app.user(Method::GET, "/api/cart", "alice", None).await.body["itemCount"],
        4,
        "the cart is kept"
    );
    assert!(app.outbox("OrderPlaced").await.is_empty());
    app.cleanup().await;
}

#[tokio::test]
async fn a_payment_error_compensates_fully() {
    let app = app().await;
    app.catalog.product("MUG", 1299, 10).await;
    app.add("alice", "MUG", 2).await;

    let reply = app.checkout("alice", "error", ERROR).await;
    assert_eq!(reply.status, StatusCode::BAD_GATEWAY, "{reply:?}");
    assert_eq!(reply.body["reason"], "payment_error");
    let id = reply.body["orderId"].as_str().unwrap();
    assert_eq!(app.catalog.inventory("MUG").await, (10, 0));
    assert_eq!(
        app.catalog.reservation(id).await.as_deref(),
        Some("released")
    );
    assert_eq!(
        app.payment(id).await.as_deref(),
        Some("voided"),
        "nothing left authorized"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn out_of_stock_is_a_clear_409_and_nothing_is_reserved() {
    let app = app().await;
    app.catalog.product("MUG", 1299, 3).await;
    app.catalog.product("TEE", 500, 3).await;
    app.add("alice", "MUG", 1).await;
    app.add("alice", "TEE", 2).await;
    app.catalog.set_stock("TEE", 1).await;

    let reply = app.checkout("alice", "short", APPROVE).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{reply:?}");
    assert_eq!(reply.content_type(), "application/problem+json");
    assert!(
        reply.body["type"]
            .as_str()
            .is_some_and(|t| t.ends_with("/out-of-stock")),
        "the documented problem type: {reply:?}"
    );
    assert_eq!(reply.body["errors"][0]["field"], "lines[1].quantity");
    assert!(
        reply.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("only 1 of TEE")
    );
    assert_eq!(app.catalog.inventory("MUG").await, (3, 0));
    assert_eq!(app.catalog.reservation_count().await, 0);
    assert_eq!(app.order_count().await, 0);
    // Nothing happened, so the same key works once the cart is fixed.
    app.user(
        Method::PUT,
        "/api/cart/lines/TEE",
        "alice",
        Some(json!({"quantity": 1})),
    )
    .await;
    assert_eq!(
        app.checkout("alice", "short", APPROVE).await.status,
        StatusCode::CREATED
    );

    // Lost the race between repricing and reserving: the reservation refuses, the order fails.
    app.add("alice", "MUG", 2).await;
    let claim = saga::create_order(&app.state, "alice", None, APPROVE)
        .await
        .unwrap();
    app.catalog.set_stock("MUG", 1).await;
    let outcome = saga::drive(&app.state, claim).await.unwrap();
    let saga::Outcome::Settled(answer) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(answer.status, 409);
    assert!(answer.body.contains("out_of_stock"), "{}", answer.body);
    assert_eq!(
        app.catalog.inventory("MUG").await,
        (1, 0),
        "nothing reserved"
    );
    assert_eq!(
        app.catalog
            .reservation(&claim.order.to_string())
            .await
            .as_deref(),
        Some("released")
    );
    app.cleanup().await;
}

#[tokio::test]
async fn concurrent_checkouts_never_oversell() {
    let app = app().await;
    app.catalog.product("SCARCE", 1000, 5).await;
    let users: Vec<String> = (0..12).map(|i| format!("user-{i}")).collect();
    for user in &users {
        app.add(user, "SCARCE", 1).await;
    }
    let replies =
        futures::future::join_all(users.iter().map(|u| app.checkout(u, "buy", APPROVE))).await;
    let confirmed = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let refused = replies
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT)
        .count();
    assert_eq!(confirmed, 5, "{replies:?}");
    assert_eq!(refused, 7, "{replies:?}");
    assert_eq!(app.catalog.inventory("SCARCE").await, (0, 0));
    app.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_shoppers_racing_for_ten_units_get_exactly_ten_orders() {
    let app = Arc::new(
        app_with(Options {
            // A hundred lookups at once on a shared machine: patience, not failures.
            catalog_timeout: Duration::from_secs(20),
            ..Options::default()
        })
        .await,
    );
    app.catalog.product("RARE", 4200, 10).await;
    let users: Vec<String> = (0..100).map(|i| format!("racer-{i}")).collect();
    for user in &users {
        app.add_raw_line(user, "RARE", 1).await;
    }
    let racers = users.iter().map(|user| {
        let (app, user) = (app.clone(), user.clone());
        tokio::spawn(async move { app.checkout(&user, "buy", APPROVE).await })
    });
    let replies: Vec<_> = futures::future::join_all(racers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let confirmed: Vec<&str> = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .map(|r| r.body["id"].as_str().unwrap())
        .collect();
    let out_of_stock = replies
        .iter()
        .filter(|r| {
            r.status == StatusCode::CONFLICT
                && r.content_type() == "application/problem+json"
                // Refused at repricing (no order) or by the reservation (order FAILED): the
                // same problem type either way.
                && r.body["type"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("/out-of-stock"))
        })
        .count();
    assert_eq!(confirmed.len(), 10, "{replies:?}");
    assert_eq!(out_of_stock, 90, "{replies:?}");
    assert_eq!(
        app.catalog.inventory("RARE").await,
        (0, 0),
        "all ten sold, nothing left held"
    );
    for id in &confirmed {
        assert_eq!(
            app.catalog.reservation(id).await.as_deref(),
            Some("committed")
        );
        assert_eq!(app.payment(id).await.as_deref(), Some("authorized"));
    }
    let (in_db, failed_reasons): (i64, Vec<Option<String>>) = (
        sqlx::query_scalar("SELECT count(*) FROM orders WHERE status = 'CONFIRMED'")
            .fetch_one(&app.state.db)
            .await
            .unwrap(),
        sqlx::query_scalar("SELECT failure_reason FROM orders WHERE status <> 'CONFIRMED'")
            .fetch_all(&app.state.db)
            .await
            .unwrap(),
    );
    assert_eq!(in_db, 10);
    assert!(
        failed_reasons
            .iter()
            .all(|r| r.as_deref() == Some("out_of_stock")),
        "{failed_reasons:?}"
    );
    let authorized: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sandbox_payments WHERE status = 'authorized'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(authorized, 10, "only the winners were charged");
    match Arc::try_unwrap(app) {
        Ok(app) => app.cleanup().await,
        Err(_) => panic!("a checkout task still holds the app"),
    }
}
