//! Computes `status` from what the workloads report: per-component replicas and the `Ready`,
//! `Progressing` and `Degraded` conditions (Kubernetes conventions: a transition time that only
//! moves when the status flips, a CamelCase reason, a message a human can act on).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};

use crate::crd::{ComponentStatus, Condition, RolloutPhase, Storefront, StorefrontStatus};
use crate::meta::LABEL_NAME;

pub const READY: &str = "Ready";
pub const PROGRESSING: &str = "Progressing";
pub const DEGRADED: &str = "Degraded";

/// What one Deployment or StatefulSet reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Workload {
    /// Component or store name (`catalog`, `postgres`).
    pub name: String,
    pub desired: i32,
    pub ready: i32,
    pub available: i32,
    pub updated: i32,
    /// Pods of every revision (old ones linger while a rollout is under way).
    pub total: i32,
    /// The workload controller has seen the latest spec.
    pub observed: bool,
    /// The release a component Deployment declares (its `storefront.dev/version` annotation).
    pub version: Option<String>,
    /// The Deployment's message when its progress deadline passed on the latest spec.
    pub deadline_exceeded: Option<String>,
}

impl Workload {
    /// The latest spec runs on every replica: observed, all updated and available, no old pod left.
    pub fn rolled_out(&self) -> bool {
        self.observed
            && self.updated >= self.desired
            && self.available >= self.desired
            && self.total <= self.updated
    }
}

fn component_name(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    meta.labels
        .as_ref()
        .and_then(|l| l.get(LABEL_NAME).cloned())
        .or_else(|| meta.name.clone())
        .unwrap_or_default()
}

impl From<&Deployment> for Workload {
    fn from(d: &Deployment) -> Self {
        let status = d.status.clone().unwrap_or_default();
        let observed = status.observed_generation >= d.metadata.generation;
        let deadline_exceeded = status
            .conditions
            .iter()
            .flatten()
            .find(|c| {
                c.type_.as_deref() == Some("Progressing")
                    && c.status.as_deref() == Some("False")
                    && c.reason.as_deref() == Some(crate::rollout::DEADLINE_EXCEEDED)
            })
            .filter(|_| observed)
            .map(|c| c.message.clone().unwrap_or_default());
        Workload {
            name: component_name(&d.metadata),
            desired: d.spec.replicas.unwrap_or(1),
            ready: status.ready_replicas.unwrap_or(0),
            available: status.available_replicas.unwrap_or(0),
            updated: status.updated_replicas.unwrap_or(0),
            total: status.replicas.unwrap_or(0),
            observed,
            version: d
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(crate::rollout::VERSION_ANNOTATION).cloned()),
            deadline_exceeded,
        }
    }
}

impl From<&StatefulSet> for Workload {
    fn from(s: &StatefulSet) -> Self {
        let status = s.status.clone().unwrap_or_default();
        let ready = status.ready_replicas.unwrap_or(0);
        Workload {
            name: component_name(&s.metadata),
            desired: s.spec.replicas.unwrap_or(1),
            ready,
            available: status.available_replicas.unwrap_or(ready),
            updated: status.updated_replicas.unwrap_or(0),
            total: status.replicas,
            observed: status.observed_generation >= s.metadata.generation,
            version: None,
            deadline_exceeded: None,
        }
    }
}

/// How the last reconcile ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every child was applied.
    Applied,
    /// `spec.paused`: nothing was applied.
    Paused,
    /// The spec cannot be acted on; the message says why.
    Invalid(String),
    /// Applying failed; the message says why. Retried with backoff.
    Failed(String),
}

pub(crate) fn condition(
    previous: Option<&StorefrontStatus>,
    type_: &str,
    status: bool,
    reason: &str,
    message: String,
    generation: Option<i64>,
    now: &str,
) -> Condition {
    let status = if status { "True" } else { "False" }.to_string();
    let last_transition_time = previous
        .and_then(|p| p.conditions.iter().find(|c| c.type_ == type_))
        .filter(|c| c.status == status)
        .map(|c| c.last_transition_time.clone())
        .unwrap_or_else(|| now.to_string());
    Condition {
        type_: type_.into(),
        status,
        reason: reason.into(),
        message,
        last_transition_time,
        observed_generation: generation,
    }
}

