use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::TestApp;

fn address(city: &str) -> Value {
    json!({
        "label": "Home", "fullName": "Jane Doe", "line1": "1 Rue de Rivoli",
        "city": city, "postalCode": "75001", "country": "fr", "phone": "+33 1 23 45 67 89"
    })
}

#[tokio::test]
async fn addresses_can_be_created_listed_replaced_and_deleted() {
    let app = TestApp::new().await;
    let (token, _) = app.customer("jane@shop.example").await;

    let created = app
        .call(
            Method::POST,
            "/api/users/me/addresses",
            Some(&token),
            Some(address("Paris")),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["country"], "FR");
    let id = created.body["id"].as_str().unwrap().to_owned();
    let location = created.headers["location"].to_str().unwrap().to_owned();
    assert_eq!(location, format!("/api/users/me/addresses/{id}"));

    let one = app.get(&location, &token).await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body["city"], "Paris");
    let etag = one.headers["etag"].to_str().unwrap().to_owned();

    let replaced = app
        .send(
            http::Request::put(&location)
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .header("if-match", &etag)
                .body(address("Lyon").to_string().into())
                .unwrap(),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["city"], "Lyon");
    assert_eq!(replaced.body["version"], 2);

    let stale = app
        .send(
            http::Request::put(&location)
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .header("if-match", &etag)
                .body(address("Nice").to_string().into())
                .unwrap(),
        )
        .await;
    stale.problem(412);

    let deleted = app
        .call(Method::DELETE, &location, Some(&token), None)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&location, &token).await.problem(404);
}

#[tokio::test]
async fn addresses_are_paginated_with_a_cursor() {
    let app = TestApp::new().await;
    let (token, _) = app.customer("jane@shop.example").await;
    for i in 0..5 {
        let reply = app
            .call(
                Method::POST,
                "/api/users/me/addresses",
                Some(&token),
                Some(address(&format!("City {i}"))),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    let mut cities = Vec::new();
    let mut path = "/api/users/me/addresses?limit=2".to_owned();
    loop {
        let page = app.get(&path, &token).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        cities.extend(items.iter().map(|a| a["city"].as_str().unwrap().to_owned()));
        match page.body["nextCursor"].as_str() {
            Some(cursor) => path = format!("/api/users/me/addresses?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(
        cities,
        (0..5).map(|i| format!("City {i}")).collect::<Vec<_>>()
    );

    app.get("/api/users/me/addresses?limit=1000", &token)
        .await
        .problem(422);
    app.get("/api/users/me/addresses?cursor=%%%", &token)
        .await
        .problem(422);
    app.get("/api/users/me/addresses?limit=-1", &token)
        .await
        .problem(400);
}

#[tokio::test]
async fn one_customer_cannot_read_or_change_anothers_addresses_or_profile() {
    let app = TestApp::new().await;
    let (alice, _) = app.customer("alice@shop.example").await;
    let (bob, _) = app.customer("bob@shop.example").await;
    let created = app
        .call(
            Method::POST,
            "/api/users/me/addresses",
            Some(&alice),
            Some(address("Paris")),
        )
        .await;
    let location = created.headers["location"].to_str().unwrap().to_owned();

    app.get(&location, &bob).await.problem(404);
    app.call(Method::PUT, &location, Some(&bob), Some(address("Evil")))
        .await
        .problem(404);
    app.call(Method::DELETE, &location, Some(&bob), None)
        .await
        .problem(404);
    let bobs = app.get("/api/users/me/addresses", &bob).await;
    assert_eq!(bobs.body["items"], json!([]));
    // Alice's address is untouched.
    assert_eq!(app.get(&location, &alice).await.body["city"], "Paris");

    // /me is always the caller: Bob's token only ever reaches Bob's profile.
    let bob_me = app.get("/api/users/me", &bob).await;
    assert_eq!(bob_me.body["email"], "bob@shop.example");
    app.call(
        Method::PATCH,
        "/api/users/me",
        Some(&bob),
        Some(json!({"name": "Bobby"})),
    )
    .await;
    assert_eq!(app.get("/api/users/me", &alice).await.body["name"], "");
    // And Bob cannot reach Alice's account through the admin API.
    let alice_id = app.user_id(&alice).await;
    app.call(
        Method::PUT,
        &format!("/api/users/admin/users/{alice_id}/roles/admin"),
        Some(&bob),
        None,
    )
    .await
    .problem(403);
}

#[tokio::test]
async fn invalid_addresses_are_refused_with_field_errors() {
    let app = TestApp::new().await;
    let (token, _) = app.customer("jane@shop.example").await;
    let mut bad = address("Paris");
    bad["country"] = json!("France");
    bad["postalCode"] = json!("x".repeat(21));
    bad["fullName"] = json!("");
    let reply = app
        .call(
            Method::POST,
            "/api/users/me/addresses",
            Some(&token),
            Some(bad),
        )
        .await;
    let body = reply.problem(422);
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["country", "fullName", "postalCode"], "{body}");
}
