//! `cargo xtask test`: formatting, lints, the store UI's type check and unit tests, the backing services,
//! Kubernetes binaries and helm the tests need, the check of `deploy/terraform`, every test of the
//! workspace, then the whole stack for the browser journeys and the gateway's rate limit and, as
//! root, the store's own images as pods on a real node. Each phase
//! is printed and timed; any failure fails the command. Parts already running are reused; the ones
//! this command started are stopped at the end.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::cargo;
use crate::parts::{self, Ctx, Part, helm, kube};
use crate::stack;
use crate::terraform;
use crate::ui;
use crate::{node, node_e2e, ports};
use nix::unistd::Uid;

#[derive(Default)]
struct Phases {
    done: Vec<(String, Duration, bool)>,
}

impl Phases {
    fn run<T>(&mut self, name: &str, phase: impl FnOnce() -> Result<T>) -> Result<T> {
        println!("\n▶ {name}");
        let started = Instant::now();
        let result = phase();
        let took = started.elapsed();
        let ok = result.is_ok();
        println!(
            "{} {name} ({:.1}s)",
            if ok { "✓" } else { "✗" },
            took.as_secs_f64()
        );
        self.done.push((name.to_string(), took, ok));
        result
    }

    fn summary(&self, total: Duration) {
        println!("\nphase                              time      result");
        for (name, took, ok) in &self.done {
            let result = if *ok { "ok" } else { "FAILED" };
            println!("{name:<34} {:>7.1}s  {result}", took.as_secs_f64());
        }
        println!("{:<34} {:>7.1}s", "total", total.as_secs_f64());
    }
}

/// `STOREFRONT_REAL_NODE=0` leaves the real-node phase out of a run as root.
const REAL_NODE_VAR: &str = "STOREFRONT_REAL_NODE";

/// Whether this run ends with the real-node phase: as root, unless turned off.
enum RealNode {
    Run,
    TurnedOff,
    NotRoot,
}

fn real_node_phase() -> RealNode {
    let off = std::env::var(REAL_NODE_VAR).is_ok_and(|v| v == "0");
    match (off, Uid::effective().is_root()) {
        (true, _) => RealNode::TurnedOff,
        (false, false) => RealNode::NotRoot,
        (false, true) => RealNode::Run,
    }
}

pub fn run() -> Result<()> {
    let total = Instant::now();
    let ctx = Ctx::new()?;
    if let RealNode::Run = real_node_phase() {
        // The databases start listening where the real node's pods reach them.
        ports::set_node_address(node::address()?);
    }
    let backing = stack::backing_parts();
    let mut phases = Phases::default();
    let mut started = Vec::new();
    let mut stack_started = Vec::new();
    let result = run_phases(
        &ctx,
        &backing,
        &mut phases,
        &mut started,
        &mut stack_started,
    );

    if !started.is_empty() || !stack_started.is_empty() {
        let stop = phases.run("stop the services this run started", || {
            for part in stack_started.iter().rev() {
                parts::stop(part.as_ref(), &ctx)?;
            }
            for &index in started.iter().rev() {
                let part: &dyn Part = backing[index].as_ref();
                parts::stop(part, &ctx)?;
            }
            Ok(())
        });
        if let (Ok(()), Err(e)) = (&result, stop) {
            phases.summary(total.elapsed());
            return Err(e);
        }
    }
    phases.summary(total.elapsed());
    result
}

fn run_phases(
    ctx: &Ctx,
    backing: &[Box<dyn Part>],
    phases: &mut Phases,
    started: &mut Vec<usize>,
    stack_started: &mut Vec<Box<dyn Part>>,
) -> Result<()> {
    let paths = &ctx.paths;
    phases.run("cargo fmt --all --check", || {
        cargo::run(cargo::command(paths, &["fmt", "--all", "--check"]))
    })?;
    phases.run("cargo clippy -D warnings", || {
        cargo::run(cargo::command(
            paths,
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ))
    })?;
    phases.run("store UI: npm ci, tsc --noEmit", || ui::typecheck(ctx))?;
    phases.run("store UI: Vitest", || ui::unit_tests(ctx))?;
    phases.run("backing services", || {
        stack::ensure_backing(ctx, backing, started)
    })?;
    let kube_bin = phases.run("Kubernetes binaries", || kube::ensure_binaries(ctx))?;
    let helm_bin = phases.run("helm", || helm::ensure_binary(ctx))?;
    phases.run("Terraform: fmt -check, validate", || terraform::check(ctx))?;
    phases.run("cargo test --no-run", || {
        cargo::run(cargo::command(paths, &["test", "--workspace", "--no-run"]))
    })?;
    phases.run("cargo test", || {
        let mut test = cargo::command(paths, &["test", "--workspace", "--no-fail-fast"]);
        stack::backing_env(&mut test)?;
        test.env("STOREFRONT_KUBE_BIN", &kube_bin)
            .env("STOREFRONT_HELM_BIN", &helm_bin);
        cargo::run(test)
    })?;
    phases.run("whole stack with the store UI", || {
        stack_started.extend(stack::ensure_stack(ctx)?);
        Ok(())
    })?;
    phases.run("store UI: API types vs OpenAPI", || {
        ui::check_api_types(ctx)
    })?;
    phases.run("store UI: Playwright e2e", || ui::e2e(ctx))?;
    phases.run("gateway: burst past the rate limit", || {
        ui::gateway_burst(ctx)
    })?;
    match real_node_phase() {
        RealNode::Run => phases.run("real node: the store's images as pods", || {
            node_e2e::run(ctx, &kube_bin)
        })?,
        RealNode::TurnedOff => {
            println!("\n▶ real node: skipped ({REAL_NODE_VAR}=0)")
        }
        RealNode::NotRoot => println!(
            "\n▶ real node: skipped, it needs root (containerd, the kubelet and kube-proxy change cgroups, mounts, iptables and sysctls): run `sudo -E cargo xtask test`"
        ),
    }
    if phases.done.iter().any(|(_, _, ok)| !ok) {
        bail!("a phase failed");
    }
    Ok(())
}
