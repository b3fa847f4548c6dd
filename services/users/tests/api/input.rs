//! Bad input gets a precise 4xx problem+json, never a 500.

use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::json;

use crate::common::{PASSWORD, TestApp};

fn raw(path: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(path)
        .header("content-type", content_type)
        .body(body.into())
        .unwrap()
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = TestApp::new().await;
    for path in [
        "/api/users/register",
        "/api/users/login",
        "/api/users/refresh",
        "/api/users/logout",
    ] {
        let reply = app.send(raw(path, "application/json", r#"{"ema"#)).await;
        let body = reply.problem(400);
        assert!(
            body["detail"].as_str().unwrap().contains("not valid JSON"),
            "{path}: {body}"
        );
    }
}

#[tokio::test]
async fn missing_and_unknown_fields_are_400s_naming_them() {
    let app = TestApp::new().await;
    let reply = app
        .post("/api/users/register", json!({"email": "jane@shop.example"}))
        .await;
    assert!(
        reply.problem(400)["detail"]
            .as_str()
            .unwrap()
            .contains("password")
    );
    let reply = app
        .post("/api/users/login", json!({"password": PASSWORD}))
        .await;
    assert!(
        reply.problem(400)["detail"]
            .as_str()
            .unwrap()
            .contains("email")
    );
    let reply = app
        .post(
            "/api/users/register",
            json!({"email": "jane@shop.example", "password": PASSWORD, "isAdmin": true}),
        )
        .await;
    assert!(
        reply.problem(400)["detail"]
            .as_str()
            .unwrap()
            .contains("isAdmin")
    );
    let reply = app
        .post(
            "/api/users/register",
            json!({"email": 42, "password": PASSWORD}),
        )
        .await;
    reply.problem(400);
}

#[tokio::test]
async fn invalid_emails_and_over_long_strings_are_422s_with_field_errors() {
    let app = TestApp::new().await;
    for email in [
        "not-an-email",
        "jane@",
        "@shop.example",
        "jane doe@shop.example",
        "",
    ] {
        let reply = app.register(email, PASSWORD).await;
        assert_eq!(reply.problem(422)["errors"][0]["field"], "email", "{email}");
    }
    let long_email = format!("{}@shop.example", "j".repeat(250));
    assert_eq!(
        app.register(&long_email, PASSWORD).await.problem(422)["errors"][0]["field"],
        "email"
    );
    let reply = app
        .post(
            "/api/users/register",
            json!({"email": "jane@shop.example", "password": PASSWORD, "name": "n".repeat(101)}),
        )
        .await;
    assert_eq!(reply.problem(422)["errors"][0]["field"], "name");
    let reply = app.login(&"a".repeat(300), PASSWORD).await;
    assert_eq!(reply.problem(422)["errors"][0]["field"], "email");
    let reply = app
        .post(
            "/api/users/refresh",
            json!({"refreshToken": "r".repeat(1000)}),
        )
        .await;
    assert_eq!(reply.problem(422)["errors"][0]["field"], "refreshToken");
}

#[tokio::test]
async fn a_wrong_content_type_is_a_415() {
    let app = TestApp::new().await;
    let body = json!({"email": "jane@shop.example", "password": PASSWORD}).to_string();
    for content_type in ["text/plain", "application/x-www-form-urlencoded"] {
        let reply = app
            .send(raw("/api/users/login", content_type, body.clone()))
            .await;
        reply.problem(415);
    }
    let reply = app
        .send(
            Request::post("/api/users/login")
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    reply.problem(415);
}

#[tokio::test]
async fn a_huge_body_is_a_413() {
    let app = TestApp::new().await;
    let huge = json!({"email": "jane@shop.example", "password": "p".repeat(64 * 1024)}).to_string();
    let reply = app
        .send(raw("/api/users/register", "application/json", huge))
        .await;
    reply.problem(413);
    // Even a body far beyond the server-wide limit.
    let enormous = vec![b'x'; 4 * 1024 * 1024];
    let reply = app
        .send(raw("/api/users/login", "application/json", enormous))
        .await;
    reply.problem(413);
}

#[tokio::test]
async fn wrong_methods_are_405_problems() {
    let app = TestApp::new().await;
    let reply = app
        .call(http::Method::GET, "/api/users/login", None, None)
        .await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.content_type(), "application/problem+json");
}
