//! `cargo xtask cluster up|down|status`: the local Kubernetes control plane (etcd, kube-apiserver,
//! kube-controller-manager, kube-scheduler, kwok with a simulated node) started by
//! `local/kube/up.sh`, the Storefront CRD installed, and the operator running against it.
//! Everything lives in `<data>/cluster` (default `<repo>/.local/cluster`).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::sys::signal::Signal;

use crate::parts::{Ctx, kube};
use crate::{cargo, images, node, probe, process, stack};

/// Port of the operator's `/metrics` and `/healthz` (`STOREFRONT_OPERATOR_PORT`).
const DEFAULT_OPERATOR_PORT: u16 = 9471;
/// The control plane processes, in start order.
const CONTROL_PLANE: &[&str] = &["etcd", "apiserver", "kcm", "scheduler", "kwok"];

struct Cluster {
    dir: PathBuf,
    scripts: PathBuf,
    repo: PathBuf,
}

impl Cluster {
    fn new(ctx: &Ctx) -> Self {
        Cluster {
            dir: ctx.paths.data.join("cluster"),
            scripts: ctx.paths.repo.join("local/kube"),
            repo: ctx.paths.repo.clone(),
        }
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.join("admin.kubeconfig")
    }

    fn pid(&self, name: &str) -> Option<u32> {
        process::read_pid(&self.dir.join("run").join(format!("{name}.pid")))
            .filter(|pid| process::is_alive(*pid))
    }

    fn log(&self, name: &str) -> PathBuf {
        self.dir.join("logs").join(format!("{name}.log"))
    }
}

fn operator_port() -> Result<u16> {
    match std::env::var("STOREFRONT_OPERATOR_PORT") {
        Ok(p) if !p.is_empty() => p.parse().context("STOREFRONT_OPERATOR_PORT"),
        _ => Ok(DEFAULT_OPERATOR_PORT),
    }
}

pub fn up(real_node: bool) -> Result<()> {
    if real_node {
        node::require_root()?;
    }
    // Root starts the databases pods use as their system user.
    let ctx = if real_node {
        Ctx::new()?
    } else {
        Ctx::observer()?
    };
    up_with(&ctx, real_node)
}

/// The run directory of the control plane (kubeconfig, pki, logs).
pub fn dir(ctx: &Ctx) -> PathBuf {
    Cluster::new(ctx).dir
}

/// The control plane, the CRD and the operator; the real node too when asked.
pub fn up_with(ctx: &Ctx, real_node: bool) -> Result<()> {
    let cluster = Cluster::new(ctx);
    let bin = kube::ensure_binaries(ctx)?;

    if cluster.pid("apiserver").is_some() {
        println!("control plane already running in {}", cluster.dir.display());
    } else {
        // Leftovers of a crashed run would make up.sh refuse to start.
        down_quiet(&cluster)?;
        let status = Command::new("bash")
            .arg(cluster.scripts.join("up.sh"))
            .env("KUBE_RUN_DIR", &cluster.dir)
            .env("KUBE_BIN", &bin)
            .status()
            .context("run local/kube/up.sh")?;
        if !status.success() {
            bail!(
                "local/kube/up.sh failed ({status}); logs in {}",
                cluster.dir.join("logs").display()
            );
        }
    }

    println!("→ building the operator");
    cargo::run(cargo::command(
        &ctx.paths,
        &["build", "--quiet", "-p", "storefront-operator", "--bins"],
    ))?;
    let target = ctx.paths.cargo_target_dir().join("debug");

    let kubectl = |args: &[&str]| -> Result<String> {
        process::run_quiet(
            Command::new(bin.join("kubectl"))
                .arg(format!("--kubeconfig={}", cluster.kubeconfig().display()))
                .args(args),
        )
    };
    let crd = cluster.repo.join("crds/storefront.yaml");
    kubectl(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        &crd.to_string_lossy(),
    ])?;
    kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd/storefronts.storefront.dev",
        "--timeout=30s",
    ])?;
    println!("  CRD storefronts.storefront.dev installed");

    let port = operator_port()?;
    if let Some(pid) = cluster.pid("operator") {
        // A new build replaces the running operator.
        process::stop("operator", pid, Signal::SIGTERM, Duration::from_secs(10))?;
    }
    let log = cluster.log("operator");
    let child = process::spawn_server(
        Command::new(target.join("storefront-operator"))
            .env("KUBECONFIG", cluster.kubeconfig())
            .env("STOREFRONT_OPERATOR_LISTEN", format!("127.0.0.1:{port}"))
            .env("POD_NAME", "storefront-operator-local")
            .env("STOREFRONT_CLUSTER_DIR", &cluster.dir)
            .env("RUST_LOG", "info,kube=warn"),
        &log,
    )?;
    let pid = child.id();
    process::write_pid(&cluster.dir.join("run/operator.pid"), pid)?;
    process::wait_until(
        "operator",
        Duration::from_secs(30),
        std::slice::from_ref(&log),
        || process::is_alive(pid),
        || probe::http_ok(port, "/healthz"),
    )?;
    println!("  operator running (pid {pid}), metrics on http://127.0.0.1:{port}/metrics");
    if real_node {
        node::up(ctx, &cluster.dir)?;
    }
    println!();
    println!("kubeconfig: {}", cluster.kubeconfig().display());
    println!("  export KUBECONFIG={}", cluster.kubeconfig().display());
    println!("  kubectl apply -f examples/minimal.yaml && kubectl get storefronts");
    println!("  cargo xtask cluster status shop    # conditions, rollout, components of one store");
    Ok(())
}