/// The status after a reconcile that ended with `outcome`, given the workloads' reports.
/// `now` is an RFC 3339 timestamp.
pub fn compute(
    sf: &Storefront,
    workloads: &[Workload],
    outcome: &Outcome,
    now: &str,
) -> StorefrontStatus {
    let previous = sf.status.as_ref();
    let generation = sf.metadata.generation;
    // A component still on an earlier release is pending too, however ready it is.
    let mut pending: Vec<String> = workloads
        .iter()
        .filter(|w| !w.rolled_out() || w.version.as_ref().is_some_and(|v| *v != sf.spec.version))
        .map(|w| match &w.version {
            Some(v) if *v != sf.spec.version => format!("{} on {v}", w.name),
            _ => format!("{} {}/{}", w.name, w.ready, w.desired),
        })
        .collect();
    pending.sort();
    let all_ready = pending.is_empty() && !workloads.is_empty();

    let (ready, ready_reason, ready_message) = match outcome {
        Outcome::Invalid(msg) => (false, "InvalidSpec", msg.clone()),
        _ if all_ready => (
            true,
            "AllComponentsReady",
            "all components are ready".to_string(),
        ),
        _ if workloads.is_empty() => (false, "NoWorkloads", "no workloads exist yet".to_string()),
        _ => (
            false,
            "ComponentsNotReady",
            format!("not ready (ready/desired): {}", pending.join(", ")),
        ),
    };
    // Where the change of version stands, from the component Deployments (kept as it was when
    // none was read).
    let components_seen = workloads.iter().any(|w| w.version.is_some());
    let rollout = if components_seen {
        Some(crate::rollout::summarize(
            &sf.spec.version,
            workloads,
            previous.and_then(|p| p.rollout.as_ref()),
        ))
    } else {
        previous.and_then(|p| p.rollout.clone())
    };
    let failed_rollout = rollout
        .as_ref()
        .filter(|r| r.phase == RolloutPhase::Failed && r.target_version == sf.spec.version);
    let upgrading = rollout.as_ref().filter(|r| {
        r.phase == RolloutPhase::Progressing
            && workloads
                .iter()
                .any(|w| w.version.as_ref().is_some_and(|v| *v != r.target_version))
    });
    let (progressing, progressing_reason, progressing_message) = match outcome {
        Outcome::Paused => (
            false,
            "Paused",
            "reconciliation is paused (spec.paused)".to_string(),
        ),
        Outcome::Invalid(_) => (false, "InvalidSpec", "waiting for a valid spec".to_string()),
        _ if all_ready => (
            false,
            "RolloutComplete",
            "every component runs the declared spec".to_string(),
        ),
        _ if failed_rollout.is_some() => (
            false,
            "RolloutFailed",
            failed_rollout
                .map(|r| r.message.clone())
                .unwrap_or_default(),
        ),
        _ if upgrading.is_some() => (
            true,
            "Upgrading",
            upgrading
                .map(|r| {
                    format!(
                        "{} ({} of {} components on {})",
                        r.message, r.updated_components, r.total_components, r.target_version
                    )
                })
                .unwrap_or_default(),
        ),
        _ => (
            true,
            "RollingOut",
            format!("rolling out: {}", pending.join(", ")),
        ),
    };
    let (degraded, degraded_reason, degraded_message) = match outcome {
        Outcome::Invalid(msg) => (true, "InvalidSpec", msg.clone()),
        Outcome::Failed(msg) => (true, "ReconcileFailed", msg.clone()),
        _ => match failed_rollout {
            Some(r) => (
                true,
                "RolloutFailed",
                format!(
                    "{}; the later components keep their version until spec.version changes",
                    r.message
                ),
            ),
            None => (false, "AsExpected", "reconciled without errors".to_string()),
        },
    };

    // A failed apply has not acted on the current generation.
    let observed_generation = match outcome {
        Outcome::Failed(_) => previous.and_then(|p| p.observed_generation),
        _ => generation,
    };
    let components: BTreeMap<String, ComponentStatus> = workloads
        .iter()
        .map(|w| {
            (
                w.name.clone(),
                ComponentStatus {
                    ready_replicas: w.ready,
                    desired_replicas: w.desired,
                    version: w.version.clone(),
                },
            )
        })
        .collect();
    StorefrontStatus {
        observed_generation,
        conditions: vec![
            condition(
                previous,
                READY,
                ready,
                ready_reason,
                ready_message,
                generation,
                now,
            ),
            condition(
                previous,
                PROGRESSING,
                progressing,
                progressing_reason,
                progressing_message,
                generation,
                now,
            ),
            condition(
                previous,
                DEGRADED,
                degraded,
                degraded_reason,
                degraded_message,
                generation,
                now,
            ),
        ],
        components,
        url: Some(sf.spec.url()),
        rollout,
        // Judged from the backup Jobs after an apply (see `backup_health`); kept as it was
        // on the other paths.
        last_successful_backup: previous
            .filter(|_| sf.spec.backups.is_some())
            .and_then(|p| p.last_successful_backup.clone()),
    }
    .with_previous_backup_condition(previous.filter(|_| sf.spec.backups.is_some()))
}

