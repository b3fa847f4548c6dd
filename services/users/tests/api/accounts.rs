use http::{Method, StatusCode};
use serde_json::json;

use crate::common::{PASSWORD, TestApp};

#[tokio::test]
async fn register_login_and_read_and_update_the_profile() {
    let app = TestApp::new().await;
    let reply = app
        .post(
            "/api/users/register",
            json!({"email": "Jane.Doe@Shop.Example", "password": PASSWORD, "name": "Jane"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);

    // The email is case-insensitive.
    let login = app.login("jane.doe@shop.example", PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    assert_eq!(login.headers["cache-control"], "no-store");
    assert_eq!(login.body["tokenType"], "Bearer");
    assert_eq!(login.body["expiresIn"], 900);
    let token = login.body["accessToken"].as_str().unwrap();

    let me = app.get("/api/users/me", token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], "jane.doe@shop.example");
    assert_eq!(me.body["name"], "Jane");
    assert_eq!(me.body["roles"], json!(["customer"]));
    assert!(me.body.get("passwordHash").is_none());
    let etag = me.headers["etag"].to_str().unwrap().to_owned();

    let patched = app
        .send(
            http::Request::patch("/api/users/me")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .header("if-match", &etag)
                .body(json!({"name": "Jane D."}).to_string().into())
                .unwrap(),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["name"], "Jane D.");

    // The old ETag no longer matches.
    let stale = app
        .send(
            http::Request::patch("/api/users/me")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .header("if-match", &etag)
                .body(json!({"name": "Someone else"}).to_string().into())
                .unwrap(),
        )
        .await;
    stale.problem(412);
}

#[tokio::test]
async fn registration_does_not_reveal_whether_an_email_exists() {
    let app = TestApp::new().await;
    let first = app.register("taken@shop.example", PASSWORD).await;
    let again = app
        .register("TAKEN@shop.example", "another sturdy passphrase")
        .await;
    let fresh = app.register("fresh@shop.example", PASSWORD).await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    assert_eq!(again.status, first.status);
    assert_eq!(again.body, first.body);
    assert_eq!(fresh.body, first.body);
    // The second registration did not take over the account.
    assert_eq!(
        app.login("taken@shop.example", "another sturdy passphrase")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("taken@shop.example", PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn login_does_not_reveal_whether_an_email_exists() {
    let app = TestApp::new().await;
    app.customer("known@shop.example").await;
    let wrong_password = app.login("known@shop.example", "not the passphrase").await;
    let unknown_email = app
        .login("unknown@shop.example", "not the passphrase")
        .await;
    wrong_password.problem(401);
    assert_eq!(wrong_password.status, unknown_email.status);
    assert_eq!(wrong_password.body, unknown_email.body);

    // Similar timing: both run one argon2 verification. Compare medians of a few attempts.
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for _ in 0..3 {
        let started = std::time::Instant::now();
        app.login("known@shop.example", "not the passphrase 2")
            .await;
        known.push(started.elapsed());
        let started = std::time::Instant::now();
        app.login("nobody@shop.example", "not the passphrase 2")
            .await;
        unknown.push(started.elapsed());
    }
    known.sort();
    unknown.sort();
    let (k, u) = (known[1].as_secs_f64(), unknown[1].as_secs_f64());
    assert!(
        k / u < 3.0 && u / k < 3.0,
        "known {k:.4}s vs unknown {u:.4}s"
    );
}

#[tokio::test]
async fn weak_passwords_are_refused_with_field_errors() {
    let app = TestApp::new().await;
    for (password, hint) in [
        ("short", "at least 8"),
        ("password123", "commonly used"),
        ("jane.doe.example", "email"),
    ] {
        let reply = app
            .register("jane.doe.example@shop.example", password)
            .await;
        let body = reply.problem(422);
        assert_eq!(body["errors"][0]["field"], "password", "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(hint),
            "{body}"
        );
    }
    let long = "x".repeat(129);
    let reply = app.register("jane@shop.example", &long).await;
    assert_eq!(reply.problem(422)["errors"][0]["field"], "password");
    // 64+ character passphrases are fine.
    let passphrase = "the quick brown fox jumps over the lazy dog, twice, and then rests";
    assert!(passphrase.len() >= 64);
    assert_eq!(
        app.register("jane@shop.example", passphrase).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        app.login("jane@shop.example", passphrase).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn changing_the_password_revokes_every_session() {
    let app = TestApp::new().await;
    let (token, refresh_a) = app.customer("jane@shop.example").await;
    let other_device = app.login("jane@shop.example", PASSWORD).await;
    let refresh_b = other_device.body["refreshToken"]
        .as_str()
        .unwrap()
        .to_owned();

    let wrong = app
        .call(
            Method::POST,
            "/api/users/me/password",
            Some(&token),
            Some(json!({"currentPassword": "wrong one!", "newPassword": "a brand new passphrase"})),
        )
        .await;
    wrong.problem(401);

    let changed = app
        .call(
            Method::POST,
            "/api/users/me/password",
            Some(&token),
            Some(json!({"currentPassword": PASSWORD, "newPassword": "a brand new passphrase"})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert!(changed.body["refreshToken"].is_string());

    for old in [refresh_a, refresh_b] {
        app.post("/api/users/refresh", json!({"refreshToken": old}))
            .await
            .problem(401);
    }
    let new_refresh = changed.body["refreshToken"].as_str().unwrap();
    assert_eq!(
        app.post("/api/users/refresh", json!({"refreshToken": new_refresh}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.login("jane@shop.example", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login("jane@shop.example", "a brand new passphrase")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn platform_endpoints_and_openapi_are_served() {
    let app = TestApp::new().await;
    let ready = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.body);
    assert_eq!(ready.body["checks"]["postgres"], "ok");
    let doc = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(doc.status, StatusCode::OK);
    for path in [
        "/api/users/register",
        "/api/users/login",
        "/api/users/refresh",
        "/api/users/logout",
        "/api/users/me",
        "/api/users/me/password",
        "/api/users/password/forgot",
        "/api/users/password/reset",
        "/api/users/me/email/verification",
        "/api/users/email/verify",
        "/api/users/me/addresses",
        "/api/users/me/addresses/{id}",
        "/api/users/admin/users",
        "/api/users/admin/users/{id}/roles/admin",
        "/.well-known/jwks.json",
    ] {
        assert!(
            doc.body["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc.body["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc.body["components"]["schemas"]["User"]["properties"]["emailVerified"].is_object());
    let missing = app.call(Method::GET, "/api/users/nope", None, None).await;
    missing.problem(404);
}
