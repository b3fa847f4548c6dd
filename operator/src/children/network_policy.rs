//! NetworkPolicies: each managed data store accepts connections only from the components that own
//! data in it.

use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer, NetworkPolicyPort,
    NetworkPolicySpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::children::database::managed;
use crate::component::Database;
use crate::crd::Storefront;
use crate::meta::{child_name, label_selector, object_meta, selector_labels};

/// The policy guarding a managed store; `None` for an external one.
pub fn database_policy(sf: &Storefront, db: Database) -> Option<NetworkPolicy> {
    managed(sf, db)?;
    let name = db.name();
    let mut clients: Vec<&str> = db.owners().iter().map(|owner| owner.name()).collect();
    // Backup Jobs read every store but the search engine (rebuilt from the catalog).
    if sf.spec.backups.is_some() && db != Database::Opensearch {
        clients.push(crate::children::backup::NAME);
    }
    let from = clients
        .into_iter()
        .map(|client| NetworkPolicyPeer {
            pod_selector: Some(LabelSelector {
                match_labels: Some(selector_labels(sf, client)),
                ..LabelSelector::default()
            }),
            ..NetworkPolicyPeer::default()
        })
        .collect();
    Some(NetworkPolicy {
        metadata: object_meta(sf, child_name(sf, name), name, "database"),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(label_selector(sf, name)),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(vec![NetworkPolicyIngressRule {
                from: Some(from),
                ports: Some(vec![NetworkPolicyPort {
                    port: Some(IntOrString::Int(db.port())),
                    protocol: Some("TCP".into()),
                    end_port: None,
                }]),
            }]),
            egress: None,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::testing::minimal;

    fn allowed(db: Database) -> Vec<String> {
        allowed_in(&minimal(), db)
    }

    fn allowed_in(sf: &Storefront, db: Database) -> Vec<String> {
        let spec = database_policy(sf, db).and_then(|p| p.spec).expect("spec");
        spec.ingress.expect("ingress")[0]
            .from
            .as_ref()
            .expect("from")
            .iter()
            .filter_map(|peer| peer.pod_selector.as_ref()?.match_labels.as_ref())
            .map(|l| l["app.kubernetes.io/name"].clone())
            .collect()
    }

    #[test]
    fn each_store_admits_only_its_owners() {
        assert_eq!(allowed(Database::Postgres), ["users", "cart", "catalog"]);
        assert_eq!(allowed(Database::Redis), ["cart"]);
        assert_eq!(allowed(Database::Mongodb), ["catalog"]);
        assert_eq!(allowed(Database::Opensearch), ["search"]);
    }

    #[test]
    fn with_backups_the_backup_pods_reach_every_store_but_search() {
        let sf = crate::meta::testing::storefront(
            "version: \"1\"\nhost: a.example\nbackups:\n  schedule: \"@daily\"\n  target:\n    pvc: {claimName: b}\n",
        );
        assert_eq!(allowed_in(&sf, Database::Redis), ["cart", "backup"]);
        assert_eq!(allowed_in(&sf, Database::Mongodb), ["catalog", "backup"]);
        assert!(allowed_in(&sf, Database::Postgres).contains(&"backup".to_string()));
        assert_eq!(allowed_in(&sf, Database::Opensearch), ["search"]);
    }

    #[test]
    fn policy_selects_the_store_pods_on_its_port() {
        let spec = database_policy(&minimal(), Database::Redis)
            .and_then(|p| p.spec)
            .expect("spec");
        let selected = spec
            .pod_selector
            .and_then(|s| s.match_labels)
            .expect("labels");
        assert_eq!(selected["app.kubernetes.io/name"], "redis");
        assert_eq!(selected["app.kubernetes.io/instance"], "shop");
        let port = &spec.ingress.expect("ingress")[0]
            .ports
            .clone()
            .expect("ports")[0];
        assert_eq!(port.port, Some(IntOrString::Int(6379)));
    }
}
