//! Forged and doctored access tokens are refused with 401, by this service and (through the
//! same kit verifier) by every other.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::EncodePrivateKey;
use http::StatusCode;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use storefront_users::tokens::store::published_keys;

use crate::common::TestApp;

struct Forge {
    kid: String,
    key: EncodingKey,
    public_key: Vec<u8>,
    user_id: String,
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

impl Forge {
    /// The service's own current signing key, read from its database (what an attacker does not have).
    async fn new(app: &TestApp, user_id: String) -> Self {
        let row = published_keys(&app.state.db).await.unwrap().pop().unwrap();
        let seed = row.private_seed(None).unwrap();
        let der = ed25519_dalek::SigningKey::from_bytes(&seed)
            .to_pkcs8_der()
            .unwrap();
        Self {
            kid: row.kid.clone(),
            key: EncodingKey::from_ed_der(der.as_bytes()),
            public_key: row.public_key.clone(),
            user_id,
        }
    }

    fn claims(&self) -> Value {
        json!({
            "sub": self.user_id, "iss": "storefront-users", "aud": "storefront",
            "exp": now() + 600, "iat": now(), "jti": "forged", "roles": ["customer", "admin"],
        })
    }

    fn sign(&self, claims: &Value) -> String {
        self.sign_with(claims, &self.kid, &self.key)
    }

    fn sign_with(&self, claims: &Value, kid: &str, key: &EncodingKey) -> String {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.to_owned());
        header.typ = Some("at+jwt".to_owned());
        jsonwebtoken::encode(&header, claims, key).unwrap()
    }
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

async fn assert_refused(app: &TestApp, token: &str, what: &str) {
    for path in ["/api/users/me", "/api/users/admin/users"] {
        let reply = app.get(path, token).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{what} on {path}: {}",
            reply.body
        );
        assert_eq!(reply.content_type(), "application/problem+json");
        assert!(reply.headers.contains_key("www-authenticate"));
    }
}

#[tokio::test]
async fn forged_and_doctored_tokens_are_refused() {
    let app = TestApp::new().await;
    let (token, _) = app.customer("jane@shop.example").await;
    let forge = Forge::new(&app, app.user_id(&token).await).await;

    // Control: a token signed with the real key and valid claims passes.
    let control = forge.sign(&forge.claims());
    assert_eq!(
        app.get("/api/users/admin/users", &control).await.status,
        StatusCode::OK
    );

    // alg=none, unsigned.
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "at+jwt", "kid": forge.kid})),
        b64(&forge.claims())
    );
    assert_refused(&app, &none, "alg=none").await;

    // HS256 with the public key as the HMAC secret (raw bytes and its base64url form).
    for secret in [
        forge.public_key.clone(),
        URL_SAFE_NO_PAD.encode(&forge.public_key).into_bytes(),
    ] {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(forge.kid.clone());
        header.typ = Some("at+jwt".to_owned());
        let hs = jsonwebtoken::encode(&header, &forge.claims(), &EncodingKey::from_secret(&secret))
            .unwrap();
        assert_refused(&app, &hs, "HS256 with the public key").await;
    }

    // Expired (beyond the clock leeway).
    let mut expired = forge.claims();
    expired["exp"] = json!(now() - 3600);
    expired["iat"] = json!(now() - 4000);
    assert_refused(&app, &forge.sign(&expired), "expired").await;

    // Wrong audience, wrong issuer.
    let mut wrong_aud = forge.claims();
    wrong_aud["aud"] = json!("another-app");
    assert_refused(&app, &forge.sign(&wrong_aud), "wrong aud").await;
    let mut wrong_iss = forge.claims();
    wrong_iss["iss"] = json!("evil-issuer");
    assert_refused(&app, &forge.sign(&wrong_iss), "wrong iss").await;

    // A key the service never published, named by an unknown kid or by the real kid.
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32])
        .to_pkcs8_der()
        .unwrap();
    let stranger = EncodingKey::from_ed_der(stranger.as_bytes());
    assert_refused(
        &app,
        &forge.sign_with(&forge.claims(), "unknown-kid", &stranger),
        "unknown kid",
    )
    .await;
    assert_refused(
        &app,
        &forge.sign_with(&forge.claims(), &forge.kid, &stranger),
        "foreign key",
    )
    .await;

    // A real customer token whose payload was edited to add the admin role.
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    payload["roles"] = json!(["customer", "admin"]);
    parts[1] = b64(&payload);
    assert_refused(&app, &parts.join("."), "tampered payload").await;

    // Another token type signed with the real key (e.g. an ID token).
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(forge.kid.clone());
    header.typ = Some("JWT".to_owned());
    let id_token = jsonwebtoken::encode(&header, &forge.claims(), &forge.key).unwrap();
    assert_refused(&app, &id_token, "typ=JWT").await;

    // Garbage and a missing header.
    assert_refused(&app, "not.a.token", "garbage").await;
    let reply = app
        .call(http::Method::GET, "/api/users/me", None, None)
        .await;
    reply.problem(401);
}
