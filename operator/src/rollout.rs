//! Ordered upgrades: a new `spec.version` reaches the components one at a time, in [`ORDER`].
//!
//! Each service runs its own database migrations when it starts, so a component is upgraded only
//! once every component before it runs the new version on all its replicas (its Deployment has
//! observed the latest spec and all replicas are updated and available). A component after
//! the one being upgraded keeps the version it runs. When the component being upgraded makes no
//! progress within `spec.rollout.progressDeadlineSeconds` (its Deployment reports
//! `Progressing=False` with reason `ProgressDeadlineExceeded`), the rollout has failed: it stops
//! there until `spec.version` changes again, which starts over from the first component.
//!
//! The version each component declares is recorded in `status.components[*].version` and in memory
//! ([`VersionBook`]), so an operator restart resumes the rollout where it stood.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::component::Component;
use crate::crd::{RolloutPhase, RolloutStatus, Storefront};
use crate::status::Workload;

/// Upgrade order: a component goes after the services it calls. users issues the tokens every
/// other service verifies; catalog verifies them; search follows catalog's change feed; cart
/// calls catalog (prices, stock) and users; the store UI calls all of them.
pub const ORDER: [Component; 5] = [
    Component::Users,
    Component::Catalog,
    Component::Search,
    Component::Cart,
    Component::StoreUi,
];

/// Annotation on each component Deployment: the release it declares.
pub const VERSION_ANNOTATION: &str = "storefront.dev/version";

/// Reason of a Deployment's `Progressing=False` condition once its progress deadline passed.
pub const DEADLINE_EXCEEDED: &str = "ProgressDeadlineExceeded";

/// Decides, component by component in [`ORDER`], which version each one declares.
#[derive(Debug)]
pub struct Planner<'a> {
    target: &'a str,
    /// Every component decided so far runs the target on all its replicas.
    earlier_done: bool,
    /// Components moved to the target by this plan.
    started: Vec<Component>,
}

impl<'a> Planner<'a> {
    pub fn new(target: &'a str) -> Self {
        Planner {
            target,
            earlier_done: true,
            started: Vec::new(),
        }
    }

    /// The version `component` declares, given the version it declared so far (`None`: it has
    /// none yet, e.g. a new store, and takes the target at once). Call in [`ORDER`], each time
    /// followed by [`Planner::observe`].
    pub fn version(&mut self, component: Component, declared: Option<&str>) -> String {
        match declared {
            None => self.target.to_string(),
            Some(v) if v == self.target => v.to_string(),
            Some(_) if self.earlier_done => {
                self.started.push(component);
                self.target.to_string()
            }
            Some(v) => v.to_string(),
        }
    }

    /// Takes what the component's Deployment reports after being applied with `version`.
    pub fn observe(&mut self, version: &str, workload: &Workload) {
        self.earlier_done = self.earlier_done && version == self.target && workload.rolled_out();
    }

    /// Components this plan moved from another version to the target.
    pub fn started(&self) -> &[Component] {
        &self.started
    }
}

/// True when no component declares a version other than `target`: nothing is rolling, so the
/// Deployments may be applied all at once.
pub fn settled(target: &str, declared: impl Fn(Component) -> Option<String>) -> bool {
    ORDER
        .iter()
        .all(|c| declared(*c).is_none_or(|v| v == target))
}

