//! Webhooks against a real receiver on loopback (allowed in tests), real PostgreSQL, Redis and
//! the real catalog: signed deliveries, a retry after a 500, replays, pings, product changes
//! from the catalog's feed, and targets on the store's own network refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use storefront_cart::config::WebhookSettings;
use storefront_cart::outbox;
use storefront_cart::webhooks::{deliveries, signature, sources};
use tokio::sync::Mutex;

use crate::common::{Options, TestApp, app, app_with};

const APPROVE: &str = "4242424242424242";

/// What the receiver saw of one request.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

/// What the receiver's handler shares: the requests seen, how many, and the statuses to answer.
type ReceiverState = (Arc<Mutex<Vec<Received>>>, Arc<AtomicUsize>, Arc<Vec<u16>>);

/// A webhook receiver on 127.0.0.1: answers the statuses in `script` in turn (then 200).
#[derive(Clone)]
struct Receiver {
    url: String,
    seen: Arc<Mutex<Vec<Received>>>,
    hits: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start(script: Vec<u16>) -> Receiver {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let hits = Arc::new(AtomicUsize::new(0));
        let script = Arc::new(script);
        let state = (seen.clone(), hits.clone(), script);
        let app = axum::Router::new()
            .route(
                "/hook",
                axum::routing::post(
                    |State((seen, hits, script)): State<ReceiverState>,
                     headers: HeaderMap,
                     body: Bytes| async move {
                        seen.lock().await.push(Received { headers, body });
                        let n = hits.fetch_add(1, Ordering::SeqCst);
                        let status = script.get(n).copied().unwrap_or(200);
                        (StatusCode::from_u16(status).unwrap(), "ok")
                    },
                ),
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url: format!("http://{addr}/hook"),
            seen,
            hits,
        }
    }

    async fn received(&self) -> Vec<Received> {
        self.seen.lock().await.clone()
    }
}

