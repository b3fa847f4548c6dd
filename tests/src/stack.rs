//! Services of the platform started in-process on loopback ports, each on fresh databases, trusting
//! the kit's test access tokens.

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
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<()>,
}

impl RunningCatalog {
    pub async fn start() -> Self {
        storefront_kit::install_crypto_provider();
        let (ledger_url, _) = create_database("catalog").await;
        let ledger = storefront_catalog::ledger::connect(&ledger_url, 20)
            .await
            .expect("ledger");
        let documents = mongodb::Client::with_uri_str(mongodb_url())
            .await
            .expect("MongoDB-wire server is up (cargo xtask up)")
            .database(&unique_name("catalog"));
        storefront_catalog::prepare(&ledger, &documents)
            .await
            .expect("catalog migrations");
        let images_dir = std::env::temp_dir().join(unique_name("catalog-images"));
        let state = storefront_catalog::AppState {
            ledger,
            documents,
            verifier: verifier(),
            images: Arc::new(storefront_catalog::images::LocalDirectory::new(&images_dir)),
            limits: Default::default(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let shutdown = Shutdown::new();
        let service = storefront_catalog::service(state.clone());
        let task = tokio::spawn({
            let shutdown = shutdown.clone();
            async move {
                let _ =
                    storefront_kit::serve_on(listener, service, &server_config(), shutdown).await;
            }
        });
        Self {
            url,
            state,
            shutdown,
            task,
        }
    }

    pub async fn stop(self) {
        self.shutdown.trigger();
        let _ = self.task.await;
        let _ = self.state.documents.drop().await;
    }
}
