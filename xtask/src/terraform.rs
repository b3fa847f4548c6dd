//! The check of `deploy/terraform`: `fmt -check` always, `validate` only when the providers it
//! needs are installed on this machine (registry.terraform.io may be out of reach). The binary is
//! `terraform` or `tofu` from PATH, else OpenTofu built from the Go module proxy into the cache
//! (pinned in `local/tofu/go.mod`); when none can be had, the check says so in one line and passes.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::parts::{Ctx, ensure_cached, go_mod_version};
use crate::system;

const PROVIDERS: &[&str] = &["aws", "random", "tls"];

fn tofu_from_cache(ctx: &Ctx) -> Result<PathBuf> {
    let local = ctx.paths.repo.join("local/tofu");
    let version = go_mod_version(&local.join("go.mod"), "github.com/opentofu/opentofu")?;
    let dir = ensure_cached(
        ctx,
        &format!("tofu-{version}"),
        &["tofu"],
        "build OpenTofu",
        |out| {
            system::require_go()?;
            let mut build = Command::new("bash");
            build.arg(local.join("build.sh")).arg(out);
            Ok(build)
        },
    )?;
    Ok(dir.join("tofu"))
}

fn binary(ctx: &Ctx) -> Option<PathBuf> {
    if let Ok(bin) = which::which("terraform").or_else(|_| which::which("tofu")) {
        return Some(bin);
    }
    match tofu_from_cache(ctx) {
        Ok(bin) => Some(bin),
        Err(e) => {
            println!("  could not build OpenTofu: {e:#}");
            None
        }
    }
}

/// Where terraform and tofu look for providers without a registry (their implied local mirrors).
fn provider_installed(name: &str) -> bool {
    let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
    let roots = [
        home.join(".terraform.d/plugins"),
        home.join(".local/share/terraform/plugins"),
    ];
    let hosts = ["registry.terraform.io", "registry.opentofu.org"];
    roots.iter().any(|root| {
        hosts
            .iter()
            .any(|host| root.join(host).join("hashicorp").join(name).is_dir())
    })
}

fn run(bin: &Path, dir: &Path, args: &[&str]) -> Result<()> {
    let out = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .with_context(|| format!("run {}", bin.display()))?;
    if !out.status.success() {
        bail!(
            "{} {} failed in {}:\n{}{}",
            bin.display(),
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

pub fn check(ctx: &Ctx) -> Result<()> {
    let source = ctx.paths.repo.join("deploy/terraform");
    let Some(bin) = binary(ctx) else {
        println!(
            "  deploy/terraform not checked: no terraform or tofu on PATH, and OpenTofu could not be built"
        );
        return Ok(());
    };
    run(&bin, &source, &["fmt", "-check", "-recursive", "-diff"])?;
    println!("  {} fmt -check: clean", bin.display());

    let missing: Vec<&str> = PROVIDERS
        .iter()
        .copied()
        .filter(|p| !provider_installed(p))
        .collect();
    if !missing.is_empty() {
        println!(
            "  validate skipped: provider(s) {} not installed locally (~/.terraform.d/plugins) and the registry is out of reach",
            missing.join(", ")
        );
        return Ok(());
    }
    // A scratch copy, so init's lock file and .terraform stay out of the clone.
    let scratch = ctx.paths.data.join("terraform-check");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)?;
    }
    std::fs::create_dir_all(&scratch)?;
    for entry in std::fs::read_dir(&source)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "tf") {
            std::fs::copy(&path, scratch.join(path.file_name().unwrap_or_default()))?;
        }
    }
    run(&bin, &scratch, &["init", "-backend=false", "-input=false"])?;
    run(&bin, &scratch, &["validate"])?;
    println!("  validate: the configuration is valid");
    Ok(())
}
