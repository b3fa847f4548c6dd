//! HorizontalPodAutoscalers and PodDisruptionBudgets of the components.
//!
//! An HPA scales on CPU utilisation and, when `targetRequestsPerSecond` is set, also on the
//! per-pod request rate (the Pods metric [`REQUESTS_PER_SECOND`], served by the custom metrics
//! API); the HPA takes the larger of the replica counts the two metrics ask for.

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec,
    MetricIdentifier, MetricSpec, MetricTarget, PodsMetricSource, ResourceMetricSource,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::component::Component;
use crate::crd::{Autoscaling, Storefront};
use crate::meta::{child_name, label_selector, object_meta};

/// Name of the custom Pods metric of a pod's HTTP request rate (prometheus-adapter derives it
/// from the `http_requests_total` counter every service exports).
pub const REQUESTS_PER_SECOND: &str = "http_requests_per_second";

/// Lower replica bound: the declared one, else the component's default, never above the upper.
pub fn min_replicas(component: Component, autoscaling: &Autoscaling) -> i32 {
    autoscaling
        .min_replicas
        .unwrap_or_else(|| component.default_min_replicas())
        .min(autoscaling.max_replicas)
}

fn metrics(autoscaling: &Autoscaling) -> Vec<MetricSpec> {
    let mut metrics = vec![MetricSpec {
        type_: "Resource".into(),
        resource: Some(ResourceMetricSource {
            name: "cpu".into(),
            target: MetricTarget {
                type_: "Utilization".into(),
                average_utilization: Some(autoscaling.target_cpu_utilization),
                ..MetricTarget::default()
            },
        }),
        ..MetricSpec::default()
    }];
    if let Some(rps) = autoscaling.target_requests_per_second {
        metrics.push(MetricSpec {
            type_: "Pods".into(),
            pods: Some(PodsMetricSource {
                metric: MetricIdentifier {
                    name: REQUESTS_PER_SECOND.into(),
                    selector: None,
                },
                target: MetricTarget {
                    type_: "AverageValue".into(),
                    average_value: Some(Quantity(rps.to_string())),
                    ..MetricTarget::default()
                },
            }),
            ..MetricSpec::default()
        });
    }
    metrics
}

/// An HPA on CPU utilisation (and the request rate, when targeted), when the component declares
/// autoscaling.
pub fn hpa(sf: &Storefront, component: Component) -> Option<HorizontalPodAutoscaler> {
    let autoscaling = component.spec(&sf.spec).autoscaling.as_ref()?;
    let name = component.name();
    Some(HorizontalPodAutoscaler {
        metadata: object_meta(sf, child_name(sf, name), name, component.role()),
        spec: HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: child_name(sf, name),
            },
            min_replicas: Some(min_replicas(component, autoscaling)),
            max_replicas: autoscaling.max_replicas,
            metrics: Some(metrics(autoscaling)),
            behavior: None,
        },
        status: None,
    })
}