impl StorefrontStatus {
    fn with_previous_backup_condition(mut self, previous: Option<&StorefrontStatus>) -> Self {
        if let Some(c) = previous.and_then(|p| {
            p.conditions
                .iter()
                .find(|c| c.type_ == crate::backup_health::BACKUP_HEALTHY)
        }) {
            self.conditions.push(c.clone());
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::meta::testing::minimal;

    fn workload(name: &str, ready: i32) -> Workload {
        Workload {
            name: name.into(),
            desired: 1,
            ready,
            available: ready,
            updated: 1,
            total: 1,
            observed: true,
            version: None,
            deadline_exceeded: None,
        }
    }

    fn get<'a>(s: &'a StorefrontStatus, t: &str) -> &'a Condition {
        s.conditions
            .iter()
            .find(|c| c.type_ == t)
            .expect("condition")
    }

    #[test]
    fn ready_when_every_workload_is_rolled_out() {
        let sf = minimal();
        let s = compute(
            &sf,
            &[workload("catalog", 1), workload("postgres", 1)],
            &Outcome::Applied,
            "2026-01-01T00:00:00Z",
        );
        assert_eq!(get(&s, READY).status, "True");
        assert_eq!(get(&s, PROGRESSING).status, "False");
        assert_eq!(get(&s, DEGRADED).status, "False");
        assert_eq!(s.observed_generation, Some(3));
        assert_eq!(s.url.as_deref(), Some("http://shop.example.com"));
        assert_eq!(s.components["postgres"].ready_replicas, 1);
        assert_eq!(get(&s, READY).observed_generation, Some(3));
    }

