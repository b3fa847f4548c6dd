//! The Deployment of each application component: image, probes, resources, hardened security context.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, Container, ContainerPort, EmptyDirVolumeSource, HTTPGetAction, Lifecycle,
    LifecycleHandler, PodSecurityContext, PodSpec, PodTemplateSpec, Probe, ResourceRequirements,
    SeccompProfile, SecurityContext, SleepAction, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::children::env::component_env;
use crate::component::{Component, HTTP_PORT};
use crate::crd::{ResourceAmounts, Storefront};
use crate::meta::{child_name, label_selector, labels, object_meta};
use crate::rollout::VERSION_ANNOTATION;

/// Default registry of the component images.
pub const DEFAULT_REGISTRY: &str = "ghcr.io/storefront";
/// Unprivileged user the component images run as.
const RUN_AS: i64 = 65532;
/// How long a terminating pod keeps serving before it is signalled: Services and proxies stop
/// sending it new requests meanwhile, so a rollout or an eviction drops none.
const DRAIN_SECONDS: i64 = 5;

/// `<registry>/<component>:<version>` of the release `spec.version`.
pub fn image(sf: &Storefront, component: Component) -> String {
    image_of(sf, component, &sf.spec.version)
}

/// `<registry>/<component>:<version>`.
pub fn image_of(sf: &Storefront, component: Component, version: &str) -> String {
    let registry = sf
        .spec
        .image
        .registry
        .as_deref()
        .unwrap_or(DEFAULT_REGISTRY)
        .trim_end_matches('/');
    format!("{registry}/{}:{version}", component.name())
}

/// Replicas the Deployment declares; `None` when an HPA owns the count.
pub fn replicas(sf: &Storefront, component: Component) -> Option<i32> {
    let spec = component.spec(&sf.spec);
    match spec.autoscaling {
        Some(_) => None,
        None => Some(spec.replicas.unwrap_or(1)),
    }
}

fn amounts(a: &ResourceAmounts) -> Option<BTreeMap<String, Quantity>> {
    let map: BTreeMap<String, Quantity> = [("cpu", &a.cpu), ("memory", &a.memory)]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), Quantity(v.clone()))))
        .collect();
    (!map.is_empty()).then_some(map)
}

/// Declared resources, or modest defaults (requests set so HPAs have a base, memory capped).
pub fn resources(sf: &Storefront, component: Component) -> ResourceRequirements {
    let declared = component.spec(&sf.spec).resources.as_ref();
    let requests = declared
        .and_then(|r| r.requests.as_ref())
        .and_then(amounts)
        .unwrap_or_else(|| {
            BTreeMap::from([
                ("cpu".to_string(), Quantity("100m".into())),
                ("memory".to_string(), Quantity("128Mi".into())),
            ])
        });
    let limits = declared
        .and_then(|r| r.limits.as_ref())
        .and_then(amounts)
        .unwrap_or_else(|| BTreeMap::from([("memory".to_string(), Quantity("256Mi".into()))]));
    ResourceRequirements {
        requests: Some(requests),
        limits: Some(limits),
        ..ResourceRequirements::default()
    }
}

fn http_probe(path: &str, period: i32, failures: i32) -> Probe {
    Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String("http".into()),
            ..HTTPGetAction::default()
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(2),
        failure_threshold: Some(failures),
        ..Probe::default()
    }
}

/// Non-root, no privilege escalation, read-only root file system, no capabilities.
pub fn container_security_context() -> SecurityContext {
    SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            add: None,
        }),
        ..SecurityContext::default()
    }
}

fn pod_security_context() -> PodSecurityContext {
    PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(RUN_AS),
        run_as_group: Some(RUN_AS),
        fs_group: Some(RUN_AS),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            localhost_profile: None,
        }),
        ..PodSecurityContext::default()
    }
}

/// The component's Deployment on the release `spec.version`.
pub fn deployment(sf: &Storefront, component: Component) -> Deployment {
    deployment_at(sf, component, &sf.spec.version)
}

