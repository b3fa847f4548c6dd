//! The Ingress for `spec.host`: the gateway routing table (`/api/<service>` → service, `/` → UI).

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};

use crate::component::{Component, HTTP_PORT};
use crate::crd::Storefront;
use kube::ResourceExt;

use crate::meta::{child_name, object_meta};

pub fn ingress(sf: &Storefront) -> Ingress {
    let spec = &sf.spec;
    let paths = Component::ALL
        .into_iter()
        .map(|component| HTTPIngressPath {
            path: Some(component.route().into()),
            path_type: "Prefix".into(),
            backend: IngressBackend {
                service: Some(IngressServiceBackend {
                    name: child_name(sf, component.name()),
                    port: Some(ServiceBackendPort {
                        number: Some(HTTP_PORT),
                        name: None,
                    }),
                }),
                resource: None,
            },
        })
        .collect();
    Ingress {
        metadata: object_meta(sf, sf.name_any(), "gateway", "gateway"),
        spec: Some(IngressSpec {
            ingress_class_name: spec.ingress.class_name.clone(),
            rules: Some(vec![IngressRule {
                host: Some(spec.host.clone()),
                http: Some(HTTPIngressRuleValue { paths }),
            }]),
            tls: spec.ingress.tls_secret_name.as_ref().map(|secret| {
                vec![IngressTLS {
                    hosts: Some(vec![spec.host.clone()]),
                    secret_name: Some(secret.clone()),
                }]
            }),
            default_backend: None,
        }),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::testing::{minimal, storefront};

    #[test]
    fn routes_api_prefixes_to_services_and_root_to_the_ui() {
        let ing = ingress(&minimal());
        assert_eq!(ing.metadata.name.as_deref(), Some("shop"));
        let rule = &ing
            .spec
            .as_ref()
            .and_then(|s| s.rules.clone())
            .expect("rules")[0];
        assert_eq!(rule.host.as_deref(), Some("shop.example.com"));
        let routes: Vec<(String, String)> = rule
            .http
            .as_ref()
            .expect("http")
            .paths
            .iter()
            .map(|p| {
                (
                    p.path.clone().unwrap_or_default(),
                    p.backend
                        .service
                        .as_ref()
                        .map(|s| s.name.clone())
                        .unwrap_or_default(),
                )
            })
            .collect();
        assert!(routes.contains(&("/api/users".into(), "shop-users".into())));
        assert!(routes.contains(&("/api/search".into(), "shop-search".into())));
        assert!(routes.contains(&("/".into(), "shop-store-ui".into())));
        assert!(ing.spec.and_then(|s| s.tls).is_none());
    }

    #[test]
    fn tls_secret_enables_https() {
        let sf = storefront(
            "version: \"1\"\nhost: a.example\ningress: {className: nginx, tlsSecretName: a-tls}\n",
        );
        let spec = ingress(&sf).spec.expect("spec");
        assert_eq!(spec.ingress_class_name.as_deref(), Some("nginx"));
        assert_eq!(
            spec.tls.expect("tls")[0].secret_name.as_deref(),
            Some("a-tls")
        );
        assert_eq!(sf.spec.url(), "https://a.example");
    }
}
