//! The JWKS endpoint, key rotation, and another service's kit verifier accepting users' tokens
//! fetched over real HTTP.

use std::time::Duration;

use http::{Method, StatusCode};
use storefront_kit::{JwtSettings, JwtVerifier, Role, Shutdown, serve_on};

use crate::common::TestApp;

#[tokio::test]
async fn jwks_publishes_ed25519_keys_at_both_paths() {
    let app = TestApp::new().await;
    for path in ["/.well-known/jwks.json", "/api/users/.well-known/jwks.json"] {
        let reply = app.call(Method::GET, path, None, None).await;
        assert_eq!(reply.status, StatusCode::OK);
        let keys = reply.body["keys"].as_array().unwrap();
        assert!(!keys.is_empty());
        for key in keys {
            assert_eq!(key["kty"], "OKP");
            assert_eq!(key["crv"], "Ed25519");
            assert_eq!(key["alg"], "EdDSA");
            assert_eq!(key["use"], "sig");
            assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()));
            assert!(key.get("d").is_none(), "never the private part");
        }
    }
}

#[tokio::test]
async fn rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key() {
    let app = TestApp::new().await;
    let (old_token, _) = app.customer("jane@shop.example").await;
    let old_kid = jsonwebtoken::decode_header(&old_token)
        .unwrap()
        .kid
        .unwrap();

    app.state.keys.rotate_now(&app.state.db).await.unwrap();

    let (new_token, _) = app.customer("john@shop.example").await;
    let new_kid = jsonwebtoken::decode_header(&new_token)
        .unwrap()
        .kid
        .unwrap();
    assert_ne!(old_kid, new_kid);
    let jwks = app
        .call(Method::GET, "/.well-known/jwks.json", None, None)
        .await;
    let kids: Vec<&str> = jwks.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(
        kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()),
        "{kids:?}"
    );
    assert_eq!(
        app.get("/api/users/me", &old_token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/users/me", &new_token).await.status,
        StatusCode::OK
    );

    // Once the old key's last token has expired, it is no longer published.
    sqlx::query(
        "UPDATE signing_keys SET signs_from = now() - interval '3 seconds',
           signs_until = now() - interval '2 seconds', published_until = now() - interval '1 second'
         WHERE kid = $1",
    )
    .bind(&old_kid)
    .execute(&app.state.db)
    .await
    .unwrap();
    app.state.keys.reload(&app.state.db).await.unwrap();
    let jwks = app
        .call(Method::GET, "/.well-known/jwks.json", None, None)
        .await;
    assert!(!jwks.body.to_string().contains(&old_kid));
    assert_eq!(
        app.get("/api/users/me", &old_token).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn signing_keys_can_be_encrypted_at_rest() {
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let app = TestApp::with_env(&[("USERS_SIGNING_KEY_ENCRYPTION_KEY", key)]).await;
    let (encryption, private_len): (String, i32) =
        sqlx::query_as("SELECT private_key_encryption, length(private_key) FROM signing_keys")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(encryption, "aes-256-gcm");
    assert_eq!(private_len, 12 + 32 + 16, "nonce, ciphertext, tag");
    let (token, _) = app.customer("jane@shop.example").await;
    assert_eq!(
        app.get("/api/users/me", &token).await.status,
        StatusCode::OK
    );

    // Without the key (or with another) the service refuses to start rather than mint new keys.
    let config = storefront_users::Config {
        tokens: storefront_users::config::TokenSettings::new("storefront-users", "storefront"),
        ..app.config.clone()
    };
    let error = storefront_users::AppState::new(app.state.db.clone(), &config)
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("USERS_SIGNING_KEY_ENCRYPTION_KEY"),
        "{error}"
    );
}

#[tokio::test]
async fn the_kit_verifier_of_another_service_accepts_users_tokens_via_jwks_over_http() {
    let app = TestApp::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = Shutdown::new();
    let server = tokio::spawn({
        let service = storefront_users::service(app.state.clone());
        let config = app.config.server.clone();
        let shutdown = shutdown.clone();
        async move { serve_on(listener, service, &config, shutdown).await }
    });

    let (token, _) = app.customer("jane@shop.example").await;
    let admin_token = app.admin("root@shop.example").await;

    // What the catalog or cart service does with its own config.
    let verifier = JwtVerifier::remote(&JwtSettings {
        jwks_url: format!("http://{addr}/api/users/.well-known/jwks.json"),
        issuer: "storefront-users".into(),
        audience: "storefront".into(),
    })
    .unwrap();
    let principal = verifier.verify(&token).await.unwrap();
    assert_eq!(principal.user_id, app.user_id(&token).await);
    assert_eq!(principal.roles, vec![Role::Customer]);
    assert!(principal.token_id.is_some());
    let admin = verifier.verify(&admin_token).await.unwrap();
    assert!(admin.is_admin());

    // A verifier expecting another audience refuses them.
    let other = JwtVerifier::remote(&JwtSettings {
        jwks_url: format!("http://{addr}/.well-known/jwks.json"),
        issuer: "storefront-users".into(),
        audience: "someone-else".into(),
    })
    .unwrap();
    assert!(other.verify(&token).await.is_err());

    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
