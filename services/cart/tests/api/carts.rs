use http::{Method, StatusCode};
use serde_json::json;

use crate::common::{app, token};

#[tokio::test]
async fn guest_cart_lines_are_added_updated_and_removed_with_catalog_prices() {
    let app = app().await;
    app.catalog.product("MUG-RED", 1299, 10).await;
    app.catalog.product("TEE-S", 2500, 10).await;

    let created = app.guest(Method::POST, "/api/cart", None, None).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let cart = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.headers["x-cart-id"], cart.as_str());
    assert!(
        created.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("HttpOnly")
    );

    let added = app
        .guest(
            Method::POST,
            "/api/cart/lines",
            Some(&cart),
            Some(json!({"sku": "MUG-RED", "quantity": 2})),
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{added:?}");
    let line = &added.body["lines"][0];
    assert_eq!(line["title"], "Product MUG-RED");
    assert_eq!(
        line["unitPrice"],
        json!({"amount": 1299, "currency": "EUR"})
    );
    assert_eq!(line["lineTotal"]["amount"], 2598);
    assert_eq!(line["inStock"], true);

    // Adding again adds up; a client-sent price is not even accepted.
    app.guest(
        Method::POST,
        "/api/cart/lines",
        Some(&cart),
        Some(json!({"sku": "MUG-RED"})),
    )
    .await;
    let priced = app
        .guest(
            Method::POST,
            "/api/cart/lines",
            Some(&cart),
            Some(json!({"sku": "TEE-S", "quantity": 1, "price": 1})),
        )
        .await;
    assert_eq!(
        priced.status,
        StatusCode::BAD_REQUEST,
        "unknown fields are refused: {priced:?}"
    );
    app.guest(
        Method::POST,
        "/api/cart/lines",
        Some(&cart),
        Some(json!({"sku": "TEE-S", "quantity": 1})),
    )
    .await;
    let view = app.guest(Method::GET, "/api/cart", Some(&cart), None).await;
    assert_eq!(view.body["itemCount"], 4);
    assert_eq!(view.body["subtotal"]["amount"], 3 * 1299 + 2500);

    let updated = app
        .guest(
            Method::PUT,
            "/api/cart/lines/MUG-RED",
            Some(&cart),
            Some(json!({"quantity": 5})),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{updated:?}");
    assert_eq!(updated.body["subtotal"]["amount"], 5 * 1299 + 2500);

    let removed = app
        .guest(Method::DELETE, "/api/cart/lines/TEE-S", Some(&cart), None)
        .await;
    assert_eq!(removed.status, StatusCode::OK);
    assert_eq!(removed.body["lines"].as_array().unwrap().len(), 1);
    let again = app
        .guest(Method::DELETE, "/api/cart/lines/TEE-S", Some(&cart), None)
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    // Quantity 0 removes; the cookie names the cart as well as the header.
    app.guest(
        Method::PUT,
        "/api/cart/lines/MUG-RED",
        Some(&cart),
        Some(json!({"quantity": 0})),
    )
    .await;
    let cookie = format!("theme=dark; cart_id={cart}");
    let empty = app
        .request(Method::GET, "/api/cart", None, &[("cookie", &cookie)], None)
        .await;
    assert_eq!(empty.body["lines"], json!([]));
    assert_eq!(empty.body["id"], cart.as_str());

    // A guest's first add without a cart gets one.
    let fresh = app
        .guest(
            Method::POST,
            "/api/cart/lines",
            None,
            Some(json!({"sku": "TEE-S"})),
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK);
    assert_ne!(fresh.body["id"], cart.as_str());
    assert_eq!(
        fresh.headers["x-cart-id"],
        fresh.body["id"].as_str().unwrap()
    );

    // Activity keeps the cart alive: it has a TTL.
    let ttl: i64 = redis::cmd("TTL")
        .arg(format!("{}cart:g:{cart}", app.state.redis_prefix))
        .query_async(&mut app.state.redis.clone())
        .await
        .unwrap();
    assert!(
        ttl == -2 || ttl > 0,
        "an empty cart is gone, a live one expires: {ttl}"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn bad_cart_input_is_a_problem_4xx() {
    let app = app().await;
    app.catalog.product("ONE", 100, 3).await;
    let post =
        |body: serde_json::Value| app.user(Method::POST, "/api/cart/lines", "u1", Some(body));

    for (body, status, field) in [
        (
            json!({"sku": "a b", "quantity": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "sku",
        ),
        (
            json!({"sku": "ONE", "quantity": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "quantity",
        ),
        (
            json!({"sku": "ONE", "quantity": 21}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "quantity",
        ),
        (
            json!({"sku": "NOPE", "quantity": 1}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "sku",
        ),
        (
            json!({"sku": "ONE", "quantity": 4}),
            StatusCode::CONFLICT,
            "quantity",
        ),
    ] {
        let reply = post(body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {reply:?}");
        assert_eq!(reply.content_type(), "application/problem+json");
        assert_eq!(reply.body["errors"][0]["field"], field, "{reply:?}");
    }
    let reply = post(json!({"quantity": 1})).await;
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "missing sku: {reply:?}"
    );

    let bad_id = app
        .guest(Method::GET, "/api/cart", Some("not-a-cart"), None)
        .await;
    assert_eq!(bad_id.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_id.content_type(), "application/problem+json");

    let bad_token = app
        .request(Method::GET, "/api/cart", Some("garbage"), &[], None)
        .await;
    assert_eq!(bad_token.status, StatusCode::UNAUTHORIZED);

    let merge_as_guest = app.guest(Method::POST, "/api/cart/merge", None, None).await;
    assert_eq!(merge_as_guest.status, StatusCode::UNAUTHORIZED);

    // At most 5 lines (the test limit).
    for i in 0..5 {
        app.catalog.product(&format!("L{i}"), 100, 10).await;
        app.add("u2", &format!("L{i}"), 1).await;
    }
    let sixth = app
        .user(
            Method::POST,
            "/api/cart/lines",
            "u2",
            Some(json!({"sku": "ONE"})),
        )
        .await;
    assert_eq!(sixth.status, StatusCode::UNPROCESSABLE_ENTITY, "{sixth:?}");
    app.cleanup().await;
}

#[tokio::test]
async fn guest_cart_merges_into_the_user_cart_on_login() {
    let app = app().await;
    app.catalog.product("A", 100, 50).await;
    app.catalog.product("B", 200, 50).await;
    app.add("alice", "A", 2).await;

    let guest = app
        .guest(
            Method::POST,
            "/api/cart/lines",
            None,
            Some(json!({"sku": "A", "quantity": 1})),
        )
        .await;
    let cart = guest.body["id"].as_str().unwrap().to_owned();
    app.guest(
        Method::POST,
        "/api/cart/lines",
        Some(&cart),
        Some(json!({"sku": "B", "quantity": 2})),
    )
    .await;

    let alice = token("alice", &["customer"]);
    let merged = app
        .request(
            Method::POST,
            "/api/cart/merge",
            Some(&alice),
            &[("x-cart-id", &cart)],
            None,
        )
        .await;
    assert_eq!(merged.status, StatusCode::OK, "{merged:?}");
    let lines: Vec<(String, i64)> = merged.body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["sku"].as_str().unwrap().to_owned(),
                l["quantity"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(lines, vec![("A".to_owned(), 3), ("B".to_owned(), 2)]);
    assert!(
        merged.body.get("id").is_none(),
        "a user cart has no guest id"
    );
    assert!(
        merged.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );

    let gone = app.guest(Method::GET, "/api/cart", Some(&cart), None).await;
    assert_eq!(gone.body["lines"], json!([]), "the guest cart is gone");

    // Merging again (or with the id in the body) changes nothing.
    let again = app
        .request(
            Method::POST,
            "/api/cart/merge",
            Some(&alice),
            &[],
            Some(json!({"cartId": cart})),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["itemCount"], 5);
    app.cleanup().await;
}

#[tokio::test]
async fn users_cannot_touch_each_others_carts_or_orders() {
    let app = app().await;
    app.catalog.product("X", 100, 50).await;
    app.add("alice", "X", 2).await;

    let bob_view = app.user(Method::GET, "/api/cart", "bob", None).await;
    assert_eq!(bob_view.body["lines"], json!([]));
    // Bob's token wins over a cart id header: he cannot address Alice's cart at all.
    let bob_delete = app
        .user(Method::DELETE, "/api/cart/lines/X", "bob", None)
        .await;
    assert_eq!(bob_delete.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.user(Method::GET, "/api/cart", "alice", None).await.body["itemCount"],
        2
    );

    let order = app.checkout("alice", "k-1", "4242424242424242").await;
    assert_eq!(order.status, StatusCode::CREATED, "{order:?}");
    let id = order.body["id"].as_str().unwrap();

    let path = format!("/api/cart/orders/{id}");
    assert_eq!(
        app.user(Method::GET, &path, "alice", None).await.status,
        StatusCode::OK
    );
    let bob = app.user(Method::GET, &path, "bob", None).await;
    assert_eq!(
        bob.status,
        StatusCode::NOT_FOUND,
        "not even its existence leaks"
    );
    assert_eq!(
        app.user(Method::GET, "/api/cart/orders", "bob", None)
            .await
            .body["items"],
        json!([])
    );
    let admin_view = app
        .request(Method::GET, &path, Some(&app.admin), &[], None)
        .await;
    assert_eq!(admin_view.status, StatusCode::OK);
    assert_eq!(
        app.request(Method::GET, "/api/cart/orders", None, &[], None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    app.cleanup().await;
}
