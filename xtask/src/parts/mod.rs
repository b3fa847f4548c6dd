//! The parts of the local stack and the one way each is brought up, checked and stopped.
//!
//! A part is a local server (PostgreSQL, Redis, FerretDB, OpenSearch, a service, Prometheus, the
//! gateway). `ensure_running` is idempotent: a part whose pid file names a live process that answers
//! on its port is left alone; a port held by anything else is an error naming the variable to change.

pub mod ferretdb;
pub mod gateway;
pub mod helm;
pub mod kube;
pub mod objects;
pub mod opensearch;
pub mod postgres;
pub mod prometheus;
pub mod redis;
pub mod service;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use nix::sys::signal::Signal;

use crate::paths::Paths;
use crate::ports::PortSpec;
use crate::process;
use crate::system::{Package, Runner};

/// What every command needs to know about the machine.
pub struct Ctx {
    pub paths: Paths,
    pub runner: Runner,
}

impl Ctx {
    pub fn new() -> Result<Self> {
        Ok(Self {
            paths: Paths::from_env()?,
            runner: Runner::for_servers()?,
        })
    }

    /// Like `new`, but never creates the system user (for commands that only look or stop).
    pub fn observer() -> Result<Self> {
        Ok(Self {
            paths: Paths::from_env()?,
            runner: Runner::Myself,
        })
    }

    /// The log for package installs and builds of cached parts.
    pub fn setup_log(&self) -> PathBuf {
        self.paths.log_file("setup")
    }
}

pub trait Part {
    fn name(&self) -> &'static str;
    /// Every port it listens on; the first is the one people connect to.
    fn ports(&self) -> Vec<PortSpec>;
    /// A fragment of its command line, so a recycled pid is not mistaken for it.
    fn process_hint(&self) -> &'static str;
    /// Debian packages it needs.
    fn packages(&self, _ctx: &Ctx) -> Vec<&'static Package> {
        Vec::new()
    }
    /// Answers on its port the way a client needs.
    fn healthy(&self, ctx: &Ctx) -> bool;
    /// Builds or installs what it runs, and initialises its data directory. Idempotent.
    fn prepare(&self, _ctx: &Ctx) -> Result<()> {
        Ok(())
    }
    /// Writes its configuration; returns whether it changed (a running part is then reloaded).
    fn configure(&self, _ctx: &Ctx) -> Result<bool> {
        Ok(false)
    }
    /// The signal that makes a running part re-read its configuration, if it has one.
    fn reload_signal(&self) -> Option<Signal> {
        None
    }
    /// Starts it and returns the pid of the long-running process (written to `pid_file`).
    fn start(&self, ctx: &Ctx) -> Result<u32>;
    /// Runs once it is ready (e.g. creating a database).
    fn after_ready(&self, _ctx: &Ctx) -> Result<()> {
        Ok(())
    }
    fn stop_signal(&self) -> Signal {
        Signal::SIGTERM
    }
    fn stop_grace(&self) -> Duration {
        Duration::from_secs(20)
    }
    fn ready_timeout(&self) -> Duration {
        Duration::from_secs(60)
    }
    fn pid_file(&self, ctx: &Ctx) -> PathBuf {
        ctx.paths.pid_file(self.name())
    }
    fn logs(&self, ctx: &Ctx) -> Vec<PathBuf> {
        vec![ctx.paths.log_file(self.name())]
    }
}

/// The pid of the part's process when its pid file names a live process that looks like it.
pub fn running_pid(part: &dyn Part, ctx: &Ctx) -> Option<u32> {
    let pid = process::read_pid(&part.pid_file(ctx))?;
    (process::is_alive(pid) && process::cmdline(pid).contains(part.process_hint())).then_some(pid)
}

pub enum Outcome {
    Started { pid: u32, took: Duration },
    AlreadyRunning { pid: u32 },
}

/// Brings the part up unless it already runs; waits until it answers.
pub fn ensure_running(part: &dyn Part, ctx: &Ctx) -> Result<Outcome> {
    let name = part.name();
    let configured = part.configure(ctx)?;
    if let Some(pid) = running_pid(part, ctx) {
        if !part.healthy(ctx) {
            // Alive but not answering yet: most likely still starting from an earlier run.
            process::wait_until(
                name,
                part.ready_timeout(),
                &part.logs(ctx),
                || process::is_alive(pid),
                || part.healthy(ctx),
            )?;
        }
        if let (true, Some(signal)) = (configured, part.reload_signal()) {
            println!("  {name}: configuration changed, reloading");
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(i32::try_from(pid)?), signal)?;
        }
        return Ok(Outcome::AlreadyRunning { pid });
    }
    for port in part.ports() {
        port.ensure_free(name)?;
    }
    part.prepare(ctx)?;
    let started = std::time::Instant::now();
    let pid = part.start(ctx)?;
    process::write_pid(&part.pid_file(ctx), pid)?;
    process::wait_until(
        name,
        part.ready_timeout(),
        &part.logs(ctx),
        || process::is_alive(pid),
        || part.healthy(ctx),
    )?;
    part.after_ready(ctx)?;
    Ok(Outcome::Started {
        pid,
        took: started.elapsed(),
    })
}

