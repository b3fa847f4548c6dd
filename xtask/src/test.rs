//! `cargo xtask test`: formatting, lints, the backing services and Kubernetes binaries the tests need,
//! then every test of the workspace. Each phase is printed and timed; any failure fails the command.
//! Backing services already running are reused; the ones this command started are stopped at the end.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::cargo;
use crate::parts::{self, Ctx, Outcome, Part, ferretdb, kube, opensearch, postgres, redis};
use crate::stack;

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

pub fn run() -> Result<()> {
    let total = Instant::now();
    let ctx = Ctx::new()?;
    let backing = stack::backing_parts();
    let mut phases = Phases::default();
    let mut started = Vec::new();
    let result = run_phases(&ctx, &backing, &mut phases, &mut started);

    if !started.is_empty() {
        let stop = phases.run("stop the services this run started", || {
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
    phases.run("backing services", || {
        stack::ensure_packages(ctx, backing)?;
        for (index, part) in backing.iter().enumerate() {
            let outcome = parts::ensure_running(part.as_ref(), ctx)?;
            parts::print_outcome(part.as_ref(), &outcome);
            if matches!(outcome, Outcome::Started { .. }) {
                started.push(index);
            }
        }
        Ok(())
    })?;
    let kube_bin = phases.run("Kubernetes binaries", || kube::ensure_binaries(ctx))?;
    phases.run("cargo test --no-run", || {
        cargo::run(cargo::command(paths, &["test", "--workspace", "--no-run"]))
    })?;
    phases.run("cargo test", || {
        let mut test = cargo::command(paths, &["test", "--workspace", "--no-fail-fast"]);
        test.env("STOREFRONT_POSTGRES_URL", postgres::url("postgres")?)
            .env("STOREFRONT_REDIS_URL", redis::url()?)
            .env("STOREFRONT_MONGODB_URL", ferretdb::url()?)
            .env("STOREFRONT_OPENSEARCH_URL", opensearch::url()?)
            .env("STOREFRONT_KUBE_BIN", &kube_bin);
        cargo::run(test)
    })?;
    if phases.done.iter().any(|(_, _, ok)| !ok) {
        bail!("a phase failed");
    }
    Ok(())
}
