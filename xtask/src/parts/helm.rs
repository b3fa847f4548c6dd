//! Helm, for the chart's tests (`operator/tests/chart.rs`): built once per machine from the Go
//! module proxy by `local/helm/build.sh` and cached under a directory keyed by the version pinned
//! in `local/helm/helm.version`.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use super::{Ctx, ensure_cached};
use crate::system;

/// `helm-<version>`.
pub fn cache_key(ctx: &Ctx) -> Result<String> {
    let file = ctx.paths.repo.join("local/helm/helm.version");
    let version =
        std::fs::read_to_string(&file).with_context(|| format!("read {}", file.display()))?;
    Ok(format!("helm-{}", version.trim()))
}

/// The helm binary, building it first when missing (~70 s cold).
pub fn ensure_binary(ctx: &Ctx) -> Result<PathBuf> {
    let build_script = ctx.paths.repo.join("local/helm/build.sh");
    let dir = ensure_cached(ctx, &cache_key(ctx)?, &["helm"], "build helm", |out| {
        system::require_go()?;
        let mut build = Command::new("bash");
        build.arg(&build_script).arg(out);
        Ok(build)
    })?;
    Ok(dir.join("helm"))
}