/// Stops the part if it runs (its stop signal, a bounded wait, then SIGKILL) and forgets its pid.
pub fn stop(part: &dyn Part, ctx: &Ctx) -> Result<Option<u32>> {
    let pid = running_pid(part, ctx);
    if let Some(pid) = pid {
        process::stop(part.name(), pid, part.stop_signal(), part.stop_grace())?;
    }
    let pid_file = part.pid_file(ctx);
    if pid_file.exists() {
        fs::remove_file(&pid_file).with_context(|| format!("remove {}", pid_file.display()))?;
    }
    Ok(pid)
}

pub fn print_outcome(part: &dyn Part, outcome: &Outcome) {
    let port = part
        .ports()
        .first()
        .and_then(|p| p.get().ok())
        .unwrap_or_default();
    match outcome {
        Outcome::Started { pid, took } => println!(
            "✓ {:<11} 127.0.0.1:{port:<6} started (pid {pid}) in {:.1}s",
            part.name(),
            took.as_secs_f64()
        ),
        Outcome::AlreadyRunning { pid } => {
            println!(
                "✓ {:<11} 127.0.0.1:{port:<6} already running (pid {pid})",
                part.name()
            )
        }
    }
}

/// A third-party part built into the cache once per machine: `<cache>/parts/<key>`. It counts as present
/// when every file in `expect` exists; otherwise the command `build(<temporary dir>)` returns fills a fresh
/// directory that then replaces it, so an interrupted build never looks finished.
pub fn ensure_cached(
    ctx: &Ctx,
    key: &str,
    expect: &[&str],
    label: &str,
    build: impl FnOnce(&Path) -> Result<Command>,
) -> Result<PathBuf> {
    let dir = ctx.paths.part(key);
    if expect.iter().all(|file| dir.join(file).exists()) {
        return Ok(dir);
    }
    let partial = ctx
        .paths
        .part(&format!("{key}.partial-{}", std::process::id()));
    if partial.exists() {
        fs::remove_dir_all(&partial)?;
    }
    let log = ctx.paths.part(&format!("{key}.build.log"));
    let _ = fs::remove_file(&log);
    let mut command = build(&partial)?;
    command.env("STOREFRONT_CACHE", &ctx.paths.cache);
    process::run_step(label, &mut command, &log)?;
    if let Some(missing) = expect.iter().find(|file| !partial.join(file).exists()) {
        bail!(
            "{label} finished but {missing} is missing in {}",
            partial.display()
        );
    }
    // Another run may have finished the same build meanwhile; the complete one wins.
    if expect.iter().all(|file| dir.join(file).exists()) {
        fs::remove_dir_all(&partial)?;
        return Ok(dir);
    }
    if dir.exists() {
        fs::remove_dir_all(&dir)?;
    }
    fs::rename(&partial, &dir).with_context(|| format!("move the build into {}", dir.display()))?;
    Ok(dir)
}

/// The version a Go module requires of `module`, read from its go.mod (the pin lives there only).
pub fn go_mod_version(go_mod: &Path, module: &str) -> Result<String> {
    let text = fs::read_to_string(go_mod).with_context(|| format!("read {}", go_mod.display()))?;
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace().skip_while(|w| *w != module);
            words.next()?;
            words.next().map(str::to_string)
        })
        .next()
        .with_context(|| format!("{} does not require {module}", go_mod.display()))
}

/// Writes `contents` unless the file already holds exactly that; returns whether it wrote.
pub fn write_if_changed(path: &Path, contents: &str) -> Result<bool> {
    if fs::read_to_string(path).is_ok_and(|old| old == contents) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    fs::write(path, contents).with_context(|| format!("write {}", path.display()))?;
    Ok(true)
}

/// Fills `{{name}}` placeholders of a template under `local/`; fails on any placeholder left unfilled.
pub fn render_template(ctx: &Ctx, template: &str, values: &[(&str, String)]) -> Result<String> {
    let path = ctx.paths.repo.join("local").join(template);
    let mut text =
        fs::read_to_string(&path).with_context(|| format!("read template {}", path.display()))?;
    for (name, value) in values {
        text = text.replace(&format!("{{{{{name}}}}}"), value);
    }
    if let Some(start) = text.find("{{") {
        let rest: String = text[start..].chars().take(40).collect();
        bail!("{}: unfilled placeholder at {rest:?}", path.display());
    }
    Ok(text)
}
