//! Pricing against the real stores: promotions, codes (with usage limits under concurrency),
//! shipping and tax, through the quote and the checkout saga.

use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_cart::config::CartLimits;

use crate::common::{Options, TestApp, app, app_with, token};

const APPROVE: &str = "4242 4242 4242 4242";
const DECLINE: &str = "4000000000000002";

fn eur(amount: i64) -> Value {
    json!({"amount": amount, "currency": "EUR"})
}

async fn put(app: &TestApp, path: &str, body: Value) -> Value {
    let reply = app.admin(Method::PUT, path, Some(body)).await;
    assert!(reply.status.is_success(), "{path}: {reply:?}");
    reply.body
}

async fn times_used(app: &TestApp, code: &str) -> i32 {
    sqlx::query_scalar("SELECT times_used FROM discount_codes WHERE code = $1")
        .bind(code)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

/// The priced line of `sku` (carts keep no insertion order).
fn line<'a>(pricing: &'a Value, sku: &str) -> &'a Value {
    pricing["lines"]
        .as_array()
        .and_then(|lines| lines.iter().find(|l| l["sku"] == sku))
        .unwrap_or_else(|| panic!("no line {sku} in {pricing}"))
}

async fn quote(app: &TestApp, user: &str, choices: Value) -> crate::common::Reply {
    app.user(Method::POST, "/api/cart/quote", user, Some(choices))
        .await
}

#[tokio::test]
async fn a_single_use_code_used_by_twenty_concurrent_checkouts_is_accepted_once() {
    let app = app().await;
    app.catalog.product("MUG", 1500, 100).await;
    put(
        &app,
        "/api/cart/admin/discount-codes/once",
        json!({"value": {"type": "fixed", "amount": eur(500)}, "usageLimit": 1}),
    )
    .await;
    let users: Vec<String> = (0..20).map(|i| format!("shopper-{i}")).collect();
    for user in &users {
        app.add(user, "MUG", 1).await;
    }
    let app = Arc::new(app);
    let tasks: Vec<_> = users
        .iter()
        .map(|user| {
            let app = app.clone();
            let user = user.clone();
            tokio::spawn(async move {
                app.checkout_with(&user, "k", APPROVE, json!({"discountCode": "ONCE"}))
                    .await
            })
        })
        .collect();
    let mut accepted = 0;
    for task in tasks {
        let reply = task.await.unwrap();
        if reply.status == StatusCode::CREATED {
            accepted += 1;
            assert_eq!(reply.body["total"], eur(1000), "{reply:?}");
            assert_eq!(reply.body["pricing"]["discountCode"], "ONCE");
        } else {
            assert!(
                matches!(
                    reply.status,
                    StatusCode::CONFLICT | StatusCode::UNPROCESSABLE_ENTITY
                ),
                "{reply:?}"
            );
            assert_eq!(
                reply.body["errors"][0]["field"], "discountCode",
                "{reply:?}"
            );
        }
    }
    assert_eq!(accepted, 1, "a single-use code is accepted exactly once");
    assert_eq!(times_used(&app, "ONCE").await, 1);
    let redemptions: i64 = sqlx::query_scalar("SELECT count(*) FROM code_redemptions")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(redemptions, 1);
    assert_eq!(
        app.order_count().await,
        1,
        "refused checkouts create no order"
    );
    assert_eq!(app.catalog.inventory("MUG").await, (99, 0));
    let Ok(app) = Arc::try_unwrap(app) else {
        panic!("tasks still hold the app")
    };
    app.cleanup().await;
}

/// The documented rule, written independently: the exact share, rounded half up.
fn half_up(amount: i64, numerator: i64, denominator: i64) -> i64 {
    let exact = amount * numerator;
    let (whole, rest) = (exact / denominator, exact % denominator);
    if rest * 2 >= denominator {
        whole + 1
    } else {
        whole
    }
}

