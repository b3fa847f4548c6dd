//! A real control plane for the operator's integration tests: `local/kube/up.sh` on free ports in a
//! temporary directory, started once per test binary and shared by its tests (each in its own
//! namespace). A watchdog process runs `down.sh --purge` as soon as the test process exits, however
//! it exits, so no control plane process outlives the tests.

#![allow(dead_code)]

use std::future::Future;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use storefront_operator::{Scope, Settings, Storefront};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

const DEFAULT_BIN: &str = ".cache/storefront/parts/kube-v1.37.2-etcd-v3.6.16-kwok-v0.8.0";
const BINARIES: &[&str] = &[
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
    "kwok",
    "kwok-stages.yaml",
];

pub struct ControlPlane {
    pub dir: PathBuf,
    pub bin: PathBuf,
    pub kubeconfig: PathBuf,
}

static CONTROL_PLANE: OnceLock<Result<ControlPlane, String>> = OnceLock::new();
/// hostPath PersistentVolumes created at start (4 per Storefront with managed databases).
static PV_COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(160);

/// Sets the PersistentVolume pool size; call before the first [`control_plane`].
pub fn set_volume_pool(count: usize) {
    PV_COUNT.store(count, std::sync::atomic::Ordering::SeqCst);
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `STOREFRONT_KUBE_BIN`, else the default cache directory of `local/kube/build.sh`.
fn kube_bin() -> PathBuf {
    match std::env::var_os("STOREFRONT_KUBE_BIN") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(DEFAULT_BIN),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn start() -> Result<ControlPlane, String> {
    let bin = kube_bin();
    let missing: Vec<&str> = BINARIES
        .iter()
        .copied()
        .filter(|b| !bin.join(b).exists())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "Kubernetes binaries missing in {} ({}): build them with `local/kube/build.sh {}` \
             (or run `cargo xtask test`), or point STOREFRONT_KUBE_BIN at a directory that has them",
            bin.display(),
            missing.join(", "),
            bin.display()
        ));
    }
    let dir =
        std::env::temp_dir().join(format!("storefront-operator-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let scripts = repo().join("local/kube");

    // The watchdog: its own process group (a Ctrl-C of the test run does not kill it first), it
    // waits for this process to exit, then stops the control plane and deletes the directory.
    Command::new("bash")
        .arg("-c")
        .arg(r#"while kill -0 "$TEST_PID" 2>/dev/null; do sleep 0.5; done; exec "$DOWN" --purge"#)
        .env("TEST_PID", std::process::id().to_string())
        .env("DOWN", scripts.join("down.sh"))
        .env("KUBE_RUN_DIR", &dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("start the cleanup watchdog: {e}"))?;

    let started = Instant::now();
    let output = Command::new("bash")
        .arg(scripts.join("up.sh"))
        .env("KUBE_RUN_DIR", &dir)
        .env("KUBE_BIN", &bin)
        .env("ETCD_PORT", free_port().to_string())
        .env("ETCD_PEER_PORT", free_port().to_string())
        .env("APISERVER_PORT", free_port().to_string())
        .env("KCM_PORT", free_port().to_string())
        .env("SCHEDULER_PORT", free_port().to_string())
        .env("KWOK_PORT", free_port().to_string())
        .env(
            "PV_COUNT",
            PV_COUNT
                .load(std::sync::atomic::Ordering::SeqCst)
                .to_string(),
        )
        .env("WAIT_SECONDS", "90")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("run up.sh: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "local/kube/up.sh failed ({}):\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    eprintln!(
        "control plane up in {:.1}s:\n{}",
        started.elapsed().as_secs_f64(),
        String::from_utf8_lossy(&output.stdout)
    );
    let kubeconfig = dir.join("admin.kubeconfig");
    let kubectl = |args: &[&str]| -> Result<(), String> {
        let out = Command::new(bin.join("kubectl"))
            .arg(format!("--kubeconfig={}", kubeconfig.display()))
            .args(args)
            .output()
            .map_err(|e| format!("kubectl: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "kubectl {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    };
    let crd = repo().join("crds/storefront.yaml");
    kubectl(&["apply", "--server-side", "-f", &crd.to_string_lossy()])?;
    kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd/storefronts.storefront.dev",
        "--timeout=30s",
    ])?;
    Ok(ControlPlane {
        dir,
        bin,
        kubeconfig,
    })
}

/// The shared control plane; fails the calling test with the reason when it cannot start.
pub fn control_plane() -> &'static ControlPlane {
    let _ = rustls::crypto::ring::default_provider().install_default();
    match CONTROL_PLANE.get_or_init(start) {
        Ok(cp) => cp,
        Err(e) => panic!("no control plane for the operator tests: {e}"),
    }
}

/// A client for the shared control plane (one per test: clients are bound to a runtime).
pub async fn client() -> Client {
    let cp = control_plane();
    let kubeconfig = Kubeconfig::read_from(&cp.kubeconfig).expect("kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("client config");
    Client::try_from(config).expect("client")
}

/// Creates a fresh namespace for one test.
pub async fn namespace(client: &Client, name: &str) -> String {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name}
    }))
    .expect("namespace");
    api.create(&PostParams::default(), &ns)
        .await
        .expect("create namespace");
    name.to_string()
}

