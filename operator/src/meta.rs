//! Names, labels and owner references shared by every child object.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta, OwnerReference};
use kube::{Resource, ResourceExt};

use crate::crd::Storefront;

/// Field manager of every server-side apply, and `app.kubernetes.io/managed-by` value.
pub const MANAGER: &str = "storefront-operator";
/// `app.kubernetes.io/part-of` value.
pub const PART_OF: &str = "storefront";
/// Label selector matching every object this operator manages (used to scope its watches).
pub const MANAGED_SELECTOR: &str = "app.kubernetes.io/managed-by=storefront-operator";

pub const LABEL_NAME: &str = "app.kubernetes.io/name";
pub const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
pub const LABEL_COMPONENT: &str = "app.kubernetes.io/component";
pub const LABEL_PART_OF: &str = "app.kubernetes.io/part-of";
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// Name of a child object: `<storefront>-<suffix>`.
pub fn child_name(sf: &Storefront, suffix: &str) -> String {
    format!("{}-{suffix}", sf.name_any())
}

/// Labels that select the pods of one workload (`name` + `instance`); stable for its lifetime.
pub fn selector_labels(sf: &Storefront, name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (LABEL_NAME.to_string(), name.to_string()),
        (LABEL_INSTANCE.to_string(), sf.name_any()),
    ])
}

/// The full recommended label set.
pub fn labels(sf: &Storefront, name: &str, role: &str) -> BTreeMap<String, String> {
    let mut labels = selector_labels(sf, name);
    labels.insert(LABEL_COMPONENT.to_string(), role.to_string());
    labels.insert(LABEL_PART_OF.to_string(), PART_OF.to_string());
    labels.insert(LABEL_MANAGED_BY.to_string(), MANAGER.to_string());
    labels
}

pub fn label_selector(sf: &Storefront, name: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(selector_labels(sf, name)),
        ..LabelSelector::default()
    }
}

/// The controller owner reference pointing at the Storefront, so children are garbage-collected
/// with it and their changes wake the controller.
pub fn owner_reference(sf: &Storefront) -> OwnerReference {
    OwnerReference {
        api_version: Storefront::api_version(&()).into_owned(),
        kind: Storefront::kind(&()).into_owned(),
        name: sf.name_any(),
        uid: sf.metadata.uid.clone().unwrap_or_default(),
        controller: Some(true),
        block_owner_deletion: Some(true),
    }
}

/// Metadata of a child object: name, namespace, labels and owner reference.
pub fn object_meta(sf: &Storefront, object_name: String, name: &str, role: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(object_name),
        namespace: sf.namespace(),
        labels: Some(labels(sf, name, role)),
        owner_references: Some(vec![owner_reference(sf)]),
        ..ObjectMeta::default()
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A Storefront fixture for the builders' unit tests.
    use super::*;
    use crate::crd::StorefrontSpec;

    pub fn storefront(spec_yaml: &str) -> Storefront {
        let spec: StorefrontSpec = serde_yaml::from_str(spec_yaml).expect("valid spec");
        let mut sf = Storefront::new("shop", spec);
        sf.metadata.namespace = Some("team-a".into());
        sf.metadata.uid = Some("0f7c1e9a-2d5b-4c1e-9a8b-1234567890ab".into());
        sf.metadata.generation = Some(3);
        sf
    }

    pub fn minimal() -> Storefront {
        storefront("version: \"1.4.0\"\nhost: shop.example.com\n")
    }
}

#[cfg(test)]
mod tests {
    use super::testing::minimal;
    use super::*;

    #[test]
    fn object_meta_carries_recommended_labels_and_controller_owner() {
        let sf = minimal();
        let meta = object_meta(&sf, child_name(&sf, "cart"), "cart", "api");
        let labels = meta.labels.expect("labels");
        for key in [
            LABEL_NAME,
            LABEL_INSTANCE,
            LABEL_COMPONENT,
            LABEL_PART_OF,
            LABEL_MANAGED_BY,
        ] {
            assert!(labels.contains_key(key), "missing {key}");
        }
        assert_eq!(meta.name.as_deref(), Some("shop-cart"));
        assert_eq!(meta.namespace.as_deref(), Some("team-a"));
        let owner = &meta.owner_references.expect("owner")[0];
        assert_eq!(owner.kind, "Storefront");
        assert_eq!(owner.api_version, "storefront.dev/v1alpha1");
        assert_eq!(owner.controller, Some(true));
        assert_eq!(owner.uid, "0f7c1e9a-2d5b-4c1e-9a8b-1234567890ab");
    }
}