fn down_quiet(cluster: &Cluster) -> Result<()> {
    let status = Command::new("bash")
        .arg(cluster.scripts.join("down.sh"))
        .env("KUBE_RUN_DIR", &cluster.dir)
        .status()
        .context("run local/kube/down.sh")?;
    if !status.success() {
        bail!("local/kube/down.sh failed ({status})");
    }
    Ok(())
}

pub fn down() -> Result<()> {
    down_with(&Ctx::observer()?)
}

/// Stops the real node, the operator and the control plane.
pub fn down_with(ctx: &Ctx) -> Result<()> {
    let cluster = Cluster::new(ctx);
    // Pods go while the apiserver still answers.
    node::down(ctx, &cluster.dir)?;
    down_quiet(&cluster)?;
    let left: Vec<&str> = CONTROL_PLANE
        .iter()
        .chain(&["operator"])
        .copied()
        .filter(|name| cluster.pid(name).is_some())
        .collect();
    let left: Vec<&str> = left
        .into_iter()
        .chain(
            node::running(ctx)
                .into_iter()
                .filter(|(_, pid)| pid.is_some())
                .map(|(name, _)| name),
        )
        .collect();
    if !left.is_empty() {
        bail!("still running after down: {}", left.join(", "));
    }
    println!("cluster stopped (data kept in {})", cluster.dir.display());
    Ok(())
}

/// The processes of the control plane, then the summary of `storefront` (in `namespace`) when
/// named, printed by the operator crate's `storefront status`.
pub fn status(storefront: Option<&str>, namespace: &str) -> Result<()> {
    let ctx = Ctx::observer()?;
    let cluster = Cluster::new(&ctx);
    for name in CONTROL_PLANE.iter().chain(&["operator"]) {
        match cluster.pid(name) {
            Some(pid) => println!("{name:<10} running (pid {pid})"),
            None => println!("{name:<10} stopped"),
        }
    }
    for (name, pid) in node::running(&ctx) {
        match pid {
            Some(pid) => println!("{name:<10} running (pid {pid})"),
            None => println!("{name:<10} stopped"),
        }
    }
    if cluster.kubeconfig().exists() {
        println!("kubeconfig: {}", cluster.kubeconfig().display());
    }
    let Some(storefront) = storefront else {
        return Ok(());
    };
    if cluster.pid("apiserver").is_none() {
        bail!("the control plane is not running: start it with `cargo xtask cluster up`");
    }
    let cli = ctx.paths.cargo_target_dir().join("debug/storefront");
    if !cli.exists() {
        bail!(
            "{} is missing: `cargo xtask cluster up` builds it",
            cli.display()
        );
    }
    println!();
    let status = Command::new(&cli)
        .arg("--kubeconfig")
        .arg(cluster.kubeconfig())
        .args(["-n", namespace, "status", storefront])
        .status()
        .with_context(|| format!("run {}", cli.display()))?;
    if !status.success() {
        bail!("storefront status failed ({status})");
    }
    Ok(())
}

/// `cargo xtask cluster store apply|delete <manifest>`: the `local-store` tool of the tests crate
/// with the control plane, the node's address and the last built images.
pub fn store(action: &str, manifest: &std::path::Path) -> Result<()> {
    let ctx = Ctx::observer()?;
    let cluster = Cluster::new(&ctx);
    if node::containerd_socket(&ctx).is_none() {
        bail!("the real node is not running: `cargo xtask cluster up --real-node` first");
    }
    let manifest = std::path::absolute(manifest)?;
    let mut command = cargo::command(
        &ctx.paths,
        &[
            "run",
            "--quiet",
            "-p",
            "storefront-tests",
            "--bin",
            "local-store",
            "--",
            action,
        ],
    );
    command
        .arg(&manifest)
        .env("STOREFRONT_KUBE_BIN", kube::ensure_binaries(&ctx)?)
        .env("STOREFRONT_KUBECONFIG", cluster.kubeconfig())
        .env("STOREFRONT_NODE_ADDRESS", node::address()?.to_string())
        .env("STOREFRONT_IMAGE_REGISTRY", images::REGISTRY);
    stack::backing_env(&mut command)?;
    if let Some(tag) = images::last_tag(&ctx) {
        command.env("STOREFRONT_IMAGE_TAG", tag);
    }
    cargo::run(command)
}

/// `cargo xtask bench operator`: the ignored `bench` test of the operator crate, which starts its
/// own control plane on free ports, runs the operator binary and prints the figures.
pub fn bench_operator() -> Result<()> {
    let ctx = Ctx::observer()?;
    let bin = kube::ensure_binaries(&ctx)?;
    let mut command = cargo::command(
        &ctx.paths,
        &[
            "test",
            "-p",
            "storefront-operator",
            "--test",
            "bench",
            "--",
            "--ignored",
            "--nocapture",
        ],
    );
    command.env("STOREFRONT_KUBE_BIN", bin);
    cargo::run(command)
}
