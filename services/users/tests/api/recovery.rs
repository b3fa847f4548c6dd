//! Email verification and password reset, with the links read from the mails actually sent
//! through SMTP.

use std::time::Duration;

use axum::body::Body;
use http::{Method, Request, StatusCode};
use serde_json::{Value, json};

use crate::common::{PASSWORD, Reply, TestApp};
use crate::mail_sink::{MailSink, ReceivedMail};

const RESET: &str = "https://shop.example/reset-password";
const VERIFY: &str = "https://shop.example/verify-email";
const NEW_PASSWORD: &str = "a brand new passphrase";

async fn forgot(app: &TestApp, email: &str) -> Reply {
    app.post("/api/users/password/forgot", json!({ "email": email }))
        .await
}

async fn forgot_from(app: &TestApp, client: &str, email: &str) -> Reply {
    app.send(
        Request::post("/api/users/password/forgot")
            .header("content-type", "application/json")
            .header("x-forwarded-for", client)
            .body(Body::from(json!({ "email": email }).to_string()))
            .unwrap(),
    )
    .await
}

async fn reset(app: &TestApp, token: &str, password: &str) -> Reply {
    app.post(
        "/api/users/password/reset",
        json!({ "token": token, "newPassword": password }),
    )
    .await
}

async fn verify(app: &TestApp, token: &str) -> Reply {
    app.post("/api/users/email/verify", json!({ "token": token }))
        .await
}

/// Registers `email` and takes its verification mail off the receiver.
async fn registered(app: &TestApp, sink: &mut MailSink, email: &str) -> ReceivedMail {
    assert_eq!(
        app.register(email, PASSWORD).await.status,
        StatusCode::ACCEPTED
    );
    let mail = sink.next().await;
    assert_eq!(mail.recipients, [email]);
    mail
}

/// The one answer for an unknown, used or expired link.
fn assert_invalid_link(reply: &Reply) -> Value {
    let body = reply.problem(422).clone();
    assert_eq!(body["detail"], "The link is invalid or has expired.");
    assert!(body["type"].as_str().unwrap().ends_with("invalid-link"));
    body
}

