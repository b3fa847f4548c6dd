//! Renders the CRD manifests committed under `crds/`.

use kube::CustomResourceExt;

use crate::crd::Storefront;

/// The `Storefront` CRD as YAML, exactly as committed in `crds/storefront.yaml`.
pub fn crd_yaml() -> Result<String, serde_yaml::Error> {
    serde_yaml::to_string(&Storefront::crd())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_crd_is_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../crds/storefront.yaml");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        let generated = crd_yaml().expect("CRD serialises");
        assert!(
            committed == generated,
            "crds/storefront.yaml is stale: run `cargo run -p storefront-operator --bin crdgen > crds/storefront.yaml`"
        );
    }
}