async fn register(app: &TestApp, url: &str, events: &[&str]) -> Value {
    let reply = app
        .request(
            Method::POST,
            "/api/cart/admin/webhooks",
            Some(&app.admin),
            &[],
            Some(json!({"url": url, "events": events, "description": "test receiver"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{reply:?}");
    reply.body
}

/// Relays the outbox to the stream and queues deliveries from it, as the background loops do.
async fn queue_events(app: &TestApp) -> usize {
    let mut redis = app.state.redis.clone();
    outbox::relay_once(&app.state.db, &mut redis, &app.state.events_stream(), 100)
        .await
        .unwrap();
    let mut consumer = sources::order_consumer(&app.state, "test");
    sources::queue_order_events_once(&app.state, &mut consumer, Duration::from_millis(100))
        .await
        .unwrap()
}

async fn dispatch(app: &TestApp) -> usize {
    deliveries::dispatch_once(
        &app.state.db,
        &app.state.webhooks.http,
        &app.state.webhooks.settings,
        20,
    )
    .await
    .unwrap()
}

/// Time passes: every pending delivery is due.
async fn make_due(app: &TestApp) {
    sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = now() WHERE status = 'pending'")
        .execute(&app.state.db)
        .await
        .unwrap();
}

fn header<'a>(received: &'a Received, name: &str) -> &'a str {
    received.headers[name].to_str().unwrap()
}

fn verify(secret: &str, received: &Received) {
    let now = chrono::Utc::now().timestamp();
    signature::verify(
        secret,
        header(received, signature::SIGNATURE_HEADER),
        &received.body,
        now,
        signature::TOLERANCE_SECONDS,
    )
    .expect("a correctly signed delivery");
}

async fn deliveries_of(app: &TestApp, endpoint: &str) -> Vec<Value> {
    let reply = app
        .request(
            Method::GET,
            &format!("/api/cart/admin/webhooks/{endpoint}/deliveries"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    reply.body["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_receiver_gets_a_signed_order_placed_and_a_retry_after_answering_500() {
    let app = app().await;
    app.catalog.product("MUG", 1250, 10).await;
    let receiver = Receiver::start(vec![500]).await;
    let endpoint = register(&app, &receiver.url, &["order.placed"]).await;
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let endpoint_id = endpoint["id"].as_str().unwrap().to_owned();

    app.add("alice", "MUG", 2).await;
    let order = app.checkout("alice", "k1", APPROVE).await;
    assert_eq!(order.status, StatusCode::CREATED, "{order:?}");
    let order_id = order.body["id"].as_str().unwrap().to_owned();

    assert_eq!(queue_events(&app).await, 1);
    assert_eq!(dispatch(&app).await, 1);
    let first = deliveries_of(&app, &endpoint_id).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["status"], "pending");
    assert_eq!(first[0]["attempts"], 1);
    assert_eq!(first[0]["lastStatusCode"], 500);
    assert_eq!(dispatch(&app).await, 0, "the retry waits for its backoff");

    make_due(&app).await;
    assert_eq!(dispatch(&app).await, 1);
    let after = deliveries_of(&app, &endpoint_id).await;
    assert_eq!(after[0]["status"], "succeeded");
    assert_eq!(after[0]["attempts"], 2);
    assert_eq!(after[0]["lastStatusCode"], 200);
    let attempts: Vec<(i32, Option<i32>)> =
        sqlx::query_as("SELECT attempt, status_code FROM webhook_attempts ORDER BY attempt")
            .fetch_all(&app.state.db)
            .await
            .unwrap();
    assert_eq!(attempts, vec![(1, Some(500)), (2, Some(200))]);

    let received = receiver.received().await;
    assert_eq!(received.len(), 2);
    for delivery in &received {
        verify(&secret, delivery);
        assert_eq!(
            header(delivery, signature::EVENT_TYPE_HEADER),
            "order.placed"
        );
        assert_eq!(
            header(delivery, "content-type"),
            "application/json",
            "{delivery:?}"
        );
    }
    assert_eq!(
        header(&received[0], signature::EVENT_ID_HEADER),
        header(&received[1], signature::EVENT_ID_HEADER),
        "a retry is the same event"
    );
    let body: Value = serde_json::from_slice(&received[1].body).unwrap();
    assert_eq!(body["type"], "order.placed");
    assert_eq!(body["data"]["orderId"], order_id.as_str());
    assert_eq!(
        body["data"]["total"],
        json!({"amount": 2500, "currency": "EUR"})
    );
    assert!(
        signature::verify(
            "whsec_wrong",
            header(&received[1], signature::SIGNATURE_HEADER),
            &received[1].body,
            chrono::Utc::now().timestamp(),
            300
        )
        .is_err()
    );

    // The stream delivers at least once: the same event again queues nothing.
    let event = outbox::Event {
        id: uuid::Uuid::parse_str(body["id"].as_str().unwrap()).unwrap(),
        event_type: outbox::ORDER_PLACED.to_owned(),
        aggregate_id: order_id.clone(),
        payload: body["data"].clone(),
    };
    assert_eq!(
        sources::queue_order_event(&app.state.db, &event)
            .await
            .unwrap(),
        0
    );
    make_due(&app).await;
    assert_eq!(dispatch(&app).await, 0);
    assert_eq!(receiver.hits.load(Ordering::SeqCst), 2);
    app.cleanup().await;
}

#[tokio::test]
async fn deliveries_give_up_after_the_last_attempt_and_an_admin_replays_them() {
    let mut options = Options::default();
    options.webhooks.max_attempts = 2;
    let app = app_with(options).await;
    app.catalog.product("MUG", 1000, 10).await;
    let receiver = Receiver::start(vec![503, 500]).await;
    let endpoint = register(&app, &receiver.url, &["order.placed", "order.cancelled"]).await;
    let endpoint_id = endpoint["id"].as_str().unwrap().to_owned();
    app.add("bob", "MUG", 1).await;
    assert_eq!(
        app.checkout("bob", "k", APPROVE).await.status,
        StatusCode::CREATED
    );
    queue_events(&app).await;
    dispatch(&app).await;
    make_due(&app).await;
    dispatch(&app).await;
    let failed = deliveries_of(&app, &endpoint_id).await;
    assert_eq!(failed[0]["status"], "failed");
    assert_eq!(failed[0]["attempts"], 2);
    make_due(&app).await;
    assert_eq!(
        dispatch(&app).await,
        0,
        "a failed delivery is not retried by itself"
    );

    let delivery = failed[0]["id"].as_str().unwrap();
    let replay = app
        .request(
            Method::POST,
            &format!("/api/cart/admin/webhooks/{endpoint_id}/deliveries/{delivery}/replay"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(replay.status, StatusCode::OK, "{replay:?}");
    assert_eq!(replay.body["status"], "succeeded");
    assert_eq!(replay.body["attempts"], 3);
    let received = receiver.received().await;
    assert_eq!(received.len(), 3);
    assert_eq!(
        received[0].body, received[2].body,
        "a replay sends the same event"
    );
    verify(endpoint["secret"].as_str().unwrap(), &received[2]);

    let ping = app
        .request(
            Method::POST,
            &format!("/api/cart/admin/webhooks/{endpoint_id}/ping"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(ping.status, StatusCode::CREATED, "{ping:?}");
    assert_eq!(ping.body["eventType"], "ping");
    assert_eq!(ping.body["status"], "succeeded");
    assert_eq!(receiver.hits.load(Ordering::SeqCst), 4);

    let other = app
        .request(
            Method::POST,
            &format!(
                "/api/cart/admin/webhooks/{}/deliveries/{delivery}/replay",
                uuid::Uuid::now_v7()
            ),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    app.cleanup().await;
}

#[tokio::test]
async fn a_catalog_write_reaches_product_changed_subscribers() {
    let app = app().await;
    app.catalog.product("OLD", 500, 1).await;
    let receiver = Receiver::start(vec![]).await;
    let endpoint = register(&app, &receiver.url, &["product.changed"]).await;
    // The first pass only finds the feed's end: history is not replayed to new subscribers.
    assert_eq!(sources::follow_catalog_once(&app.state).await.unwrap(), 0);

    app.catalog.product("NEW", 700, 3).await;
    let mut queued = 0;
    for _ in 0..50 {
        queued += sources::follow_catalog_once(&app.state).await.unwrap();
        if queued > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(queued, 1);
    assert_eq!(sources::follow_catalog_once(&app.state).await.unwrap(), 0);
    assert_eq!(dispatch(&app).await, 1);
    let received = receiver.received().await;
    assert_eq!(received.len(), 1);
    verify(endpoint["secret"].as_str().unwrap(), &received[0]);
    let body: Value = serde_json::from_slice(&received[0].body).unwrap();
    assert_eq!(body["type"], "product.changed");
    assert_eq!(body["data"]["version"], 1);
    assert_eq!(body["data"]["product"]["variants"][0]["sku"], "NEW");
    app.cleanup().await;
}

#[tokio::test]
async fn targets_on_the_stores_own_network_are_refused_unless_allowed() {
    let options = Options {
        webhooks: WebhookSettings {
            allow_private_targets: false,
            follow_catalog: false,
            ..WebhookSettings::default()
        },
        ..Options::default()
    };
    let app = app_with(options).await;
    let receiver = Receiver::start(vec![]).await;
    for url in [
        receiver.url.as_str(),
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:10.0.0.1]/hook",
        "https://[fd00::1]/hook",
        "ftp://example.com/hook",
    ] {
        let reply = app
            .request(
                Method::POST,
                "/api/cart/admin/webhooks",
                Some(&app.admin),
                &[],
                Some(json!({"url": url, "events": ["order.placed"]})),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{url}: {reply:?}"
        );
        assert_eq!(reply.content_type(), "application/problem+json");
        assert_eq!(reply.body["errors"][0]["field"], "url", "{reply:?}");
    }

    // A name that resolved to a public address when registered and to loopback now (DNS
    // rebinding) is refused at delivery, before any connection.
    let port = receiver
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    sqlx::query(
        "INSERT INTO webhook_endpoints (id, url, events, secret)
         VALUES (gen_random_uuid(), $1, ARRAY['ping'], 'whsec_x')",
    )
    .bind(format!("https://localhost:{port}/hook"))
    .execute(&app.state.db)
    .await
    .unwrap();
    let endpoint: uuid::Uuid = sqlx::query_scalar("SELECT id FROM webhook_endpoints")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    let ping = app
        .request(
            Method::POST,
            &format!("/api/cart/admin/webhooks/{endpoint}/ping"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(ping.status, StatusCode::CREATED, "{ping:?}");
    assert_eq!(ping.body["status"], "pending");
    assert!(
        ping.body["lastError"]
            .as_str()
            .unwrap()
            .contains("loopback"),
        "{ping:?}"
    );
    assert_eq!(receiver.hits.load(Ordering::SeqCst), 0);
    app.cleanup().await;
}

#[tokio::test]
async fn the_admin_api_validates_and_is_idempotent() {
    let app = app().await;
    let customer = crate::common::token("carol", &["customer"]);
    let denied = app
        .request(
            Method::GET,
            "/api/cart/admin/webhooks",
            Some(&customer),
            &[],
            None,
        )
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    let bad = app
        .request(
            Method::POST,
            "/api/cart/admin/webhooks",
            Some(&app.admin),
            &[],
            Some(json!({"url": "http://127.0.0.1:9/x", "events": ["order.exploded"]})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["errors"][0]["field"], "events[0]");
    let none = app
        .request(
            Method::POST,
            "/api/cart/admin/webhooks",
            Some(&app.admin),
            &[],
            Some(json!({"url": "http://127.0.0.1:9/x", "events": []})),
        )
        .await;
    assert_eq!(none.status, StatusCode::UNPROCESSABLE_ENTITY);

    let body = json!({"url": "http://127.0.0.1:9/x", "events": ["order.placed"]});
    let first = app
        .request(
            Method::POST,
            "/api/cart/admin/webhooks",
            Some(&app.admin),
            &[("idempotency-key", "create-1")],
            Some(body.clone()),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = app
        .request(
            Method::POST,
            "/api/cart/admin/webhooks",
            Some(&app.admin),
            &[("idempotency-key", "create-1")],
            Some(body),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["id"], first.body["id"]);
    let id = first.body["id"].as_str().unwrap();

    let list = app
        .request(
            Method::GET,
            "/api/cart/admin/webhooks",
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert!(
        list.body["items"][0].get("secret").is_none(),
        "lists hide secrets"
    );
    assert!(
        list.body["eventTypes"]
            .as_array()
            .unwrap()
            .contains(&json!("order.refunded"))
    );

    let rotated = app
        .request(
            Method::PATCH,
            &format!("/api/cart/admin/webhooks/{id}"),
            Some(&app.admin),
            &[],
            Some(json!({"enabled": false, "rotateSecret": true})),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{rotated:?}");
    assert_eq!(rotated.body["enabled"], false);
    assert_ne!(rotated.body["secret"], first.body["secret"]);
    assert_eq!(rotated.body["version"], 2);

    let gone = app
        .request(
            Method::DELETE,
            &format!("/api/cart/admin/webhooks/{id}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let missing = app
        .request(
            Method::GET,
            &format!("/api/cart/admin/webhooks/{id}"),
            Some(&app.admin),
            &[],
            None,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.content_type(), "application/problem+json");
    app.cleanup().await;
}
