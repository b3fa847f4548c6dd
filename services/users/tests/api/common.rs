//! The harness: each test gets its own freshly migrated database on the test PostgreSQL server
//! (dropped again when the test ends) and drives the complete service in-process.

use std::path::PathBuf;

use axum::Router;
use axum::body::Body;
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection};
use storefront_kit::Env;
use storefront_kit::testing::{postgres_url, unique_name, with_database};
use storefront_users::{AppState, Config, MIGRATOR};
use tower::ServiceExt;

use crate::mail_sink::MailSink;

pub const PASSWORD: &str = "a sturdy passphrase";

pub struct TestApp {
    pub state: AppState,
    pub config: Config,
    pub router: Router,
    database: String,
    /// Whether dropping this app drops the database (not for a second instance on it).
    owns_database: bool,
    /// Where mails go when the test gives no SMTP server (removed at the end).
    pub mail_dir: PathBuf,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// Asserts a problem+json answer with this status and returns its body.
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(
            self.content_type(),
            "application/problem+json",
            "{}",
            self.body
        );
        assert_eq!(self.body["status"], status);
        assert!(
            self.body["type"]
                .as_str()
                .is_some_and(|t| t.starts_with("https://"))
        );
        &self.body
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_env(&[]).await
    }

    /// A service that mails through a test SMTP receiver, and the receiver.
    pub async fn with_mail_sink(vars: &[(&str, &str)]) -> (Self, MailSink) {
        let sink = MailSink::start().await;
        let mut all = vec![
            ("USERS_SMTP_URL", sink.url.as_str()),
            ("USERS_PUBLIC_URL", "https://shop.example"),
        ];
        all.extend_from_slice(vars);
        (Self::with_env(&all).await, sink)
    }

    /// A service whose config is the defaults plus `vars` (full `USERS_*` names); without an SMTP
    /// server its mails are written into a directory of its own.
    pub async fn with_env(vars: &[(&str, &str)]) -> Self {
        storefront_kit::install_crypto_provider();
        let server = postgres_url();
        let database = unique_name("users_test");
        let mut admin = PgConnection::connect(&server)
            .await
            .expect("the test PostgreSQL server is reachable (STOREFRONT_POSTGRES_URL)");
        // `unique_name` is a fixed prefix and hex digits: safe as an identifier.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        Self::on_database(database, vars, true).await
    }

    /// Another instance of the service on this app's database (a second replica), configured
    /// with the defaults plus `vars`; dropping it leaves the database alone.
    pub async fn replica(&self, vars: &[(&str, &str)]) -> Self {
        Self::on_database(self.database.clone(), vars, false).await
    }

    /// Stops this instance (its mail dispatcher with it) and starts a new one on the same
    /// database with the defaults plus `vars`, as a restarted service would.
    pub async fn restart(mut self, vars: &[(&str, &str)]) -> Self {
        let database = std::mem::take(&mut self.database);
        let owns_database = self.owns_database;
        self.owns_database = false;
        drop(self);
        Self::on_database(database, vars, owns_database).await
    }

    async fn on_database(database: String, vars: &[(&str, &str)], owns_database: bool) -> Self {
        let url = with_database(&postgres_url(), &database);
        let mail_dir = std::env::temp_dir().join(format!("storefront-{database}-mail"));
        let mut all: Vec<(String, String)> = vec![
            ("USERS_DATABASE_URL".into(), url.clone()),
            ("USERS_MAIL_DIR".into(), mail_dir.display().to_string()),
        ];
        all.extend(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Config::from_env(&Env::from_map("USERS", all)).unwrap();
        let db = PgPoolOptions::new()
            .max_connections(5)
            .connect(&url)
            .await
            .unwrap();
        MIGRATOR.run(&db).await.unwrap();
        let state = AppState::new(db, &config).await.unwrap();
        let router = storefront_users::service(state.clone()).into_router(&config.server);
        Self {
            state,
            config,
            router,
            database,
            owns_database,
            mail_dir,
        }
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, None, Some(body)).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn register(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/api/users/register",
            json!({ "email": email, "password": password }),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/api/users/login",
            json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Registers `email` and signs in: `(access token, refresh token)`.
    pub async fn customer(&self, email: &str) -> (String, String) {
        assert_eq!(
            self.register(email, PASSWORD).await.status,
            StatusCode::ACCEPTED
        );
        let reply = self.login(email, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        (
            reply.body["accessToken"].as_str().unwrap().to_owned(),
            reply.body["refreshToken"].as_str().unwrap().to_owned(),
        )
    }

    /// An admin created the way operators do (bootstrap), signed in.
    pub async fn admin(&self, email: &str) -> String {
        let bootstrap = storefront_users::config::BootstrapAdmin {
            email: email.to_owned(),
            password: PASSWORD.to_owned(),
        };
        storefront_users::admin::bootstrap(&self.state.db, &self.state.passwords, &bootstrap)
            .await
            .unwrap();
        let reply = self.login(email, PASSWORD).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["accessToken"].as_str().unwrap().to_owned()
    }

    pub async fn user_id(&self, token: &str) -> String {
        self.get("/api/users/me", token).await.body["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if !self.owns_database {
            return;
        }
        // Drop the database from a thread of its own: Drop cannot await, and the test's runtime
        // may be shutting down.
        let _ = std::fs::remove_dir_all(&self.mail_dir);
        let database = std::mem::take(&mut self.database);
        let done = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut admin) = PgConnection::connect(&postgres_url()).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
                    )))
                    .execute(&mut admin)
                    .await;
                }
            });
        });
        let _ = done.join();
    }
}
