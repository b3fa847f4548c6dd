//! Renders the CRD manifests committed under `crds/`.

use kube::CustomResourceExt;

use crate::crd::Storefront;

/// The `Storefront` CRD as YAML, exactly as committed in `crds/storefront.yaml`. Keys are sorted, so
/// the text does not depend on whether a build orders JSON maps by insertion (serde_json's
/// `preserve_order`, which other crates of the workspace turn on) or by key.
pub fn crd_yaml() -> Result<String, serde_yaml::Error> {
    let crd = serde_json::to_value(Storefront::crd())
        .map_err(<serde_yaml::Error as serde::ser::Error>::custom)?;
    serde_yaml::to_string(&sorted(crd))
}

fn sorted(value: serde_json::Value) -> serde_yaml::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_yaml::Value::Mapping(
                entries
                    .into_iter()
                    .map(|(k, v)| (serde_yaml::Value::String(k), sorted(v)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_yaml::Value::Sequence(items.into_iter().map(sorted).collect())
        }
        other => serde_yaml::to_value(other).unwrap_or(serde_yaml::Value::Null),
    }
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
