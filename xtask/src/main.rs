//! `cargo xtask`: the project's one entry point for running the platform on one machine and testing it.

mod bench;
mod cargo;
mod chart;
mod cluster;
mod images;
mod node;
mod node_e2e;
mod oci;
mod parts;
mod paths;
mod ports;
mod probe;
mod process;
mod services;
mod stack;
mod system;
mod terraform;
mod test;
mod ui;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    about = "Run and test Storefront on this machine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install what is missing, start the backing services, the services, Prometheus and the gateway.
    Up,
    /// Stop everything `up` (or `test`) started; data is kept.
    Down,
    /// Each part: its port, pid and whether it answers.
    Status,
    /// The end of a part's logs (`setup` for installs and builds).
    Logs {
        /// postgres, redis, ferretdb, opensearch, a service, prometheus, gateway, setup or build.
        name: String,
        /// How many lines of each log.
        #[arg(short = 'n', long, default_value_t = 100)]
        lines: usize,
    },
    /// fmt, clippy, the backing services and Kubernetes binaries the tests need, then every test.
    Test,
    /// The Helm chart (lint, render, alert rules, dashboards, install with its RBAC) and the
    /// check of deploy/terraform.
    Chart,
    /// The local Kubernetes control plane with the operator: `up`, `down` or `status`.
    Cluster {
        #[command(subcommand)]
        action: ClusterAction,
    },
    /// One OCI image per component from static release binaries, tagged `<version>-<digest>`,
    /// imported into the real node's containerd when it runs.
    Images {
        /// An OCI revision label: the same binaries as a distinct release (a new tag).
        #[arg(long)]
        revision: Option<String>,
    },
    /// Benchmarks that print figures (never fail on timing).
    Bench {
        #[command(subcommand)]
        target: BenchTarget,
    },
}

#[derive(Subcommand)]
enum BenchTarget {
    /// 300 Storefronts (STOREFRONT_BENCH_COUNT) on the local control plane: time to Ready, reconcile p50/p99, RSS.
    Operator,
    /// The users service: login throughput, `GET /me` at 64 connections, JWT verifications per second.
    Users,
    /// The catalog on the demo catalog: get-by-id and category listings vs the driver alone.
    Catalog,
    /// Search on the demo catalog: query and suggest latency vs the engine alone, indexing lag.
    Search,
    /// The cart: add-to-cart and get-cart at 64 connections, checkout orders/s with the oversell check, RSS.
    Cart,
    /// The store UI: initial JavaScript (gzipped) and Largest Contentful Paint of home and product pages.
    Ui,
}

#[derive(Subcommand)]
enum ClusterAction {
    /// Start etcd, the apiserver, controller-manager, scheduler and kwok; install the CRD; run the operator.
    Up {
        /// Also a real node (root): containerd, kubelet, kube-proxy and CoreDNS running the
        /// store's own images as pods; the databases listen on the node's address too.
        #[arg(long)]
        real_node: bool,
    },
    /// Stop the real node (restoring the host), the operator and the control plane (data kept).
    Down,
    /// Which of its processes run, and the kubeconfig path; with a name, that Storefront's
    /// summary (`storefront status`): conditions, rollout, components, URL, last backup.
    Status {
        /// A Storefront to summarise.
        name: Option<String>,
        /// Its namespace.
        #[arg(short = 'n', long, default_value = "default")]
        namespace: String,
    },
    /// The real-node end-to-end test on its own (root), as the last phase of `cargo xtask test`
    /// runs it: images, the node, a store's journey, pod loss, an upgrade, then `down` and the
    /// host compared with before. The backing services must run (`cargo xtask up`).
    E2e,
    /// A store on the real node using this machine's databases: `apply` or `delete` a manifest
    /// such as examples/local-real-node.yaml (its role, databases and Secrets included).
    Store {
        /// `apply` or `delete`.
        action: String,
        /// The Storefront manifest.
        manifest: std::path::PathBuf,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Up => stack::up(),
        Command::Down => stack::down(),
        Command::Status => stack::status(),
        Command::Logs { name, lines } => stack::logs(&name, lines),
        Command::Test => test::run(),
        Command::Chart => chart::run(),
        Command::Cluster {
            action: ClusterAction::Up { real_node },
        } => cluster::up(real_node),
        Command::Cluster {
            action: ClusterAction::E2e,
        } => node_e2e::standalone(),
        Command::Images { revision } => images::run(revision.as_deref()),
        Command::Cluster {
            action: ClusterAction::Down,
        } => cluster::down(),
        Command::Cluster {
            action: ClusterAction::Status { name, namespace },
        } => cluster::status(name.as_deref(), &namespace),
        Command::Cluster {
            action: ClusterAction::Store { action, manifest },
        } => cluster::store(&action, &manifest),
        Command::Bench {
            target: BenchTarget::Operator,
        } => cluster::bench_operator(),
        Command::Bench {
            target: BenchTarget::Users,
        } => bench::example("storefront-users", "bench"),
        Command::Bench {
            target: BenchTarget::Catalog,
        } => bench::example_with_binaries(
            "storefront-tests",
            "bench_catalog",
            &["storefront-catalog"],
        ),
        Command::Bench {
            target: BenchTarget::Search,
        } => bench::example("storefront-tests", "bench_search"),
        Command::Bench {
            target: BenchTarget::Cart,
        } => bench::example_with_binaries("storefront-tests", "bench_cart", &["storefront-cart"]),
        Command::Bench {
            target: BenchTarget::Ui,
        } => bench::ui(),
    }
}
