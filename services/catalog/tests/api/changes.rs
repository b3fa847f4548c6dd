use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use http::{Method, StatusCode};
use serde_json::{Value, json};
use storefront_catalog::changes::{self, Entity, FeedCursor};
use storefront_catalog::ids::Version;

use crate::common::{TestApp, app, product_body};

/// Polls the feed from `after` until `done` says the collected changes are enough.
async fn follow(
    app: &TestApp,
    mut after: Option<String>,
    seen: &mut Vec<Value>,
    limit: u32,
) -> Option<String> {
    let mut path = format!("/internal/changes?limit={limit}");
    if let Some(a) = &after {
        path.push_str(&format!("&after={a}"));
    }
    let page = app.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    seen.extend(page.body["items"].as_array().unwrap().iter().cloned());
    if let Some(next) = page.body["nextCursor"].as_str() {
        after = Some(next.to_owned());
    }
    after
}

#[tokio::test]
async fn a_follower_sees_every_version_of_concurrent_writers() {
    let app = app().await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            app.product(&format!("p-{i}"), &format!("P-{i}"), 100 + i, 5, &[])
                .await,
        );
    }
    let admin = app.admin.clone();
    let writers = (0..12).map(|w| {
        let (app, ids, admin) = (&app, &ids, &admin);
        async move {
            for round in 0..8 {
                let index = (w + round) % ids.len();
                let mut body = product_body(
                    &format!("p-{index}"),
                    &format!("P-{index}"),
                    100 + index as i64,
                    5,
                    &[],
                );
                body["title"] = json!(format!("writer {w} round {round}"));
                let reply = app
                    .request(
                        Method::PUT,
                        &format!("/api/catalog/products/{}", ids[index]),
                        Some(admin),
                        &[],
                        Some(body),
                    )
                    .await;
                assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
            }
        }
    });
    // The follower reads small pages while the writers run, then until it has caught up.
    let follower = async {
        let mut seen = Vec::new();
        let mut after = None;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            after = follow(&app, after, &mut seen, 7).await;
            let total: i64 = sqlx::query_scalar("SELECT count(*) FROM changes")
                .fetch_one(&app.state.ledger)
                .await
                .unwrap();
            if seen.len() as i64 == total && total == 6 + 12 * 8 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "follower stalled at {} changes",
                seen.len()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        seen
    };
    let (_, seen) = tokio::join!(futures::future::join_all(writers), follower);

    let mut versions: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    let mut cursors = Vec::new();
    for change in &seen {
        assert_eq!(change["document"]["version"], change["version"]);
        versions
            .entry(change["id"].as_str().unwrap().to_owned())
            .or_default()
            .insert(change["version"].as_i64().unwrap());
        cursors.push(FeedCursor::parse(change["cursor"].as_str().unwrap()).unwrap());
    }
    let backwards: Vec<_> = cursors.windows(2).filter(|w| w[0] >= w[1]).collect();
    assert!(
        backwards.is_empty(),
        "cursors only move forward: {backwards:?}"
    );
    for id in &ids {
        let (final_version,): (i64,) = sqlx::query_as("SELECT version FROM products WHERE id = $1")
            .bind(id)
            .fetch_one(&app.state.ledger)
            .await
            .unwrap();
        let expected: BTreeSet<i64> = (1..=final_version).collect();
        assert_eq!(versions[id], expected, "every version of {id} seen");
        let doc = app.get(&format!("/api/catalog/products/{id}")).await;
        assert_eq!(doc.body["version"], final_version);
    }
    assert_eq!(
        versions.values().map(BTreeSet::len).sum::<usize>(),
        6 + 12 * 8
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_change_committed_late_with_a_lower_number_is_not_skipped() {
    let app = app().await;
    let pool = &app.state.ledger;
    // `early` takes its transaction id first but writes its change row last.
    let mut early = pool.begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *early)
        .await
        .unwrap();
    let mut late = pool.begin().await.unwrap();
    changes::append(
        &mut late,
        Entity::Product,
        "second",
        Version(1),
        Some(&json!({"n": 2})),
    )
    .await
    .unwrap();
    late.commit().await.unwrap();
    changes::append(
        &mut early,
        Entity::Product,
        "first",
        Version(1),
        Some(&json!({"n": 1})),
    )
    .await
    .unwrap();

    // While `early` is open, the committed row after it must not be served.
    let page = app.get("/internal/changes").await;
    assert_eq!(page.body["items"], json!([]), "{page:?}");
    assert!(page.body["nextCursor"].is_null());

    early.commit().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let items = loop {
        let page = app.get("/internal/changes").await;
        let items = page.body["items"].as_array().unwrap().clone();
        if items.len() == 2 || Instant::now() > deadline {
            break items;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let ids: Vec<&str> = items.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["first", "second"],
        "served in transaction order, none skipped"
    );
    let after = items[1]["cursor"].as_str().unwrap();
    let rest = app.get(&format!("/internal/changes?after={after}")).await;
    assert_eq!(rest.body["items"], json!([]));
    assert_eq!(
        rest.body["nextCursor"], after,
        "polling continues from the same place"
    );
    assert_eq!(
        app.get("/internal/changes?after=nope").await.status,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    app.cleanup().await;
}

#[tokio::test]
async fn a_transaction_in_another_database_does_not_hold_the_feed_back() {
    let app = app().await;
    // A long transaction elsewhere on the same server, holding a transaction id the whole time.
    let (other_url, other_name) = storefront_kit::testing::create_database("elsewhere").await;
    let other = sqlx::PgPool::connect(&other_url).await.unwrap();
    let mut elsewhere = other.begin().await.unwrap();
    sqlx::query("SELECT pg_current_xact_id()")
        .execute(&mut *elsewhere)
        .await
        .unwrap();

    let id = app
        .product("after-the-long-one", "AFTER-1", 100, 1, &[])
        .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let served = loop {
        let page = app.get("/internal/changes").await;
        let items = page.body["items"].as_array().unwrap().clone();
        if items.iter().any(|c| c["id"] == id.as_str()) {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    elsewhere.rollback().await.unwrap();
    other.close().await;
    storefront_kit::testing::drop_database(&other_name).await;
    assert!(
        served,
        "a change committed here is served while another database's transaction is still open"
    );
    app.cleanup().await;
}

#[tokio::test]
async fn deleting_a_product_leaves_a_tombstone() {
    let app = app().await;
    let id = app.product("gone", "GONE", 100, 1, &[]).await;
    let admin = app.admin.clone();
    app.request(
        Method::DELETE,
        &format!("/api/catalog/products/{id}"),
        Some(&admin),
        &[],
        None,
    )
    .await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    let mut after = None;
    while seen.len() < 2 && Instant::now() < deadline {
        after = follow(&app, after, &mut seen, 100).await;
    }
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1]["deleted"], true);
    assert_eq!(seen[1]["version"], 2);
    assert!(seen[1]["document"].is_null());
    app.cleanup().await;
}