#[tokio::test]
async fn tax_on_many_lines_is_rounded_half_up_per_line_and_summed() {
    let app = app_with(Options {
        limits: CartLimits {
            ttl: Duration::from_secs(3600),
            max_lines: 20,
            max_quantity: 20,
        },
        ..Options::default()
    })
    .await;
    let prices = [
        1999, 333, 1005, 4999, 77, 2550, 1234, 999, 15, 10_001, 4321, 650,
    ];
    for (i, price) in prices.iter().enumerate() {
        let sku = format!("LINE-{i}");
        app.catalog.product(&sku, *price, 50).await;
        app.add("alice", &sku, 1 + (i as i64 % 3)).await;
        app.add("bob", &sku, 1 + (i as i64 % 3)).await;
    }
    put(
        &app,
        "/api/cart/admin/tax",
        json!({"pricesIncludeTax": false, "rates": [{"country": "DE", "rateBasisPoints": 1900}]}),
    )
    .await;

    let de = json!({"shippingAddress": {"country": "de"}});
    let reply = app.checkout_with("alice", "tax-1", APPROVE, de).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    let pricing = &reply.body["pricing"];
    let mut tax = 0;
    let mut net = 0;
    for (i, price) in prices.iter().enumerate() {
        let amount = price * (1 + (i as i64 % 3));
        let line = line(pricing, &format!("LINE-{i}"));
        assert_eq!(line["total"], eur(amount));
        assert_eq!(line["tax"], eur(half_up(amount, 1900, 10_000)), "line {i}");
        tax += half_up(amount, 1900, 10_000);
        net += amount;
    }
    assert_eq!(pricing["tax"], eur(tax));
    assert_eq!(
        pricing["total"],
        eur(net + tax),
        "tax is added to net prices"
    );
    assert_eq!(reply.body["total"], eur(net + tax));
    assert_ne!(
        tax,
        half_up(net, 1900, 10_000),
        "these prices show per-line rounding differs from rounding the total"
    );

    put(
        &app,
        "/api/cart/admin/tax",
        json!({"pricesIncludeTax": true, "rates": [{"country": "FR", "rateBasisPoints": 2000}]}),
    )
    .await;
    let fr = json!({"shippingAddress": {"country": "FR"}});
    let reply = app.checkout_with("bob", "tax-2", APPROVE, fr).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    let pricing = &reply.body["pricing"];
    let mut tax = 0;
    for (i, line) in pricing["lines"].as_array().unwrap().iter().enumerate() {
        let gross = line["total"]["amount"].as_i64().unwrap();
        assert_eq!(line["tax"], eur(half_up(gross, 2000, 12_000)), "line {i}");
        tax += half_up(gross, 2000, 12_000);
    }
    assert_eq!(pricing["tax"], eur(tax));
    assert_eq!(pricing["total"], eur(net), "tax is inside gross prices");
    app.cleanup().await;
}

/// A promotion on a category, a code, two zones with weight-based and flat methods, and tax
/// included in prices.
async fn store_with_rules(app: &TestApp) {
    let gear = app.catalog.category("gear").await;
    app.catalog
        .product_from(json!({
            "slug": "tent", "title": "Tent", "status": "active", "categoryIds": [gear],
            "variants": [{"sku": "TENT", "price": eur(10_000), "stock": 10, "weightGrams": 2500}],
        }))
        .await;
    app.catalog
        .product_from(json!({
            "slug": "sock", "title": "Sock", "status": "active",
            "variants": [{"sku": "SOCK", "price": eur(1000), "stock": 20, "weightGrams": 100}],
        }))
        .await;
    put(
        app,
        "/api/cart/admin/promotions/gear-sale",
        json!({"name": "Gear sale", "value": {"type": "percent", "basisPoints": 1000},
               "target": {"categoryIds": [gear]}}),
    )
    .await;
    put(
        app,
        "/api/cart/admin/discount-codes/welcome5",
        json!({"value": {"type": "fixed", "amount": eur(500)}, "minimumSubtotal": eur(2000)}),
    )
    .await;
    put(
        app,
        "/api/cart/admin/tax",
        json!({"pricesIncludeTax": true, "rates": [
            {"country": "DE", "rateBasisPoints": 1900}, {"country": "AT", "rateBasisPoints": 2000}]}),
    )
    .await;
    put(
        app,
        "/api/cart/admin/shipping-zones/dach",
        json!({"name": "Germany and Austria", "countries": ["DE", "AT"], "methods": [
            {"id": "standard", "name": "Standard", "rate": {"type": "byWeight", "tiers": [
                {"upToGrams": 1000, "amount": eur(490)}, {"upToGrams": 5000, "amount": eur(990)}]},
             "freeOver": eur(15_000)},
            {"id": "express", "name": "Express", "rate": {"type": "flat", "amount": eur(1990)}}]}),
    )
    .await;
    put(
        app,
        "/api/cart/admin/shipping-zones/world",
        json!({"name": "World", "countries": ["US"], "methods": [
            {"id": "intl", "name": "International", "rate": {"type": "flat", "amount": eur(2990)}}]}),
    )
    .await;
}

