//! Login throttling: per account and client, per client, per account (known clients exempt).

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::json;

use crate::common::{PASSWORD, Reply, TestApp};

async fn login_from(app: &TestApp, client: &str, email: &str, password: &str) -> Reply {
    app.send(
        Request::post("/api/users/login")
            .header("content-type", "application/json")
            .header("x-forwarded-for", format!("10.0.0.1, {client}"))
            .body(Body::from(
                json!({"email": email, "password": password}).to_string(),
            ))
            .unwrap(),
    )
    .await
}

fn throttled(reply: &Reply) -> u64 {
    reply.problem(429);
    reply.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn one_client_guessing_one_account_is_blocked_but_the_owner_is_not() {
    let app = TestApp::with_env(&[("USERS_LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT", "3")]).await;
    app.customer("jane@shop.example").await;
    let attacker = "203.0.113.9";
    for _ in 0..3 {
        login_from(&app, attacker, "jane@shop.example", "guess guess guess")
            .await
            .problem(401);
    }
    // Blocked now, even with the right password.
    let retry_after = throttled(&login_from(&app, attacker, "jane@shop.example", PASSWORD).await);
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Jane, from her own address, signs in as usual.
    assert_eq!(
        login_from(&app, "198.51.100.7", "jane@shop.example", PASSWORD)
            .await
            .status,
        StatusCode::OK
    );

    // The block ends: each further failure doubles it.
    sqlx::query("UPDATE login_throttle SET blocked_until = now() - interval '1 second'")
        .execute(&app.state.db)
        .await
        .unwrap();
    login_from(&app, attacker, "jane@shop.example", "guess again!")
        .await
        .problem(401);
    let longer = throttled(&login_from(&app, attacker, "jane@shop.example", PASSWORD).await);
    assert!(longer > 60, "{longer}");
}

#[tokio::test]
async fn throttling_treats_unknown_emails_exactly_like_existing_ones() {
    let app = TestApp::with_env(&[("USERS_LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_CLIENT", "2")]).await;
    app.customer("jane@shop.example").await;
    let mut answers = Vec::new();
    for email in ["jane@shop.example", "ghost@shop.example"] {
        let mut statuses = Vec::new();
        for _ in 0..3 {
            statuses.push(
                login_from(&app, "203.0.113.9", email, "wrong password")
                    .await
                    .status,
            );
        }
        answers.push(statuses);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(
        answers[0],
        vec![
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
}

#[tokio::test]
async fn a_distributed_attack_blocks_new_clients_but_not_the_owners_known_client() {
    let app = TestApp::with_env(&[("USERS_LOGIN_MAX_FAILURES_PER_ACCOUNT", "4")]).await;
    app.customer("jane@shop.example").await;
    // Jane signed in from home before.
    assert_eq!(
        login_from(&app, "198.51.100.7", "jane@shop.example", PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
    for i in 0..4 {
        login_from(
            &app,
            &format!("203.0.113.{i}"),
            "jane@shop.example",
            "guess",
        )
        .await
        .problem(401);
    }
    throttled(&login_from(&app, "203.0.113.200", "jane@shop.example", PASSWORD).await);
    assert_eq!(
        login_from(&app, "198.51.100.7", "jane@shop.example", PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn one_client_guessing_many_accounts_is_blocked() {
    let app = TestApp::with_env(&[("USERS_LOGIN_MAX_FAILURES_PER_CLIENT", "4")]).await;
    app.customer("jane@shop.example").await;
    for i in 0..4 {
        login_from(
            &app,
            "203.0.113.50",
            &format!("user{i}@shop.example"),
            "password guess",
        )
        .await
        .problem(401);
    }
    throttled(&login_from(&app, "203.0.113.50", "jane@shop.example", PASSWORD).await);
    assert_eq!(
        login_from(&app, "198.51.100.7", "jane@shop.example", PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
}
