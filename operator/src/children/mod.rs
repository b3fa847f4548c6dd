//! Pure builders of every object a Storefront owns. Nothing here talks to the API server, so each
//! builder is unit-tested on its own.

pub mod availability;
pub mod backup;
pub mod database;
pub mod deployment;
pub mod env;
pub mod ingress;
pub mod network_policy;
pub mod secret;
pub mod service;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;

use crate::component::{Component, Database};
use crate::crd::Storefront;
use crate::meta::child_name;

/// Everything a Storefront declares, in the order it is applied: configuration, data stores,
/// components, guards, routes.
#[derive(Clone, Debug, Default)]
pub struct Children {
    pub config_maps: Vec<ConfigMap>,
    pub stateful_sets: Vec<StatefulSet>,
    pub services: Vec<Service>,
    pub deployments: Vec<Deployment>,
    pub hpas: Vec<HorizontalPodAutoscaler>,
    pub pdbs: Vec<PodDisruptionBudget>,
    pub network_policies: Vec<NetworkPolicy>,
    pub ingresses: Vec<Ingress>,
    pub cron_jobs: Vec<CronJob>,
    /// Optional objects the spec no longer asks for (an HPA after autoscaling was removed, a
    /// StatefulSet after its store became external), by kind and name.
    pub absent: Vec<(ChildKind, String)>,
}

/// Kinds of optional children that can disappear when the spec changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildKind {
    ConfigMap,
    StatefulSet,
    Service,
    HorizontalPodAutoscaler,
    NetworkPolicy,
    CronJob,
}

impl Children {
    /// Number of objects to apply.
    pub fn len(&self) -> usize {
        self.config_maps.len()
            + self.stateful_sets.len()
            + self.services.len()
            + self.deployments.len()
            + self.hpas.len()
            + self.pdbs.len()
            + self.network_policies.len()
            + self.ingresses.len()
            + self.cron_jobs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Builds the desired children of a Storefront (Secrets aside: see [`secret`]).
pub fn desired(sf: &Storefront) -> Children {
    let mut children = Children::default();
    match database::postgres_init(sf) {
        Some(cm) => children.config_maps.push(cm),
        None => children
            .absent
            .push((ChildKind::ConfigMap, child_name(sf, "postgres-init"))),
    }
    for db in Database::ALL {
        let name = child_name(sf, db.name());
        match database::stateful_set(sf, db) {
            Some(sts) => {
                children.stateful_sets.push(sts);
                children.services.push(service::database_service(sf, db));
            }
            None => {
                children.absent.push((ChildKind::StatefulSet, name.clone()));
                children.absent.push((ChildKind::Service, name.clone()));
            }
        }
        match network_policy::database_policy(sf, db) {
            Some(np) => children.network_policies.push(np),
            None => children.absent.push((ChildKind::NetworkPolicy, name)),
        }
    }
    for component in Component::ALL {
        children
            .deployments
            .push(deployment::deployment(sf, component));
        children
            .services
            .push(service::component_service(sf, component));
        match availability::hpa(sf, component) {
            Some(hpa) => children.hpas.push(hpa),
            None => children.absent.push((
                ChildKind::HorizontalPodAutoscaler,
                child_name(sf, component.name()),
            )),
        }
        children.pdbs.push(availability::pdb(sf, component));
    }
    children.ingresses.push(ingress::ingress(sf));
    children.cron_jobs = backup::cron_jobs(sf);
    if children.cron_jobs.is_empty() {
        for db in backup::BackedUp::ALL {
            children
                .absent
                .push((ChildKind::CronJob, db.object_name(sf)));
        }
    }
    children
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::testing::{minimal, storefront};

    #[test]
    fn minimal_storefront_declares_every_child_with_an_owner() {
        let c = desired(&minimal());
        assert_eq!(c.stateful_sets.len(), 4);
        assert_eq!(c.deployments.len(), 5);
        assert_eq!(c.services.len(), 9);
        assert_eq!(c.pdbs.len(), 5);
        assert_eq!(c.network_policies.len(), 4);
        assert_eq!(c.ingresses.len(), 1);
        assert_eq!(c.config_maps.len(), 1);
        assert!(c.hpas.is_empty());
        assert_eq!(c.len(), 29);
        let metas = c
            .config_maps
            .iter()
            .map(|o| &o.metadata)
            .chain(c.stateful_sets.iter().map(|o| &o.metadata))
            .chain(c.services.iter().map(|o| &o.metadata))
            .chain(c.deployments.iter().map(|o| &o.metadata))
            .chain(c.pdbs.iter().map(|o| &o.metadata))
            .chain(c.network_policies.iter().map(|o| &o.metadata))
            .chain(c.ingresses.iter().map(|o| &o.metadata));
        for meta in metas {
            assert_eq!(
                meta.owner_references.as_ref().map(Vec::len),
                Some(1),
                "{:?}",
                meta.name
            );
            let labels = meta.labels.as_ref().expect("labels");
            assert_eq!(
                labels["app.kubernetes.io/managed-by"],
                "storefront-operator"
            );
            assert_eq!(labels["app.kubernetes.io/part-of"], "storefront");
            assert_eq!(labels["app.kubernetes.io/instance"], "shop");
        }
    }

    #[test]
    fn external_store_and_removed_autoscaling_are_listed_as_absent() {
        let sf = storefront(
            "version: \"1\"\nhost: a.example\ndatabases:\n  mongodb:\n    external:\n      secretRef: {name: atlas}\ncomponents:\n  cart:\n    autoscaling: {minReplicas: 1, maxReplicas: 3}\n",
        );
        let c = desired(&sf);
        assert_eq!(c.stateful_sets.len(), 3);
        assert_eq!(c.hpas.len(), 1);
        assert!(
            c.absent
                .contains(&(ChildKind::StatefulSet, "shop-mongodb".into()))
        );
        assert!(
            c.absent
                .contains(&(ChildKind::NetworkPolicy, "shop-mongodb".into()))
        );
        assert!(
            c.absent
                .contains(&(ChildKind::HorizontalPodAutoscaler, "shop-users".into()))
        );
        assert!(
            !c.absent
                .contains(&(ChildKind::HorizontalPodAutoscaler, "shop-cart".into()))
        );
    }
}
