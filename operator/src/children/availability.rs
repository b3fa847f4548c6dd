//! HorizontalPodAutoscalers and PodDisruptionBudgets of the components.

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::component::Component;
use crate::crd::Storefront;
use crate::meta::{child_name, label_selector, object_meta};

/// An HPA on CPU utilisation, when the component declares autoscaling.
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
            min_replicas: Some(autoscaling.min_replicas),
            max_replicas: autoscaling.max_replicas,
            metrics: Some(vec![MetricSpec {
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
            }]),
            behavior: None,
        },
        status: None,
    })
}

/// At most one pod of a component down for voluntary disruptions (node drains), which never
/// blocks a drain even at one replica.
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
    fn pdb_allows_one_disruption() {
        let spec = pdb(&minimal(), Component::Search).spec.expect("spec");
        assert_eq!(spec.max_unavailable, Some(IntOrString::Int(1)));
        assert!(spec.min_available.is_none());
    }
}
