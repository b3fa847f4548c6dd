//! The store's own images as real pods on the real local node, its databases the host's: every
//! component Ready through its real `/readyz`, a shopper's journey through the Services, a catalog
//! pod killed and a rolling update under a steady request loop with no failed request, and the
//! Storefront deleted without a pod, container or Secret left. Prints the figures.
//!
//! Needs root and what `cargo xtask test` prepares (it runs this as its own phase):
//! `STOREFRONT_KUBE_BIN`, `STOREFRONT_KUBECONFIG`, `STOREFRONT_NODE_DIR`,
//! `STOREFRONT_NODE_ADDRESS`, `STOREFRONT_IMAGE_TAG` and `STOREFRONT_IMAGE_NEXT_TAG` (two
//! releases imported into the node), `STOREFRONT_STATIC_BIN` (the release binaries, for seeding).

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use storefront_tests::real_node::{self, HostDatabases, Kubectl, Result, StoreManifest};
use storefront_tests::{install_crypto_provider, mongodb_url, postgres_url};

const REGISTRY: &str = "localhost/storefront";
const COMPONENTS: [&str; 5] = ["users", "catalog", "cart", "search", "store-ui"];
const PORT: u16 = 8080;

struct Env {
    kubectl: Kubectl,
    node_dir: PathBuf,
    address: Ipv4Addr,
    tag: String,
    next_tag: String,
    static_bin: PathBuf,
}

impl Env {
    fn from_env() -> Option<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Some(Self {
            kubectl: Kubectl::from_env()?,
            node_dir: PathBuf::from(var("STOREFRONT_NODE_DIR")?),
            address: var("STOREFRONT_NODE_ADDRESS")?.parse().ok()?,
            tag: var("STOREFRONT_IMAGE_TAG")?,
            next_tag: var("STOREFRONT_IMAGE_NEXT_TAG")?,
            static_bin: PathBuf::from(var("STOREFRONT_STATIC_BIN")?),
        })
    }
}

/// The store under test: its own namespace and database prefix, so it never meets another.
struct Store<'a> {
    env: &'a Env,
    manifest: StoreManifest,
    http: reqwest::Client,
}