#[tokio::test]
async fn checkout_applies_promotion_code_shipping_and_tax_in_order_and_keeps_the_snapshot() {
    let app = app().await;
    store_with_rules(&app).await;
    app.add("alice", "TENT", 1).await;
    app.add("alice", "SOCK", 2).await;

    let sale = app
        .user(
            Method::POST,
            "/api/cart/prices",
            "alice",
            Some(json!({"skus": ["TENT", "SOCK", "NOPE"]})),
        )
        .await;
    assert_eq!(sale.status, StatusCode::OK, "{sale:?}");
    assert_eq!(sale.body["items"][0]["price"], eur(9000));
    assert_eq!(sale.body["items"][0]["listPrice"], eur(10_000));
    assert_eq!(sale.body["items"][0]["promotion"]["name"], "Gear sale");
    assert_eq!(sale.body["items"][1]["price"], eur(1000));
    assert_eq!(sale.body["items"].as_array().unwrap().len(), 2);

    let offered = quote(&app, "alice", json!({"shippingAddress": {"country": "DE"}})).await;
    assert_eq!(offered.status, StatusCode::OK, "{offered:?}");
    assert_eq!(offered.body["requiresShipping"], true);
    assert_eq!(
        offered.body["shippingOptions"],
        json!([
            {"id": "standard", "name": "Standard", "amount": eur(990)},
            {"id": "express", "name": "Express", "amount": eur(1990)},
        ]),
        "2.7 kg falls in the 5 kg tier"
    );
    let abroad = quote(&app, "alice", json!({"shippingAddress": {"country": "US"}})).await;
    assert_eq!(abroad.body["shippingOptions"][0]["id"], "intl");
    assert_eq!(abroad.body["pricing"]["tax"], eur(0), "no rate for US");

    let choices = json!({"shippingAddress": {"country": "DE", "name": "Alice", "city": "Berlin"},
                         "shippingMethodId": "standard", "discountCode": "welcome5"});
    let quoted = quote(&app, "alice", choices.clone()).await;
    assert_eq!(quoted.status, StatusCode::OK, "{quoted:?}");
    let reply = app.checkout_with("alice", "full-1", APPROVE, choices).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    let pricing = &reply.body["pricing"];
    assert_eq!(
        pricing,
        &quoted.body["pricing"]
            .as_object()
            .map(|q| {
                let mut q = q.clone();
                q.insert(
                    "shippingAddress".into(),
                    json!({"country": "DE", "name": "Alice", "city": "Berlin"}),
                );
                Value::Object(q)
            })
            .unwrap(),
        "checkout charges what the quote showed"
    );
    // 1. promotion: tent 100.00 → 90.00; subtotal 90.00 + 2 × 10.00 = 110.00
    let (tent, sock) = (line(pricing, "TENT"), line(pricing, "SOCK"));
    assert_eq!(tent["unitPrice"], eur(9000));
    assert_eq!(tent["promotion"]["id"], "gear-sale");
    assert!(sock.get("promotion").is_none());
    assert_eq!(pricing["subtotal"], eur(11_000));
    assert_eq!(pricing["promotionSavings"], eur(1000));
    // 2. code: 5.00 split 9000:2000 → 409 and 91 (largest remainder)
    assert_eq!(tent["discount"], eur(409));
    assert_eq!(sock["discount"], eur(91));
    assert_eq!(pricing["discount"], eur(500));
    // 3. shipping on 105.00 of goods (under the 150.00 threshold)
    assert_eq!(pricing["shipping"]["name"], "Standard");
    assert_eq!(pricing["shippingAmount"], eur(990));
    // 4. tax included at 19 %: 8591 → 1372, 1909 → 305, shipping 990 → 158
    assert_eq!(tent["tax"], eur(1372));
    assert_eq!(sock["tax"], eur(305));
    assert_eq!(pricing["shipping"]["tax"], eur(158));
    assert_eq!(pricing["tax"], eur(1835));
    assert_eq!(pricing["total"], eur(11_490));
    assert_eq!(reply.body["total"], eur(11_490));
    let ordered = reply.body["lines"].as_array().unwrap();
    let tent_line = ordered.iter().find(|l| l["sku"] == "TENT").unwrap();
    assert_eq!(
        tent_line["unitPrice"],
        eur(9000),
        "order lines carry the sale price"
    );

    let id = reply.body["id"].as_str().unwrap();
    let charged: i64 =
        sqlx::query_scalar("SELECT amount FROM sandbox_payments WHERE order_id = $1::uuid")
            .bind(id)
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(charged, 11_490, "the payment authorizes the priced total");
    let stored = app
        .user(
            Method::GET,
            &format!("/api/cart/orders/{id}"),
            "alice",
            None,
        )
        .await;
    assert_eq!(
        stored.body["pricing"], *pricing,
        "the order keeps its snapshot"
    );
    assert_eq!(times_used(&app, "WELCOME5").await, 1);

    // Rules changing later do not touch the order.
    put(
        &app,
        "/api/cart/admin/tax",
        json!({"pricesIncludeTax": true, "rates": []}),
    )
    .await;
    let again = app
        .user(
            Method::GET,
            &format!("/api/cart/orders/{id}"),
            "alice",
            None,
        )
        .await;
    assert_eq!(again.body["pricing"], *pricing);
    app.cleanup().await;
}