/// Where the rollout of `target` stands, from the component Deployments' reports and the previous
/// summary (which remembers the version the rollout replaces).
pub fn summarize(
    target: &str,
    workloads: &[Workload],
    previous: Option<&RolloutStatus>,
) -> RolloutStatus {
    let find = |c: Component| workloads.iter().find(|w| w.name == c.name());
    let done = |w: &Workload| w.version.as_deref() == Some(target) && w.rolled_out();
    let updated = ORDER.iter().filter(|c| find(**c).is_some_and(done)).count() as i32;
    let total = ORDER.len() as i32;
    let pending = ORDER.iter().copied().find(|c| !find(*c).is_some_and(done));
    let (component, phase, message) = match pending {
        None => (
            None,
            RolloutPhase::Complete,
            format!("every component runs {target}"),
        ),
        Some(c) => match find(c) {
            None => (
                Some(c),
                RolloutPhase::Progressing,
                format!("waiting for the {} Deployment", c.name()),
            ),
            Some(w) => match &w.deadline_exceeded {
                Some(why) if w.version.as_deref() == Some(target) => (
                    Some(c),
                    RolloutPhase::Failed,
                    format!(
                        "{} did not become available on {target} within its progress deadline: {why}",
                        c.name()
                    ),
                ),
                _ if w.version.as_deref() != Some(target) => (
                    Some(c),
                    RolloutPhase::Progressing,
                    format!(
                        "{} still runs {}; waiting to upgrade it",
                        c.name(),
                        w.version.as_deref().unwrap_or("an unknown version")
                    ),
                ),
                _ => (
                    Some(c),
                    RolloutPhase::Progressing,
                    format!(
                        "upgrading {} to {target}: {} updated, {} available of {}",
                        c.name(),
                        w.updated,
                        w.available,
                        w.desired
                    ),
                ),
            },
        },
    };
    // The last component to move still runs the version being replaced, until the last step.
    let replaced = ORDER
        .iter()
        .rev()
        .filter_map(|c| find(*c)?.version.clone())
        .find(|v| v != target)
        .or_else(|| {
            previous
                .filter(|p| p.target_version == target)
                .and_then(|p| p.previous_version.clone())
        });
    RolloutStatus {
        target_version: target.to_string(),
        previous_version: replaced,
        component: component.map(|c| c.name().to_string()),
        phase,
        updated_components: updated,
        total_components: total,
        message,
    }
}

/// The version each component Deployment declared when this process last applied it, so that a
/// reconcile that runs on a Storefront whose cached status lags behind never moves a component
/// back.
#[derive(Debug, Default)]
pub struct VersionBook {
    declared: Mutex<HashMap<String, String>>,
}

impl VersionBook {
    fn key(sf: &Storefront, component: Component) -> String {
        format!(
            "{}/{}/{}",
            sf.metadata.namespace.as_deref().unwrap_or_default(),
            sf.metadata.name.as_deref().unwrap_or_default(),
            component.name()
        )
    }

