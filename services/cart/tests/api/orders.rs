use http::{Method, StatusCode};
use serde_json::json;

use crate::common::app;

const APPROVE: &str = "4242424242424242";

#[tokio::test]
async fn admins_ship_and_cancel_orders_through_the_state_machine() {
    let app = app().await;
    app.catalog.product("MUG", 1000, 10).await;
    let mut ids = Vec::new();
    for key in ["a", "b", "c"] {
        app.add("alice", "MUG", 1).await;
        let reply = app.checkout("alice", key, APPROVE).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
        ids.push(reply.body["id"].as_str().unwrap().to_owned());
    }
    let shared = &app;
    let set = |id: &str, status: &str, who: &str| {
        let path = format!("/api/cart/admin/orders/{id}/status");
        let body = json!({"status": status, "reason": "test"});
        let token = if who == "admin" {
            shared.admin.clone()
        } else {
            crate::common::token(who, &["customer"])
        };
        async move {
            shared
                .request(Method::POST, &path, Some(&token), &[], Some(body))
                .await
        }
    };

    assert_eq!(
        set(&ids[0], "SHIPPED", "alice").await.status,
        StatusCode::FORBIDDEN
    );
    let shipped = set(&ids[0], "shipped", "admin").await;
    assert_eq!(shipped.status, StatusCode::OK, "{shipped:?}");
    assert_eq!(shipped.body["status"], "SHIPPED");
    assert_eq!(shipped.body["version"], 3);
    let again = set(&ids[0], "SHIPPED", "admin").await;
    assert_eq!(
        again.status,
        StatusCode::OK,
        "setting the same status is idempotent"
    );
    let cancel_shipped = set(&ids[0], "CANCELLED", "admin").await;
    assert_eq!(
        cancel_shipped.status,
        StatusCode::CONFLICT,
        "{cancel_shipped:?}"
    );
    assert_eq!(
        set(&ids[0], "PENDING", "admin").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let cancelled = set(&ids[1], "CANCELLED", "admin").await;
    assert_eq!(cancelled.status, StatusCode::OK);
    assert_eq!(
        set(&ids[1], "SHIPPED", "admin").await.status,
        StatusCode::CONFLICT
    );
    let events = app.outbox("OrderCancelled").await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["lines"][0]["sku"], "MUG",
        "the lines to restock travel with the event"
    );
    assert_eq!(app.payment(&ids[1]).await.as_deref(), Some("voided"));

    // If-Match guards against acting on a stale view.
    let stale = app
        .request(
            Method::POST,
            &format!("/api/cart/admin/orders/{}/status", ids[2]),
            Some(&app.admin),
            &[("if-match", "\"1\"")],
            Some(json!({"status": "SHIPPED"})),
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{stale:?}");

    // Lists: filter by status, page by cursor, bounded limit.
    let page = app
        .request(
            Method::GET,
            "/api/cart/admin/orders?limit=2",
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(page.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(page.body["items"][0]["id"], ids[2].as_str(), "newest first");
    let cursor = page.body["nextCursor"].as_str().unwrap();
    let rest = app
        .request(
            Method::GET,
            &format!("/api/cart/admin/orders?limit=2&cursor={cursor}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    assert!(rest.body["nextCursor"].is_null());
    let shipped_only = app
        .request(
            Method::GET,
            "/api/cart/admin/orders?status=SHIPPED",
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(shipped_only.body["items"].as_array().unwrap().len(), 1);
    let too_many = app
        .user(Method::GET, "/api/cart/orders?limit=101", "alice", None)
        .await;
    assert_eq!(too_many.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_cursor = app
        .user(Method::GET, "/api/cart/orders?cursor=zzz", "alice", None)
        .await;
    assert_eq!(bad_cursor.status, StatusCode::UNPROCESSABLE_ENTITY);
    let not_an_id = app
        .user(Method::GET, "/api/cart/orders/not-an-id", "alice", None)
        .await;
    assert_eq!(not_an_id.status, StatusCode::NOT_FOUND);
    app.cleanup().await;
}
