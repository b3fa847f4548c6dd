//! Crash safety of the real `storefront-cart` process: a stream of checkouts (approving,
//! declining, failing and slow test cards) and cancellations runs against it while it is killed
//! with SIGKILL at random moments and restarted on the same configuration. Once the recovery
//! loop has finished, every order must be settled, the catalog ledger must match the orders
//! exactly, and the sandbox provider's durable ledger must hold no authorization that outlived
//! its order.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use storefront_kit::testing::{create_database, drop_database, redis_url, test_jwks, unique_name};
use uuid::Uuid;

use crate::common::{Catalog, token};

const APPROVE: &str = "4242424242424242";
const DECLINE: &str = "4000000000000002";
const ERROR: &str = "4000000000000119";
const SLOW: &str = "4000000000003055";
/// (SKU, units on hand at the start): one that runs out during the test, one that does not.
const SKUS: [(&str, i64); 2] = [("SCARCE", 30), ("PLENTY", 100_000)];
const SHOPPERS: usize = 8;
const KILLS: usize = 5;

fn random(below: u64) -> u64 {
    (Uuid::new_v4().as_u128() % u128::from(below.max(1))) as u64
}

fn card() -> &'static str {
    match random(100) {
        0..45 => APPROVE,
        45..65 => DECLINE,
        65..80 => ERROR,
        _ => SLOW,
    }
}

/// Serves the test key's JWKS, as the users service would.
async fn jwks_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
    let router = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(|| async { axum::Json(test_jwks()) }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// The cart binary, started and restarted on one configuration.
struct CartProcess {
    env: Vec<(&'static str, String)>,
    url: String,
    log: PathBuf,
    child: Option<Child>,
}

impl CartProcess {
    async fn start(env: Vec<(&'static str, String)>, url: String, log: PathBuf) -> Self {
        let mut process = Self {
            env,
            url,
            log,
            child: None,
        };
        process.restart().await;
        process
    }

    async fn restart(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_storefront-cart"))
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("the cart binary starts");
        self.child = Some(child);
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().unwrap()) {
                panic!("the cart exited with {status}; see {}", self.log.display());
            }
            let ready = http
                .get(format!("{}/readyz", self.url))
                .timeout(Duration::from_secs(1))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the cart did not become ready; see {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown hook, no draining, whatever was in flight is cut off.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap(); // std sends SIGKILL on Unix
            child.wait().unwrap();
        }
    }

    fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }
}

impl Drop for CartProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Default)]
struct Tally {
    answered: AtomicUsize,
    retried: AtomicUsize,
}