    /// What `component` declares: this process's record, else the Storefront's status.
    pub fn declared(&self, sf: &Storefront, component: Component) -> Option<String> {
        let own = self
            .declared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&Self::key(sf, component))
            .cloned();
        own.or_else(|| {
            sf.status
                .as_ref()?
                .components
                .get(component.name())?
                .version
                .clone()
        })
    }

    pub fn record(&self, sf: &Storefront, component: Component, version: &str) {
        self.declared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(Self::key(sf, component), version.to_string());
    }

    /// Forgets a deleted Storefront.
    pub fn forget(&self, namespace: &str, name: &str) {
        let prefix = format!("{namespace}/{name}/");
        self.declared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|k, _| !k.starts_with(&prefix));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(c: Component, version: &str, rolled_out: bool) -> Workload {
        Workload {
            name: c.name().into(),
            desired: 2,
            ready: if rolled_out { 2 } else { 1 },
            available: if rolled_out { 2 } else { 1 },
            updated: if rolled_out { 2 } else { 1 },
            total: 2,
            observed: true,
            version: Some(version.into()),
            deadline_exceeded: None,
        }
    }

    /// Runs one reconcile's plan: `declared` before, `rolled_out` tells which Deployments report
    /// a finished rollout of what they are given. Returns the versions declared after.
    fn plan(
        target: &str,
        declared: &[(Component, &str)],
        rolled_out: impl Fn(Component) -> bool,
    ) -> Vec<(Component, String)> {
        let mut planner = Planner::new(target);
        ORDER
            .iter()
            .map(|c| {
                let before = declared.iter().find(|(d, _)| d == c).map(|(_, v)| *v);
                let v = planner.version(*c, before);
                planner.observe(&v, &workload(*c, &v, rolled_out(*c)));
                (*c, v)
            })
            .collect()
    }

    fn all(version: &str) -> Vec<(Component, &str)> {
        ORDER.iter().map(|c| (*c, version)).collect()
    }

    #[test]
    fn a_new_version_starts_with_the_first_component_only() {
        // A Deployment given a new image has not rolled it out yet when the apply returns.
        let after = plan("2", &all("1"), |_| false);
        let versions: Vec<&str> = after.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(versions, ["2", "1", "1", "1", "1"]);
    }

    #[test]
    fn each_step_waits_for_the_previous_component_to_be_rolled_out() {
        let mut declared: Vec<(Component, String)> =
            ORDER.iter().map(|c| (*c, "1".to_string())).collect();
        let mut sequence = Vec::new();
        // A component rolls out one reconcile after it was given the new version.
        for _ in 0..12 {
            let before: Vec<(Component, &str)> =
                declared.iter().map(|(c, v)| (*c, v.as_str())).collect();
            let changed_before: Vec<Component> = declared
                .iter()
                .filter(|(_, v)| v == "2")
                .map(|(c, _)| *c)
                .collect();
            let after = plan("2", &before, |c| changed_before.contains(&c));
            for (c, v) in &after {
                if v == "2" && !changed_before.contains(c) {
                    sequence.push(*c);
                }
            }
            declared = after;
        }
        assert_eq!(sequence, ORDER.to_vec());
        assert!(declared.iter().all(|(_, v)| v == "2"));
    }

    #[test]
    fn a_stalled_component_holds_back_the_later_ones() {
        let mut declared = all("1");
        declared[0].1 = "2";
        declared[1].1 = "2";
        let after = plan("2", &declared, |c| c != Component::Catalog);
        let versions: Vec<&str> = after.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(versions, ["2", "2", "1", "1", "1"]);
    }

    #[test]
    fn a_component_on_the_target_never_moves_back_while_an_earlier_one_recovers() {
        let mut declared = all("1");
        for d in declared.iter_mut().take(3) {
            d.1 = "2";
        }
        // users lost a pod after catalog and search were upgraded.
        let after = plan("2", &declared, |c| c != Component::Users);
        let versions: Vec<&str> = after.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(versions, ["2", "2", "2", "1", "1"]);
    }

    #[test]
    fn a_fix_after_a_failure_starts_over_from_the_first_component() {
        let mut declared = all("1");
        declared[0].1 = "2-bad";
        let after = plan("3", &declared, |_| false);
        let versions: Vec<&str> = after.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(versions, ["3", "1", "1", "1", "1"]);
    }

    #[test]
    fn new_components_take_the_target_at_once() {
        let after = plan("1", &[], |_| false);
        assert!(after.iter().all(|(_, v)| v == "1"));
        assert!(settled("1", |_| None));
        assert!(!settled("2", |c| Some(
            if c == Component::Cart { "1" } else { "2" }.into()
        )));
    }

    #[test]
    fn summary_names_the_step_and_counts_upgraded_components() {
        let workloads = vec![
            workload(Component::Users, "2", true),
            workload(Component::Catalog, "2", false),
            workload(Component::Search, "1", true),
            workload(Component::Cart, "1", true),
            workload(Component::StoreUi, "1", true),
        ];
        let s = summarize("2", &workloads, None);
        assert_eq!(s.phase, RolloutPhase::Progressing);
        assert_eq!(s.previous_version.as_deref(), Some("1"));
        assert_eq!(s.component.as_deref(), Some("catalog"));
        assert_eq!((s.updated_components, s.total_components), (1, 5));
        assert!(
            s.message.contains("upgrading catalog to 2"),
            "{}",
            s.message
        );
    }

    #[test]
    fn summary_fails_on_an_exceeded_deadline_of_the_target_only() {
        let mut users = workload(Component::Users, "2", false);
        users.deadline_exceeded =
            Some("ReplicaSet \"shop-users-1\" has timed out progressing.".into());
        let mut workloads = vec![users];
        workloads.extend(
            ORDER[1..]
                .iter()
                .map(|c| workload(*c, "1", true))
                .collect::<Vec<_>>(),
        );
        let s = summarize("2", &workloads, None);
        assert_eq!(s.phase, RolloutPhase::Failed);
        assert_eq!(s.component.as_deref(), Some("users"));
        assert!(s.message.contains("timed out progressing"), "{}", s.message);
        // After spec.version moved on, the old failure is just a component still to upgrade.
        let s = summarize("3", &workloads, None);
        assert_eq!(s.phase, RolloutPhase::Progressing);
    }

    #[test]
    fn summary_is_complete_when_everything_runs_the_target() {
        let workloads: Vec<Workload> = ORDER.iter().map(|c| workload(*c, "2", true)).collect();
        let s = summarize("2", &workloads, None);
        assert_eq!(s.phase, RolloutPhase::Complete);
        assert_eq!(s.component, None);
        assert_eq!(s.updated_components, 5);
        // A new store replaced nothing; an upgrade remembers what it replaced once complete.
        assert_eq!(s.previous_version, None);
        let upgrading = RolloutStatus {
            previous_version: Some("1".into()),
            ..s.clone()
        };
        let done = summarize("2", &workloads, Some(&upgrading));
        assert_eq!(done.previous_version.as_deref(), Some("1"));
        assert_eq!(
            summarize("3", &workloads, Some(&upgrading))
                .previous_version
                .as_deref(),
            Some("2")
        );
    }
}
