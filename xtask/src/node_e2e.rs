//! The real-node phase of `cargo xtask test` (root only): two releases of images (the second a
//! distinct tag of the same binaries, for the rolling update), the control plane with the real
//! node, the end-to-end test `tests/tests/real_node.rs`, then `cluster down` — always, even when
//! the test failed — and a comparison of the host before and after: no process, mount, iptables
//! rule or sysctl of the node may be left behind.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::parts::Ctx;
use crate::{cargo, cluster, images, node, process, stack};

/// What the node could leave behind on the host.
#[derive(Debug, PartialEq, Eq)]
struct HostState {
    sysctls: BTreeSet<String>,
    rules: BTreeSet<String>,
    mounts: BTreeSet<String>,
    processes: BTreeSet<String>,
}

fn sysctls(repo: &Path) -> Result<BTreeSet<String>> {
    let script = repo.join("local/node/sysctls.sh");
    let out = process::run_quiet(
        Command::new("bash")
            .arg("-c")
            .arg(format!("source {} && record_sysctls", script.display())),
    )?;
    Ok(out.lines().map(str::to_string).collect())
}

fn rules() -> BTreeSet<String> {
    let mut rules = BTreeSet::new();
    for table in ["filter", "nat", "mangle"] {
        if let Ok(out) = process::run_quiet(Command::new("iptables").args(["-t", table, "-S"])) {
            rules.extend(out.lines().map(|l| format!("{table}: {l}")));
        }
    }
    rules
}

fn mounts(node_dir: &Path) -> Result<BTreeSet<String>> {
    let text = std::fs::read_to_string("/proc/mounts")?;
    let dir = node_dir.display().to_string();
    Ok(text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|m| {
            m.starts_with(&dir)
                || m.starts_with("/var/lib/kubelet")
                || m.starts_with("/run/containerd")
                || m.starts_with("/run/netns")
        })
        .map(str::to_string)
        .collect())
}

fn processes(node_dir: &Path) -> BTreeSet<String> {
    let dir = node_dir.display().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return BTreeSet::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| process::is_alive(*pid))
        .map(|pid| (pid, process::cmdline(pid)))
        .filter(|(_, cmd)| cmd.contains(&dir) || cmd.contains("containerd-shim"))
        .map(|(pid, cmd)| format!("{pid} {cmd}"))
        .collect()
}

fn host_state(ctx: &Ctx) -> Result<HostState> {
    let node_dir = node::dir(ctx);
    Ok(HostState {
        sysctls: sysctls(&ctx.paths.repo)?,
        rules: rules(),
        mounts: mounts(&node_dir)?,
        processes: processes(&node_dir),
    })
}

fn differences(before: &HostState, after: &HostState) -> Vec<String> {
    let mut out = Vec::new();
    let mut compare = |what: &str, a: &BTreeSet<String>, b: &BTreeSet<String>| {
        for added in b.difference(a) {
            out.push(format!("{what} left behind: {added}"));
        }
        for removed in a.difference(b) {
            out.push(format!("{what} gone: {removed}"));
        }
    };
    compare("sysctl", &before.sysctls, &after.sysctls);
    compare("iptables rule", &before.rules, &after.rules);
    compare("mount", &before.mounts, &after.mounts);
    compare("process", &before.processes, &after.processes);
    out
}

fn e2e(ctx: &Ctx, kube_bin: &Path, tag: &str, next_tag: &str, static_bin: &Path) -> Result<()> {
    let mut test = cargo::command(
        &ctx.paths,
        &[
            // `--workspace` unifies features as the suite's build did, so nothing is rebuilt.
            "test",
            "--workspace",
            "--test",
            "real_node",
            "--",
            "--ignored",
            "--nocapture",
        ],
    );
    stack::backing_env(&mut test)?;
    test.env("STOREFRONT_KUBE_BIN", kube_bin)
        .env(
            "STOREFRONT_KUBECONFIG",
            cluster::dir(ctx).join("admin.kubeconfig"),
        )
        .env("STOREFRONT_NODE_DIR", node::dir(ctx))
        .env("STOREFRONT_NODE_ADDRESS", node::address()?.to_string())
        .env("STOREFRONT_IMAGE_TAG", tag)
        .env("STOREFRONT_IMAGE_NEXT_TAG", next_tag)
        .env("STOREFRONT_STATIC_BIN", static_bin);
    cargo::run(test)
}

/// The phase: images, node up, the test, node and control plane down, the host compared.
pub fn run(ctx: &Ctx, kube_bin: &Path) -> Result<()> {
    if node::containerd_socket(ctx).is_some() {
        bail!(
            "a real node is already running in {}: stop it with `cargo xtask cluster down` first (this phase compares the host before and after)",
            node::dir(ctx).display()
        );
    }
    let before = host_state(ctx)?;
    let release = images::build(ctx, None)?;
    let next = images::build(ctx, Some("rollout-check"))?;
    let static_bin = images::static_bin_dir(ctx);
    // `up` imports only the last build (`next`): the first release must be imported as well.
    let outcome = cluster::up_with(ctx, true)
        .and_then(|()| images::import(ctx, &release))
        .and_then(|()| images::import(ctx, &next))
        .and_then(|()| e2e(ctx, kube_bin, &release.tag, &next.tag, &static_bin));
    let down = cluster::down_with(ctx).context("cargo xtask cluster down");
    let after = host_state(ctx)?;
    outcome?;
    down?;
    let left = differences(&before, &after);
    if !left.is_empty() {
        bail!(
            "`cargo xtask cluster down` did not restore the host:\n  {}",
            left.join("\n  ")
        );
    }
    println!("  cluster down restored the host: no process, mount, iptables rule or sysctl left");
    Ok(())
}

/// `cargo xtask cluster e2e`: the phase alone, against the backing services of this machine
/// (started here when they do not run, and left running).
pub fn standalone() -> Result<()> {
    node::require_root()?;
    let ctx = Ctx::new()?;
    crate::ports::set_node_address(node::address()?);
    stack::ensure_backing(&ctx, &stack::backing_parts(), &mut Vec::new())?;
    let kube_bin = crate::parts::kube::ensure_binaries(&ctx)?;
    run(&ctx, &kube_bin)
}
