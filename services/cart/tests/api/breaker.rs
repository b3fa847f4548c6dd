use std::sync::atomic::Ordering;

use http::{Method, StatusCode};
use serde_json::json;

use crate::common::{Options, app_with, dead_catalog};

#[tokio::test]
async fn a_catalog_that_is_down_opens_the_circuit_and_answers_503_with_retry_after() {
    let (url, connections) = dead_catalog().await;
    let options = Options {
        catalog_url: Some(url),
        breaker_failures: 4,
        ..Options::default()
    };
    let app = app_with(options).await;
    let add = || {
        app.user(
            Method::POST,
            "/api/cart/lines",
            "alice",
            Some(json!({"sku": "MUG"})),
        )
    };

    // Each call tries twice (one retry) before giving up; two calls open the circuit.
    for _ in 0..2 {
        let reply = add().await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{reply:?}");
        assert_eq!(reply.content_type(), "application/problem+json");
        assert!(reply.headers.contains_key("retry-after"));
    }
    assert!(app.state.catalog.breaker().is_open());
    let tried = connections.load(Ordering::SeqCst);
    assert!(tried >= 4, "{tried}");

    // While open, a call fails without trying the catalog (the connection count below).
    let reply = add().await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    let retry_after: u64 = reply.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    assert_eq!(
        connections.load(Ordering::SeqCst),
        tried,
        "the catalog is left alone"
    );

    // Cart reads need prices too, so they answer the same way; health stays a matter of our own stores.
    app.add_raw_line("alice", "MUG", 1).await;
    let view = app.user(Method::GET, "/api/cart", "alice", None).await;
    assert_eq!(view.status, StatusCode::SERVICE_UNAVAILABLE);
    let ready = app.request(Method::GET, "/readyz", None, &[], None).await;
    assert_eq!(ready.status, StatusCode::OK, "{ready:?}");
    app.cleanup().await;
}

#[tokio::test]
async fn the_change_feed_failing_in_the_background_does_not_pause_shoppers() {
    let (url, connections) = dead_catalog().await;
    let options = Options {
        catalog_url: Some(url),
        breaker_failures: 2,
        ..Options::default()
    };
    let app = app_with(options).await;
    // The webhooks follow the feed; with the catalog down (or still starting) every page fails,
    // more than enough times to open a breaker.
    for _ in 0..3 {
        assert!(
            storefront_cart::webhooks::sources::follow_catalog_once(&app.state)
                .await
                .is_err()
        );
    }
    let tried = connections.load(Ordering::SeqCst);
    assert!(tried >= 2, "{tried}");
    assert!(
        !app.state.catalog.breaker().is_open(),
        "shoppers' calls are not paused by the feed"
    );
    // A shopper's call still goes to the catalog.
    let reply = app
        .user(
            Method::POST,
            "/api/cart/lines",
            "alice",
            Some(json!({"sku": "MUG"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{reply:?}");
    assert!(
        connections.load(Ordering::SeqCst) > tried,
        "the catalog was tried"
    );
}