impl Store<'_> {
    fn ns(&self) -> &str {
        &self.manifest.namespace
    }

    fn selector(&self) -> String {
        format!("app.kubernetes.io/instance={}", self.manifest.name)
    }

    fn kubectl(&self, args: &[&str]) -> Result<String> {
        self.env.kubectl.run(args)
    }

    fn get(&self, args: &[&str]) -> Result<Value> {
        let mut all = args.to_vec();
        all.extend(["-n", self.ns()]);
        self.env.kubectl.json(&all)
    }

    /// `http://<cluster IP>:8080` of a component's Service (reached through kube-proxy's rules).
    fn service_url(&self, component: &str) -> Result<String> {
        let service = self.get(&[
            "get",
            "service",
            &format!("{}-{component}", self.manifest.name),
        ])?;
        let ip = service["spec"]["clusterIP"]
            .as_str()
            .ok_or("service without a cluster IP")?;
        Ok(format!("http://{ip}:{PORT}"))
    }

    fn pods(&self) -> Result<Vec<Value>> {
        Ok(self.get(&["get", "pods", "-l", &self.selector()])?["items"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    /// Every Deployment of the store has all its replicas updated, ready and alone (no old pod).
    fn rolled_out(&self) -> Result<bool> {
        let deployments = self.get(&["get", "deployments", "-l", &self.selector()])?;
        let items = deployments["items"].as_array().cloned().unwrap_or_default();
        if items.len() != COMPONENTS.len() {
            return Ok(false);
        }
        Ok(items.iter().all(|d| {
            let want = d["spec"]["replicas"].as_i64().unwrap_or(1);
            let status = &d["status"];
            d["metadata"]["generation"] == status["observedGeneration"]
                && status["updatedReplicas"].as_i64() == Some(want)
                && status["readyReplicas"].as_i64() == Some(want)
                && status["replicas"].as_i64() == Some(want)
        }))
    }

    /// The store's pods and its latest warnings, for a failure's message.
    fn situation(&self) -> String {
        let pods = self
            .kubectl(&["get", "pods", "-n", self.ns(), "-o", "wide"])
            .unwrap_or_else(|e| format!("(pods: {e})"));
        let warnings = self
            .kubectl(&[
                "get",
                "events",
                "-n",
                self.ns(),
                "--field-selector=type=Warning",
                "--sort-by=.lastTimestamp",
            ])
            .unwrap_or_else(|e| format!("(events: {e})"));
        let last: Vec<&str> = warnings.lines().rev().take(12).collect();
        let last: Vec<&str> = last.into_iter().rev().collect();
        format!("{pods}\nwarnings:\n{}", last.join("\n"))
    }

    async fn wait_rolled_out(&self, bound: Duration) -> Result<()> {
        let deadline = Instant::now() + bound;
        while !self.rolled_out()? {
            if Instant::now() > deadline {
                return Err(
                    format!("not rolled out after {bound:?}:\n{}", self.situation()).into(),
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Ok(())
    }
}

async fn wait_for<F, Fut>(what: &str, bound: Duration, mut check: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + bound;
    while !check().await {
        if Instant::now() > deadline {
            return Err(format!("timed out after {bound:?} waiting for {what}").into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

/// A request loop against one URL on fresh connections (as a load balancer opens them): counts
/// failures, each with when it happened.
struct Loop {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<(usize, Vec<Instant>)>,
}

impl Loop {
    fn start(url: String) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(5))
                .build()
                .expect("http client");
            let (mut sent, mut failed) = (0, Vec::new());
            while !flag.load(Ordering::SeqCst) {
                sent += 1;
                let ok = client
                    .get(&url)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if !ok {
                    failed.push(Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (sent, failed)
        });
        Self { stop, task }
    }

    async fn finish(self) -> (usize, Vec<Instant>) {
        self.stop.store(true, Ordering::SeqCst);
        self.task.await.unwrap_or_default()
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn timestamp(value: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(value.as_str()?)
        .ok()
        .map(|t| t.to_utc())
}

/// Pod creation → Ready, in seconds (the API's timestamps have one-second resolution).
fn start_seconds(pod: &Value) -> Option<f64> {
    let created = timestamp(&pod["metadata"]["creationTimestamp"])?;
    let ready = pod["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "Ready" && c["status"] == "True")?;
    let ready = timestamp(&ready["lastTransitionTime"])?;
    Some((ready - created).num_milliseconds() as f64 / 1000.0)
}

fn container_ids(pods: &[Value]) -> Vec<String> {
    pods.iter()
        .flat_map(|p| {
            p["status"]["containerStatuses"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|c| {
            c["containerID"]
                .as_str()
                .and_then(|id| id.strip_prefix("containerd://"))
                .map(str::to_string)
        })
        .collect()
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn pid_file(node_dir: &Path, name: &str) -> Option<u32> {
    std::fs::read_to_string(node_dir.join("run").join(format!("{name}.pid")))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn ctr(node_dir: &Path, args: &[&str]) -> Result<String> {
    let output = Command::new("ctr")
        .args(["--connect-timeout", "1s", "-a"])
        .arg(node_dir.join("containerd/containerd.sock"))
        .args(["-n", "k8s.io"])
        .args(args)
        .output()?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned().into());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Main process of every running task, by container id.
fn task_pids(node_dir: &Path) -> Result<Vec<(String, u32)>> {
    Ok(ctr(node_dir, &["tasks", "ls"])?
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let id = words.next()?.to_string();
            let pid = words.next()?.parse().ok()?;
            Some((id, pid))
        })
        .collect())
}

/// Loads the demo catalog into the store's databases with the release binary (over loopback).
fn seed_catalog(env: &Env, store: &StoreManifest, password: &str) -> Result<()> {
    let port = |url: String| -> Result<u16> {
        reqwest::Url::parse(&url)?
            .port()
            .ok_or_else(|| "no port".into())
    };
    let role = store.role();
    let images = std::env::temp_dir().join(format!("{}-images", store.namespace));
    let output = Command::new(env.static_bin.join("storefront-catalog"))
        .arg("seed")
        .env(
            "CATALOG_MONGODB_URL",
            format!(
                "mongodb://{role}:{password}@127.0.0.1:{}/{}catalog?authMechanism=PLAIN",
                port(mongodb_url())?,
                store.mongodb.prefix
            ),
        )
        .env(
            "CATALOG_MONGODB_DATABASE",
            format!("{}catalog", store.mongodb.prefix),
        )
        .env(
            "CATALOG_LEDGER_DATABASE_URL",
            format!(
                "postgres://{role}:{password}@127.0.0.1:{}/{}catalog",
                port(postgres_url())?,
                store.postgres.prefix
            ),
        )
        .env("CATALOG_JWKS_URL", "http://127.0.0.1:9/unused")
        .env("CATALOG_IMAGES_DIR", &images)
        .env("RUST_LOG", "warn")
        .output()?;
    let _ = std::fs::remove_dir_all(&images);
    if !output.status.success() {
        return Err(format!(
            "catalog seed failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(())
}

/// Swaps two inner letters of the longest word: a typo the search must forgive.
fn typo_of(title: &str) -> String {
    let word = title
        .split_whitespace()
        .max_by_key(|w| w.len())
        .unwrap_or(title)
        .to_lowercase();
    let mut chars: Vec<char> = word.chars().collect();
    if chars.len() > 4 {
        chars.swap(2, 3);
    }
    chars.into_iter().collect()
}

async fn json_of(response: reqwest::Response, what: &str) -> Result<Value> {
    let status = response.status();
    let body = response.text().await?;
    if !status.is_success() {
        return Err(format!("{what}: {status} {body}").into());
    }
    Ok(serde_json::from_str(&body)?)
}

async fn shopper_journey(store: &Store<'_>) -> Result<()> {
    let http = &store.http;
    let users = store.service_url("users")?;
    let catalog = store.service_url("catalog")?;
    let cart = store.service_url("cart")?;
    let search = store.service_url("search")?;
    let email = format!("shopper-{}@example.com", uuid::Uuid::new_v4().simple());
    let password = "a long and sturdy passphrase 42";

    let registered = http
        .post(format!("{users}/api/users/register"))
        .json(&json!({"email": email, "password": password, "name": "Real Node"}))
        .send()
        .await?;
    assert_eq!(registered.status(), 202, "register");
    let tokens = json_of(
        http.post(format!("{users}/api/users/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await?,
        "login",
    )
    .await?;
    let token = tokens["accessToken"]
        .as_str()
        .ok_or("login without accessToken")?
        .to_string();

    let products = json_of(
        http.get(format!(
            "{catalog}/api/catalog/products?inStock=true&limit=2"
        ))
        .send()
        .await?,
        "products",
    )
    .await?;
    let items = products["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2, "two products in stock: {products}");
    let title = items[0]["title"].as_str().unwrap_or_default().to_string();

    // Search follows the catalog's change feed: wait for the seeded products to be indexed.
    let query = typo_of(&title);
    let mut found = Value::Null;
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        let answer = http
            .get(format!("{search}/api/search"))
            .query(&[("q", query.as_str())])
            .send()
            .await?;
        if answer.status().is_success() {
            found = answer.json().await?;
            if found["items"].as_array().is_some_and(|i| !i.is_empty()) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        found["items"].as_array().is_some_and(|i| !i.is_empty()),
        "search for {query:?} (a typo of {title:?}) found nothing: {found}"
    );

    for item in &items {
        let sku = item["variants"][0]["sku"]
            .as_str()
            .ok_or("variant without sku")?;
        json_of(
            http.post(format!("{cart}/api/cart/lines"))
                .bearer_auth(&token)
                .json(&json!({"sku": sku, "quantity": 1}))
                .send()
                .await?,
            "add to cart",
        )
        .await?;
    }
    let order = http
        .post(format!("{cart}/api/cart/checkout"))
        .bearer_auth(&token)
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .json(&json!({"paymentToken": "4242 4242 4242 4242"}))
        .send()
        .await?;
    assert_eq!(order.status(), 201, "checkout");
    let order: Value = order.json().await?;
    assert_eq!(order["status"], "CONFIRMED", "{order}");
    assert_eq!(order["lines"].as_array().map(Vec::len), Some(2), "{order}");
    let orders = json_of(
        http.get(format!("{cart}/api/cart/orders"))
            .bearer_auth(&token)
            .send()
            .await?,
        "orders",
    )
    .await?;
    assert!(
        orders["items"]
            .as_array()
            .is_some_and(|o| o.iter().any(|x| x["id"] == order["id"])),
        "the order is listed: {orders}"
    );
    Ok(())
}

/// Kills one catalog pod under a request loop; returns (failed in all, failed after the
/// Service's endpoints dropped the pod).
async fn kill_a_catalog_pod(store: &Store<'_>) -> Result<(usize, usize, usize)> {
    let url = format!(
        "{}/api/catalog/products?limit=1",
        store.service_url("catalog")?
    );
    let victim = store
        .pods()?
        .into_iter()
        .find(|p| p["metadata"]["labels"]["app.kubernetes.io/name"] == "catalog")
        .ok_or("no catalog pod")?;
    let name = victim["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let ip = victim["status"]["podIP"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let requests = Loop::start(url);
    tokio::time::sleep(Duration::from_secs(2)).await;
    store.kubectl(&["delete", "pod", &name, "-n", store.ns(), "--wait=false"])?;
    let service = format!("{}-catalog", store.manifest.name);
    wait_for(
        "the endpoints to drop the pod",
        Duration::from_secs(30),
        || {
            let slices = store.get(&[
                "get",
                "endpointslices",
                "-l",
                &format!("kubernetes.io/service-name={service}"),
            ]);
            let ip = ip.clone();
            async move {
                slices.is_ok_and(|s| {
                    !s["items"].as_array().is_some_and(|items| {
                        items.iter().any(|slice| {
                            slice["endpoints"].as_array().is_some_and(|eps| {
                                eps.iter().any(|e| {
                                    e["conditions"]["ready"] == true
                                        && e["addresses"][0].as_str() == Some(ip.as_str())
                                })
                            })
                        })
                    })
                })
            }
        },
    )
    .await?;
    let updated = Instant::now();
    store.wait_rolled_out(Duration::from_secs(120)).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (sent, failed) = requests.finish().await;
    let after = failed.iter().filter(|t| **t > updated).count();
    Ok((sent, failed.len(), after))
}

async fn rolling_update(store: &Store<'_>, tag: &str) -> Result<(usize, usize, Duration)> {
    let url = format!(
        "{}/api/catalog/products?limit=1",
        store.service_url("catalog")?
    );
    let requests = Loop::start(url);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let started = Instant::now();
    store.kubectl(&[
        "patch",
        "storefront",
        &store.manifest.name,
        "-n",
        store.ns(),
        "--type=merge",
        "-p",
        &json!({"spec": {"version": tag}}).to_string(),
    ])?;
    let want = format!(":{tag}");
    wait_for(
        "every pod on the new release",
        Duration::from_secs(300),
        || {
            let pods = store.pods();
            let done = store.rolled_out().unwrap_or(false);
            let want = want.clone();
            async move {
                done && pods.is_ok_and(|pods| {
                    pods.len() >= COMPONENTS.len()
                        && pods.iter().all(|p| {
                            p["metadata"]["deletionTimestamp"].is_null()
                                && p["spec"]["containers"][0]["image"]
                                    .as_str()
                                    .is_some_and(|i| i.ends_with(&want))
                        })
                })
            }
        },
    )
    .await?;
    let took = started.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (sent, failed) = requests.finish().await;
    Ok((sent, failed.len(), took))
}

async fn run(env: &Env, store: &Store<'_>) -> Result<()> {
    let host = HostDatabases::new(env.address)?;
    let applied_at = Instant::now();
    real_node::deploy(&env.kubectl, &store.manifest, &host, REGISTRY, &env.tag).await?;

    // apply → the store UI's first page through its Service.
    let mut ui = String::new();
    let last = std::sync::Mutex::new(String::new());
    let waited = wait_for("the store UI Service", Duration::from_secs(180), || {
        let url = store.service_url("store-ui");
        let http = store.http.clone();
        let last = &last;
        async move {
            let outcome = match url {
                Ok(url) => http
                    .get(format!("{url}/"))
                    .send()
                    .await
                    .map(|r| r.status().to_string())
                    .map_err(|e| format!("{url}: {e:?}")),
                Err(e) => Err(e.to_string()),
            };
            let ok = outcome.as_deref().is_ok_and(|s| s.starts_with("200"));
            if let Ok(mut l) = last.lock() {
                *l = match outcome {
                    Ok(s) | Err(s) => s,
                };
            }
            ok
        }
    })
    .await;
    if let Err(error) = waited {
        let last = last.lock().map(|l| l.clone()).unwrap_or_default();
        return Err(format!("{error}; last answer: {last}\n{}", store.situation()).into());
    }
    let first_page = applied_at.elapsed();
    store.wait_rolled_out(Duration::from_secs(180)).await?;
    let all_ready = applied_at.elapsed();
    ui.push_str(&store.service_url("store-ui")?);
    let index = store.http.get(format!("{ui}/")).send().await?;
    assert_eq!(
        index
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-cache")
    );
    assert!(
        index.text().await?.contains("<div id=\"root\">"),
        "the store UI's index"
    );
    let mut pods_seen = store.pods()?;

    let password = real_node::existing_password(&env.kubectl, &store.manifest)
        .ok_or("the store's PostgreSQL Secret has no password")?;
    seed_catalog(env, &store.manifest, &password)?;
    shopper_journey(store).await?;

    let (kill_sent, kill_failed, kill_failed_after) = kill_a_catalog_pod(store).await?;
    pods_seen.extend(store.pods()?);
    let (roll_sent, roll_failed, roll_took) = rolling_update(store, &env.next_tag).await?;
    let pods_now = store.pods()?;
    pods_seen.extend(pods_now.iter().cloned());

    // RSS while the store runs on its new release.
    let kubelet = pid_file(&env.node_dir, "kubelet").map_or(0, rss_kib);
    let containerd = pid_file(&env.node_dir, "containerd").map_or(0, rss_kib);
    let ours = container_ids(&pods_now);
    let pods_rss: u64 = task_pids(&env.node_dir)?
        .into_iter()
        .filter(|(id, _)| ours.contains(id))
        .map(|(_, pid)| rss_kib(pid))
        .sum();

    // Delete the store: nothing of it may remain.
    let all_containers = container_ids(&pods_seen);
    store.kubectl(&[
        "delete",
        "storefront",
        &store.manifest.name,
        "-n",
        store.ns(),
        "--timeout=120s",
    ])?;
    wait_for("the store's pods to go", Duration::from_secs(120), || {
        let pods = store.pods();
        async move { pods.is_ok_and(|p| p.is_empty()) }
    })
    .await?;
    wait_for("the store's Secrets to go", Duration::from_secs(60), || {
        let secrets = store.get(&["get", "secrets"]);
        async move { secrets.is_ok_and(|s| s["items"].as_array().is_some_and(Vec::is_empty)) }
    })
    .await?;
    wait_for(
        "the store's containers to go",
        Duration::from_secs(120),
        || {
            let listed = ctr(&env.node_dir, &["containers", "ls", "-q"]);
            let all = all_containers.clone();
            async move { listed.is_ok_and(|l| !l.lines().any(|id| all.iter().any(|c| c == id))) }
        },
    )
    .await?;

    pods_seen.sort_by_key(|p| p["metadata"]["uid"].as_str().map(str::to_string));
    pods_seen.dedup_by_key(|p| p["metadata"]["uid"].as_str().map(str::to_string));
    let mut starts: Vec<f64> = pods_seen.iter().filter_map(start_seconds).collect();
    starts.sort_by(f64::total_cmp);
    println!(
        "\nreal node figures (store {} in {}):",
        store.manifest.name,
        store.ns()
    );
    println!(
        "  kubectl apply → first page served      {:>8.1} s",
        first_page.as_secs_f64()
    );
    println!(
        "  kubectl apply → every component Ready  {:>8.1} s",
        all_ready.as_secs_f64()
    );
    println!(
        "  pod start (created → Ready)            p50 {:.0} s, p99 {:.0} s over {} pods (1 s resolution)",
        percentile(&starts, 50.0),
        percentile(&starts, 99.0),
        starts.len()
    );
    println!(
        "  catalog pod killed                     {kill_failed} of {kill_sent} requests failed, {kill_failed_after} after the endpoints update"
    );
    println!(
        "  rolling update ({:.0} s)                 {roll_failed} of {roll_sent} requests failed",
        roll_took.as_secs_f64()
    );
    println!(
        "  RSS                                    kubelet {} MiB, containerd {} MiB, store pods {} MiB ({} containers)",
        kubelet / 1024,
        containerd / 1024,
        pods_rss / 1024,
        ours.len()
    );
    assert_eq!(
        kill_failed_after, 0,
        "requests failed after the endpoints update"
    );
    assert_eq!(roll_failed, 0, "requests failed during the rolling update");
    Ok(())
}

#[tokio::test]
#[ignore = "needs root and the real node: `cargo xtask test` runs it as its own phase"]
async fn a_store_runs_on_the_real_node_and_survives_pod_loss_and_upgrades() {
    install_crypto_provider();
    let Some(env) = Env::from_env() else {
        eprintln!(
            "skipped: the real-node test needs what `cargo xtask test` prepares as root (STOREFRONT_NODE_DIR, STOREFRONT_IMAGE_TAG, ...)"
        );
        return;
    };
    let manifest = StoreManifest::load(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/local-real-node.yaml"
    )))
    .expect("the example");
    let run_id = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let manifest = manifest
        .renamed(&format!("e2e-{run_id}"), &format!("sf_e2e_{run_id}_"))
        .expect("renamed");
    let store = Store {
        env: &env,
        manifest,
        // A fresh connection per request: one opened before kube-proxy programmed a new Service
        // would otherwise stay pointed wherever the address led before.
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client"),
    };
    let outcome = run(&env, &store).await;
    // Clean up whatever happened.
    let _ = env.kubectl.run(&[
        "delete",
        "namespace",
        store.ns(),
        "--wait=true",
        "--timeout=120s",
    ]);
    let dropped = real_node::drop_data(&store.manifest).await;
    if let Err(error) = outcome {
        panic!("{error}");
    }
    if let Err(error) = dropped {
        panic!("drop the store's data from the host's databases: {error}");
    }
}
