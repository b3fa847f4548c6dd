//! Computes `status` from what the workloads report: per-component replicas and the `Ready`,
//! `Progressing` and `Degraded` conditions (Kubernetes conventions: a transition time that only
//! moves when the status flips, a CamelCase reason, a message a human can act on).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};

use crate::crd::{ComponentStatus, Condition, Storefront, StorefrontStatus};
use crate::meta::LABEL_NAME;

pub const READY: &str = "Ready";
pub const PROGRESSING: &str = "Progressing";
pub const DEGRADED: &str = "Degraded";

/// What one Deployment or StatefulSet reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    /// Component or store name (`catalog`, `postgres`).
    pub name: String,
    pub desired: i32,
    pub ready: i32,
    pub updated: i32,
    /// The workload controller has seen the latest spec.
    pub observed: bool,
}

impl Workload {
    pub fn rolled_out(&self) -> bool {
        self.observed && self.updated >= self.desired && self.ready >= self.desired
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
        Workload {
            name: component_name(&d.metadata),
            desired: d.spec.replicas.unwrap_or(1),
            ready: status.ready_replicas.unwrap_or(0),
            updated: status.updated_replicas.unwrap_or(0),
            observed: status.observed_generation >= d.metadata.generation,
        }
    }
}

impl From<&StatefulSet> for Workload {
    fn from(s: &StatefulSet) -> Self {
        let status = s.status.clone().unwrap_or_default();
        Workload {
            name: component_name(&s.metadata),
            desired: s.spec.replicas.unwrap_or(1),
            ready: status.ready_replicas.unwrap_or(0),
            updated: status.updated_replicas.unwrap_or(0),
            observed: status.observed_generation >= s.metadata.generation,
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
    let mut pending: Vec<String> = workloads
        .iter()
        .filter(|w| !w.rolled_out())
        .map(|w| format!("{} {}/{}", w.name, w.ready, w.desired))
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
        _ => (
            true,
            "RollingOut",
            format!("rolling out: {}", pending.join(", ")),
        ),
    };
    let (degraded, degraded_reason, degraded_message) = match outcome {
        Outcome::Invalid(msg) => (true, "InvalidSpec", msg.clone()),
        Outcome::Failed(msg) => (true, "ReconcileFailed", msg.clone()),
        _ => (false, "AsExpected", "reconciled without errors".to_string()),
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
            updated: 1,
            observed: true,
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
}
