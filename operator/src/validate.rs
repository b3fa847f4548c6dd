//! Checks of a spec beyond what the CRD schema can enforce (and a second line of defence for
//! objects stored before a schema rule existed). Pure: returns every problem at once.

use kube::ResourceExt;

use crate::component::{Component, Database};
use crate::crd::Storefront;

/// Longest Storefront name: children are `<name>-<suffix>` and must stay valid DNS labels.
pub const MAX_NAME_LEN: usize = 40;

pub fn validate(sf: &Storefront) -> Result<(), String> {
    let spec = &sf.spec;
    let mut problems = Vec::new();
    if sf.name_any().len() > MAX_NAME_LEN {
        problems.push(format!(
            "metadata.name must be at most {MAX_NAME_LEN} characters: children are named <name>-<component>"
        ));
    }
    if spec.version.trim().is_empty() {
        problems.push("spec.version must not be empty".to_string());
    }
    if spec.host.trim().is_empty() {
        problems.push("spec.host must not be empty".to_string());
    }
    for component in Component::ALL {
        let c = component.spec(spec);
        let path = format!("spec.components.{}", component.name());
        if c.replicas.is_some() && c.autoscaling.is_some() {
            problems.push(format!(
                "{path}: set either replicas or autoscaling, not both"
            ));
        }
        if let Some(a) = &c.autoscaling
            && let Some(min) = a.min_replicas
            && min > a.max_replicas
        {
            problems.push(format!(
                "{path}.autoscaling: minReplicas ({min}) exceeds maxReplicas ({})",
                a.max_replicas
            ));
        }
    }
    for db in Database::ALL {
        let d = db.spec(spec);
        if d.managed.is_some() == d.external.is_some() {
            problems.push(format!(
                "spec.databases.{}: set exactly one of managed or external",
                db.name()
            ));
        }
    }
    if let Some(backups) = &spec.backups {
        if let Err(e) = crate::schedule::longest_gap(&backups.schedule) {
            problems.push(format!("spec.backups.schedule: {e}"));
        }
        if backups.target.s3.is_some() == backups.target.pvc.is_some() {
            problems.push("spec.backups.target: set exactly one of s3 or pvc".to_string());
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::testing::{minimal, storefront};

    #[test]
    fn minimal_spec_is_valid() {
        assert_eq!(validate(&minimal()), Ok(()));
    }

    #[test]
    fn shipped_examples_are_valid() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).expect("examples/") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("read");
            let sf: Storefront =
                serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(validate(&sf), Ok(()), "{}", path.display());
            seen += 1;
        }
        assert!(seen >= 2);
    }

    #[test]
    fn every_problem_is_reported() {
        let mut sf = storefront(
            "version: \"1\"\nhost: a.example\ncomponents:\n  cart:\n    replicas: 2\n    autoscaling: {minReplicas: 5, maxReplicas: 3}\n",
        );
        sf.spec.databases.redis.managed = None;
        sf.metadata.name = Some("a-store-name-that-is-far-too-long-for-children".into());
        let err = validate(&sf).expect_err("invalid");
        assert!(err.contains("metadata.name must be at most 40"), "{err}");
        assert!(
            err.contains("spec.components.cart: set either replicas or autoscaling"),
            "{err}"
        );
        assert!(
            err.contains("minReplicas (5) exceeds maxReplicas (3)"),
            "{err}"
        );
        assert!(
            err.contains("spec.databases.redis: set exactly one"),
            "{err}"
        );
    }
}