/// At most one pod of a component down for voluntary disruptions (node drains): with two or more
/// replicas (the autoscaled APIs' floor) at least one keeps serving throughout a drain, and a
/// single-replica component never blocks one. A `minAvailable` would deadlock drains at one
/// replica and, as a percentage, round to zero protection at two.
pub fn pdb(sf: &Storefront, component: Component) -> PodDisruptionBudget {
    let name = component.name();
    PodDisruptionBudget {
        metadata: object_meta(sf, child_name(sf, name), name, component.role()),
        spec: Some(PodDisruptionBudgetSpec {
            max_unavailable: Some(IntOrString::Int(1)),
            selector: Some(label_selector(sf, name)),
            ..PodDisruptionBudgetSpec::default()
        }),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::testing::{minimal, storefront};

    #[test]
    fn hpa_only_for_autoscaled_components_with_declared_bounds() {
        assert!(hpa(&minimal(), Component::Cart).is_none());
        let sf = storefront(
            "version: \"1\"\nhost: a.example\ncomponents:\n  cart:\n    autoscaling: {minReplicas: 2, maxReplicas: 9, targetCpuUtilization: 60}\n",
        );
        let spec = hpa(&sf, Component::Cart).expect("hpa").spec;
        assert_eq!((spec.min_replicas, spec.max_replicas), (Some(2), 9));
        assert_eq!(spec.scale_target_ref.name, "shop-cart");
        let target = &spec.metrics.expect("metrics")[0];
        assert_eq!(
            target
                .resource
                .as_ref()
                .and_then(|r| r.target.average_utilization),
            Some(60)
        );
    }

    #[test]
    fn requests_per_second_adds_a_pods_metric_next_to_cpu() {
        let sf = storefront(
            "version: \"1\"\nhost: a.example\ncomponents:\n  search:\n    autoscaling: {maxReplicas: 8, targetRequestsPerSecond: 150}\n",
        );
        let spec = hpa(&sf, Component::Search).expect("hpa").spec;
        let metrics = spec.metrics.expect("metrics");
        assert_eq!(metrics.len(), 2);
        assert_eq!(metrics[0].type_, "Resource");
        assert_eq!(
            metrics[0]
                .resource
                .as_ref()
                .and_then(|r| r.target.average_utilization),
            Some(80)
        );
        let pods = metrics[1].pods.as_ref().expect("pods metric");
        assert_eq!(metrics[1].type_, "Pods");
        assert_eq!(pods.metric.name, REQUESTS_PER_SECOND);
        assert_eq!(pods.target.type_, "AverageValue");
        assert_eq!(pods.target.average_value, Some(Quantity("150".into())));
        // Unset minReplicas: two for an API, so a drain never empties it.
        assert_eq!(spec.min_replicas, Some(2));
    }

    #[test]
    fn default_floor_is_two_for_apis_one_for_the_ui_and_never_above_the_ceiling() {
        let sf = storefront(
            "version: \"1\"\nhost: a.example\ncomponents:\n  cart: {autoscaling: {maxReplicas: 5}}\n  storeUi: {autoscaling: {maxReplicas: 5}}\n  users: {autoscaling: {maxReplicas: 1}}\n  catalog: {autoscaling: {minReplicas: 3, maxReplicas: 5}}\n",
        );
        let min = |c| hpa(&sf, c).expect("hpa").spec.min_replicas;
        assert_eq!(min(Component::Cart), Some(2));
        assert_eq!(min(Component::StoreUi), Some(1));
        assert_eq!(min(Component::Users), Some(1));
        assert_eq!(min(Component::Catalog), Some(3));
        let cpu_only = hpa(&sf, Component::Cart).expect("hpa").spec.metrics;
        assert_eq!(cpu_only.map(|m| m.len()), Some(1));
    }

    /// Pods a drain may evict at once under the budget, for `replicas` healthy pods (the
    /// disruption controller's arithmetic for an integer `maxUnavailable`).
    fn allowed_disruptions(spec: &PodDisruptionBudgetSpec, replicas: i32) -> i32 {
        match (&spec.max_unavailable, &spec.min_available) {
            (Some(IntOrString::Int(max)), None) => (*max).min(replicas),
            (None, Some(IntOrString::Int(min))) => (replicas - min).max(0),
            other => panic!("unexpected budget {other:?}"),
        }
    }

    #[test]
    fn pdb_keeps_a_pod_serving_during_drains_and_never_blocks_them() {
        let sf = storefront(
            "version: \"1\"\nhost: a.example\ncomponents:\n  cart: {autoscaling: {maxReplicas: 6}}\n",
        );
        let floor = hpa(&sf, Component::Cart)
            .and_then(|h| h.spec.min_replicas)
            .expect("floor");
        let spec = pdb(&sf, Component::Cart).spec.expect("spec");
        for replicas in 1..=10 {
            let allowed = allowed_disruptions(&spec, replicas);
            assert!(
                allowed >= 1,
                "a drain is never blocked ({replicas} replicas)"
            );
            if replicas >= floor {
                assert!(
                    replicas - allowed >= 1,
                    "{replicas} replicas keep one serving"
                );
            }
        }
    }

    #[test]
    fn pdb_allows_one_disruption() {
        let spec = pdb(&minimal(), Component::Search).spec.expect("spec");
        assert_eq!(spec.max_unavailable, Some(IntOrString::Int(1)));
        assert!(spec.min_available.is_none());
    }
}
