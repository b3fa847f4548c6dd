//! The real local node: containerd + runc + CNI plugins (Debian packages), the kubelet and
//! kube-proxy (built at the control plane's Kubernetes version), CoreDNS serving `cluster.local`
//! only, and a locally built sandbox image, joined to the control plane of `cargo xtask cluster
//! up`. The scripts under `local/node/` do the host work; this module installs and builds what
//! they need, picks the node's address, makes the host databases reachable from pods, and
//! imports the component images. Needs root.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use nix::unistd::Uid;

use crate::parts::{
    self, Ctx, Part, ensure_cached, ferretdb::FerretDb, go_mod_version, kube,
    opensearch::OpenSearch, postgres::Postgres, redis::Redis,
};
use crate::system::{self, Package};
use crate::{images, ports, process};

/// The node's processes, in start order.
pub const PROCESSES: &[&str] = &["containerd", "coredns", "kube-proxy", "kubelet"];
/// Files of the node's build directory.
const BINARIES: &[&str] = &["kubelet", "kube-proxy", "coredns", "pause"];
/// The simulated node of the control plane; tainted while the real node runs so stores land on
/// the real one.
const SIMULATED_NODE: &str = "kwok-node-0";
const SIMULATED_TAINT: &str = "storefront.dev/simulated";

const PACKAGES: &[&Package] = &[
    &Package {
        name: "containerd",
        provides: "/usr/bin/containerd",
    },
    &Package {
        name: "runc",
        provides: "/usr/sbin/runc",
    },
    &Package {
        name: "containernetworking-plugins",
        provides: "/usr/lib/cni/bridge",
    },
    &Package {
        name: "iptables",
        provides: "/usr/sbin/iptables",
    },
    &Package {
        name: "conntrack",
        provides: "/usr/sbin/conntrack",
    },
];

pub fn dir(ctx: &Ctx) -> PathBuf {
    ctx.paths.data.join("cluster/node")
}

fn pid(ctx: &Ctx, name: &str) -> Option<u32> {
    process::read_pid(&dir(ctx).join("run").join(format!("{name}.pid")))
        .filter(|pid| process::is_alive(*pid))
}

/// Which node processes run, with their pids.
pub fn running(ctx: &Ctx) -> Vec<(&'static str, Option<u32>)> {
    PROCESSES
        .iter()
        .map(|name| (*name, pid(ctx, name)))
        .collect()
}

/// containerd's socket while the node's containerd runs.
pub fn containerd_socket(ctx: &Ctx) -> Option<PathBuf> {
    pid(ctx, "containerd").map(|_| dir(ctx).join("containerd/containerd.sock"))
}

/// Fails with one line saying what is needed when not root.
pub fn require_root() -> Result<()> {
    if !Uid::effective().is_root() {
        bail!(
            "a real node needs root (containerd, the kubelet and kube-proxy change cgroups, mounts, iptables and sysctls): run `sudo -E cargo xtask cluster up --real-node`"
        );
    }
    Ok(())
}

/// `node-kube-<v>-coredns-<v>`: kubelet and kube-proxy from the control plane's wrapper module,
/// CoreDNS from `local/coredns`, the sandbox binary from `local/pause`.
fn cache_key(ctx: &Ctx) -> Result<String> {
    let local = ctx.paths.repo.join("local");
    let kube = go_mod_version(&local.join("kube/go.mod"), "k8s.io/kubernetes")?;
    let coredns = go_mod_version(&local.join("coredns/go.mod"), "github.com/coredns/coredns")?;
    Ok(format!("node-kube-{kube}-coredns-{coredns}"))
}

/// The node's binaries, built once per machine (about 8 minutes cold).
pub fn ensure_binaries(ctx: &Ctx) -> Result<PathBuf> {
    let script = ctx.paths.repo.join("local/kube/build-node.sh");
    ensure_cached(
        ctx,
        &cache_key(ctx)?,
        BINARIES,
        "build the node (kubelet, kube-proxy, CoreDNS, pause)",
        |out| {
            system::require_go()?;
            let mut build = Command::new("bash");
            build.arg(&script).arg(out);
            Ok(build)
        },
    )
}

/// `STOREFRONT_NODE_ADDRESS`, else the source address of this machine's default route.
pub fn address() -> Result<Ipv4Addr> {
    if let Some(address) = ports::node_address()? {
        return Ok(address);
    }
    let route = process::run_quiet(Command::new("ip").args(["-4", "route", "get", "1.1.1.1"]))
        .context("find this machine's address (`ip -4 route get`); set STOREFRONT_NODE_ADDRESS")?;
    let mut words = route.split_whitespace();
    while let Some(word) = words.next() {
        if word == "src"
            && let Some(address) = words.next().and_then(|a| a.parse().ok())
        {
            return Ok(address);
        }
    }
    bail!("no source address in `ip -4 route get 1.1.1.1` ({route:?}); set STOREFRONT_NODE_ADDRESS")
}

