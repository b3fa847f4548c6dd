use http::{Method, StatusCode};
use serde_json::json;

use crate::common::{PASSWORD, TestApp};

#[tokio::test]
async fn customers_get_403_on_every_admin_endpoint() {
    let app = TestApp::new().await;
    let (token, _) = app.customer("jane@shop.example").await;
    let id = app.user_id(&token).await;
    let role = format!("/api/users/admin/users/{id}/roles/admin");
    for (method, path) in [
        (Method::GET, "/api/users/admin/users"),
        (Method::PUT, role.as_str()),
        (Method::DELETE, role.as_str()),
    ] {
        let reply = app.call(method.clone(), path, Some(&token), None).await;
        reply.problem(403);
    }
    // The customer did not promote themself.
    assert_eq!(
        app.get("/api/users/me", &token).await.body["roles"],
        json!(["customer"])
    );
}

#[tokio::test]
async fn admins_list_users_and_grant_and_revoke_the_admin_role() {
    let app = TestApp::new().await;
    let root = app.admin("root@shop.example").await;
    let (jane, jane_refresh) = app.customer("jane@shop.example").await;
    app.customer("john@shop.example").await;
    let jane_id = app.user_id(&jane).await;

    let page = app.get("/api/users/admin/users?limit=2", &root).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.body["items"].as_array().unwrap().len(), 2);
    let cursor = page.body["nextCursor"].as_str().unwrap();
    let rest = app
        .get(
            &format!("/api/users/admin/users?limit=2&cursor={cursor}"),
            &root,
        )
        .await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    assert!(rest.body["nextCursor"].is_null());
    let filtered = app.get("/api/users/admin/users?email=JANE", &root).await;
    assert_eq!(filtered.body["items"][0]["email"], "jane@shop.example");
    assert_eq!(filtered.body["items"].as_array().unwrap().len(), 1);

    let role = format!("/api/users/admin/users/{jane_id}/roles/admin");
    let granted = app.call(Method::PUT, &role, Some(&root), None).await;
    assert_eq!(granted.status, StatusCode::OK, "{}", granted.body);
    assert_eq!(granted.body["roles"], json!(["customer", "admin"]));
    // Idempotent.
    assert_eq!(
        app.call(Method::PUT, &role, Some(&root), None).await.status,
        StatusCode::OK
    );

    // Jane's next refresh carries the role, and she can now use the admin API.
    let refreshed = app
        .post("/api/users/refresh", json!({"refreshToken": jane_refresh}))
        .await;
    let jane_admin = refreshed.body["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get("/api/users/admin/users", &jane_admin).await.status,
        StatusCode::OK
    );

    let revoked = app.call(Method::DELETE, &role, Some(&root), None).await;
    assert_eq!(revoked.body["roles"], json!(["customer"]));

    app.call(
        Method::PUT,
        "/api/users/admin/users/0190b7a0-0000-7000-8000-000000000000/roles/admin",
        Some(&root),
        None,
    )
    .await
    .problem(404);
    app.call(
        Method::PUT,
        "/api/users/admin/users/not-a-uuid/roles/admin",
        Some(&root),
        None,
    )
    .await
    .problem(400);
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted() {
    let app = TestApp::new().await;
    let root = app.admin("root@shop.example").await;
    let root_id = app.user_id(&root).await;
    app.call(
        Method::DELETE,
        &format!("/api/users/admin/users/{root_id}/roles/admin"),
        Some(&root),
        None,
    )
    .await
    .problem(409);
}

#[tokio::test]
async fn bootstrap_creates_the_first_admin_and_promotes_an_existing_account() {
    let app = TestApp::new().await;
    app.customer("owner@shop.example").await;
    let token = app.admin("Owner@Shop.example").await;
    let me = app.get("/api/users/me", &token).await;
    assert_eq!(me.body["roles"], json!(["customer", "admin"]));
    // Repeating it (every start) changes nothing.
    app.admin("owner@shop.example").await;
    assert_eq!(
        app.login("owner@shop.example", PASSWORD).await.status,
        StatusCode::OK
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(count, 1);
}
