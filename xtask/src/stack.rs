//! `up`, `down`, `status` and `logs`: the whole local stack as one unit.

use std::collections::BTreeSet;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::cargo;
use crate::parts::{
    self, Ctx, Part, ferretdb, ferretdb::FerretDb, gateway::Gateway, objects, objects::ObjectStore,
    opensearch, opensearch::OpenSearch, postgres, postgres::Postgres, prometheus::Prometheus,
    redis, redis::Redis, service::ServicePart,
};
use crate::ports;
use crate::process;
use crate::services::SERVICES;
use crate::system::{self, Package};
use crate::ui;

/// The stores the services and the tests need, in start order.
pub fn backing_parts() -> Vec<Box<dyn Part>> {
    vec![
        Box::new(Postgres),
        Box::new(Redis),
        Box::new(FerretDb),
        Box::new(OpenSearch),
        Box::new(ObjectStore),
    ]
}

/// Installs what `parts` need and starts those not running, noting in `started` the index of each
/// one started here (as it starts, so a later failure still knows what to stop).
pub fn ensure_backing(ctx: &Ctx, parts: &[Box<dyn Part>], started: &mut Vec<usize>) -> Result<()> {
    ensure_packages(ctx, parts)?;
    for (index, part) in parts.iter().enumerate() {
        let outcome = parts::ensure_running(part.as_ref(), ctx)?;
        parts::print_outcome(part.as_ref(), &outcome);
        if matches!(outcome, parts::Outcome::Started { .. }) {
            started.push(index);
        }
    }
    Ok(())
}

/// Where tests and benchmarks find the backing services: `STOREFRONT_{POSTGRES,REDIS,MONGODB,
/// OPENSEARCH,S3}_URL` (read by `storefront_kit::testing`).
pub fn backing_env(command: &mut std::process::Command) -> Result<()> {
    command
        .env("STOREFRONT_POSTGRES_URL", postgres::url("postgres")?)
        .env("STOREFRONT_REDIS_URL", redis::url()?)
        .env("STOREFRONT_MONGODB_URL", ferretdb::url()?)
        .env("STOREFRONT_OPENSEARCH_URL", opensearch::url()?)
        .env("STOREFRONT_S3_URL", objects::url()?);
    Ok(())
}

/// Every part in start order; services only when they have a binary unless `with_unbuilt`.
fn all_parts(with_unbuilt: bool) -> Vec<Box<dyn Part>> {
    let mut parts = backing_parts();
    for service in SERVICES
        .iter()
        .filter(|s| with_unbuilt || s.binary.is_some())
    {
        parts.push(Box::new(ServicePart(service)));
    }
    parts.push(Box::new(Prometheus));
    parts.push(Box::new(Gateway));
    parts
}

/// Installs the missing Debian packages the parts need, in one apt run.
pub fn ensure_packages(ctx: &Ctx, parts: &[Box<dyn Part>]) -> Result<()> {
    let mut seen = BTreeSet::new();
    let packages: Vec<&Package> = parts
        .iter()
        .flat_map(|part| part.packages(ctx))
        .filter(|package| seen.insert(package.name))
        .collect();
    system::ensure_packages(&packages, &ctx.setup_log())
}

/// Builds what changed (the services, the store UI) and brings every part up; parts already running are
/// left alone (the gateway reloads if its configuration changed). Returns the parts it started.
pub fn ensure_stack(ctx: &Ctx) -> Result<Vec<Box<dyn Part>>> {
    let parts = all_parts(false);
    ensure_packages(ctx, &parts)?;
    if SERVICES.iter().any(|s| s.binary.is_some()) {
        process::run_step(
            "build the services (cargo build --workspace --bins)",
            &mut cargo::command(&ctx.paths, &["build", "--workspace", "--bins"]),
            &ctx.paths.log_file("build"),
        )?;
    }
    // Before the gateway, which serves dist/ once it exists.
    if ui::require_npm().is_ok() {
        ui::ensure_built(ctx)?;
    } else {
        println!(
            "! the store UI is not built: npm is not on PATH (Node.js ≥ 20.19); `/` shows a status page"
        );
    }
    let mut started = Vec::new();
    for part in parts {
        let outcome = parts::ensure_running(part.as_ref(), ctx)?;
        parts::print_outcome(part.as_ref(), &outcome);
        if matches!(outcome, parts::Outcome::Started { .. }) {
            started.push(part);
        }
    }
    Ok(started)
}

