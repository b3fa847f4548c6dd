//! Wires the reconciler into a kube-runtime `Controller` that watches Storefronts and every kind
//! of child (label-selected, so unrelated objects never enter the operator's memory).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::{Controller, controller, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use tokio_util::sync::CancellationToken;

use crate::crd::Storefront;
use crate::meta::{LABEL_INSTANCE, LABEL_NAME, MANAGED_SELECTOR};
use crate::metrics as m;
use crate::reconcile::{Context, error_policy, reconcile};
use crate::store_metrics::StoreGauges;

/// Which namespaces the controller watches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Scope {
    #[default]
    AllNamespaces,
    Namespace(String),
}

impl Scope {
    fn api<K>(&self, client: &Client) -> Api<K>
    where
        K: Resource<DynamicType = (), Scope = NamespaceResourceScope>,
    {
        match self {
            Scope::AllNamespaces => Api::all(client.clone()),
            Scope::Namespace(ns) => Api::namespaced(client.clone(), ns),
        }
    }
}

/// Runs the controller until `shutdown` is cancelled, then lets in-flight reconciles finish.
pub async fn run_controller(
    client: Client,
    scope: Scope,
    identity: String,
    concurrency: u16,
    shutdown: CancellationToken,
) {
    let children = watcher::Config::default()
        .labels(MANAGED_SELECTOR)
        .any_semantic();
    let ctx = Arc::new(Context::new(client.clone(), &identity));
    let controller = Controller::new(
        scope.api::<Storefront>(&client),
        watcher::Config::default().any_semantic(),
    )
    .owns(scope.api::<Secret>(&client), children.clone())
    .owns(scope.api::<ConfigMap>(&client), children.clone())
    .owns(scope.api::<StatefulSet>(&client), children.clone())
    .owns(scope.api::<Service>(&client), children.clone())
    .owns(scope.api::<Deployment>(&client), children.clone())
    .owns(
        scope.api::<HorizontalPodAutoscaler>(&client),
        children.clone(),
    )
    .owns(scope.api::<PodDisruptionBudget>(&client), children.clone())
    .owns(scope.api::<NetworkPolicy>(&client), children.clone())
    .owns(scope.api::<Ingress>(&client), children.clone())
    .owns(scope.api::<CronJob>(&client), children)
    // Backup Jobs belong to their CronJobs; a finished one re-judges BackupHealthy.
    .watches(
        scope.api::<Job>(&client),
        watcher::Config::default()
            .labels(&format!(
                "{MANAGED_SELECTOR},{LABEL_NAME}={}",
                crate::children::backup::NAME
            ))
            .any_semantic(),
        |job| {
            let instance = job.labels().get(LABEL_INSTANCE)?.clone();
            Some(ObjectRef::new(&instance).within(&job.namespace()?))
        },
    )
    .with_config(
        controller::Config::default()
            .concurrency(concurrency)
            .debounce(Duration::from_secs(1)),
    )
    .graceful_shutdown_on(shutdown.clone().cancelled_owned());
    let store = controller.store();

    // Queue depth: Storefronts whose current generation has not been reconciled yet; and each
    // Storefront's readiness and backups, for alerts.
    let depth = tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            let mut tick = tokio::time::interval(Duration::from_secs(2));
            let mut gauges = StoreGauges::default();
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tick.tick() => {
                        let storefronts = store.state();
                        gauges.record(&storefronts);
                        let pending = storefronts
                            .iter()
                            .filter(|sf| sf.status.as_ref().and_then(|s| s.observed_generation) != sf.metadata.generation)
                            .count();
                        metrics::gauge!(m::QUEUE_DEPTH).set(pending as f64);
                    }
                }
            }
        }
    });

    controller
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            match result {
                Ok((obj, _)) => tracing::debug!(storefront = %obj, "reconciled"),
                Err(controller::Error::ReconcilerFailed(e, obj)) => {
                    tracing::debug!(storefront = %obj, error = %e, "reconcile failed; backing off");
                }
                Err(e) => tracing::warn!(error = %e, "controller error"),
            }
        })
        .await;
    depth.abort();
}