/// A shopper: fills the cart, checks out with a random card, and retries the same
/// Idempotency-Key until the service gives a definite answer (it may be dead for a while).
async fn shopper(
    http: reqwest::Client,
    base: String,
    user: String,
    stop: Arc<AtomicBool>,
    tally: Arc<Tally>,
) {
    let bearer = token(&user, &["customer"]);
    while !stop.load(Ordering::SeqCst) {
        for (sku, _) in SKUS {
            let _ = http
                .delete(format!("{base}/api/cart/lines/{sku}"))
                .bearer_auth(&bearer)
                .send()
                .await;
        }
        let (sku, _) = SKUS[random(2) as usize];
        let added = http
            .post(format!("{base}/api/cart/lines"))
            .bearer_auth(&bearer)
            .json(&json!({"sku": sku, "quantity": 1 + random(2)}))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if !added {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        let key = Uuid::new_v4().to_string();
        let card = card();
        for _ in 0..300 {
            let reply = http
                .post(format!("{base}/api/cart/checkout"))
                .bearer_auth(&bearer)
                .header("idempotency-key", &key)
                .json(&json!({"paymentToken": card}))
                .send()
                .await;
            let definite = match reply {
                Ok(r) if r.status() == 503 => false,
                Ok(r) if r.status() == 409 => {
                    let body: serde_json::Value = r.json().await.unwrap_or_default();
                    !body["type"]
                        .as_str()
                        .is_some_and(|t| t.ends_with("idempotency-in-flight"))
                }
                Ok(_) => true,
                Err(_) => false,
            };
            if definite {
                tally.answered.fetch_add(1, Ordering::SeqCst);
                break;
            }
            tally.retried.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// An admin who cancels a random confirmed order now and then.
async fn canceller(http: reqwest::Client, base: String, db: sqlx::PgPool, stop: Arc<AtomicBool>) {
    let admin = token("crash-admin", &["admin"]);
    while !stop.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(1000)).await;
        let confirmed: Option<Uuid> = sqlx::query_scalar(
            "SELECT id FROM orders WHERE status = 'CONFIRMED' ORDER BY random() LIMIT 1",
        )
        .fetch_optional(&db)
        .await
        .unwrap_or_default();
        if let Some(id) = confirmed {
            let _ = http
                .post(format!("{base}/api/cart/admin/orders/{id}/status"))
                .bearer_auth(&admin)
                .json(&json!({"status": "CANCELLED", "reason": "crash test"}))
                .send()
                .await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigkilled_at_random_the_cart_settles_every_order_exactly_once() {
    let catalog = Catalog::start().await;
    for (sku, stock) in SKUS {
        catalog.product(sku, 1500, stock).await;
    }
    let (database_url, database) = create_database("orders_crash").await;
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let log = std::env::temp_dir().join(format!("{}.log", unique_name("cart-crash")));
    let prefix = format!("{}:", unique_name("cartcrash"));
    let env = vec![
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        ("CART_LISTEN_ADDR", format!("127.0.0.1:{port}")),
        ("CART_REDIS_URL", redis_url()),
        ("CART_REDIS_PREFIX", prefix.clone()),
        ("CART_DATABASE_URL", database_url.clone()),
        ("CART_CATALOG_URL", catalog.url.clone()),
        ("CART_CATALOG_TIMEOUT_MS", "5000".into()),
        ("CART_JWKS_URL", jwks_server().await),
        ("CART_SAGA_LEASE_SECONDS", "2".into()),
        ("CART_RECOVERY_INTERVAL_SECONDS", "1".into()),
        ("CART_SUSPEND_BACKOFF_SECONDS", "1".into()),
        ("CART_SANDBOX_SLOW_MS", "400".into()),
        ("CART_IDEMPOTENCY_WAIT_MS", "1000".into()),
        ("CART_OUTBOX_INTERVAL_MS", "200".into()),
        ("CART_SHUTDOWN_GRACE_SECONDS", "1".into()),
        ("RUST_LOG", "warn".into()),
        ("LOG_FORMAT", "text".into()),
    ];
    let mut cart = CartProcess::start(env, base.clone(), log.clone()).await;
    let db = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&database_url)
        .await
        .unwrap();

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Tally::default());
    let mut load: Vec<_> = (0..SHOPPERS)
        .map(|i| {
            tokio::spawn(shopper(
                http.clone(),
                base.clone(),
                format!("shopper-{i}"),
                stop.clone(),
                tally.clone(),
            ))
        })
        .collect();
    load.push(tokio::spawn(canceller(
        http.clone(),
        base.clone(),
        db.clone(),
        stop.clone(),
    )));

    let mut in_flight_at_kills = 0;
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(500 + random(1500))).await;
        cart.kill();
        in_flight_at_kills += sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM orders WHERE status = 'PENDING' OR cancellation_pending",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(random(500))).await;
        cart.restart().await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::SeqCst);
    for task in load {
        task.await.unwrap();
    }

    // Let the recovery loop of the last process finish whatever the kills left behind.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        assert!(cart.alive(), "the cart died; see {}", log.display());
        let unsettled: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM orders WHERE status = 'PENDING' OR cancellation_pending",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        if unsettled == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{unsettled} orders never settled; see {}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    cart.kill();

    let orders: HashMap<Uuid, String> = sqlx::query_as("SELECT id, status FROM orders")
        .fetch_all(&db)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let count = |status: &str| orders.values().filter(|s| *s == status).count();
    println!(
        "{} orders: {} confirmed, {} failed, {} cancelled; {} unsettled at the {KILLS} kills; \
         {} answers, {} retries",
        orders.len(),
        count("CONFIRMED"),
        count("FAILED"),
        count("CANCELLED"),
        in_flight_at_kills,
        tally.answered.load(Ordering::SeqCst),
        tally.retried.load(Ordering::SeqCst),
    );
    assert!(
        count("CONFIRMED") > 0 && count("FAILED") > 0,
        "the stream made both outcomes: {orders:?}"
    );
    for (id, status) in &orders {
        assert!(
            ["CONFIRMED", "FAILED", "CANCELLED"].contains(&status.as_str()),
            "order {id} is {status}"
        );
    }

    // The catalog's ledger: each order's reservation ended the way its order did ...
    let reservations: HashMap<String, String> =
        sqlx::query_as("SELECT order_id, status FROM reservations")
            .fetch_all(&catalog.state.ledger)
            .await
            .unwrap()
            .into_iter()
            .collect();
    for (id, status) in &orders {
        let reservation = reservations.get(&id.to_string()).map(String::as_str);
        let expected: &[Option<&str>] = match status.as_str() {
            "CONFIRMED" => &[Some("committed")],
            "CANCELLED" => &[Some("returned")],
            _ => &[None, Some("released"), Some("expired")],
        };
        assert!(
            expected.contains(&reservation),
            "order {id} is {status} but its reservation is {reservation:?}"
        );
    }
    for order in reservations.keys() {
        let id = Uuid::parse_str(order).unwrap();
        assert!(
            orders.contains_key(&id),
            "stock held for an unknown order {order}"
        );
    }
    // ... and the shelves lost exactly the units of the orders that stand.
    for (sku, initial) in SKUS {
        let sold: i64 = sqlx::query_scalar(
            "SELECT COALESCE(sum(l.quantity), 0)::bigint FROM order_lines l JOIN orders o ON o.id = l.order_id
              WHERE l.sku = $1 AND o.status IN ('CONFIRMED', 'SHIPPED')",
        )
        .bind(sku)
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!(
            catalog.inventory(sku).await,
            (initial - sold, 0),
            "{sku}: on hand less the confirmed units, nothing left reserved"
        );
    }

    // The payment provider's ledger: no authorization outlives its order.
    let payments: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT order_id, status FROM sandbox_payments")
            .fetch_all(&db)
            .await
            .unwrap();
    let payments: HashMap<Uuid, String> = payments.into_iter().collect();
    for (order, payment) in &payments {
        assert!(
            orders.contains_key(order),
            "a payment ({payment}) for an unknown order {order}"
        );
    }
    for (id, status) in &orders {
        let payment = payments.get(id).map(String::as_str);
        let expected: &[Option<&str>] = match status.as_str() {
            "CONFIRMED" => &[Some("authorized")],
            "CANCELLED" => &[Some("voided")],
            _ => &[None, Some("declined"), Some("voided")],
        };
        assert!(
            expected.contains(&payment),
            "order {id} is {status} but its payment is {payment:?}"
        );
    }

    db.close().await;
    drop_database(&database).await;
    let mut redis = redis::Client::open(redis_url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut redis)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: Result<(), _> = redis::cmd("DEL").arg(keys).query_async(&mut redis).await;
    }
    catalog.cleanup().await;
    let _ = std::fs::remove_file(&log);
}
