//! The store UI (`services/store-ui`): dependencies installed with `npm ci` when its lock file changed,
//! built with Vite when its sources changed (the gateway serves `dist/`), checked by `cargo xtask test`
//! (tsc, Vitest, the API types against the live OpenAPI documents, Playwright through the gateway, the
//! gateway's rate limit) and measured by `cargo xtask bench ui`.

use std::collections::hash_map::DefaultHasher;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::parts::Ctx;
use crate::ports;
use crate::process;
use crate::system::{self, CHROMIUM};

/// What a build reads: a change in any of these rebuilds `dist/`.
const BUILD_INPUTS: &[&str] = &[
    "src",
    "public",
    "index.html",
    "vite.config.ts",
    "tsconfig.json",
    "package.json",
    "package-lock.json",
];
/// In `dist/` after a build: the fingerprint of the inputs it was built from.
const FINGERPRINT_FILE: &str = ".source-fingerprint";
/// In `node_modules/` after `npm ci`: the lock file it installed.
const INSTALLED_LOCK: &str = ".storefront-package-lock.json";

pub fn dir(ctx: &Ctx) -> PathBuf {
    ctx.paths.repo.join("services/store-ui")
}

fn log(ctx: &Ctx) -> PathBuf {
    ctx.paths.log_file("store-ui")
}

/// `npm <args>` in the UI's directory, with npm's cache outside the clone and no network chatter.
fn npm(ctx: &Ctx, args: &[&str]) -> Command {
    let mut npm = Command::new("npm");
    npm.args(args)
        .current_dir(dir(ctx))
        .env("npm_config_cache", ctx.paths.cache.join("npm"))
        .env("npm_config_update_notifier", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_audit", "false")
        .env("STOREFRONT_GATEWAY_URL", gateway_url())
        .env("CI", "true");
    npm
}

pub fn gateway_url() -> String {
    format!("http://127.0.0.1:{}", ports::GATEWAY.get().unwrap_or(8080))
}

pub fn require_npm() -> Result<PathBuf> {
    system::require_tool(
        "npm",
        "the store UI needs Node.js ≥ 20.19 with npm (https://nodejs.org/ or Debian's nodejs and npm)",
    )
}

/// `npm ci` unless `node_modules` was installed from exactly this lock file.
pub fn ensure_deps(ctx: &Ctx) -> Result<()> {
    require_npm()?;
    let lock_path = dir(ctx).join("package-lock.json");
    let lock = fs::read(&lock_path).with_context(|| format!("read {}", lock_path.display()))?;
    let installed = dir(ctx).join("node_modules").join(INSTALLED_LOCK);
    if fs::read(&installed).is_ok_and(|old| old == lock) {
        return Ok(());
    }
    process::run_step(
        "store UI: npm ci",
        &mut npm(ctx, &["ci", "--no-audit", "--no-fund"]),
        &log(ctx),
    )?;
    fs::write(&installed, &lock).with_context(|| format!("write {}", installed.display()))?;
    Ok(())
}

/// Builds `dist/` when the sources changed since the last build; returns whether it built.
pub fn ensure_built(ctx: &Ctx) -> Result<bool> {
    ensure_deps(ctx)?;
    let fingerprint = source_fingerprint(&dir(ctx))?;
    let dist = dir(ctx).join("dist");
    let stamp = dist.join(FINGERPRINT_FILE);
    if dist.join("index.html").exists()
        && fs::read_to_string(&stamp).is_ok_and(|old| old.trim() == fingerprint)
    {
        return Ok(false);
    }
    process::run_step(
        "store UI: vite build",
        &mut npm(ctx, &["run", "build"]),
        &log(ctx),
    )?;
    fs::write(&stamp, &fingerprint).with_context(|| format!("write {}", stamp.display()))?;
    Ok(true)
}

/// A hash of every build input's path and contents (file order fixed), as hex. `DefaultHasher` may
/// change between Rust releases; that only costs one extra build.
fn source_fingerprint(root: &Path) -> Result<String> {
    let mut files = Vec::new();
    for input in BUILD_INPUTS {
        collect_files(&root.join(input), &mut files)?;
    }
    files.sort();
    let mut hasher = DefaultHasher::new();
    for file in files {
        file.strip_prefix(root).unwrap_or(&file).hash(&mut hasher);
        fs::read(&file)
            .with_context(|| format!("read {}", file.display()))?
            .hash(&mut hasher);
    }
    Ok(format!("{:016x}", hasher.finish()))
}

fn collect_files(path: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let Ok(meta) = fs::metadata(path) else {
        return Ok(());
    };
    if meta.is_dir() {
        for entry in fs::read_dir(path).with_context(|| format!("list {}", path.display()))? {
            collect_files(&entry?.path(), files)?;
        }
    } else {
        files.push(path.to_path_buf());
    }
    Ok(())
}

/// Runs an npm script with its output on the terminal; fails when it fails.
fn run_script(ctx: &Ctx, script: &str, extra: &[(&str, String)]) -> Result<()> {
    let mut command = npm(ctx, &["run", "--silent", script]);
    for (name, value) in extra {
        command.env(name, value);
    }
    let status = command
        .status()
        .with_context(|| format!("run npm run {script}"))?;
    if !status.success() {
        bail!("npm run {script} failed ({status})");
    }
    Ok(())
}

/// `tsc --noEmit` (strict) over the app and its build config.
pub fn typecheck(ctx: &Ctx) -> Result<()> {
    ensure_deps(ctx)?;
    run_script(ctx, "typecheck", &[])
}

/// Vitest: unit and component tests.
pub fn unit_tests(ctx: &Ctx) -> Result<()> {
    ensure_deps(ctx)?;
    run_script(ctx, "test", &[])
}

/// The client's generated types against the OpenAPI documents the running services serve.
pub fn check_api_types(ctx: &Ctx) -> Result<()> {
    run_script(ctx, "api:check", &[])
}

/// Debian's Chromium, which Playwright drives (installed when missing, like the other packages).
pub fn ensure_chromium(ctx: &Ctx) -> Result<()> {
    system::ensure_packages(&[&CHROMIUM], &ctx.setup_log())
}

fn e2e_env(ctx: &Ctx) -> Vec<(&'static str, String)> {
    vec![
        ("STOREFRONT_GATEWAY_URL", gateway_url()),
        ("STOREFRONT_CHROMIUM", CHROMIUM.provides.to_string()),
        (
            "STOREFRONT_E2E_DIR",
            ctx.paths.repo.join("target/e2e").display().to_string(),
        ),
        // Where the users service writes its mails (`USERS_MAIL_DIR` in `services.rs`).
        (
            "STOREFRONT_MAIL_DIR",
            ctx.paths
                .data
                .join("services/users/mail")
                .display()
                .to_string(),
        ),
    ]
}

/// The browser journeys through the gateway against the running stack; screenshots in `target/e2e/`.
pub fn e2e(ctx: &Ctx) -> Result<()> {
    ensure_chromium(ctx)?;
    run_script(ctx, "e2e", &e2e_env(ctx))
}

/// A burst past the gateway's API rate limit: 429 with `Retry-After`, never a 5xx.
pub fn gateway_burst(ctx: &Ctx) -> Result<()> {
    run_script(ctx, "gateway:burst", &e2e_env(ctx))
}

/// `cargo xtask bench ui`: initial JavaScript (gzipped) and Largest Contentful Paint of the home and
/// product pages in headless Chromium, printed against their targets.
pub fn bench(ctx: &Ctx) -> Result<()> {
    ensure_chromium(ctx)?;
    run_script(ctx, "bench", &e2e_env(ctx))
}
