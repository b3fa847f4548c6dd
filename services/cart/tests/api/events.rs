use std::time::Duration;

use storefront_cart::outbox::{self, consumer::EventConsumer};

use crate::common::app;

#[tokio::test]
async fn order_events_are_relayed_and_each_consumer_handles_an_event_once() {
    let app = app().await;
    app.catalog.product("MUG", 1000, 10).await;
    app.add("alice", "MUG", 1).await;
    let order = app.checkout("alice", "k", "4242424242424242").await;
    let order_id = order.body["id"].as_str().unwrap().to_owned();

    let stream = app.state.events_stream();
    let mut redis = app.state.redis.clone();
    assert_eq!(
        outbox::relay_once(&app.state.db, &mut redis, &stream, 100)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        outbox::relay_once(&app.state.db, &mut redis, &stream, 100)
            .await
            .unwrap(),
        0,
        "stamped"
    );

    // A relay that crashed after publishing but before stamping publishes again.
    sqlx::query("UPDATE outbox SET published_at = NULL")
        .execute(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        outbox::relay_once(&app.state.db, &mut redis, &stream, 100)
            .await
            .unwrap(),
        1
    );
    let length: i64 = redis::cmd("XLEN")
        .arg(&stream)
        .query_async(&mut redis)
        .await
        .unwrap();
    assert_eq!(length, 2, "the stream holds a duplicate");

    for group in ["search", "mailer"] {
        let mut consumer = EventConsumer::new(
            app.state.redis.clone(),
            &stream,
            group,
            "c1",
            &app.state.redis_prefix,
        );
        consumer.ensure_group().await.unwrap();
        consumer.ensure_group().await.unwrap();
        let mut seen = Vec::new();
        let handled = consumer
            .poll(10, Duration::from_millis(100), |event| {
                seen.push(event.clone());
                async { Ok(()) }
            })
            .await
            .unwrap();
        assert_eq!(handled, 1, "{group} handles the event once");
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].event_type, "OrderPlaced");
        assert_eq!(seen[0].payload["orderId"], order_id.as_str());
        let again = consumer
            .poll(10, Duration::from_millis(50), |_| async { Ok(()) })
            .await
            .unwrap();
        assert_eq!(again, 0);
    }
    app.cleanup().await;
}
