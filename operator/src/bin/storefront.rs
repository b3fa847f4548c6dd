//! `storefront`: a kubectl-style view of Storefronts.
//!
//! `storefront status <name> [-n <namespace>] [--kubeconfig <path>]` prints the store's
//! conditions with their reasons, its rollout, each component's replicas and version, the URL and
//! the last backup. The cluster and namespace come from the kubeconfig like kubectl's
//! (`KUBECONFIG`, `~/.kube/config`, or the in-cluster service account).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use storefront_operator::Storefront;
use storefront_operator::report::render;

#[derive(Parser)]
#[command(name = "storefront", about = "Inspect Storefronts", version)]
struct Cli {
    /// Path of the kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long, global = true)]
    kubeconfig: Option<PathBuf>,
    /// Namespace (default: the kubeconfig context's).
    #[arg(short, long, global = true)]
    namespace: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Summary of one Storefront: conditions, rollout, components, URL, last backup.
    Status {
        /// Name of the Storefront.
        name: String,
    },
}

async fn client(kubeconfig: Option<&PathBuf>) -> Result<Client, String> {
    let config = match kubeconfig {
        Some(path) => {
            let file = Kubeconfig::read_from(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                .await
                .map_err(|e| format!("invalid kubeconfig {}: {e}", path.display()))?
        }
        None => Config::infer()
            .await
            .map_err(|e| format!("no cluster configuration: {e}"))?,
    };
    Client::try_from(config).map_err(|e| format!("cannot build a client: {e}"))
}

async fn status(cli: &Cli, name: &str) -> Result<String, String> {
    let client = client(cli.kubeconfig.as_ref()).await?;
    let namespace = cli
        .namespace
        .clone()
        .unwrap_or_else(|| client.default_namespace().to_string());
    let api: Api<Storefront> = Api::namespaced(client, &namespace);
    match api.get_opt(name).await {
        Ok(Some(sf)) => Ok(render(&sf)),
        Ok(None) => Err(format!(
            "storefront \"{name}\" not found in namespace \"{namespace}\""
        )),
        Err(e) => Err(format!("cannot read storefront \"{name}\": {e}")),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Status { name } => status(&cli, name).await,
    };
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