async fn access_token(app: &TestApp, email: &str) -> String {
    let login = app.login(email, PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    login.body["accessToken"].as_str().unwrap().to_owned()
}

async fn email_verified(app: &TestApp, email: &str, password: &str) -> bool {
    let login = app.login(email, password).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    let me = app
        .get("/api/users/me", login.body["accessToken"].as_str().unwrap())
        .await;
    me.body["emailVerified"].as_bool().unwrap()
}

#[tokio::test]
async fn a_reset_link_from_the_mail_works_once_and_ends_every_session() {
    let (app, mut sink) = TestApp::with_mail_sink(&[]).await;
    registered(&app, &mut sink, "reset@shop.example").await;
    let first = app.login("reset@shop.example", PASSWORD).await;
    let second = app.login("reset@shop.example", PASSWORD).await;

    let reply = forgot(&app, "Reset@Shop.Example").await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let mail = sink.next().await;
    assert_eq!(mail.recipients, ["reset@shop.example"]);
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Reset your Storefront password")
    );
    assert!(
        mail.header("From")
            .unwrap()
            .contains("no-reply@storefront.local")
    );
    assert!(mail.data.contains("Content-Type: text/plain"));
    assert!(mail.data.contains("Content-Type: text/html"));
    assert_eq!(mail.links(RESET).len(), 2, "one link in each part");
    let token = mail.token(RESET);

    let done = reset(&app, &token, NEW_PASSWORD).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.body);
    assert_invalid_link(&reset(&app, &token, "yet another passphrase").await);

    // Every session that existed is over.
    for session in [&first, &second] {
        let refresh = app
            .post(
                "/api/users/refresh",
                json!({ "refreshToken": session.body["refreshToken"] }),
            )
            .await;
        refresh.problem(401);
    }
    assert_eq!(
        app.login("reset@shop.example", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    // The link reached the mailbox, so the address counts as verified.
    assert!(email_verified(&app, "reset@shop.example", NEW_PASSWORD).await);
}

#[tokio::test]
async fn an_expired_or_superseded_reset_link_gets_the_same_answer_as_a_made_up_one() {
    let (app, mut sink) = TestApp::with_mail_sink(&[]).await;
    registered(&app, &mut sink, "late@shop.example").await;

    forgot(&app, "late@shop.example").await;
    let superseded = sink.next().await.token(RESET);
    forgot(&app, "late@shop.example").await;
    let expired = sink.next().await.token(RESET);
    assert_ne!(superseded, expired);
    sqlx::query(
        "UPDATE account_tokens SET expires_at = now() - interval '1 second'
         WHERE token_hash = sha256(convert_to($1, 'UTF8'))",
    )
    .bind(&expired)
    .execute(&app.state.db)
    .await
    .unwrap();

    let made_up = assert_invalid_link(&reset(&app, "not-a-link-we-sent", NEW_PASSWORD).await);
    assert_eq!(
        assert_invalid_link(&reset(&app, &expired, NEW_PASSWORD).await),
        made_up
    );
    assert_eq!(
        assert_invalid_link(&reset(&app, &superseded, NEW_PASSWORD).await),
        made_up
    );
    assert_eq!(
        app.login("late@shop.example", PASSWORD).await.status,
        StatusCode::OK,
        "the password is unchanged"
    );
}

#[tokio::test]
async fn two_concurrent_uses_of_one_reset_link_succeed_once() {
    let (app, mut sink) = TestApp::with_mail_sink(&[]).await;
    registered(&app, &mut sink, "race@shop.example").await;
    forgot(&app, "race@shop.example").await;
    let token = sink.next().await.token(RESET);

    let (one, two) = tokio::join!(
        reset(&app, &token, "first racing passphrase"),
        reset(&app, &token, "second racing passphrase"),
    );
    let mut statuses = [one.status.as_u16(), two.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [204, 422], "{} / {}", one.body, two.body);
    let winner = if one.status == StatusCode::NO_CONTENT {
        "first racing passphrase"
    } else {
        "second racing passphrase"
    };
    let loser = if winner.starts_with("first") {
        "second racing passphrase"
    } else {
        "first racing passphrase"
    };
    assert_eq!(
        app.login("race@shop.example", winner).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.login("race@shop.example", loser).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn forgot_password_answers_alike_for_unknown_addresses_and_mails_nothing() {
    let (app, mut sink) = TestApp::with_mail_sink(&[]).await;
    registered(&app, &mut sink, "known@shop.example").await;

    let unknown = forgot(&app, "nobody@shop.example").await;
    let known = forgot(&app, "known@shop.example").await;
    assert_eq!(unknown.status, StatusCode::ACCEPTED);
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.body, unknown.body);
    assert_eq!(
        known.headers.get("content-type"),
        unknown.headers.get("content-type")
    );

    // Mails leave in the order they were queued: had the unknown address produced one, it
    // would arrive first.
    let mail = sink.next().await;
    assert_eq!(mail.recipients, ["known@shop.example"]);
    assert!(sink.try_next().is_none());
    let links: i64 =
        sqlx::query_scalar("SELECT count(*) FROM account_tokens WHERE purpose = 'reset_password'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(links, 1);
}

#[tokio::test]
async fn the_registration_mail_verifies_the_address_once() {
    let (app, mut sink) = TestApp::with_mail_sink(&[]).await;
    let mail = registered(&app, &mut sink, "verify@shop.example").await;
    assert_eq!(
        mail.header("Subject").as_deref(),
        Some("Confirm your email address for Storefront")
    );
    let token = mail.token(VERIFY);
    assert!(!email_verified(&app, "verify@shop.example", PASSWORD).await);

    let done = verify(&app, &token).await;
    assert_eq!(done.status, StatusCode::NO_CONTENT, "{}", done.body);
    assert!(email_verified(&app, "verify@shop.example", PASSWORD).await);
    assert_invalid_link(&verify(&app, &token).await);
    // A reset link is not a verification link, nor the other way round.
    assert_invalid_link(&reset(&app, &token, NEW_PASSWORD).await);

    let access = access_token(&app, "verify@shop.example").await;
    let again = app
        .call(
            Method::POST,
            "/api/users/me/email/verification",
            Some(&access),
            None,
        )
        .await;
    again.problem(409);
}

#[tokio::test]
async fn a_signed_in_customer_can_ask_for_another_verification_link() {
    let (app, mut sink) = TestApp::with_mail_sink(&[]).await;
    let first = registered(&app, &mut sink, "again@shop.example").await;
    let access = access_token(&app, "again@shop.example").await;

    let reply = app
        .call(
            Method::POST,
            "/api/users/me/email/verification",
            Some(&access),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let second = sink.next().await;
    assert_eq!(second.recipients, ["again@shop.example"]);
    assert_ne!(second.token(VERIFY), first.token(VERIFY));
    assert_eq!(
        verify(&app, &second.token(VERIFY)).await.status,
        StatusCode::NO_CONTENT
    );
    assert!(email_verified(&app, "again@shop.example", PASSWORD).await);

    let anonymous = app
        .call(Method::POST, "/api/users/me/email/verification", None, None)
        .await;
    anonymous.problem(401);
}

#[tokio::test]
async fn a_changed_address_is_no_longer_verified_and_old_links_do_not_verify_it() {
    let (app, mut sink) = TestApp::with_mail_sink(&[]).await;
    let mail = registered(&app, &mut sink, "moving@shop.example").await;
    let resent = {
        let access = access_token(&app, "moving@shop.example").await;
        app.call(
            Method::POST,
            "/api/users/me/email/verification",
            Some(&access),
            None,
        )
        .await;
        sink.next().await.token(VERIFY)
    };
    assert_eq!(
        verify(&app, &mail.token(VERIFY)).await.status,
        StatusCode::NO_CONTENT
    );
    // No endpoint changes the address yet; the rule lives in the database for any that will.
    sqlx::query(
        "UPDATE users SET email = 'moved@shop.example' WHERE email = 'moving@shop.example'",
    )
    .execute(&app.state.db)
    .await
    .unwrap();
    assert!(!email_verified(&app, "moved@shop.example", PASSWORD).await);
    assert_invalid_link(&verify(&app, &resent).await);
    assert!(!email_verified(&app, "moved@shop.example", PASSWORD).await);
}

#[tokio::test]
async fn recovery_endpoints_answer_bad_input_with_problems() {
    let (app, mut sink) = TestApp::with_mail_sink(&[]).await;
    registered(&app, &mut sink, "input@shop.example").await;

    let reply = forgot(&app, "not-an-email").await;
    assert_eq!(reply.problem(422)["errors"][0]["field"], "email");
    app.post("/api/users/password/forgot", json!({}))
        .await
        .problem(400);
    app.post(
        "/api/users/password/forgot",
        json!({"email": "input@shop.example", "extra": 1}),
    )
    .await
    .problem(400);
    let reply = app
        .post(
            "/api/users/password/reset",
            json!({"token": "", "newPassword": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(reply.problem(422)["errors"][0]["field"], "token");
    app.post("/api/users/password/reset", json!({"token": "x"}))
        .await
        .problem(400);
    let reply = verify(&app, &"x".repeat(129)).await;
    assert_eq!(reply.problem(422)["errors"][0]["field"], "token");
    assert_invalid_link(&verify(&app, "never-issued").await);

    // A new password that breaks the rules is refused without using up the link.
    forgot(&app, "input@shop.example").await;
    let token = sink.next().await.token(RESET);
    for weak in ["short", "password", "input@shop.example"] {
        let reply = reset(&app, &token, weak).await;
        assert_eq!(
            reply.problem(422)["errors"][0]["field"],
            "newPassword",
            "{weak}"
        );
    }
    assert_eq!(
        reset(&app, &token, NEW_PASSWORD).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn recovery_mails_are_limited_per_address_and_per_client_whether_or_not_it_exists() {
    let (app, mut sink) = TestApp::with_mail_sink(&[
        ("USERS_MAIL_LIMIT_PER_EMAIL", "2"),
        ("USERS_MAIL_LIMIT_PER_CLIENT", "4"),
    ])
    .await;
    registered(&app, &mut sink, "limited@shop.example").await;

    let a = "198.51.100.1";
    for _ in 0..2 {
        let reply = forgot_from(&app, a, "limited@shop.example").await;
        assert_eq!(reply.status, StatusCode::ACCEPTED);
    }
    let blocked = forgot_from(&app, a, "limited@shop.example").await;
    blocked.problem(429);
    let retry: u64 = blocked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    // Client A's fourth request is still allowed, its fifth is not.
    assert_eq!(
        forgot_from(&app, a, "ghost@shop.example").await.status,
        StatusCode::ACCEPTED
    );
    forgot_from(&app, a, "other@shop.example")
        .await
        .problem(429);

    // An address nobody uses is limited exactly like one in use.
    let b = "198.51.100.2";
    assert_eq!(
        forgot_from(&app, b, "ghost@shop.example").await.status,
        StatusCode::ACCEPTED
    );
    forgot_from(&app, b, "ghost@shop.example")
        .await
        .problem(429);

    // Only the two allowed requests for the real account sent mail.
    for _ in 0..2 {
        assert_eq!(sink.next().await.recipients, ["limited@shop.example"]);
    }
    assert!(sink.try_next().is_none());
}

#[tokio::test]
async fn mail_delivery_failures_never_reach_the_client() {
    // Nothing listens on the discard port of this machine's loopback.
    let app = TestApp::with_env(&[
        ("USERS_SMTP_URL", "smtp://127.0.0.1:9"),
        ("USERS_MAIL_SEND_TIMEOUT_SECONDS", "1"),
    ])
    .await;
    assert_eq!(
        app.register("unlucky@shop.example", PASSWORD).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        forgot(&app, "unlucky@shop.example").await.status,
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn a_mail_directory_that_cannot_be_created_does_not_stop_the_service() {
    // Not even root can create directories in /proc.
    let app = TestApp::with_env(&[("USERS_MAIL_DIR", "/proc/storefront-users-mail")]).await;
    assert_eq!(
        app.register("nomail@shop.example", PASSWORD).await.status,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        app.login("nomail@shop.example", PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn without_an_smtp_server_mails_are_written_to_the_mail_directory() {
    let app = TestApp::new().await;
    assert_eq!(
        app.register("files@shop.example", PASSWORD).await.status,
        StatusCode::ACCEPTED
    );
    // The file is complete once its HTML part has ended.
    let mut written = None;
    for _ in 0..400 {
        let files: Vec<_> = std::fs::read_dir(&app.mail_dir)
            .map(|dir| dir.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        if let [file] = files.as_slice() {
            let mail = ReceivedMail {
                recipients: Vec::new(),
                data: std::fs::read_to_string(file).unwrap_or_default(),
            };
            if mail.decoded().contains("</html>") {
                written = Some((file.clone(), mail));
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (file, mail) = written.expect("one complete mail file appears");
    assert_eq!(file.extension().unwrap(), "eml");
    assert_eq!(mail.header("To").as_deref(), Some("files@shop.example"));
    let token = mail.token("http://127.0.0.1:8080/verify-email");
    assert_eq!(verify(&app, &token).await.status, StatusCode::NO_CONTENT);
}
