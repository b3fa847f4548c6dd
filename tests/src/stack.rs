//! Services of the platform started in-process on loopback ports, each on fresh databases, trusting
//! the kit's test access tokens.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use storefront_kit::Shutdown;
pub use storefront_kit::testing::{
    access_token as token, create_database, server_config, test_verifier as verifier,
};
use storefront_kit::testing::{mongodb_url, unique_name};

/// A catalog service listening on loopback, on its own databases.
pub struct RunningCatalog {
    pub url: String,
    pub state: storefront_catalog::AppState,
    addr: SocketAddr,
    ledger_url: String,
    images_dir: PathBuf,
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<()>,
}

impl RunningCatalog {
    pub async fn start() -> Self {
        storefront_kit::install_crypto_provider();
        let (ledger_url, _) = create_database("catalog").await;
        let images_dir = std::env::temp_dir().join(unique_name("catalog-images"));
        let state = connect(&ledger_url, &unique_name("catalog"), &images_dir).await;
        storefront_catalog::prepare(&state.ledger, &state.documents)
            .await
            .expect("catalog migrations");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let (shutdown, task) = serve(listener, state.clone());
        Self {
            url: format!("http://{addr}"),
            state,
            addr,
            ledger_url,
            images_dir,
            shutdown,
            task,
        }
    }

    /// Stops the service as a deployment would (stop accepting, drain, close its pools), then
    /// starts a new one on the same address and the same databases.
    pub async fn restart(self) -> Self {
        self.stop_for_a_while().await.start().await
    }

    /// Stops the service and leaves it stopped until [`StoppedCatalog::start`].
    pub async fn stop_for_a_while(self) -> StoppedCatalog {
        self.shutdown.trigger();
        let _ = self.task.await;
        self.state.ledger.close().await;
        StoppedCatalog {
            url: self.url,
            addr: self.addr,
            ledger_url: self.ledger_url,
            documents: self.state.documents.name().to_owned(),
            images_dir: self.images_dir,
        }
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        let _ = self.task.await;
        let _ = self.state.documents.drop().await;
    }
}

/// A catalog between a stop and a start: its address and databases are kept.
pub struct StoppedCatalog {
    url: String,
    addr: SocketAddr,
    ledger_url: String,
    documents: String,
    images_dir: PathBuf,
}

impl StoppedCatalog {
    /// Starts the catalog again on the same address and databases.
    pub async fn start(self) -> RunningCatalog {
        let state = connect(&self.ledger_url, &self.documents, &self.images_dir).await;
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("the catalog's address is free again");
        let (shutdown, task) = serve(listener, state.clone());
        RunningCatalog {
            url: self.url,
            state,
            addr: self.addr,
            ledger_url: self.ledger_url,
            images_dir: self.images_dir,
            shutdown,
            task,
        }
    }
}

async fn connect(
    ledger_url: &str,
    documents: &str,
    images_dir: &std::path::Path,
) -> storefront_catalog::AppState {
    let ledger = storefront_catalog::ledger::connect(ledger_url, 20)
        .await
        .expect("ledger");
    let documents = mongodb::Client::with_uri_str(mongodb_url())
        .await
        .expect("MongoDB-wire server is up (cargo xtask up)")
        .database(documents);
    storefront_catalog::AppState {
        ledger,
        documents,
        verifier: verifier(),
        images: Arc::new(storefront_catalog::images::LocalDirectory::new(images_dir)),
        limits: Default::default(),
    }
}

fn serve(
    listener: tokio::net::TcpListener,
    state: storefront_catalog::AppState,
) -> (Shutdown, tokio::task::JoinHandle<()>) {
    let shutdown = Shutdown::new();
    let service = storefront_catalog::service(state);
    let task = tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            let _ = storefront_kit::serve_on(listener, service, &server_config(), shutdown).await;
        }
    });
    (shutdown, task)
}
