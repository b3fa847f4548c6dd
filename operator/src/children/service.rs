//! ClusterIP Services in front of the components and headless Services of the managed data stores.

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::component::{Component, Database, HTTP_PORT};
use crate::crd::Storefront;
use crate::meta::{child_name, object_meta, selector_labels};

fn port(name: &str, port: i32) -> ServicePort {
    ServicePort {
        name: Some(name.into()),
        port,
        target_port: Some(IntOrString::String(name.into())),
        protocol: Some("TCP".into()),
        ..ServicePort::default()
    }
}

pub fn component_service(sf: &Storefront, component: Component) -> Service {
    let name = component.name();
    Service {
        metadata: object_meta(sf, child_name(sf, name), name, component.role()),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(selector_labels(sf, name)),
            ports: Some(vec![port("http", HTTP_PORT)]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

/// The headless Service that gives a managed store's pod its stable DNS name.
pub fn database_service(sf: &Storefront, db: Database) -> Service {
    let name = db.name();
    Service {
        metadata: object_meta(sf, child_name(sf, name), name, "database"),
        spec: Some(ServiceSpec {
            cluster_ip: Some("None".into()),
            selector: Some(selector_labels(sf, name)),
            ports: Some(vec![port(name, db.port())]),
            ..ServiceSpec::default()
        }),
        status: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::testing::minimal;

    #[test]
    fn component_service_targets_the_http_port_of_its_pods() {
        let s = component_service(&minimal(), Component::Users);
        let spec = s.spec.expect("spec");
        assert_eq!(spec.ports.expect("ports")[0].port, 8080);
        assert_eq!(
            spec.selector.expect("selector")["app.kubernetes.io/name"],
            "users"
        );
    }

    #[test]
    fn database_service_is_headless() {
        let s = database_service(&minimal(), Database::Postgres);
        assert_eq!(s.metadata.name.as_deref(), Some("shop-postgres"));
        let spec = s.spec.expect("spec");
        assert_eq!(spec.cluster_ip.as_deref(), Some("None"));
        assert_eq!(spec.ports.expect("ports")[0].port, 5432);
    }
}
