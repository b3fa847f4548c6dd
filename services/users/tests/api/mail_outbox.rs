//! The mail outbox against the real PostgreSQL server: mails commit with their links, survive a
//! restart, are retried while the mail server fails, are sent once by several dispatchers, and
//! are purged after the retention.

use std::collections::BTreeSet;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::StatusCode;
use serde_json::json;
use sqlx::PgPool;
use storefront_users::mail::{Mail, outbox};
use uuid::Uuid;

use crate::common::{PASSWORD, TestApp};
use crate::mail_sink::MailSink;

const RESET: &str = "https://shop.example/reset-password";
const VERIFY: &str = "https://shop.example/verify-email";
/// Nothing listens on the discard port of this machine's loopback: every attempt is refused.
const CLOSED_SMTP: &str = "smtp://127.0.0.1:9";
/// The longest a test waits for an outcome.
const WAIT: Duration = Duration::from_secs(15);
/// Quick polls and a one-second first retry, so retries happen within a test.
const QUICK_RETRIES: [(&str, &str); 2] = [
    ("USERS_MAIL_INTERVAL_MS", "50"),
    ("USERS_MAIL_BACKOFF_SECONDS", "1"),
];

#[derive(Debug, sqlx::FromRow)]
struct OutboxRow {
    id: Uuid,
    kind: String,
    recipient: String,
    attempts: i32,
    last_error: Option<String>,
    text_body: Option<String>,
    leased_by: Option<Uuid>,
    sent_at: Option<DateTime<Utc>>,
    failed_at: Option<DateTime<Utc>>,
}

async fn outbox_rows(db: &PgPool) -> Vec<OutboxRow> {
    sqlx::query_as(
        "SELECT id, kind, recipient, attempts, last_error, text_body, leased_by, sent_at, failed_at
           FROM mail_outbox ORDER BY id",
    )
    .fetch_all(db)
    .await
    .unwrap()
}

/// Polls `probe` until it has an answer; fails the test after [`WAIT`].
async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The outbox once every row satisfies `done`.
async fn outbox_once(db: &PgPool, what: &str, done: impl Fn(&OutboxRow) -> bool) -> Vec<OutboxRow> {
    let done = &done;
    eventually(what, move || async move {
        let rows = outbox_rows(db).await;
        (!rows.is_empty() && rows.iter().all(done)).then_some(rows)
    })
    .await
}

async fn count(db: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(db)
        .await
        .unwrap()
}

fn mail_to(to: &str) -> Mail {
    Mail {
        to: to.to_owned(),
        subject: "A test mail".to_owned(),
        text: "Hello.\n".to_owned(),
        html: "<p>Hello.</p>".to_owned(),
        kind: "password_reset",
    }
}