#[tokio::test]
async fn a_store_that_ships_needs_an_address_and_a_method_it_offers_there() {
    let app = app().await;
    store_with_rules(&app).await;
    app.add("alice", "SOCK", 1).await;

    let reply = app.checkout("alice", "ship-1", APPROVE).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{reply:?}");
    assert_eq!(reply.content_type(), "application/problem+json");
    let fields: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["shippingAddress", "shippingMethodId"]);

    let wrong_zone = json!({"shippingAddress": {"country": "US"}, "shippingMethodId": "express"});
    let reply = app
        .checkout_with("alice", "ship-2", APPROVE, wrong_zone)
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["errors"][0]["field"], "shippingMethodId");

    let nowhere = json!({"shippingAddress": {"country": "JP"}, "shippingMethodId": "intl"});
    let reply = app.checkout_with("alice", "ship-3", APPROVE, nowhere).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);

    let bad = json!({"shippingAddress": {"country": "Germany"}, "shippingMethodId": "standard"});
    let reply = app.checkout_with("alice", "ship-4", APPROVE, bad).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["errors"][0]["field"], "shippingAddress.country");
    assert_eq!(app.order_count().await, 0);

    // Free over the threshold: 15 socks are 150.00.
    let set = app
        .user(
            Method::PUT,
            "/api/cart/lines/SOCK",
            "alice",
            Some(json!({"quantity": 15})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{set:?}");
    let free = json!({"shippingAddress": {"country": "AT"}, "shippingMethodId": "standard"});
    let reply = app.checkout_with("alice", "ship-5", APPROVE, free).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    assert_eq!(reply.body["pricing"]["shippingAmount"], eur(0));
    assert_eq!(reply.body["pricing"]["taxRateBasisPoints"], 2000);
    app.cleanup().await;
}

#[tokio::test]
async fn a_failed_order_gives_its_code_back_and_a_replay_does_not_use_it_twice() {
    let app = app().await;
    app.catalog.product("MUG", 3000, 10).await;
    put(
        &app,
        "/api/cart/admin/discount-codes/single",
        json!({"value": {"type": "percent", "basisPoints": 1000}, "usageLimit": 1}),
    )
    .await;
    app.add("alice", "MUG", 1).await;
    let code = json!({"discountCode": "single"});

    let declined = app
        .checkout_with("alice", "d-1", DECLINE, code.clone())
        .await;
    assert_eq!(
        declined.status,
        StatusCode::PAYMENT_REQUIRED,
        "{declined:?}"
    );
    assert_eq!(
        times_used(&app, "SINGLE").await,
        0,
        "the failed order released it"
    );

    let placed = app
        .checkout_with("alice", "d-2", APPROVE, code.clone())
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{placed:?}");
    assert_eq!(placed.body["total"], eur(2700));
    let replay = app
        .checkout_with("alice", "d-2", APPROVE, code.clone())
        .await;
    assert_eq!(replay.status, StatusCode::CREATED);
    assert_eq!(replay.body, placed.body);
    assert_eq!(times_used(&app, "SINGLE").await, 1);

    let reused = app.checkout_with("alice", "d-2", APPROVE, json!({})).await;
    assert_eq!(
        reused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the key with another body"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn codes_keep_their_per_customer_limit_window_and_minimum() {
    let app = app().await;
    app.catalog.product("MUG", 1000, 50).await;
    put(
        &app,
        "/api/cart/admin/discount-codes/once-each",
        json!({"value": {"type": "fixed", "amount": eur(100)}, "perCustomerLimit": 1}),
    )
    .await;
    put(
        &app,
        "/api/cart/admin/discount-codes/old",
        json!({"value": {"type": "fixed", "amount": eur(100)},
               "startsAt": "2020-01-01T00:00:00Z", "endsAt": "2021-01-01T00:00:00Z"}),
    )
    .await;
    put(
        &app,
        "/api/cart/admin/discount-codes/later",
        json!({"value": {"type": "fixed", "amount": eur(100)}, "startsAt": "2999-01-01T00:00:00Z"}),
    )
    .await;
    put(
        &app,
        "/api/cart/admin/discount-codes/big-orders",
        json!({"value": {"type": "percent", "basisPoints": 500}, "minimumSubtotal": eur(5000)}),
    )
    .await;
    put(
        &app,
        "/api/cart/admin/discount-codes/paused",
        json!({"value": {"type": "percent", "basisPoints": 500}, "active": false}),
    )
    .await;
    app.add("alice", "MUG", 1).await;
    app.add("bob", "MUG", 1).await;

    let first = app
        .checkout_with(
            "alice",
            "p-1",
            APPROVE,
            json!({"discountCode": "ONCE-EACH"}),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{first:?}");
    app.add("alice", "MUG", 1).await;
    let second = app
        .checkout_with(
            "alice",
            "p-2",
            APPROVE,
            json!({"discountCode": "once-each"}),
        )
        .await;
    assert_eq!(
        second.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{second:?}"
    );
    assert_eq!(
        second.body["errors"][0]["message"],
        "has already been used on your account"
    );
    let other = app
        .checkout_with("bob", "p-3", APPROVE, json!({"discountCode": "once-each"}))
        .await;
    assert_eq!(
        other.status,
        StatusCode::CREATED,
        "another customer may use it"
    );

    for (code, message) in [
        ("old", "has expired"),
        ("later", "is not valid yet"),
        ("paused", "is not a valid code"),
        ("nope", "is not a valid code"),
        ("bad code!", "is not a valid code"),
    ] {
        let reply = quote(&app, "alice", json!({"discountCode": code})).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{code}");
        assert_eq!(reply.body["errors"][0]["field"], "discountCode");
        assert_eq!(reply.body["errors"][0]["message"], message, "{code}");
    }
    let small = quote(&app, "alice", json!({"discountCode": "big-orders"})).await;
    assert_eq!(small.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        small.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("5000"),
        "{small:?}"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn admins_write_rules_idempotently_and_bad_rules_get_problem_details() {
    let app = app().await;
    let zone = json!({"name": "EU", "countries": ["DE", "FR"], "methods": [
        {"id": "std", "name": "Standard", "rate": {"type": "flat", "amount": eur(500)}}]});
    let created = app
        .admin(
            Method::PUT,
            "/api/cart/admin/shipping-zones/eu",
            Some(zone.clone()),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    let replayed = app
        .admin(Method::PUT, "/api/cart/admin/shipping-zones/eu", Some(zone))
        .await;
    assert_eq!(replayed.status, StatusCode::OK);
    assert_eq!(replayed.body["countries"], json!(["DE", "FR"]));

    let overlap = app
        .admin(
            Method::PUT,
            "/api/cart/admin/shipping-zones/france",
            Some(json!({"name": "France", "countries": ["FR"], "methods": [
                {"id": "std", "name": "Standard", "rate": {"type": "flat", "amount": eur(500)}}]})),
        )
        .await;
    assert_eq!(overlap.status, StatusCode::CONFLICT, "{overlap:?}");
    assert_eq!(overlap.body["errors"][0]["field"], "countries[0]");

    let bad_method = app
        .admin(
            Method::PUT,
            "/api/cart/admin/shipping-zones/bad",
            Some(json!({"name": "Bad", "countries": ["XX"], "methods": [
                {"id": "Std!", "name": "", "rate": {"type": "byWeight", "tiers": []}}]})),
        )
        .await;
    assert_eq!(bad_method.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_method.content_type(), "application/problem+json");
    let fields: Vec<&str> = bad_method.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["methods[0].id", "methods[0].name", "methods[0].rate.tiers"]
    );

    let bad_code = app
        .admin(
            Method::PUT,
            "/api/cart/admin/discount-codes/half",
            Some(
                json!({"value": {"type": "percent", "basisPoints": 20000}, "usageLimit": 0,
                        "startsAt": "2030-01-01T00:00:00Z", "endsAt": "2029-01-01T00:00:00Z"}),
            ),
        )
        .await;
    assert_eq!(bad_code.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = bad_code.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["value.basisPoints", "endsAt", "usageLimit"]);

    let unknown_type = app
        .admin(
            Method::PUT,
            "/api/cart/admin/promotions/x",
            Some(json!({"name": "X", "value": {"type": "bogo"}})),
        )
        .await;
    assert_eq!(
        unknown_type.status,
        StatusCode::BAD_REQUEST,
        "{unknown_type:?}"
    );

    let bad_tax = app
        .admin(
            Method::PUT,
            "/api/cart/admin/tax",
            Some(json!({"pricesIncludeTax": true, "rates": [
                {"country": "de", "rateBasisPoints": 1900}, {"country": "FR", "rateBasisPoints": 10001}]})),
        )
        .await;
    assert_eq!(bad_tax.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad_tax.body["errors"].as_array().unwrap().len(), 2);

    let customer = token("alice", &["customer"]);
    let forbidden = app
        .request(
            Method::GET,
            "/api/cart/admin/discount-codes",
            Some(&customer),
            &[],
            None,
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);

    for i in 0..3 {
        put(
            &app,
            &format!("/api/cart/admin/promotions/p{i}"),
            json!({"name": format!("P{i}"), "value": {"type": "percent", "basisPoints": 100}}),
        )
        .await;
    }
    let first = app
        .admin(Method::GET, "/api/cart/admin/promotions?limit=2", None)
        .await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let cursor = first.body["nextCursor"].as_str().unwrap();
    let rest = app
        .admin(
            Method::GET,
            &format!("/api/cart/admin/promotions?limit=2&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(rest.body["items"][0]["id"], "p2");
    assert!(rest.body["nextCursor"].is_null());
    app.cleanup().await;
}