/// `examples/minimal.yaml`, to be created in `namespace`.
pub fn minimal_example() -> Storefront {
    let path = repo().join("examples/minimal.yaml");
    let text = std::fs::read_to_string(&path).expect("examples/minimal.yaml");
    serde_yaml::from_str(&text).expect("examples/minimal.yaml is a Storefront")
}

/// An operator running in-process on the test's runtime, scoped to one namespace.
pub struct InProcessOperator {
    token: CancellationToken,
    task: Option<JoinHandle<Result<(), storefront_operator::Error>>>,
}

impl InProcessOperator {
    pub fn start(client: &Client, namespace: &str, identity: &str) -> Self {
        let settings = Settings {
            scope: Scope::Namespace(namespace.into()),
            identity: identity.into(),
            lease_namespace: namespace.into(),
            lease_name: "storefront-operator".into(),
            lease_duration: Duration::from_secs(6),
            lease_grace: Duration::from_secs(2),
            concurrency: 4,
        };
        let token = CancellationToken::new();
        let task = tokio::spawn(storefront_operator::run(
            client.clone(),
            settings,
            token.clone(),
        ));
        InProcessOperator {
            token,
            task: Some(task),
        }
    }

    /// Graceful stop: in-flight reconciles finish and the lease is released.
    pub async fn stop(mut self) {
        self.token.cancel();
        let task = self.task.take().expect("running");
        match tokio::time::timeout(Duration::from_secs(30), task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => panic!("operator failed: {e}"),
            Ok(Err(e)) => panic!("operator task: {e}"),
            Err(_) => panic!("operator did not stop within 30s"),
        }
    }
}

impl Drop for InProcessOperator {
    fn drop(&mut self) {
        self.token.cancel();
    }
}

/// The operator binary as a child process; killed (SIGKILL) when dropped.
pub struct OperatorProcess {
    pub child: std::process::Child,
    pub metrics_port: u16,
    pub identity: String,
}

impl OperatorProcess {
    pub fn spawn(namespace: &str, identity: &str) -> Self {
        Self::spawn_with(namespace, identity, &[])
    }

    /// `namespace` empty: all namespaces. `extra_env` overrides the defaults.
    pub fn spawn_with(namespace: &str, identity: &str, extra_env: &[(&str, &str)]) -> Self {
        let cp = control_plane();
        let metrics_port = free_port();
        let log = cp.dir.join(format!("operator-{identity}.log"));
        let log = std::fs::File::create(&log).expect("operator log");
        let child = Command::new(env!("CARGO_BIN_EXE_storefront-operator"))
            .env("KUBECONFIG", &cp.kubeconfig)
            .env("STOREFRONT_WATCH_NAMESPACE", namespace)
            .env("POD_NAMESPACE", namespace)
            .env("POD_NAME", identity)
            .env("STOREFRONT_LEASE_SECONDS", "4")
            .env("STOREFRONT_LEASE_GRACE_SECONDS", "2")
            .env(
                "STOREFRONT_OPERATOR_LISTEN",
                format!("127.0.0.1:{metrics_port}"),
            )
            .env("RUST_LOG", "info,kube=warn")
            .envs(extra_env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start the operator binary");
        // So the watchdog's down.sh stops it even if this process dies before `Drop` runs.
        let _ = std::fs::write(
            cp.dir.join("run").join(format!("operator-{identity}.pid")),
            child.id().to_string(),
        );
        OperatorProcess {
            child,
            metrics_port,
            identity: identity.into(),
        }
    }

    /// Dies without releasing its lease, like a crashed pod.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The body of `GET /metrics`, if it answers.
    pub async fn metrics(&self) -> Option<String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.metrics_port))
            .await
            .ok()?;
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut body = String::new();
        stream.read_to_string(&mut body).await.ok()?;
        Some(body)
    }
}

impl Drop for OperatorProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Polls `check` every 250 ms until it yields a value; panics after `timeout` with `what`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if started.elapsed() > timeout {
            panic!("timed out after {}s waiting for {what}", timeout.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
