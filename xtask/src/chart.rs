//! `cargo xtask chart`: what a change to the Helm chart, its alerts and dashboards, or
//! `deploy/terraform` needs checked, without the whole `cargo xtask test`: builds the Kubernetes
//! binaries and helm when missing, checks `deploy/terraform`, then runs the chart's tests
//! (`operator/tests/chart.rs`: lint, render, promtool, dashboards, install on a local control plane).

use anyhow::Result;

use crate::cargo;
use crate::parts::{Ctx, helm, kube};
use crate::terraform;

pub fn run() -> Result<()> {
    let ctx = Ctx::new()?;
    let kube_bin = kube::ensure_binaries(&ctx)?;
    let helm_bin = helm::ensure_binary(&ctx)?;
    println!("▶ deploy/terraform");
    terraform::check(&ctx)?;
    println!("▶ chart tests");
    let mut test = cargo::command(
        &ctx.paths,
        &["test", "-p", "storefront-operator", "--test", "chart"],
    );
    test.env("STOREFRONT_KUBE_BIN", &kube_bin)
        .env("STOREFRONT_HELM_BIN", &helm_bin);
    cargo::run(test)
}
