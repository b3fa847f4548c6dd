//! The operator process: leader election on a Lease, then the controller while leading.

use std::time::Duration;

use kube::Client;
use kube_lease_manager::LeaseManagerBuilder;
use tokio_util::sync::CancellationToken;

use crate::controller::{Scope, run_controller};
use crate::error::{Error, Result};

/// How one operator instance runs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Namespaces whose Storefronts this instance reconciles.
    pub scope: Scope,
    /// This instance's identity in the Lease (the pod name in a cluster).
    pub identity: String,
    /// Namespace and name of the leader-election Lease.
    pub lease_namespace: String,
    pub lease_name: String,
    /// Lease duration, and how long before expiry the leader renews.
    pub lease_duration: Duration,
    pub lease_grace: Duration,
    /// Storefronts reconciled at once.
    pub concurrency: u16,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            scope: Scope::AllNamespaces,
            identity: "storefront-operator".into(),
            lease_namespace: "default".into(),
            lease_name: "storefront-operator".into(),
            lease_duration: Duration::from_secs(15),
            lease_grace: Duration::from_secs(5),
            concurrency: 16,
        }
    }
}

impl Settings {
    fn validate(&self) -> Result<()> {
        let (d, g) = (self.lease_duration.as_secs(), self.lease_grace.as_secs());
        if d == 0 || g == 0 || g >= d {
            return Err(Error::Setting {
                name: "lease duration/grace",
                reason: format!("need 0 < grace ({g}s) < duration ({d}s)"),
            });
        }
        if self.concurrency == 0 {
            return Err(Error::Setting {
                name: "concurrency",
                reason: "must be at least 1".into(),
            });
        }
        Ok(())
    }
}

/// Runs until `shutdown` is cancelled: waits to lead, runs the controller while leading, stops it
/// when the lease is lost and waits to lead again. On shutdown the lease is released so another
/// instance takes over at once.
pub async fn run(client: Client, settings: Settings, shutdown: CancellationToken) -> Result<()> {
    settings.validate()?;
    let manager = LeaseManagerBuilder::new(client.clone(), &settings.lease_name)
        .with_namespace(&settings.lease_namespace)
        .with_identity(&settings.identity)
        .with_duration(settings.lease_duration.as_secs())
        .with_grace(settings.lease_grace.as_secs())
        .build()
        .await?;
    let (mut leading, lease_task) = manager.watch().await;
    tracing::info!(identity = %settings.identity, lease = %settings.lease_name, "waiting for leadership");

    loop {
        // Wait until this instance leads (or shutdown).
        while !*leading.borrow_and_update() {
            tokio::select! {
                _ = shutdown.cancelled() => return release(leading, lease_task).await,
                changed = leading.changed() => {
                    if changed.is_err() {
                        return lease_ended(lease_task).await;
                    }
                }
            }
        }
        tracing::info!(identity = %settings.identity, "leading: starting the controller");
        metrics::gauge!(crate::metrics::LEADER).set(1.0);
        let term = shutdown.child_token();
        let controller = tokio::spawn(run_controller(
            client.clone(),
            settings.scope.clone(),
            settings.identity.clone(),
            settings.concurrency,
            term.clone(),
        ));
        // Lead until the lease is lost or shutdown.
        let lost_channel = loop {
            tokio::select! {
                _ = shutdown.cancelled() => break false,
                changed = leading.changed() => {
                    if changed.is_err() {
                        break true;
                    }
                    if !*leading.borrow_and_update() {
                        break false;
                    }
                }
            }
        };
        term.cancel();
        if let Err(e) = controller.await {
            tracing::error!(error = %e, "controller task failed");
        }
        metrics::gauge!(crate::metrics::LEADER).set(0.0);
        if lost_channel {
            return lease_ended(lease_task).await;
        }
        if shutdown.is_cancelled() {
            return release(leading, lease_task).await;
        }
        tracing::warn!(identity = %settings.identity, "lost leadership: controller stopped");
    }
}

/// Closes the lease channel, which makes the lease manager release the lock and exit.
async fn release(
    leading: tokio::sync::watch::Receiver<bool>,
    lease_task: tokio::task::JoinHandle<
        kube_lease_manager::Result<kube_lease_manager::LeaseManager>,
    >,
) -> Result<()> {
    drop(leading);
    lease_ended(lease_task).await
}

async fn lease_ended(
    lease_task: tokio::task::JoinHandle<
        kube_lease_manager::Result<kube_lease_manager::LeaseManager>,
    >,
) -> Result<()> {
    match lease_task.await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.into()),
        Err(e) => Err(Error::Setting {
            name: "lease manager",
            reason: e.to_string(),
        }),
    }
}
