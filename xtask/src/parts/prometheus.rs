//! Prometheus (Debian package) scraping every service the local stack runs, configured from
//! `local/prometheus/prometheus.yml.tmpl`.

use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;
use nix::sys::signal::Signal;

use super::{Ctx, Part, render_template, write_if_changed};
use crate::ports::{self, PortSpec};
use crate::probe;
use crate::process;
use crate::services::SERVICES;
use crate::system::{self, Package};

pub struct Prometheus;

impl Prometheus {
    fn dir(ctx: &Ctx) -> PathBuf {
        ctx.paths.data.join("prometheus")
    }
}

impl Part for Prometheus {
    fn name(&self) -> &'static str {
        "prometheus"
    }

    fn ports(&self) -> Vec<PortSpec> {
        vec![ports::PROMETHEUS]
    }

    fn process_hint(&self) -> &'static str {
        "prometheus"
    }

    fn packages(&self, _ctx: &Ctx) -> Vec<&'static Package> {
        vec![&system::PROMETHEUS]
    }

    fn healthy(&self, _ctx: &Ctx) -> bool {
        ports::PROMETHEUS
            .get()
            .is_ok_and(|port| probe::http_ok(port, "/-/ready"))
    }

    fn configure(&self, ctx: &Ctx) -> Result<bool> {
        let mut jobs = String::new();
        for service in SERVICES.iter().filter(|s| s.binary.is_some()) {
            jobs.push_str(&format!(
                "  - job_name: {name}\n    metrics_path: /metrics\n    static_configs:\n      - targets: [\"127.0.0.1:{port}\"]\n        labels:\n          service: {name}\n",
                name = service.name,
                port = service.port.get()?,
            ));
        }
        let config = render_template(
            ctx,
            "prometheus/prometheus.yml.tmpl",
            &[
                ("prometheus_port", ports::PROMETHEUS.get()?.to_string()),
                ("service_jobs", jobs),
                (
                    "rules_file",
                    ctx.paths
                        .repo
                        .join("charts/storefront-operator/files/alerts/storefront.rules.yaml")
                        .display()
                        .to_string(),
                ),
            ],
        )?;
        write_if_changed(&Self::dir(ctx).join("prometheus.yml"), &config)
    }

    /// Prometheus re-reads its configuration on SIGHUP.
    fn reload_signal(&self) -> Option<Signal> {
        Some(Signal::SIGHUP)
    }

    fn start(&self, ctx: &Ctx) -> Result<u32> {
        let dir = Self::dir(ctx);
        let mut prometheus = Command::new("prometheus");
        prometheus
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!(
                "--web.listen-address=127.0.0.1:{}",
                ports::PROMETHEUS.get()?
            ))
            .arg("--storage.tsdb.retention.time=7d")
            .current_dir(&dir);
        let child = process::spawn_server(&mut prometheus, &ctx.paths.log_file(self.name()))?;
        Ok(child.id())
    }
}