/// The component's Deployment on `version`: the rest of the spec as declared, the image (and the
/// `storefront.dev/version` annotation) of the given release, which lags behind `spec.version`
/// while an upgrade has not reached the component yet (see [`crate::rollout`]).
pub fn deployment_at(sf: &Storefront, component: Component, version: &str) -> Deployment {
    let name = component.name();
    let mut metadata = object_meta(sf, child_name(sf, name), name, component.role());
    metadata.annotations = Some(BTreeMap::from([(
        VERSION_ANNOTATION.to_string(),
        version.to_string(),
    )]));
    let container = Container {
        name: name.into(),
        image: Some(image_of(sf, component, version)),
        image_pull_policy: sf.spec.image.pull_policy.map(|p| p.as_str().to_string()),
        ports: Some(vec![ContainerPort {
            name: Some("http".into()),
            container_port: HTTP_PORT,
            protocol: Some("TCP".into()),
            ..ContainerPort::default()
        }]),
        env: Some(component_env(sf, component)),
        liveness_probe: Some(http_probe("/healthz", 10, 3)),
        readiness_probe: Some(http_probe("/readyz", 5, 3)),
        lifecycle: Some(Lifecycle {
            pre_stop: Some(LifecycleHandler {
                sleep: Some(SleepAction {
                    seconds: DRAIN_SECONDS,
                }),
                ..LifecycleHandler::default()
            }),
            ..Lifecycle::default()
        }),
        resources: Some(resources(sf, component)),
        security_context: Some(container_security_context()),
        // A writable scratch directory; the root file system is read-only.
        volume_mounts: Some(vec![VolumeMount {
            name: "tmp".into(),
            mount_path: "/tmp".into(),
            ..VolumeMount::default()
        }]),
        ..Container::default()
    };
    Deployment {
        metadata,
        spec: DeploymentSpec {
            replicas: replicas(sf, component),
            progress_deadline_seconds: Some(sf.spec.rollout.progress_deadline_seconds),
            selector: label_selector(sf, name),
            revision_history_limit: Some(5),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(sf, name, component.role())),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    automount_service_account_token: Some(false),
                    enable_service_links: Some(false),
                    security_context: Some(pod_security_context()),
                    termination_grace_period_seconds: Some(30),
                    volumes: Some(vec![Volume {
                        name: "tmp".into(),
                        empty_dir: Some(EmptyDirVolumeSource::default()),
                        ..Volume::default()
                    }]),
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        },
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::testing::{minimal, storefront};

    fn container(d: &Deployment) -> &Container {
        &d.spec.template.spec.as_ref().expect("pod").containers[0]
    }

    #[test]
    fn component_runs_hardened_image_of_the_release_with_probes() {
        let d = deployment(&minimal(), Component::Catalog);
        assert_eq!(d.metadata.name.as_deref(), Some("shop-catalog"));
        let c = container(&d);
        assert_eq!(c.image.as_deref(), Some("ghcr.io/storefront/catalog:1.4.0"));
        let sc = c.security_context.as_ref().expect("security context");
        assert_eq!(sc.read_only_root_filesystem, Some(true));
        assert_eq!(sc.run_as_non_root, Some(true));
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(
            sc.capabilities.as_ref().and_then(|c| c.drop.clone()),
            Some(vec!["ALL".to_string()])
        );
        let path = |p: &Option<Probe>| {
            p.as_ref()
                .and_then(|p| p.http_get.as_ref())
                .and_then(|h| h.path.clone())
        };
        assert_eq!(path(&c.liveness_probe).as_deref(), Some("/healthz"));
        assert_eq!(path(&c.readiness_probe).as_deref(), Some("/readyz"));
        let drain = c
            .lifecycle
            .as_ref()
            .and_then(|l| l.pre_stop.as_ref())
            .and_then(|h| h.sleep.as_ref())
            .map(|s| s.seconds);
        assert_eq!(drain, Some(DRAIN_SECONDS));
        assert_eq!(d.spec.replicas, Some(1));
        let requests = c
            .resources
            .as_ref()
            .and_then(|r| r.requests.as_ref())
            .expect("requests");
        assert_eq!(requests["cpu"], Quantity("100m".into()));
    }

    #[test]
    fn declared_replicas_resources_and_registry_are_used() {
        let sf = storefront(
            "version: \"2.0.0\"\nhost: a.example\nimage: {registry: registry.local:5000/shop/, pullPolicy: IfNotPresent}\ncomponents:\n  cart:\n    replicas: 4\n    resources: {requests: {cpu: 500m}, limits: {cpu: \"2\", memory: 1Gi}}\n",
        );
        let d = deployment(&sf, Component::Cart);
        let c = container(&d);
        assert_eq!(
            c.image.as_deref(),
            Some("registry.local:5000/shop/cart:2.0.0")
        );
        assert_eq!(c.image_pull_policy.as_deref(), Some("IfNotPresent"));
        assert_eq!(d.spec.replicas, Some(4));
        let r = c.resources.as_ref().expect("resources");
        assert_eq!(r.requests.as_ref().map(|m| m.len()), Some(1));
        assert_eq!(
            r.limits.as_ref().expect("limits")["memory"],
            Quantity("1Gi".into())
        );
    }

    #[test]
    fn a_component_can_be_held_on_an_earlier_release() {
        let sf = storefront(
            "version: \"2.0.0\"\nhost: a.example\nrollout: {progressDeadlineSeconds: 45}\n",
        );
        let d = deployment_at(&sf, Component::Cart, "1.9.0");
        assert_eq!(
            container(&d).image.as_deref(),
            Some("ghcr.io/storefront/cart:1.9.0")
        );
        let annotations = d.metadata.annotations.as_ref().expect("annotations");
        assert_eq!(annotations[VERSION_ANNOTATION], "1.9.0");
        assert_eq!(d.spec.progress_deadline_seconds, Some(45));
        let current = deployment(&sf, Component::Cart);
        assert_eq!(
            container(&current).image.as_deref(),
            Some("ghcr.io/storefront/cart:2.0.0")
        );
        assert_eq!(
            deployment(&minimal(), Component::Cart)
                .spec
                .progress_deadline_seconds,
            Some(600)
        );
    }

    #[test]
    fn autoscaled_component_leaves_replicas_to_the_hpa() {
        let sf = storefront(
            "version: \"1\"\nhost: a.example\ncomponents:\n  search:\n    autoscaling: {minReplicas: 2, maxReplicas: 6}\n",
        );
        assert_eq!(replicas(&sf, Component::Search), None);
        assert_eq!(replicas(&sf, Component::Cart), Some(1));
    }

    #[test]
    fn pod_template_is_selected_by_the_deployment() {
        let d = deployment(&minimal(), Component::StoreUi);
        let spec = d.spec;
        let selector = spec.selector.match_labels.expect("labels");
        let pod_labels = spec
            .template
            .metadata
            .and_then(|m| m.labels)
            .expect("labels");
        for (k, v) in selector {
            assert_eq!(pod_labels.get(&k), Some(&v));
        }
    }
}
