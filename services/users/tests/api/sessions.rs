use http::StatusCode;
use serde_json::json;
use tower::ServiceExt;

use crate::common::TestApp;

#[tokio::test]
async fn refresh_rotates_the_token_and_issues_a_working_access_token() {
    let app = TestApp::new().await;
    let (_, refresh) = app.customer("jane@shop.example").await;
    let reply = app
        .post("/api/users/refresh", json!({"refreshToken": refresh}))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers["cache-control"], "no-store");
    let rotated = reply.body["refreshToken"].as_str().unwrap();
    assert_ne!(rotated, refresh);
    let token = reply.body["accessToken"].as_str().unwrap();
    assert_eq!(app.get("/api/users/me", token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    let app = TestApp::new().await;
    let (_, first) = app.customer("jane@shop.example").await;
    let second = app
        .post("/api/users/refresh", json!({"refreshToken": first}))
        .await;
    let second = second.body["refreshToken"].as_str().unwrap().to_owned();
    let third = app
        .post("/api/users/refresh", json!({"refreshToken": second}))
        .await;
    let third = third.body["refreshToken"].as_str().unwrap().to_owned();

    // An attacker replays the first (already rotated) token …
    app.post("/api/users/refresh", json!({"refreshToken": first}))
        .await
        .problem(401);
    // … so the newest token of that session no longer works either.
    app.post("/api/users/refresh", json!({"refreshToken": third}))
        .await
        .problem(401);
    let (reason,): (String,) = sqlx::query_as("SELECT revoked_reason FROM refresh_families")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(reason, "refresh-token-reused");
}

#[tokio::test]
async fn other_sessions_survive_a_reuse_in_one_session() {
    let app = TestApp::new().await;
    let (_, laptop) = app.customer("jane@shop.example").await;
    let phone = app
        .login("jane@shop.example", crate::common::PASSWORD)
        .await;
    let phone = phone.body["refreshToken"].as_str().unwrap().to_owned();
    app.post("/api/users/refresh", json!({"refreshToken": laptop}))
        .await;
    app.post("/api/users/refresh", json!({"refreshToken": laptop}))
        .await
        .problem(401);
    assert_eq!(
        app.post("/api/users/refresh", json!({"refreshToken": phone}))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_use_of_one_refresh_token_yields_at_most_one_new_pair() {
    let app = TestApp::new().await;
    let (_, refresh) = app.customer("jane@shop.example").await;
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let router = app.router.clone();
            let body = json!({"refreshToken": refresh}).to_string();
            tokio::spawn(async move {
                let request = http::Request::post("/api/users/refresh")
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(body))
                    .unwrap();
                router.oneshot(request).await.unwrap().status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert!(ok <= 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn logout_revokes_the_session_and_is_idempotent() {
    let app = TestApp::new().await;
    let (_, refresh) = app.customer("jane@shop.example").await;
    let out = app
        .post("/api/users/logout", json!({"refreshToken": refresh}))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.post("/api/users/logout", json!({"refreshToken": refresh}))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    app.post("/api/users/refresh", json!({"refreshToken": refresh}))
        .await
        .problem(401);
}

#[tokio::test]
async fn an_expired_session_cannot_be_refreshed() {
    let app = TestApp::new().await;
    let (_, refresh) = app.customer("jane@shop.example").await;
    sqlx::query("UPDATE refresh_families SET expires_at = now() - interval '1 second'")
        .execute(&app.state.db)
        .await
        .unwrap();
    app.post("/api/users/refresh", json!({"refreshToken": refresh}))
        .await
        .problem(401);
    app.post("/api/users/refresh", json!({"refreshToken": "made-up"}))
        .await
        .problem(401);
}
