//! The OpenAPI document is built from the routes themselves and lists every one of them; every
//! error the service answers is problem+json.

use http::{Method, StatusCode};

use crate::common::app;

/// Every public route of the service, with its methods.
const ROUTES: &[(&str, &[&str])] = &[
    ("/api/cart", &["get", "post"]),
    ("/api/cart/lines", &["post"]),
    ("/api/cart/lines/{sku}", &["put", "delete"]),
    ("/api/cart/merge", &["post"]),
    ("/api/cart/checkout", &["post"]),
    ("/api/cart/orders", &["get"]),
    ("/api/cart/orders/{id}", &["get"]),
    ("/api/cart/admin/orders", &["get"]),
    ("/api/cart/admin/orders/summary", &["get"]),
    ("/api/cart/admin/orders/{id}", &["get"]),
    ("/api/cart/admin/orders/{id}/status", &["post"]),
    ("/api/cart/quote", &["post"]),
    ("/api/cart/prices", &["post"]),
    ("/api/cart/admin/tax", &["get", "put"]),
    ("/api/cart/admin/shipping-zones", &["get"]),
    (
        "/api/cart/admin/shipping-zones/{id}",
        &["get", "put", "delete"],
    ),
    ("/api/cart/admin/promotions", &["get"]),
    ("/api/cart/admin/promotions/{id}", &["get", "put", "delete"]),
    ("/api/cart/admin/discount-codes", &["get"]),
    (
        "/api/cart/admin/discount-codes/{code}",
        &["get", "put", "delete"],
    ),
    ("/api/cart/admin/orders/{id}/refunds", &["post"]),
    ("/api/cart/orders/{id}/cancel", &["post"]),
    ("/api/cart/admin/webhooks", &["get", "post"]),
    ("/api/cart/admin/webhooks/{id}", &["get", "patch", "delete"]),
    ("/api/cart/admin/webhooks/{id}/deliveries", &["get"]),
    (
        "/api/cart/admin/webhooks/{id}/deliveries/{deliveryId}/replay",
        &["post"],
    ),
    ("/api/cart/admin/webhooks/{id}/ping", &["post"]),
];

#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let app = app().await;
    let doc = app
        .request(Method::GET, "/openapi.json", None, &[], None)
        .await;
    assert_eq!(doc.status, StatusCode::OK);
    let paths = doc.body["paths"].as_object().expect("paths");
    for (path, methods) in ROUTES {
        for method in *methods {
            assert!(
                paths[*path][*method].is_object(),
                "{method} {path} missing from the OpenAPI document"
            );
        }
    }
    let documented: usize = paths
        .values()
        .map(|p| p.as_object().map_or(0, |o| o.len()))
        .sum();
    let listed: usize = ROUTES.iter().map(|(_, m)| m.len()).sum();
    assert_eq!(documented, listed, "no route left out of ROUTES: {paths:?}");
    assert!(doc.body["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc.body["components"]["schemas"]["Order"].is_object());

    // Every documented route answers (here: without a token or body), and never with a 404.
    for (path, methods) in ROUTES {
        let path = path
            .replace("{sku}", "MUG")
            .replace("{code}", "WELCOME10")
            .replace("{id}", "0190a0b0-0000-7000-8000-000000000000");
        for method in *methods {
            let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            let reply = app.request(method.clone(), &path, None, &[], None).await;
            assert_ne!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            if !reply.status.is_success() {
                assert_eq!(
                    reply.content_type(),
                    "application/problem+json",
                    "{method} {path}: {reply:?}"
                );
            }
        }
    }
    app.cleanup().await;
}

#[tokio::test]
async fn errors_outside_the_routes_are_problems_too() {
    let app = app().await;
    for (method, path) in [
        (Method::GET, "/api/cart/nope"),
        (Method::PATCH, "/api/cart"),
        (Method::GET, "/api/cart/orders?limit=abc"),
    ] {
        let reply = app.user(method.clone(), path, "alice", None).await;
        assert!(reply.status.is_client_error(), "{method} {path}: {reply:?}");
        assert_eq!(
            reply.content_type(),
            "application/problem+json",
            "{method} {path}"
        );
    }
    let token = crate::common::token("alice", &["customer"]);
    let bad_json = app
        .send(
            http::Request::builder()
                .method(Method::POST)
                .uri("/api/cart/lines")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{\"sku\": "))
                .unwrap(),
        )
        .await;
    assert_eq!(bad_json.status, StatusCode::BAD_REQUEST, "{bad_json:?}");
    assert_eq!(bad_json.content_type(), "application/problem+json");
    app.cleanup().await;
}