pub fn up() -> Result<()> {
    let started = Instant::now();
    let ctx = Ctx::new()?;
    println!(
        "Storefront local stack: data in {}, built parts in {}",
        ctx.paths.data.display(),
        ctx.paths.cache.join("parts").display()
    );
    ensure_stack(&ctx)?;
    println!(
        "\nStorefront is up in {:.1}s: http://127.0.0.1:{}/",
        started.elapsed().as_secs_f64(),
        ports::GATEWAY.get()?
    );
    println!("Prometheus: http://127.0.0.1:{}/", ports::PROMETHEUS.get()?);
    println!("`cargo xtask status` shows each part; `cargo xtask down` stops them all.");
    Ok(())
}

pub fn down() -> Result<()> {
    let ctx = Ctx::observer()?;
    let mut stopped = 0;
    for part in all_parts(true).iter().rev() {
        if let Some(pid) = parts::stop(part.as_ref(), &ctx)? {
            println!("■ {:<11} stopped (pid {pid})", part.name());
            stopped += 1;
        }
    }
    // Whatever of ours is still there (e.g. after a lost pid file) is killed.
    for found in leftovers(&ctx) {
        println!(
            "■ killing leftover {} (pid {}): {}",
            found.comm, found.pid, found.cmdline
        );
        let _ = kill(Pid::from_raw(i32::try_from(found.pid)?), Signal::SIGKILL);
        stopped += 1;
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    let left = leftovers(&ctx);
    if !left.is_empty() {
        bail!("still running after down: {left:?}");
    }
    if stopped == 0 {
        println!("nothing was running");
    }
    println!(
        "no process of the stack is left (data kept in {})",
        ctx.paths.data.display()
    );
    Ok(())
}

/// Server processes started for this data directory: one of the stack's programs, naming the data
/// directory or running inside it. Other programs there (a shell, `tail -f` on a log) are not ours.
fn leftovers(ctx: &Ctx) -> Vec<process::Found> {
    let ours: Vec<String> = [
        "postgres",
        "redis-server",
        "ferretdb",
        "java",
        "nginx",
        "prometheus",
    ]
    .into_iter()
    .map(str::to_string)
    .chain(
        SERVICES
            .iter()
            .filter_map(|s| s.binary)
            .map(|b| b.chars().take(15).collect()),
    )
    .collect();
    process::processes_using(&ctx.paths.data)
        .into_iter()
        .filter(|found| ours.contains(&found.comm))
        .collect()
}

pub fn status() -> Result<()> {
    let ctx = Ctx::observer()?;
    println!("{:<12} {:<7} {:<8} state", "part", "port", "pid");
    for part in all_parts(true) {
        let port = part
            .ports()
            .first()
            .map(|p| p.get())
            .transpose()?
            .unwrap_or_default();
        let pid = parts::running_pid(part.as_ref(), &ctx);
        let unbuilt = SERVICES
            .iter()
            .any(|s| s.name == part.name() && s.binary.is_none());
        let state = match pid {
            Some(_) if part.healthy(&ctx) => "healthy",
            Some(_) => "running, not answering",
            None if unbuilt => "no binary yet",
            None if ports::answers(port) => "stopped (port used by another process)",
            None => "stopped",
        };
        let pid = pid.map_or_else(|| "-".to_string(), |p| p.to_string());
        println!("{:<12} {port:<7} {pid:<8} {state}", part.name());
    }
    Ok(())
}

pub fn logs(name: &str, lines: usize) -> Result<()> {
    let ctx = Ctx::observer()?;
    let files = if name == "setup" || name == "build" {
        vec![ctx.paths.log_file(name)]
    } else {
        let parts = all_parts(true);
        let part = parts.iter().find(|p| p.name() == name).with_context(|| {
            let names: Vec<&str> = parts.iter().map(|p| p.name()).collect();
            format!(
                "no part named {name:?}; parts: {}, setup, build",
                names.join(", ")
            )
        })?;
        part.logs(&ctx)
    };
    for file in files.iter().filter(|f| f.exists()) {
        println!("==> {} <==\n{}", file.display(), process::tail(file, lines));
    }
    if !files.iter().any(|f| f.exists()) {
        println!("no log yet for {name}");
    }
    Ok(())
}