/// The databases pods use, restarted where they do not yet listen on the node's address.
pub fn expose_databases(ctx: &Ctx, address: Ipv4Addr) -> Result<()> {
    ports::set_node_address(address);
    let databases: Vec<(Box<dyn Part>, ports::PortSpec)> = vec![
        (Box::new(Postgres), ports::POSTGRES),
        (Box::new(Redis), ports::REDIS),
        (Box::new(FerretDb), ports::FERRETDB),
        (Box::new(OpenSearch), ports::OPENSEARCH),
    ];
    for (part, port) in databases {
        let port = port.get()?;
        if parts::running_pid(part.as_ref(), ctx).is_some() && !ports::answers_on(address, port) {
            println!("  {}: restarting to listen on {address} too", part.name());
            parts::stop(part.as_ref(), ctx)?;
        }
        let outcome = parts::ensure_running(part.as_ref(), ctx)?;
        parts::print_outcome(part.as_ref(), &outcome);
    }
    Ok(())
}

fn script_env(ctx: &Ctx, command: &mut Command, cluster_dir: &Path, kube_bin: &Path) -> Result<()> {
    command
        .env("NODE_DIR", dir(ctx))
        .env("KUBE_RUN_DIR", cluster_dir)
        .env("KUBE_BIN", kube_bin);
    if let Ok(bin) = ensure_binaries_present(ctx) {
        command.env("NODE_BIN", bin);
    }
    Ok(())
}

/// The build directory when it is complete, without building.
fn ensure_binaries_present(ctx: &Ctx) -> Result<PathBuf> {
    let dir = ctx.paths.part(&cache_key(ctx)?);
    if BINARIES.iter().all(|b| dir.join(b).exists()) {
        Ok(dir)
    } else {
        bail!("node binaries not built")
    }
}

fn kubectl(cluster_dir: &Path, kube_bin: &Path, args: &[&str]) -> Result<String> {
    process::run_quiet(
        Command::new(kube_bin.join("kubectl"))
            .arg(format!(
                "--kubeconfig={}",
                cluster_dir.join("admin.kubeconfig").display()
            ))
            .args(args),
    )
}

/// Starts the node (idempotent: what runs is left alone) and imports the last built images.
pub fn up(ctx: &Ctx, cluster_dir: &Path) -> Result<()> {
    require_root()?;
    system::ensure_packages(PACKAGES, &ctx.setup_log())?;
    let kube_bin = kube::ensure_binaries(ctx)?;
    let node_bin = ensure_binaries(ctx)?;
    let address = address()?;
    println!("→ real node on {address}");
    expose_databases(ctx, address)?;
    let (pause, pause_archive) = images::pause(ctx, &node_bin.join("pause"))?;
    let mut up = Command::new("bash");
    up.arg(ctx.paths.repo.join("local/node/up.sh"))
        .env("NODE_IP", address.to_string())
        .env("PAUSE_IMAGE", &pause)
        .env("PAUSE_ARCHIVE", &pause_archive);
    script_env(ctx, &mut up, cluster_dir, &kube_bin)?;
    let status = up.status().context("run local/node/up.sh")?;
    if !status.success() {
        bail!(
            "local/node/up.sh failed ({status}); logs in {}",
            dir(ctx).join("logs").display()
        );
    }
    // Stores go to the real node, not the simulated one.
    let taint = format!("{SIMULATED_TAINT}=true:NoSchedule");
    let _ = kubectl(
        cluster_dir,
        &kube_bin,
        &["taint", "node", SIMULATED_NODE, &taint, "--overwrite"],
    );
    if let Some(tag) = images::last_tag(ctx) {
        let release = images::Release::load(ctx, &tag)?;
        images::import(ctx, &release)?;
    } else {
        println!("  no images built yet: `cargo xtask images` builds and imports them");
    }
    Ok(())
}

/// Stops the node and restores the host (see `local/node/down.sh`); nothing to do when it never ran.
pub fn down(ctx: &Ctx, cluster_dir: &Path) -> Result<()> {
    if !dir(ctx).exists() {
        return Ok(());
    }
    require_root()?;
    let kube_bin = kube::ensure_binaries(ctx)?;
    let mut down = Command::new("bash");
    down.arg(ctx.paths.repo.join("local/node/down.sh"));
    script_env(ctx, &mut down, cluster_dir, &kube_bin)?;
    let status = down.status().context("run local/node/down.sh")?;
    if !status.success() {
        bail!("local/node/down.sh failed ({status})");
    }
    let taint = format!("{SIMULATED_TAINT}-");
    let _ = kubectl(
        cluster_dir,
        &kube_bin,
        &["taint", "node", SIMULATED_NODE, &taint],
    );
    Ok(())
}
