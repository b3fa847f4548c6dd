//! `local-store apply|delete <manifest>`: a Storefront whose databases are this machine's, on the
//! real local node (run through `cargo xtask cluster store`). `apply` creates the store's role
//! and databases, applies the Storefront with the last built images and writes its Secrets;
//! `delete` deletes the Storefront and drops what it kept on the host's servers.

use std::path::Path;
use std::process::ExitCode;

use storefront_tests::install_crypto_provider;
use storefront_tests::real_node::{self, HostDatabases, Kubectl, Result, StoreManifest};

async fn run(command: &str, path: &Path) -> Result<()> {
    let kubectl =
        Kubectl::from_env().ok_or("STOREFRONT_KUBE_BIN and STOREFRONT_KUBECONFIG are required")?;
    let store = StoreManifest::load(path)?;
    match command {
        "apply" => {
            let address = std::env::var("STOREFRONT_NODE_ADDRESS")?.parse()?;
            let tag = std::env::var("STOREFRONT_IMAGE_TAG")
                .map_err(|_| "no images yet: run `cargo xtask images`")?;
            let registry = std::env::var("STOREFRONT_IMAGE_REGISTRY")?;
            real_node::deploy(
                &kubectl,
                &store,
                &HostDatabases::new(address)?,
                &registry,
                &tag,
            )
            .await?;
            println!(
                "storefront {}/{} applied with images {registry}/*:{tag}",
                store.namespace, store.name
            );
        }
        "delete" => {
            kubectl.run(&[
                "delete",
                "storefront",
                &store.name,
                "-n",
                &store.namespace,
                "--ignore-not-found",
                "--timeout=120s",
            ])?;
            real_node::drop_data(&store).await?;
            println!(
                "storefront {}/{} deleted; its databases, keys and indices dropped",
                store.namespace, store.name
            );
        }
        other => return Err(format!("unknown command {other:?}: apply or delete").into()),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    install_crypto_provider();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [command, manifest] = args.as_slice() else {
        eprintln!("usage: local-store apply|delete <manifest.yaml>");
        return ExitCode::from(2);
    };
    match run(command, Path::new(manifest)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("local-store: {error}");
            ExitCode::FAILURE
        }
    }
}