#[tokio::test]
async fn a_password_reset_mail_is_stored_with_its_link_and_delivered() {
    let (app, mut sink) = TestApp::with_mail_sink(&[]).await;
    assert_eq!(
        app.register("outbox@shop.example", PASSWORD).await.status,
        StatusCode::ACCEPTED
    );
    sink.next().await;
    let reply = app
        .post(
            "/api/users/password/forgot",
            json!({ "email": "outbox@shop.example" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let mail = sink.next().await;
    assert_eq!(mail.recipients, ["outbox@shop.example"]);
    let token = mail.token(RESET);
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM account_tokens
          WHERE token_hash = sha256(convert_to($1, 'UTF8')) AND purpose = 'reset_password'",
    )
    .bind(&token)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(stored, 1, "the mailed link is the stored one");

    let rows = outbox_once(&app.state.db, "both mails are recorded as sent", |row| {
        row.sent_at.is_some()
    })
    .await;
    let kinds: Vec<&str> = rows.iter().map(|row| row.kind.as_str()).collect();
    assert_eq!(kinds, ["email_verification", "password_reset"]);
    for row in &rows {
        assert_eq!(row.recipient, "outbox@shop.example");
        assert_eq!(row.attempts, 1);
        assert_eq!(row.last_error, None);
        assert_eq!(row.leased_by, None);
        assert_eq!(row.failed_at, None);
        assert_eq!(row.text_body, None, "a sent mail's link is not kept");
    }
    // The Message-ID names the outbox row, so a mail sent twice is recognisable as one.
    assert_eq!(
        mail.header("Message-ID"),
        Some(format!("<{}@storefront.local>", rows[1].id))
    );
}

#[tokio::test]
async fn a_link_and_its_mail_commit_or_roll_back_together() {
    let (app, mut sink) = TestApp::with_mail_sink(&[]).await;
    assert_eq!(
        app.register("atomic@shop.example", PASSWORD).await.status,
        StatusCode::ACCEPTED
    );
    sink.next().await;
    // The outbox refuses every row: whatever wrote one must roll back with it.
    sqlx::raw_sql(
        "CREATE FUNCTION refuse_mail() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'the outbox is refusing mail'; END $$;
         CREATE TRIGGER refuse_mail BEFORE INSERT ON mail_outbox
             FOR EACH ROW EXECUTE FUNCTION refuse_mail();",
    )
    .execute(&app.state.db)
    .await
    .unwrap();
    let reset_links = "SELECT count(*) FROM account_tokens WHERE purpose = 'reset_password'";

    let forgot = app
        .post(
            "/api/users/password/forgot",
            json!({ "email": "atomic@shop.example" }),
        )
        .await;
    assert_eq!(forgot.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(count(&app.state.db, reset_links).await, 0);

    let register = app.register("second@shop.example", PASSWORD).await;
    assert_eq!(register.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        count(
            &app.state.db,
            "SELECT count(*) FROM users WHERE email = 'second@shop.example'"
        )
        .await,
        0,
        "no account without its verification mail"
    );
    assert_eq!(
        count(
            &app.state.db,
            "SELECT count(*) FROM account_tokens WHERE purpose = 'verify_email'"
        )
        .await,
        1
    );

    sqlx::raw_sql("DROP TRIGGER refuse_mail ON mail_outbox")
        .execute(&app.state.db)
        .await
        .unwrap();
    let forgot = app
        .post(
            "/api/users/password/forgot",
            json!({ "email": "atomic@shop.example" }),
        )
        .await;
    assert_eq!(forgot.status, StatusCode::ACCEPTED);
    assert_eq!(count(&app.state.db, reset_links).await, 1);
    assert_eq!(sink.next().await.recipients, ["atomic@shop.example"]);
    assert!(sink.try_next().is_none());
}

#[tokio::test]
async fn mail_that_could_not_be_sent_is_delivered_after_a_restart() {
    let mut vars = vec![
        ("USERS_SMTP_URL", CLOSED_SMTP),
        ("USERS_PUBLIC_URL", "https://shop.example"),
    ];
    vars.extend(QUICK_RETRIES);
    let app = TestApp::with_env(&vars).await;
    assert_eq!(
        app.register("restart@shop.example", PASSWORD).await.status,
        StatusCode::ACCEPTED
    );
    let before = outbox_once(&app.state.db, "an attempt has failed", |row| {
        row.last_error.is_some()
    })
    .await;
    assert_eq!(before.len(), 1);
    assert!(before[0].attempts >= 1);
    assert_eq!(before[0].sent_at, None);
    assert_eq!(before[0].failed_at, None);

    // The service comes back, now with a mail server that works.
    let mut sink = MailSink::start().await;
    let mut vars = vec![
        ("USERS_SMTP_URL", sink.url.as_str()),
        ("USERS_PUBLIC_URL", "https://shop.example"),
    ];
    vars.extend(QUICK_RETRIES);
    let app = app.restart(&vars).await;
    let mail = sink.next().await;
    assert_eq!(mail.recipients, ["restart@shop.example"]);
    let verified = app
        .post(
            "/api/users/email/verify",
            json!({ "token": mail.token(VERIFY) }),
        )
        .await;
    assert_eq!(verified.status, StatusCode::NO_CONTENT, "{}", verified.body);

    let after = outbox_once(&app.state.db, "the mail is recorded as sent", |row| {
        row.sent_at.is_some()
    })
    .await;
    assert_eq!(after[0].id, before[0].id);
    assert!(after[0].attempts >= 2, "{after:?}");
    assert!(sink.try_next().is_none());
}

#[tokio::test]
async fn a_mail_server_that_refuses_for_a_while_gets_the_mail_once_it_accepts() {
    let mut sink = MailSink::refusing_first(2).await;
    let mut vars = vec![
        ("USERS_SMTP_URL", sink.url.as_str()),
        ("USERS_PUBLIC_URL", "https://shop.example"),
    ];
    vars.extend(QUICK_RETRIES);
    let app = TestApp::with_env(&vars).await;
    assert_eq!(
        app.register("patient@shop.example", PASSWORD).await.status,
        StatusCode::ACCEPTED
    );
    let mail = sink.next().await;
    assert_eq!(mail.recipients, ["patient@shop.example"]);

    let rows = outbox_once(&app.state.db, "the mail is recorded as sent", |row| {
        row.sent_at.is_some()
    })
    .await;
    assert_eq!(rows[0].attempts, 3, "two refusals, then the delivery");
    let error = rows[0].last_error.as_deref().unwrap_or_default();
    assert!(error.contains("451"), "the refusal is recorded: {error}");
    assert!(sink.try_next().is_none());
}

#[tokio::test]
async fn a_mail_is_kept_as_failed_once_its_attempts_run_out() {
    let mut vars = vec![
        ("USERS_SMTP_URL", CLOSED_SMTP),
        ("USERS_MAIL_MAX_ATTEMPTS", "2"),
    ];
    vars.extend(QUICK_RETRIES);
    let app = TestApp::with_env(&vars).await;
    assert_eq!(
        app.register("doomed@shop.example", PASSWORD).await.status,
        StatusCode::ACCEPTED
    );
    let rows = outbox_once(&app.state.db, "the mail is given up", |row| {
        row.failed_at.is_some()
    })
    .await;
    assert_eq!(rows[0].attempts, 2);
    assert_eq!(rows[0].sent_at, None);
    assert_eq!(rows[0].leased_by, None);
    assert!(rows[0].last_error.is_some());
    assert!(rows[0].text_body.is_some(), "kept whole for inspection");
    let backlog = outbox::backlog(&app.state.db).await.unwrap();
    assert_eq!((backlog.pending, backlog.failed), (0, 1));
    // Signing in never depended on it.
    assert_eq!(
        app.login("doomed@shop.example", PASSWORD).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn two_dispatchers_on_one_database_send_each_mail_once() {
    let (app, mut sink) = TestApp::with_mail_sink(&[]).await;
    let replica = app.replica(&[("USERS_SMTP_URL", &sink.url)]).await;
    let recipients: BTreeSet<String> = (0..40)
        .map(|i| format!("customer{i:02}@shop.example"))
        .collect();
    let mut tx = app.state.db.begin().await.unwrap();
    for to in &recipients {
        outbox::queue(&mut tx, &mail_to(to)).await.unwrap();
    }
    tx.commit().await.unwrap();
    app.state.mailer.wake();
    replica.state.mailer.wake();

    let mut received = Vec::new();
    for _ in 0..recipients.len() {
        received.extend(sink.next().await.recipients);
    }
    received.sort();
    assert_eq!(
        received,
        recipients.iter().cloned().collect::<Vec<_>>(),
        "every mail arrives, none twice"
    );
    let rows = outbox_once(&app.state.db, "every mail is recorded as sent", |row| {
        row.sent_at.is_some()
    })
    .await;
    assert_eq!(rows.len(), recipients.len());
    assert!(
        rows.iter().all(|row| row.attempts == 1),
        "each mail was claimed once"
    );
    assert!(sink.try_next().is_none());
}

#[tokio::test]
async fn a_mail_whose_sender_stopped_mid_send_is_taken_over_once_its_lease_ends() {
    let (app, mut sink) = TestApp::with_mail_sink(&[]).await;
    let insert = |to: &'static str, attempts: i32, lease_ends_in_seconds: f64| {
        sqlx::query(
            "INSERT INTO mail_outbox (id, kind, recipient, subject, text_body, html_body,
                                      attempts, leased_by, leased_until)
             VALUES ($1, 'password_reset', $2, 'Left behind', 'Hello.', '<p>Hello.</p>',
                     $3, $4, now() + make_interval(secs => $5))",
        )
        .bind(Uuid::now_v7())
        .bind(to)
        .bind(attempts)
        .bind(Uuid::new_v4())
        .bind(lease_ends_in_seconds)
        .execute(&app.state.db)
    };
    // A sender that stopped a while ago, one that is still within its lease, and one that
    // stopped during the last attempt allowed.
    insert("stopped@shop.example", 1, -1.0).await.unwrap();
    insert("busy@shop.example", 1, 3600.0).await.unwrap();
    insert("exhausted@shop.example", 8, -1.0).await.unwrap();
    app.state.mailer.wake();

    assert_eq!(sink.next().await.recipients, ["stopped@shop.example"]);
    let db = &app.state.db;
    let rows = eventually(
        "the taken-over mail is recorded as sent",
        move || async move {
            let rows = outbox_rows(db).await;
            rows[0].sent_at.is_some().then_some(rows)
        },
    )
    .await;
    assert_eq!(rows[0].attempts, 2);
    assert!(
        rows[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("did not finish")),
        "{:?}",
        rows[0].last_error
    );
    // Still leased: not touched.
    assert_eq!(rows[1].attempts, 1);
    assert!(rows[1].sent_at.is_none() && rows[1].leased_by.is_some());

    // Out of attempts: given up rather than sent a ninth time.
    outbox::give_up_abandoned(&app.state.db, 8).await.unwrap();
    let rows = outbox_rows(&app.state.db).await;
    assert!(rows[2].failed_at.is_some(), "{:?}", rows[2]);
    assert_eq!(rows[2].attempts, 8);
    assert!(rows[1].failed_at.is_none());
    assert!(sink.try_next().is_none());
}

#[tokio::test]
async fn sent_and_failed_mails_are_purged_after_the_retention_and_pending_ones_kept() {
    // The dispatcher's own purge keeps everything here; the test purges with its own retention.
    let app = TestApp::with_env(&[("USERS_MAIL_RETENTION_SECONDS", "315360000")]).await;
    sqlx::query(
        "INSERT INTO mail_outbox (id, kind, recipient, subject, text_body, html_body,
                                  created_at, next_attempt_at, sent_at, failed_at)
         VALUES ($1, 'email_verification', 'old-sent@shop.example', 'Sent', NULL, NULL,
                 now() - interval '9 days', now() - interval '9 days', now() - interval '9 days',
                 NULL),
                ($2, 'email_verification', 'recent-sent@shop.example', 'Sent', NULL, NULL,
                 now() - interval '1 day', now() - interval '1 day', now() - interval '1 day',
                 NULL),
                ($3, 'email_verification', 'old-failed@shop.example', 'Failed', 'x', 'x',
                 now() - interval '8 days', now() - interval '8 days', NULL,
                 now() - interval '8 days'),
                ($4, 'email_verification', 'waiting@shop.example', 'Waiting', 'x', 'x',
                 now() - interval '30 days', now() + interval '1 day', NULL, NULL)",
    )
    .bind(Uuid::now_v7())
    .bind(Uuid::now_v7())
    .bind(Uuid::now_v7())
    .bind(Uuid::now_v7())
    .execute(&app.state.db)
    .await
    .unwrap();

    let purged = outbox::purge(&app.state.db, Duration::from_secs(7 * 24 * 3600))
        .await
        .unwrap();
    assert_eq!(purged, 2);
    let left: Vec<String> = outbox_rows(&app.state.db)
        .await
        .into_iter()
        .map(|row| row.recipient)
        .collect();
    assert_eq!(left, ["recent-sent@shop.example", "waiting@shop.example"]);

    let backlog = outbox::backlog(&app.state.db).await.unwrap();
    assert_eq!((backlog.pending, backlog.failed), (1, 0));
    assert!(
        backlog.oldest_pending_seconds >= 29.0 * 24.0 * 3600.0,
        "{backlog:?}"
    );
}
