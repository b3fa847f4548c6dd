//! The local Kubernetes control plane's binaries (kube-apiserver, kube-controller-manager,
//! kube-scheduler, kubectl, etcd, kwok and kwok's stages), built once per machine from the Go module
//! proxy by `local/kube/build.sh` and cached under a directory keyed by their versions, which are
//! pinned in `local/kube/go.mod`, `local/etcd/go.mod` and `local/kube/kwok.version`.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use super::{Ctx, ensure_cached, go_mod_version};
use crate::system;

pub const BINARIES: &[&str] = &[
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubectl",
    "etcd",
    "kwok",
    "kwok-stages.yaml",
];

/// `kube-<v>-etcd-<v>-kwok-<v>`: a change of any pin builds a new directory.
pub fn cache_key(ctx: &Ctx) -> Result<String> {
    let local = ctx.paths.repo.join("local");
    let kube = go_mod_version(&local.join("kube/go.mod"), "k8s.io/kubernetes")?;
    let etcd = go_mod_version(&local.join("etcd/go.mod"), "go.etcd.io/etcd/server/v3")?;
    let kwok_file = local.join("kube/kwok.version");
    let kwok = std::fs::read_to_string(&kwok_file)
        .with_context(|| format!("read {}", kwok_file.display()))?;
    Ok(format!("kube-{kube}-etcd-{etcd}-kwok-{}", kwok.trim()))
}

/// The directory holding every binary, building them first when any is missing (6–9 minutes cold).
pub fn ensure_binaries(ctx: &Ctx) -> Result<PathBuf> {
    let build_script = ctx.paths.repo.join("local/kube/build.sh");
    ensure_cached(
        ctx,
        &cache_key(ctx)?,
        BINARIES,
        "build the Kubernetes control plane",
        |out| {
            system::require_go()?;
            let mut build = Command::new("bash");
            build.arg(&build_script).arg(out);
            Ok(build)
        },
    )
}