    #[test]
    fn not_ready_names_the_pending_components() {
        let s = compute(
            &minimal(),
            &[workload("catalog", 0), workload("cart", 1)],
            &Outcome::Applied,
            "2026-01-01T00:00:00Z",
        );
        let ready = get(&s, READY);
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "ComponentsNotReady")
        );
        assert!(ready.message.contains("catalog 0/1"), "{}", ready.message);
        assert_eq!(get(&s, PROGRESSING).status, "True");
    }

    #[test]
    fn transition_time_moves_only_when_status_flips() {
        let mut sf = minimal();
        let first = compute(&sf, &[workload("catalog", 0)], &Outcome::Applied, "T1");
        sf.status = Some(first);
        let second = compute(&sf, &[workload("catalog", 0)], &Outcome::Applied, "T2");
        assert_eq!(get(&second, READY).last_transition_time, "T1");
        sf.status = Some(second);
        let third = compute(&sf, &[workload("catalog", 1)], &Outcome::Applied, "T3");
        assert_eq!(get(&third, READY).last_transition_time, "T3");
        assert_eq!(get(&third, DEGRADED).last_transition_time, "T1");
    }

    #[test]
    fn failure_is_degraded_and_keeps_the_observed_generation() {
        let mut sf = minimal();
        sf.status = Some(StorefrontStatus {
            observed_generation: Some(2),
            ..StorefrontStatus::default()
        });
        let s = compute(
            &sf,
            &[workload("catalog", 1)],
            &Outcome::Failed("forbidden".into()),
            "T",
        );
        let degraded = get(&s, DEGRADED);
        assert_eq!(
            (degraded.status.as_str(), degraded.reason.as_str()),
            ("True", "ReconcileFailed")
        );
        assert_eq!(s.observed_generation, Some(2));
        let invalid = compute(&sf, &[], &Outcome::Invalid("bad".into()), "T");
        assert_eq!(get(&invalid, READY).reason, "InvalidSpec");
        assert_eq!(invalid.observed_generation, Some(3));
    }

    #[test]
    fn workload_reports_are_read_from_deployment_status() {
        let d: Deployment = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "shop-cart", "generation": 2, "labels": {"app.kubernetes.io/name": "cart"}},
            "spec": {"replicas": 3, "selector": {}, "template": {}},
            "status": {"observedGeneration": 2, "readyReplicas": 2, "updatedReplicas": 3}
        }))
        .expect("deployment");
        let w = Workload::from(&d);
        assert_eq!((w.name.as_str(), w.desired, w.ready), ("cart", 3, 2));
        assert!(!w.rolled_out());
    }

    #[test]
    fn exceeded_progress_deadline_of_the_target_version_is_degraded_rollout_failed() {
        let d: Deployment = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "shop-users", "generation": 4,
                "labels": {"app.kubernetes.io/name": "users"},
                "annotations": {"storefront.dev/version": "1.4.0"}},
            "spec": {"replicas": 1, "selector": {}, "template": {}},
            "status": {"observedGeneration": 4, "replicas": 2, "readyReplicas": 1, "availableReplicas": 1, "updatedReplicas": 1,
                "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                    "message": "ReplicaSet \"shop-users-7d9\" has timed out progressing."}]}
        }))
        .expect("deployment");
        let users = Workload::from(&d);
        assert_eq!(users.version.as_deref(), Some("1.4.0"));
        assert!(users.deadline_exceeded.is_some());
        assert!(!users.rolled_out(), "an old pod still serves");
        let mut workloads = vec![users];
        for c in ["catalog", "search", "cart", "store-ui"] {
            workloads.push(Workload {
                version: Some("1.3.0".into()),
                ..workload(c, 1)
            });
        }
        let s = compute(&minimal(), &workloads, &Outcome::Applied, "T");
        let degraded = get(&s, DEGRADED);
        assert_eq!(
            (degraded.status.as_str(), degraded.reason.as_str()),
            ("True", "RolloutFailed")
        );
        assert!(degraded.message.contains("users"), "{}", degraded.message);
        assert!(degraded.message.contains("timed out progressing"));
        assert_eq!(get(&s, PROGRESSING).status, "False");
        let rollout = s.rollout.as_ref().expect("rollout");
        assert_eq!(rollout.phase, RolloutPhase::Failed);
        assert_eq!(rollout.component.as_deref(), Some("users"));
        assert_eq!(s.components["cart"].version.as_deref(), Some("1.3.0"));
    }

    #[test]
    fn an_upgrade_in_progress_is_progressing_and_names_its_step() {
        let mut workloads = vec![Workload {
            version: Some("1.4.0".into()),
            ..workload("users", 1)
        }];
        workloads.push(Workload {
            version: Some("1.4.0".into()),
            ..workload("catalog", 0)
        });
        for c in ["search", "cart", "store-ui"] {
            workloads.push(Workload {
                version: Some("1.3.0".into()),
                ..workload(c, 1)
            });
        }
        let s = compute(&minimal(), &workloads, &Outcome::Applied, "T");
        let p = get(&s, PROGRESSING);
        assert_eq!(
            (p.status.as_str(), p.reason.as_str()),
            ("True", "Upgrading")
        );
        assert!(p.message.contains("upgrading catalog"), "{}", p.message);
        assert!(p.message.contains("1 of 5"), "{}", p.message);
        assert_eq!(get(&s, DEGRADED).status, "False");
    }
}
